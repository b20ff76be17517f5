"""``ContextPolicy(native=True)`` on a Claude model with server-side compaction: the API summarises the
conversation inside a request (``compact_20260112``), the answer starts with a ``compaction`` block, the
transcript keeps it and every later request sends it back unchanged, in its place; no summariser of
ours is called. Thinking goes on across it (the blocks after a compaction are bound to the prefix that
starts at it). Continued on another vendor, the block becomes its summary as text."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentcore import Agent, Runner, tool
from agentcore.contextwin import ContextPolicy
from agentcore.errors import InvalidRequestError
from agentcore.messages import AssistantMessage, UserMessage
from agentcore.model import ModelRequest, ModelSettings
from agentcore.providers._common import dumps
from agentcore.testing import FunctionModel
from tests.emulators.base import Reply, ToolCallReply
from tests.providers import harness

WINDOW = 64_000  # 0.8 x 64,000 = 51,200: a trigger the compaction edit takes (at least 50,000)
TURNS = 150


@tool
def lookup(n: int) -> str:
    """Look a number up."""
    return f"record {n}: " + "abcdefghij" * 400  # ~4,000 characters: ~1,000 tokens a turn


def _never(request: ModelRequest) -> str:
    raise AssertionError("the run's summariser was called: the server should have compacted")


def _agent(model: Any, turns: int = TURNS) -> Agent[str]:
    return Agent(
        name="long",
        model=model,
        tools=[lookup],
        max_turns=turns + 5,
        context=ContextPolicy(window=WINDOW, native=True, summarizer=FunctionModel(_never)),
    )


def _script(emulator: Any, turns: int = TURNS, thinking: bool = True) -> None:
    for n in range(turns):
        reasoning = f"step {n}" if thinking else None
        emulator.queue(Reply(tool_calls=[ToolCallReply("lookup", {"n": n})], reasoning=reasoning))
    emulator.queue(Reply(text="done", reasoning="finish" if thinking else None))


def _compactions(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        b
        for m in body["messages"]
        if isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "compaction"
    ]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_long_tool_loop_completes_on_server_side_compaction(stream: bool) -> None:
    with harness.started("anthropic") as h:
        h.emulator.context_window = WINDOW
        _script(h.emulator)
        agent = _agent(h.model(thinking=1024))
        if stream:
            run = Runner.stream(agent, f"Look up {TURNS} records.")
            events = [e async for e in run]
            result = run.result
            assert result is not None
            assert not [
                e for e in events if type(e).__name__ == "ContextCompacted"
            ]  # the run never compacted
        else:
            result = await Runner.run(agent, f"Look up {TURNS} records.")
        assert result.final_output == "done"
        requests = h.emulator.requests
        assert len(requests) == TURNS + 1  # never refused, no summariser call, no counting call
        for r in requests:
            assert r.body["context_management"]["edits"] == [
                {"type": "compact_20260112", "trigger": {"type": "input_tokens", "value": int(0.8 * WINDOW)}}
            ]
            assert "compact-2026-01-12" in r.headers["anthropic-beta"].split(",")
        compacted = h.emulator.state.get("compacted", 0)
        assert compacted >= 2  # the conversation outgrew the trigger more than once
        # the transcript keeps each compaction block (an empty assistant message holding it)
        kept = [
            i
            for i in result.items
            if isinstance(i, AssistantMessage) and i.state_for("anthropic", kind="compaction")
        ]
        assert len(kept) == compacted
        # ... and the requests after it send every block back, byte for byte, in place
        last = requests[-1]
        for item in kept:
            block = item.state_for("anthropic", kind="compaction").payload["block"]  # type: ignore[union-attr]
            assert dumps(block) in last.raw
        assert len(_compactions(last.body)) == compacted
        assert all(r.body.get("thinking") for r in requests)  # thinking never paused
        assert "[Summary of the" not in last.raw.decode()  # no summary of ours
        # usage: the summarising passes are counted in the run's usage, not only the answers
        assert result.usage.input_tokens > sum(len(r.raw) // 4 for r in requests) // 10


async def test_compaction_blocks_go_back_unchanged_or_are_refused() -> None:
    """The emulator holds the API's rules: an edited compaction block is refused, the edit needs its
    beta and a trigger of at least 50,000 tokens."""
    with harness.started("anthropic") as h:
        model = h.model()
        edit = {"type": "compact_20260112", "trigger": {"type": "input_tokens", "value": 60_000}}
        body = {"context_management": {"edits": [edit]}}
        h.emulator.context_window = WINDOW
        # a conversation past the trigger, in one request: the answer starts with the compaction block
        big = UserMessage.of("x" * 4 * 61_000)
        h.emulator.queue(Reply(text="ok"))
        response = await model.respond(
            ModelRequest(instructions=None, items=[big], settings=ModelSettings(extra=body))
        )
        assert isinstance(response.items[0], AssistantMessage)
        state = response.items[0].state_for("anthropic", kind="compaction")
        assert state is not None and state.payload["block"]["content"].startswith("Summary of")
        assert response.text == "ok"  # the summary is not text the model said
        first_request = h.emulator.requests[-1]
        assert response.usage.input_tokens > 61_000  # the summarising pass (iterations) is counted
        # sent back edited: refused
        edited = dict(state.payload["block"], content="something else")
        forged = AssistantMessage(text="", state=(state.model_copy(update={"payload": {"block": edited}}),))
        with pytest.raises(InvalidRequestError, match="compaction"):  # refused before any reply
            await model.respond(
                ModelRequest(
                    instructions=None,
                    items=[big, forged, response.items[1], UserMessage.of("next")],
                    settings=ModelSettings(extra=body),
                )
            )
        # unchanged: accepted, and counted from the block on (far below the window)
        h.emulator.queue(Reply(text="again"))
        more = await model.respond(
            ModelRequest(
                instructions=None,
                items=[big, *response.items, UserMessage.of("next")],
                settings=ModelSettings(extra=body),
            )
        )
        assert more.text == "again" and more.usage.input_tokens < 1_000
        assert first_request.headers["anthropic-beta"].split(",").count("compact-2026-01-12") == 1
        for bad, match in (
            (
                {"type": "compact_20260112", "trigger": {"type": "input_tokens", "value": 4_000}},
                "greater than",
            ),
            ({"type": "compact_20260112", "keep": 3}, "keep"),
        ):
            with pytest.raises(InvalidRequestError, match=match):
                await model.respond(
                    ModelRequest(
                        instructions=None,
                        items=[UserMessage.of("hi")],
                        settings=ModelSettings(extra={"context_management": {"edits": [bad]}}),
                    )
                )


def test_native_asks_compaction_only_where_the_model_and_trigger_allow_it() -> None:
    from agentcore.providers.anthropic import tokens

    edit = tokens.context_management("claude-sonnet-5-5", 60_000)["context_management"]["edits"][0]
    assert edit["type"] == "compact_20260112"
    for model, threshold in (
        ("claude-sonnet-4-5-20250929", 60_000),
        ("claude-haiku-4-5", 60_000),
        ("claude-sonnet-5-5", 4_800),
    ):
        edit = tokens.context_management(model, threshold)["context_management"]["edits"][0]
        assert edit["type"] == "clear_tool_uses_20250919"
    assert tokens.compacts("claude-opus-4-6") and tokens.compacts("claude-fable-5-1")
    assert not tokens.compacts("claude-opus-4-5-20251101")


async def test_compacted_on_anthropic_continues_on_another_vendor_from_the_summary_text() -> None:
    with harness.started("anthropic") as first:
        first.emulator.context_window = WINDOW
        _script(first.emulator, TURNS, thinking=False)
        one = await Runner.run(_agent(first.model()), f"Look up {TURNS} records.")
        assert one.final_output == "done"
        assert first.emulator.state.get("compacted", 0) >= 1
    summary = next(
        i.state_for("anthropic", kind="compaction").payload["block"]["content"]  # type: ignore[union-attr]
        for i in one.items
        if isinstance(i, AssistantMessage) and i.state_for("anthropic", kind="compaction")
    )
    for provider in ("google", "openai-chat"):
        with harness.started(provider) as second:
            second.emulator.queue(Reply(text="continued"))
            agent = Agent(name="long", model=second.model(), tools=[lookup])
            two = await Runner.run(agent, [*one.items, UserMessage.of("Go on.")])
            assert two.final_output == "continued"
            sent = json.dumps(second.emulator.requests[-1].body)
            assert "compaction" not in sent.replace("when it compacted its context", "")  # no block
            assert json.dumps(summary)[1:-1] in sent  # its summary, as text
            assert "written by claude-sonnet-5-5 when it compacted its context" in sent
