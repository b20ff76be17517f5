"""Server-side state as a cache, reasoning replay and the emulator's strictness (OpenAI Responses).

The adapter keeps ``previous_response_id`` plus a watermark in ``request.cache``; whenever the
transcript before the watermark changed, or the server lost the response, it resends everything and
says so in the trace. With ``store=False`` it replays reasoning in place with its encrypted content.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentcore import tracing
from agentcore.errors import (
    InvalidRequestError,
)
from agentcore.messages import (
    AssistantMessage,
    Item,
    ProviderState,
    Reasoning,
    ToolCall,
    ToolResult,
    UserMessage,
)
from agentcore.model import (
    ModelResponseDone,
    ModelSettings,
)
from tests.emulators.base import Reply
from tests.emulators.openai_responses import MODEL, OpenAIResponsesEmulator
from tests.providers.harness import emulator_fixture, span_exporter_fixture
from tests.providers.openai_responses_support import Conversation, call, events, make

emu = emulator_fixture(OpenAIResponsesEmulator, "emu")
spans = span_exporter_fixture()


# --------------------------------------------------------------------------- stateless replay


async def test_store_false_resends_everything_and_replays_reasoning_in_place(
    emu: OpenAIResponsesEmulator,
) -> None:
    emu.queue(Reply(reasoning="Look it up first.", tool_calls=[call()]), Reply(text="Sunny."))
    conv = Conversation(make(emu, store=False))
    first = await conv.turn()
    reasoning, _ = first.items
    assert isinstance(reasoning, Reasoning) and reasoning.summary == "Look it up first."
    state = reasoning.state_for("openai", model=MODEL, kind="reasoning")
    assert state is not None and state.payload["encrypted_content"].startswith("gAAAA")
    await conv.turn()
    body = emu.last_body
    assert body["store"] is False and "previous_response_id" not in body
    assert body["include"] == ["reasoning.encrypted_content"]
    kinds = [i.get("type", "message") for i in body["input"]]
    assert kinds == ["message", "reasoning", "function_call", "function_call_output"]
    assert body["input"][1] == {
        "type": "reasoning",
        "id": state.payload["id"],
        "summary": [{"type": "summary_text", "text": "Look it up first."}],
        "encrypted_content": state.payload["encrypted_content"],
    }
    assert conv.cache == {}


async def test_each_item_is_encoded_once(
    emu: OpenAIResponsesEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make(emu, store=False)
    encoded: list[str] = []
    original = model._encoder._encode

    def counting(item: Item) -> bytes | None:
        encoded.append(item.id)
        return original(item)

    monkeypatch.setattr(model._encoder, "_encode", counting)
    emu.queue(*[Reply(tool_calls=[call()]) for _ in range(4)])
    conv = Conversation(model)
    for _ in range(4):
        await conv.turn()
    assert len(encoded) == len(set(encoded))


async def test_reasoning_from_another_model_or_vendor_is_dropped_never_turned_into_text(
    emu: OpenAIResponsesEmulator,
) -> None:
    mine = Reasoning(
        summary="mine",
        state=(
            ProviderState(
                provider="openai",
                model="gpt-4.1",
                kind="reasoning",
                payload={"id": "rs_x", "summary": [], "encrypted_content": "gAAAAother"},
            ),
        ),
    )
    claude = Reasoning(
        summary="secret thoughts",
        state=(
            ProviderState(
                provider="anthropic", model="claude", kind="thinking", payload={"signature": "sig"}
            ),
        ),
    )
    items: list[Item] = [
        UserMessage.of("hi"),
        mine,
        AssistantMessage(text="hello"),
        claude,
        ToolCall(call_id="toolu_01A", name="get_weather", arguments='{"city":"Paris"}'),
        ToolResult(call_id="toolu_01A", name="get_weather", output="sunny"),
    ]
    emu.queue(Reply(text="done"))
    await Conversation(make(emu, store=False), *items).turn()
    sent = emu.last_body["input"]
    assert [i.get("type", "message") for i in sent] == [
        "message",
        "message",
        "function_call",
        "function_call_output",
    ]
    assert "secret thoughts" not in json.dumps(sent) and "mine" not in json.dumps(sent)


async def test_reasoning_without_its_following_item_is_left_out(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(reasoning="hmm", tool_calls=[call()]), Reply(text="ok"))
    conv = Conversation(make(emu, store=False))
    first = await conv.turn()
    reasoning = first.items[0]
    # A history filter kept the reasoning but removed the call it produced (and its result).
    conv.items = [conv.items[0], reasoning, UserMessage.of("never mind, just say ok")]
    response = await conv.turn()
    assert response.text == "ok"
    assert [i.get("type", "message") for i in emu.last_body["input"]] == ["message", "message"]


async def test_foreign_tool_call_ids_are_remapped_consistently(emu: OpenAIResponsesEmulator) -> None:
    items: list[Item] = [
        UserMessage.of("weather?"),
        ToolCall(call_id="", name="get_weather", arguments='{"city":"Paris"}'),
        ToolResult(call_id="", name="get_weather", output="sunny"),
        ToolCall(call_id="functions.get_weather:0", name="get_weather", arguments='{"city":"Oslo"}'),
        ToolResult(call_id="functions.get_weather:0", name="get_weather", output="rain"),
    ]
    emu.queue(Reply(text="done"))
    await Conversation(make(emu), *items).turn()
    sent = emu.last_body["input"]
    assert sent[1]["call_id"] == sent[2]["call_id"] and sent[1]["call_id"].startswith("call_")
    assert sent[3]["call_id"] == sent[4]["call_id"] != sent[1]["call_id"]


async def test_an_edited_transcript_is_resent_in_full_and_noted(
    emu: OpenAIResponsesEmulator, spans: InMemorySpanExporter
) -> None:
    emu.queue(Reply(tool_calls=[call()]), Reply(text="sunny"), Reply(text="ok"))
    conv = Conversation(make(emu))
    await conv.turn()
    await conv.turn()
    # Someone edits the tool result before the watermark (a redaction, say), then the user goes on.
    user, tool_call, result, answer = conv.items
    assert isinstance(result, ToolResult)
    edited = ToolResult(call_id=result.call_id, name=result.name, output="[redacted]")
    conv.items = [user, tool_call, edited, answer, UserMessage.of("thanks")]
    with tracing.span("chat"):
        await conv.turn()
    body = emu.last_body
    assert "previous_response_id" not in body
    assert len(body["input"]) == 5 and body["input"][2]["output"] == "[redacted]"
    [note] = events(spans, "agentcore.server_state.reset")
    assert note["reason"] == "transcript_changed"


async def test_a_shorter_transcript_is_resent_in_full(
    emu: OpenAIResponsesEmulator, spans: InMemorySpanExporter
) -> None:
    emu.queue(Reply(tool_calls=[call()]), Reply(text="sunny"), Reply(text="ok"))
    conv = Conversation(make(emu))
    await conv.turn()
    await conv.turn()
    # A handoff filter drops the tool traffic before the watermark.
    conv.items = [conv.items[0], conv.items[-1], UserMessage.of("thanks")]
    with tracing.span("chat"):
        await conv.turn()
    assert "previous_response_id" not in emu.last_body and len(emu.last_body["input"]) == 3
    [note] = events(spans, "agentcore.server_state.reset")
    assert note["reason"] == "transcript_shorter"


async def test_an_expired_response_id_falls_back_to_the_full_transcript(
    emu: OpenAIResponsesEmulator, spans: InMemorySpanExporter
) -> None:
    emu.queue(Reply(tool_calls=[call()]), Reply(text="sunny"))
    conv = Conversation(make(emu))
    await conv.turn()
    emu.expire()
    with tracing.span("chat"):
        final = await conv.turn()
    assert final.text == "sunny"
    rejected, resent = emu.requests[-2].body, emu.requests[-1].body
    assert "previous_response_id" in rejected
    assert "previous_response_id" not in resent
    assert [i.get("type", "message") for i in resent["input"]] == [
        "message",
        "function_call",
        "function_call_output",
    ]
    [note] = events(spans, "agentcore.server_state.reset")
    assert note["reason"] == "previous_response_not_found"
    assert conv.cache["response_id"] == final.response_id


async def test_an_expired_response_id_falls_back_when_streaming_too(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(tool_calls=[call()]), Reply(text="sunny"))
    conv = Conversation(make(emu))
    await conv.turn()
    emu.expire()
    out = [e async for e in conv.model.stream(conv.request())]
    assert isinstance(out[-1], ModelResponseDone) and out[-1].response.text == "sunny"
    assert "previous_response_id" not in emu.last_body


async def test_switching_model_resets_the_chain(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(tool_calls=[call()]), Reply(text="sunny"))
    conv = Conversation(make(emu))
    await conv.turn()
    conv.model = make(emu, model="gpt-5.4")
    await conv.turn()
    assert "previous_response_id" not in emu.last_body


async def test_withheld_reasoning_is_reported_in_the_trace(
    emu: OpenAIResponsesEmulator, spans: InMemorySpanExporter
) -> None:
    # Reasoning the server issued for another model, tagged (wrongly) as ours: the server withholds it.
    emu.queue(Reply(reasoning="x", tool_calls=[call()]))
    other = await Conversation(make(emu, model="gpt-5.4", store=False)).turn()
    rs, tc = other.items
    assert isinstance(tc, ToolCall)
    st = rs.state[0]
    relabelled = rs.model_copy(update={"state": (st.model_copy(update={"model": MODEL}),)})
    emu.queue(Reply(text="ok"))
    with tracing.span("chat"):
        result = ToolResult(call_id=tc.call_id, name="get_weather", output="sunny")
        await Conversation(make(emu, store=False), UserMessage.of("q"), relabelled, tc, result).turn()
    [note] = events(spans, "agentcore.openai.reasoning_withheld")
    assert note["count"] == 1 and list(note["reasons"]) == ["model_mismatch"]


# --------------------------------------------------------------------------- the emulator is strict


async def test_emulator_rejects_unknown_top_level_fields(emu: OpenAIResponsesEmulator) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await Conversation(make(emu)).turn(settings=ModelSettings(extra={"temprature": 1}))
    assert info.value.body == {
        "message": "Unknown parameter: 'temprature'.",
        "type": "invalid_request_error",
        "param": "temprature",
        "code": "unknown_parameter",
    }


async def test_emulator_rejects_tool_outputs_without_a_call(emu: OpenAIResponsesEmulator) -> None:
    items: list[Item] = [UserMessage.of("hi"), ToolResult(call_id="call_nope", name="x", output="1")]
    with pytest.raises(
        InvalidRequestError, match="No tool call found for function call output with call_id call_nope"
    ):
        await Conversation(make(emu), *items).turn()


async def test_emulator_rejects_calls_left_without_output(emu: OpenAIResponsesEmulator) -> None:
    items: list[Item] = [UserMessage.of("hi"), ToolCall(call_id="call_1", name="get_weather", arguments="{}")]
    with pytest.raises(InvalidRequestError, match="No tool output found for function call call_1"):
        await Conversation(make(emu), *items).turn()


async def test_emulator_rejects_reasoning_it_did_not_issue(emu: OpenAIResponsesEmulator) -> None:
    forged = Reasoning(
        state=(
            ProviderState(
                provider="openai",
                model=MODEL,
                kind="reasoning",
                payload={"id": "rs_1", "summary": [], "encrypted_content": "gAAAAforged"},
            ),
        )
    )
    items: list[Item] = [
        UserMessage.of("hi"),
        forged,
        AssistantMessage(text="hello"),
        UserMessage.of("again"),
    ]
    with pytest.raises(InvalidRequestError) as info:
        await Conversation(make(emu, store=False), *items).turn()
    assert info.value.body["code"] == "invalid_encrypted_content"


async def test_emulator_answers_unknown_previous_response_id_with_the_vendor_error(
    emu: OpenAIResponsesEmulator,
) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        await client.responses.create(model=MODEL, input="hi", previous_response_id="resp_missing")
    assert info.value.code == "previous_response_not_found"
    assert info.value.param == "previous_response_id"
    assert info.value.message.endswith("Previous response with id 'resp_missing' not found.")


INCLUDE: list[Any] = ["reasoning.encrypted_content"]


async def test_emulator_rejects_reasoning_without_its_following_item(emu: OpenAIResponsesEmulator) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k", max_retries=0)
    emu.queue(Reply(reasoning="r", text="a"))
    first = await client.responses.create(model=MODEL, input="hi", store=False, include=INCLUDE)
    rs = first.output[0].model_dump(exclude_none=True)
    with pytest.raises(openai.BadRequestError, match="without its required following item"):
        await client.responses.create(model=MODEL, input=[{"role": "user", "content": "hi"}, rs], store=False)


async def test_stored_responses_can_be_retrieved(emu: OpenAIResponsesEmulator) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k", max_retries=0)
    emu.queue(Reply(text="stored"))
    created = await client.responses.create(model=MODEL, input="hi")
    fetched = await client.responses.retrieve(created.id)
    assert fetched.output_text == "stored"


async def test_a_server_that_keeps_nothing_stops_the_chaining(
    emu: OpenAIResponsesEmulator, spans: InMemorySpanExporter
) -> None:
    # Zero data retention (or a proxy that stores nothing): every previous_response_id is unknown.
    emu.queue(*[Reply(tool_calls=[call()]) for _ in range(4)])
    conv = Conversation(make(emu))
    with tracing.span("chat"):
        for _ in range(4):
            await conv.turn()
            emu.expire()
    chained = ["previous_response_id" in r.body for r in emu.requests]
    assert chained == [False, True, False, True, False, False]
    assert len(events(spans, "agentcore.server_state.disabled")) == 1


async def test_emulator_rejects_reasoning_followed_by_another_item_than_its_own(
    emu: OpenAIResponsesEmulator,
) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k", max_retries=0)
    emu.queue(Reply(reasoning="r", tool_calls=[call("Paris", "call_a"), call("Oslo", "call_b")]))
    first = await client.responses.create(model=MODEL, input="hi", store=False, include=INCLUDE)
    rs, fc_a, fc_b = (o.model_dump(exclude_none=True) for o in first.output)
    outputs = [{"type": "function_call_output", "call_id": c, "output": "x"} for c in ("call_a", "call_b")]
    with pytest.raises(openai.BadRequestError, match="without its required following item"):
        await client.responses.create(
            model=MODEL, input=[{"role": "user", "content": "hi"}, rs, fc_b, fc_a, *outputs], store=False
        )
    emu.queue(Reply(text="ok"))
    ok = await client.responses.create(
        model=MODEL, input=[{"role": "user", "content": "hi"}, rs, fc_a, fc_b, *outputs], store=False
    )
    assert ok.output_text == "ok"
