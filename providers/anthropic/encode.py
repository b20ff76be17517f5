"""A whole Anthropic Messages request body, built from per-item bytes (``anthropic_items``).

The request path must not grow with the transcript, and preserved thinking needs an append-only
history: every earlier message must reach the API exactly as it did the first time. Both follow from
one rule here: each transcript item is encoded to its content-block bytes once (cached by item id,
checked against the item itself), and a request body is only the concatenation of those bytes with a
small header. Grouping items into alternating ``user``/``assistant`` messages, tool_use/tool_result
pairing and the automatic ``cache_control`` breakpoints are cheap passes over the cached blocks.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anthropic

from agentcore import tracing
from agentcore.messages import Item, ToolResult
from agentcore.model import ModelRequest, ToolSpec

from .._common import ItemCache, dumps
from . import computer
from .hosted import attach_uploads, container_to_send, hosted_parts
from .items import (
    encode_item,
    missing_result_block,
    model_family,
    orphan_result_block,
    prefix_checked,
    text_block,
    with_cache_mark,
)
from .native import native_choice, split_tools

MAX_BREAKPOINTS = 4
_ITEM_CACHE_MAX = 8192
_EFFORT = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh"}

# --------------------------------------------------------------------------- whole request


@dataclass(slots=True)
class _Msg:
    """One wire message. Once final (``chain`` set) it is never changed: later builds share it."""

    role: str
    results: list[bytes] = field(default_factory=list)
    blocks: list[bytes] = field(default_factory=list)
    tool_use_ids: list[str] = field(default_factory=list)
    result_ids: list[str] = field(default_factory=list)
    result_items: list[ToolResult] = field(default_factory=list)
    last_cacheable: bool = True
    wire: bytes | None = None
    chain: bytes = b""
    """Digest of every message up to and including this one (what later thinking blocks are bound to)."""

    def content(self) -> list[bytes]:
        return self.results + self.blocks if self.results else self.blocks

    def encode(self, mark: bool = False) -> bytes:
        """The message's bytes, or with a cache breakpoint on its last block."""
        if not mark and self.wire is not None:
            return self.wire
        blocks = self.content()
        if mark:
            blocks = [*blocks[:-1], with_cache_mark(blocks[-1])]
        return b'{"role":"' + self.role.encode() + b'","content":[' + b",".join(blocks) + b"]}"

    def finalize(self, previous: bytes) -> _Msg:
        self.wire = self.encode()
        self.chain = _chain(previous, self.wire)
        return self


def _chain(previous: bytes, wire: bytes) -> bytes:
    h = hashlib.blake2b(previous, digest_size=16)
    h.update(wire)
    return h.digest()


def _binding(fingerprint: str, chain: bytes) -> str:
    """What a thinking block produced after ``chain`` under system+tools ``fingerprint`` is bound to."""
    return hashlib.blake2b(fingerprint.encode() + chain, digest_size=12).hexdigest()


@dataclass(slots=True)
class _Build:
    """What the last request of a conversation was built from, so the next one only adds to it."""

    items: list[Item]
    fingerprint: str
    groups: list[_Msg]
    """Messages as grouped from the items (before pairing repairs)."""
    starts: list[int]
    """Index of the item each group starts at."""
    dropping: list[bool]
    """Whether thinking blocks were being dropped when each group started."""
    final: list[_Msg]
    """The sent form of every group but the last (paired, encoded, chained)."""


class RequestEncoder:
    """Builds request bodies for one model; holds the per-item byte cache."""

    def __init__(
        self,
        model: str,
        *,
        max_tokens: int,
        thinking: dict[str, Any] | None,
        caching: bool,
        sampling: bool,
        max_characters: int | None = None,
    ):
        self.model = model
        self.max_characters = max_characters
        """``max_characters`` of the text editor tool (issue 13), ``None``: not declared."""
        self.family = model_family(model)
        self.bound_to_prefix = prefix_checked(model)
        """Whether a thinking block whose prefix changed must be dropped (see ``items.PREFIX_CHECKED``)."""
        self.max_tokens = max_tokens
        self.thinking = thinking
        self.caching = caching
        self.sampling = sampling
        self._truncated: set[str] = set()
        """Wire ids of tool calls ``max_tokens`` cut off (their error results say so)."""
        self._encoded = ItemCache(
            lambda item: encode_item(item, self.family, self._truncated),
            _ITEM_CACHE_MAX,
            drop=_ITEM_CACHE_MAX // 4,
        ).encoded
        self._builds: dict[tuple[str | None, str | None], _Build] = {}
        self._uploads: dict[str, tuple[Item, Item]] = {}
        """User messages with ``container_upload`` blocks attached (:func:`.hosted.attach_uploads`)."""
        self._schemas: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._tools_key: tuple[ToolSpec, ...] = ()
        self._tools_bytes: bytes = b""
        self._tools_extra: bytes = b""
        self._system_key: str | None = None
        self._system_bytes: bytes = b""
        self._model_bytes = dumps(model)

    # ------------------------------------------------------------------ caches

    def _request_tools(self, request: ModelRequest) -> bytes:
        """The request's tool entries: function tools, then the native ones (``native``) standing in
        for some of them."""
        specs, native_entries = split_tools(self.model, request, self.max_characters)
        specs, native_entries = computer.split(self.model, request, specs, native_entries)
        return self._tools(specs, native_entries)

    def _tools(self, tools: Sequence[ToolSpec], extra: bytes = b"") -> bytes:
        key = tuple(tools)
        if (
            extra == self._tools_extra
            and len(key) == len(self._tools_key)
            and all(map(operator.is_, key, self._tools_key))
        ):
            return self._tools_bytes
        encoded = []
        for spec in key:
            schema = dict(spec.parameters) if spec.parameters else {}
            schema.setdefault("type", "object")
            tool: dict[str, Any] = {
                "name": spec.name,
                "description": spec.description,
                "input_schema": schema,
            }
            if spec.strict:
                tool["strict"] = True
                tool["input_schema"] = self._strict(schema)
            encoded.append(dumps(tool))
        if extra:
            encoded.append(extra)
        self._tools_key, self._tools_extra, self._tools_bytes = key, extra, b",".join(encoded)
        return self._tools_bytes

    def _strict(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` in the subset structured outputs accept (the SDK's own ``transform_schema``: every
        object closed with ``additionalProperties: false``, unsupported constraints moved into the
        description). Cached per schema object."""
        hit = self._schemas.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        try:
            strict = anthropic.transform_schema(schema)
        except (ValueError, TypeError) as exc:
            tracing.note("anthropic.schema_not_transformed", error=str(exc)[:200])
            strict = schema
        if len(self._schemas) >= 256:
            self._schemas.clear()
        self._schemas[id(schema)] = (schema, strict)
        return strict

    def _system(self, instructions: str | None) -> bytes:
        if instructions != self._system_key:
            self._system_key = instructions
            self._system_bytes = text_block(instructions) if instructions else b""
        return self._system_bytes

    # ------------------------------------------------------------------ messages

    def messages(
        self, items: Sequence[Item], fingerprint: str, key: tuple[str | None, str | None] = (None, None)
    ) -> tuple[list[_Msg], str]:
        """Group items into alternating messages with every tool_use answered right after it.

        Returns the messages and the binding of the blocks the model will answer with. A replayed
        thinking block is kept only if the conversation before it (system, tools and every earlier
        message, byte for byte) is what it was produced after; otherwise the API would reject it and
        every later one ("bound to a different conversation"), so from there on they are dropped.

        When the transcript only grew since the last request of this conversation, the messages
        before the last one are reused as they were (objects, bytes and digests): the cost of a
        request depends on what was added, not on how long the conversation is.
        """
        items = list(items)
        prev = self._builds.get(key)
        if (
            prev is not None
            and prev.fingerprint == fingerprint
            and prev.groups
            and len(items) >= len(prev.items)
            and all(map(operator.is_, prev.items, items))
        ):
            g = len(prev.groups) - 1  # the last message may merge with new items: rebuild it
            groups, starts, dropping = prev.groups[:g], prev.starts[:g], prev.dropping[:g]
            final = prev.final[:g]
            begin, drop = prev.starts[g], prev.dropping[g]
        else:
            groups, starts, dropping, final = [], [], [], []
            begin, drop = 0, False
        cur: _Msg | None = None
        for index in range(begin, len(items)):
            item = items[index]
            enc = self._encoded(item)
            role = enc.role
            if role is None:
                continue
            if enc.bound is not None:
                if cur is not None and cur.role == "assistant":
                    before = final[-1].chain if final else b""
                elif cur is not None:
                    before = _chain(
                        final[-1].chain if final else b"", _pair(groups, len(groups) - 1).encode()
                    )
                else:
                    before = final[-1].chain if final else b""
                if drop or (self.bound_to_prefix and enc.bound != _binding(fingerprint, before)):
                    if not drop:
                        tracing.note(
                            "anthropic.thinking_dropped",
                            reason="the conversation before it changed (system, tools or earlier messages)",
                        )
                    drop = True
                    continue
            if cur is None or cur.role != role:
                if cur is not None:
                    final.append(_pair(groups, len(groups) - 1).finalize(final[-1].chain if final else b""))
                elif groups and groups[-1].role == role:  # cannot happen for an unchanged prefix; be safe
                    self._builds.pop(key, None)
                    return self.messages(items, fingerprint, key)
                cur = _Msg(role)
                groups.append(cur)
                starts.append(index)
                dropping.append(drop)
            if isinstance(item, ToolResult):
                cur.results.extend(enc.blocks)
                cur.result_ids.append(enc.tool_use_id or "")
                cur.result_items.append(item)
            else:
                cur.blocks.extend(enc.blocks)
                cur.last_cacheable = enc.cacheable
                if enc.tool_use_id is not None:
                    cur.tool_use_ids.append(enc.tool_use_id)
        if len(self._builds) >= 256:
            del self._builds[next(iter(self._builds))]
        self._builds[key] = _Build(items, fingerprint, groups, starts, dropping, list(final))
        msgs = list(final)
        if len(groups) > len(final):
            msgs.append(_pair(groups, len(groups) - 1).finalize(final[-1].chain if final else b""))
        last = groups[-1] if groups else None
        if last is not None and last.role == "assistant" and last.tool_use_ids:
            msgs.append(_repaired(_Msg("user"), last.tool_use_ids).finalize(msgs[-1].chain))
        binding = _binding(fingerprint, msgs[-1].chain if msgs else b"")
        if msgs and msgs[0].role == "assistant":
            msgs.insert(0, _Msg("user", blocks=[text_block("(earlier conversation omitted)")]))
        return msgs, binding

    # ------------------------------------------------------------------ body

    def fingerprint(self, request: ModelRequest) -> str:
        """What thinking signatures are bound to besides the messages: system prompt and tools."""
        h = hashlib.blake2b(self._system(request.instructions), digest_size=8)
        h.update(b"\x00")
        h.update(self._request_tools(request))
        h.update(hosted_parts(request.hosted_tools, self.model).tools)  # raises for what cannot be served
        return h.hexdigest()

    def body(self, request: ModelRequest, *, stream: bool) -> tuple[bytes, str]:
        """The request body bytes and the binding of the thinking blocks the model will answer with."""
        settings = request.settings
        items = attach_uploads(request, self._uploads) if request.hosted_tools else request.items
        msgs, bound = self.messages(
            items, self.fingerprint(request), (request.conversation_id, request.agent_name)
        )
        head: dict[str, Any] = {"max_tokens": settings.max_tokens or self.max_tokens}
        thinking = self.thinking
        if thinking is not None and thinking.get("type") == "enabled":
            budget = int(thinking.get("budget_tokens", 0))
            if head["max_tokens"] <= budget:
                head["max_tokens"] = budget + 4096
        if thinking is not None and msgs and msgs[-1].role == "user":
            last_assistant = msgs[-2] if len(msgs) > 1 else None
            if (
                last_assistant is not None
                and last_assistant.tool_use_ids
                and thinking.get("type") != "disabled"
            ):
                # a compaction block the turn starts with stands for what came before: the turn
                # proper (what must start with thinking) is what follows it
                blocks = [b for b in last_assistant.blocks if not b.startswith(b'{"type":"compaction"')]
                first = blocks[0] if blocks else b""
                if not first.startswith((b'{"type":"thinking"', b'{"type":"redacted_thinking"')):
                    # a tool loop started elsewhere (another vendor/model) is in flight: the API requires
                    # the in-flight assistant turn to start with a thinking block, so think again next turn
                    tracing.note(
                        "anthropic.thinking_paused", reason="tool loop in flight without thinking block"
                    )
                    thinking = None
        forced = request.tools and settings.tool_choice not in (None, "auto", "none")
        if thinking is not None and forced and thinking.get("type") != "disabled":
            # "Thinking may not be enabled when tool_choice forces tool use": the forced call wins
            tracing.note("anthropic.thinking_paused", reason="tool_choice forces a tool")
            thinking = None
        if thinking is not None:
            head["thinking"] = thinking
        self._settings(head, request)
        if stream:
            head["stream"] = True
        self._hosted_head(head, request)
        if settings.extra:
            head.update(settings.extra)
        return self._assemble(head, request, msgs), bound

    def _settings(self, head: dict[str, Any], request: ModelRequest) -> None:
        s = request.settings
        dropped = [n for n in ("temperature", "top_p") if getattr(s, n) is not None]
        if dropped and self.sampling:
            for n in dropped:
                head[n] = getattr(s, n)
        elif dropped:
            tracing.note(
                "anthropic.settings_dropped", settings=",".join(dropped), reason="rejected by 2026-10-21"
            )
        if s.seed is not None:
            tracing.note("anthropic.settings_dropped", settings="seed", reason="not supported by Anthropic")
        if s.stop:
            head["stop_sequences"] = list(s.stop)
        output_config: dict[str, Any] = {}
        if s.reasoning_effort is not None:
            output_config["effort"] = _EFFORT[s.reasoning_effort]
        if request.output_schema is not None:
            output_config["format"] = {
                "type": "json_schema",
                "schema": self._strict(request.output_schema.schema),
            }
        if output_config:
            head["output_config"] = output_config
        if request.tools:
            choice = _tool_choice(native_choice(self.model, request, s.tool_choice), s.parallel_tool_calls)
            if choice is not None:
                head["tool_choice"] = choice

    def _hosted_head(self, head: dict[str, Any], request: ModelRequest) -> None:
        """``mcp_servers`` and ``container`` for the hosted tools (:mod:`.hosted`)."""
        if not request.hosted_tools:
            return
        hosted = hosted_parts(request.hosted_tools, self.model)
        if hosted.mcp_servers:
            head["mcp_servers"] = list(hosted.mcp_servers)
        container = container_to_send(hosted, request.cache, request.hosted_tools)
        if container is not None:
            head["container"] = container

    def _assemble(self, head: dict[str, Any], request: ModelRequest, msgs: list[_Msg]) -> bytes:
        overridden = [k for k in ("system", "tools", "messages") if k in head]  # raw settings.extra wins
        marks = MAX_BREAKPOINTS if self.caching and not overridden else 0
        model = dumps(head.pop("model")) if "model" in head else self._model_bytes
        parts: list[bytes] = [b'{"model":', model, b",", dumps(head)[1:-1]]
        tools = self._request_tools(request) if "tools" not in head else b""
        if request.hosted_tools and "tools" not in head:  # server tools after the client ones
            hosted = hosted_parts(request.hosted_tools, self.model).tools
            tools = tools + b"," + hosted if tools else hosted
        if tools:
            if marks:
                tools, marks = with_cache_mark(tools), marks - 1
            parts.append(b',"tools":[' + tools + b"]")
        if request.instructions and "system" not in head:
            system = self._system(request.instructions)
            if marks:
                system, marks = with_cache_mark(system), marks - 1
            parts.append(b',"system":[' + system + b"]")
        if "messages" not in head:
            marked = _breakpoint_messages(msgs, marks)
            encoded = [msg.encode(n in marked) for n, msg in enumerate(msgs)]
            parts.append(b',"messages":[' + b",".join(encoded) + b"]")
        parts.append(b"}")
        return b"".join(parts)


def _pair(groups: list[_Msg], i: int) -> _Msg:
    """``groups[i]`` as sent: a user turn answers every tool_use of the assistant turn before it (results
    of calls not in that turn become text, missing results are filled in as errors). An unchanged
    message is returned as it is; a changed one is a copy."""
    msg = groups[i]
    expected = groups[i - 1].tool_use_ids if i > 0 and groups[i - 1].role == "assistant" else []
    if msg.role == "user" and msg.result_ids != expected:
        return _repaired(msg, expected)
    return msg


def _repaired(msg: _Msg, expected: list[str]) -> _Msg:
    fixed = _Msg(msg.role, blocks=list(msg.blocks), last_cacheable=msg.last_cacheable)
    orphans: list[bytes] = []
    for block, rid, item in zip(msg.results, msg.result_ids, msg.result_items, strict=True):
        if rid in expected and rid not in fixed.result_ids:
            fixed.results.append(block)
            fixed.result_ids.append(rid)
            fixed.result_items.append(item)
        else:
            orphans.append(orphan_result_block(item))
    if orphans:
        tracing.note("anthropic.orphan_tool_results", count=len(orphans))
        fixed.blocks = orphans + fixed.blocks
    missing = [t for t in expected if t not in fixed.result_ids]
    if missing:
        tracing.note("anthropic.tool_result_missing", count=len(missing))
        fixed.results.extend(missing_result_block(t) for t in missing)
        fixed.result_ids.extend(missing)
    return fixed


def _breakpoint_messages(msgs: list[_Msg], marks: int) -> set[int]:
    """Messages whose last block gets a breakpoint: the newest one and the previous user turn.

    The previous user turn is where the last request put its newest breakpoint, so this request
    reads that cache entry exactly and writes a new one at its own end.
    """
    chosen: set[int] = set()
    if marks <= 0 or not msgs:
        return chosen
    last = len(msgs) - 1
    if msgs[last].last_cacheable and msgs[last].content():
        chosen.add(last)
    if marks - len(chosen) >= 1:
        for n in range(last - 1, -1, -1):
            if msgs[n].role == "user" and msgs[n].content():
                chosen.add(n)
                break
    return chosen


def _tool_choice(choice: str | None, parallel: bool | None) -> dict[str, Any] | None:
    if choice is None:
        out: dict[str, Any] | None = {"type": "auto"} if parallel is False else None
    elif choice == "auto":
        out = {"type": "auto"}
    elif choice == "required":
        out = {"type": "any"}
    elif choice == "none":
        return {"type": "none"}
    else:
        out = {"type": "tool", "name": choice}
    if out is not None and parallel is False:
        out["disable_parallel_tool_use"] = True
    return out
