# ruff: noqa: F811  (pytest fixtures imported from anthropic_support are redefined as test parameters)
"""Thinking blocks on the Anthropic adapter: echoed unchanged and in order with their signatures, only
to the same model family, on an append-only history whose earlier messages are re-sent byte for byte."""

from __future__ import annotations

import itertools
import json
import os

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentcore import errors, tracing
from agentcore.messages import (
    AssistantMessage,
    Handoff,
    Item,
    ProviderState,
    Reasoning,
    ToolCall,
    ToolResult,
    UserMessage,
)
from agentcore.model import ModelResponseDone, ModelSettings
from agentcore.providers.anthropic.model import AnthropicModel
from tests.emulators.anthropic import REDACTED, AnthropicEmulator
from tests.emulators.base import Reply, ToolCallReply
from tests.providers.anthropic_support import (  # noqa: F401  (fixtures)
    TIME,
    WEATHER,
    emu,
    model,
    req,
    spans,
    strip_cache,
    tool_turn,
    wire,
)

# --------------------------------------------------------------------------- thinking


async def test_thinking_blocks_are_echoed_unchanged_and_in_order(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    items: list[Item] = [UserMessage.of("Weather in Paris?")]
    first = await tool_turn(
        model,
        emu,
        items,
        Reply(
            reasoning="The user wants weather.",
            text="Checking.",
            tool_calls=[ToolCallReply("get_weather", {})],
        ),
    )
    reasoning = first.items[0]
    assert isinstance(reasoning, Reasoning) and reasoning.summary == "The user wants weather."
    issued = emu.requests and reasoning.state[0].payload["block"]
    await tool_turn(model, emu, items, Reply(reasoning=REDACTED, tool_calls=[ToolCallReply("get_time", {})]))
    emu.queue(Reply(text="Sunny."))
    await model.respond(req(items))
    messages = wire(emu)["messages"]
    assert [b["type"] for b in messages[1]["content"]] == ["thinking", "text", "tool_use"]
    assert messages[1]["content"][0] == issued  # same thinking text, same signature
    assert [b["type"] for b in messages[3]["content"]] == ["redacted_thinking", "tool_use"]
    assert emu.state["dropped_blocks"] == []


async def test_history_is_append_only_byte_for_byte(model: AnthropicModel, emu: AnthropicEmulator) -> None:
    items: list[Item] = [UserMessage.of("Go.")]
    for n in range(4):
        await tool_turn(
            model, emu, items, Reply(reasoning=f"step {n}", tool_calls=[ToolCallReply("get_weather", {})])
        )
    bodies = [r.raw.replace(b',"cache_control":{"type":"ephemeral"}', b"") for r in emu.requests]
    for before, after in itertools.pairwise(bodies):
        prefix = before[before.index(b'"messages":[') : -2]  # every earlier message, without the closing "]}"
        assert after.find(prefix) > 0


async def test_tampered_signature_is_rejected_by_the_api(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    items: list[Item] = [UserMessage.of("Hi")]
    await tool_turn(model, emu, items, Reply(reasoning="hmm", tool_calls=[ToolCallReply("get_weather", {})]))
    state = items[1].state[0]
    block = {**state.payload["block"], "thinking": "hmm, edited"}
    items[1] = items[1].model_copy(
        update={"state": (state.model_copy(update={"payload": {**state.payload, "block": block}}),)}
    )
    with pytest.raises(errors.InvalidRequestError, match="Invalid `signature`"):
        await model.respond(req(items))


async def test_thinking_after_an_edited_history_is_dropped_not_rejected(
    model: AnthropicModel, emu: AnthropicEmulator, spans: InMemorySpanExporter
) -> None:
    """A handoff filter or a compaction rewrote what came before a thinking block: on a model that
    checks prefixes the API would answer 400 "bound to a different conversation", so the adapter drops
    that block and every later one (a model without the check keeps them: tests/context/test_reasoning)."""
    model = AnthropicModel("claude-sonnet-5-5", base_url=emu.base_url, api_key="k")
    items: list[Item] = [UserMessage.of("Hi")]
    await tool_turn(model, emu, items, Reply(reasoning="one", tool_calls=[ToolCallReply("get_weather", {})]))
    await tool_turn(model, emu, items, Reply(reasoning="two", tool_calls=[ToolCallReply("get_time", {})]))
    unchanged = await model.respond(req(items))
    assert [m["content"][0]["type"] for m in wire(emu)["messages"][1::2]] == ["thinking", "thinking"]
    assert unchanged.text == "ok"
    edited = [UserMessage.of("Hello"), *items[1:]]  # the first user turn was rewritten
    with tracing.span("chat"):
        await model.respond(req(edited))  # no 400
    sent = wire(emu)["messages"]
    assert [b["type"] for m in sent[1::2] for b in m["content"]] == ["tool_use", "tool_use"]
    assert "anthropic.thinking_dropped" in {e.name for e in spans.get_finished_spans()[0].events}
    await model.respond(req([*items[:5], AssistantMessage(text="x"), UserMessage.of("y")]))
    assert (
        wire(emu)["messages"][3]["content"][0]["type"] == "thinking"
    )  # the unedited prefix keeps its blocks


async def test_thinking_under_other_tools_is_dropped_not_rejected(
    model: AnthropicModel, emu: AnthropicEmulator, spans: InMemorySpanExporter
) -> None:
    model = AnthropicModel("claude-sonnet-5-5", base_url=emu.base_url, api_key="k")  # checks prefixes
    items: list[Item] = [UserMessage.of("Hi")]
    await tool_turn(model, emu, items, Reply(reasoning="hmm", tool_calls=[ToolCallReply("get_weather", {})]))
    emu.queue(Reply(text="done"))
    with tracing.span("chat"):
        await model.respond(req(items, tools=(WEATHER, TIME)))  # e.g. after a handoff to another agent
    assert [b["type"] for b in wire(emu)["messages"][1]["content"]] == ["tool_use"]
    assert "anthropic.thinking_dropped" in {e.name for e in spans.get_finished_spans()[0].events}


async def test_foreign_and_other_model_reasoning_is_dropped(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    foreign = ProviderState(
        provider="openai", model="gpt-5", kind="reasoning", payload={"encrypted_content": "x"}
    )
    other_model = ProviderState(
        provider="anthropic",
        model="claude-opus-4-5",
        kind="thinking",
        payload={"block": {"type": "thinking", "thinking": "t", "signature": "s"}},
    )
    items: list[Item] = [
        UserMessage.of("Hi"),
        Reasoning(summary="openai thoughts", state=(foreign,)),
        Reasoning(summary="opus thoughts", state=(other_model,)),
        AssistantMessage(text="Hello."),
        UserMessage.of("Again"),
    ]
    await model.respond(req(items))
    sent = json.dumps(wire(emu)["messages"])
    assert "thoughts" not in sent and "thinking" not in sent
    assert strip_cache(wire(emu)["messages"][1]) == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Hello."}],
    }


async def test_dated_model_names_share_their_family_thinking(emu: AnthropicEmulator) -> None:
    alias = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k")
    dated = AnthropicModel("claude-sonnet-4-5-20250929", base_url=emu.base_url, api_key="k")
    items: list[Item] = [UserMessage.of("Hi")]
    await tool_turn(alias, emu, items, Reply(reasoning="hmm", tool_calls=[ToolCallReply("get_weather", {})]))
    await dated.respond(req(items))
    assert wire(emu)["messages"][1]["content"][0]["type"] == "thinking"


async def test_a_foreign_tool_loop_in_flight_pauses_extended_thinking(
    emu: AnthropicEmulator, spans: InMemorySpanExporter
) -> None:
    m = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k", thinking=2048)
    items: list[Item] = [
        UserMessage.of("Weather?"),
        ToolCall(call_id="call_abc", name="get_weather", arguments="{}"),  # made by another vendor
        ToolResult(call_id="call_abc", name="get_weather", output="sunny"),
    ]
    with tracing.span("chat"):
        await m.respond(req(items))  # the API would reject thinking here: the turn has no thinking block
    assert "thinking" not in wire(emu)
    assert "anthropic.thinking_paused" in {e.name for e in spans.get_finished_spans()[0].events}
    items += [AssistantMessage(text="Sunny."), UserMessage.of("And tomorrow?")]
    await m.respond(req(items))  # a new user turn: thinking is back
    assert wire(emu)["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    await m.aclose()


def test_incremental_requests_equal_requests_built_from_scratch() -> None:
    """The encoder reuses the previous request's messages when the transcript only grew; whatever the
    transcript looks like (merged turns, orphans, missing results, dropped thinking), the bytes are the
    ones a fresh encoder would produce."""
    import random

    from agentcore.providers.anthropic.encode import RequestEncoder

    def fresh() -> RequestEncoder:
        return RequestEncoder(
            "claude-sonnet-4-5", max_tokens=100, thinking=None, caching=True, sampling=False
        )

    rng = random.Random(7)
    bound = fresh().fingerprint(req([]))
    think = ProviderState(
        provider="anthropic",
        model="claude-sonnet-4-5",
        kind="thinking",
        payload={"block": {"type": "thinking", "thinking": "t", "signature": "s"}, "bound": bound},
    )
    stale = think.model_copy(update={"payload": {**think.payload, "bound": "other"}})
    incremental = fresh()
    items: list[Item] = [UserMessage.of("start")]
    for step in range(120):
        kind = rng.choice(["user", "text", "call", "result", "orphan", "think", "stale", "handoff"])
        if kind == "user":
            items.append(UserMessage.of(f"u{step}"))
        elif kind == "text":
            items.append(AssistantMessage(text=f"a{step}"))
        elif kind == "call":
            items.append(ToolCall(call_id=f"c{step}", name="get_weather", arguments="{}"))
        elif kind == "result":
            calls = [i for i in items if isinstance(i, ToolCall)]
            if calls:
                items.append(ToolResult(call_id=calls[-1].call_id, name="get_weather", output="r"))
        elif kind == "orphan":
            items.append(ToolResult(call_id=f"gone{step}", name="get_weather", output="r"))
        elif kind in ("think", "stale"):
            items.append(Reasoning(summary="t", state=(think if kind == "think" else stale,)))
        else:
            items.append(Handoff(from_agent="a", to_agent="b"))
        if rng.random() < 0.5:
            request = req(list(items))
            assert incremental.body(request, stream=False) == fresh().body(request, stream=False), step


async def test_a_transcript_reloaded_from_a_session_is_sent_byte_for_byte(emu: AnthropicEmulator) -> None:
    from agentcore.messages import dump_items, load_items

    first = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k")
    items: list[Item] = [UserMessage.of("Hi")]
    await tool_turn(first, emu, items, Reply(reasoning="hmm", tool_calls=[ToolCallReply("get_weather", {})]))
    await first.respond(req(items))
    reloaded = load_items(json.loads(json.dumps(dump_items(items))))  # a new process resuming the session
    second = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k")
    await second.respond(req(reloaded))
    assert emu.requests[-1].raw == emu.requests[-2].raw


async def test_streamed_redacted_thinking_round_trips(model: AnthropicModel, emu: AnthropicEmulator) -> None:
    emu.queue(Reply(reasoning=REDACTED, tool_calls=[ToolCallReply("get_weather", {})]))
    events = [e async for e in model.stream(req([UserMessage.of("Hi")]))]
    done = events[-1]
    assert isinstance(done, ModelResponseDone)
    items: list[Item] = [UserMessage.of("Hi"), *done.response.items]
    assert isinstance(items[1], Reasoning) and items[1].state[0].kind == "redacted_thinking"
    items.append(ToolResult(call_id=items[2].call_id, name="get_weather", output="ok"))  # type: ignore[union-attr]
    await model.respond(req(items))
    assert wire(emu)["messages"][1]["content"][0]["type"] == "redacted_thinking"


# --------------------------------------------------------------------------- live (only with a real key)


@pytest.mark.live
@pytest.mark.skipif(not os.environ.get("ANTHROPIC_API_KEY"), reason="needs ANTHROPIC_API_KEY")
async def test_live_tool_loop_with_thinking() -> None:
    """Against the real API: a thinking tool loop whose signed blocks the API accepts back."""
    model = AnthropicModel(os.environ.get("AGENTCORE_ANTHROPIC_MODEL", "claude-sonnet-4-5"), thinking=1024)
    items: list[Item] = [UserMessage.of("Use get_weather for Paris, then answer in one sentence.")]
    first = await model.respond(req(items, settings=ModelSettings(tool_choice="auto")))
    items += first.items
    for item in first.items:
        if isinstance(item, ToolCall):
            items.append(ToolResult(call_id=item.call_id, name=item.name, output="18°C and sunny"))
    final = await model.respond(req(items))
    assert final.text and final.usage.input_tokens > 0
    await model.aclose()


async def test_a_forced_tool_call_pauses_extended_thinking(emu: AnthropicEmulator) -> None:
    m = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k", thinking=2048)
    await m.respond(req([UserMessage.of("Hi")], settings=ModelSettings(tool_choice="get_weather")))
    assert "thinking" not in wire(emu) and wire(emu)["tool_choice"] == {"type": "tool", "name": "get_weather"}
    await m.respond(req([UserMessage.of("Hi")], settings=ModelSettings(tool_choice="auto")))
    assert wire(emu)["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    await m.aclose()
