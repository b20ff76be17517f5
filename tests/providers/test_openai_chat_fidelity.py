"""``openai-chat`` fidelity: the emulator against the recorded exchanges, its strictness, and the
encoding properties the performance target rests on (each item encoded once; incremental = fresh).

Cassette tests read ``../shared/cassettes/openai_chat/`` and skip cleanly where it is absent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from openai.types.chat import ChatCompletion, ChatCompletionChunk

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
from agentcore.model import ModelReasoningDelta, ModelRequest, ToolSpec
from agentcore.providers.openai.chat import OpenAIChatModel
from agentcore.providers.openai.chat_parse import ResponseBuilder
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_chat import ChatCompletionsEmulator, ChatQuirks
from tests.providers import test_openai_chat as chat
from tests.providers.harness import CASSETTES as CASSETTE_ROOT
from tests.providers.test_openai_chat import TIME, collect, request, tool_loop

# The emulator fixtures of test_openai_chat (named ``serve`` and ``emulators``).
serve_fixture = chat.serve_fixture
emulators_fixture = chat.emulators_fixture

CASSETTES = CASSETTE_ROOT / "openai_chat"


# --------------------------------------------------------------------------- emulator strictness


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ([{"role": "bot", "content": "x"}], "Invalid value: 'bot'"),
        ([{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "c1", "content": "r"}], "preceeding"),
        (
            [
                {"role": "user", "content": "x"},
                {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                                      "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "user", "content": "y"},
            ],
            "did not have response messages: c1",
        ),
        (
            [
                {"role": "user", "content": "x"},
                {"role": "assistant", "tool_calls": [{"id": "c" * 41, "type": "function",
                                                      "function": {"name": "f", "arguments": "{}"}}]},
            ],
            "string too long",
        ),
        ([{"role": "user", "content": "x"}, {"role": "assistant", "content": "a", "reasoning_content": "r"}],
         "'reasoning_content' was unexpected"),
    ],
)  # fmt: skip
def test_emulator_rejects_what_openai_rejects(serve, messages: list[dict[str, Any]], fragment: str) -> None:
    emulator, _ = serve(ChatQuirks.openai())
    r = httpx.post(
        f"{emulator.base_url}/v1/chat/completions",
        json={"model": "gpt-4o", "messages": messages},
        headers={"authorization": "Bearer test-key"},
    )
    assert r.status_code == 400
    assert fragment in r.json()["error"]["message"]
    assert r.json()["error"]["type"] == "invalid_request_error"


# --------------------------------------------------------------------------- performance shape


async def test_each_item_is_encoded_once(serve, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator, model = serve(model="encode-once-model")
    encoder = model._encoder
    calls: list[str] = []
    original = encoder._encode_item

    def counting(item: Item) -> Any:
        calls.append(item.id)
        return original(item)

    monkeypatch.setattr(encoder, "_encode_item", counting)
    emulator.queue(*[Reply(tool_calls=[ToolCallReply("get_time", {})]) for _ in range(5)], Reply(text="done"))
    items = await tool_loop(model, [UserMessage.of("Loop")], streaming=False, tools=(TIME,))
    assert len(calls) == len(set(calls)) == len(items) - 1, (
        "every item encoded exactly once (last one never sent)"
    )

    # a fresh adapter for the same model (the runner makes one per run) reuses the encoded bytes
    again = OpenAIChatModel("encode-once-model", base_url=emulator.base_url + "/v1", api_key="test-key")
    monkeypatch.setattr(again._encoder, "_encode_item", counting)
    again.build_body(request(items), stream=False)
    assert len(calls) == len(items)


# --------------------------------------------------------------------------- cassette fidelity

needs_cassettes = pytest.mark.skipif(not CASSETTES.is_dir(), reason="../shared/cassettes not available")


def _cassette(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((CASSETTES / name).read_text())["interactions"]


def _sse_payloads(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if line.startswith("data: ") and line[6:].strip() != "[DONE]":
            out.append(json.loads(line[6:]))
    return out


def _shape(value: Any) -> Any:
    """Keys and JSON types, recursively (lists by the shape of their first element)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


@needs_cassettes
def test_sdk_parses_every_recorded_response_body() -> None:
    for name in ("test_openai_tool_output.yaml", "test_compatible_api_with_tool_calls_without_id.yaml"):
        for exchange in _cassette(name):
            ChatCompletion.model_validate(exchange["response"]["parsed_body"])
    for name in ("test_tool_use_basic.yaml", "test_tools_streaming_variant_a.yaml"):
        for exchange in _cassette(name):
            for chunk in _sse_payloads(exchange["response"]["body"]["string"]):
                ChatCompletionChunk.model_validate(chunk)
    for line in (CASSETTES / "deepseek-tool-call.chunks.txt").read_text().splitlines():
        ChatCompletionChunk.model_validate(json.loads(line))


@needs_cassettes
def test_recorded_deepseek_stream_assembles() -> None:
    builder = ResponseBuilder("openai-chat", "deepseek-reasoner")
    events = []
    for line in (CASSETTES / "deepseek-tool-call.chunks.txt").read_text().splitlines():
        events += builder.add_chunk(json.loads(line))
    resp = builder.build()
    reasoning, call = resp.items
    assert isinstance(reasoning, Reasoning) and reasoning.summary.startswith(
        "The user is asking for the weather"
    )
    assert isinstance(call, ToolCall) and json.loads(call.arguments) == {"location": "San Francisco"}
    assert call.call_id.startswith("call_00_")
    assert resp.finish_reason == "tool_calls"
    assert (resp.usage.input_tokens, resp.usage.cached_input_tokens, resp.usage.reasoning_tokens) == (
        339,
        320,
        39,
    )
    assert any(isinstance(e, ModelReasoningDelta) for e in events)


@needs_cassettes
@pytest.mark.parametrize("name", ["test_tool_use_basic.yaml", "test_tools_streaming_variant_a.yaml"])
def test_recorded_streams_assemble(name: str) -> None:
    first = _cassette(name)[0]
    builder = ResponseBuilder("openai-chat", "m")
    for chunk in _sse_payloads(first["response"]["body"]["string"]):
        builder.add_chunk(chunk)
    calls = [i for i in builder.build().items if isinstance(i, ToolCall)]
    assert len(calls) == 1 and calls[0].call_id and json.loads(calls[0].arguments) is not None


@needs_cassettes
async def test_emulator_replies_match_recorded_shapes(serve) -> None:
    """Our emulator's bodies parse with the SDK and carry the recorded fields; our requests match recorded ones."""
    recorded = _cassette("test_openai_tool_output.yaml")
    emulator, model = serve(ChatQuirks.openai(), model="gpt-4o")
    emulator.queue(Reply(tool_calls=[ToolCallReply("get_user_country", {})]), Reply(text="Mexico City."))
    spec = ToolSpec(
        "get_user_country", "", {"additionalProperties": False, "properties": {}, "type": "object"}
    )
    await tool_loop(model, [UserMessage.of("What is the largest city in the user country?")], streaming=False,
                    tools=(spec,))  # fmt: skip

    for ours, theirs in zip(emulator.requests, recorded, strict=True):
        ours_msgs = ours.body["messages"][1:]  # ours has a system message first
        assert [_shape(m) for m in ours_msgs] == [
            _shape(m) for m in theirs["request"]["parsed_body"]["messages"]
        ]
        assert _shape(ours.body["tools"][0]) == _shape(theirs["request"]["parsed_body"]["tools"][0])
    # the emulator's JSON reply has the recorded top-level and message keys
    reply = ChatCompletionsEmulator(ChatQuirks.openai())._completion(
        {"model": "gpt-4o"}, Reply(tool_calls=[ToolCallReply("f", {})]), None, 100
    )
    ChatCompletion.model_validate(reply)
    real = recorded[0]["response"]["parsed_body"]
    assert set(real) <= set(reply) | {"service_tier"}
    assert set(real["choices"][0]["message"]) == set(reply["choices"][0]["message"])
    assert _shape(real["usage"]) == _shape(reply["usage"])


@needs_cassettes
def test_emulator_deepseek_chunks_match_recorded_shape() -> None:
    recorded = [json.loads(x) for x in (CASSETTES / "deepseek-tool-call.chunks.txt").read_text().splitlines()]
    emulator = ChatCompletionsEmulator(ChatQuirks.deepseek())
    reply = Reply(
        reasoning="Think.", tool_calls=[ToolCallReply("weather", {"location": "SF"})], cached_tokens=3
    )
    ours, done = emulator._chunks({"model": "deepseek-reasoner"}, reply, None, True, 400)
    assert done
    for chunk in ours:
        ChatCompletionChunk.model_validate(chunk)
    assert set(ours[0]["choices"][0]["delta"]) == set(recorded[0]["choices"][0]["delta"])
    assert set(ours[0]) == set(recorded[0])
    assert set(ours[-1]["usage"]) == set(recorded[-1]["usage"])
    assert (
        ours[-1]["choices"][0]["finish_reason"] == recorded[-1]["choices"][0]["finish_reason"] == "tool_calls"
    )


@needs_cassettes
async def test_streamed_exchange_matches_the_recorded_one(serve) -> None:
    """gpt-4o-mini streaming tool round trip (simonw/llm cassette): our request and the emulator's chunks."""
    recorded = _cassette("test_tool_use_basic.yaml")
    real_request = json.loads(recorded[0]["request"]["body"])
    real_chunks = _sse_payloads(recorded[0]["response"]["body"]["string"])

    emulator, model = serve(ChatQuirks.openai(), model="gpt-4o-mini")
    emulator.queue(Reply(tool_calls=[ToolCallReply("multiply", {"a": 1231, "b": 2331})]))
    spec = ToolSpec("multiply", "Multiply two numbers.", real_request["tools"][0]["function"]["parameters"])
    await collect(model.stream(ModelRequest(instructions=None, items=[UserMessage.of("What is 1231 * 2331?")],
                                            tools=[spec])))  # fmt: skip
    ours = emulator.last_body
    assert _shape(ours) == _shape(real_request)
    assert ours["tools"] == real_request["tools"]

    body = dict(ours)
    chunks, _ = emulator._chunks(
        body, Reply(tool_calls=[ToolCallReply("multiply", {"a": 1})]), None, True, 300
    )
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk)
    assert [set(c) for c in chunks] == [set(c) for c in real_chunks[: len(chunks) - 2]] + [
        set(real_chunks[-2]),
        set(real_chunks[-1]),
    ]
    assert set(chunks[0]["choices"][0]["delta"]) == set(real_chunks[0]["choices"][0]["delta"])
    assert _shape(chunks[-1]["usage"]) == _shape(real_chunks[-1]["usage"])


def _grow(*steps: list[Item]) -> Iterator[list[Item]]:
    items: list[Item] = []
    for step in steps:
        items = [*items, *step]
        yield items


@pytest.mark.parametrize("replay", ["auto", "always", "never"])
def test_incremental_encoding_matches_a_fresh_encoding(replay: str) -> None:
    """Resuming from the previous call's checkpoint gives the bytes a from-scratch encoding gives."""
    from agentcore.providers.openai.chat_wire import MessageEncoder

    def own(text: str) -> Reasoning:
        state = ProviderState(
            provider="openai-chat", model="m", kind="reasoning", payload={"field": "reasoning"}
        )
        return Reasoning(summary=text, state=(state,))

    call = ToolCall(call_id="c1", name="get_time")
    late = ToolCall(call_id="c2", name="get_time")
    steps: list[list[Item]] = [
        [UserMessage.of("one")],
        [own("plan"), AssistantMessage(text="Let me think.")],  # no tool call in this turn yet...
        [ToolResult(call_id="gone", name="x", output="orphan")],  # (ends the assistant message)
        [own("now a tool"), late],  # ...until now: the earlier reasoning must be replayed too
        [AssistantMessage(text="after the call"), ToolResult(call_id="c2", name="get_time", output="noon")],
        [Handoff(from_agent="a", to_agent="b"), Reasoning(summary="foreign")],
        [UserMessage.of("two"), own("again"), call],
        [ToolResult(call_id="c1", name="get_time", output="one")],
        [AssistantMessage(text="Done.")],
        [UserMessage.of("three"), own("no tools"), AssistantMessage(text="Bye.")],
        [
            UserMessage.of("four"),
            ToolCall(call_id="c3", name="get_time"),
            ToolCall(call_id="c4", name="get_time"),
        ],
        [ToolResult(call_id="c4", name="get_time", output="four")],
        [UserMessage.of("five")],  # c3 never got a result
    ]
    incremental = MessageEncoder("openai-chat", "m", replay_reasoning=replay)  # type: ignore[arg-type]
    for items in _grow(*steps):
        fresh = MessageEncoder("openai-chat", "m", replay_reasoning=replay)  # type: ignore[arg-type]
        assert incremental.encode("sys", items) == fresh.encode("sys", items)
    assert incremental._checkpoints, "later calls resumed from a checkpoint"

    # an edit before the checkpoint is noticed (items are compared by identity)
    edited = list(items)
    edited[0] = UserMessage.of("ONE")
    fresh = MessageEncoder("openai-chat", "m", replay_reasoning=replay)  # type: ignore[arg-type]
    assert incremental.encode("sys", edited) == fresh.encode("sys", edited)
    assert b"ONE" in incremental.encode(None, edited)[0]
