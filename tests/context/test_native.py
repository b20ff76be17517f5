"""``ContextPolicy(native=True)``: the vendors' own context management, with the run's compaction as the
backstop. OpenAI's server-side compaction (``context_management: [{type: compaction}]``) adds
``compaction`` items the adapter keeps and replays (WIRE.md §1.7); Anthropic context editing
(``clear_tool_uses_20250919``) goes with its beta header."""

from __future__ import annotations

import pytest

from agentcore import Agent, Runner, tool
from agentcore.contextwin import ContextPolicy
from agentcore.errors import InvalidRequestError
from agentcore.messages import AssistantMessage, UserMessage
from agentcore.model import ModelRequest, ModelSettings
from tests.emulators.base import Reply, ToolCallReply
from tests.providers import harness

WINDOW = 6000


@tool
def lookup(n: int) -> str:
    """Look a number up."""
    return f"record {n}: " + "abcdefghij" * 30


def _agent(model: object, turns: int) -> Agent[str]:
    return Agent(
        name="native",
        model=model,  # type: ignore[arg-type]
        tools=[lookup],
        max_turns=turns + 5,
        context=ContextPolicy(window=WINDOW, native=True),
    )


def _script(emulator: object, turns: int) -> None:
    for n in range(turns):
        emulator.queue(Reply(tool_calls=[ToolCallReply("lookup", {"n": n})], reasoning=f"step {n}"))  # type: ignore[attr-defined]
    emulator.queue(Reply(text="done"))  # type: ignore[attr-defined]


async def test_openai_server_side_compaction_items_are_kept_and_replayed() -> None:
    with harness.started("openai") as h:
        h.emulator.context_window = WINDOW
        _script(h.emulator, 120)
        result = await Runner.run(_agent(h.model(store=False), 120), "Look up 120 records.")
        assert result.final_output == "done"
        bodies = [r.body for r in h.emulator.requests]
        assert all(b["context_management"][0]["compact_threshold"] == int(0.8 * WINDOW) for b in bodies)
        kept = [
            i
            for i in result.items
            if isinstance(i, AssistantMessage) and i.state_for("openai", kind="compaction")
        ]
        assert kept  # the server compacted, and the transcript keeps its items
        # stateless: every request carries the whole view, compaction items in place
        assert any(any(x.get("type") == "compaction" for x in b["input"]) for b in bodies)
        assert len(bodies) == 121  # the vendor never refused: its own compaction kept the input small


async def test_anthropic_context_editing_goes_with_its_beta() -> None:
    with harness.started("anthropic") as h:
        h.emulator.context_window = WINDOW
        _script(h.emulator, 60)
        result = await Runner.run(_agent(h.model(), 60), "Look up 60 records.")
        assert result.final_output == "done"
        first = h.emulator.requests[0]
        edit = first.body["context_management"]["edits"][0]
        assert edit["type"] == "clear_tool_uses_20250919"
        assert edit["trigger"] == {"type": "input_tokens", "value": int(0.8 * WINDOW)}
        assert "context-management-2025-06-27" in first.headers["anthropic-beta"]
        assert len(h.emulator.requests) == 61  # never refused
        # the server cleared old tool results: requests grew past the window and were still accepted
        assert max(len(r.raw) // 4 for r in h.emulator.requests) > WINDOW


async def test_openai_stand_alone_compaction_replaces_the_oldest_turns() -> None:
    """When the run compacts an OpenAI conversation itself (here: recovering from a window smaller than
    declared), ``native=True`` uses ``POST /v1/responses/compact`` instead of writing a summary: the
    view keeps the user messages and the server's opaque compaction item, which the next requests
    replay and the server accepts."""
    with harness.started("openai") as h:
        h.emulator.context_window = WINDOW
        _script(h.emulator, 80)
        model = h.model(store=False)
        model.context_window = 40_000
        agent = Agent(
            name="native",
            model=model,
            tools=[lookup],
            max_turns=90,
            context=ContextPolicy(native=True, count="estimate"),
        )
        result = await Runner.run(agent, "Look up 80 records.")
        assert result.final_output == "done"
        compacts = [r for r in h.emulator.requests if r.path == "/v1/responses/compact"]
        assert compacts and {"model", "input"} <= set(compacts[0].body) <= {"model", "input", "instructions"}
        issued = set(h.emulator.issued_compactions.values())
        creates = [r.body for r in h.emulator.requests if r.path == "/v1/responses"]
        assert any(i.get("id") in issued for i in creates[-1]["input"] if i.get("type") == "compaction")
        assert result.usage.requests >= 81 + len(compacts)  # the compaction calls count in the run's usage


async def test_the_anthropic_emulator_checks_context_editing_like_the_api() -> None:
    bad = {"context_management": {"edits": [{"type": "clear_tool_uses_20250919", "keep": 3}]}}
    with harness.started("anthropic") as h:
        model = h.model()
        request = ModelRequest(
            instructions=None, items=[UserMessage.of("hi")], settings=ModelSettings(extra=bad)
        )
        with pytest.raises(InvalidRequestError, match=r"edits\.0\.keep"):
            await model.respond(request)
