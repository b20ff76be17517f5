"""Issue 11, OpenAI parts: each test is named after the item it covers.

* item 1: encrypted reasoning is asked for only from reasoning models; a 400 naming ``include``
  drops it for that model for the rest of the process (one retry);
* item 5: a 200 whose body or stream line is not JSON is a typed, retryable error;
* item 6: background responses are polled until they end, cancelled with the run, and end in a
  typed error when they fail; a response that has not ended is never a final answer;
* item 7: server-side ``compaction`` items stay in the transcript and are replayed;
* item 8: call ids the server issued go back unchanged, only foreign ids are remapped;
* item 9: after a hand-back an agent chains from its own response where the chain is valid;
* item 17: a missing key for OpenAI's own host is a ``MissingCredentialsError`` when the adapter is
  built; a local server needs none.

Everything runs against the emulators in ``tests/emulators`` (and, for the recorded background
exchange, a replay of ``../shared/cassettes/openai_responses/test_background_mode_with_tool_vcr.yaml``
on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentcore import Agent, Runner, tracing
from agentcore.errors import (
    IncompleteResponseError,
    InvalidRequestError,
    MissingCredentialsError,
    ModelStreamError,
    RateLimitError,
    ServerError,
)
from agentcore.events import RetryScheduled
from agentcore.messages import AssistantMessage, Item, ToolCall, ToolResult, UserMessage
from agentcore.model import (
    ModelRequest,
    ModelResponseDone,
    ModelSettings,
    ModelTextDelta,
    ModelToolCallDelta,
    ToolSpec,
)
from agentcore.providers.openai import responses as responses_mod
from agentcore.providers.openai import responses_wire
from agentcore.providers.openai.chat import OpenAIChatModel
from agentcore.providers.openai.responses import OpenAIResponsesModel
from agentcore.registry import resolve_model
from agentcore.run.retry import RetryPolicy
from agentcore.testing import ScriptedModel, tool_call
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_chat import ChatCompletionsEmulator
from tests.emulators.openai_responses import MODEL, OpenAIResponsesEmulator
from tests.providers.harness import CASSETTES, emulator_fixture, span_exporter_fixture
from tests.providers.openai_responses_support import Conversation, call, events, make

emu = emulator_fixture(OpenAIResponsesEmulator, "emu")
chat_emu = emulator_fixture(ChatCompletionsEmulator, "chat_emu")
spans = span_exporter_fixture()

FAST = RetryPolicy(max_attempts=3, initial_delay=0.0, max_delay=0.0, jitter=0.0)
INCLUDE = "reasoning.encrypted_content"


def _included(body: dict[str, Any]) -> bool:
    return INCLUDE in (body.get("include") or [])


@pytest.fixture(autouse=True)
def _fresh_include_memory() -> Iterator[None]:
    """The "this model refused include" memory is per process: each test starts without it."""
    memory: set[Any] = getattr(responses_mod, "_NO_INCLUDE", set())
    saved = set(memory)
    memory.clear()
    yield
    memory.clear()
    memory.update(saved)


# --------------------------------------------------------------------------- item 1: include


@pytest.mark.parametrize(
    ("model", "reasons"),
    [
        ("o1", True),
        ("o3-pro", True),
        ("o4-mini", True),
        ("gpt-5", True),
        ("gpt-5-mini", True),
        ("gpt-5.5", True),
        ("gpt-5-codex", True),
        ("codex-mini-latest", True),
        ("openai/gpt-5.1", True),
        ("gpt-6", True),
        ("gpt-5-chat-latest", False),
        ("gpt-4o", False),
        ("gpt-4o-mini", False),
        ("gpt-4.1", False),
        ("gpt-4.1-nano", False),
        ("gpt-3.5-turbo", False),
        ("llama3.2", False),
        ("qwen3", False),
        ("gpt-oss-120b", False),
        ("omni-moderation-latest", False),
    ],
)
def test_item1_encrypted_reasoning_is_asked_by_model_family(model: str, reasons: bool) -> None:
    assert responses_wire.reasoning_family(model) is reasons


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4o-mini", "gpt-4.1"])
async def test_item1_emulator_refuses_include_for_non_reasoning_models_like_the_service(
    emu: OpenAIResponsesEmulator, model: str
) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        await client.responses.create(model=model, input="hi", include=[INCLUDE])
    assert info.value.status_code == 400
    assert info.value.param == "include"
    assert info.value.message.endswith("Encrypted content is not supported with this model.")


async def test_item1_emulator_returns_encrypted_reasoning_only_when_asked(
    emu: OpenAIResponsesEmulator,
) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k", max_retries=0)
    emu.queue(Reply(reasoning="r", text="a"), Reply(reasoning="r", text="a"))
    plain = await client.responses.create(model=MODEL, input="hi")
    asked = await client.responses.create(model=MODEL, input="hi", include=[INCLUDE])
    assert plain.output[0].encrypted_content is None  # type: ignore[union-attr]
    assert asked.output[0].encrypted_content  # type: ignore[union-attr]
    # A stored response is retrieved the same way.
    fetched = await client.responses.retrieve(asked.id)
    assert fetched.output[0].encrypted_content is None  # type: ignore[union-attr]
    fetched = await client.responses.retrieve(asked.id, include=[INCLUDE])
    assert fetched.output[0].encrypted_content  # type: ignore[union-attr]


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1"])
@pytest.mark.parametrize("store", [True, False])
async def test_item1_non_reasoning_models_are_not_asked_for_encrypted_reasoning(
    emu: OpenAIResponsesEmulator, model: str, store: bool
) -> None:
    emu.queue(Reply(tool_calls=[call()]), Reply(text="sunny"))
    conv = Conversation(make(emu, model=model, store=store))
    await conv.turn()
    await conv.turn()
    assert [_included(r.body) for r in emu.requests] == [False, False]


async def test_item1_reasoning_models_are_asked_and_the_setting_overrides_the_rule(
    emu: OpenAIResponsesEmulator,
) -> None:
    await Conversation(make(emu, store=False)).turn()
    await Conversation(make(emu, store=False, encrypted_reasoning=False)).turn()
    await Conversation(make(emu, model="my-reasoner", store=False, encrypted_reasoning=True)).turn()
    assert [_included(r.body) for r in emu.requests] == [True, False, True]


@pytest.mark.parametrize("streamed", [False, True], ids=["respond", "stream"])
async def test_item1_a_400_naming_include_drops_it_for_the_model_and_retries_once(
    emu: OpenAIResponsesEmulator, spans: InMemorySpanExporter, streamed: bool
) -> None:
    # Forced on (as a user could, or a model the rule misjudges): the service refuses it.
    model = make(emu, model="gpt-4o", encrypted_reasoning=True)
    conv = Conversation(model)
    with tracing.span("chat"):
        if streamed:
            out = [e async for e in model.stream(conv.request())]
            assert isinstance(out[-1], ModelResponseDone)
        else:
            await model.respond(conv.request())
    assert [_included(r.body) for r in emu.requests] == [True, False]  # refused (400), then sent without
    note = events(spans, "agentcore.openai.include_dropped")
    assert len(note) == 1 and note[0]["model"] == "gpt-4o"
    # For the rest of the process, this model on this server is not asked again, by any adapter.
    await Conversation(make(emu, model="gpt-4o", encrypted_reasoning=True)).turn()
    assert not _included(emu.requests[-1].body) and len(emu.requests) == 3
    # Other models still are.
    await Conversation(make(emu, store=False)).turn()
    assert _included(emu.requests[-1].body)


async def test_item1_another_400_is_not_retried(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(error=(400, "Invalid prompt")))
    with pytest.raises(InvalidRequestError):
        await Conversation(make(emu)).turn()
    assert len(emu.requests) == 1


# --------------------------------------------------------------------------- item 5: malformed bodies


async def test_item5_responses_a_200_that_is_not_json_is_a_retryable_server_error(
    emu: OpenAIResponsesEmulator,
) -> None:
    emu.queue(Reply(text="x", malformed="body"))
    with pytest.raises(ServerError) as info:
        await Conversation(make(emu)).turn()
    assert info.value.retryable and info.value.status_code == 200
    assert "not JSON" in info.value.message and b"<html>" in info.value.body


async def test_item5_responses_a_stream_line_that_is_not_json_is_a_retryable_stream_error(
    emu: OpenAIResponsesEmulator,
) -> None:
    emu.queue(Reply(text="hello there", malformed="stream"))
    conv = Conversation(make(emu))
    with pytest.raises(ModelStreamError) as info:
        async for _ in conv.model.stream(conv.request()):
            pass
    assert info.value.retryable and "not JSON" in info.value.message


async def test_item5_chat_a_200_that_is_not_json_is_a_retryable_server_error(
    chat_emu: ChatCompletionsEmulator,
) -> None:
    chat_emu.queue(Reply(text="x", malformed="body"))
    model = OpenAIChatModel("llama3", base_url=chat_emu.base_url + "/v1", api_key="test-key")
    with pytest.raises(ServerError) as info:
        await model.respond(ModelRequest(None, [UserMessage.of("hi")]))
    assert info.value.retryable and info.value.status_code == 200


async def test_item5_chat_a_stream_line_that_is_not_json_is_a_retryable_stream_error(
    chat_emu: ChatCompletionsEmulator,
) -> None:
    chat_emu.queue(Reply(text="hello there", malformed="stream"))
    model = OpenAIChatModel("llama3", base_url=chat_emu.base_url + "/v1", api_key="test-key")
    with pytest.raises(ModelStreamError) as info:
        async for _ in model.stream(ModelRequest(None, [UserMessage.of("hi")])):
            pass
    assert info.value.retryable


@pytest.mark.parametrize("fault", ["body", "stream"])
@pytest.mark.parametrize("provider", ["openai", "openai-chat"])
async def test_item5_the_runner_retries_a_malformed_answer_while_nothing_reached_the_user(
    emu: OpenAIResponsesEmulator, chat_emu: ChatCompletionsEmulator, provider: str, fault: str
) -> None:
    server: Any = emu if provider == "openai" else chat_emu
    server.queue(Reply(text="garbled", malformed=fault), Reply(text="fine"))
    if provider == "openai":
        model: Any = make(emu)
    else:
        model = OpenAIChatModel("llama3", base_url=chat_emu.base_url + "/v1", api_key="test-key")
    agent = Agent(name="a", model=model)
    if fault == "body":
        result = await Runner.run(agent, "hi", retry=FAST)
    else:  # the garbage line comes before any text: nothing reached the user, so it is replayed
        stream = Runner.stream(agent, "hi", retry=FAST)
        retried = [e async for e in stream if isinstance(e, RetryScheduled)]
        assert len(retried) == 1
        result = stream.result
    assert result.final_output == "fine"
    assert len(server.requests) == 2


# --------------------------------------------------------------------------- item 6: background


async def _until(condition: Callable[[], bool]) -> None:
    """Wait (at most 10 s) for the emulator, which runs in another thread, to have seen something."""
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - the condition changes in the emulator's thread
            await asyncio.sleep(0.005)


def _paths(emu: OpenAIResponsesEmulator) -> list[str]:
    return [f"{r.method} {r.path.split('?')[0].replace('/v1/responses', '') or '/'}" for r in emu.requests]


BG = ModelSettings(background=True, poll_interval=0.01)


async def test_item6_a_background_response_is_polled_until_it_completes(emu: OpenAIResponsesEmulator) -> None:
    emu.background_polls = 2
    emu.queue(Reply(tool_calls=[call()]), Reply(text="It is sunny."))
    conv = Conversation(make(emu))
    first = await conv.turn(settings=BG)
    assert [type(i) for i in first.items] == [ToolCall] and first.finish_reason == "tool_calls"
    second = await conv.turn(settings=BG)
    assert second.text == "It is sunny." and second.finish_reason == "stop"
    assert second.usage.input_tokens > 0
    rid1, rid2 = first.response_id, second.response_id
    assert _paths(emu) == [
        "POST /",
        f"GET /{rid1}",
        f"GET /{rid1}",
        f"GET /{rid1}",
        "POST /",
        f"GET /{rid2}",
        f"GET /{rid2}",
        f"GET /{rid2}",
    ]
    assert emu.requests[0].body["background"] is True
    # The finished background response is chained like any other.
    assert emu.requests[4].body["previous_response_id"] == rid1


async def test_item6_polling_asks_for_encrypted_reasoning_too(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(reasoning="thinking", tool_calls=[call()]), Reply(text="done"))
    conv = Conversation(make(emu, store=False))
    await conv.turn(settings=BG)
    await conv.turn(settings=BG)  # the reasoning is replayed: it came back with its encrypted_content
    polls = [r for r in emu.requests if r.method == "GET"]
    assert polls and all("include%5B%5D=reasoning.encrypted_content" in r.path for r in polls)


async def test_item6_a_response_that_has_not_ended_is_polled_even_without_background_asked(
    emu: OpenAIResponsesEmulator,
) -> None:
    # background asked through extra (or a proxy that answers queued): never a finished empty answer.
    emu.queue(Reply(text="late but whole"))
    response = await Conversation(make(emu, poll_interval=0.01)).turn(
        settings=ModelSettings(extra={"background": True})
    )
    assert response.text == "late but whole"
    assert [r.method for r in emu.requests] == ["POST", "GET", "GET"]


async def test_item6_a_streamed_background_response_is_polled_then_streamed(
    emu: OpenAIResponsesEmulator,
) -> None:
    emu.queue(Reply(text="Sunny in Paris.", tool_calls=[call()]))
    conv = Conversation(make(emu))
    out = [e async for e in conv.model.stream(conv.request(settings=BG))]
    assert [r.method for r in emu.requests] == ["POST", "GET", "GET"]
    assert "stream" not in emu.requests[0].body
    assert "".join(e.text for e in out if isinstance(e, ModelTextDelta)) == "Sunny in Paris."
    deltas = [e for e in out if isinstance(e, ModelToolCallDelta)]
    assert deltas[0].name == "get_weather" and "".join(d.arguments for d in deltas) == '{"city": "Paris"}'
    assert isinstance(out[-1], ModelResponseDone) and out[-1].response.finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("script", "error", "retryable"),
    [
        ({"reply": Reply(error=(500, "The server had an error"))}, ServerError, True),
        ({"reply": Reply(error=(429, "Rate limit reached"))}, RateLimitError, True),
        ({"outcome": "incomplete"}, IncompleteResponseError, False),
        ({"outcome": "cancelled"}, IncompleteResponseError, False),
    ],
    ids=["failed", "failed-rate-limit", "incomplete", "cancelled-elsewhere"],
)
async def test_item6_a_background_response_that_ends_without_completing_is_a_typed_error(
    emu: OpenAIResponsesEmulator, script: dict[str, Any], error: type[Exception], retryable: bool
) -> None:
    emu.queue(script.get("reply") or Reply(text="cut"))
    if "outcome" in script:
        emu.background_outcomes.append(script["outcome"])
    with pytest.raises(error) as info:
        await Conversation(make(emu)).turn(settings=BG)
    assert info.value.retryable is retryable
    assert [r.method for r in emu.requests] == ["POST", "GET", "GET"]
    if isinstance(info.value, IncompleteResponseError):
        assert info.value.status == script["outcome"]
        assert (info.value.reason == "max_output_tokens") is (script["outcome"] == "incomplete")


async def test_item6_cancelling_the_run_cancels_the_background_response(
    emu: OpenAIResponsesEmulator, spans: InMemorySpanExporter
) -> None:
    emu.background_polls = 10_000
    emu.queue(Reply(text="never seen"))
    conv = Conversation(make(emu))
    with tracing.span("run"):
        task = asyncio.ensure_future(conv.turn(settings=BG))
        await _until(lambda: sum(r.method == "GET" for r in emu.requests) >= 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    rid = next(iter(emu.jobs))
    assert f"POST /{rid}/cancel" in _paths(emu)
    assert emu.jobs[rid]["final"]["status"] == "cancelled"
    assert events(spans, "agentcore.openai.background.cancelled")[0]["response_id"] == rid


async def test_item6_a_runner_cancelled_mid_poll_cancels_the_job_too(emu: OpenAIResponsesEmulator) -> None:
    emu.background_polls = 10_000
    emu.queue(Reply(text="never seen"))
    agent = Agent(name="bg", model=make(emu), model_settings=BG)
    task = asyncio.ensure_future(Runner.run(agent, "think long"))
    await _until(lambda: any(r.method == "GET" for r in emu.requests))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert any(p.endswith("/cancel") for p in _paths(emu))


def test_item6_emulator_follows_the_recorded_background_shapes(emu: OpenAIResponsesEmulator) -> None:
    recorded = _background_cassette()
    emu.queue(Reply(tool_calls=[ToolCallReply("get_weather", {"city": "Paris"})]))
    queued = httpx.post(
        emu.base_url + "/v1/responses", json=recorded[0][1], headers={"authorization": "Bearer k"}
    ).json()
    polled = httpx.get(
        f"{emu.base_url}/v1/responses/{queued['id']}?stream=false", headers={"authorization": "Bearer k"}
    ).json()
    done = httpx.get(
        f"{emu.base_url}/v1/responses/{queued['id']}?stream=false", headers={"authorization": "Bearer k"}
    ).json()
    for ours, (_, _, theirs) in zip(
        (queued, polled, done), (recorded[0], recorded[3], recorded[1]), strict=True
    ):
        assert ours["status"] == theirs["status"]
        assert set(theirs) - {"billing"} <= set(ours)
        assert (ours["usage"] is None, ours["output"] == []) == (
            theirs["usage"] is None,
            theirs["output"] == [],
        )
        assert ours["background"] is True


def _background_cassette() -> list[tuple[str, Any, dict[str, Any]]]:
    path = CASSETTES / "openai_responses" / "test_background_mode_with_tool_vcr.yaml"
    if not path.is_file():
        pytest.skip("shared cassettes not available")
    rows = []
    for rec in yaml.safe_load(path.read_text())["interactions"]:
        req, resp = rec["request"], rec["response"]
        rows.append((f"{req['method']} {req['uri']}", req.get("parsed_body"), resp["parsed_body"]))
    return rows


class _Replay:
    """Serves a recorded exchange in order on 127.0.0.1 and records what the client asked."""

    def __init__(self, rows: list[tuple[str, Any, dict[str, Any]]]) -> None:
        self.rows = list(rows)
        self.seen: list[tuple[str, Any]] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                replay.seen.append((f"{self.command} {self.path}", json.loads(raw) if raw else None))
                body = json.dumps(replay.rows.pop(0)[2] if replay.rows else {"error": "exhausted"}).encode()
                self.send_response(200 if replay.rows or body != b'{"error": "exhausted"}' else 500)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_item6_adapter_replays_the_recorded_background_exchange() -> None:
    rows = _background_cassette()
    replay = _Replay(rows)
    try:
        spec = rows[0][1]["tools"][0]
        tool = ToolSpec(spec["name"], spec["description"], spec["parameters"], strict=spec["strict"])
        # The recorded responses say store=false: the transcript is resent, as the recording did.
        model = OpenAIResponsesModel("gpt-4o", base_url=replay.base_url, api_key="k", store=False)
        items: list[Item] = [UserMessage.of(rows[0][1]["input"][0]["content"])]
        settings = ModelSettings(background=True, poll_interval=0.001)
        first = await model.respond(ModelRequest(None, list(items), tools=[tool], settings=settings))
        [fc] = first.items
        assert isinstance(fc, ToolCall) and fc.arguments == '{"city":"Paris"}'
        items += [fc, ToolResult(call_id=fc.call_id, name=fc.name, output="Sunny and 72F in Paris")]
        second = await model.respond(ModelRequest(None, list(items), tools=[tool], settings=settings))
        assert second.text == rows[-1][2]["output"][0]["content"][0]["text"]
    finally:
        replay.close()
    # The same calls in the same order: create, poll until completed, create, poll, poll.
    ours = [seen.split("?")[0] for seen, _ in replay.seen]
    theirs = [uri.split("?")[0].replace("https://api.openai.com", "") for uri, _, _ in rows]
    assert ours == theirs
    # ...and the second create sends what the recording sent (no include: gpt-4o does not reason).
    sent, recorded = replay.seen[2][1], rows[2][1]
    assert sent["input"] == recorded["input"] and sent["background"] is True and "include" not in sent


# --------------------------------------------------------------------------- item 7: compaction


COMPACT = ModelSettings(extra={"context_management": [{"type": "compaction", "compact_threshold": 50}]})


def _compaction(items: list[Item]) -> list[AssistantMessage]:
    return [
        i
        for i in items
        if isinstance(i, AssistantMessage) and i.state_for("openai", kind="compaction") is not None
    ]


@pytest.mark.parametrize("streamed", [False, True], ids=["respond", "stream"])
async def test_item7_compaction_items_are_kept_and_replayed_in_place_without_server_state(
    emu: OpenAIResponsesEmulator, streamed: bool
) -> None:
    emu.queue(Reply(text="A long story.", output_tokens=900), Reply(text="4"))
    conv = Conversation(make(emu, store=False), tools=())
    if streamed:
        out = [e async for e in conv.model.stream(conv.request(settings=COMPACT))]
        assert isinstance(out[-1], ModelResponseDone)
        conv.absorb(out[-1].response)
    else:
        await conv.turn(settings=COMPACT)
    [kept] = _compaction(conv.items)
    assert kept.text == "" and kept.state_for("openai", kind="compaction").payload["id"].startswith("cmp_")  # type: ignore[union-attr]
    conv.items.append(UserMessage.of("What is 2+2?"))
    await conv.turn(settings=COMPACT)
    sent = emu.requests[-1].body["input"]
    assert [i.get("type", "message") for i in sent] == ["message", "message", "compaction", "message"]
    payload = kept.state[0].payload
    assert sent[2] == {
        "type": "compaction",
        "id": payload["id"],
        "encrypted_content": payload["encrypted_content"],
    }


async def test_item7_with_server_state_the_compaction_is_covered_by_the_chain(
    emu: OpenAIResponsesEmulator,
) -> None:
    emu.queue(Reply(text="A long story.", output_tokens=900), Reply(text="4"))
    conv = Conversation(make(emu), tools=())
    first = await conv.turn(settings=COMPACT)
    assert len(_compaction(first.items)) == 1
    conv.items.append(UserMessage.of("What is 2+2?"))
    await conv.turn(settings=COMPACT)
    assert emu.requests[-1].body["previous_response_id"] == first.response_id
    assert [i.get("type", "message") for i in emu.requests[-1].body["input"]] == ["message"]


async def test_item7_emulator_refuses_a_compaction_it_did_not_issue(emu: OpenAIResponsesEmulator) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k", max_retries=0)
    forged = {"type": "compaction", "id": "cmp_1", "encrypted_content": "gAAAAforged"}
    with pytest.raises(openai.BadRequestError) as info:
        await client.responses.create(model=MODEL, input=[forged, {"role": "user", "content": "hi"}])  # type: ignore[list-item]
    assert info.value.code == "invalid_encrypted_content"


async def test_item7_other_vendors_skip_the_compaction(
    emu: OpenAIResponsesEmulator, chat_emu: ChatCompletionsEmulator
) -> None:
    emu.queue(Reply(text="A long story.", output_tokens=900))
    conv = Conversation(make(emu, store=False), tools=())
    await conv.turn(settings=COMPACT)
    assert _compaction(conv.items)
    conv.items.append(UserMessage.of("and now?"))
    chat = OpenAIChatModel("llama3", base_url=chat_emu.base_url + "/v1", api_key="test-key")
    await chat.respond(ModelRequest(None, list(conv.items)))
    assert "gAAAA" not in chat_emu.requests[-1].raw.decode()


# --------------------------------------------------------------------------- item 8: own call ids


ODD = "functions.get_weather:0"
"""An id an OpenAI-compatible Responses server issues (OpenAI itself would reject it as input)."""


@pytest.mark.parametrize("store", [True, False], ids=["chained", "stateless"])
async def test_item8_call_ids_the_server_issued_go_back_unchanged(
    emu: OpenAIResponsesEmulator, store: bool
) -> None:
    emu.queue(Reply(tool_calls=[call(call_id=ODD)]), Reply(text="sunny"))
    conv = Conversation(make(emu, store=store))
    await conv.turn()
    final = await conv.turn()
    assert final.text == "sunny"
    sent = emu.requests[-1].body["input"]
    ids = {
        i["type"]: i["call_id"] for i in sent if i.get("type") in ("function_call", "function_call_output")
    }
    assert ids == (
        {"function_call_output": ODD} if store else {"function_call": ODD, "function_call_output": ODD}
    )


async def test_item8_foreign_ids_are_still_remapped(emu: OpenAIResponsesEmulator) -> None:
    # The same odd id, produced by another vendor: OpenAI would reject it, so it is mapped.
    foreign = ToolCall(call_id=ODD, name="get_weather", arguments='{"city": "Paris"}')
    items: list[Item] = [
        UserMessage.of("weather?"),
        foreign,
        ToolResult(call_id=ODD, name="get_weather", output="sunny"),
    ]
    await Conversation(make(emu), *items).turn()
    sent = [i["call_id"] for i in emu.requests[-1].body["input"] if "call_id" in i]
    assert len(set(sent)) == 1 and sent[0] != ODD and sent[0].startswith("call_")


# --------------------------------------------------------------------------- item 9: hand-back


def _agents(emu: OpenAIResponsesEmulator, history: str) -> Agent[Any]:
    from agentcore import Handoff

    triage = Agent(name="triage", model=make(emu), instructions="Route.")
    billing = Agent(
        name="billing",
        model=ScriptedModel([tool_call("transfer_to_triage")]),
        handoffs=[Handoff(triage, history=history)],  # type: ignore[arg-type]
    )
    return triage.clone(handoffs=[billing])


async def test_item9_after_a_hand_back_the_agent_chains_from_its_own_response(
    emu: OpenAIResponsesEmulator, spans: InMemorySpanExporter
) -> None:
    emu.queue(Reply(tool_calls=[ToolCallReply("transfer_to_billing", {})]), Reply(text="back at triage"))
    with tracing.span("run"):
        result = await Runner.run(_agents(emu, "full"), "I was charged twice")
    assert result.final_output == "back at triage"
    first, second = emu.requests
    before = first.body
    assert "previous_response_id" not in before
    # The hand-back reuses triage's own pre-handoff response: the prefix it covers is unchanged, so
    # only what happened since (its transfer's result, billing's turn) is sent.
    assert second.body["previous_response_id"] == next(iter(emu.stored))  # triage's first response
    kinds = [i.get("type", "message") for i in second.body["input"]]
    assert kinds == ["function_call_output", "function_call", "function_call_output"]
    assert not events(spans, "agentcore.server_state.reset")


async def test_item9_a_hand_back_over_a_rewritten_history_resends_everything(
    emu: OpenAIResponsesEmulator, spans: InMemorySpanExporter
) -> None:
    emu.queue(Reply(tool_calls=[ToolCallReply("transfer_to_billing", {})]), Reply(text="back at triage"))
    with tracing.span("run"):
        result = await Runner.run(_agents(emu, "summary"), "I was charged twice")
    assert result.final_output == "back at triage"
    second = emu.requests[1].body
    assert "previous_response_id" not in second
    assert [e["reason"] for e in events(spans, "agentcore.server_state.reset")] in (
        ["transcript_changed"],
        ["transcript_shorter"],
    )


# --------------------------------------------------------------------------- item 17: credentials


@pytest.fixture
def no_openai_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    "spec", ["openai:gpt-5.5", "openai-chat:gpt-4.1", "openai:gpt-5.5@https://api.openai.com/v1"]
)
def test_item17_a_missing_key_for_openai_is_a_typed_error_when_the_adapter_is_built(
    no_openai_env: pytest.MonkeyPatch, spec: str
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("network work before the key was checked")

    no_openai_env.setattr(httpx.AsyncClient, "send", no_network)
    with pytest.raises(MissingCredentialsError) as info:
        resolve_model(spec)
    assert info.value.variable == "OPENAI_API_KEY"
    assert info.value.provider == spec.split(":")[0]
    assert "OPENAI_API_KEY" in str(info.value)


def test_item17_a_missing_key_is_a_typed_error_for_the_adapters_built_directly(
    no_openai_env: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(MissingCredentialsError):
        OpenAIResponsesModel("gpt-5.5")
    with pytest.raises(MissingCredentialsError):
        OpenAIChatModel("gpt-4.1", base_url="https://my-resource.openai.azure.com/openai/v1")
    no_openai_env.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    with pytest.raises(MissingCredentialsError):
        OpenAIResponsesModel("gpt-5.5")


async def test_item17_a_local_server_needs_no_key(
    no_openai_env: pytest.MonkeyPatch, emu: OpenAIResponsesEmulator, chat_emu: ChatCompletionsEmulator
) -> None:
    chat_emu.quirks = type(chat_emu.quirks)(api_key=None)
    responses = resolve_model(f"openai:{MODEL}@{emu.base_url}/v1")
    chat = resolve_model(f"openai-chat:llama3@{chat_emu.base_url}/v1")
    assert (await responses.respond(ModelRequest(None, [UserMessage.of("hi")]))).text == "ok"
    assert (await chat.respond(ModelRequest(None, [UserMessage.of("hi")]))).text == "ok"


async def test_item17_the_users_openai_key_never_goes_to_another_host(
    no_openai_env: pytest.MonkeyPatch, emu: OpenAIResponsesEmulator
) -> None:
    no_openai_env.setenv("OPENAI_API_KEY", "sk-users-real-key")
    await resolve_model(f"openai:{MODEL}@{emu.base_url}/v1").respond(
        ModelRequest(None, [UserMessage.of("hi")])
    )
    assert "sk-users-real-key" not in emu.requests[-1].headers["authorization"]
    # Configured as the SDK's own pair (OPENAI_BASE_URL + OPENAI_API_KEY), the key is meant for it.
    no_openai_env.setenv("OPENAI_BASE_URL", emu.base_url + "/v1")
    await OpenAIResponsesModel(MODEL).respond(ModelRequest(None, [UserMessage.of("hi")]))
    assert emu.requests[-1].headers["authorization"] == "Bearer sk-users-real-key"


def test_item9_the_docs_say_what_a_hand_back_does() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs"
    control = " ".join((docs / "control.md").read_text().split())
    assert "never reused across a handoff" not in control  # what they said before: not what happens
    assert "hand-back" in control and "chains from its own last response" in control
    assert "chains from its own last response" in " ".join((docs / "providers.md").read_text().split())
