"""The provider contract: every adapter, through its vendor's real SDK, against a strict local emulator.

Parametrized over every harness (``openai``, ``openai-chat``, ``anthropic``, ``google``): the same
Agent runs unchanged on each.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from agentcore import Agent, RetryPolicy, Runner, tool
from agentcore.errors import (
    AuthenticationError,
    InvalidRequestError,
    ModelStreamError,
    OverloadedError,
    RateLimitError,
    ServerError,
)
from agentcore.events import TextDelta
from agentcore.messages import AssistantMessage, Reasoning, ToolCall, ToolResult
from agentcore.model import ModelRequest
from tests.core.conftest import Spans
from tests.emulators.base import Reply, ToolCallReply
from tests.providers.harness import Harness

FAST = RetryPolicy(initial_delay=0.001, max_delay=0.01, jitter=0.0)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def city_of(country: str) -> str:
    """The capital of a country."""
    return {"France": "Paris", "Norway": "Oslo"}.get(country, "unknown")


class Answer(BaseModel):
    city: str
    total: int


async def test_plain_text(provider: Harness) -> None:
    provider.emulator.queue(Reply(text="Hello from the emulator."))
    result = await Runner.run(Agent(name="t", model=provider.model(), instructions="Be kind."), "hi")
    assert result.final_output == "Hello from the emulator."
    assert result.usage.requests == 1 and result.usage.input_tokens > 0 and result.usage.output_tokens > 0


async def test_one_tool_call_then_final_answer(provider: Harness) -> None:
    provider.emulator.queue(
        Reply(tool_calls=[ToolCallReply("add", {"a": 2, "b": 3})]),
        Reply(text="The sum is 5."),
    )
    result = await Runner.run(Agent(name="t", model=provider.model(), tools=[add]), "2+3?")
    assert result.final_output == "The sum is 5."
    (call,) = [i for i in result.new_items if isinstance(i, ToolCall)]
    assert call.name == "add" and call.parsed_arguments == {"a": 2, "b": 3}
    (res,) = [i for i in result.new_items if isinstance(i, ToolResult)]
    assert res.call_id == call.call_id and res.output == "5"
    assert len(provider.emulator.requests) == 2


async def test_parallel_tool_calls_in_one_turn(provider: Harness) -> None:
    provider.emulator.queue(
        Reply(
            tool_calls=[
                ToolCallReply("add", {"a": 1, "b": 1}),
                ToolCallReply("city_of", {"country": "Norway"}),
            ]
        ),
        Reply(text="2 and Oslo"),
    )
    result = await Runner.run(Agent(name="t", model=provider.model(), tools=[add, city_of]), "go")
    assert result.final_output == "2 and Oslo"
    assert [i.output for i in result.new_items if isinstance(i, ToolResult)] == ["2", "Oslo"]
    calls = [i for i in result.new_items if isinstance(i, ToolCall)]
    assert len({c.call_id for c in calls}) == 2


async def test_structured_output(provider: Harness) -> None:
    provider.emulator.queue(Reply(text='{"city": "Oslo", "total": 5}'))
    result = await Runner.run(Agent(name="t", model=provider.model(), output_type=Answer), "where?")
    assert result.final_output == Answer(city="Oslo", total=5)
    assert "total" in provider.emulator.requests[-1].raw.decode()  # the schema went on the wire


async def test_streaming_deltas_and_final_response(provider: Harness) -> None:
    provider.emulator.queue(
        Reply(tool_calls=[ToolCallReply("add", {"a": 20, "b": 22})]),
        Reply(text="The answer is forty-two, of course."),
    )
    stream = Runner.stream(Agent(name="t", model=provider.model(), tools=[add]), "go")
    text = "".join([e.delta async for e in stream if isinstance(e, TextDelta)])
    assert text == "The answer is forty-two, of course."
    assert stream.result.final_output == text
    assert stream.result.usage.requests == 2


async def test_usage_is_normalized(provider: Harness) -> None:
    provider.emulator.queue(Reply(text="ok", input_tokens=1000, cached_tokens=400, output_tokens=9))
    response = await provider.model().respond(ModelRequest(instructions=None, items=_user("hi")))
    usage = response.usage
    assert (usage.requests, usage.input_tokens, usage.cached_input_tokens) == (1, 1000, 400)
    assert (
        usage.output_tokens >= 9 and usage.reasoning_tokens <= usage.output_tokens
    )  # output includes reasoning


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, InvalidRequestError), (401, AuthenticationError), (500, ServerError), (503, ServerError)],
)
async def test_http_errors_map_to_typed_errors(
    provider: Harness, status: int, error: type[Exception]
) -> None:
    provider.emulator.queue(Reply(error=(status, f"emulated {status}")))
    with pytest.raises(error) as info:
        await provider.model().respond(ModelRequest(instructions=None, items=_user("hi")))
    assert info.value.status_code == status  # type: ignore[attr-defined]
    assert info.value.provider == provider.model().provider  # type: ignore[attr-defined]


async def test_rate_limit_carries_retry_after(provider: Harness) -> None:
    provider.emulator.queue(Reply(error=(429, "slow down"), headers={"retry-after": "7"}))
    with pytest.raises(RateLimitError) as info:
        await provider.model().respond(ModelRequest(instructions=None, items=_user("hi")))
    assert info.value.retry_after == 7.0
    assert info.value.retryable


async def test_overloaded(provider: Harness) -> None:
    status = 529 if provider.name == "anthropic" else 503
    provider.emulator.queue(Reply(error=(status, "overloaded"), error_type="overloaded_error"))
    with pytest.raises(
        OverloadedError if provider.name in ("anthropic", "google", "google-interactions") else ServerError
    ):
        await provider.model().respond(ModelRequest(instructions=None, items=_user("hi")))


async def test_mid_stream_error_is_a_retryable_stream_error(provider: Harness) -> None:
    provider.emulator.queue(Reply(text="partial answer that breaks", stream_error=True))
    with pytest.raises((ModelStreamError, ServerError)) as info:
        async for _ in provider.model().stream(ModelRequest(instructions=None, items=_user("hi"))):
            pass
    assert info.value.retryable  # type: ignore[attr-defined]


async def test_429_then_500_then_success_takes_exactly_three_attempts(
    provider: Harness, spans: Spans
) -> None:
    provider.emulator.queue(
        Reply(error=(429, "slow down"), headers={"retry-after": "0"}),
        Reply(error=(500, "boom")),
        Reply(text="finally"),
    )
    result = await Runner.run(Agent(name="t", model=provider.model()), "hi", retry=FAST)
    assert result.final_output == "finally"
    assert len(provider.emulator.requests) == 3
    attempts = [s.attributes["agentcore.retry.attempt"] for s in spans.named("chat")]
    assert attempts == [0, 1, 2]
    assert [s.attributes.get("error.type") for s in spans.named("chat")] == [
        "RateLimitError",
        "ServerError",
        None,
    ]


async def test_reasoning_round_trips_with_its_vendor_state(provider: Harness) -> None:
    provider.emulator.queue(
        Reply(reasoning="I should add the numbers.", tool_calls=[ToolCallReply("add", {"a": 1, "b": 2})]),
        Reply(text="3"),
    )
    model = provider.model()
    result = await Runner.run(Agent(name="t", model=model, tools=[add]), "1+2")
    assert result.final_output == "3"  # the strict emulator accepted the echoed state
    reasoning = [i for i in result.new_items if isinstance(i, Reasoning)]
    if provider.supports_reasoning:
        assert reasoning and reasoning[0].state and reasoning[0].state[0].provider == model.provider


async def test_images_in_user_messages(provider: Harness) -> None:
    from agentcore.messages import ImagePart, TextPart, UserMessage

    provider.emulator.queue(Reply(text="a red square"))
    msg = UserMessage(
        content=(TextPart(text="what is this?"), ImagePart(data="iVBORw0KGgo=", media_type="image/png"))
    )
    result = await Runner.run(Agent(name="t", model=provider.model()), [msg])
    assert result.final_output == "a red square"
    assert "iVBORw0KGgo=" in provider.emulator.requests[-1].raw.decode()


async def test_the_same_agent_runs_on_every_provider(provider: Harness) -> None:
    provider.emulator.queue(
        Reply(tool_calls=[ToolCallReply("city_of", {"country": "France"})]),
        Reply(text='{"city": "Paris", "total": 1}'),
    )
    agent = Agent(
        name="portable",
        model=provider.model(),
        tools=[city_of],
        output_type=Answer,
        instructions="Answer in JSON.",
    )
    result = await Runner.run(agent, "Capital of France?")
    assert result.final_output == Answer(city="Paris", total=1)
    assert isinstance(result.new_items[-1], AssistantMessage)


def _user(text: str) -> list:  # type: ignore[type-arg]
    from agentcore.messages import UserMessage

    return [UserMessage.of(text)]
