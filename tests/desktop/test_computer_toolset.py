"""Claude's computer toolset, ``computer_toolset_20260801`` (issue 16): the tool Claude 5.5 and later
take (the ``computer_*`` tools are a 400 for them). One ``{"type": "computer_toolset_20260801"}`` entry,
GA (no beta header); each call is a ``tool_use`` named after the member (``left_click``) with
``"toolset_name": "computer"``, often several in one turn, which run in call order on the real Tk app.
Shapes come from the installed SDK's types; the emulator checks each member's input against them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentcore import Agent
from agentcore.messages import ToolCall
from agentcore.run.runner import Runner
from agentcore.sandboxes.base import Sandbox
from tests.emulators.base import Reply, ToolCallReply
from tests.providers.harness import started

from .conftest import BUTTON_V
from .test_desktop import GREEN, PAINT, eventually, near, pixel

ENTRY_V, PAINT_V = (100, 82), (PAINT[0] // 2, PAINT[1] // 2)


async def test_claude_5_5_drives_the_app_through_the_computer_toolset(small_app_desktop: Sandbox) -> None:
    from agentcore.providers.anthropic.model import AnthropicModel

    sb = small_app_desktop
    batch = [  # one turn: the four actions run in this order
        ToolCallReply("left_click", {"coordinate": list(BUTTON_V), "text": "shift"}),
        ToolCallReply("left_click", {"coordinate": list(ENTRY_V)}),
        ToolCallReply("type", {"text": "agent"}),
        ToolCallReply("key", {"text": "Return"}),
    ]
    with started("anthropic") as h:
        h.emulator.queue(
            Reply(tool_calls=[ToolCallReply("screenshot", {})]),
            Reply(tool_calls=batch),
            Reply(tool_calls=[ToolCallReply("zoom", {"region": [20, 20, 140, 70]})]),
            Reply(text="done"),
        )
        llm = AnthropicModel("claude-opus-5-5", base_url=h.emulator.base_url, api_key="test-key")
        result = await Runner.run(Agent(name="desk", model=llm, sandbox=sb), "press, type agent, Enter")
        assert result.final_output == "done"
        first, last = h.emulator.requests[0], h.emulator.requests[-1]
    (entry,) = [t for t in first.body["tools"] if t.get("type") == "computer_toolset_20260801"]
    assert set(entry) <= {"type", "cache_control"}  # no name, no display size, every member on
    assert all(t.get("name") != "computer" for t in first.body["tools"])  # no function tool either
    assert "computer-use" not in first.headers.get("anthropic-beta", "")
    calls = [json.loads(i.arguments) for i in result.items if isinstance(i, ToolCall)]
    assert calls[1] == {
        "action": "click",
        "button": "left",
        "count": 1,
        "x": 80,
        "y": 45,
        "modifiers": ["shift"],
    }
    assert [c["action"] for c in calls] == ["screenshot", "click", "click", "type", "key", "zoom"]
    # the member blocks go back as they came (toolset_name included), each answered with a screenshot
    blocks = [b for m in last.body["messages"] if m["role"] == "assistant" for b in m["content"]]
    uses = [b for b in blocks if b.get("type") == "tool_use"]
    assert [b["name"] for b in uses] == ["screenshot", "left_click", "left_click", "type", "key", "zoom"]
    assert all(b["toolset_name"] == "computer" for b in uses)
    results = [
        b
        for m in last.body["messages"]
        if m["role"] == "user"
        for b in m["content"]
        if isinstance(b, dict) and b.get("type") == "tool_result"
    ]
    assert not any(r.get("is_error") for r in results)
    state = await eventually(sb, "submitted", "agent")
    assert state["clicks"] == 1 and state["presses"][0] == [1, ["shift"]]
    import base64

    shots = [c for c in results[-2]["content"] if c["type"] == "image"]  # after the key press
    assert near(pixel(base64.b64decode(shots[0]["source"]["data"]), *PAINT_V), GREEN)


def test_the_emulator_holds_the_toolset_to_its_documented_shape() -> None:
    from tests.emulators.computer_rules import anthropic_call_problem, check_anthropic_computer

    toolset = {"model": "claude-opus-5-5", "tools": [{"type": "computer_toolset_20260801"}]}
    ok: list[tuple[str, dict[str, Any]]] = [
        ("left_click", {"coordinate": [1, 2], "text": "ctrl+shift"}),
        ("left_click", {}),
        ("scroll", {"scroll_direction": "down", "scroll_amount": 2}),
        ("key", {"text": "ctrl+z", "repeat": 3}),
        ("left_mouse_down", {}),
    ]
    for name, data in ok:
        assert anthropic_call_problem(toolset, name, data) is None, name
    assert anthropic_call_problem(toolset, "left_click", {"action": "left_click"})  # no action field
    assert anthropic_call_problem(toolset, "scroll", {"scroll_direction": "down"})  # amount required
    assert anthropic_call_problem(toolset, "mouse_move", {"coordinate": [1, 1], "text": "shift"})
    assert anthropic_call_problem(toolset, "left_mouse_down", {"coordinate": [1, 1]})

    def fail(message: str) -> Exception:
        return ValueError(message)

    legacy = {
        "model": "claude-opus-5-5",
        "tools": [
            {
                "type": "computer_20251124",
                "name": "computer",
                "display_width_px": 640,
                "display_height_px": 400,
            }
        ],
    }
    with pytest.raises(ValueError, match="computer_toolset_20260801"):
        check_anthropic_computer(legacy, frozenset({"computer-use-2025-11-24"}), fail)
    check_anthropic_computer(toolset, frozenset(), fail)  # GA: no beta


def test_claude_models_get_the_computer_tool_they_take() -> None:
    from agentcore.providers.anthropic.computer import tool_version

    assert tool_version("claude-opus-5-5") == "computer_toolset_20260801"
    assert tool_version("claude-sonnet-5-5-20260901") == "computer_toolset_20260801"
    assert tool_version("claude-opus-5") == "computer_20251124"
    assert tool_version("claude-sonnet-4-5") == "computer_20250124"
