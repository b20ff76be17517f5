"""Token counting through each vendor's counting endpoint (the emulators serve them), and the local
estimate calibrated from reported usage where a vendor has none."""

from __future__ import annotations

import pytest

from agentcore import Agent, Runner, tool
from agentcore.contextwin import ContextPolicy
from agentcore.messages import UserMessage
from agentcore.model import ModelRequest
from tests.emulators.base import Reply, ToolCallReply
from tests.providers import harness

COUNT_PATHS = {
    "openai": "/v1/responses/input_tokens",
    "anthropic": "/v1/messages/count_tokens",
    "google": ":countTokens",
}


@tool
def lookup(n: int) -> str:
    """Look a number up."""
    return f"record {n}: " + "abcdefghij" * 30


@pytest.mark.parametrize("provider", sorted(COUNT_PATHS))
async def test_the_vendor_endpoint_counts_what_the_request_would_send(provider: str) -> None:
    with harness.started(provider) as h:
        model = h.model()
        request = ModelRequest(instructions="Be brief.", items=[UserMessage.of("Hello there. " * 50)])
        counted = await model.count_tokens(request)
        h.emulator.queue(Reply(text="hi"))
        response = await model.respond(request)
        assert counted is not None and counted > 100
        # the endpoint counts like the generation it stands for (the emulators: ~4 bytes a token)
        assert abs(counted - response.usage.input_tokens) <= 0.25 * response.usage.input_tokens
        assert any(COUNT_PATHS[provider] in r.path for r in h.emulator.requests)


@pytest.mark.parametrize("provider", ["openai-chat", "google-interactions"])
async def test_vendors_without_an_endpoint_count_nothing(provider: str) -> None:
    with harness.started(provider) as h:
        assert (
            await h.model().count_tokens(ModelRequest(instructions=None, items=[UserMessage.of("x")])) is None
        )


@pytest.mark.parametrize("provider", sorted(COUNT_PATHS))
async def test_a_policy_asks_the_endpoint_near_the_trigger(provider: str) -> None:
    with harness.started(provider) as h:
        h.emulator.context_window = 6000
        for n in range(40):
            h.emulator.queue(Reply(tool_calls=[ToolCallReply("lookup", {"n": n})]))
        h.emulator.queue(Reply(text="done"))
        agent = Agent(
            name="counter",
            model=h.model(),
            tools=[lookup],
            max_turns=50,
            context=ContextPolicy(window=6000, count="vendor"),
        )
        result = await Runner.run(agent, "Look up 40 records.")
        assert result.final_output == "done"
        counts = [r for r in h.emulator.requests if COUNT_PATHS[provider] in r.path]
        assert counts  # asked once the estimate came near the trigger
        generations = [r for r in h.emulator.requests if COUNT_PATHS[provider] not in r.path]
        assert len(generations) == 41  # and no request was refused
