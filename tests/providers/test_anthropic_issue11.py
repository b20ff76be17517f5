# ruff: noqa: F811  (pytest fixtures imported from anthropic_support are redefined as test parameters)
"""Issue 11, Anthropic: server-tool blocks in streams (3), invalid tool JSON (4), malformed answers
(5), server-side compaction (7) and a missing API key (17). Test names carry the item number."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from anthropic.types import Message, RawMessageStreamEvent
from pydantic import TypeAdapter

from agentcore import Agent, RetryPolicy, Runner, tool
from agentcore.errors import (
    MissingCredentialsError,
    ModelCallFailed,
    ModelStreamError,
    ServerError,
)
from agentcore.events import TextDelta
from agentcore.messages import AssistantMessage, HostedToolUse, Item, ToolCall, UserMessage
from agentcore.model import ModelResponse, ModelResponseDone, ModelTextDelta
from agentcore.providers.anthropic.decode import BlockDecoder, StreamAssembler, usage_from
from agentcore.providers.anthropic.encode import RequestEncoder
from agentcore.providers.anthropic.model import AnthropicModel
from agentcore.registry import resolve_model
from tests.emulators.anthropic import AnthropicEmulator, AnthropicReply
from tests.emulators.anthropic_rules import Rejected, check_messages
from tests.emulators.base import Reply, ToolCallReply
from tests.providers.anthropic_support import (  # noqa: F401  (fixtures)
    CannedServer,
    emu,
    model,
    req,
    spans,
    sse,
    strip_cache,
)
from tests.providers.harness import CASSETTES as CASSETTE_ROOT

CASSETTES = CASSETTE_ROOT / "anthropic"
needs_cassettes = pytest.mark.skipif(not CASSETTES.is_dir(), reason="../shared/cassettes is not available")
EVENTS: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)
FAST = RetryPolicy(initial_delay=0.001, max_delay=0.01, jitter=0.0)
HEADERS = {"authorization": "Bearer k", "anthropic-version": "2026-10-21"}


def recorded(name: str) -> Any:
    return json.loads((CASSETTES / name).read_text())


def recorded_chunks(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (CASSETTES / name).read_text().splitlines() if line.strip()]


def assemble(events: list[dict[str, Any]], model_name: str = "claude-sonnet-4-5") -> ModelResponse:
    asm = StreamAssembler()
    for event in events:
        asm.feed(event)
    assert asm.stopped
    return BlockDecoder(model_name, "b").response(asm.final(), asm.raw_inputs)


def block_of(item: Item) -> dict[str, Any]:
    block: dict[str, Any] = item.state[0].payload["block"]
    return block


def blocks_of(items: list[Item]) -> list[dict[str, Any]]:
    """The content blocks the items stand for, in order (a hosted tool item holds several)."""
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, HostedToolUse):
            out.extend(s.payload["block"] for s in item.state)
        elif item.state:
            out.append(block_of(item))
        elif isinstance(item, ToolCall):
            out.append({"type": "tool_use", "id": item.call_id, "name": item.name})
        else:
            assert isinstance(item, AssistantMessage)
            out.append({"type": "text", "text": item.text})
    return out


def wire_assistant(emu: AnthropicEmulator, n: int = -1, message: int = 1) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = strip_cache(emu.requests[n].body["messages"][message]["content"])
    return content


# --------------------------------------------------------------------------- item 3: server-tool blocks


@needs_cassettes
def test_item3_the_recorded_code_execution_stream_parses() -> None:
    """vercel/ai's recording: server_tool_use streams its input as input_json_delta, results arrive whole."""
    events = recorded_chunks("anthropic-code-execution-20250825.1.chunks.txt")
    asm = StreamAssembler()
    deltas = [d for e in events for d in asm.feed(e)]
    message = asm.final()
    assert Message.model_validate(message).stop_reason == "end_turn"  # the SDK reads what we assembled
    assert message["container"]["id"].startswith("container_")  # message_delta's container is kept
    response = BlockDecoder("claude-sonnet-4-5", "b").response(message, asm.raw_inputs)
    kinds = [b["type"] for b in message["content"]]
    assert kinds == [
        "text",
        "server_tool_use",
        "text_editor_code_execution_tool_result",
        "text",
        "server_tool_use",
        "bash_code_execution_tool_result",
        "text",
    ]
    assert message["content"][1]["input"]["command"] == "create"
    assert message["content"][1]["input"]["file_text"].startswith("def fibonacci(n):")
    assert message["content"][4]["input"] == {"command": "python /tmp/fibonacci.py"}
    assert [type(i).__name__ for i in response.items] == ["AssistantMessage", "HostedToolUse"] * 2 + [
        "AssistantMessage"
    ]
    assert blocks_of(response.items) == message["content"]  # every block kept, in its place
    assert response.text == "".join(d.text for d in deltas if isinstance(d, ModelTextDelta))
    assert response.usage.input_tokens == 8050 and response.usage.output_tokens == 771


def _recorded_answers() -> list[tuple[str, Any]]:
    """Every recorded Anthropic answer with a 200: (name, JSON body or list of SSE event payloads)."""
    if not CASSETTES.is_dir():
        return []
    out: list[tuple[str, Any]] = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        for n, interaction in enumerate(yaml.safe_load(path.read_text())["interactions"]):
            if "anthropic.com" not in interaction["request"]["uri"]:
                continue
            if interaction["response"]["status"]["code"] != 200:
                continue
            resp = interaction["response"]
            if "parsed_body" in resp:
                out.append((f"{path.stem}#{n}", resp["parsed_body"]))
            else:
                text = resp["body"]["string"]
                if isinstance(text, bytes):
                    text = gzip.decompress(text).decode()
                events = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
                out.append((f"{path.stem}#{n}", events))
    for path in sorted(CASSETTES.glob("*.json")):
        body = json.loads(path.read_text())
        if body.get("type") == "message":
            out.append((path.name, body))
    for path in sorted(CASSETTES.glob("*.chunks.txt")):
        out.append((path.name, recorded_chunks(path.name)))
    return out


@needs_cassettes
@pytest.mark.parametrize(("name", "answer"), _recorded_answers(), ids=[n for n, _ in _recorded_answers()])
def test_item3_every_recorded_answer_parses_streamed_and_not(name: str, answer: Any) -> None:
    if isinstance(answer, list):
        response = assemble(answer)
        content = [e for e in answer if e.get("type") == "content_block_start"]
    else:
        response = BlockDecoder("claude-sonnet-4-5", "b").response(answer)
        content = answer["content"]
    assert len(blocks_of(response.items)) == len(content)  # every block kept, none dropped
    assert response.usage.requests == 1 and response.usage.output_tokens > 0


@needs_cassettes
@pytest.mark.parametrize("streamed", [False, True], ids=["respond", "stream"])
async def test_item3_server_blocks_come_from_the_emulator_and_go_back_unchanged(
    model: AnthropicModel, emu: AnthropicEmulator, streamed: bool
) -> None:
    answer = recorded("anthropic-code-execution-20250825.1.json")
    emu.queue(AnthropicReply(content=answer["content"], container=answer["container"]), Reply(text="55."))
    items: list[Item] = [UserMessage.of("Write and run a Fibonacci script.")]
    if streamed:
        events = [e async for e in model.stream(req(items, tools=()))]
        first = events[-1].response  # type: ignore[union-attr]
        assert isinstance(events[-1], ModelResponseDone)
    else:
        first = await model.respond(req(items, tools=()))
    assert blocks_of(first.items) == answer["content"]
    items += [*first.items, UserMessage.of("Now the 11th?")]
    await model.respond(req(items, tools=()))
    assert wire_assistant(emu) == answer["content"]  # replayed as they came, in their place


@needs_cassettes
def test_item3_the_emulator_streams_server_blocks_as_the_api_does(emu: AnthropicEmulator) -> None:
    """Same event shapes as the recording: input_json_delta for server_tool_use, results whole."""
    answer = recorded("anthropic-code-execution-20250825.1.json")
    emu.queue(AnthropicReply(content=answer["content"], container=answer["container"]))
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "Go"}],
    }
    with httpx.Client(base_url=emu.base_url, headers=HEADERS) as client:
        text = client.post("/v1/messages", json=body).text
    ours = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
    theirs = recorded_chunks("anthropic-code-execution-20250825.1.chunks.txt")

    def shape(events: list[dict[str, Any]]) -> list[tuple[str, str, frozenset[str]]]:
        out, kinds = [], {}
        for e in events:
            if e["type"] == "content_block_start":
                kinds[e["index"]] = e["content_block"]["type"]
                out.append(("start", e["content_block"]["type"], frozenset(e["content_block"])))
            elif e["type"] == "content_block_delta" and (not out or out[-1][1] != e["delta"]["type"]):
                out.append(("delta", e["delta"]["type"], frozenset()))
        return out

    assert shape(ours) == shape(theirs)
    assert all(EVENTS.validate_python(e) for e in ours if e["type"] != "ping")
    final = next(e for e in ours if e["type"] == "message_delta")
    assert final["delta"]["container"] == answer["container"]


WEB_SEARCH = [
    {"type": "server_tool_use", "id": "srvtoolu_01WS", "name": "web_search", "input": {"query": "tides"}},
    {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_01WS",
        "content": [
            {
                "type": "web_search_result",
                "url": "https://example.com/tides",
                "title": "Tides",
                "encrypted_content": "EqAbc",
                "page_age": None,
            }
        ],
    },
    {
        "type": "text",
        "text": "High tide is at noon.",
        "citations": [
            {
                "type": "web_search_result_location",
                "url": "https://example.com/tides",
                "title": "Tides",
                "encrypted_index": "Eo8x",
                "cited_text": "high tide at 12:00",
            }
        ],
    },
]
OLD_CODE_EXECUTION = [
    {
        "type": "server_tool_use",
        "id": "srvtoolu_01CE",
        "name": "code_execution",
        "input": {"code": "print(1)"},
    },
    {
        "type": "code_execution_tool_result",
        "tool_use_id": "srvtoolu_01CE",
        "content": {
            "type": "code_execution_result",
            "stdout": "1\n",
            "stderr": "",
            "return_code": 0,
            "content": [],
        },
    },
]
TOOL_SEARCH = [
    {
        "type": "server_tool_use",
        "id": "srvtoolu_01TS",
        "name": "tool_search_tool_regex",
        "input": {"pattern": "we"},
    },
    {
        "type": "tool_search_tool_result",
        "tool_use_id": "srvtoolu_01TS",
        "content": {
            "type": "tool_search_tool_search_result",
            "tool_references": [{"type": "tool_reference", "tool_name": "get_weather"}],
        },
    },
]
MCP = [
    {"type": "mcp_tool_use", "id": "mcptoolu_01", "name": "echo", "server_name": "tools", "input": {"x": 1}},
    {
        "type": "mcp_tool_result",
        "tool_use_id": "mcptoolu_01",
        "is_error": False,
        "content": [{"type": "text", "text": "1"}],
    },
]
BLOCKS: list[tuple[str, list[dict[str, Any]], str | None]] = [
    ("web_search", WEB_SEARCH, None),
    ("code_execution_old", OLD_CODE_EXECUTION, None),
    ("tool_search", TOOL_SEARCH, None),
    ("container_upload", [{"type": "container_upload", "file_id": "file_011CNha"}], None),
    ("redacted_thinking", [{"type": "redacted_thinking", "data": "x"}, {"type": "text", "text": "ok"}], None),
    ("mcp", MCP, "mcp-client-2025-11-20"),
    (
        "compaction",
        [{"type": "compaction", "content": "Summary so far."}, {"type": "text", "text": "ok"}],
        "compact-2026-01-12",
    ),
]


@pytest.mark.parametrize("streamed", [False, True], ids=["respond", "stream"])
@pytest.mark.parametrize(("case", "blocks", "beta"), BLOCKS, ids=[c for c, _, _ in BLOCKS])
async def test_item3_every_block_type_streams_parses_and_replays(
    emu: AnthropicEmulator, case: str, blocks: list[dict[str, Any]], beta: str | None, streamed: bool
) -> None:
    headers = {"anthropic-beta": beta} if beta else None
    model = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k", default_headers=headers)
    emu.queue(AnthropicReply(content=blocks), Reply(text="ok"))
    items: list[Item] = [UserMessage.of("Go")]
    if streamed:
        events = [e async for e in model.stream(req(items, tools=()))]
        assert all(not isinstance(e, ModelTextDelta) or e.text for e in events)
        first = events[-1].response  # type: ignore[union-attr]
    else:
        first = await model.respond(req(items, tools=()))
    assert len(blocks_of(first.items)) == len(blocks)
    items += [*first.items, UserMessage.of("And?")]
    await model.respond(req(items, tools=()))
    sent = wire_assistant(emu)
    for theirs, ours in zip(blocks, sent, strict=True):
        if theirs["type"] == "redacted_thinking":
            assert ours["data"].startswith("Eq")  # the emulator's own signature, accepted back
        else:
            assert ours == theirs
    await model.aclose()


def test_item3_unknown_blocks_and_deltas_are_kept_and_replayed_as_they_came() -> None:
    future = {"type": "hologram", "frames": [1, 2], "id": "holo_1"}
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [],
                "usage": {"input_tokens": 3},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": future},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "hologram_delta", "frame": 3}},
        {"type": "content_block_stop", "index": 0},
        {"type": "brand_new_event", "whatever": True},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
        {"type": "message_stop"},
    ]
    response = assemble(events)
    (item,) = response.items
    assert isinstance(item, AssistantMessage) and item.text == "" and block_of(item) == future
    same = RequestEncoder("claude-sonnet-4-5", max_tokens=10, thinking=None, caching=False, sampling=False)
    assert same._encoded(item).blocks == (json.dumps(future, separators=(",", ":")).encode(),)
    other = RequestEncoder("claude-opus-5-5", max_tokens=10, thinking=None, caching=False, sampling=False)
    assert other._encoded(item).role is None  # unknown: bound to the model family that produced it
    server = BlockDecoder("claude-sonnet-4-5", "b").item(WEB_SEARCH[0])
    assert other._encoded(server).blocks  # server-tool blocks are read by every Claude model


def test_item3_other_vendors_drop_anthropic_server_blocks() -> None:
    from agentcore.providers.gemini.generate_content import GeminiModel

    items = [BlockDecoder("claude-sonnet-4-5", "b").item(b) for b in WEB_SEARCH]
    gemini = GeminiModel("gemini-2.5-flash", api_key="k", base_url="http://127.0.0.1:9")
    contents = gemini._contents(items)
    (content,) = contents  # the text only (its cited sources readable), never Anthropic's blocks
    (part,) = content["parts"]
    assert content["role"] == "model" and part["text"].startswith("High tide is at noon.")


def _body(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}, *messages]}


def _assistant(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


USE = {"type": "server_tool_use", "id": "srvtoolu_01A", "name": "web_search", "input": {"q": "x"}}
RESULT = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01A", "content": []}
NEXT = {"role": "user", "content": "more"}
SERVER_REJECTED: list[tuple[str, dict[str, Any], str]] = [
    (
        "id pattern",
        _body(_assistant({**USE, "id": "toolu_1"}, {**RESULT, "tool_use_id": "toolu_1"})),
        "srvtoolu_",
    ),
    (
        "extra key",
        _body(_assistant({**USE, "extra": 1}, RESULT), NEXT),
        "server_tool_use.extra: Extra inputs",
    ),
    (
        "tool name",
        _body(_assistant({**USE, "name": "shell"}, RESULT), NEXT),
        "server_tool_use.name: Input should be",
    ),
    (
        "no input",
        _body(_assistant({k: v for k, v in USE.items() if k != "input"}, RESULT)),
        "server_tool_use.input: Field required",
    ),
    ("result without use", _body(_assistant(RESULT), NEXT), "no preceding `server_tool_use`"),
    (
        "use without result",
        _body(_assistant(USE, {"type": "text", "text": "x"}), NEXT),
        "without their result",
    ),
    (
        "in a user message",
        _body(_assistant({"type": "text", "text": "x"}), {"role": "user", "content": [USE]}),
        "only be in `assistant`",
    ),
    (
        "nested extra",
        _body(
            _assistant(
                USE,
                {
                    **RESULT,
                    "content": {"type": "web_search_tool_result_error", "error_code": "unavailable", "x": 1},
                },
            ),
            NEXT,
        ),
        "Extra inputs are not permitted",
    ),
    (
        "compaction without beta",
        _body(_assistant({"type": "compaction", "content": "s"}), NEXT),
        "anthropic-beta",
    ),
    ("mcp without beta", _body(_assistant(*MCP), NEXT), "anthropic-beta"),
]


@pytest.mark.parametrize(("case", "body", "message"), SERVER_REJECTED, ids=[c for c, _, _ in SERVER_REJECTED])
def test_item3_the_emulator_checks_server_blocks_in_requests(
    emu: AnthropicEmulator, case: str, body: dict[str, Any], message: str
) -> None:
    with httpx.Client(base_url=emu.base_url, headers=HEADERS) as client:
        reply = client.post("/v1/messages", json=body)
    assert reply.status_code == 400 and message in reply.json()["error"]["message"], reply.text


def test_item3_the_emulator_accepts_valid_server_history() -> None:
    check_messages(_body(_assistant(USE, RESULT, {"type": "text", "text": "x"}), NEXT), "2026-10-21")
    check_messages(_body(_assistant(USE)), "2026-10-21")  # a paused turn (pause_turn) being continued
    check_messages(_body(_assistant(*MCP), NEXT), "2026-10-21", frozenset({"mcp-client-2025-11-20"}))
    with pytest.raises(Rejected):
        check_messages(_body(_assistant(USE, USE, RESULT), NEXT), "2026-10-21")


# --------------------------------------------------------------------------- item 4: invalid tool JSON


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


async def _run_streamed(agent: Agent[Any], text: str) -> Any:
    stream = Runner.stream(agent, text, retry=FAST)
    async for _ in stream:
        pass
    return stream.result


async def test_item4_tool_json_cut_by_max_tokens_goes_back_as_a_tool_error(emu: AnthropicEmulator) -> None:
    emu.queue(
        AnthropicReply(tool_calls=[ToolCallReply("get_weather", '{"city": "Par')], stop_reason="max_tokens"),
        Reply(text="Sorry, Paris is sunny."),
    )
    model = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k")
    result = await _run_streamed(Agent(name="w", model=model, tools=[get_weather]), "Weather in Paris?")
    assert result.final_output == "Sorry, Paris is sunny."
    assert len(emu.requests) == 2  # no retry of an identical request
    call = next(i for i in result.items if isinstance(i, ToolCall))
    assert call.arguments == '{"city": "Par'  # kept as the model wrote it
    tool_result = emu.requests[1].body["messages"][-1]["content"][0]
    assert tool_result["type"] == "tool_result" and tool_result["is_error"] is True
    assert "max_tokens" in tool_result["content"] and "not valid JSON" in tool_result["content"]
    replayed = emu.requests[1].body["messages"][1]["content"][-1]
    assert replayed["type"] == "tool_use" and replayed["id"] == tool_result["tool_use_id"]


async def test_item4_bad_tool_json_without_max_tokens_is_a_plain_tool_error(emu: AnthropicEmulator) -> None:
    emu.queue(AnthropicReply(tool_calls=[ToolCallReply("get_weather", '{"city": Paris}')]), Reply(text="ok"))
    model = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k")
    await _run_streamed(Agent(name="w", model=model, tools=[get_weather]), "Weather in Paris?")
    assert len(emu.requests) == 2
    tool_result = emu.requests[1].body["messages"][-1]["content"][0]
    assert tool_result["is_error"] is True and "not valid JSON" in tool_result["content"]
    assert "max_tokens" not in tool_result["content"]


async def test_item4_a_non_streamed_call_cut_by_max_tokens_says_so_when_it_fails(
    emu: AnthropicEmulator,
) -> None:
    emu.queue(
        AnthropicReply(tool_calls=[ToolCallReply("get_weather", '{"city": "Par')], stop_reason="max_tokens"),
        Reply(text="ok"),
    )
    model = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k")
    await Runner.run(Agent(name="w", model=model, tools=[get_weather]), "Weather?", retry=FAST)
    assert len(emu.requests) == 2
    tool_result = emu.requests[1].body["messages"][-1]["content"][0]
    assert tool_result["is_error"] is True and "max_tokens" in tool_result["content"]


# --------------------------------------------------------------------------- item 5: malformed answers

START = {
    "type": "message_start",
    "message": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": 3, "output_tokens": 1},
    },
}
TEXT_START = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
HELLO = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}
GOOD_STREAM = sse(
    START,
    TEXT_START,
    HELLO,
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
    {"type": "message_stop"},
)


@pytest.mark.parametrize(
    "body",
    [b"<html><body>502 Bad Gateway</body></html>", b'["not", "a", "message"]', b'{"content": 5}'],
    ids=["html", "json_list", "bad_content"],
)
async def test_item5_a_200_that_is_not_a_message_is_a_retryable_server_error(body: bytes) -> None:
    with CannedServer((200, "application/json", body)) as server:
        model = AnthropicModel("claude-sonnet-4-5", base_url=server.base_url, api_key="k")
        with pytest.raises(ServerError) as info:
            await model.respond(req([UserMessage.of("Hi")], tools=()))
    assert info.value.retryable and info.value.status_code == 200


@pytest.mark.parametrize(
    "garbage",
    ["{not json", '"a string"', '{"type": "content_block_delta", "index": 0, "delta": [1]}'],
    ids=["not_json", "not_an_object", "bad_delta"],
)
async def test_item5_a_garbled_stream_line_is_a_retryable_stream_error(garbage: str) -> None:
    with CannedServer((200, "text/event-stream", sse(START, TEXT_START, garbage))) as server:
        model = AnthropicModel("claude-sonnet-4-5", base_url=server.base_url, api_key="k")
        with pytest.raises(ModelStreamError) as info:
            async for _ in model.stream(req([UserMessage.of("Hi")], tools=())):
                pass
    assert info.value.retryable


async def test_item5_the_runner_retries_a_garbled_stream_only_while_nothing_reached_the_user() -> None:
    before_text = sse(START, "{not json")
    with CannedServer(
        (200, "text/event-stream", before_text), (200, "text/event-stream", GOOD_STREAM)
    ) as server:
        model = AnthropicModel("claude-sonnet-4-5", base_url=server.base_url, api_key="k")
        result = await _run_streamed(Agent(name="a", model=model), "Hi")
        assert result.final_output == "Hello" and server.hits == 2
    after_text = sse(START, TEXT_START, HELLO, "{not json")
    with CannedServer(
        (200, "text/event-stream", after_text), (200, "text/event-stream", GOOD_STREAM)
    ) as server:
        model = AnthropicModel("claude-sonnet-4-5", base_url=server.base_url, api_key="k")
        stream = Runner.stream(Agent(name="a", model=model), "Hi", retry=FAST)
        seen = []
        with pytest.raises(ModelCallFailed) as info:
            async for event in stream:
                if isinstance(event, TextDelta):
                    seen.append(event.delta)
        assert seen == ["Hello"] and server.hits == 1  # what the user saw is never replayed
        assert isinstance(info.value.error, ModelStreamError)


# --------------------------------------------------------------------------- item 7: compaction


@needs_cassettes
def test_item7_usage_adds_the_compaction_pass_from_iterations() -> None:
    usage = usage_from(recorded("anthropic-compaction.1.json")["usage"])
    assert (usage.input_tokens, usage.output_tokens) == (682 + 60385, 1320 + 592)
    plain = usage_from(
        {
            "input_tokens": 5,
            "output_tokens": 3,
            "iterations": [
                {"type": "message", "input_tokens": 5, "output_tokens": 3},
            ],
        }
    )
    assert (plain.input_tokens, plain.output_tokens) == (5, 3)  # sampling passes are already in the top level


@needs_cassettes
@pytest.mark.parametrize("streamed", [False, True], ids=["respond", "stream"])
async def test_item7_the_compaction_block_is_kept_and_replayed(
    emu: AnthropicEmulator, streamed: bool
) -> None:
    answer = recorded("anthropic-compaction.1.json")
    iterations = copy.deepcopy(answer["usage"]["iterations"])
    emu.queue(
        AnthropicReply(
            content=answer["content"], usage={"iterations": iterations}, input_tokens=682, output_tokens=1320
        ),
        Reply(text="ok"),
    )
    model = AnthropicModel(
        "claude-opus-4-6",
        base_url=emu.base_url,
        api_key="k",
        default_headers={"anthropic-beta": "compact-2026-01-12"},
    )
    items: list[Item] = [UserMessage.of("Summarize the algorithms.")]
    if streamed:
        first = [e async for e in model.stream(req(items, tools=()))][-1].response  # type: ignore[union-attr]
    else:
        first = await model.respond(req(items, tools=()))
    assert (first.usage.input_tokens, first.usage.output_tokens) == (682 + 60385, 1320 + 592)
    compaction = first.items[0]
    assert isinstance(compaction, AssistantMessage) and compaction.text == ""
    assert compaction.state[0].kind == "compaction" and block_of(compaction) == answer["content"][0]
    assert first.text == answer["content"][1]["text"]
    items += [*first.items, UserMessage.of("Thanks")]
    await model.respond(req(items, tools=()))
    assert wire_assistant(emu) == answer["content"]
    await model.aclose()


# --------------------------------------------------------------------------- item 17: missing key


def test_item17_a_missing_key_is_reported_when_the_adapter_is_built(
    emu: AnthropicEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_IDENTITY_TOKEN",
        "ANTHROPIC_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ANTHROPIC_CONFIG_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no profile on disk either
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with pytest.raises(MissingCredentialsError) as info:
        resolve_model(f"anthropic:claude-sonnet-4-5@{emu.base_url}")
    assert info.value.variable == "ANTHROPIC_API_KEY" and info.value.provider == "anthropic"
    assert "ANTHROPIC_API_KEY" in str(info.value) and emu.requests == []  # before any network work
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path))  # a config dir without the profile
    with pytest.raises(MissingCredentialsError, match="ANTHROPIC_API_KEY"):
        AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    assert isinstance(resolve_model(f"anthropic:claude-sonnet-4-5@{emu.base_url}"), AnthropicModel)


@pytest.mark.parametrize("fault", ["body", "stream"])
async def test_item5_the_emulator_injects_malformed_answers_and_the_runner_retries_them(
    emu: AnthropicEmulator, fault: str
) -> None:
    emu.queue(Reply(text="garbled", malformed=fault), Reply(text="fine"))
    model = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k")
    agent = Agent(name="a", model=model)
    if fault == "stream":
        result = await _run_streamed(agent, "Hi")
    else:
        result = await Runner.run(agent, "Hi", retry=FAST)
    assert result.final_output == "fine" and len(emu.requests) == 2
