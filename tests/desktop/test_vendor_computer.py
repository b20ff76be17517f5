"""The vendors' native computer-use tools drive a real desktop (issue 16): a scripted model per vendor,
through its emulator and real SDK client, on the local and docker desktops with the test's Tk app.

Each takes a screenshot (Gemini: every function response carries one), clicks the button, types into
the field, presses Enter and sees the change; assertions are on the app's state and on the pixels of
the screenshot the vendor received. The desktop is 1280x800 shown to the model as 640x400, so every
vendor's coordinates go through the scaling.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from agentcore import Agent
from agentcore.messages import ToolCall
from agentcore.run.runner import Runner
from agentcore.sandboxes.base import Sandbox
from tests.emulators.base import Reply, ToolCallReply
from tests.providers.harness import started

from .conftest import BUTTON_V, CLAUDE_COMPUTER_BODY, VIEW, computer_use_model, script_computer_calls
from .test_desktop import GREEN, PAINT, RED, eventually, near, pixel

ENTRY_V, PAINT_V = (100, 82), (PAINT[0] // 2, PAINT[1] // 2)


def _png(data_or_url: str) -> bytes:
    return base64.b64decode(data_or_url.split("base64,", 1)[-1])


async def _assert_done(sb: Sandbox, last_png: bytes, first_png: bytes | None = None) -> None:
    state = await eventually(sb, "submitted", "agent")
    assert state["clicks"] == 1
    assert near(pixel(last_png, *PAINT_V), GREEN)
    if first_png is not None:
        assert near(pixel(first_png, *PAINT_V), RED)


@pytest.mark.parametrize(
    ("model", "version", "beta"),
    [
        ("claude-sonnet-4-5", "computer_20250124", "computer-use-2025-01-24"),
        ("claude-opus-4-5", "computer_20251124", "computer-use-2025-11-24"),
    ],
)
async def test_anthropic_computer_tool_drives_the_app(
    small_app_desktop: Sandbox, model: str, version: str, beta: str
) -> None:
    from agentcore.providers.anthropic.model import AnthropicModel

    sb = small_app_desktop
    with started("anthropic") as h:
        steps: list[dict[str, Any]] = [
            {"action": "screenshot"},
            {"action": "left_click", "coordinate": list(BUTTON_V)},
            {"action": "left_click", "coordinate": list(ENTRY_V)},
            {"action": "type", "text": "agent"},
            {"action": "key", "text": "Return"},
        ]
        if version == "computer_20251124":
            steps.append({"action": "zoom", "region": [20, 20, 140, 70]})
        steps.append({"action": "screenshot"})
        h.emulator.queue(
            *[Reply(tool_calls=[ToolCallReply("computer", s)]) for s in steps], Reply(text="done")
        )
        llm = AnthropicModel(model, base_url=h.emulator.base_url, api_key="test-key")
        result = await Runner.run(Agent(name="desk", model=llm, sandbox=sb), "press, type agent, Enter")
        assert result.final_output == "done"
        first, last = h.emulator.requests[1], h.emulator.requests[-1]
    # the native tool, at the size the model sees, with its beta; no function tool named computer
    (entry,) = [t for t in first.body["tools"] if t.get("name") == "computer"]
    assert entry["type"] == version and (entry["display_width_px"], entry["display_height_px"]) == VIEW
    assert beta in first.headers["anthropic-beta"]
    calls = [i for i in result.items if isinstance(i, ToolCall)]
    assert json.loads(calls[1].arguments) == {
        "action": "click",
        "button": "left",
        "count": 1,
        "x": 80,
        "y": 45,
    }
    results = [
        b
        for m in last.body["messages"]
        for b in m["content"]
        if isinstance(b, dict) and b.get("type") == "tool_result"
    ]
    assert not any(r.get("is_error") for r in results)
    images = [c for c in results[-1]["content"] if c["type"] == "image"]
    await _assert_done(sb, _png(images[0]["source"]["data"]))


async def test_openai_computer_use_preview_drives_the_app(small_app_desktop: Sandbox) -> None:
    sb = small_app_desktop
    actions: list[dict[str, Any]] = [
        {"type": "screenshot"},
        {"type": "click", "button": "left", "x": BUTTON_V[0], "y": BUTTON_V[1]},
        {"type": "click", "button": "left", "x": ENTRY_V[0], "y": ENTRY_V[1]},
        {"type": "type", "text": "agent"},
        {"type": "keypress", "keys": ["ENTER"]},
        {"type": "screenshot"},
    ]
    with started("openai") as h:
        llm = script_computer_calls(h.emulator, actions, "done")
        result = await Runner.run(Agent(name="desk", model=llm, sandbox=sb), "press, type agent, Enter")
        assert result.final_output == "done"
        bodies = [r.body for r in h.emulator.requests]
    assert bodies[0]["truncation"] == "auto"
    (entry,) = [t for t in bodies[0]["tools"] if t["type"] == "computer_use_preview"]
    assert entry == {
        "type": "computer_use_preview",
        "display_width": 640,
        "display_height": 400,
        "environment": "linux",
    }
    assert "computer" not in [t.get("name") for t in bodies[0]["tools"]]
    seen: dict[str, dict[str, Any]] = {}  # every output sent, by call (a full resend repeats them)
    for body in bodies:
        for item in body["input"]:
            if isinstance(item, dict) and item.get("type") == "computer_call_output":
                seen.setdefault(item["call_id"], item)  # as first sent (older ones get trimmed)
    outputs = list(seen.values())
    assert len(outputs) == len(actions) and "acknowledged_safety_checks" not in outputs[-1]
    await _assert_done(sb, _png(outputs[-1]["output"]["image_url"]), _png(outputs[0]["output"]["image_url"]))


async def test_openai_pending_safety_checks_pause_the_run_until_a_human_approves(
    small_app_desktop: Sandbox,
) -> None:
    sb = small_app_desktop
    check = {"id": "cu_sc_1", "code": "malicious_instructions", "message": "The screen asks to do something."}
    with started("openai") as h:
        h.emulator.script_items(
            {
                "type": "computer_call",
                "action": {"type": "click", "button": "left", "x": BUTTON_V[0], "y": BUTTON_V[1]},
                "pending_safety_checks": [check],
            }
        )
        h.emulator.queue(Reply(), Reply(text="clicked"))
        llm = computer_use_model(h.emulator)
        agent = Agent(name="desk", model=llm, sandbox=sb)
        paused = await Runner.run(agent, "press the button")
        (pending,) = paused.interruptions  # never acknowledged silently
        assert json.loads(pending.call.arguments)["safety_checks"][0]["message"] == check["message"]
        assert (await eventually(sb, "clicks", 0))["clicks"] == 0  # nothing ran before the decision
        state = paused.state
        state.approve(pending.call.call_id)
        done = await Runner.run(agent, state)
        assert done.final_output == "clicked"
        (out,) = [i for i in h.emulator.requests[-1].body["input"] if i.get("type") == "computer_call_output"]
    assert out["acknowledged_safety_checks"] == [check]
    await eventually(sb, "clicks", 1)


async def test_gemini_computer_use_drives_the_app(small_app_desktop: Sandbox) -> None:
    from agentcore.providers.gemini.generate_content import GeminiModel

    sb = small_app_desktop

    def norm(point: tuple[int, int]) -> dict[str, int]:  # Gemini's 0-999 grid
        return {"x": point[0] * 1000 // VIEW[0], "y": point[1] * 1000 // VIEW[1]}

    calls = [
        ToolCallReply("hover_at", {"x": 900, "y": 900}),
        ToolCallReply("hover_at", norm(BUTTON_V)),  # 6 screenshots: the oldest get trimmed (keep 3)
        ToolCallReply("click_at", norm(BUTTON_V)),
        ToolCallReply("type_text_at", {**norm(ENTRY_V), "text": "agent", "press_enter": False}),
        ToolCallReply("key_combination", {"keys": "Enter"}),
        ToolCallReply("navigate", {"url": "https://example.com"}),  # no desktop equivalent: a tool error
    ]
    with started("google") as h:
        h.emulator.queue(*[Reply(tool_calls=[c]) for c in calls], Reply(text="done"))
        llm = GeminiModel(
            "gemini-2.5-computer-use-preview-10-2025", base_url=h.emulator.base_url, api_key="k"
        )
        result = await Runner.run(Agent(name="desk", model=llm, sandbox=sb), "press, type agent, Enter")
        assert result.final_output == "done"
        first, last = h.emulator.requests[0].body, h.emulator.requests[-1].body
    (cu,) = [t["computerUse"] for t in first["tools"] if "computerUse" in t]
    assert cu["environment"] == "ENVIRONMENT_BROWSER" and "navigate" in cu["excludedPredefinedFunctions"]
    assert all(d["name"] != "computer" for t in first["tools"] for d in t.get("functionDeclarations", []))
    responses = [
        p["functionResponse"] for c in last["contents"] for p in c["parts"] if "functionResponse" in p
    ]
    names = ["hover_at", "hover_at", "click_at", "type_text_at", "key_combination", "navigate"]
    assert [r["name"] for r in responses] == names
    assert "parts" not in responses[0] and responses[0]["response"]["notes"] == ["[older screenshot omitted]"]
    assert "error" in responses[-1]["response"] and "navigate" in responses[-1]["response"]["error"]
    await _assert_done(sb, _png(responses[-2]["parts"][0]["inlineData"]["data"]))


async def test_openai_ga_computer_tool_runs_a_batch_of_actions(small_app_desktop: Sandbox) -> None:
    from agentcore.providers.openai.responses import OpenAIResponsesModel

    sb = small_app_desktop
    batch = [
        {"type": "click", "button": "left", "x": BUTTON_V[0], "y": BUTTON_V[1]},
        {"type": "click", "button": "left", "x": ENTRY_V[0], "y": ENTRY_V[1]},
        {"type": "type", "text": "agent"},
        {"type": "keypress", "keys": ["ENTER"]},
    ]
    with started("openai") as h:
        h.emulator.script_items({"type": "computer_call", "actions": [{"type": "screenshot"}]})
        h.emulator.script_items({"type": "computer_call", "actions": batch})
        h.emulator.queue(Reply(), Reply(), Reply(text="done"))
        llm = OpenAIResponsesModel("gpt-5.4", base_url=h.emulator.base_url + "/v1", api_key="k")
        result = await Runner.run(Agent(name="desk", model=llm, sandbox=sb), "press, type agent, Enter")
        assert result.final_output == "done"
        bodies = [r.body for r in h.emulator.requests]
    assert {"type": "computer"} in bodies[0]["tools"] and "truncation" not in bodies[0]
    calls = [i for i in result.items if isinstance(i, ToolCall) and i.name == "computer"]
    assert json.loads(calls[1].arguments)["action"] == "batch"
    (out,) = [
        i for i in bodies[-1]["input"] if isinstance(i, dict) and i.get("type") == "computer_call_output"
    ][-1:]
    await _assert_done(sb, _png(out["output"]["image_url"]))


def test_emulators_hold_vendor_computer_actions_to_their_documented_shapes() -> None:
    from tests.emulators.computer_rules import (
        anthropic_call_problem,
        computer_call_problem,
        gemini_call_problem,
    )

    tools = CLAUDE_COMPUTER_BODY
    assert anthropic_call_problem(tools, "computer", {"action": "left_click", "coordinate": [10, 10]}) is None
    assert anthropic_call_problem(
        tools, "computer", {"action": "zoom", "region": [0, 0, 9, 9]}
    )  # 20251124 only
    assert anthropic_call_problem(
        tools, "computer", {"action": "left_click", "coordinate": [700, 10]}
    )  # off screen
    assert anthropic_call_problem(tools, "computer", {"action": "type", "text": "x", "coordinate": [1, 1]})
    gemini = {"tools": [{"computerUse": {"environment": "ENVIRONMENT_BROWSER"}}]}
    assert gemini_call_problem(gemini, "click_at", {"x": 500, "y": 999}) is None
    assert gemini_call_problem(gemini, "click_at", {"x": 1000, "y": 5})  # the grid is 0-999
    assert gemini_call_problem(gemini, "type_text_at", {"text": "a"})  # x, y required
    assert computer_call_problem({"actions": []})
    assert computer_call_problem({"action": {"type": "scroll", "x": 1, "y": 2}})  # scroll_x/scroll_y required
    assert computer_call_problem({"actions": [{"type": "type", "text": "a"}, {"type": "wait"}]}) is None


async def test_gemini_interactions_computer_use_drives_the_app(small_app_desktop: Sandbox) -> None:
    from agentcore.providers.gemini.interactions import GeminiInteractionsModel

    sb = small_app_desktop

    def norm(point: tuple[int, int]) -> dict[str, int]:
        return {"x": point[0] * 1000 // VIEW[0], "y": point[1] * 1000 // VIEW[1]}

    calls = [
        ToolCallReply("click_at", norm(BUTTON_V)),
        ToolCallReply("type_text_at", {**norm(ENTRY_V), "text": "agent"}),  # press_enter defaults to true
    ]
    with started("google-interactions") as h:
        h.emulator.queue(*[Reply(tool_calls=[c]) for c in calls], Reply(text="done"))
        llm = GeminiInteractionsModel("gemini-3-flash-preview", base_url=h.emulator.base_url, api_key="k")
        result = await Runner.run(Agent(name="desk", model=llm, sandbox=sb), "press, type agent, Enter")
        assert result.final_output == "done"
        bodies = [r.body for r in h.emulator.requests]
    tool = {
        "type": "computer_use",
        "environment": "browser",
        "excluded_predefined_functions": ["open_web_browser", "search", "navigate"],
    }
    assert tool in bodies[0]["tools"] and all(t.get("name") != "computer" for t in bodies[0]["tools"])
    results = [
        s for b in bodies for s in b["input"] if isinstance(s, dict) and s.get("type") == "function_result"
    ]
    assert [r["name"] for r in results][-1] == "type_text_at"
    (image,) = [c for c in results[-1]["result"] if c["type"] == "image"]
    await _assert_done(sb, _png(image["data"]))
