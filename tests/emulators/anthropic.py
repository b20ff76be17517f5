"""A local emulator of the Anthropic Messages API (``POST /v1/messages``, JSON and SSE).

Faithful where adapters go wrong: it validates requests like API version 2026-10-21 does (see
``anthropic_rules``) and answers 400 in Anthropic's error shape; it issues thinking signatures and
checks them when they come back (unknown or edited block -> ``Invalid `signature```; a block whose
prefix -- system, tools and everything before it -- changed -> "bound to a different conversation",
on the models that check prefixes (``PREFIX_CHECKED``);
a block from another model family is dropped silently, as the API does); and it simulates prompt
caching from the request's ``cache_control`` breakpoints, so usage shows cache reads and writes.

Replies, errors, SSE event order and field names follow the recorded exchanges in
``../shared/cassettes/anthropic`` (message_start, content_block_start/delta/stop with text_delta,
thinking_delta, signature_delta and input_json_delta, message_delta, message_stop, ping, error).

Faults (``Reply.malformed``): ``"body"`` answers 200 with an HTML page, ``"stream"`` puts a line cut
in two (not JSON) after ``message_start``.

Server-side blocks (:class:`AnthropicReply` ``content``): ``server_tool_use`` and ``mcp_tool_use``
stream their input as ``input_json_delta`` (``vercel/ai``'s code-execution recording), result blocks
and ``container_upload`` arrive whole in ``content_block_start``, ``compaction`` as a start with
``content: null`` and one ``compaction_delta``, citations as ``citations_delta``; a ``container`` is
returned on the message and in ``message_delta``. Sent back in a request, each is checked against the
SDK's param type (closed), its id pattern, its role and its pairing within the assistant turn; beta
blocks (``compaction``, MCP) need their ``anthropic-beta`` header.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.emulators import anthropic_compaction as compaction
from tests.emulators.anthropic_files import check_uploads, handle_files, run_in_container
from tests.emulators.anthropic_rules import (
    NEW_VERSION,
    PrefixHasher,
    Rejected,
    check_messages,
    check_system,
    check_thinking_turn,
    check_tools,
    check_top_level,
)
from tests.emulators.anthropic_server_tools import (
    after_reply,
    check_container,
    check_continuation,
    check_replayed,
    check_server_tools,
    server_usage,
)
from tests.emulators.base import HTTPReply, RecordedRequest, Reply, TimedEmulator
from tests.emulators.computer_rules import (
    anthropic_call_problem,
    anthropic_toolset_fields,
    check_anthropic_computer,
)
from tests.emulators.context_window import (
    anthropic_count,
    anthropic_edits,
    anthropic_refusal,
    apply_anthropic_edits,
    note_anthropic_edits,
)

REDACTED = "<redacted>"
"""``Reply(reasoning=REDACTED)`` makes the model answer with a ``redacted_thinking`` block."""
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_DATE_SUFFIX = re.compile(r"(-\d{8}|-latest|@.*)$")
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


_SECRET = os.urandom(32)
"""Signing key shared by every emulator in the process: like the real API, any server verifies a
signature another one issued (two emulators = two requests to the same API)."""


def seal_signature(family: str, text_sha: str, prefix: str) -> str:
    """An opaque signature binding a thinking block to its model family, its text and its prefix."""
    claims = json.dumps([family, text_sha, prefix, os.urandom(6).hex()]).encode()
    mac = hmac.new(_SECRET, claims, hashlib.sha256).digest()[:24]
    return "Eq" + base64.b64encode(mac + claims).decode()


def open_signature(opaque: str) -> tuple[str, str, str] | None:
    """The (family, text sha, prefix digest) a signature was issued for, or None if it is not ours or was edited."""
    try:
        raw = base64.b64decode(opaque[2:], validate=True) if opaque.startswith("Eq") else b""
    except ValueError:
        return None
    mac, claims = raw[:24], raw[24:]
    if len(mac) < 24 or not hmac.compare_digest(mac, hmac.new(_SECRET, claims, hashlib.sha256).digest()[:24]):
        return None
    family, text_sha, prefix, _ = json.loads(claims)
    return str(family), str(text_sha), str(prefix)


@dataclass
class AnthropicReply(Reply):
    """A reply with what only Anthropic has.

    ``content``: the assistant's content blocks verbatim (server tool use and results, compaction,
    MCP, citations, any block from a recording), instead of ``reasoning``/``text``/``tool_calls``;
    thinking blocks in it get fresh signatures from this emulator. ``stop_reason`` overrides the
    one the content implies (``max_tokens``: a tool call whose arguments are invalid JSON is the
    call the limit cut, streamed as written and ``input: {}`` when not streamed). ``usage`` is
    merged into the usage (``iterations``, ``server_tool_use``…); ``container`` is returned as the
    message's ``container`` (and in ``message_delta`` when streamed).
    """

    content: list[dict[str, Any]] | None = None
    stop_reason: str | None = None
    usage: dict[str, Any] | None = None
    container: dict[str, Any] | None = None


INPUT_BLOCKS = ("tool_use", "server_tool_use", "mcp_tool_use")
"""Blocks whose ``input`` streams as ``input_json_delta`` (everything else but text, thinking and
compaction arrives whole in ``content_block_start``)."""


def _rand_id(prefix: str) -> str:
    raw = os.urandom(22)
    return prefix + "01" + "".join(_ALNUM[b % 62] for b in raw)


PREFIX_CHECKED = frozenset(
    {
        "claude-fable-5-1",
        "claude-fable-5-2",
        "claude-mythos-5-1",
        "claude-mythos-5-2",
        "claude-opus-5-5",
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
    }
)
"""Families whose replayed thinking blocks must keep their prefix (docs ``preserved-thinking/prefix-checks``);
the others' signatures are checked against the block's text only."""


def model_family(model: str) -> str:
    return _DATE_SUFFIX.sub("", model)


class AnthropicEmulator(TimedEmulator):
    vendor = "anthropic"

    def __init__(self, *, min_cacheable_tokens: int = 1024) -> None:
        super().__init__()
        self.min_cacheable_tokens = min_cacheable_tokens
        self.state["cache"] = {}  # prefix digest -> tokens
        self.state["dropped_blocks"] = []

    # ------------------------------------------------------------------ entry point

    def _handle(self, request: RecordedRequest) -> HTTPReply:
        path = request.path.split("?", 1)[0]
        if request.method == "POST" and path == "/v1/messages/count_tokens":
            return anthropic_count(self, request)
        files = path == "/v1/files" or path.startswith("/v1/files/")
        if not files and (request.method != "POST" or path != "/v1/messages"):
            return self.error(404, f"{request.method} {path} not found", "not_found_error")
        headers = request.headers
        if not headers.get("x-api-key") and not headers.get("authorization", "").startswith("Bearer "):
            return self.error(401, "x-api-key header is required", "authentication_error")
        version = headers.get("anthropic-version")
        if not version:
            return self.error(400, "anthropic-version: header is required")
        if files:  # the Files API (anthropic_files)
            return handle_files(self.state, request, path)
        body = request.body
        betas = frozenset(b.strip() for b in headers.get("anthropic-beta", "").split(",") if b.strip())
        try:
            check_top_level(body, version, betas)
            check_server_tools(body, betas)  # web fetch / code execution betas, domain lists, MCP servers
            _, tool_marks = check_tools(body)
            check_anthropic_computer(body, betas, Rejected)
            marks = tool_marks + check_system(body) + check_messages(body, version, betas)
            check_thinking_turn(body)
            marks += 1 if body.get("cache_control") else 0
            if marks > 4:
                raise Rejected(f"A maximum of 4 blocks with cache_control may be provided. Found {marks}.")
            hasher, breakpoints = self._check_thinking(body)
            edits = anthropic_edits(body)  # context editing (context_window.py)
            compact = compaction.check_request(self.state, body, betas)  # server-side compaction
            check_replayed(self.state, body)  # server blocks come back as they were issued
            check_container(self.state, body)
            check_uploads(self.state, body, betas)  # container_upload blocks: the file, the tool, the beta
            check_continuation(self.state, body)  # after pause_turn
        except Rejected as exc:
            return self.error(exc.status, exc.message, exc.kind)
        held, applied = apply_anthropic_edits(edits, body, max(hasher.bytes // 4, 1))
        if (refused := anthropic_refusal(self, held)) is not None:
            return refused
        reply = self.next_reply()
        if reply.error is not None:
            status, message = reply.error
            return self.error(status, message, reply.error_type, reply.headers)
        freed = max(hasher.bytes // 4, 1) - held
        summary = compaction.due(self.state, compact, body, held)
        if summary is not None:  # the model answers from system, tools and the summary
            hasher, breakpoints = compaction.restart(body, summary), []
        message, raw_inputs = self._message(body, reply, hasher, breakpoints, summary)
        note_anthropic_edits(message, applied, freed)
        if summary is not None and compact is not None:
            compaction.note(message, compact, summary, held)
        compaction.remember(self.state, message)  # scripted ones too: they may come back
        run_in_container(self.state, body, message)  # uploads placed, scripted commands run (anthropic_files)
        after_reply(self.state, message)
        headers_out = {"request-id": _rand_id("req_"), **self._ratelimit_headers(), **reply.headers}
        if body.get("stream"):
            events = self._events(message, reply, raw_inputs)
            if reply.malformed == "stream":  # a proxy that cut a line in two, after message_start
                events = _cut_after_first(events, b'{"type": "content_block_start", "index": 0, "conte')
            return HTTPReply(200, sse=events, headers=headers_out)
        if reply.malformed == "body":  # a proxy's error page with status 200
            return HTTPReply(200, raw=b"<html><body>502 Bad Gateway</body></html>", headers=headers_out)
        return HTTPReply(200, message, headers=headers_out)

    def error(
        self, status: int, message: str, kind: str | None = None, headers: dict[str, str] | None = None
    ) -> HTTPReply:
        kind = kind or _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": _rand_id("req_")}
        out = {"request-id": body["request_id"]}
        if status == 429:
            out.update(self._ratelimit_headers(exhausted=True))
        out.update(headers or {})
        return HTTPReply(status, body, headers=out)

    @staticmethod
    def _ratelimit_headers(exhausted: bool = False) -> dict[str, str]:
        reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + (2 if exhausted else 0)))
        out = {}
        for kind, limit in (("requests", 4000), ("tokens", 2000000), ("input-tokens", 1600000)):
            out[f"anthropic-ratelimit-{kind}-limit"] = str(limit)
            out[f"anthropic-ratelimit-{kind}-remaining"] = (
                "0" if exhausted and kind == "requests" else str(limit - 1)
            )
            out[f"anthropic-ratelimit-{kind}-reset"] = reset
        return out

    # ------------------------------------------------------------------ thinking signatures and caching

    def _check_thinking(self, body: dict[str, Any]) -> tuple[PrefixHasher, list[tuple[str, int]]]:
        """Verify echoed thinking blocks; return the prefix hasher (fed with every message) and the
        breakpoints as (prefix digest, prefix size in bytes)."""
        family = model_family(body["model"])
        hasher = PrefixHasher(body)
        breakpoints: list[tuple[str, int]] = []
        system = body.get("system")
        if isinstance(system, list) and any(b.get("cache_control") for b in system):
            breakpoints.append((hasher.digest(), hasher.bytes))
        elif body.get("tools") and any(t.get("cache_control") for t in body["tools"]):
            breakpoints.append((hasher.digest(), hasher.bytes))
        for n, msg in enumerate(body["messages"]):
            hasher.role(msg["role"])
            content = msg["content"]
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            for m, block in enumerate(blocks):
                if block["type"] in ("thinking", "redacted_thinking"):
                    opaque = block["signature"] if block["type"] == "thinking" else block["data"]
                    issued = open_signature(opaque)
                    where = f"messages.{n}.content.{m}"
                    if issued is None:
                        raise Rejected(f"{where}: Invalid `signature` in `{block['type']}` block")
                    issued_family, text_sha, prefix = issued
                    if issued_family != family:
                        self.state["dropped_blocks"].append((n, m, "model_mismatch"))
                        continue
                    if block["type"] == "thinking" and _sha(block["thinking"]) != text_sha:
                        raise Rejected(f"{where}: Invalid `signature` in `thinking` block")
                    if prefix != hasher.digest() and family in PREFIX_CHECKED:
                        raise Rejected(
                            f"{where}: Invalid `signature` in `{block['type']}` block. The block is bound to "
                            "a different conversation. Its signature was issued for a different prefix "
                            "(system prompt, tools or earlier messages changed, or a thinking block was "
                            "omitted or moved). Send the conversation unchanged, or drop this block and "
                            "every later one."
                        )
                if compaction.is_summary(block):  # it stands for everything before it
                    hasher = compaction.restart(body, block)
                    breakpoints = compaction.cached_before(body, breakpoints)
                else:
                    hasher.block(block)
                if isinstance(block, dict) and block.get("cache_control"):
                    breakpoints.append((hasher.digest(), hasher.bytes))
        return hasher, breakpoints

    def _usage(
        self, reply: Reply, hasher: PrefixHasher, breakpoints: list[tuple[str, int]]
    ) -> dict[str, Any]:
        total = reply.input_tokens if reply.input_tokens is not None else max(hasher.bytes // 4, 1)
        read = write = 0
        if reply.cached_tokens:
            read = min(reply.cached_tokens, total)
        elif reply.input_tokens is None and breakpoints:
            cache: dict[str, int] = self.state["cache"]
            for digest, size in breakpoints:
                tokens = size // 4
                if digest in cache:
                    read = max(read, tokens)
            newest = max(size // 4 for _, size in breakpoints)
            if newest >= self.min_cacheable_tokens:
                write = max(newest - read, 0)
            for digest, size in breakpoints:
                if size // 4 >= self.min_cacheable_tokens:
                    cache[digest] = size // 4
            if read < self.min_cacheable_tokens:
                read = 0
        return {
            "input_tokens": max(total - read - write, 0),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
            "output_tokens": reply.output_tokens,
            "service_tier": "standard",
            "inference_geo": "not_available",
        }

    def _issue(self, family: str, thinking: str, hasher: PrefixHasher) -> str:
        return seal_signature(family, _sha(thinking), hasher.digest())

    # ------------------------------------------------------------------ replies

    def _message(
        self,
        body: dict[str, Any],
        reply: Reply,
        hasher: PrefixHasher,
        breakpoints: list[tuple[str, int]],
        summary: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], dict[int, str]]:
        """The message, and the raw text of tool inputs that are not JSON (by block index).
        ``summary``: the compaction block this answer starts with (``hasher`` is already past it)."""
        usage = self._usage(reply, hasher, breakpoints)
        family = model_family(body["model"])
        content: list[dict[str, Any]] = [summary] if summary is not None else []
        raw_inputs: dict[int, str] = {}
        last = body["messages"][-1] if body["messages"] else {"role": "user"}
        if last["role"] == "user" and summary is None:
            hasher.role("assistant")
        scripted = reply.content if isinstance(reply, AnthropicReply) else None
        if scripted is not None:
            for block in copy.deepcopy(scripted):
                if block.get("type") == "thinking":
                    block["signature"] = self._issue(family, block.get("thinking", ""), hasher)
                elif block.get("type") == "redacted_thinking":
                    block["data"] = self._issue(family, "", hasher)
                content.append(block)
                hasher.block(block)
        if reply.reasoning is not None and scripted is None:
            if reply.reasoning == REDACTED:
                block: dict[str, Any] = {"type": "redacted_thinking", "data": self._issue(family, "", hasher)}
            else:
                block = {"type": "thinking", "thinking": reply.reasoning, "signature": ""}
                block["signature"] = self._issue(family, reply.reasoning, hasher)
            content.append(block)
            hasher.block(block)
        if reply.text is not None and scripted is None:
            content.append({"type": "text", "text": reply.text})
        for call in reply.tool_calls if scripted is None else ():
            arguments = call.arguments if isinstance(call.arguments, dict) else _loads_obj(call.arguments)
            if arguments is None:  # not JSON: the model wrote it so (or max_tokens cut it)
                raw_inputs[len(content)] = str(call.arguments)
            problem = anthropic_call_problem(body, call.name, arguments)  # documented computer actions only
            assert problem is None, f"scripted computer action: {problem}"
            content.append(
                {
                    "type": "tool_use",
                    "id": call.call_id or _rand_id("toolu_"),
                    "name": call.name,
                    "input": arguments or {},
                    "caller": {"type": "direct"},
                    **anthropic_toolset_fields(body, call.name),  # a computer toolset member's call
                }
            )
        stop = "tool_use" if any(b.get("type") == "tool_use" for b in content) else "end_turn"
        message: dict[str, Any] = {
            "model": body["model"],
            "id": _rand_id("msg_"),
            "type": "message",
            "role": "assistant",
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "stop_details": None,
            "usage": usage,
        }
        if isinstance(reply, AnthropicReply):
            message["stop_reason"] = reply.stop_reason or stop
            server = server_usage(content)
            if server is not None:
                usage["server_tool_use"] = server
            usage.update(copy.deepcopy(reply.usage or {}))
            if reply.container is not None:
                message["container"] = dict(reply.container)
        return message, raw_inputs

    def _events(
        self, message: dict[str, Any], reply: Reply, raw_inputs: dict[int, str]
    ) -> Iterator[tuple[str | None, Any]]:
        usage = dict(message["usage"])
        start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
        start.pop("container", None)
        start["usage"].pop("iterations", None)
        overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        yield "message_start", {"type": "message_start", "message": start}
        for index, block in enumerate(message["content"]):
            kind = block["type"]
            if kind == "thinking":
                first: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
            elif kind == "text":
                first = {"type": "text", "text": ""}
            elif kind in INPUT_BLOCKS:
                first = {**block, "input": {}}
            elif kind == "compaction":
                first = {"type": "compaction", "content": None}
            else:
                first = block  # redacted thinking and server tool results arrive whole
            yield "content_block_start", _start(index, first)
            if index == 0:
                yield "ping", {"type": "ping"}
            for n, delta in enumerate(_deltas(block, raw_inputs.get(index))):
                yield "content_block_delta", _delta(index, delta)
                if n == 0 and kind == "text" and reply.stream_error:
                    yield "error", overloaded
                    return
            yield "content_block_stop", {"type": "content_block_stop", "index": index}
        if reply.stream_error:
            yield "error", overloaded
            return
        counts = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        delta: dict[str, Any] = {
            "stop_reason": message["stop_reason"],
            "stop_sequence": None,
            "stop_details": None,
        }
        if "container" in message:
            delta["container"] = message["container"]
        final_usage = {**{k: usage[k] for k in counts}, "output_tokens": usage["output_tokens"]}
        for key in ("server_tool_use", "iterations"):
            if key in usage:
                final_usage[key] = usage[key]
        yield "message_delta", {"type": "message_delta", "delta": delta, "usage": final_usage}
        yield "message_stop", {"type": "message_stop"}


def _cut_after_first(
    events: Iterator[tuple[str | None, Any]], cut: bytes
) -> Iterator[tuple[str | None, Any]]:
    """``events`` with a line that is not JSON after the first one."""
    for n, event in enumerate(events):
        yield event
        if n == 0:
            yield event[0], cut


def _deltas(block: dict[str, Any], raw_input: str | None = None) -> Iterator[dict[str, Any]]:
    kind = block["type"]
    if kind == "thinking":
        for chunk in _chunks(block["thinking"]):
            yield {"type": "thinking_delta", "thinking": chunk}
        yield {"type": "signature_delta", "signature": block["signature"]}
    elif kind == "text":
        for citation in block.get("citations") or ():
            yield {"type": "citations_delta", "citation": citation}
        for chunk in _chunks(block["text"]):
            yield {"type": "text_delta", "text": chunk}
    elif kind in INPUT_BLOCKS:
        yield {"type": "input_json_delta", "partial_json": ""}
        text = raw_input if raw_input is not None else (_json_str(block["input"]) if block["input"] else "")
        if text:
            for chunk in _chunks(text, 12):
                yield {"type": "input_json_delta", "partial_json": chunk}
    elif kind == "compaction":
        delta = {"type": "compaction_delta", "content": block.get("content")}
        if "encrypted_content" in block:
            delta["encrypted_content"] = block["encrypted_content"]
        yield delta


def _start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def _delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def _chunks(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _json_str(value: Any) -> str:
    return json.dumps(value)


def _loads_obj(raw: str) -> dict[str, Any] | None:
    """``raw`` as the object the model meant, ``None`` when it is not JSON."""
    try:
        value = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return None
    return value if isinstance(value, dict) else {"value": value}


def harness() -> Any:
    from agentcore.providers.anthropic.model import AnthropicModel
    from tests.providers.harness import Harness

    emulator = AnthropicEmulator()
    return Harness(
        name="anthropic",
        emulator=emulator,
        make_model=lambda **kw: AnthropicModel(
            "claude-sonnet-5-5", base_url=emulator.base_url, api_key="test-key", **kw
        ),
    )


__all__ = ["NEW_VERSION", "REDACTED", "AnthropicEmulator", "AnthropicReply", "harness"]
