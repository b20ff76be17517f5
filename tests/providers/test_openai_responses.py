"""The OpenAI Responses adapter against its local emulator: wire shapes, server state, streaming, errors.

Every test drives the real ``openai`` SDK over HTTP to ``tests/emulators/openai_responses.py`` on
127.0.0.1. Cassette fidelity checks live in ``test_openai_responses_fidelity.py``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from agentcore.providers.openai_responses import OpenAIResponsesModel
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentcore import tracing
from agentcore.errors import (
    AuthenticationError,
    ContextTooLongError,
    InvalidRequestError,
    ModelStreamError,
    ModelTimeoutError,
    OverloadedError,
    RateLimitError,
    ServerError,
    TransportError,
)
from agentcore.messages import (
    AssistantMessage,
    Handoff,
    ImagePart,
    Item,
    ProviderState,
    Reasoning,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
)
from agentcore.model import (
    ModelReasoningDelta,
    ModelRequest,
    ModelResponse,
    ModelResponseDone,
    ModelSettings,
    ModelTextDelta,
    ModelToolCallDelta,
    OutputSchema,
    ToolSpec,
)
from agentcore.registry import resolve_model
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_responses import MODEL, OpenAIResponsesEmulator

WEATHER = ToolSpec(
    "get_weather",
    "Current weather in a city.",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    strict=True,
)


@pytest.fixture
def emu() -> Iterator[OpenAIResponsesEmulator]:
    emulator = OpenAIResponsesEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


def make(emu: OpenAIResponsesEmulator, **kw: Any) -> OpenAIResponsesModel:
    return OpenAIResponsesModel(
        kw.pop("model", MODEL), base_url=emu.base_url + "/v1", api_key="test-key", **kw
    )


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """Record agentcore's spans in memory (restored afterwards)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_provider", provider)
    monkeypatch.setattr(tracing, "_tracer", None)
    return exporter


def events(exporter: InMemorySpanExporter, name: str) -> list[dict[str, Any]]:
    return [
        dict(e.attributes or {}) for s in exporter.get_finished_spans() for e in s.events if e.name == name
    ]


class Conversation:
    """A transcript driven turn by turn, the way the runner does it."""

    def __init__(self, model: OpenAIResponsesModel, *items: Item, tools: tuple[ToolSpec, ...] = (WEATHER,)):
        self.model = model
        self.items: list[Item] = list(items) or [UserMessage.of("What's the weather in Paris?")]
        self.cache: dict[str, Any] = {}
        self.tools = tools

    def request(self, **kw: Any) -> ModelRequest:
        return ModelRequest("Be brief.", list(self.items), tools=list(self.tools), cache=self.cache, **kw)

    async def turn(self, **kw: Any) -> ModelResponse:
        response = await self.model.respond(self.request(**kw))
        self.absorb(response)
        return response

    def absorb(self, response: ModelResponse) -> None:
        self.items += response.items
        for item in response.items:
            if isinstance(item, ToolCall):
                self.items.append(ToolResult(call_id=item.call_id, name=item.name, output="sunny, 21C"))


def call(city: str = "Paris", call_id: str | None = None) -> ToolCallReply:
    return ToolCallReply("get_weather", {"city": city}, call_id=call_id)


# --------------------------------------------------------------------------- request shape


async def test_first_request_has_the_recorded_shape(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(text="Sunny."))
    response = await Conversation(make(emu)).turn()
    assert response.text == "Sunny."
    body = emu.last_body
    assert body["model"] == MODEL
    assert body["instructions"] == "Be brief."
    assert body["input"] == [{"role": "user", "content": "What's the weather in Paris?"}]
    assert body["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": WEATHER.parameters,
            "strict": True,
        }
    ]
    assert body["store"] is True
    assert body["include"] == ["reasoning.encrypted_content"]
    assert "previous_response_id" not in body and "stream" not in body


async def test_settings_are_translated_and_unsupported_ones_dropped_with_a_note(
    emu: OpenAIResponsesEmulator, spans: InMemorySpanExporter
) -> None:
    emu.queue(Reply(text="ok"))
    settings = ModelSettings(
        temperature=0.2,
        top_p=0.9,
        max_tokens=256,
        tool_choice="get_weather",
        parallel_tool_calls=False,
        reasoning_effort="low",
        reasoning_summary=True,
        stop=("END",),
        seed=7,
        extra={"metadata": {"run": "42"}},
    )
    with tracing.span("test"):
        await Conversation(make(emu)).turn(settings=settings)
    body = emu.last_body
    assert body["temperature"] == 0.2 and body["top_p"] == 0.9
    assert body["max_output_tokens"] == 256
    assert body["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert body["parallel_tool_calls"] is False
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}
    assert body["metadata"] == {"run": "42"}
    assert "stop" not in body and "seed" not in body
    dropped = {e["setting"] for e in events(spans, "agentcore.setting.dropped")}
    assert dropped == {"stop", "seed"}


async def test_user_images_and_files_become_input_parts(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(text="a cat"))
    msg = UserMessage(
        content=(
            TextPart(text="What is this?"),
            ImagePart(url="https://example.invalid/cat.png"),
            ImagePart(data="iVBORw0KGgo=", media_type="image/png"),
        )
    )
    await Conversation(make(emu), msg).turn()
    parts = emu.last_body["input"][0]["content"]
    assert [p["type"] for p in parts] == ["input_text", "input_image", "input_image"]
    assert parts[1]["image_url"] == "https://example.invalid/cat.png"
    assert parts[2]["image_url"] == "data:image/png;base64,iVBORw0KGgo="


async def test_handoffs_are_not_sent(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(text="hello from billing"))
    conv = Conversation(make(emu), UserMessage.of("hi"), Handoff(from_agent="triage", to_agent="billing"))
    await conv.turn()
    assert emu.last_body["input"] == [{"role": "user", "content": "hi"}]


async def test_structured_output_uses_text_format_json_schema(emu: OpenAIResponsesEmulator) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "temp_c": {"type": "number"}},
        "required": ["city", "temp_c"],
        "additionalProperties": False,
    }
    emu.queue(Reply(text='{"city":"Paris","temp_c":21}'))
    response = await Conversation(make(emu)).turn(output_schema=OutputSchema("weather", schema))
    assert json.loads(response.text) == {"city": "Paris", "temp_c": 21}
    assert emu.last_body["text"] == {
        "format": {"type": "json_schema", "name": "weather", "schema": schema, "strict": True}
    }


async def test_a_schema_that_is_not_strict_compatible_is_a_400(emu: OpenAIResponsesEmulator) -> None:
    loose = {"type": "object", "properties": {"city": {"type": "string"}}}
    with pytest.raises(InvalidRequestError) as info:
        await Conversation(make(emu)).turn(output_schema=OutputSchema("weather", loose))
    assert info.value.status_code == 400
    assert info.value.body["code"] == "invalid_json_schema"


# --------------------------------------------------------------------------- tools and server-side state


async def test_tool_loop_chains_previous_response_id_and_sends_only_new_items(
    emu: OpenAIResponsesEmulator,
) -> None:
    emu.queue(Reply(tool_calls=[call()]), Reply(text="It is sunny."))
    conv = Conversation(make(emu))
    first = await conv.turn()
    [tool_call] = [i for i in first.items if isinstance(i, ToolCall)]
    assert first.finish_reason == "tool_calls"
    final = await conv.turn()
    assert final.text == "It is sunny." and final.finish_reason == "stop"
    second = emu.requests[1].body
    assert second["previous_response_id"] == first.response_id
    assert second["input"] == [
        {"type": "function_call_output", "call_id": tool_call.call_id, "output": "sunny, 21C"}
    ]
    assert second["instructions"] == "Be brief." and second["tools"]
    assert conv.cache["response_id"] == final.response_id
    assert conv.cache["covered"] == len(conv.items)


async def test_parallel_tool_calls_are_answered_together(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(tool_calls=[call("Paris"), call("Oslo")]), Reply(text="Both sunny."))
    conv = Conversation(make(emu))
    first = await conv.turn()
    calls = [i for i in first.items if isinstance(i, ToolCall)]
    assert [json.loads(c.arguments)["city"] for c in calls] == ["Paris", "Oslo"]
    await conv.turn()
    sent = emu.last_body["input"]
    assert [i["call_id"] for i in sent] == [c.call_id for c in calls]


async def test_request_bytes_stay_flat_with_server_state(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(*[Reply(tool_calls=[call()]) for _ in range(12)])
    conv = Conversation(make(emu))
    for _ in range(12):
        await conv.turn()
    sizes = [len(r.raw) for r in emu.requests[1:]]
    assert max(sizes) - min(sizes) <= 8  # only the ids differ
    assert all(len(r.body["input"]) == 1 for r in emu.requests[1:])


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


# --------------------------------------------------------------------------- streaming


async def test_streaming_yields_deltas_and_one_final_response(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(reasoning="Check the tool.", tool_calls=[call()]), Reply(text="It is sunny in Paris."))
    conv = Conversation(make(emu))
    first = [e async for e in conv.model.stream(conv.request())]
    deltas = [e for e in first if isinstance(e, ModelToolCallDelta)]
    assert deltas[0].name == "get_weather" and deltas[0].call_id
    assert "".join(d.arguments for d in deltas) == '{"city": "Paris"}'
    assert "".join(e.text for e in first if isinstance(e, ModelReasoningDelta)) == "Check the tool."
    done = [e for e in first if isinstance(e, ModelResponseDone)]
    assert len(done) == 1 and first[-1] is done[0]
    assert [type(i) for i in done[0].response.items] == [Reasoning, ToolCall]
    conv.absorb(done[0].response)
    second = [e async for e in conv.model.stream(conv.request())]
    assert "".join(e.text for e in second if isinstance(e, ModelTextDelta)) == "It is sunny in Paris."
    final = second[-1]
    assert isinstance(final, ModelResponseDone) and final.response.text == "It is sunny in Paris."
    assert final.response.usage.output_tokens == 7
    assert emu.last_body["stream"] is True and "previous_response_id" in emu.last_body


async def test_a_mid_stream_error_event_is_a_retryable_stream_error(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(text="This will break", stream_error=True))
    conv = Conversation(make(emu))
    seen: list[Any] = []
    with pytest.raises(ModelStreamError) as info:
        async for event in conv.model.stream(conv.request()):
            seen.append(event)
    assert info.value.retryable
    assert [type(e) for e in seen] == [ModelTextDelta]
    assert conv.cache == {}


async def test_validation_errors_on_a_stream_are_plain_json(emu: OpenAIResponsesEmulator) -> None:
    conv = Conversation(make(emu))
    with pytest.raises(InvalidRequestError) as info:
        async for _ in conv.model.stream(conv.request(settings=ModelSettings(temperature=-1))):
            pass
    assert info.value.body["code"] == "decimal_below_min_value"


# --------------------------------------------------------------------------- usage and errors


async def test_usage_includes_cached_and_reasoning_tokens(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(
        Reply(text="hi", reasoning="two words", input_tokens=2087, cached_tokens=2048, output_tokens=10)
    )
    usage = (await Conversation(make(emu)).turn()).usage
    assert usage.requests == 1
    assert usage.input_tokens == 2087 and usage.cached_input_tokens == 2048
    assert usage.reasoning_tokens == 2 and usage.output_tokens == 12


@pytest.mark.parametrize(
    ("reply", "error", "attrs"),
    [
        (
            Reply(error=(429, "Rate limit reached"), headers={"retry-after": "3"}),
            RateLimitError,
            {"retry_after": 3.0},
        ),
        (
            Reply(error=(429, "slow down"), headers={"retry-after-ms": "250"}),
            RateLimitError,
            {"retry_after": 0.25},
        ),
        (Reply(error=(500, "boom")), ServerError, {"status_code": 500}),
        (Reply(error=(503, "overloaded")), OverloadedError, {"status_code": 503}),
        (Reply(error=(400, "bad")), InvalidRequestError, {"status_code": 400}),
        (Reply(error=(401, "Incorrect API key provided")), AuthenticationError, {"status_code": 401}),
        (
            Reply(error=(400, "Your input exceeds the context window"), error_type="context_length_exceeded"),
            ContextTooLongError,
            {"status_code": 400},
        ),
    ],
)
async def test_http_errors_map_to_typed_errors(
    emu: OpenAIResponsesEmulator, reply: Reply, error: type[Exception], attrs: dict[str, Any]
) -> None:
    emu.queue(reply)
    with pytest.raises(error) as info:
        await Conversation(make(emu)).turn()
    for key, value in attrs.items():
        assert getattr(info.value, key) == value
    assert info.value.provider == "openai"  # type: ignore[attr-defined]


async def test_streamed_requests_map_http_errors_too(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(error=(429, "slow down"), headers={"retry-after": "1"}))
    conv = Conversation(make(emu))
    with pytest.raises(RateLimitError) as info:
        async for _ in conv.model.stream(conv.request()):
            pass
    assert info.value.retry_after == 1.0


async def test_connection_refused_is_a_transport_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = OpenAIResponsesModel(MODEL, base_url=f"http://127.0.0.1:{port}/v1", api_key="k")
    with pytest.raises(TransportError):
        await model.respond(ModelRequest(None, [UserMessage.of("hi")]))


async def test_a_silent_server_is_a_timeout() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        model = OpenAIResponsesModel(MODEL, base_url=f"http://127.0.0.1:{port}/v1", api_key="k", timeout=0.3)
        with pytest.raises(ModelTimeoutError):
            await model.respond(ModelRequest(None, [UserMessage.of("hi")]))


async def test_a_missing_api_key_fails_on_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = OpenAIResponsesModel(MODEL, base_url="http://127.0.0.1:9/v1")
    with pytest.raises(AuthenticationError):
        await model.respond(ModelRequest(None, [UserMessage.of("hi")]))


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


async def test_emulator_rejects_reasoning_without_its_following_item(emu: OpenAIResponsesEmulator) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k", max_retries=0)
    emu.queue(Reply(reasoning="r", text="a"))
    first = await client.responses.create(model=MODEL, input="hi", store=False)
    rs = first.output[0].model_dump(exclude_none=True)
    with pytest.raises(openai.BadRequestError, match="without its required following item"):
        await client.responses.create(model=MODEL, input=[{"role": "user", "content": "hi"}, rs], store=False)


async def test_stored_responses_can_be_retrieved(emu: OpenAIResponsesEmulator) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k", max_retries=0)
    emu.queue(Reply(text="stored"))
    created = await client.responses.create(model=MODEL, input="hi")
    fetched = await client.responses.retrieve(created.id)
    assert fetched.output_text == "stored"


# --------------------------------------------------------------------------- construction


def test_registry_builds_the_adapter_and_reads_the_server_address() -> None:
    model = resolve_model("openai:gpt-5.5", base_url="http://127.0.0.1:8123/v1", api_key="k")
    assert isinstance(model, OpenAIResponsesModel)
    assert (model.provider, model.system, model.model_name) == ("openai", "openai", "gpt-5.5")
    assert (model.server_address, model.server_port) == ("127.0.0.1", 8123)


async def test_a_prebuilt_client_is_used_with_sdk_retries_off(emu: OpenAIResponsesEmulator) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k")  # max_retries=2 by default
    emu.queue(Reply(error=(500, "boom")), Reply(text="second"))
    model = OpenAIResponsesModel(MODEL, client=client)
    with pytest.raises(ServerError):
        await model.respond(ModelRequest(None, [UserMessage.of("hi")]))
    assert len(emu.requests) == 1  # the SDK did not retry on its own


async def test_closing_the_adapter_leaves_a_client_passed_in_open(emu: OpenAIResponsesEmulator) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k")
    model = OpenAIResponsesModel(MODEL, client=client)
    await model.aclose()
    emu.queue(Reply(text="still open"))
    assert (await client.responses.create(model=MODEL, input="hi")).output_text == "still open"
    own = make(emu)
    await own.aclose()
    assert own._client is not None and own._client.is_closed()
