"""Context policies against every adapter's emulator, with the real SDK clients over HTTP.

Each emulator enforces a small context window (``Emulator.context_window``) and answers with its
vendor's real context-length error past it (``tests/emulators/context_window.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from agentcore import Agent, Runner, tool
from agentcore.contextwin import ContextPolicy
from agentcore.messages import Reasoning, ToolResult, load_item
from agentcore.run.compaction import summary_of
from agentcore.sessions.base import InMemorySession
from tests.emulators.base import Reply, ToolCallReply
from tests.providers import harness
from tests.spans import Spans, spans_fixture

spans = pytest.fixture(name="spans")(spans_fixture)

WINDOW = 6000
TURNS = 300


@tool
def lookup(n: int) -> str:
    """Look a number up."""
    return f"record {n}: " + "abcdefghij" * 30


def _script(emulator: Any, turns: int, *, reasoning: bool) -> None:
    for n in range(turns):
        emulator.queue(
            Reply(
                tool_calls=[ToolCallReply("lookup", {"n": n})], reasoning=f"step {n}" if reasoning else None
            )
        )
    emulator.queue(Reply(text=f"looked up {turns} records"))


def _is_generation(path: str) -> bool:
    return not any(p in path for p in ("count_tokens", "input_tokens", "countTokens"))


@pytest.mark.parametrize("provider", harness.PROVIDERS)
async def test_a_300_turn_tool_loop_completes_in_a_small_window(provider: str, spans: Spans) -> None:
    with harness.started(provider) as h:
        h.emulator.context_window = WINDOW
        _script(h.emulator, TURNS, reasoning=h.supports_reasoning)
        model = h.model()
        model.context_window = WINDOW  # the model's window, overriding the table
        agent = Agent(
            name="looper",
            model=model,
            tools=[lookup],
            max_turns=TURNS + 5,
            context=ContextPolicy(keep_tool_outputs=4),
        )
        session = InMemorySession()
        result = await Runner.run(agent, f"Look up records 0 to {TURNS - 1}.", session=session)
        assert result.final_output == f"looked up {TURNS} records"
        assert sum(isinstance(i, ToolResult) for i in result.items) == TURNS  # the transcript is whole
        if h.supports_reasoning:
            assert sum(isinstance(i, Reasoning) for i in result.items) >= TURNS
        snap = await session.load()
        view = snap.caches["__agentcore__"]["view"]
        assert view["agent"] == "looper" and summary_of(load_item(view["base"][0])) is not None
        # the threshold compacted before the vendor refused: one request per turn, no refusal, no retry
        assert len([r for r in h.emulator.requests if _is_generation(r.path)]) == TURNS + 1
        compactions = [
            e
            for s in spans.named("invoke_agent")
            for e in s.events
            if e.name == "agentcore.context.compacted"
        ]
        assert len(compactions) >= 5
        assert all(e.attributes["tokens_after"] < e.attributes["tokens_before"] for e in compactions)
        assert max(e.attributes["tokens_before"] for e in compactions) <= WINDOW


async def test_the_server_state_watermark_follows_the_view(spans: Spans) -> None:
    """OpenAI Responses chains ``previous_response_id`` while the view only grows; after a compaction it
    sends the whole new view once, unchained (a chained id would cover the items the view dropped, and
    the emulator, which counts the chain, would refuse), then chains again."""
    with harness.started("openai") as h:
        h.emulator.context_window = WINDOW
        _script(h.emulator, 120, reasoning=True)
        model = h.model()
        model.context_window = WINDOW
        agent = Agent(name="chain", model=model, tools=[lookup], max_turns=130, context=ContextPolicy())
        result = await Runner.run(agent, "Look up 120 records.")
        assert result.final_output == "looked up 120 records"
        bodies = [r.body for r in h.emulator.requests]
        assert len(bodies) == 121  # never refused
        compactions = [
            e
            for s in spans.named("invoke_agent")
            for e in s.events
            if e.name == "agentcore.context.compacted"
        ]
        unchained = [i for i, b in enumerate(bodies) if not b.get("previous_response_id")]
        assert len(unchained) == 1 + len(compactions)  # the first request, then one per compaction
        assert all(bodies[i + 1].get("previous_response_id") for i in unchained[:-1])  # chained again
        resets = [e for s in spans.all for e in s.events if e.name == "agentcore.server_state.reset"]
        assert len(resets) == len(compactions)
