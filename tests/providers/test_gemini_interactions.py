"""The ``google-interactions`` adapter: the Interactions API with ``previous_interaction_id`` as a cache.

Drives the real google-genai client against ``interactions_harness()`` (the Gemini emulator's
Interactions endpoint, which stores interactions and rejects unknown ids with 404 ``NOT_FOUND``).
The watermark rule: while the transcript only grows, send the stored id plus the new items; on any
earlier change or a forgotten id, send everything and say so in the trace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentcore import errors, tracing
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
    ModelReasoningDelta,
    ModelRequest,
    ModelResponse,
    ModelResponseDone,
    ModelSettings,
    ModelTextDelta,
    ModelToolCallDelta,
    OutputSchema,
)
from agentcore.providers.gemini.interactions import GeminiInteractionsModel
from agentcore.registry import resolve_model
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.gemini import MODEL, GeminiEmulator, interactions_harness
from tests.providers.harness import CASSETTES as CASSETTE_ROOT
from tests.providers.harness import WEATHER, Harness, span_exporter_fixture

CASSETTES = CASSETTE_ROOT / "gemini"


@pytest.fixture
def h() -> Iterator[Harness]:
    harness = interactions_harness()
    harness.emulator.start()
    try:
        yield harness
    finally:
        harness.emulator.stop()


spans = span_exporter_fixture()


def notes(exporter: InMemorySpanExporter) -> list[tuple[str, dict[str, Any]]]:
    return [(e.name, dict(e.attributes or {})) for s in exporter.get_finished_spans() for e in s.events]


class Conversation:
    """A transcript driven through one adapter with one adapter cache, as the runner does it."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.items: list[Item] = []
        self.cache: dict[str, Any] = {}

    async def send(self, *new: Item, stream: bool = False, **kw: Any) -> ModelResponse:
        self.items += new
        request = ModelRequest("Be brief.", list(self.items), tools=[WEATHER], cache=self.cache, **kw)
        if stream:
            response = None
            async for event in self.model.stream(request):
                if isinstance(event, ModelResponseDone):
                    response = event.response
            assert response is not None
        else:
            response = await self.model.respond(request)
        self.items += response.items
        return response

    def results(self, response: ModelResponse, output: str = "sunny") -> list[Item]:
        return [
            ToolResult(call_id=c.call_id, name=c.name, output=output)
            for c in response.items
            if isinstance(c, ToolCall)
        ]


def test_registry_builds_the_adapter() -> None:
    model = resolve_model(
        "google-interactions:gemini-3-flash-preview", api_key="k", base_url="http://127.0.0.1:9"
    )
    assert isinstance(model, GeminiInteractionsModel)
    assert (model.provider, model.system) == ("google-interactions", "gcp.gemini")


async def test_text_reply_usage_and_wire_shape(h: Harness) -> None:
    h.emulator.queue(Reply(text="Hello.", input_tokens=12, output_tokens=4, cached_tokens=8))
    response = await Conversation(h.model()).send(UserMessage.of("hi"))
    assert response.text == "Hello." and response.finish_reason == "stop"
    assert response.response_id and response.response_id.startswith("v1_")
    assert response.usage.input_tokens == 12 and response.usage.cached_input_tokens == 8
    assert response.usage.output_tokens == 4 and response.usage.reasoning_tokens == 0
    body = h.emulator.last_body
    assert h.emulator.requests[-1].path == "/v1beta/interactions"
    assert body == {
        "model": MODEL,
        "system_instruction": "Be brief.",
        "tools": [
            {
                "type": "function",
                "name": "get_weather",
                "description": "Weather for a city.",
                "parameters": WEATHER.parameters,
            }
        ],
        "input": [{"type": "user_input", "content": [{"type": "text", "text": "hi"}]}],
    }


async def test_tool_loop_continues_from_the_stored_interaction(h: Harness) -> None:
    conv = Conversation(h.model())
    h.emulator.queue(
        Reply(tool_calls=[ToolCallReply("get_weather", {"city": "Oslo"})], reasoning="Call the tool."),
        Reply(text="Sunny in Oslo."),
        Reply(text="You're welcome."),
    )
    first = await conv.send(UserMessage.of("Weather in Oslo?"))
    assert [type(i).__name__ for i in first.items] == ["Reasoning", "ToolCall"]
    assert first.finish_reason == "tool_calls"
    second = await conv.send(*conv.results(first))
    assert second.text == "Sunny in Oslo."
    body = h.emulator.last_body
    assert body["previous_interaction_id"] == first.response_id
    call = first.items[1]
    assert isinstance(call, ToolCall)
    assert body["input"] == [
        {"type": "function_result", "call_id": call.call_id, "name": "get_weather", "result": "sunny"}
    ]
    # instructions, tools and config are per interaction: sent every time
    assert body["system_instruction"] == "Be brief." and body["tools"]
    await conv.send(UserMessage.of("Thanks!"))
    body = h.emulator.last_body
    assert body["previous_interaction_id"] == second.response_id
    assert body["input"] == [{"type": "user_input", "content": [{"type": "text", "text": "Thanks!"}]}]
    assert conv.cache["covered"] == len(conv.items)


async def test_an_edit_before_the_watermark_resends_everything(
    h: Harness, spans: InMemorySpanExporter
) -> None:
    conv = Conversation(h.model())
    h.emulator.queue(Reply(text="One."), Reply(text="Two."))
    await conv.send(UserMessage.of("first"))
    conv.items[0] = UserMessage.of("first, edited")  # e.g. a handoff filter rewrote history
    with tracing.span("chat"):
        await conv.send(UserMessage.of("second"))
    body = h.emulator.last_body
    assert "previous_interaction_id" not in body
    assert [s["type"] for s in body["input"]] == ["user_input", "thought", "model_output", "user_input"]
    assert body["input"][0]["content"][0]["text"] == "first, edited"
    ((name, attrs),) = notes(spans)
    assert name == "gen_ai.server_state.resend_full" and "changed" in attrs["reason"]


async def test_an_unknown_interaction_id_falls_back_to_the_full_transcript(
    h: Harness, spans: InMemorySpanExporter
) -> None:
    conv = Conversation(h.model())
    h.emulator.queue(Reply(tool_calls=[ToolCallReply("get_weather", {"city": "Rome"})]), Reply(text="Warm."))
    first = await conv.send(UserMessage.of("Rome?"))
    assert isinstance(h.emulator, GeminiEmulator)
    h.emulator.interactions.clear()  # the server forgot (expired, deleted)
    with tracing.span("chat"):
        second = await conv.send(*conv.results(first), stream=True)
    assert second.text == "Warm."
    failed, retried = h.emulator.requests[-2:]
    assert failed.body["previous_interaction_id"] == first.response_id
    assert "previous_interaction_id" not in retried.body
    assert [s["type"] for s in retried.body["input"]] == [
        "user_input",
        "thought",
        "function_call",
        "function_result",
    ]
    assert retried.body["input"][1]["signature"]  # our own thought signature is replayed when stateless
    ((name, attrs),) = notes(spans)
    assert name == "gen_ai.server_state.resend_full" and attrs["previous_interaction_id"] == first.response_id
    assert conv.cache["interaction_id"] == second.response_id  # and the cache follows the new chain


async def test_store_false_is_fully_stateless(h: Harness) -> None:
    conv = Conversation(h.model(store=False))
    h.emulator.queue(Reply(text="One."), Reply(text="Two."))
    first = await conv.send(UserMessage.of("first"))
    assert first.response_id is None and conv.cache == {}
    await conv.send(UserMessage.of("second"))
    body = h.emulator.last_body
    assert body["store"] is False and "previous_interaction_id" not in body
    assert [s["type"] for s in body["input"]] == ["user_input", "thought", "model_output", "user_input"]


async def test_streaming_text_reasoning_and_tool_calls(h: Harness) -> None:
    conv = Conversation(h.model())
    h.emulator.queue(
        Reply(tool_calls=[ToolCallReply("get_weather", {"city": "Oslo"})], reasoning="Think."),
        Reply(text="Sunny in Oslo."),
    )
    events: list[Any] = []
    question = UserMessage.of("Oslo?")
    request = ModelRequest(None, [question], tools=[WEATHER], cache=conv.cache)
    async for event in conv.model.stream(request):
        events.append(event)
    assert [e.text for e in events if isinstance(e, ModelReasoningDelta)] == ["Think."]
    first_delta, args_delta = [e for e in events if isinstance(e, ModelToolCallDelta)]
    assert first_delta.name == "get_weather" and json.loads(args_delta.arguments) == {"city": "Oslo"}
    done = events[-1]
    assert isinstance(done, ModelResponseDone)
    reasoning, call = done.response.items
    assert isinstance(reasoning, Reasoning) and reasoning.state[0].payload["signature"]
    assert isinstance(call, ToolCall) and json.loads(call.arguments) == {"city": "Oslo"}
    conv.items = [question, *done.response.items]
    second = await conv.send(*conv.results(done.response), stream=True)
    assert second.text == "Sunny in Oslo."
    assert h.emulator.last_body["previous_interaction_id"] == done.response.response_id


async def test_settings_and_structured_output(h: Harness) -> None:
    settings = ModelSettings(
        temperature=0.1, max_tokens=50, reasoning_effort="high", tool_choice="get_weather"
    )
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "$schema": "x"}
    h.emulator.queue(Reply(text='{"city": "Oslo"}'))
    await Conversation(h.model()).send(
        UserMessage.of("hi"), settings=settings, output_schema=OutputSchema("city", schema)
    )
    body = h.emulator.last_body
    assert body["generation_config"] == {
        "tool_choice": {"allowed_tools": {"mode": "any", "tools": ["get_weather"]}},
        "temperature": 0.1,
        "max_output_tokens": 50,
        "thinking_level": "high",
    }
    assert body["response_format"] == {
        "type": "text",
        "mime_type": "application/json",
        "schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }


async def test_foreign_items_are_sent_as_steps_without_foreign_state(h: Harness) -> None:
    state = (
        ProviderState(provider="anthropic", model="claude", kind="thinking", payload={"signature": "s"}),
    )
    items: list[Item] = [
        UserMessage.of("Oslo?"),
        Reasoning(summary="secret thoughts", state=state),
        AssistantMessage(text="Let me check."),
        ToolCall(call_id="toolu_01/abc", name="get_weather", arguments='{"city": "Oslo"}', state=state),
        ToolResult(call_id="toolu_01/abc", name="get_weather", output="rain"),
    ]
    h.emulator.queue(Reply(text="Rain."))
    response = await h.model().respond(ModelRequest(None, items, tools=[WEATHER]))
    assert response.text == "Rain."
    steps = h.emulator.last_body["input"]
    assert [s["type"] for s in steps] == ["user_input", "model_output", "function_call", "function_result"]
    assert steps[2]["id"] == steps[3]["call_id"] != "toolu_01/abc"  # remapped the same way on both


@pytest.mark.parametrize(
    ("reply", "error_type"),
    [
        (Reply(error=(429, "quota"), headers={"retry-after": "3"}), errors.RateLimitError),
        (Reply(error=(503, "overloaded")), errors.OverloadedError),
        (Reply(error=(500, "internal")), errors.ServerError),
        (Reply(error=(400, "bad")), errors.InvalidRequestError),
        (Reply(error=(401, "no key")), errors.AuthenticationError),
    ],
)
async def test_errors_are_typed(h: Harness, reply: Reply, error_type: type[Exception]) -> None:
    for streaming in (False, True):
        h.emulator.queue(reply)
        with pytest.raises(error_type) as info:
            await Conversation(h.model()).send(UserMessage.of("hi"), stream=streaming)
        assert type(info.value) is error_type
        if error_type is errors.RateLimitError:
            assert info.value.retry_after == 3.0  # type: ignore[attr-defined]


async def test_a_broken_stream_is_a_retryable_stream_error(h: Harness) -> None:
    h.emulator.queue(Reply(text="This breaks.", stream_error=True))
    with pytest.raises(errors.ModelStreamError):
        await Conversation(h.model()).send(UserMessage.of("hi"), stream=True)


# --------------------------------------------------------------------------- the emulator is strict


async def post(h: Harness, body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=h.emulator.base_url, headers={"x-goog-api-key": "k"}) as client:
        return await client.post("/v1beta/interactions", json=body)


async def test_emulator_enforces_the_interactions_rules(h: Harness) -> None:
    user = {"type": "user_input", "content": [{"type": "text", "text": "hi"}]}
    r = await post(h, {"model": MODEL, "input": [user], "previous_interaction_id": "v1_nope"})
    assert r.status_code == 404 and r.json()["error"]["status"] == "NOT_FOUND"
    r = await post(
        h, {"model": MODEL, "input": [user], "systemInstruction": "x"}
    )  # camelCase is unknown here
    assert r.status_code == 400 and "Unknown name" in r.json()["error"]["message"]
    orphan = {"type": "function_result", "call_id": "c9", "result": "x"}
    r = await post(h, {"model": MODEL, "input": [user, orphan]})
    assert r.status_code == 400 and "matches no function call" in r.json()["error"]["message"]
    h.emulator.queue(Reply(tool_calls=[ToolCallReply("get_weather", {})]))
    first = (await post(h, {"model": MODEL, "input": [user]})).json()
    assert first["status"] == "requires_action"
    r = await post(h, {"model": MODEL, "input": [user], "previous_interaction_id": first["id"]})
    assert r.status_code == 400 and "pending function call" in r.json()["error"]["message"]


# --------------------------------------------------------------------------- cassettes


@pytest.mark.parametrize(
    "name", ["multi-turn-stateful-turn1.json", "multi-turn-stateful-turn2.json", "tool-call-step1.json"]
)
def test_the_sdk_and_our_parser_read_the_recorded_interactions(name: str) -> None:
    from google.genai._gaos.types.interactions.interaction import Interaction

    path = CASSETTES / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    data = json.loads(path.read_text())
    parsed = Interaction.model_validate(data)
    assert parsed.id == data["id"] and parsed.status == data["status"]
    model = GeminiInteractionsModel("gemini-2.5-flash", api_key="k", base_url="http://127.0.0.1:9")
    response = model._response(data, model._items_from_steps(data["steps"]))
    assert response.response_id == data["id"]
    assert response.usage.input_tokens == data["usage"]["total_input_tokens"]
    assert response.usage.reasoning_tokens == data["usage"]["total_thought_tokens"]
    assert isinstance(response.items[0], Reasoning) and response.items[0].state[0].payload["signature"]
    if name.startswith("tool-call"):
        assert response.finish_reason == "tool_calls"
        call = response.items[1]
        assert isinstance(call, ToolCall) and call.call_id == "zggxzq8r" and call.name == "getWeather"


async def test_the_emulator_answers_in_the_recorded_shape(h: Harness) -> None:
    path = CASSETTES / "tool-call-step1.json"
    if not path.exists():
        pytest.skip(f"{path} not available")
    recorded = json.loads(path.read_text())
    h.emulator.queue(
        Reply(tool_calls=[ToolCallReply("getWeather", {"location": "San Francisco"})], reasoning="x")
    )
    user = {"type": "user_input", "content": [{"type": "text", "text": "Weather?"}]}
    ours = (await post(h, {"model": "gemini-2.5-flash", "input": [user]})).json()
    assert set(ours) == set(recorded)
    assert set(ours["usage"]) == set(recorded["usage"])
    assert [s["type"] for s in ours["steps"]] == [s["type"] for s in recorded["steps"]]
    assert set(ours["steps"][1]) == set(recorded["steps"][1])


async def test_the_public_sdk_path_parses_the_emulator(h: Harness) -> None:
    from google import genai
    from google.genai import types

    client = genai.Client(
        api_key="k",
        http_options=types.HttpOptions(
            base_url=h.emulator.base_url,
            api_version="v1beta",
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )
    h.emulator.queue(Reply(text="Hello there.", reasoning="hm"), Reply(text="Streamed."))
    result = await client.aio.interactions.create(model=MODEL, input="hi")
    assert result.status == "completed" and [s.type for s in result.steps or []] == [
        "thought",
        "model_output",
    ]
    stream = await client.aio.interactions.create(model=MODEL, input="hi", stream=True)
    kinds = [event.event_type async for event in stream]
    assert kinds[0] == "interaction.created" and kinds[-1] == "interaction.completed"


async def test_contract_basics_through_the_harness(h: Harness) -> None:
    """What the shared contract suite checks, on the Interactions harness: text, tools, streaming."""
    model = h.model()
    h.emulator.queue(Reply(text="plain"))
    assert (await model.respond(ModelRequest(None, [UserMessage.of("hi")]))).text == "plain"
    h.emulator.queue(
        Reply(
            tool_calls=[
                ToolCallReply("get_weather", {"city": "A"}),
                ToolCallReply("get_weather", {"city": "B"}),
            ]
        )
    )
    response = await model.respond(ModelRequest(None, [UserMessage.of("two cities")], tools=[WEATHER]))
    calls = [i for i in response.items if isinstance(i, ToolCall)]
    assert [json.loads(c.arguments)["city"] for c in calls] == ["A", "B"]
    h.emulator.queue(Reply(text="streamed text"))
    deltas = [
        e.text
        async for e in model.stream(ModelRequest(None, [UserMessage.of("hi")]))
        if isinstance(e, ModelTextDelta)
    ]
    assert "".join(deltas) == "streamed text"


async def test_a_client_the_caller_built_works_for_both_call_kinds(h: Harness) -> None:
    """A default google-genai client talks aiohttp for async calls; both paths read it, SDK retries off."""
    from google import genai
    from google.genai import types

    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=h.emulator.base_url))
    conv = Conversation(GeminiInteractionsModel(MODEL, client=client))
    h.emulator.queue(Reply(tool_calls=[ToolCallReply("get_weather", {"city": "Oslo"})]), Reply(text="Sunny."))
    first = await conv.send(UserMessage.of("Oslo?"), stream=True)
    second = await conv.send(*conv.results(first))
    assert second.text == "Sunny." and h.emulator.last_body["previous_interaction_id"] == first.response_id
    assert h.emulator.requests[-1].path == "/v1beta/interactions"
    h.emulator.queue(Reply(error=(503, "overloaded")), Reply(text="not reached"))
    before = len(h.emulator.requests)
    with pytest.raises(errors.OverloadedError):
        await conv.send(UserMessage.of("again?"), stream=True)
    assert len(h.emulator.requests) == before + 1
    await client.aio.aclose()


async def test_the_sse_reader_takes_event_lines_crlf_and_split_chunks() -> None:
    from agentcore.providers.gemini.common import sse_json

    class Raw:
        closed = False

        async def aiter_bytes(self) -> Any:
            payload = (
                'event: step.delta\r\ndata: {"text": "a\u2028b"}\r\n\r\n'
                ': a comment\n\nevent: interaction.completed\ndata: {"n":\ndata: 1}\n\n'
            ).encode()
            for i in range(0, len(payload), 7):  # chunk boundaries fall anywhere
                yield payload[i : i + 7]

        async def aclose(self) -> None:
            self.closed = True

    raw = Raw()
    assert [e async for e in sse_json(raw)] == [{"text": "a\u2028b"}, {"n": 1}]
    assert raw.closed
