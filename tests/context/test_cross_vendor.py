"""A conversation compacted on one vendor continues on another from the same session: the summary
(its provenance, its model) comes along, the next compaction extends it, and each vendor's reasoning
state reaches only its own vendor. The summariser is a model the user chose, behind its own emulator;
its calls count in the run's usage."""

from __future__ import annotations

from typing import Any

from agentcore import Agent, Runner, tool
from agentcore.contextwin import ContextPolicy
from agentcore.messages import Reasoning, ToolResult, load_item
from agentcore.providers.gemini.common import DUMMY_THOUGHT_SIGNATURE
from agentcore.run.compaction import summary_of
from agentcore.sessions.base import InMemorySession
from tests.emulators.base import Reply, ToolCallReply
from tests.providers import harness

WINDOW = 6000


@tool
def lookup(n: int) -> str:
    """Look a number up."""
    return f"record {n}: " + "abcdefghij" * 30


def _script(emulator: Any, start: int, turns: int, final: str) -> None:
    for n in range(start, start + turns):
        emulator.queue(Reply(tool_calls=[ToolCallReply("lookup", {"n": n})], reasoning=f"step {n}"))
    emulator.queue(Reply(text=final))


def _signatures(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["thoughtSignature"]] if "thoughtSignature" in value else []
        return found + [s for v in value.values() for s in _signatures(v)]
    if isinstance(value, list):
        return [s for v in value for s in _signatures(v)]
    return []


async def _summary(session: InMemorySession) -> dict[str, Any]:
    snap = await session.load()
    item = load_item(snap.caches["__agentcore__"]["view"]["base"][0])
    state = summary_of(item)
    assert state is not None
    return {"id": item.id, **state.payload}


async def test_compacted_on_anthropic_continues_on_gemini() -> None:
    session = InMemorySession()
    with harness.started("openai-chat") as writer:
        summarizer = writer.model()
        policy = ContextPolicy(window=WINDOW, summarizer=summarizer, keep_tool_outputs=None)
        with harness.started("anthropic") as first:
            first.emulator.context_window = WINDOW
            _script(first.emulator, 0, 80, "first half done")
            agent = Agent(name="worker", model=first.model(), tools=[lookup], max_turns=90, context=policy)
            one = await Runner.run(agent, "Look up records 0 to 159.", session=session)
            assert one.final_output == "first half done"
        summaries = len(writer.emulator.requests)
        assert summaries >= 2  # the chosen model wrote the summaries
        assert one.usage.requests == 81 + summaries  # and its calls are in the run's usage
        before = await _summary(session)
        assert before["model"] == f"openai-chat:{summarizer.model_name}"
        assert before["first"] == one.items[0].id

        with harness.started("google") as second:
            second.emulator.context_window = WINDOW
            _script(second.emulator, 80, 80, "all done")
            agent = agent.clone(model=second.model())
            two = await Runner.run(agent, "Now the rest.", session=session)
            assert two.final_output == "all done"
            assert len(second.emulator.requests) >= 81  # counted and sent, never refused
            refused = [r for r in second.emulator.requests if "countTokens" not in r.path]
            assert len(refused) == 81
            # the first Gemini request continues from the summary written on the Anthropic leg
            first_body = refused[0].body
            assert "[Summary of the" in str(first_body["contents"][0])
            # no Anthropic thinking goes to Gemini: foreign calls carry only Gemini's documented stand-in
            assert set(_signatures(first_body)) <= {DUMMY_THOUGHT_SIGNATURE}
        after = await _summary(session)
        assert after["first"] == before["first"] and after["items"] > before["items"]  # extended, not redone
        assert len(writer.emulator.requests) > summaries
        assert "Earlier summary:" in str(writer.emulator.requests[-1].body)

    snap = await session.load()
    assert sum(isinstance(i, ToolResult) for i in snap.items) == 160  # the session keeps every item
    assert sum(isinstance(i, Reasoning) for i in snap.items) >= 160
