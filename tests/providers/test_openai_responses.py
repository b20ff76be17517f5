"""The OpenAI Responses adapter against its local emulator: request shape, tools, streaming, usage, errors.

Every test drives the real ``openai`` SDK over HTTP to ``tests/emulators/openai_responses.py`` on
127.0.0.1. Server-side state and reasoning replay are in ``test_openai_responses_state.py``, cassette
fidelity in ``test_openai_responses_fidelity.py``.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

import openai
import pytest
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
    Handoff,
    ImagePart,
    Reasoning,
    TextPart,
    ToolCall,
    UserMessage,
)
from agentcore.model import (
    ModelReasoningDelta,
    ModelRequest,
    ModelResponseDone,
    ModelSettings,
    ModelTextDelta,
    ModelToolCallDelta,
    OutputSchema,
)
from agentcore.providers.openai.responses import OpenAIResponsesModel
from agentcore.registry import resolve_model
from tests.emulators.base import Reply
from tests.emulators.openai_responses import MODEL, OpenAIResponsesEmulator
from tests.providers.harness import emulator_fixture, span_exporter_fixture
from tests.providers.openai_responses_support import WEATHER, Conversation, call, events, make

emu = emulator_fixture(OpenAIResponsesEmulator, "emu")
spans = span_exporter_fixture()


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


# --------------------------------------------------------------------------- through the runner


async def test_a_session_keeps_the_response_chain_across_runs(emu: OpenAIResponsesEmulator) -> None:
    from agentcore import Agent, Runner, tool
    from agentcore.sessions.base import InMemorySession

    @tool
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return f"sunny in {city}"

    agent = Agent(name="weather", model=make(emu), instructions="Be brief.", tools=[get_weather])
    session = InMemorySession()
    emu.queue(Reply(tool_calls=[call()]), Reply(text="Sunny."), Reply(text="Still sunny."))
    first = await Runner.run(agent, "Weather in Paris?", session=session)
    assert first.final_output == "Sunny."
    second = await Runner.run(agent, "And now?", session=session)
    assert second.final_output == "Still sunny."
    bodies = [r.body for r in emu.requests]
    assert [len(b["input"]) for b in bodies] == [1, 1, 1]
    assert bodies[1]["input"][0]["type"] == "function_call_output"
    assert bodies[2]["input"] == [{"role": "user", "content": "And now?"}]
    assert bodies[2]["previous_response_id"] and bodies[2]["instructions"] == "Be brief."


# --------------------------------------------------------------------------- live (only with a real key)


@pytest.mark.live
@pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"), reason="needs OPENAI_API_KEY")
@pytest.mark.parametrize("store", [True, False])
async def test_live_tool_loop(store: bool) -> None:
    model = OpenAIResponsesModel(os.environ.get("AGENTCORE_OPENAI_MODEL", "gpt-5-mini"), store=store)
    conv = Conversation(model)
    first = await conv.turn(settings=ModelSettings(tool_choice="required", reasoning_effort="low"))
    assert any(isinstance(i, ToolCall) for i in first.items)
    final = await conv.turn(settings=ModelSettings(reasoning_effort="low"))
    assert final.text and final.usage.input_tokens > 0
    await model.aclose()


async def test_output_schema_names_are_made_acceptable(emu: OpenAIResponsesEmulator) -> None:
    schema = {"type": "object", "properties": {}, "required": [], "additionalProperties": False}
    emu.queue(Reply(text="{}"))
    await Conversation(make(emu)).turn(output_schema=OutputSchema("my.module.Answer v2", schema))
    assert emu.last_body["text"]["format"]["name"] == "my_module_Answer_v2"
