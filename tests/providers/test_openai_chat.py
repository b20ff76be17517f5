"""The ``openai-chat`` adapter against its emulator: wire shapes, compat quirks, streaming, reasoning, settings.

Every test drives the real ``openai`` SDK client over HTTP to the local Chat Completions emulator
(``tests/emulators/openai_chat.py``), configured as OpenAI itself or as a compatible server (DeepSeek,
vLLM, Ollama, Gemini's compatibility endpoint, OpenRouter). Failures are in ``test_openai_chat_errors.py``,
cassette and encoding fidelity in ``test_openai_chat_fidelity.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import openai
import pytest

from agentcore import errors
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
)
from agentcore.providers.openai.chat import OpenAIChatModel
from agentcore.providers.openai.chat_parse import ResponseBuilder
from agentcore.registry import resolve_model
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_chat import ChatCompletionsEmulator, ChatQuirks
from tests.providers.harness import CASSETTES as CASSETTE_ROOT
from tests.providers.harness import TIME, WEATHER

CASSETTES = CASSETTE_ROOT / "openai_chat"


@pytest.fixture(scope="module", name="emulators")
def emulators_fixture() -> Iterator[dict[ChatQuirks, ChatCompletionsEmulator]]:
    """One running emulator per quirks preset, shared by the module (starting/stopping costs ~0.5 s)."""
    pool: dict[ChatQuirks, ChatCompletionsEmulator] = {}
    yield pool
    for emulator in pool.values():
        emulator.stop()


@pytest.fixture(name="serve")
def serve_fixture(
    emulators: dict[ChatQuirks, ChatCompletionsEmulator],
) -> Callable[..., tuple[ChatCompletionsEmulator, OpenAIChatModel]]:
    """``serve(quirks, **options)``: a fresh-state emulator and an adapter pointed at it."""

    def make(quirks: ChatQuirks | None = None, model: str = "llama3", **options: Any):
        quirks = quirks or ChatQuirks()
        emulator = emulators.get(quirks)
        if emulator is None:
            emulator = emulators[quirks] = ChatCompletionsEmulator(quirks)
            emulator.start()
        emulator.requests.clear()
        emulator.replies.clear()
        emulator.finish_reasons.clear()
        options.setdefault("api_key", "test-key")
        return emulator, OpenAIChatModel(model, base_url=emulator.base_url + "/v1", **options)

    return make


def request(items: list[Item], **kw: Any) -> ModelRequest:
    kw.setdefault("instructions", "Be brief.")
    return ModelRequest(items=items, **kw)


async def collect(stream: AsyncIterator[Any]) -> tuple[list[Any], ModelResponse]:
    events = [e async for e in stream]
    done = [e for e in events if isinstance(e, ModelResponseDone)]
    assert len(done) == 1 and events[-1] is done[0], "exactly one ModelResponseDone, last"
    return events[:-1], done[0].response


def answer_calls(items: list[Item], output: str = "sunny") -> list[Item]:
    return [
        ToolResult(call_id=i.call_id, name=i.name, output=output) for i in items if isinstance(i, ToolCall)
    ]


async def tool_loop(
    model: OpenAIChatModel, first: list[Item], *, streaming: bool, tools=(WEATHER,)
) -> list[Item]:
    """Call the model until it answers without tool calls; return the whole transcript."""
    items = list(first)
    for _ in range(10):
        req = request(items, tools=tools)
        resp = (await collect(model.stream(req)))[1] if streaming else await model.respond(req)
        items += resp.items
        results = answer_calls(resp.items)
        if not results:
            return items
        items += results
    raise AssertionError("tool loop did not end")


# --------------------------------------------------------------------------- basics


async def test_plain_text_request_and_response(serve) -> None:
    emulator, model = serve()
    emulator.queue(Reply(text="Hello there.", input_tokens=21, output_tokens=3, cached_tokens=5))
    resp = await model.respond(request([UserMessage.of("Hi")]))

    body = emulator.last_body
    assert body == {
        "model": "llama3",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    }
    assert [type(i) for i in resp.items] == [AssistantMessage]
    assert resp.text == "Hello there."
    assert resp.finish_reason == "stop"
    assert resp.response_id and resp.response_id.startswith("chatcmpl-")
    assert resp.model == "llama3"
    assert resp.usage.model_dump() == {
        "requests": 1,
        "input_tokens": 21,
        "output_tokens": 3,
        "cached_input_tokens": 5,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "server_tool_requests": {},
    }
    assert all(i.agent is None for i in resp.items)


async def test_streaming_text_asks_for_usage_and_yields_deltas(serve) -> None:
    emulator, model = serve()
    emulator.queue(Reply(text="One two three.", input_tokens=9, output_tokens=4))
    events, resp = await collect(model.stream(request([UserMessage.of("Count")])))

    assert emulator.last_body["stream"] is True
    assert emulator.last_body["stream_options"] == {"include_usage": True}
    assert "".join(e.text for e in events if isinstance(e, ModelTextDelta)) == "One two three."
    assert len([e for e in events if isinstance(e, ModelTextDelta)]) == 3
    assert resp.text == "One two three." and resp.finish_reason == "stop"
    assert (resp.usage.input_tokens, resp.usage.output_tokens) == (9, 4)


async def test_user_message_parts_become_content_parts(serve) -> None:
    emulator, model = serve()
    msg = UserMessage(
        content=(TextPart(text="What is this?"), ImagePart(data="iVBORw0K", media_type="image/png"))
    )
    await model.respond(request([msg]))
    assert emulator.last_body["messages"][1]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}},
    ]


@pytest.mark.parametrize("streaming", [False, True])
async def test_tool_call_round_trip_has_recorded_shape(serve, streaming: bool) -> None:
    emulator, model = serve(ChatQuirks.openai())
    emulator.queue(Reply(tool_calls=[ToolCallReply("get_weather", {"city": "Paris"})]), Reply(text="Sunny."))
    items = await tool_loop(model, [UserMessage.of("Weather in Paris?")], streaming=streaming)

    call = next(i for i in items if isinstance(i, ToolCall))
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    assert call.call_id.startswith("call_")
    second = emulator.requests[1].body["messages"]
    assert second[2] == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": call.call_id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": call.arguments},
            }
        ],
    }
    assert second[3] == {"role": "tool", "tool_call_id": call.call_id, "content": "sunny"}
    assert emulator.requests[0].body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city.",
                "parameters": WEATHER.parameters,
            },
        }
    ]


async def test_parallel_tool_calls_stream_assembled_by_index(serve) -> None:
    emulator, model = serve()
    emulator.queue(
        Reply(
            tool_calls=[
                ToolCallReply("get_weather", {"city": "Paris"}),
                ToolCallReply("get_weather", {"city": "Lisbon, Portugal"}),
            ]
        )
    )
    events, resp = await collect(model.stream(request([UserMessage.of("Two cities")], tools=[WEATHER])))

    calls = [i for i in resp.items if isinstance(i, ToolCall)]
    assert [json.loads(c.arguments)["city"] for c in calls] == ["Paris", "Lisbon, Portugal"]
    assert resp.finish_reason == "tool_calls"
    deltas = [e for e in events if isinstance(e, ModelToolCallDelta)]
    for index, call in enumerate(calls):
        mine = [d for d in deltas if d.index == index]
        assert mine[0].call_id == call.call_id and mine[0].name == "get_weather"
        assert all(d.call_id is None and d.name is None for d in mine[1:]), "id and name arrive once"
        assert "".join(d.arguments for d in mine) == call.arguments
        assert len(mine) > 2, "arguments arrive in fragments"


# --------------------------------------------------------------------------- compat quirks


@pytest.mark.parametrize("style", ["empty", "missing"])
@pytest.mark.parametrize("streaming", [False, True])
async def test_tool_calls_without_ids_get_stable_ids(serve, style: str, streaming: bool) -> None:
    emulator, model = serve(ChatQuirks.gemini(tool_call_ids=style))
    emulator.queue(
        Reply(tool_calls=[ToolCallReply("get_time", {}), ToolCallReply("get_weather", {"city": "Oslo"})]),
        Reply(text="Noon in Oslo."),
    )
    items = [UserMessage.of("Time and weather?")]
    req = request(items, tools=[TIME, WEATHER])
    if streaming:
        events, resp = await collect(model.stream(req))
        firsts = [e for e in events if isinstance(e, ModelToolCallDelta) and e.call_id]
    else:
        resp = await model.respond(req)
        firsts = []
    calls = [i for i in resp.items if isinstance(i, ToolCall)]
    ids = [c.call_id for c in calls]
    assert all(ids) and len(set(ids)) == 2
    if streaming:
        assert [d.call_id for d in firsts] == ids, "the streamed id is the final id"
    await model.respond(request([*items, *resp.items, *answer_calls(resp.items)], tools=[TIME, WEATHER]))
    sent = emulator.last_body["messages"]
    assert [c["id"] for c in sent[2]["tool_calls"]] == ids
    assert [m["tool_call_id"] for m in sent[3:5]] == ids


def test_synthesized_ids_are_deterministic_per_response() -> None:
    def build() -> list[str]:
        b = ResponseBuilder("openai-chat", "m")
        b.add_completion(
            {
                "id": "resp-1",
                "choices": [
                    {
                        "message": {
                            "tool_calls": [{"id": "", "function": {"name": "f", "arguments": {"a": 1}}}]
                        },
                        "finish_reason": "tool_calls",
                    }
                ],
            }
        )
        return [i.call_id for i in b.build().items if isinstance(i, ToolCall)]

    assert build() == build()
    b = ResponseBuilder("openai-chat", "m")
    b.add_completion(
        {"id": "r", "choices": [{"message": {"tool_calls": [{"function": {"arguments": {"a": 1}}}]}}]}
    )
    assert b.build().items[0].arguments == '{"a": 1}', "object arguments are accepted"


async def test_gemini_extra_content_is_echoed_to_the_same_model(serve) -> None:
    emulator, model = serve(ChatQuirks.gemini())
    emulator.queue(Reply(tool_calls=[ToolCallReply("get_time", {})]), Reply(text="Noon."))
    await tool_loop(model, [UserMessage.of("Time?")], streaming=False, tools=(TIME,))
    first = emulator.requests[0]
    assert first.body["messages"][-1]["role"] == "user"
    assistant = emulator.requests[1].body["messages"][2]
    assert assistant["extra_content"]["google"]["thought_signature"].startswith("msg-")
    assert assistant["tool_calls"][0]["extra_content"]["google"]["thought_signature"].startswith("sig-")


async def test_openrouter_ids_repeated_on_every_chunk(serve) -> None:
    emulator, model = serve(ChatQuirks.openrouter())
    emulator.queue(Reply(tool_calls=[ToolCallReply("get_weather", {"city": "Rome"})]))
    events, resp = await collect(model.stream(request([UserMessage.of("Rome?")], tools=[WEATHER])))
    (call,) = [i for i in resp.items if isinstance(i, ToolCall)]
    assert (call.call_id, call.name, json.loads(call.arguments)) == ("0", "get_weather", {"city": "Rome"})
    names = [e.name for e in events if isinstance(e, ModelToolCallDelta) and e.name]
    assert names == ["get_weather"]


async def test_ollama_whole_tool_calls_and_reasoning_field(serve) -> None:
    emulator, model = serve(ChatQuirks.ollama())
    emulator.queue(
        Reply(reasoning="Need the weather.", tool_calls=[ToolCallReply("get_weather", {"city": "Oslo"})])
    )
    events, resp = await collect(model.stream(request([UserMessage.of("Oslo?")], tools=[WEATHER])))
    assert isinstance(resp.items[0], Reasoning) and resp.items[0].summary == "Need the weather."
    assert resp.items[0].state[0].payload == {"field": "reasoning"}
    assert "".join(e.text for e in events if isinstance(e, ModelReasoningDelta)) == "Need the weather."
    assert json.loads(resp.items[1].arguments) == {"city": "Oslo"}


PRESETS = {
    "openai": ChatQuirks.openai(),
    "deepseek": ChatQuirks.deepseek(),
    "vllm": ChatQuirks.vllm(),
    "ollama": ChatQuirks.ollama(),
    "gemini": ChatQuirks.gemini(),
    "openrouter": ChatQuirks.openrouter(),
}


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize("preset", list(PRESETS))
async def test_every_server_preset_completes_a_reasoning_tool_loop(
    serve, preset: str, streaming: bool
) -> None:
    quirks = PRESETS[preset]
    emulator, model = serve(quirks, model=f"{preset}-model")
    emulator.queue(
        Reply(reasoning="Check both.", tool_calls=[ToolCallReply("get_weather", {"city": "Rome"}),
                                                   ToolCallReply("get_time", {})]),
        Reply(reasoning="Done.", text="Rain at noon."),
    )  # fmt: skip
    items = await tool_loop(
        model, [UserMessage.of("Weather and time?")], streaming=streaming, tools=(WEATHER, TIME)
    )
    assert isinstance(items[-1], AssistantMessage) and items[-1].text == "Rain at noon."
    reasoning = [i for i in items if isinstance(i, Reasoning)]
    assert len(reasoning) == (2 if quirks.reasoning_field else 0)
    calls = [i for i in items if isinstance(i, ToolCall)]
    assert len({c.call_id for c in calls}) == 2 and all(c.call_id for c in calls)
    sent = emulator.requests[1].body["messages"][2]
    assert sent.get(quirks.reasoning_field or "reasoning_content") == (
        "Check both." if quirks.reasoning_field else None
    )


# --------------------------------------------------------------------------- reasoning replay (DeepSeek rules)


@pytest.mark.parametrize("streaming", [False, True])
async def test_deepseek_reasoning_is_replayed_in_tool_turns(serve, streaming: bool) -> None:
    emulator, model = serve(ChatQuirks.deepseek(), model="deepseek-reasoner")
    emulator.queue(
        Reply(reasoning="Look it up.", tool_calls=[ToolCallReply("get_weather", {"city": "Paris"})]),
        Reply(reasoning="It is sunny.", text="Sunny."),
        Reply(reasoning="Just greet.", text="Hello!"),
        Reply(text="Bye."),
    )
    items = await tool_loop(model, [UserMessage.of("Weather?")], streaming=streaming)
    assert [type(i).__name__ for i in items] == [
        "UserMessage", "Reasoning", "ToolCall", "ToolResult", "Reasoning", "AssistantMessage"
    ]  # fmt: skip
    assert emulator.requests[0].body["model"] == "deepseek-reasoner"
    second = emulator.requests[1].body["messages"]
    assert second[2]["reasoning_content"] == "Look it up."
    assert second[2]["tool_calls"][0]["id"].startswith("call_00_")

    items = await tool_loop(model, [*items, UserMessage.of("Hi")], streaming=streaming)
    items = await tool_loop(model, [*items, UserMessage.of("Bye")], streaming=streaming)
    last = emulator.last_body["messages"]
    with_reasoning = [m.get("reasoning_content") for m in last if m["role"] == "assistant"]
    # the tool turn keeps its reasoning in every later request; the plain turn's reasoning is not sent
    assert with_reasoning == ["Look it up.", "It is sunny.", None]


async def test_deepseek_rejects_tool_turns_without_reasoning(serve) -> None:
    emulator, model = serve(ChatQuirks.deepseek(), model="deepseek-reasoner", replay_reasoning="never")
    emulator.queue(Reply(reasoning="Look.", tool_calls=[ToolCallReply("get_weather", {"city": "Paris"})]))
    with pytest.raises(errors.InvalidRequestError, match="Missing `reasoning_content`") as info:
        await tool_loop(model, [UserMessage.of("Weather?")], streaming=False)
    assert info.value.status_code == 400 and info.value.provider == "openai-chat"


@pytest.mark.parametrize("toggle", [True, False])
async def test_deepseek_continues_a_foreign_tool_turn_without_thinking(serve, toggle: bool) -> None:
    """A tool call made by another vendor has no reasoning_content DeepSeek would accept: thinking goes off."""
    emulator, model = serve(ChatQuirks.deepseek(), model="deepseek-reasoner", thinking_toggle=toggle)
    foreign = ProviderState(provider="anthropic", model="claude", kind="thinking", payload={"signature": "s"})
    items: list[Item] = [
        UserMessage.of("Weather?"),
        Reasoning(summary="their plan", state=(foreign,)),
        ToolCall(call_id="toolu_01A09q90qw90lq917835lq9", name="get_weather", arguments='{"city":"Rome"}'),
        ToolResult(call_id="toolu_01A09q90qw90lq917835lq9", name="get_weather", output="rain"),
    ]
    emulator.queue(Reply(text="Rain in Rome."))
    if not toggle:
        with pytest.raises(errors.InvalidRequestError, match="Missing `reasoning_content`"):
            await model.respond(request(items, tools=[WEATHER]))
        return
    resp = await model.respond(request(items, tools=[WEATHER]))
    assert resp.text == "Rain in Rome."
    assert emulator.last_body["thinking"] == {"type": "disabled"}
    assert "their plan" not in emulator.requests[-1].raw.decode()

    # its own tool turns with reasoning need no such thing
    emulator.queue(Reply(reasoning="Look.", tool_calls=[ToolCallReply("get_weather", {"city": "Oslo"})]))
    own = await model.respond(request([UserMessage.of("Oslo?")], tools=[WEATHER]))
    emulator.queue(Reply(text="Snow."))
    await model.respond(
        request([UserMessage.of("Oslo?"), *own.items, *answer_calls(own.items)], tools=[WEATHER])
    )
    assert "thinking" not in emulator.last_body
    assert OpenAIChatModel("deepseek-chat", base_url="https://api.deepseek.com", api_key="k").thinking_toggle


async def test_reasoning_from_another_model_or_vendor_is_dropped(serve) -> None:
    emulator, model = serve(ChatQuirks.openai(), model="gpt-4o")
    other_model = ProviderState(
        provider="openai-chat", model="deepseek-reasoner", kind="reasoning", payload={}
    )
    other_vendor = ProviderState(
        provider="anthropic", model="claude", kind="thinking", payload={"signature": "s"}
    )
    items: list[Item] = [
        UserMessage.of("Weather?"),
        Reasoning(summary="secret plan A", state=(other_model,)),
        Reasoning(summary="secret plan B", state=(other_vendor,)),
        ToolCall(call_id="toolu_01A09q90qw90lq917835lq9", name="get_weather", arguments='{"city":"Rome"}'),
        ToolResult(call_id="toolu_01A09q90qw90lq917835lq9", name="get_weather", output="rain"),
        Handoff(from_agent="triage", to_agent="weather"),
        UserMessage.of("And now?"),
    ]
    await model.respond(request(items, tools=[WEATHER]))
    raw = emulator.requests[-1].raw.decode()
    assert "secret plan" not in raw and "triage" not in raw
    assert [m["role"] for m in emulator.last_body["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "user",
    ]


async def test_foreign_overlong_tool_ids_are_remapped_consistently(serve) -> None:
    emulator, model = serve(ChatQuirks.openai())
    long_id = "fc_" + "a" * 60  # an id another vendor might use: OpenAI rejects ids over 40 chars
    items: list[Item] = [
        UserMessage.of("Weather?"),
        ToolCall(call_id=long_id, name="get_weather", arguments=""),
        ToolResult(call_id=long_id, name="get_weather", output="rain"),
    ]
    await model.respond(request(items, tools=[WEATHER]))
    msgs = emulator.last_body["messages"]
    new_id = msgs[2]["tool_calls"][0]["id"]
    assert len(new_id) <= 40 and msgs[3]["tool_call_id"] == new_id
    assert msgs[2]["tool_calls"][0]["function"]["arguments"] == "{}"
    await model.respond(request(items, tools=[WEATHER]))
    assert emulator.last_body["messages"][2]["tool_calls"][0]["id"] == new_id, "same input, same id"


async def test_text_after_tool_calls_stays_in_their_message(serve) -> None:
    """Some vendors put text after a function call in one step; the tool messages must still follow it."""
    emulator, model = serve(ChatQuirks.openai())
    items: list[Item] = [
        UserMessage.of("Weather?"),
        AssistantMessage(text="Checking."),
        ToolCall(call_id="c1", name="get_weather", arguments='{"city":"Rome"}'),
        AssistantMessage(text="One moment."),
        ToolResult(call_id="c1", name="get_weather", output="rain"),
    ]
    await model.respond(request(items, tools=[WEATHER]))
    msgs = emulator.last_body["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "tool"]
    assert msgs[2]["content"] == "Checking.\nOne moment."


async def test_calls_left_without_results_are_answered_with_a_placeholder(serve) -> None:
    emulator, model = serve(ChatQuirks.openai())
    items: list[Item] = [
        UserMessage.of("Weather?"),
        ToolCall(call_id="c1", name="get_weather", arguments='{"city":"Rome"}'),
        ToolCall(call_id="c2", name="get_weather", arguments='{"city":"Oslo"}'),
        ToolResult(call_id="c2", name="get_weather", output="snow"),
        UserMessage.of("Never mind."),
    ]
    await model.respond(request(items, tools=[WEATHER]))  # the strict emulator accepts it
    msgs = emulator.last_body["messages"]
    assert [(m["role"], m.get("tool_call_id")) for m in msgs[2:]] == [
        ("assistant", None), ("tool", "c2"), ("tool", "c1"), ("user", None)
    ]  # fmt: skip
    assert msgs[4]["content"] == "(no result was recorded for this tool call)"


async def test_orphan_tool_results_are_not_sent(serve) -> None:
    emulator, model = serve(ChatQuirks.openai())
    items: list[Item] = [
        UserMessage.of("Go on"),
        ToolResult(call_id="call_gone", name="x", output="filtered away"),
        AssistantMessage(text="Done."),
        UserMessage.of("Thanks"),
    ]
    await model.respond(request(items))
    assert [m["role"] for m in emulator.last_body["messages"]] == ["system", "user", "assistant", "user"]


# --------------------------------------------------------------------------- settings and structured output


async def test_settings_map_to_chat_fields(serve) -> None:
    emulator, model = serve()
    settings = ModelSettings(
        temperature=0.2,
        top_p=0.9,
        max_tokens=100,
        tool_choice="get_weather",
        parallel_tool_calls=False,
        reasoning_effort="low",
        stop=("END",),
        seed=7,
        extra={"service_tier": "flex"},
    )
    await model.respond(request([UserMessage.of("Hi")], tools=[WEATHER], settings=settings))
    body = emulator.last_body
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert (body["temperature"], body["top_p"], body["seed"], body["stop"]) == (0.2, 0.9, 7, ["END"])
    assert (body["parallel_tool_calls"], body["reasoning_effort"]) == (False, "low")
    assert body["max_tokens"] == 100 and "max_completion_tokens" not in body, (
        "compatible servers read max_tokens"
    )
    assert body["service_tier"] == "flex"


async def test_tool_settings_without_tools_are_not_sent(serve) -> None:
    emulator, model = serve(ChatQuirks.openai())
    settings = ModelSettings(tool_choice="required", parallel_tool_calls=True)
    await model.respond(request([UserMessage.of("Hi")], settings=settings))
    assert "tool_choice" not in emulator.last_body and "parallel_tool_calls" not in emulator.last_body


async def test_max_completion_tokens_for_openai(serve) -> None:
    emulator, model = serve(
        ChatQuirks.openai(reject_max_tokens=True), max_tokens_param="max_completion_tokens"
    )
    await model.respond(request([UserMessage.of("Hi")], settings=ModelSettings(max_tokens=50)))
    assert emulator.last_body["max_completion_tokens"] == 50

    _, legacy = serve(ChatQuirks.openai(reject_max_tokens=True), max_tokens_param="max_tokens")
    with pytest.raises(errors.InvalidRequestError, match="max_completion_tokens"):
        await legacy.respond(request([UserMessage.of("Hi")], settings=ModelSettings(max_tokens=50)))

    auto = OpenAIChatModel("gpt-5", base_url="https://api.openai.com/v1", api_key="k")
    body = json.loads(
        auto.build_body(request([UserMessage.of("x")], settings=ModelSettings(max_tokens=5)), stream=False)
    )
    assert body["max_completion_tokens"] == 5 and auto.system == "openai" and auto.server_port == 443


async def test_structured_output_uses_json_schema(serve) -> None:
    emulator, model = serve()
    schema = OutputSchema("city answer", {"type": "object", "properties": {"city": {"type": "string"}}})
    emulator.queue(Reply(text='{"city": "Paris"}'))
    resp = await model.respond(request([UserMessage.of("Capital?")], output_schema=schema))
    assert emulator.last_body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "city_answer", "schema": schema.schema, "strict": True},
    }
    assert json.loads(resp.text) == {"city": "Paris"}

    emulator2, plain = serve(structured_output="json_object")
    await plain.respond(request([UserMessage.of("Capital?")], output_schema=schema))
    assert emulator2.last_body["response_format"] == {"type": "json_object"}
    assert '"city"' in emulator2.last_body["messages"][0]["content"]


@pytest.mark.parametrize("reason", ["length", "content_filter"])
@pytest.mark.parametrize("streaming", [False, True])
async def test_finish_reasons(serve, reason: str, streaming: bool) -> None:
    emulator, model = serve()
    emulator.finish_reasons.append(reason)
    emulator.queue(Reply(text="cut"))
    req = request([UserMessage.of("Long story")])
    resp = (await collect(model.stream(req)))[1] if streaming else await model.respond(req)
    assert resp.finish_reason == reason


# --------------------------------------------------------------------------- construction


def test_model_string_and_registry() -> None:
    model = resolve_model("openai-chat:llama3@http://127.0.0.1:8000/v1")
    assert isinstance(model, OpenAIChatModel)
    assert (model.model_name, model.server_address, model.server_port) == ("llama3", "127.0.0.1", 8000)
    assert model.provider == "openai-chat" and model.max_tokens_param == "max_tokens"
    assert str(model.client.base_url).startswith("http://127.0.0.1:8000/v1")
    deepseek = OpenAIChatModel("deepseek-reasoner", base_url="https://api.deepseek.com", api_key="k")
    assert deepseek.system == "deepseek"


def test_a_prebuilt_client_is_used_without_retries() -> None:
    client = openai.AsyncOpenAI(api_key="k", base_url="http://127.0.0.1:1/v1", max_retries=5)
    model = OpenAIChatModel("m", client=client)
    assert model.client.max_retries == 0 and model.server_port == 1


# --------------------------------------------------------------------------- through the runner


async def test_runner_tool_loop_and_handoff_on_a_strict_server(serve) -> None:
    from agentcore import Agent, Runner, tool

    @tool
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"rain in {city}"

    emulator, model = serve(ChatQuirks.openai(), model="gpt-4o")
    specialist = Agent(name="weather", instructions="You know the weather.", model=model, tools=[get_weather])
    triage = Agent(name="triage", instructions="Route the user.", model=model, handoffs=[specialist])
    emulator.queue(
        Reply(tool_calls=[ToolCallReply("transfer_to_weather", {})]),
        Reply(tool_calls=[ToolCallReply("get_weather", {"city": "Rome"})]),
        Reply(text="It rains in Rome."),
    )
    result = await Runner.run(triage, "Weather in Rome?")
    assert result.final_output == "It rains in Rome." and result.last_agent == "weather"
    last = emulator.last_body["messages"]
    assert last[0] == {"role": "system", "content": "You know the weather."}
    assert [m["role"] for m in last[1:]] == ["user", "assistant", "tool", "assistant", "tool"]
    assert last[-1]["content"] == "rain in Rome"


def test_legacy_function_call_answers_become_tool_calls() -> None:
    b = ResponseBuilder("openai-chat", "m")
    message = {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": '{"x": 1}'}}
    b.add_completion({"id": "r1", "choices": [{"message": message, "finish_reason": "function_call"}]})
    resp = b.build()
    (call,) = resp.items
    assert isinstance(call, ToolCall) and (call.name, call.arguments) == ("f", '{"x": 1}') and call.call_id
    assert resp.finish_reason == "tool_calls"
