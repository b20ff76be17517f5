"""Vendor safety checks on computer actions when the human says no, or yes (issue 16).

OpenAI's computer-use guide: a ``computer_call`` with ``pending_safety_checks`` continues only when the
next request passes those checks back as ``acknowledged_safety_checks``; the emulator refuses anything
else. A rejected action never runs, and agentcore never makes up the acknowledgement: the run ends with
a typed error before any request is sent. An action a human approved that then fails is still
acknowledged (the human did decide). Gemini's ``require_confirmation`` gets ``safety_acknowledgement``
only after an approval. Assertions are on the app's state and on what the emulator received.
"""

from __future__ import annotations

from typing import Any

import pytest

from agentcore import Agent
from agentcore.errors import ModelCallFailed, SafetyChecksDeclined
from agentcore.run.runner import Runner
from agentcore.sandboxes.base import Sandbox
from tests.emulators.base import Reply, ToolCallReply
from tests.providers.harness import started

from .conftest import BUTTON_V, VIEW, computer_use_model
from .test_desktop import eventually, state

CHECK = {"id": "cu_sc_1", "code": "malicious_instructions", "message": "The screen asks to do something."}


def _flagged(action: dict[str, Any]) -> dict[str, Any]:
    return {"type": "computer_call", "action": action, "pending_safety_checks": [CHECK]}


async def test_a_rejected_flagged_action_ends_the_run_with_a_typed_error_and_no_request(
    small_app_desktop: Sandbox,
) -> None:
    sb = small_app_desktop
    with started("openai") as h:
        h.emulator.script_items(
            _flagged({"type": "click", "button": "left", "x": BUTTON_V[0], "y": BUTTON_V[1]})
        )
        h.emulator.queue(Reply(), Reply(text="should not be reached"))
        llm = computer_use_model(h.emulator)
        agent = Agent(name="desk", model=llm, sandbox=sb)
        paused = await Runner.run(agent, "press the button")
        (pending,) = paused.interruptions
        state_ = paused.state
        state_.reject(pending.call.call_id, "not that button")
        with pytest.raises(ModelCallFailed) as info:
            await Runner.run(agent, state_)
        sent = len(h.emulator.requests)
    error = info.value.error
    assert isinstance(error, SafetyChecksDeclined)
    assert error.checks == [CHECK] and error.call_id == pending.call.call_id
    assert "not that button" in error.outcome and "did not run" in str(info.value)
    assert sent == 1  # the run ended before a request the vendor would refuse
    assert (await state(sb))["clicks"] == 0 and (await state(sb))["presses"] == []  # nothing ran


async def test_an_approved_flagged_action_that_fails_is_still_acknowledged(
    small_app_desktop: Sandbox,
) -> None:
    sb = small_app_desktop
    with started("openai") as h:
        h.emulator.script_items(
            _flagged({"type": "click", "button": "left", "x": 900, "y": 10})
        )  # off screen
        h.emulator.queue(Reply(), Reply(text="that point is off the screen"))
        llm = computer_use_model(h.emulator)
        agent = Agent(name="desk", model=llm, sandbox=sb)
        paused = await Runner.run(agent, "press the button")
        state_ = paused.state
        state_.approve(paused.interruptions[0].call.call_id)
        done = await Runner.run(agent, state_)
        assert done.final_output == "that point is off the screen"
        (out,) = [i for i in h.emulator.requests[-1].body["input"] if i.get("type") == "computer_call_output"]
    assert out["acknowledged_safety_checks"] == [CHECK]
    assert (await state(sb))["presses"] == []


def test_the_emulator_continues_a_flagged_call_only_with_its_checks_acknowledged() -> None:
    from tests.emulators.computer_rules import check_openai_item

    def fail(message: str) -> Exception:
        return ValueError(message)

    call = {"type": "computer_call", "call_id": "c1", "action": {"type": "screenshot"}}
    shot = {"type": "computer_screenshot", "image_url": "data:image/png;base64,iVBORw0KGgo="}
    output = {"type": "computer_call_output", "call_id": "c1", "output": shot}
    calls: dict[str, dict[str, Any]] = {}
    check_openai_item("computer_call", {**call, "pending_safety_checks": [CHECK]}, 0, calls, fail)
    with pytest.raises(ValueError, match="were not acknowledged"):
        check_openai_item("computer_call_output", output, 1, dict(calls), fail)
    with pytest.raises(ValueError, match="was not pending"):
        check_openai_item("computer_call_output", {**output, "acknowledged_safety_checks": [{"id": "x"}]}, 1,
                          dict(calls), fail)  # fmt: skip
    check_openai_item(
        "computer_call_output", {**output, "acknowledged_safety_checks": [CHECK]}, 1, calls, fail
    )


@pytest.mark.parametrize("approve", [True, False])
async def test_gemini_require_confirmation_is_acknowledged_only_after_an_approval(
    small_app_desktop: Sandbox, approve: bool
) -> None:
    from agentcore.providers.gemini.generate_content import GeminiModel

    sb = small_app_desktop
    where = {"x": BUTTON_V[0] * 1000 // VIEW[0], "y": BUTTON_V[1] * 1000 // VIEW[1]}
    decision = {"decision": "require_confirmation", "explanation": "The page asks to press it."}
    with started("google") as h:
        h.emulator.queue(
            Reply(tool_calls=[ToolCallReply("click_at", {**where, "safety_decision": decision})]),
            Reply(text="finished"),
        )
        llm = GeminiModel(
            "gemini-2.5-computer-use-preview-10-2025", base_url=h.emulator.base_url, api_key="k"
        )
        agent = Agent(name="desk", model=llm, sandbox=sb)
        paused = await Runner.run(agent, "press the button")
        (pending,) = paused.interruptions
        state_ = paused.state
        if approve:
            state_.approve(pending.call.call_id)
        else:
            state_.reject(pending.call.call_id, "no")
        done = await Runner.run(agent, state_)
        assert done.final_output == "finished"
        body = h.emulator.requests[-1].body
    (resp,) = [p["functionResponse"] for c in body["contents"] for p in c["parts"] if "functionResponse" in p]
    if approve:
        assert resp["response"]["safety_acknowledgement"] == "true"
        await eventually(sb, "clicks", 1)
    else:
        assert "safety_acknowledgement" not in resp["response"] and "rejected" in resp["response"]["error"]
        assert (await state(sb))["presses"] == []
