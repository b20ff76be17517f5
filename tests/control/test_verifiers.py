"""Verifiers check the agent's claim that it is done, and feed failures back, bounded."""

from __future__ import annotations

import pytest

from agentcore import Agent, Runner
from agentcore.control.verifiers import FunctionVerifier, VerifierResult
from agentcore.errors import VerifierFailed
from agentcore.events import GuardrailFeedback
from agentcore.messages import UserMessage
from agentcore.testing import ScriptedModel


async def test_a_failing_verifier_sends_its_output_back_until_it_passes() -> None:
    attempts: list[str] = []

    def tests_pass(ctx, output):  # type: ignore[no-untyped-def]
        attempts.append(output)
        return True if output == "fixed" else "2 tests failed: test_add, test_sub"

    model = ScriptedModel(["done", "done again", "fixed"])
    result = await Runner.run(Agent(name="coder", model=model, verify=[tests_pass]), "implement add")
    assert result.final_output == "fixed"
    assert attempts == ["done", "done again", "fixed"]
    feedback = [i.text for i in result.new_items if isinstance(i, UserMessage) and i.agent == "coder"]
    assert len(feedback) == 2 and "2 tests failed" in feedback[0]


async def test_verifier_failure_is_typed_and_carries_the_last_output() -> None:
    never = FunctionVerifier(lambda ctx, out: VerifierResult(False, "FAILED test_x"), name="pytest")
    with pytest.raises(VerifierFailed) as info:
        await Runner.run(
            Agent(name="c", model=ScriptedModel(["done"] * 5), verify=[never], max_corrections=2), "go"
        )
    assert info.value.verifier == "pytest" and "FAILED test_x" in info.value.output
    assert len([i for i in info.value.items if isinstance(i, UserMessage)]) == 3


async def test_verifier_feedback_is_streamed_as_an_event() -> None:
    flaky = iter([False, True])
    events = [
        e
        async for e in Runner.stream(
            Agent(name="c", model=ScriptedModel(["a", "b"]), verify=[lambda ctx, out: next(flaky)]), "go"
        )
    ]
    assert any(isinstance(e, GuardrailFeedback) for e in events)


async def test_command_verifier_needs_a_sandbox() -> None:
    from agentcore.errors import UserError

    with pytest.raises(UserError, match="has no sandbox"):
        await Runner.run(Agent(name="c", model=ScriptedModel(["done"]), verify=["pytest -q"]), "go")
