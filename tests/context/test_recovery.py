"""Recovery: the vendor answers "context too long" → one compaction → one retry → success; still too
long → ``ContextWindowExceeded`` carrying the vendor's typed error. Against every adapter's emulator."""

from __future__ import annotations

from typing import Any

import pytest

from agentcore import Agent, Runner, tool
from agentcore.contextwin import ContextPolicy
from agentcore.errors import ContextTooLongError, ContextWindowExceeded
from agentcore.messages import ToolResult
from tests.emulators.base import Reply, ToolCallReply
from tests.providers import harness

TOO_LONG = {  # each vendor's error, as a scripted reply (the emulators also produce them past their window)
    "openai": Reply(
        error=(
            400,
            "Your input exceeds the context window of this model. Please adjust your input and try again.",
        ),
        error_type="context_length_exceeded",
    ),
    "openai-chat": Reply(
        error=(
            400,
            "This model's maximum context length is 4000 tokens. However, your messages resulted in 4100 tokens.",
        )
    ),
    "anthropic": Reply(error=(400, "prompt is too long: 4100 tokens > 4000 maximum")),
    "google": Reply(
        error=(400, "The input token count (4100) exceeds the maximum number of tokens allowed (4000).")
    ),
    "google-interactions": Reply(
        error=(400, "The input token count (4100) exceeds the maximum number of tokens allowed (4000).")
    ),
}


@tool
def lookup(n: int) -> str:
    """Look a number up."""
    return f"record {n}: " + "abcdefghij" * 30


def _generations(emulator: Any) -> int:
    return sum(1 for r in emulator.requests if not any(p in r.path for p in ("count", "input_tokens")))


@pytest.mark.parametrize("provider", harness.PROVIDERS)
async def test_a_window_smaller_than_expected_is_recovered_from(provider: str) -> None:
    """The model's declared window is 40,000 tokens but the server holds 6,000: the first refusal
    compacts and retries; vendors that state their window in the error are not refused again."""
    with harness.started(provider) as h:
        h.emulator.context_window = 6000
        for n in range(60):
            h.emulator.queue(Reply(tool_calls=[ToolCallReply("lookup", {"n": n})]))
        h.emulator.queue(Reply(text="done"))
        model = h.model()
        model.context_window = 40_000
        agent = Agent(
            name="r", model=model, tools=[lookup], max_turns=80, context=ContextPolicy(count="estimate")
        )
        result = await Runner.run(agent, "Look up 60 records.")
        assert result.final_output == "done"
        assert sum(isinstance(i, ToolResult) for i in result.items) == 60
        refusals = _generations(h.emulator) - 61
        assert refusals >= 1
        if provider != "openai":  # the Responses API's error does not state the window
            assert refusals == 1


@pytest.mark.parametrize("provider", harness.PROVIDERS)
async def test_still_too_long_after_one_compaction_is_the_typed_error(provider: str) -> None:
    with harness.started(provider) as h:
        for n in range(6):
            h.emulator.queue(Reply(tool_calls=[ToolCallReply("lookup", {"n": n})]))
        h.emulator.queue(TOO_LONG[provider], TOO_LONG[provider])
        agent = Agent(
            name="r", model=h.model(), tools=[lookup], max_turns=20, context=ContextPolicy(window=50_000)
        )
        with pytest.raises(ContextWindowExceeded) as info:
            await Runner.run(agent, "Look up records.")
        assert isinstance(info.value.error, ContextTooLongError)
        assert _generations(h.emulator) == 8  # six turns, the refused one, one retry: no more
        assert sum(isinstance(i, ToolResult) for i in info.value.items) == 6
