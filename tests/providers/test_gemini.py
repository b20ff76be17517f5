"""The ``google`` adapter (generateContent) against its emulator: wire shapes, thought signatures, ids, errors.

Every test drives the real google-genai client over HTTP to the local Gemini emulator
(``tests/emulators/gemini.py``), which answers 400 the way the real API does when a request would be
rejected. Cassette tests check both sides against real recordings in ``../shared/cassettes/gemini``.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
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
from agentcore.model import (
    ModelRequest,
    ModelResponseDone,
    ModelSettings,
    ModelTextDelta,
    ModelToolCallDelta,
    OutputSchema,
    ToolSpec,
)
from agentcore.providers.gemini.common import DUMMY_THOUGHT_SIGNATURE, gemini_schema
from agentcore.providers.gemini.generate_content import GeminiModel
from agentcore.registry import resolve_model
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.gemini import MODEL, GeminiEmulator
from tests.providers.harness import CASSETTES as CASSETTE_ROOT
from tests.providers.harness import TIME, WEATHER, emulator_fixture, span_exporter_fixture

CASSETTES = CASSETTE_ROOT / "gemini"


emulator = emulator_fixture(GeminiEmulator, "emulator")
spans = span_exporter_fixture()


def model_for(emu: GeminiEmulator, name: str = MODEL, **kw: Any) -> GeminiModel:
    return GeminiModel(name, base_url=emu.base_url, api_key="test-key", **kw)


def req(items: list[Item], **kw: Any) -> ModelRequest:
    return ModelRequest(kw.pop("instructions", "Be brief."), items, **kw)


async def tool_turn(
    model: GeminiModel, emu: GeminiEmulator, *calls: ToolCallReply, **reply: Any
) -> list[Item]:
    """A user question, a model turn with ``calls``, and the tool results: the transcript so far."""
    emu.queue(Reply(tool_calls=list(calls), **reply))
    items: list[Item] = [UserMessage.of("What is the weather?")]
    response = await model.respond(req(items, tools=[WEATHER, TIME]))
    items += response.items
    for call in response.items:
        if isinstance(call, ToolCall):
            items.append(ToolResult(call_id=call.call_id, name=call.name, output=f"{call.name} ok"))
    return items


# --------------------------------------------------------------------------- registry and basics


def test_registry_builds_the_adapter() -> None:
    model = resolve_model("google:gemini-2.5-pro", api_key="k", base_url="http://127.0.0.1:9")
    assert isinstance(model, GeminiModel)
    assert (model.provider, model.system, model.model_name) == ("google", "gcp.gemini", "gemini-2.5-pro")
    assert (model.server_address, model.server_port) == ("127.0.0.1", 9)


async def test_plain_text_request_and_usage(emulator: GeminiEmulator) -> None:
    emulator.queue(Reply(text="Paris.", input_tokens=40, output_tokens=5, cached_tokens=30))
    response = await model_for(emulator).respond(req([UserMessage.of("Capital of France?")]))
    assert response.text == "Paris."
    assert response.finish_reason == "stop"
    # promptTokenCount already includes the cached tokens
    assert response.usage.input_tokens == 40
    assert response.usage.cached_input_tokens == 30
    assert response.usage.output_tokens == 5 and response.usage.reasoning_tokens == 0
    body = emulator.last_body
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Capital of France?"}]}]
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert emulator.requests[-1].path == f"/v1beta/models/{MODEL}:generateContent"
    assert emulator.requests[-1].headers["x-goog-api-key"] == "test-key"


def test_usage_metadata_is_normalized() -> None:
    """Prompt includes cached tokens; thoughts are counted apart from candidates and are output too."""
    from agentcore.providers.gemini.generate_content import _usage

    usage = _usage(
        {
            "promptTokenCount": 29,
            "cachedContentTokenCount": 5,
            "candidatesTokenCount": 10,
            "thoughtsTokenCount": 202,
        }
    )
    assert (usage.input_tokens, usage.cached_input_tokens) == (29, 5)
    assert (usage.output_tokens, usage.reasoning_tokens) == (212, 202)
    assert usage.requests == 1


async def test_settings_map_to_generation_config(emulator: GeminiEmulator) -> None:
    settings = ModelSettings(
        temperature=0.2, top_p=0.9, max_tokens=100, stop=("END",), seed=7, reasoning_effort="low",
        reasoning_summary=True, extra={"generationConfig": {"topK": 3}},
    )  # fmt: skip
    await model_for(emulator).respond(req([UserMessage.of("hi")], settings=settings))
    assert emulator.last_body["generationConfig"] == {
        "temperature": 0.2,
        "topP": 0.9,
        "maxOutputTokens": 100,
        "stopSequences": ["END"],
        "seed": 7,
        "thinkingConfig": {"thinkingLevel": "LOW", "includeThoughts": True},
        "topK": 3,
    }
    await model_for(emulator, "gemini-2.5-flash").respond(
        req([UserMessage.of("hi")], settings=ModelSettings(reasoning_effort="medium"))
    )
    assert emulator.last_body["generationConfig"] == {"thinkingConfig": {"thinkingBudget": 8192}}


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("required", {"mode": "ANY"}),
        ("none", {"mode": "NONE"}),
        ("get_time", {"mode": "ANY", "allowedFunctionNames": ["get_time"]}),
    ],
)
async def test_tool_choice_maps_to_tool_config(emulator: GeminiEmulator, choice: str, config: Any) -> None:
    request = req([UserMessage.of("hi")], tools=[WEATHER, TIME], settings=ModelSettings(tool_choice=choice))
    await model_for(emulator).respond(request)
    assert emulator.last_body["toolConfig"] == {"functionCallingConfig": config}


async def test_structured_output_uses_response_json_schema(emulator: GeminiEmulator) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "kind": {"const": "capital"},
            "n": {"exclusiveMinimum": 0},
        },
        "required": ["city"],
    }
    emulator.queue(Reply(text='{"city": "Paris"}'))
    response = await model_for(emulator).respond(
        req([UserMessage.of("hi")], output_schema=OutputSchema("city", schema))
    )
    assert json.loads(response.text) == {"city": "Paris"}
    gc = emulator.last_body["generationConfig"]
    assert gc["responseMimeType"] == "application/json"
    assert gc["responseJsonSchema"] == {
        "type": "object",
        "properties": {"city": {"type": "string"}, "kind": {"enum": ["capital"]}, "n": {}},
        "required": ["city"],
    }


def test_schema_conversion_keeps_what_gemini_accepts() -> None:
    schema = {
        "$schema": "x",
        "type": "object",
        "title": "Args",
        "additionalProperties": False,
        "$defs": {"Mode": {"enum": [1, 2], "examples": [1]}},
        "properties": {
            "mode": {"$ref": "#/$defs/Mode"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "kind": {"anyOf": [{"type": "string"}, {"type": "null"}], "discriminator": {"propertyName": "k"}},
        },
    }
    out = gemini_schema(schema)
    assert "$schema" not in out and "discriminator" not in out["properties"]["kind"]
    assert out["$defs"]["Mode"] == {"type": "string", "enum": ["1", "2"]}
    assert out["additionalProperties"] is False and out["title"] == "Args"
    assert out["properties"]["tags"] == schema["properties"]["tags"]  # type: ignore[index]
    assert schema["$schema"] == "x"  # the input is not changed


async def test_tools_are_function_declarations_with_json_schema(emulator: GeminiEmulator) -> None:
    tool = ToolSpec(
        "lookup", "Look up.", {"$schema": "x", "type": "object", "properties": {"q": {"type": "string"}}}
    )
    await model_for(emulator).respond(req([UserMessage.of("hi")], tools=[tool]))
    assert emulator.last_body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "lookup",
                    "description": "Look up.",
                    "parametersJsonSchema": {"type": "object", "properties": {"q": {"type": "string"}}},
                }
            ]
        }
    ]


# --------------------------------------------------------------------------- function calls, ids, roles


async def test_function_calls_without_ids_get_stable_ids_and_pair_by_name(emulator: GeminiEmulator) -> None:
    model = model_for(emulator)
    items = await tool_turn(
        model, emulator, ToolCallReply("get_weather", {"city": "Oslo"}), ToolCallReply("get_time", {})
    )
    calls = [i for i in items if isinstance(i, ToolCall)]
    assert [c.name for c in calls] == ["get_weather", "get_time"]
    assert len({c.call_id for c in calls}) == 2 and all(c.call_id for c in calls)
    assert json.loads(calls[0].arguments) == {"city": "Oslo"}

    emulator.queue(Reply(text="Sunny."))
    response = await model.respond(req(items, tools=[WEATHER, TIME]))
    assert response.text == "Sunny."
    contents = emulator.last_body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    # the model turn comes back verbatim: no invented ids, the signature on the first call only
    assert contents[1]["parts"][0]["functionCall"] == {"name": "get_weather", "args": {"city": "Oslo"}}
    assert "thoughtSignature" in contents[1]["parts"][0] and "thoughtSignature" not in contents[1]["parts"][1]
    # all results of the turn in one user content, as functionResponse parts, paired by name and order
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"output": "get_weather ok"}}},
        {"functionResponse": {"name": "get_time", "response": {"output": "get_time ok"}}},
    ]


async def test_function_call_ids_from_the_api_are_echoed(emulator: GeminiEmulator) -> None:
    model = model_for(emulator)
    items = await tool_turn(model, emulator, ToolCallReply("get_time", {}, call_id="fc-1"))
    assert [i.call_id for i in items if isinstance(i, ToolCall)] == ["fc-1"]
    await model.respond(req(items, tools=[WEATHER, TIME]))
    contents = emulator.last_body["contents"]
    assert contents[1]["parts"][0]["functionCall"]["id"] == "fc-1"
    assert contents[2]["parts"][0]["functionResponse"]["id"] == "fc-1"


async def test_tool_errors_go_back_under_the_error_key(emulator: GeminiEmulator) -> None:
    model = model_for(emulator)
    items = await tool_turn(model, emulator, ToolCallReply("get_time", {}))
    call = items[-2]
    assert isinstance(call, ToolCall)
    items[-1] = ToolResult(call_id=call.call_id, name="get_time", output="clock broken", is_error=True)
    await model.respond(req(items, tools=[WEATHER, TIME]))
    part = emulator.last_body["contents"][2]["parts"][0]
    assert part["functionResponse"]["response"] == {"error": "clock broken"}


# --------------------------------------------------------------------------- thought signatures


async def test_signature_is_replayed_on_the_exact_part_it_came_on(emulator: GeminiEmulator) -> None:
    model = model_for(emulator)
    emulator.queue(Reply(text="Hello there.", reasoning="The user greets me."))
    first = await model.respond(req([UserMessage.of("hi")]))
    reasoning, answer = first.items
    assert isinstance(reasoning, Reasoning) and reasoning.summary == "The user greets me."
    assert isinstance(answer, AssistantMessage)
    text_sig = answer.state_for("google", model=MODEL, kind="text_signature")
    assert text_sig is not None  # without calls, Gemini signs the last part: the text part

    items: list[Item] = [UserMessage.of("hi"), *first.items, UserMessage.of("And now?")]
    await model.respond(req(items))
    model_turn = emulator.last_body["contents"][1]
    assert model_turn == {
        "role": "model",
        "parts": [
            {"text": "The user greets me.", "thought": True},
            {"text": "Hello there.", "thoughtSignature": text_sig.payload["signature"]},
        ],
    }


async def test_streamed_signature_on_its_own_chunk_joins_the_preceding_part(emulator: GeminiEmulator) -> None:
    emulator.queue(Reply(text="A long streamed answer."))
    events = [e async for e in model_for(emulator).stream(req([UserMessage.of("hi")]))]
    deltas = [e.text for e in events if isinstance(e, ModelTextDelta)]
    assert "".join(deltas) == "A long streamed answer." and len(deltas) == 2
    done = events[-1]
    assert isinstance(done, ModelResponseDone)
    (message,) = done.response.items
    assert isinstance(message, AssistantMessage) and message.text == "A long streamed answer."
    assert message.state_for("google", kind="text_signature") is not None
    assert emulator.requests[-1].path.endswith(":streamGenerateContent?alt=sse")


async def test_streamed_tool_calls(emulator: GeminiEmulator) -> None:
    emulator.queue(Reply(tool_calls=[ToolCallReply("get_weather", {"city": "Rome"})]))
    events = [e async for e in model_for(emulator).stream(req([UserMessage.of("hi")], tools=[WEATHER]))]
    (delta,) = [e for e in events if isinstance(e, ModelToolCallDelta)]
    assert delta.name == "get_weather" and json.loads(delta.arguments) == {"city": "Rome"}
    done = events[-1]
    assert isinstance(done, ModelResponseDone) and done.response.finish_reason == "tool_calls"
    (call,) = done.response.items
    assert isinstance(call, ToolCall) and call.call_id == delta.call_id


def foreign_tool_loop(provider: str, model: str | None) -> list[Item]:
    """A transcript made elsewhere: reasoning, then a tool call in flight with its result."""
    state = (ProviderState(provider=provider, model=model, kind="encrypted_reasoning", payload="opaque"),)
    return [
        UserMessage.of("What is the weather in Oslo?"),
        Reasoning(summary="I should call the tool.", state=state),
        ToolCall(call_id="call_Ab3|x/9", name="get_weather", arguments='{"city": "Oslo"}', state=state),
        ToolResult(call_id="call_Ab3|x/9", name="get_weather", output="rain"),
    ]


async def test_foreign_history_drops_reasoning_and_uses_the_documented_dummy_signature(
    emulator: GeminiEmulator,
) -> None:
    emulator.queue(Reply(text="It rains."))
    response = await model_for(emulator).respond(req(foreign_tool_loop("openai", "gpt-5"), tools=[WEATHER]))
    assert response.text == "It rains."  # Gemini 3 accepted the transplanted call
    contents = emulator.last_body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    (call_part,) = contents[1]["parts"]  # the foreign reasoning is gone, not turned into text
    assert call_part["thoughtSignature"] == DUMMY_THOUGHT_SIGNATURE
    assert base64.b64decode(call_part["thoughtSignature"]) == b"skip_thought_signature_validator"
    # an id Gemini might refuse is mapped the same way on the call and on its response
    wire_id = call_part["functionCall"]["id"]
    assert re.fullmatch(r"call_[0-9a-f]{24}", wire_id)
    assert contents[2]["parts"][0]["functionResponse"]["id"] == wire_id


async def test_signatures_from_another_gemini_model_are_not_replayed(emulator: GeminiEmulator) -> None:
    flash = model_for(emulator, "gemini-3-flash-preview")
    items = await tool_turn(flash, emulator, ToolCallReply("get_time", {}))
    own = items[-2].state[0].payload["signature"]
    emulator.queue(Reply(text="Noon."))
    await model_for(emulator).respond(req(items, tools=[WEATHER, TIME]))  # gemini-3-pro-preview
    part = emulator.last_body["contents"][1]["parts"][0]
    assert part["thoughtSignature"] == DUMMY_THOUGHT_SIGNATURE != own


async def test_handoff_items_are_not_sent(emulator: GeminiEmulator) -> None:
    items: list[Item] = [UserMessage.of("hi"), Handoff(from_agent="a", to_agent="b"), UserMessage.of("again")]
    await model_for(emulator).respond(req(items))
    assert emulator.last_body["contents"] == [{"role": "user", "parts": [{"text": "hi"}, {"text": "again"}]}]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("reply", "error_type", "retry_after"),
    [
        (Reply(error=(429, "Resource has been exhausted")), errors.RateLimitError, None),
        (Reply(error=(429, "quota"), headers={"retry-after": "34"}), errors.RateLimitError, 34.0),
        (Reply(error=(503, "The model is overloaded.")), errors.OverloadedError, None),
        (Reply(error=(500, "An internal error has occurred.")), errors.ServerError, None),
        (Reply(error=(400, "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).")),
         errors.ContextTooLongError, None),
        (Reply(error=(400, "Invalid value at 'generation_config.temperature'")), errors.InvalidRequestError, None),
        (Reply(error=(401, "API key not valid.")), errors.AuthenticationError, None),
        (Reply(error=(403, "Permission denied.")), errors.AuthenticationError, None),
    ],
)  # fmt: skip
async def test_errors_are_typed(
    emulator: GeminiEmulator, reply: Reply, error_type: type[Exception], retry_after: float | None
) -> None:
    for streaming in (False, True):
        emulator.queue(reply)
        model = model_for(emulator)
        with pytest.raises(error_type) as info:
            if streaming:
                _ = [e async for e in model.stream(req([UserMessage.of("hi")]))]
            else:
                await model.respond(req([UserMessage.of("hi")]))
        err = info.value
        assert isinstance(err, errors.ModelError) and type(err) is error_type
        assert err.provider == "google" and err.status_code == reply.error[0]  # type: ignore[index]
        assert err.retry_after == retry_after


async def test_retry_info_in_the_error_body_is_the_retry_hint(emulator: GeminiEmulator) -> None:
    retry_info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12.5s"}
    body = {
        "error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [retry_info]}
    }

    class Quota(GeminiEmulator):
        def handle(self, request: Any) -> Any:
            from tests.emulators.base import HTTPReply

            return HTTPReply(429, body)

    emu = Quota().start()
    try:
        with pytest.raises(errors.RateLimitError) as info:
            await model_for(emu).respond(req([UserMessage.of("hi")]))
        assert info.value.retry_after == 12.5
    finally:
        emu.stop()


async def test_connection_refused_is_a_transport_error() -> None:
    model = GeminiModel(MODEL, base_url="http://127.0.0.1:9", api_key="k", timeout=5)
    with pytest.raises(errors.TransportError):
        await model.respond(req([UserMessage.of("hi")]))


async def test_a_stream_that_breaks_after_text_is_a_retryable_stream_error(emulator: GeminiEmulator) -> None:
    emulator.queue(Reply(text="This will break.", stream_error=True))
    seen: list[Any] = []
    with pytest.raises(errors.ModelStreamError) as info:
        async for event in model_for(emulator).stream(req([UserMessage.of("hi")])):
            seen.append(event)
    assert info.value.retryable and any(isinstance(e, ModelTextDelta) for e in seen)


# --------------------------------------------------------------------------- the emulator is strict


async def raw_post(emu: GeminiEmulator, body: Any, model: str = MODEL) -> httpx.Response:
    async with httpx.AsyncClient(base_url=emu.base_url, headers={"x-goog-api-key": "k"}) as client:
        return await client.post(f"/v1beta/models/{model}:generateContent", json=body)


async def test_emulator_rejects_a_missing_signature_on_gemini_3(emulator: GeminiEmulator) -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"output": "x"}}}]},
        ]
    }
    r = await raw_post(emulator, body)
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "missing a thought_signature" in r.json()["error"]["message"]
    assert (await raw_post(emulator, body, "gemini-2.5-flash")).status_code == 200  # only Gemini 3 checks
    # earlier turns are not validated: a new user message starts a new current turn
    later = {"contents": [*body["contents"], {"role": "model", "parts": [{"text": "ok"}]},
                          {"role": "user", "parts": [{"text": "next"}]}]}  # fmt: skip
    assert (await raw_post(emulator, later)).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "temperature": 1}, "Unknown name"),
        ({"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]}, "valid role"),
        ({"contents": [{"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}]},
         "function call turn"),
        ({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
          "tools": [{"functionDeclarations": [{"name": "9bad"}]}]}, "Invalid function name"),
        ({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
          "generationConfig": {"responseJsonSchema": {"type": "object"}}}, "response_mime_type"),
    ],
)  # fmt: skip
async def test_emulator_rejects_what_the_api_rejects(
    emulator: GeminiEmulator, body: Any, message: str
) -> None:
    r = await raw_post(emulator, body)
    assert r.status_code == 400 and message in r.json()["error"]["message"]


async def test_emulator_accepts_snake_case_field_names(emulator: GeminiEmulator) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "system_instruction": {"parts": [{"text": "x"}]},
            "generation_config": {"max_output_tokens": 5}}  # fmt: skip
    assert (await raw_post(emulator, body)).status_code == 200


async def test_emulator_checks_the_number_of_function_responses(emulator: GeminiEmulator) -> None:
    model = model_for(emulator)
    items = await tool_turn(model, emulator, ToolCallReply("get_weather", {}), ToolCallReply("get_time", {}))
    with pytest.raises(errors.InvalidRequestError, match="number of function response parts"):
        await model.respond(req(items[:-1], tools=[WEATHER, TIME]))  # one result missing


# --------------------------------------------------------------------------- through the runner


async def test_an_agent_runs_a_tool_loop_on_gemini(emulator: GeminiEmulator) -> None:
    from agentcore.agent import Agent
    from agentcore.run.runner import Runner
    from agentcore.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"rain in {city}"

    emulator.queue(Reply(tool_calls=[ToolCallReply("get_weather", {"city": "Oslo"})], reasoning="Use the tool."),
                   Reply(text="It rains in Oslo."))  # fmt: skip
    agent = Agent(name="weather", instructions="Answer.", model=model_for(emulator), tools=[get_weather])
    result = await Runner.run(agent, "Weather in Oslo?")
    assert result.final_output == "It rains in Oslo."
    last = emulator.last_body["contents"]
    assert last[2]["parts"][0]["functionResponse"]["response"]["output"].startswith("rain in Oslo")


# --------------------------------------------------------------------------- client options and odds and ends


async def test_note_when_parallel_tool_calls_cannot_be_turned_off(
    emulator: GeminiEmulator, spans: InMemorySpanExporter
) -> None:
    with tracing.span("chat"):
        await model_for(emulator).respond(
            req([UserMessage.of("hi")], tools=[WEATHER], settings=ModelSettings(parallel_tool_calls=False))
        )
    (span,) = spans.get_finished_spans()
    assert [e.name for e in span.events] == ["gen_ai.setting_dropped"]
    assert "parallelToolCalls" not in json.dumps(emulator.last_body)


async def test_a_client_the_caller_built_is_pinned_to_v1beta_with_sdk_retries_off(
    emulator: GeminiEmulator,
) -> None:
    from google import genai
    from google.genai import types

    retrying = types.HttpRetryOptions(attempts=5, initial_delay=0.01, max_delay=0.01)
    client = genai.Client(
        api_key="k", http_options=types.HttpOptions(base_url=emulator.base_url, retry_options=retrying)
    )
    model = GeminiModel(MODEL, client=client)
    emulator.queue(Reply(text="ok"))
    assert (await model.respond(req([UserMessage.of("hi")]))).text == "ok"
    assert emulator.requests[-1].path.startswith("/v1beta/models/")  # the SDK's default would be /v1/
    emulator.queue(Reply(error=(503, "overloaded")), Reply(text="not reached"))
    before = len(emulator.requests)
    with pytest.raises(errors.OverloadedError):
        await model.respond(req([UserMessage.of("hi")]))
    assert len(emulator.requests) == before + 1  # the core's retry policy decides, not the SDK


async def test_a_slow_answer_is_a_timeout_error() -> None:
    import threading

    release = threading.Event()

    class Slow(GeminiEmulator):
        def handle(self, request: Any) -> Any:
            release.wait(5)
            return super().handle(request)

    emu = Slow().start()
    try:
        with pytest.raises(errors.ModelTimeoutError):
            await model_for(emu, timeout=0.2).respond(req([UserMessage.of("hi")]))
    finally:
        release.set()
        emu.stop()


async def test_aclose_closes_the_connection_pool_it_opened(emulator: GeminiEmulator) -> None:
    model = model_for(emulator)
    await model.respond(req([UserMessage.of("hi")]))
    pool = model._api._async_httpx_client
    assert not pool.is_closed
    await model.aclose()
    assert pool.is_closed


def test_a_non_streamed_answer_keeps_each_signed_part_apart() -> None:
    from agentcore.providers.gemini.generate_content import _Assembler

    asm = _Assembler("google", MODEL)
    parts = [{"text": "First part."}, {"text": "Second part.", "thoughtSignature": "c2ln"}]
    asm.feed({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}]})
    first, second = asm.response().items
    assert isinstance(first, AssistantMessage) and first.state == ()
    assert isinstance(second, AssistantMessage) and second.text == "Second part."
    assert second.state[0].payload == {"signature": "c2ln"}


async def test_emulator_rejects_signatures_of_another_model_or_made_up() -> None:
    emu = GeminiEmulator()
    good = emu._signature(MODEL)
    assert GeminiEmulator()._valid_signature(good, MODEL)  # issued by another emulator instance: fine
    assert not emu._valid_signature(good, "gemini-3-flash-preview")
    assert not emu._valid_signature(base64.b64encode(b"made up").decode(), MODEL)
    assert emu._valid_signature(DUMMY_THOUGHT_SIGNATURE, MODEL)


async def test_strict_tools_ask_for_validated_function_calling(emulator: GeminiEmulator) -> None:
    strict = ToolSpec("lookup", "Look up.", {"type": "object", "properties": {}}, strict=True)
    await model_for(emulator).respond(req([UserMessage.of("hi")], tools=[strict, TIME]))
    assert emulator.last_body["toolConfig"] == {"functionCallingConfig": {"mode": "VALIDATED"}}
    await model_for(emulator).respond(req([UserMessage.of("hi")], tools=[TIME]))
    assert "toolConfig" not in emulator.last_body
