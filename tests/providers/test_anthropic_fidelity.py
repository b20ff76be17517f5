"""The Anthropic emulator against real recorded exchanges, and the API rules it enforces.

Fidelity: the official SDK parses every recorded response body (JSON and SSE); the emulator's replies
have the recorded shapes (same keys, same SSE event sequence); the recorded requests pass the
emulator's validation; and the adapter's requests have the recorded requests' shape for the same
situation. Strictness: what the API rejects, the emulator rejects with a 400 in Anthropic's shape.

A recording may hold exchanges with other vendors (a conversation that moved to Claude from Gemini):
each exchange is routed by the host it was sent to, and checked by that vendor's SDK and emulator.
"""

from __future__ import annotations

import gzip
import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from anthropic._streaming import SSEDecoder
from anthropic.types import Message, RawMessageStreamEvent
from pydantic import TypeAdapter

from agentcore.messages import Item, ToolCall, ToolResult, UserMessage
from agentcore.model import ModelRequest, ModelSettings, ToolSpec
from agentcore.providers.anthropic.model import AnthropicModel
from tests.emulators.anthropic import AnthropicEmulator
from tests.emulators.anthropic_rules import (
    Rejected,
    check_messages,
    check_system,
    check_tools,
    check_top_level,
)
from tests.emulators.base import Reply, ToolCallReply
from tests.providers.harness import CASSETTES as CASSETTE_ROOT
from tests.providers.harness import emulator_fixture

CASSETTES = CASSETTE_ROOT / "anthropic"
needs_cassettes = pytest.mark.skipif(not CASSETTES.is_dir(), reason="../shared/cassettes is not available")
EVENTS: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)


def interactions() -> list[tuple[str, dict[str, Any]]]:
    if not CASSETTES.is_dir():
        return []
    out = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        for n, interaction in enumerate(yaml.safe_load(path.read_text())["interactions"]):
            out.append((f"{path.stem}#{n}", interaction))
    return out


def request_body(interaction: dict[str, Any]) -> dict[str, Any]:
    req = interaction["request"]
    body: dict[str, Any] = req.get("parsed_body") or json.loads(req["body"])
    return body


def response_text(interaction: dict[str, Any]) -> tuple[str | None, Any]:
    """(SSE text or None, parsed JSON body or None)."""
    resp = interaction["response"]
    if "parsed_body" in resp:
        return None, resp["parsed_body"]
    raw = resp["body"]["string"]
    if isinstance(raw, bytes):
        raw = gzip.decompress(raw).decode()
    return raw, None


def sse_events(text: str) -> list[tuple[str | None, Any]]:
    decoder = SSEDecoder()
    out = []
    for line in text.splitlines():
        sse = decoder.decode(line)
        if sse is not None:
            out.append((sse.event, sse.json()))
    return out


emu = emulator_fixture(AnthropicEmulator, "emu")

VENDORS = {
    "api.anthropic.com": "anthropic",
    "generativelanguage.googleapis.com": "gemini",
    "api.openai.com": "openai",
}
"""The host an exchange was recorded with -> the vendor whose SDK and emulator check it."""


def vendor_of(interaction: dict[str, Any]) -> str:
    host = urlsplit(interaction["request"]["uri"]).hostname or ""
    assert host in VENDORS, f"a recorded exchange with an unknown host: {host}"
    return VENDORS[host]


def check_foreign_response(interaction: dict[str, Any]) -> None:
    """A recorded answer of another vendor, parsed by that vendor's SDK types."""
    url = urlsplit(interaction["request"]["uri"])
    _, body = response_text(interaction)
    assert body is not None, "streamed answers of other vendors are checked in their own suites"
    if interaction["response"]["status"]["code"] != 200:
        assert isinstance(body.get("error"), dict) and body["error"].get("message")
    elif vendor_of(interaction) == "gemini":
        from google.genai import types

        parsed = types.GenerateContentResponse.model_validate(body)
        assert parsed.candidates and parsed.usage_metadata is not None
    elif url.path.endswith("/chat/completions"):
        from openai.types.chat import ChatCompletion

        assert ChatCompletion.model_validate(body).choices
    else:
        from openai.types.responses import Response

        assert Response.model_validate(body).output is not None


def check_foreign_request(interaction: dict[str, Any]) -> None:
    """A recorded request to another vendor, sent to that vendor's emulator: it must be accepted."""
    url = urlsplit(interaction["request"]["uri"])
    body = request_body(interaction)
    if vendor_of(interaction) == "gemini":
        from tests.emulators.gemini import GeminiEmulator

        match = re.fullmatch(r"/(v1beta|v1)/models/([^/:]+):generateContent", url.path)
        assert match, f"not a generateContent call: {url.path}"
        with GeminiEmulator() as gemini:
            reply = httpx.post(gemini.base_url + url.path, json=body, headers={"x-goog-api-key": "k"})
    else:
        from tests.emulators.openai_chat import ChatCompletionsEmulator
        from tests.emulators.openai_responses import OpenAIResponsesEmulator

        factory: Any = (
            ChatCompletionsEmulator if url.path.endswith("/chat/completions") else OpenAIResponsesEmulator
        )
        with factory() as openai_emu:
            reply = httpx.post(
                openai_emu.base_url + url.path, json=body, headers={"authorization": "Bearer k"}
            )
    assert reply.status_code == 200, reply.text


# --------------------------------------------------------------------------- recorded exchanges


@needs_cassettes
@pytest.mark.parametrize(("name", "interaction"), interactions(), ids=[n for n, _ in interactions()])
def test_the_sdk_parses_every_recorded_response(name: str, interaction: dict[str, Any]) -> None:
    if vendor_of(interaction) != "anthropic":
        check_foreign_response(interaction)
        return
    sse, body = response_text(interaction)
    if sse is not None:
        events = [data for event, data in sse_events(sse) if event != "ping"]  # the SDK skips pings too
        assert events and all(EVENTS.validate_python(data) for data in events)
    elif interaction["response"]["status"]["code"] == 200:
        assert Message.model_validate(body).role == "assistant"
    else:
        assert body["type"] == "error" and body["error"]["type"] and body["request_id"].startswith("req_")


@needs_cassettes
@pytest.mark.parametrize(("name", "interaction"), interactions(), ids=[n for n, _ in interactions()])
def test_recorded_requests_pass_the_emulators_validation(name: str, interaction: dict[str, Any]) -> None:
    if vendor_of(interaction) != "anthropic":
        check_foreign_request(interaction)
        return
    body = request_body(interaction)
    header = (interaction["request"].get("headers") or {}).get("anthropic-beta") or []
    values = header if isinstance(header, list) else [header]  # vcr keeps each header as a list
    betas = frozenset(b.strip() for v in values for b in str(v).split(",")) - {""}
    check_top_level(body, "2023-06-01", betas)  # what they were recorded with
    check_tools(body)
    check_system(body)
    check_messages(body, "2023-06-01", betas)


@needs_cassettes
def test_emulator_replies_have_the_recorded_shape(emu: AnthropicEmulator) -> None:
    recorded = dict(interactions())["test_anthropic_tool_with_thinking#0"]["response"]["parsed_body"]
    client = httpx.Client(
        base_url=emu.base_url, headers={"authorization": "Bearer k", "anthropic-version": "x"}
    )
    emu.queue(Reply(reasoning="hmm", text="Let me look.", tool_calls=[ToolCallReply("get_user_country", {})]))
    ours = client.post(
        "/v1/messages", json=request_body(dict(interactions())["test_anthropic_tool_with_thinking#0"])
    )
    mine = ours.json()
    assert set(recorded) <= set(mine) <= set(recorded) | {"stop_details"}
    assert set(recorded["usage"]) == set(mine["usage"])
    assert [b["type"] for b in mine["content"]] == [b["type"] for b in recorded["content"]]
    for theirs, own in zip(recorded["content"], mine["content"], strict=True):
        assert set(theirs) <= set(own) <= set(theirs) | {"caller"}
    assert Message.model_validate(mine).stop_reason == "tool_use"


@needs_cassettes
def test_emulator_streams_the_recorded_event_sequence(emu: AnthropicEmulator) -> None:
    name = "test_stream_events_tool_calls#0"
    sse, _ = response_text(dict(interactions())[name])
    assert sse is not None
    recorded = sse_events(sse)
    emu.queue(Reply(tool_calls=[ToolCallReply("pelican_name_generator", {})]))
    body = {**request_body(dict(interactions())[name])}
    body.pop("temperature")  # rejected by 2026-10-21, which our emulator speaks by default
    headers = {"authorization": "Bearer k", "anthropic-version": "2026-10-21"}
    with httpx.Client(base_url=emu.base_url, headers=headers) as client:
        ours = sse_events(client.post("/v1/messages", json=body).text)
    assert [e for e, _ in ours] == [e for e, _ in recorded]
    for (event, theirs), (_, mine) in zip(recorded, ours, strict=True):
        assert event == "ping" or EVENTS.validate_python(mine)
        assert set(theirs) == set(mine)
        for key in ("message", "content_block", "delta", "usage"):
            if isinstance(theirs.get(key), dict):
                assert set(theirs[key]) == set(mine[key]), key


@needs_cassettes
async def test_adapter_requests_have_the_recorded_shape(emu: AnthropicEmulator) -> None:
    """Same situation as the recorded thinking + tool loop: the second request echoes the turn."""
    recorded = request_body(dict(interactions())["test_anthropic_tool_with_thinking#1"])
    tool = ToolSpec(
        "get_user_country", "", {"additionalProperties": False, "properties": {}, "type": "object"}
    )
    model = AnthropicModel(
        "claude-sonnet-4-0", base_url=emu.base_url, api_key="k", max_tokens=4096, thinking=3000
    )
    items: list[Item] = [UserMessage.of("What is the largest city in the user country?")]
    emu.queue(
        Reply(reasoning="hmm", text="Let me check.", tool_calls=[ToolCallReply("get_user_country", {})])
    )
    first = await model.respond(ModelRequest(None, items, (tool,)))
    items += [
        *first.items,
        ToolResult(call_id=first.items[2].call_id, name="get_user_country", output="Mexico"),
    ]  # type: ignore[union-attr]
    await model.respond(ModelRequest(None, items, (tool,)))
    ours = emu.requests[-1].body
    assert set(ours) <= set(recorded)  # no fields the recorded request did not need
    for key in set(ours):
        assert type(ours[key]) is type(recorded[key]), key
    assert ours["thinking"] == recorded["thinking"] and ours["max_tokens"] == recorded["max_tokens"]
    for their_msg, our_msg in zip(recorded["messages"], ours["messages"], strict=True):
        assert their_msg["role"] == our_msg["role"]
        assert [b["type"] for b in their_msg["content"]] == [b["type"] for b in our_msg["content"]]
        for theirs, mine in zip(their_msg["content"], our_msg["content"], strict=True):
            assert set(mine) - {"cache_control", "caller"} == set(theirs)
    assert {k: v for k, v in ours["tools"][0].items() if k != "cache_control"} == recorded["tools"][0]
    await model.aclose()


# --------------------------------------------------------------------------- strictness


def base_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    body.update(overrides)
    return body


def assistant_tool_use(tool_id: str = "toolu_1") -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "tool_use", "id": tool_id, "name": "f", "input": {}}]}


def result(tool_id: str = "toolu_1") -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_id, "content": "ok"}


MARK = {"type": "ephemeral"}
REJECTED: list[tuple[str, dict[str, Any], str]] = [
    ("unknown field", base_body(frobnicate=True), "frobnicate: Extra inputs are not permitted"),
    ("temperature", base_body(temperature=1.0), "temperature: Extra inputs are not permitted"),
    ("top_k", base_body(top_k=5), "top_k: Extra inputs are not permitted"),
    (
        "max_tokens missing",
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}]},
        "max_tokens: Field",
    ),
    (
        "bad tool id",
        base_body(
            messages=[
                {"role": "user", "content": "Hi"},
                assistant_tool_use("call.1"),
                {"role": "user", "content": [result("call.1")]},
            ]
        ),
        "String should match pattern",
    ),
    (
        "tool_use without result",
        base_body(
            messages=[
                {"role": "user", "content": "Hi"},
                assistant_tool_use(),
                {"role": "user", "content": "next"},
            ]
        ),
        "without `tool_result` blocks immediately after",
    ),
    (
        "orphan tool_result",
        base_body(messages=[{"role": "user", "content": [result("toolu_9")]}]),
        "unexpected `tool_use_id`",
    ),
    (
        "tool_result after text",
        base_body(
            messages=[
                {"role": "user", "content": "Hi"},
                assistant_tool_use(),
                {"role": "user", "content": [{"type": "text", "text": "x"}, result()]},
            ]
        ),
        "must come first",
    ),
    (
        "same role twice",
        base_body(messages=[{"role": "user", "content": "Hi"}, {"role": "user", "content": "again"}]),
        "roles must alternate",
    ),
    (
        "document in assistant message",
        base_body(
            messages=[
                {"role": "user", "content": "Hi"},
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "document",
                            "source": {"type": "text", "media_type": "text/plain", "data": "x"},
                        }
                    ],
                },
            ]
        ),
        "`document` blocks are not allowed in `assistant` messages",
    ),
    (
        "citations on user text",
        base_body(
            messages=[
                {"role": "user", "content": [{"type": "text", "text": "Hi", "citations": [{"type": "x"}]}]}
            ]
        ),
        "citations are not allowed",
    ),
    (
        "five breakpoints",
        base_body(
            system=[{"type": "text", "text": f"s{n}", "cache_control": MARK} for n in range(3)],
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "text", "text": f"m{n}", "cache_control": MARK} for n in range(2)],
                }
            ],
        ),
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    ),
    (
        "cache_control on thinking",
        base_body(
            messages=[
                {"role": "user", "content": "Hi"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "t", "signature": "s", "cache_control": MARK}
                    ],
                },
                {"role": "user", "content": "Hi"},
            ]
        ),
        "cache_control: Extra inputs are not permitted",
    ),
    (
        "signature never issued",
        base_body(
            messages=[
                {"role": "user", "content": "Hi"},
                {
                    "role": "assistant",
                    "content": [{"type": "thinking", "thinking": "t", "signature": "forged"}],
                },
                {"role": "user", "content": "Hi"},
            ]
        ),
        "Invalid `signature` in `thinking` block",
    ),
    (
        "empty text",
        base_body(messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}]),
        "non-empty",
    ),
]


@pytest.mark.parametrize(("case", "body", "message"), REJECTED, ids=[c for c, _, _ in REJECTED])
def test_the_emulator_rejects_what_the_api_rejects(
    emu: AnthropicEmulator, case: str, body: Any, message: str
) -> None:
    headers = {"authorization": "Bearer k", "anthropic-version": "2026-10-21"}
    with httpx.Client(base_url=emu.base_url, headers=headers) as client:
        reply = client.post("/v1/messages", json=body)
    assert reply.status_code == 400, reply.text
    error = reply.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert message in error["error"]["message"]


def test_the_emulator_needs_credentials_and_a_version(emu: AnthropicEmulator) -> None:
    with httpx.Client(base_url=emu.base_url) as client:
        assert client.post("/v1/messages", json=base_body()).status_code == 401
        no_version = client.post("/v1/messages", json=base_body(), headers={"x-api-key": "k"})
        assert no_version.status_code == 400 and "anthropic-version" in no_version.text
        old = client.post(
            "/v1/messages",
            json=base_body(temperature=1.0),
            headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
        )
        assert old.status_code == 200  # sampling parameters were fine before 2026-10-21


def test_rules_module_raises_typed_rejections() -> None:
    with pytest.raises(Rejected) as info:
        check_top_level([], "2026-10-21")
    assert info.value.status == 400 and info.value.kind == "invalid_request_error"


def test_the_emulator_binds_thinking_to_the_conversation_before_it(emu: AnthropicEmulator) -> None:
    headers = {"authorization": "Bearer k", "anthropic-version": "2026-10-21"}
    tools = [{"name": "f", "input_schema": {"type": "object"}}]
    ask = [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    for model in ("claude-sonnet-5-5", "claude-sonnet-4-5"):  # prefixes checked / not checked
        emu.queue(Reply(reasoning="hmm", tool_calls=[ToolCallReply("f", {})]), Reply(text="ok"))
        if model == "claude-sonnet-4-5":
            emu.queue(Reply(text="ok"))  # the edited request is answered too
        with httpx.Client(base_url=emu.base_url, headers=headers) as client:
            turn = client.post("/v1/messages", json=base_body(model=model, tools=tools, messages=ask)).json()
            answer = {"role": "user", "content": [result(turn["content"][1]["id"])]}
            history = [{"role": "assistant", "content": turn["content"]}, answer]
            same = client.post(
                "/v1/messages", json=base_body(model=model, tools=tools, messages=[*ask, *history])
            )
            assert same.status_code == 200
            edited = [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}, *history]
            reply = client.post("/v1/messages", json=base_body(model=model, tools=tools, messages=edited))
        if model == "claude-sonnet-4-5":  # the signature is checked against the block's text only
            assert reply.status_code == 200
            continue
        assert reply.status_code == 400
        assert (
            "messages.1.content.0: Invalid `signature` in `thinking` block. The block is bound to a different "
            "conversation" in (reply.json()["error"]["message"])
        )


@needs_cassettes
async def test_adapter_requests_match_the_recorded_forced_tool_loop(emu: AnthropicEmulator) -> None:
    recorded = request_body(dict(interactions())["test_anthropic_tool_output#1"])
    tools = tuple(ToolSpec(t["name"], t["description"], t["input_schema"]) for t in recorded["tools"])
    model = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k", max_tokens=4096)
    settings = ModelSettings(tool_choice="required")
    items: list[Item] = [UserMessage.of("What is the largest city in the user country?")]
    emu.queue(Reply(tool_calls=[ToolCallReply("get_user_country", {})]))
    first = await model.respond(ModelRequest(None, items, tools, settings=settings))
    call = first.items[0]
    assert isinstance(call, ToolCall)
    items += [call, ToolResult(call_id=call.call_id, name=call.name, output="Mexico")]
    await model.respond(ModelRequest(None, items, tools, settings=settings))
    ours = emu.requests[-1].body
    assert ours["tool_choice"] == recorded["tool_choice"] == {"type": "any"}
    assert [{k: v for k, v in t.items() if k != "cache_control"} for t in ours["tools"]] == recorded["tools"]
    for their_msg, our_msg in zip(recorded["messages"], ours["messages"], strict=True):
        assert [sorted(set(b) - {"cache_control", "caller"}) for b in our_msg["content"]] == [
            sorted(b) for b in their_msg["content"]
        ]
    await model.aclose()


def test_the_emulator_drops_blocks_another_model_family_cannot_read(emu: AnthropicEmulator) -> None:
    headers = {"authorization": "Bearer k", "anthropic-version": "2026-10-21"}
    ask = [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    emu.queue(Reply(reasoning="sonnet thoughts", text="Hello."), Reply(text="ok"))
    with httpx.Client(base_url=emu.base_url, headers=headers) as client:
        turn = client.post("/v1/messages", json=base_body(model="claude-sonnet-5-5", messages=ask)).json()
        history = [
            *ask,
            {"role": "assistant", "content": turn["content"]},
            {"role": "user", "content": "More"},
        ]
        reply = client.post("/v1/messages", json=base_body(model="claude-opus-5-5", messages=history))
    assert reply.status_code == 200  # unreadable blocks are dropped without an error, as the API does
    assert emu.state["dropped_blocks"] == [(1, 0, "model_mismatch")]


def test_structured_output_schemas_must_close_every_object(emu: AnthropicEmulator) -> None:
    headers = {"authorization": "Bearer k", "anthropic-version": "2026-10-21"}
    nested = {
        "type": "object",
        "properties": {"a": {"type": "object", "properties": {}}},
        "additionalProperties": False,
    }
    body = base_body(output_config={"format": {"type": "json_schema", "schema": nested}})
    with httpx.Client(base_url=emu.base_url, headers=headers) as client:
        reply = client.post("/v1/messages", json=body)
    assert reply.status_code == 400
    assert "output_config.format.schema.properties.a: For 'object' type" in reply.json()["error"]["message"]
