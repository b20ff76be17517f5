"""The OpenAI Responses emulator and adapter checked against real recorded exchanges.

* the official SDK's own types accept every recorded response body and stream event, and every body
  and stream event the emulator produces;
* the emulator accepts the real recorded requests, and answers with the recorded shapes;
* the requests the adapter sends have the keys and types of the recorded requests for the same
  situation (tool loop with ``previous_response_id``; stateless loop with encrypted reasoning).

The cassettes live outside the checkout (``../shared/cassettes/openai_responses``); these tests skip
when it is absent.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from openai._models import construct_type
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import BaseModel, TypeAdapter

from agentcore.errors import ServerError
from agentcore.messages import AssistantMessage, Item, Reasoning, ToolCall, ToolResult, UserMessage
from agentcore.model import ModelRequest, ModelTextDelta, ModelToolCallDelta, ToolSpec
from agentcore.providers.openai.responses import OpenAIResponsesModel, _StreamState
from agentcore.providers.openai.responses_wire import item_to_wire, response_from
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_responses import MODEL, OpenAIResponsesEmulator
from tests.providers.harness import CASSETTES as CASSETTE_ROOT
from tests.providers.harness import emulator_fixture

CASSETTES = CASSETTE_ROOT / "openai_responses"
pytestmark = pytest.mark.skipif(not CASSETTES.is_dir(), reason="shared cassettes not available")

EVENT = TypeAdapter[Any](ResponseStreamEvent)


# --------------------------------------------------------------------------- cassette reading


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        try:
            return gzip.decompress(value).decode()
        except OSError:
            return value.decode()
    return str(value)


def _sse(text: str) -> list[dict[str, Any]]:
    return [
        json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:") and line[5:].strip()
    ]


def interactions() -> Iterator[tuple[str, dict[str, Any] | None, int, Any]]:
    """(cassette name, request body, response status, response body: dict or list of SSE events)."""
    if not CASSETTES.is_dir():
        return
    for path in sorted(CASSETTES.glob("*.yaml")):
        for i, rec in enumerate(yaml.safe_load(path.read_text())["interactions"]):
            req, resp = rec["request"], rec["response"]
            body = req.get("parsed_body")
            if body is None and req.get("body"):
                body = json.loads(_text(req["body"]))
            status = resp["status"]["code"]
            if "parsed_body" in resp:
                out: Any = resp["parsed_body"]
            else:
                text = _text(resp["body"]["string"])
                out = _sse(text) if "data:" in text[:200] or "event:" in text[:200] else json.loads(text)
            yield f"{path.name}#{i}", body, status, out
    for path in sorted(CASSETTES.glob("*.json")):
        data = json.loads(path.read_text())
        yield path.name, None, 400 if data.get("object") != "response" else 200, data


ALL = list(interactions())


def _ids(rows: list[Any]) -> list[str]:
    return [r[0] for r in rows]


# --------------------------------------------------------------------------- the SDK parses the recordings


def sdk_parse(type_: Any, value: Any) -> Any:
    """What the SDK itself does with a response body or stream event (its default, non-strict path)."""
    return construct_type(type_=type_, value=value)


PENDING = ("queued", "in_progress")
"""Statuses of a background response that has not ended: no output and no usage yet."""


@pytest.mark.parametrize("row", ALL, ids=_ids(ALL))
def test_sdk_parses_every_recorded_response(row: tuple[str, Any, int, Any]) -> None:
    _, _, status, body = row
    if status != 200:
        assert set(body["error"]) == {"message", "type", "param", "code"}
    elif isinstance(body, dict) and body.get("status") in PENDING:
        # A background response polled before it ended: a Response, but not an answer yet.
        parsed = sdk_parse(Response, body)
        assert isinstance(parsed, Response) and parsed.status in PENDING and parsed.background is True
        assert parsed.output == [] and parsed.usage is None and parsed.completed_at is None
    elif isinstance(body, list):
        assert body, "empty stream"
        for event in body:
            parsed = sdk_parse(ResponseStreamEvent, event)
            assert isinstance(parsed, BaseModel) and parsed.type == event["type"]  # type: ignore[attr-defined]
        completed = sdk_parse(ResponseStreamEvent, body[-1])
        assert isinstance(completed.response, Response)
        assert completed.response.usage.input_tokens > 0
    else:
        parsed = sdk_parse(Response, body)
        assert isinstance(parsed, Response) and parsed.output
        for item in parsed.output:
            assert isinstance(item, BaseModel) and not isinstance(item, dict)


# --------------------------------------------------------------------------- the emulator speaks the same


emu = emulator_fixture(OpenAIResponsesEmulator, "emu")


def _created_at(body: Any) -> int:
    if isinstance(body, list):
        body = next((e["response"] for e in body if e.get("type") == "response.completed"), {})
    return int(body.get("created_at") or 0)


def _recorded(kind: str, *, encrypted: bool | None = None) -> dict[str, Any]:
    """The newest recorded output item of ``kind`` (by the response's ``created_at``). ``encrypted``
    picks a reasoning item with or without ``encrypted_content``: the service returns it only when the
    request asked for it with ``include``."""
    rows = sorted((r for r in ALL if r[2] == 200), key=lambda r: _created_at(r[3]), reverse=True)
    for _, _, _, body in rows:
        outputs = body["output"] if isinstance(body, dict) else []
        if isinstance(body, list):
            outputs = [e["item"] for e in body if e.get("type") == "response.output_item.done"]
        for item in outputs:
            if item["type"] == kind and (encrypted is None or encrypted == ("encrypted_content" in item)):
                return dict(item)
    raise AssertionError(f"no recorded {kind}")


def test_reasoning_is_recorded_with_encrypted_content_only_where_the_request_asked_for_it() -> None:
    asked = []
    for _, request, status, body in ALL:
        outputs = body.get("output") or [] if isinstance(body, dict) and status == 200 else []
        for item in outputs:
            if item["type"] == "reasoning" and request is not None:
                asked.append(
                    ("reasoning.encrypted_content" in (request.get("include") or []))
                    == ("encrypted_content" in item)
                )
    assert asked and all(asked)


@pytest.mark.parametrize("include", [False, True], ids=["plain", "include-encrypted"])
def test_emulator_output_items_have_the_recorded_keys(emu: OpenAIResponsesEmulator, include: bool) -> None:
    emu.queue(Reply(reasoning="think", text="hello", tool_calls=[ToolCallReply("f", {"a": 1})]))
    request: dict[str, Any] = {
        "model": MODEL,
        "input": "hi",
        "tools": [{"type": "function", "name": "f", "parameters": {}, "strict": False}],
    }
    if include:
        request["include"] = ["reasoning.encrypted_content"]
    r = httpx.post(emu.base_url + "/v1/responses", json=request, headers={"authorization": "Bearer k"})
    body = r.json()
    Response.model_validate(body)
    recorded = json.loads((CASSETTES / "openai-shell-tool.1.json").read_text())
    assert set(recorded) - {"completed_at", "moderation", "frequency_penalty", "presence_penalty"} <= set(
        body
    )
    assert [item["type"] for item in body["output"]] == ["reasoning", "message", "function_call"]
    for item in body["output"]:
        expected = _recorded(item["type"], encrypted=include if item["type"] == "reasoning" else None)
        assert set(item) == set(expected), item["type"]
    for key in ("x-request-id", "openai-version", "x-ratelimit-remaining-requests"):
        assert key in r.headers


def test_emulator_stream_follows_the_recorded_event_sequence(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(text="The capital of France is Paris."))
    r = httpx.post(
        emu.base_url + "/v1/responses",
        json={"model": MODEL, "input": "hi", "stream": True},
        headers={"authorization": "Bearer k"},
    )
    ours = _sse(r.text)
    for event in ours:
        EVENT.validate_python(event)
    recorded = next(
        b for name, _, s, b in ALL if name.startswith("test_openai_responses_stream") and name.endswith("#1")
    )

    def shape(events: list[dict[str, Any]]) -> list[str]:
        kinds = [e["type"] for e in events]
        return [k for i, k in enumerate(kinds) if not (k.endswith(".delta") and i and kinds[i - 1] == k)]

    assert shape(ours) == shape(recorded)
    assert [e["sequence_number"] for e in ours] == list(range(len(ours)))


def test_emulator_error_event_has_the_recorded_shape(emu: OpenAIResponsesEmulator) -> None:
    emu.queue(Reply(text="a b c", stream_error=True))
    r = httpx.post(
        emu.base_url + "/v1/responses",
        json={"model": MODEL, "input": "hi", "stream": True},
        headers={"authorization": "Bearer k"},
    )
    events = _sse(r.text)
    error, failed = events[-2], events[-1]
    assert error["type"] == "error" and set(error["error"]) == {"type", "code", "message", "param"}
    assert failed["type"] == "response.failed" and failed["response"]["error"]["code"]
    EVENT.validate_python(failed)


FIRST_REQUESTS = [row for row in ALL if row[1] is not None and row[2] == 200 and row[0].endswith("#0")]


@pytest.mark.parametrize("row", FIRST_REQUESTS, ids=_ids(FIRST_REQUESTS))
def test_emulator_accepts_the_recorded_requests(
    emu: OpenAIResponsesEmulator, row: tuple[str, Any, int, Any]
) -> None:
    _, body, _, _ = row
    emu.queue(Reply(text="ok"))
    r = httpx.post(emu.base_url + "/v1/responses", json=body, headers={"authorization": "Bearer k"})
    assert r.status_code == 200, r.text


def test_emulator_rejects_the_recorded_bad_temperature_like_the_api(emu: OpenAIResponsesEmulator) -> None:
    [(_, body, status, recorded)] = [
        row for row in ALL if row[0].startswith("test_openai_responses_model_http_error")
    ]
    r = httpx.post(emu.base_url + "/v1/responses", json=body, headers={"authorization": "Bearer k"})
    assert r.status_code == status == 400
    assert r.json() == recorded


# --------------------------------------------------------------------------- the adapter sends the recorded shapes


def _recorded_requests() -> list[dict[str, Any]]:
    return [body for _, body, _, _ in ALL if body is not None]


def _keys_by_item_type(bodies: list[dict[str, Any]]) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for body in bodies:
        items = body.get("input")
        for item in items if isinstance(items, list) else []:
            kind = item.get("type", "message")
            keys.setdefault(kind, set()).update(k for k, v in item.items() if v is not None)
    return keys


async def _tool_loop(
    emu: OpenAIResponsesEmulator, *, store: bool, reasoning: str | None
) -> list[dict[str, Any]]:
    spec = ToolSpec(
        "lookup_population",
        "Returns the current population of the specified fictional country.",
        {
            "type": "object",
            "properties": {"country": {"type": "string"}},
            "required": ["country"],
            "additionalProperties": False,
        },
        strict=True,
    )
    model = OpenAIResponsesModel(MODEL, base_url=emu.base_url + "/v1", api_key="k", store=store)
    emu.queue(
        Reply(reasoning=reasoning, tool_calls=[ToolCallReply(spec.name, {"country": "Pundora"})]),
        Reply(text="done"),
    )
    items: list[Item] = [UserMessage.of("Pick a clever country name and look up its population.")]
    cache: dict[str, Any] = {}
    for _ in range(2):
        response = await model.respond(ModelRequest("Be brief.", list(items), tools=[spec], cache=cache))
        items += response.items
        items += [
            ToolResult(call_id=c.call_id, name=c.name, output="123124")
            for c in response.items
            if isinstance(c, ToolCall)
        ]
    return [r.body for r in emu.requests]


def _type_of(value: Any) -> str:
    return (
        "number" if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__
    )


@pytest.mark.parametrize(("store", "reasoning"), [(True, None), (False, "Think first.")])
async def test_adapter_requests_have_the_recorded_shape(
    emu: OpenAIResponsesEmulator, store: bool, reasoning: str | None
) -> None:
    recorded = _recorded_requests()
    ours = await _tool_loop(emu, store=store, reasoning=reasoning)
    top_types: dict[str, set[str]] = {}
    for body in recorded:
        for key, value in body.items():
            if value is not None:
                top_types.setdefault(key, set()).add(_type_of(value))
    for body in ours:
        for key, value in body.items():
            assert key in top_types, f"{key} never appears in a recorded request"
            assert _type_of(value) in top_types[key], key
    recorded_items = _keys_by_item_type(recorded)
    for kind, keys in _keys_by_item_type(ours).items():
        assert keys <= recorded_items[kind], (kind, keys - recorded_items[kind])
    recorded_tool_keys = {k for body in recorded for t in body.get("tools") or [] for k in t}
    assert {k for t in ours[0]["tools"] for k in t} <= recorded_tool_keys
    if store:
        # The recorded chained loop: turn 2 sends only the function_call_output and the previous id.
        assert [i["type"] for i in ours[1]["input"]] == ["function_call_output"]
        assert "previous_response_id" in ours[1]
    else:
        # The recorded stateless loop: reasoning replayed before its function call, include requested.
        assert [i.get("type", "message") for i in ours[1]["input"]] == [
            "message",
            "reasoning",
            "function_call",
            "function_call_output",
        ]
        assert ours[1]["include"] == ["reasoning.encrypted_content"] and ours[1]["store"] is False


# --------------------------------------------------------------------------- the adapter reads the recordings


RESPONSES = [row for row in ALL if row[2] == 200]


@pytest.mark.parametrize("row", RESPONSES, ids=_ids(RESPONSES))
def test_adapter_reads_every_recorded_response(row: tuple[str, Any, int, Any]) -> None:
    _, _, _, body = row
    if isinstance(body, list):
        body = next(e["response"] for e in body if e["type"] == "response.completed")
    if body.get("status") in PENDING:
        # Not an answer: refused with a retryable error (the adapter polls such responses first, see
        # test_openai_fidelity_issue11.py::test_item6_*), never read as a finished empty reply.
        with pytest.raises(ServerError, match=body["status"]) as info:
            response_from(body, "gpt-x")
        assert info.value.retryable
        return
    response = response_from(body, "gpt-x")
    assert response.response_id == body["id"]
    assert response.usage.input_tokens == body["usage"]["input_tokens"]
    kinds = {
        "reasoning": Reasoning,
        "message": AssistantMessage,
        "function_call": ToolCall,
        "compaction": AssistantMessage,  # an assistant message without text holding the compaction
        # client-run native tools are neutral calls (tests/providers/test_openai_native_tools.py)
        "shell_call": ToolCall,
        "apply_patch_call": ToolCall,
        "local_shell_call": ToolCall,
    }
    # every other item (server-run tools, unknown types) is kept whole: never dropped (issue 13)
    expected = [kinds.get(o["type"], AssistantMessage) for o in body["output"]]
    assert [type(i) for i in response.items] == expected
    for out, item in zip(body["output"], response.items, strict=True):
        if isinstance(item, ToolCall) and out["type"] != "function_call":
            assert item.call_id == out["call_id"] and item.arguments
        elif isinstance(item, ToolCall):
            assert (item.call_id, item.name, item.arguments) == (
                out["call_id"],
                out["name"],
                out["arguments"],
            )
        elif isinstance(item, Reasoning) and out.get("encrypted_content"):
            state = item.state_for("openai", model="gpt-x", kind="reasoning")
            assert state is not None and state.payload["encrypted_content"] == out["encrypted_content"]
            # ...and it is replayed exactly as received, in place.
            wire = item_to_wire(item, "gpt-x")
            assert wire == {k: out[k] for k in ("type", "id", "summary", "encrypted_content")}
        elif out["type"] == "compaction":
            assert isinstance(item, AssistantMessage) and item.text == ""
            # ...kept with its state and replayed exactly as received, in place.
            assert item_to_wire(item, "gpt-y") == {k: out[k] for k in ("type", "id", "encrypted_content")}
        elif isinstance(item, AssistantMessage) and out["type"] == "message":
            assert item.text == "".join(p["text"] for p in out["content"] if p["type"] == "output_text")
        elif isinstance(item, AssistantMessage):
            assert item_to_wire(item, "gpt-y") == out


STREAMS = [row for row in RESPONSES if isinstance(row[3], list)]


@pytest.mark.parametrize("bare_completed", [False, True], ids=["full", "completed-without-output"])
@pytest.mark.parametrize("row", STREAMS, ids=_ids(STREAMS))
def test_adapter_reads_every_recorded_stream(row: tuple[str, Any, int, Any], bare_completed: bool) -> None:
    events = [dict(e) for e in row[3]]
    completed = events[-1]["response"]
    if bare_completed:
        events[-1] = {**events[-1], "response": {**completed, "output": []}}
    state = _StreamState()
    out = [o for e in events for o in state.feed(e)]
    assert state.final is not None
    response = response_from(state.final, "gpt-x")
    text = "".join(o.text for o in out if isinstance(o, ModelTextDelta))
    assert text == response.text
    args = "".join(o.arguments for o in out if isinstance(o, ModelToolCallDelta))
    assert args == "".join(i.arguments for i in response.items if isinstance(i, ToolCall))
    assert [type(i) for i in response.items] == [
        {"message": AssistantMessage, "function_call": ToolCall, "reasoning": Reasoning}[o["type"]]
        for o in completed["output"]
    ]
