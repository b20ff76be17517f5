"""One replay-safe retry policy for model calls."""

from __future__ import annotations

import pytest

from agentcore import Agent, RetryPolicy, Runner
from agentcore.errors import (
    AuthenticationError,
    ModelCallFailed,
    OverloadedError,
    RateLimitError,
    RetryBudgetExhausted,
    ServerError,
)
from agentcore.events import RetryScheduled, TextDelta
from agentcore.model import Model, ModelRequest, ModelResponse, ModelResponseDone, ModelTextDelta
from agentcore.testing import ScriptedModel, fail
from tests.core.conftest import Spans

FAST = RetryPolicy(initial_delay=0.001, max_delay=0.01, jitter=0.0)


async def test_retryable_errors_are_retried_with_one_span_per_attempt(spans: Spans) -> None:
    model = ScriptedModel(
        [fail(RateLimitError("slow down", retry_after=0.0)), fail(ServerError("boom")), "ok"]
    )
    result = await Runner.run(Agent(name="r", model=model), "hi", retry=FAST)
    assert result.final_output == "ok"
    attempts = [s.attributes["agentcore.retry.attempt"] for s in spans.named("chat")]
    assert attempts == [0, 1, 2]
    assert [s.status.status_code.name for s in spans.named("chat")] == ["ERROR", "ERROR", "UNSET"]
    assert spans.named("chat")[0].attributes["error.type"] == "RateLimitError"


async def test_retry_after_hint_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("agentcore.modelcall.asyncio.sleep", fake_sleep)
    model = ScriptedModel(
        [fail(RateLimitError("slow", retry_after=7.0)), fail(OverloadedError("busy")), "ok"]
    )
    policy = RetryPolicy(initial_delay=0.5, max_delay=30, jitter=0)
    await Runner.run(Agent(name="r", model=model), "hi", retry=policy)
    assert slept[0] == 7.0
    assert 0 < slept[1] <= 30


async def test_non_retryable_errors_fail_at_once_with_the_transcript() -> None:
    model = ScriptedModel([fail(AuthenticationError("bad key", status_code=401)), "never"])
    with pytest.raises(ModelCallFailed) as info:
        await Runner.run(Agent(name="r", model=model), "hi", retry=FAST)
    assert isinstance(info.value.error, AuthenticationError)
    assert info.value.items and model.remaining == 1


async def test_attempts_per_call_are_bounded() -> None:
    model = ScriptedModel([fail(ServerError("x"))] * 5 + ["ok"])
    with pytest.raises(RetryBudgetExhausted):
        await Runner.run(
            Agent(name="r", model=model),
            "hi",
            retry=RetryPolicy(max_attempts=3, initial_delay=0.001, jitter=0),
        )
    assert model.remaining == 3


async def test_the_run_budget_caps_retries_across_calls() -> None:
    model = ScriptedModel([fail(ServerError("x")), fail(ServerError("x")), "ok"])
    with pytest.raises(RetryBudgetExhausted):
        await Runner.run(
            Agent(name="r", model=model), "hi", retry=RetryPolicy(run_budget=1, initial_delay=0.001)
        )


class _BreaksMidStream(Model):
    provider = "test"
    system = "test"
    model_name = "breaks"

    def __init__(self) -> None:
        self.calls = 0

    async def stream(self, request: ModelRequest):  # type: ignore[no-untyped-def, override]
        self.calls += 1
        if self.calls == 1:
            yield ModelTextDelta("partial ")
            raise ServerError("connection reset mid-stream")
        yield ModelTextDelta("complete")
        yield ModelResponseDone(ModelResponse(items=[]))


async def test_a_stream_that_already_reached_the_user_is_not_replayed() -> None:
    model = _BreaksMidStream()
    events = []
    with pytest.raises(ModelCallFailed):
        async for event in Runner.stream(Agent(name="s", model=model), "hi", retry=FAST):
            events.append(event)
    assert model.calls == 1
    assert [e.delta for e in events if isinstance(e, TextDelta)] == ["partial "]


async def test_held_output_makes_a_broken_stream_safe_to_replay() -> None:
    model = _BreaksMidStream()
    events = [
        e
        async for e in Runner.stream(
            Agent(name="s", model=model), "hi", retry=FAST, hold_output_until_checked=True
        )
    ]
    assert model.calls == 2
    assert [e.delta for e in events if isinstance(e, TextDelta)] == ["complete"]
    assert any(isinstance(e, RetryScheduled) for e in events)


async def test_non_streaming_runs_retry_mid_stream_failures() -> None:
    model = _BreaksMidStream()
    result = await Runner.run(Agent(name="s", model=model), "hi", retry=FAST)
    assert model.calls == 2 and result.final_output == ""
