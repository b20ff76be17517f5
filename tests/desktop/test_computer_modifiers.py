"""Modifier keys held during pointer actions (issue 16): the desktop holds them for exactly one click,
drag, move or scroll and always releases them; the vendors' fields for them (OpenAI ``keys`` on click,
double_click, drag, move and scroll; Anthropic ``text`` on the clicks, drags and scroll) reach the
real app. Assertions are on the Tk app's record of each button press and the modifiers X reported
with it, never on a model's words.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentcore import Agent
from agentcore.messages import ToolCall
from agentcore.run.runner import Runner
from agentcore.sandboxes.base import Sandbox
from agentcore.sandboxes.desktop import DesktopError
from tests.emulators.base import Reply, ToolCallReply
from tests.providers.harness import started

from .conftest import BUTTON_V, CLAUDE_COMPUTER_BODY, script_computer_calls
from .test_desktop import BUTTON, eventually, state


async def presses(sb: Sandbox, count: int) -> list[list[Any]]:
    """The app's first ``count`` recorded button presses, once it has recorded them."""
    import asyncio

    for _ in range(200):
        got: list[list[Any]] = (await state(sb))["presses"]
        if len(got) >= count:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"the app recorded {got}, expected {count} presses")


async def test_modifiers_are_held_for_one_pointer_action_and_always_released(app_desktop: Sandbox) -> None:
    sb = app_desktop
    desktop = sb.desktop
    await desktop.click(*BUTTON, modifiers=["shift"])
    await desktop.scroll(*BUTTON, dy=1, modifiers=["CTRL"])  # OpenAI's spelling
    await desktop.drag([BUTTON, (BUTTON[0] + 20, BUTTON[1])], modifiers=["ctrl+shift"])
    await desktop.click(*BUTTON)  # nothing held any more
    assert await presses(sb, 4) == [[1, ["shift"]], [5, ["ctrl"]], [1, ["shift", "ctrl"]], [1, []]]
    # the action fails after the keys went down: they are released all the same
    with pytest.raises(DesktopError):
        await desktop._xdotool("no-such-command", hold=["shift", "alt"])
    await desktop.click(*BUTTON)
    assert (await presses(sb, 5))[4] == [1, []]


async def test_the_computer_tool_takes_modifiers(app_desktop: Sandbox) -> None:
    sb = app_desktop
    ctx: Any = None  # the computer tool reads nothing of the run
    tool = sb.desktop.tool()
    args = {"action": "click", "x": BUTTON[0], "y": BUTTON[1], "modifiers": ["alt"]}
    out = await tool.invoke(ctx, tool.parse_arguments(json.dumps(args)))
    assert "holding alt" in out
    assert await presses(sb, 1) == [[1, ["alt"]]]
    bad = {"action": "click", "x": 1, "y": 1, "modifiers": ["shift", "no such key!"]}
    from agentcore.errors import ToolError

    with pytest.raises(ToolError, match="unknown key name"):
        await tool.invoke(ctx, tool.parse_arguments(json.dumps(bad)))
    assert len((await state(sb))["presses"]) == 1  # nothing clicked


async def test_anthropic_text_on_clicks_and_scrolls_holds_those_keys(small_app_desktop: Sandbox) -> None:
    from agentcore.providers.anthropic.model import AnthropicModel

    sb = small_app_desktop
    steps: list[dict[str, Any]] = [
        {"action": "left_click", "coordinate": list(BUTTON_V), "text": "shift"},
        {"action": "scroll", "coordinate": list(BUTTON_V), "scroll_direction": "up", "scroll_amount": 1,
         "text": "ctrl+shift"},
        {"action": "double_click", "coordinate": list(BUTTON_V)},
    ]  # fmt: skip
    with started("anthropic") as h:
        h.emulator.queue(*[Reply(tool_calls=[ToolCallReply("computer", s)]) for s in steps], Reply(text="ok"))
        llm = AnthropicModel("claude-sonnet-4-5", base_url=h.emulator.base_url, api_key="test-key")
        result = await Runner.run(Agent(name="desk", model=llm, sandbox=sb), "shift-click the button")
        assert result.final_output == "ok"
    calls = [json.loads(i.arguments) for i in result.items if isinstance(i, ToolCall)]
    assert calls[0]["modifiers"] == ["shift"] and "modifiers" not in calls[2]
    assert await presses(sb, 4) == [[1, ["shift"]], [4, ["shift", "ctrl"]], [1, []], [1, []]]
    await eventually(sb, "clicks", 3)


async def test_openai_keys_on_pointer_actions_hold_those_keys(small_app_desktop: Sandbox) -> None:
    sb = small_app_desktop
    x, y = BUTTON_V
    actions: list[dict[str, Any]] = [
        {"type": "click", "button": "left", "x": x, "y": y, "keys": ["CTRL"]},
        {"type": "scroll", "x": x, "y": y, "scroll_x": 0, "scroll_y": 100, "keys": ["SHIFT"]},
        {"type": "drag", "path": [{"x": x, "y": y}, {"x": x + 10, "y": y}], "keys": ["ALT"]},
        {"type": "click", "button": "left", "x": x, "y": y},
    ]
    with started("openai") as h:
        llm = script_computer_calls(h.emulator, actions, "ok")
        result = await Runner.run(Agent(name="desk", model=llm, sandbox=sb), "ctrl-click the button")
        assert result.final_output == "ok"
    assert await presses(sb, 4) == [[1, ["ctrl"]], [5, ["shift"]], [1, ["alt"]], [1, []]]


def test_emulators_accept_modifiers_only_in_the_documented_fields() -> None:
    from tests.emulators.computer_rules import anthropic_call_problem, openai_action_problem

    tools = CLAUDE_COMPUTER_BODY
    assert anthropic_call_problem(tools, "computer", {"action": "left_click", "text": "shift"}) is None
    assert anthropic_call_problem(
        tools, "computer", {"action": "mouse_move", "coordinate": [1, 1], "text": "x"}
    )
    assert anthropic_call_problem(tools, "computer", {"action": "left_click", "text": ["shift"]})
    assert openai_action_problem({"type": "move", "x": 1, "y": 1, "keys": ["SHIFT"]}) is None
    assert openai_action_problem({"type": "type", "text": "a", "keys": ["SHIFT"]})  # not a pointer action
    assert openai_action_problem({"type": "click", "button": "left", "x": 1, "y": 1, "keys": "SHIFT"})
