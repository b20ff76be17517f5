"""Reasoning state stays valid across a compaction: after the view changed, each vendor still gets its
own reasoning back (OpenAI encrypted reasoning items, Anthropic signed thinking blocks, Gemini thought
signatures) for the turns kept verbatim, and its emulator, which checks every one, accepts them.
Anthropic's thinking pauses instead (see the test)."""

from __future__ import annotations

from typing import Any

import pytest

from agentcore import Agent, Runner, tool
from agentcore.contextwin import ContextPolicy
from tests.emulators.base import Reply, ToolCallReply
from tests.providers import harness

WINDOW = 6000


@tool
def lookup(n: int) -> str:
    """Look a number up."""
    return f"record {n}: " + "abcdefghij" * 30


def _reasoning_sent(provider: str, body: dict[str, Any]) -> int:
    if provider == "openai":
        return sum(1 for i in body["input"] if i.get("type") == "reasoning" and i.get("encrypted_content"))
    if provider == "anthropic":
        return sum(
            1
            for m in body["messages"]
            if isinstance(m["content"], list)
            for b in m["content"]
            if b.get("type") == "thinking" and b.get("signature")
        )
    return sum(1 for c in body["contents"] for p in c["parts"] if "thoughtSignature" in p)


@pytest.mark.parametrize(
    ("provider", "options"), [("openai", {"store": False}), ("anthropic", {"thinking": 1024}), ("google", {})]
)
async def test_reasoning_is_replayed_and_accepted_after_compactions(
    provider: str, options: dict[str, Any]
) -> None:
    with harness.started(provider) as h:
        h.emulator.context_window = WINDOW
        for n in range(80):
            h.emulator.queue(
                Reply(tool_calls=[ToolCallReply("lookup", {"n": n})], reasoning=f"think about {n}")
            )
        h.emulator.queue(Reply(text="done", reasoning="finish"))
        agent = Agent(
            name="thinker",
            model=h.model(**options),
            tools=[lookup],
            max_turns=90,
            context=ContextPolicy(window=WINDOW),
        )
        result = await Runner.run(agent, "Look up 80 records.")
        assert result.final_output == "done"
        bodies = [r.body for r in h.emulator.requests]
        assert len(bodies) == 81  # never refused: every replayed signature/encrypted item was accepted
        assert any(_reasoning_sent(provider, b) for b in bodies)
        if provider == "anthropic":
            # A thinking signature is bound to everything before it: once a compaction changed that, the
            # kept blocks are dropped and thinking pauses for the rest of the tool loop (the API wants the
            # loop's last assistant turn to start with a valid thinking block); no request is refused.
            assert "thinking" not in bodies[-1]
        else:  # the requests after the last compaction still carry the vendor's reasoning for kept turns
            assert _reasoning_sent(provider, bodies[-1]) >= 1


async def test_thinking_goes_on_after_a_compaction_on_a_model_without_prefix_checks() -> None:
    """Claude models outside the preserved-thinking prefix checks (here Sonnet 4.6) check a replayed
    block's signature against its text only: the blocks of the tool loop in flight stay valid after the
    run compacted the conversation before them, so thinking never pauses (the emulator checks each)."""
    from agentcore.providers.anthropic.model import AnthropicModel

    with harness.started("anthropic") as h:
        h.emulator.context_window = WINDOW
        for n in range(80):
            h.emulator.queue(Reply(tool_calls=[ToolCallReply("lookup", {"n": n})], reasoning=f"think {n}"))
        h.emulator.queue(Reply(text="done", reasoning="finish"))
        model = AnthropicModel("claude-sonnet-4-6", base_url=h.emulator.base_url, api_key="k", thinking=1024)
        agent = Agent(
            name="thinker", model=model, tools=[lookup], max_turns=90, context=ContextPolicy(window=WINDOW)
        )
        result = await Runner.run(agent, "Look up 80 records.")
        assert result.final_output == "done"
        bodies = [r.body for r in h.emulator.requests]
        assert len(bodies) == 81
        assert all("thinking" in b for b in bodies)  # never paused
        assert _reasoning_sent("anthropic", bodies[-1]) >= 1  # the kept turns' blocks went back
