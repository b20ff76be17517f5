# ruff: noqa: F811  (pytest fixtures imported from anthropic_support are redefined as test parameters)
"""The Anthropic Messages adapter, driven through the real ``anthropic`` SDK against the local emulator.

Read top to bottom, this is what the adapter promises: the request it sends (2026-10-21 rules, tool
pairing, merged roles, cache breakpoints, structured output), what it keeps and echoes (thinking
blocks with their signatures, byte for byte, append-only), what it drops (other vendors' and other
models' state), usage and error mapping, streaming, and fidelity to recorded real exchanges.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentcore import errors, tracing
from agentcore.messages import (
    AssistantMessage,
    Item,
    ToolCall,
    ToolResult,
    UserMessage,
)
from agentcore.model import (
    ModelReasoningDelta,
    ModelResponseDone,
    ModelSettings,
    ModelTextDelta,
    ModelToolCallDelta,
    OutputSchema,
    ToolSpec,
)
from agentcore.providers.anthropic.model import AnthropicModel
from agentcore.registry import resolve_model
from tests.emulators.anthropic import AnthropicEmulator
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

# --------------------------------------------------------------------------- the request


async def test_plain_text_request_follows_the_2026_10_21_api(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    emu.queue(Reply(text="Hello!"))
    response = await model.respond(req([UserMessage.of("Hi")], tools=()))
    assert response.text == "Hello!"
    assert response.finish_reason == "stop"
    headers = emu.requests[-1].headers
    assert headers["anthropic-version"] == "2026-10-21"
    assert headers["authorization"] == "Bearer test-key"
    assert headers["x-stainless-retry-count"] == "0"
    body = wire(emu)
    assert body["model"] == "claude-sonnet-4-5"
    assert body["max_tokens"] == 8192  # required by the API: always sent
    assert strip_cache(body["system"]) == [{"type": "text", "text": "You are terse."}]
    assert strip_cache(body["messages"]) == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]


async def test_sampling_settings_are_never_sent_and_the_trace_says_so(
    model: AnthropicModel, emu: AnthropicEmulator, spans: InMemorySpanExporter
) -> None:
    settings = ModelSettings(temperature=0.2, top_p=0.9, seed=7, max_tokens=1000, stop=("END",))
    emu.queue(Reply(text="ok"))
    with tracing.span("chat"):
        await model.respond(req([UserMessage.of("Hi")], settings=settings))
    body = wire(emu)
    assert "temperature" not in body and "top_p" not in body and "seed" not in body
    assert body["max_tokens"] == 1000 and body["stop_sequences"] == ["END"]
    events = [(e.name, dict(e.attributes or {})) for e in spans.get_finished_spans()[0].events]
    assert (
        "anthropic.settings_dropped",
        {"settings": "temperature,top_p", "reason": "rejected by 2026-10-21"},
    ) in events


async def test_max_tokens_default_is_configurable(emu: AnthropicEmulator) -> None:
    m = AnthropicModel(
        "claude-sonnet-4-5", base_url=emu.base_url, api_key="k", max_tokens=2048, thinking=4096
    )
    await m.respond(req([UserMessage.of("Hi")]))
    assert wire(emu)["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert wire(emu)["max_tokens"] > 4096  # raised above the thinking budget, as the API requires


async def test_structured_output_uses_native_output_format(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string", "minLength": 2}},
        "required": ["city"],
    }
    emu.queue(Reply(text='{"city": "Paris"}'))
    settings = ModelSettings(reasoning_effort="high")
    response = await model.respond(
        req(
            [UserMessage.of("Capital of France?")],
            output_schema=OutputSchema("City", schema),
            settings=settings,
        )
    )
    assert json.loads(response.text) == {"city": "Paris"}
    # the schema is made acceptable to structured outputs with the SDK's own transform: objects closed,
    # constraints the API cannot enforce moved into the description
    strict = {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "{minLength: 2}"}},
        "additionalProperties": False,
        "required": ["city"],
    }
    assert wire(emu)["output_config"] == {
        "effort": "high",
        "format": {"type": "json_schema", "schema": strict},
    }


async def test_strict_tools_get_a_closed_input_schema(model: AnthropicModel, emu: AnthropicEmulator) -> None:
    strict_tool = ToolSpec(
        "lookup", "Look up.", {"type": "object", "properties": {"q": {"type": "string"}}}, True
    )
    await model.respond(req([UserMessage.of("Hi")], tools=(strict_tool, WEATHER)))
    lookup, weather = wire(emu)["tools"]
    assert lookup["strict"] is True and lookup["input_schema"]["additionalProperties"] is False
    assert "additionalProperties" not in weather["input_schema"] and "strict" not in weather


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("required", None, {"type": "any"}),
        ("none", None, {"type": "none"}),
        ("get_time", False, {"type": "tool", "name": "get_time", "disable_parallel_tool_use": True}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    ],
)
async def test_tool_choice(
    model: AnthropicModel, emu: AnthropicEmulator, choice: str | None, parallel: bool | None, expected: Any
) -> None:
    settings = ModelSettings(tool_choice=choice, parallel_tool_calls=parallel)
    await model.respond(req([UserMessage.of("Hi")], tools=(WEATHER, TIME), settings=settings))
    assert wire(emu)["tool_choice"] == expected


async def test_extra_settings_are_merged_into_the_body(model: AnthropicModel, emu: AnthropicEmulator) -> None:
    await model.respond(
        req([UserMessage.of("Hi")], settings=ModelSettings(extra={"metadata": {"user_id": "u1"}}))
    )
    assert wire(emu)["metadata"] == {"user_id": "u1"}


# --------------------------------------------------------------------------- tools


async def test_parallel_tool_results_go_in_one_user_message_results_first(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    items: list[Item] = [UserMessage.of("Weather and time in Paris?")]
    calls = [ToolCallReply("get_weather", {"city": "Paris"}), ToolCallReply("get_time", {"city": "Paris"})]
    first = await tool_turn(model, emu, items, Reply(text="Checking.", tool_calls=calls))
    assert [type(i).__name__ for i in first.items] == ["AssistantMessage", "ToolCall", "ToolCall"]
    assert first.finish_reason == "tool_calls"
    items[-1] = items[-1].model_copy(update={"is_error": True, "output": "clock broken"})
    items.append(UserMessage.of("Also, be brief."))  # merged into the same user turn, after the results
    emu.queue(Reply(text="Sunny; time unknown."))
    await model.respond(req(items))
    messages = strip_cache(wire(emu)["messages"])
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert [b["type"] for b in messages[1]["content"]] == ["text", "tool_use", "tool_use"]
    results = messages[2]["content"]
    assert [b["type"] for b in results] == ["tool_result", "tool_result", "text"]
    assert results[0]["tool_use_id"] == first.items[1].call_id  # type: ignore[union-attr]
    assert results[1] == {
        "type": "tool_result",
        "tool_use_id": first.items[2].call_id,  # type: ignore[union-attr]
        "content": "clock broken",
        "is_error": True,
    }


async def test_foreign_tool_ids_are_remapped_consistently(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    items: list[Item] = [
        UserMessage.of("Weather?"),
        ToolCall(call_id="fc:1/gemini call", name="get_weather", arguments='{"city": "Oslo"}'),
        ToolResult(call_id="fc:1/gemini call", name="get_weather", output="snow"),
    ]
    await model.respond(req(items))  # the emulator rejects ids outside ^[a-zA-Z0-9_-]+$
    messages = wire(emu)["messages"]
    call_id = messages[1]["content"][0]["id"]
    assert call_id.startswith("toolu_") and messages[2]["content"][0]["tool_use_id"] == call_id


async def test_orphan_results_become_text_and_missing_results_are_filled(
    model: AnthropicModel, emu: AnthropicEmulator, spans: InMemorySpanExporter
) -> None:
    items: list[Item] = [
        UserMessage.of("Hi"),
        ToolResult(call_id="call_gone", name="get_weather", output="rain"),  # its call was filtered out
        AssistantMessage(text="Let me check."),
        ToolCall(call_id="call_1", name="get_weather", arguments="{}"),  # never answered
        UserMessage.of("Never mind."),
    ]
    with tracing.span("chat"):
        await model.respond(req(items))
    messages = strip_cache(wire(emu)["messages"])
    assert messages[0]["content"][0] == {
        "type": "text",
        "text": "[tool get_weather (call_gone) returned]: rain",
    }
    assert messages[2]["content"][0]["tool_use_id"] == "call_1" and messages[2]["content"][0]["is_error"]
    names = {e.name for e in spans.get_finished_spans()[0].events}
    assert {"anthropic.orphan_tool_results", "anthropic.tool_result_missing"} <= names


# --------------------------------------------------------------------------- caching and usage


async def test_cache_breakpoints_sit_on_the_stable_prefix(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    items: list[Item] = [UserMessage.of("Go.")]
    await tool_turn(model, emu, items, Reply(tool_calls=[ToolCallReply("get_weather", {})]))
    await model.respond(req(items))
    body = wire(emu)
    marked = [("tools", len(body["tools"]) - 1), ("system", len(body["system"]) - 1)]
    marked += [(f"messages.{n}", len(m["content"]) - 1) for n, m in enumerate(body["messages"])]
    has = [
        where
        for where, last in marked
        if (body[where] if "." not in where else body["messages"][int(where.split(".")[1])]["content"])[
            last
        ].get("cache_control")
    ]
    assert has == ["tools", "system", "messages.0", "messages.2"]  # previous user turn and the newest message


async def test_long_runs_pay_cached_input_prices(model: AnthropicModel, emu: AnthropicEmulator) -> None:
    items: list[Item] = [UserMessage.of("Read every file. " * 30)]
    usages = []
    for _ in range(6):
        response = await tool_turn(model, emu, items, Reply(tool_calls=[ToolCallReply("get_weather", {})]))
        usages.append(response.usage)
    assert usages[0].cached_input_tokens == 0 and usages[0].cache_write_tokens > 0
    for before, after in itertools.pairwise(usages):
        assert after.cached_input_tokens > before.cached_input_tokens
    last = usages[-1]
    assert last.cached_input_tokens > 0.7 * last.input_tokens  # most of the prompt is read from cache


async def test_usage_is_normalized(model: AnthropicModel, emu: AnthropicEmulator) -> None:
    emu.queue(Reply(text="hi", input_tokens=100, cached_tokens=40, output_tokens=9))
    usage = (await model.respond(req([UserMessage.of("Hi")]))).usage
    assert (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens, usage.requests) == (
        100,
        40,
        9,
        1,
    )


def test_usage_mapping_of_a_recorded_response() -> None:
    from agentcore.providers.anthropic.decode import usage_from

    usage = usage_from(
        {"input_tokens": 3, "cache_read_input_tokens": 1111, "cache_creation_input_tokens": 418}
    )
    assert (usage.input_tokens, usage.cached_input_tokens, usage.cache_write_tokens) == (1532, 1111, 418)


# --------------------------------------------------------------------------- streaming


async def test_streaming_yields_deltas_and_one_final_response(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    emu.queue(
        Reply(
            reasoning="Think first.",
            text="Calling the tool now.",
            tool_calls=[ToolCallReply("get_weather", {"city": "Rome"})],
        )
    )
    events = [e async for e in model.stream(req([UserMessage.of("Rome?")]))]
    assert wire(emu)["stream"] is True
    assert "".join(e.text for e in events if isinstance(e, ModelReasoningDelta)) == "Think first."
    assert "".join(e.text for e in events if isinstance(e, ModelTextDelta)) == "Calling the tool now."
    tool_deltas = [e for e in events if isinstance(e, ModelToolCallDelta)]
    assert tool_deltas[0].name == "get_weather" and tool_deltas[0].call_id
    assert json.loads("".join(d.arguments for d in tool_deltas)) == {"city": "Rome"}
    done = [e for e in events if isinstance(e, ModelResponseDone)]
    assert len(done) == 1 and events[-1] is done[0]
    items = done[0].response.items
    assert [type(i).__name__ for i in items] == ["Reasoning", "AssistantMessage", "ToolCall"]
    assert items[0].state[0].payload["block"]["signature"].startswith("Eq")
    # the streamed thinking block is accepted back by the API
    history: list[Item] = [UserMessage.of("Rome?"), *items]
    history.append(ToolResult(call_id=items[2].call_id, name="get_weather", output="warm"))  # type: ignore[union-attr]
    await model.respond(req(history))


async def test_mid_stream_error_event_is_a_retryable_stream_error(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    emu.queue(Reply(text="This will break halfway", stream_error=True))
    with pytest.raises(errors.ModelStreamError, match="overloaded_error") as info:
        async for _ in model.stream(req([UserMessage.of("Hi")])):
            pass
    assert info.value.retryable


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "message", "error_type", "expected"),
    [
        (529, "Overloaded", None, errors.OverloadedError),
        (500, "Internal server error", None, errors.ServerError),
        (400, "prompt is too long: 208000 tokens > 200000 maximum", None, errors.ContextTooLongError),
        (400, "messages: bad", None, errors.InvalidRequestError),
        (404, "model: claude-sonet-4-5", None, errors.InvalidRequestError),
        (401, "invalid x-api-key", None, errors.AuthenticationError),
        (403, "no access", None, errors.AuthenticationError),
    ],
)
async def test_http_errors_map_to_typed_errors(
    model: AnthropicModel,
    emu: AnthropicEmulator,
    status: int,
    message: str,
    error_type: str | None,
    expected: type,
) -> None:
    emu.queue(Reply(error=(status, message), error_type=error_type))
    with pytest.raises(expected) as info:
        await model.respond(req([UserMessage.of("Hi")]))
    assert type(info.value) is expected
    assert info.value.status_code == status and info.value.provider == "anthropic"
    assert info.value.body["error"]["message"] == message


async def test_rate_limit_carries_retry_after(model: AnthropicModel, emu: AnthropicEmulator) -> None:
    emu.queue(
        Reply(
            error=(429, "Number of request tokens has exceeded your rate limit"), headers={"retry-after": "7"}
        )
    )
    with pytest.raises(errors.RateLimitError) as info:
        async for _ in model.stream(req([UserMessage.of("Hi")])):
            pass
    assert info.value.retry_after == 7.0 and info.value.retryable


async def test_rate_limit_without_retry_after_uses_the_ratelimit_reset(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    emu.queue(Reply(error=(429, "rate limited")))
    with pytest.raises(errors.RateLimitError) as info:
        await model.respond(req([UserMessage.of("Hi")]))
    assert info.value.retry_after is not None and 0 <= info.value.retry_after <= 3


async def test_unreachable_server_is_a_transport_error() -> None:
    m = AnthropicModel("claude-sonnet-4-5", base_url="http://127.0.0.1:9", api_key="k")
    with pytest.raises(errors.TransportError):
        await m.respond(req([UserMessage.of("Hi")]))


def test_registry_builds_the_adapter(emu: AnthropicEmulator) -> None:
    m = resolve_model("anthropic:claude-haiku-4-5", base_url=emu.base_url, api_key="k")
    assert isinstance(m, AnthropicModel)
    assert (m.provider, m.system, m.model_name, m.server_address) == (
        "anthropic",
        "anthropic",
        "claude-haiku-4-5",
        "127.0.0.1",
    )
    assert m.client.max_retries == 0


async def test_a_server_that_never_answers_is_a_timeout() -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts connections (kernel backlog) but never replies
    try:
        port = listener.getsockname()[1]
        m = AnthropicModel("claude-sonnet-4-5", base_url=f"http://127.0.0.1:{port}", api_key="k", timeout=0.2)
        with pytest.raises(errors.ModelTimeoutError) as info:
            await m.respond(req([UserMessage.of("Hi")]))
        assert info.value.retryable
    finally:
        listener.close()


async def test_documents_images_and_odd_tool_arguments_are_sent_in_accepted_shapes(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    import base64

    from agentcore.messages import FilePart, ImagePart, TextPart

    pdf = FilePart(
        data=base64.b64encode(b"%PDF-1.4").decode(), media_type="application/pdf", filename="a.pdf"
    )
    text = FilePart(data=base64.b64encode(b"hello notes").decode(), media_type="text/plain")
    image = ImagePart(url="https://example.invalid/cat.png")
    items: list[Item] = [
        UserMessage(content=(TextPart(text="Read these."), pdf, text, image)),
        ToolCall(call_id="call_1", name="get_weather", arguments="not json"),  # another vendor's broken call
        ToolResult(call_id="call_1", name="get_weather", output=""),
    ]
    await model.respond(req(items))  # the strict emulator accepts every block
    user, call, result = (strip_cache(m["content"]) for m in wire(emu)["messages"])
    assert [b["type"] for b in user] == ["text", "document", "document", "image"]
    assert user[1]["source"]["type"] == "base64" and user[1]["title"] == "a.pdf"
    assert user[2]["source"] == {"type": "text", "media_type": "text/plain", "data": "hello notes"}
    assert user[3]["source"] == {"type": "url", "url": "https://example.invalid/cat.png"}
    assert call[0]["input"] == {"arguments": "not json"}
    assert result[0] == {"type": "tool_result", "tool_use_id": "call_1", "is_error": False}


async def test_a_caller_built_client_is_used_with_sdk_retries_off(emu: AnthropicEmulator) -> None:
    from anthropic import AsyncAnthropic

    client = AsyncAnthropic(base_url=emu.base_url, api_key="k", max_retries=5)
    m = AnthropicModel("claude-sonnet-4-5", client=client)
    emu.queue(Reply(error=(529, "Overloaded")), Reply(text="not reached"))
    with pytest.raises(errors.OverloadedError):
        await m.respond(req([UserMessage.of("Hi")]))
    assert len(emu.requests) == 1  # the core's retry policy decides, not the SDK
