"""Anthropic Messages responses (JSON and SSE events) -> normalized items, usage and deltas.

Every block the model returned is kept in the produced item's ProviderState exactly as it arrived
(``payload["block"]``), so the next request can echo ``thinking``/``redacted_thinking`` blocks with
their signatures, and the whole assistant turn around them, unchanged and in order.

Blocks that are not text, thinking or a client ``tool_use`` (server tools and their results,
``container_upload``, MCP blocks, ``compaction``, and any block type newer than this module) become an
``AssistantMessage`` with empty text whose state holds the block: replayed as it came to Anthropic,
never shown as text, dropped by other vendors (but a ``compaction`` block's summary reaches them, and
other Claude families, as text: ``providers._common.assistant_text``). The stream assembler follows
the SDK's own accumulation (``anthropic.lib.streaming``): ``input_json_delta`` feeds every block that
streams an ``input`` (``tool_use``, ``server_tool_use``, ``mcp_tool_use``), ``compaction_delta`` sets
the summary, result blocks arrive whole in ``content_block_start``, and a delta it does not know is
noted, not fatal.

A client ``tool_use`` whose streamed input is not valid JSON (the model wrote bad JSON, or
``max_tokens`` cut it) stays a ``ToolCall`` with the raw text as its arguments, so the tool executor
answers the model with a tool error instead of the request being retried; ``max_tokens`` is recorded
on the call (``truncated``) and said in that error's text (see ``encode``).
"""

from __future__ import annotations

import json
from typing import Any

from agentcore import tracing
from agentcore.messages import (
    AssistantMessage,
    HostedToolUse,
    Item,
    ProviderState,
    Reasoning,
    ToolCall,
    Usage,
)
from agentcore.model import (
    ModelHostedToolEvent,
    ModelReasoningDelta,
    ModelResponse,
    ModelStreamEvent,
    ModelTextDelta,
    ModelToolCallDelta,
)

from .computer import computer_call
from .computer import is_call as is_computer_call
from .items import PROVIDER
from .native import native_call
from .server_blocks import citations_of, group, hosted_item, is_result, is_use, kind_of

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
    "pause_turn": "pause_turn",
}


_SAMPLING_ITERATIONS = ("message", "fallback_message")
"""``usage.iterations[]`` entries the top-level usage already counts (the model's own sampling passes)."""

TRUNCATED = "max_tokens"
"""``payload["truncated"]`` of a ``tool_use`` state whose call ``max_tokens`` cut off."""


def _tokens(raw: dict[str, Any]) -> tuple[int, int, int, int]:
    read = int(raw.get("cache_read_input_tokens") or 0)
    write = int(raw.get("cache_creation_input_tokens") or 0)
    return int(raw.get("input_tokens") or 0) + read + write, int(raw.get("output_tokens") or 0), read, write


def usage_from(raw: dict[str, Any] | None) -> Usage:
    """Anthropic usage -> agentcore Usage. Anthropic's ``input_tokens`` excludes cache reads and writes.

    Server-side passes the top-level fields leave out are added from ``usage.iterations[]``: a
    ``compaction`` pass ("a compaction entry's tokens are not included in the top-level usage
    fields") and any other non-sampling pass (``advisor_message``…); ``message``/``fallback_message``
    entries are the sampling passes the top level already sums.
    """
    if not raw:
        return Usage(requests=1)
    total_in, total_out, read, write = _tokens(raw)
    details = raw.get("output_tokens_details") or {}
    iterations = raw.get("iterations")
    if isinstance(iterations, list):
        for it in iterations:
            if isinstance(it, dict) and it.get("type") not in _SAMPLING_ITERATIONS:
                more_in, more_out, more_read, more_write = _tokens(it)
                total_in, total_out = total_in + more_in, total_out + more_out
                read, write = read + more_read, write + more_write
    return Usage(
        requests=1,
        input_tokens=total_in,
        output_tokens=total_out,
        cached_input_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=int(details.get("thinking_tokens") or 0) if isinstance(details, dict) else 0,
        server_tool_requests=_server_requests(raw.get("server_tool_use")),
    )


def _server_requests(raw: Any) -> dict[str, int]:
    """``usage.server_tool_use`` (``{"web_search_requests": 2, ...}``) by neutral kind, counts above 0."""
    if not isinstance(raw, dict):
        return {}
    out = {}
    for key, count in raw.items():
        if key.endswith("_requests") and isinstance(count, int) and not isinstance(count, bool) and count > 0:
            out[key.removesuffix("_requests")] = count
    return out


class BlockDecoder:
    """Turns content blocks into items for one model; ``bound`` is the request's system+tools fingerprint."""

    def __init__(
        self, model: str, bound: str, native: dict[str, str] | None = None, max_characters: int | None = None
    ) -> None:
        self.model = model
        self.bound = bound
        self.native = native or {}
        """Declared native tools: wire name -> native kind (``bash``, ``text_editor``)."""
        self.max_characters = max_characters

    def _state(self, kind: str, block: dict[str, Any], **extra: Any) -> tuple[ProviderState, ...]:
        return (
            ProviderState(provider=PROVIDER, model=self.model, kind=kind, payload={"block": block, **extra}),
        )

    def item(self, block: dict[str, Any], raw_input: str | None = None, truncated: bool = False) -> Item:
        """One content block as an item. ``raw_input``: a client tool_use's streamed input that is not
        a JSON object (kept as the call's arguments); ``truncated``: ``max_tokens`` ended the turn
        while this tool_use was being written."""
        if not isinstance(block, dict):
            raise TypeError(f"content block is not an object: {block!r:.200}")
        kind = block.get("type")
        if kind == "text":
            text = str(block.get("text") or "")
            extras = {k: v for k, v in block.items() if k not in ("type", "text") and v is not None}
            return AssistantMessage(
                text=text,
                citations=citations_of(block) if "citations" in extras else (),
                state=self._state("text", block) if extras else (),
            )
        if kind == "thinking":
            return Reasoning(
                summary=str(block.get("thinking") or ""),
                state=self._state("thinking", block, bound=self.bound),
            )
        if kind == "redacted_thinking":
            return Reasoning(summary="", state=self._state("redacted_thinking", block, bound=self.bound))
        if kind == "tool_use" and is_computer_call(block, self.native):  # issue 16
            return computer_call(
                block, self.model, raw_input if raw_input is not None or not truncated else "{}"
            )
        if kind == "tool_use" and block.get("name") in self.native:  # bash, text editor: our sandbox runs it
            raw = raw_input
            if raw is None and truncated:  # cut by max_tokens: not replayed, the executor answers
                raw = json.dumps(block.get("input") or {})
            native = self.native[str(block["name"])]
            return native_call(block, native, self.model, raw_input=raw, max_characters=self.max_characters)
        if kind == "tool_use":
            call_id, name = str(block.get("id") or ""), str(block.get("name") or "")
            if raw_input is not None or truncated:
                # the arguments go back as written; the block itself cannot be replayed (its input
                # is not the object the model meant), so the call is re-encoded from the item
                arguments = raw_input if raw_input is not None else json.dumps(block.get("input") or {})
                extra: dict[str, Any] = {"truncated": TRUNCATED} if truncated else {}
                state = (
                    ProviderState(
                        provider=PROVIDER, model=self.model, kind="tool_use_incomplete", payload=extra
                    ),
                )
                return ToolCall(call_id=call_id, name=name, arguments=arguments, state=state)
            arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
            extras = {
                k: v for k, v in block.items() if k not in ("type", "id", "name", "input") and v is not None
            }
            return ToolCall(
                call_id=call_id,
                name=name,
                arguments=arguments,
                state=self._state("tool_use", block) if extras else (),
            )
        if kind == "compaction":
            # the API's summary of everything before it: replayed as it came, in its place
            return AssistantMessage(text="", state=self._state("compaction", block))
        if not isinstance(kind, str):
            raise TypeError(f"content block without a type: {block!r:.200}")
        # server tool use/results, containers, MCP, anything newer: not portable, echoed verbatim to Anthropic
        return AssistantMessage(text="", state=self._state("block", block))

    def response(
        self,
        message: dict[str, Any],
        raw_inputs: dict[int, str] | None = None,
        hosted: dict[str, HostedToolUse] | None = None,
    ) -> ModelResponse:
        """The whole message as a ModelResponse. ``raw_inputs``: streamed inputs that did not parse,
        by block index; ``hosted``: the items already announced while streaming, by call id (reused
        when the response gives the same blocks). Raises ``TypeError``/``ValueError`` for a body that
        is not a message."""
        if not isinstance(message, dict):
            raise TypeError(f"the answer is not a message object: {message!r:.200}")
        content = message.get("content") or []
        if not isinstance(content, list):
            raise TypeError(f"message content is not a list: {content!r:.200}")
        stop = message.get("stop_reason")
        raw_inputs = raw_inputs or {}
        last = len(content) - 1
        items: list[Item] = []
        results: dict[str, dict[str, Any]] | None = None
        for n, members in group(content):
            block = content[n]
            if len(members) > 1 or is_use(block) or is_result(block):
                if results is None:  # server results by the call they answer (a call's result may come later)
                    results = {str(b.get("tool_use_id")): b for b in content if is_result(b)}
                items.append(self._hosted(content, members, results, hosted or {}))
                continue
            truncated = stop == "max_tokens" and n == last and _is_tool_use(block)
            items.append(self.item(block, raw_inputs.get(n), truncated))
        if raw_inputs or (stop == "max_tokens" and items and isinstance(items[-1], ToolCall)):
            tracing.note(
                "anthropic.tool_input_invalid",
                calls=len(raw_inputs) or 1,
                stop_reason=str(stop),
                reason="the call goes back to the model as a tool error",
            )
        return ModelResponse(
            items=items,
            usage=usage_from(message.get("usage")),
            response_id=message.get("id"),
            finish_reason=FINISH_REASONS.get(stop, stop) if isinstance(stop, str) else None,
            model=message.get("model"),
        )

    def _hosted(
        self,
        content: list[Any],
        members: list[int],
        results: dict[str, dict[str, Any]],
        announced: dict[str, HostedToolUse],
    ) -> HostedToolUse:
        """One server-tool call (a use and the result blocks after it) as a hosted item."""
        blocks = [content[i] for i in members]
        use = blocks[0] if is_use(blocks[0]) else None
        call_id = use.get("id") if use is not None else blocks[0].get("tool_use_id")
        result = results.get(str(call_id)) if call_id is not None else None
        seen = announced.get(str(call_id))
        if seen is not None and [s.payload["block"] for s in seen.state] == blocks:
            return seen
        return hosted_item(use, result, blocks, self.model)


def _is_tool_use(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "tool_use"


class StreamAssembler:
    """Feeds on SSE event payloads; returns the deltas to yield and, at the end, the whole message.

    Mirrors the SDK's accumulation: ``message_delta`` fields (stop reason, ``container``,
    ``context_management``…) and usage counts overwrite what ``message_start`` said; every block
    that streams ``input_json_delta`` gets its JSON parsed at ``content_block_stop``.
    Raises ``KeyError``/``TypeError``/``ValueError`` on events that are not what the API sends.
    """

    def __init__(self, model: str | None = None, uses: dict[str, dict[str, Any]] | None = None) -> None:
        self.model = model
        """The model hosted items are attributed to (the request's model name)."""
        self.hosted: dict[str, HostedToolUse] = {}
        """Hosted items announced as finished while streaming, by call id."""
        self._uses: dict[str, dict[str, Any]] = {} if uses is None else uses
        """Server tool uses by id (shared by the pieces of a paused turn: a result may follow a pause)."""
        self.message: dict[str, Any] = {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self._json: dict[int, list[str]] = {}
        self._tool_index: dict[int, int] = {}
        self.raw_inputs: dict[int, str] = {}
        """Streamed inputs that are not a JSON object, by block index (kept as written)."""
        self.unknown: list[str] = []
        """Delta types this module does not know (their blocks are kept as they started)."""
        self.usage: dict[str, Any] = {}
        self.started = False
        self.stopped = False

    def feed(self, event: dict[str, Any]) -> list[ModelStreamEvent]:
        kind = event.get("type")
        if kind == "content_block_delta":
            delta = event["delta"]
            if not isinstance(delta, dict):
                raise TypeError(f"content_block_delta without a delta object: {event!r:.200}")
            return self._delta(_index(event), delta)
        if kind == "content_block_start":
            index = _index(event)
            block = event["content_block"]
            if not isinstance(block, dict) or not isinstance(block.get("type"), str):
                raise TypeError(f"content_block_start without a block: {event!r:.200}")
            block = dict(block)
            self.blocks[index] = block
            if block["type"] == "tool_use":
                self._json[index] = []
                tool_no = self._tool_index[index] = len(self._tool_index)
                return [ModelToolCallDelta(index=tool_no, call_id=block.get("id"), name=block.get("name"))]
            if isinstance(block.get("input"), dict):  # server_tool_use, mcp_tool_use: input streams too
                self._json[index] = []
            if is_use(block) and isinstance(block.get("id"), str):
                self._uses[block["id"]] = block
                name = str(block.get("name") or "")
                return [ModelHostedToolEvent("started", kind_of(block), name, block["id"])]
            if block["type"] == "text" and block.get("text"):
                return [ModelTextDelta(str(block["text"]))]
            return []
        if kind == "content_block_stop":
            index = _index(event)
            self._close(index)
            return self._finished(self.blocks.get(index))
        if kind == "message_start":
            message = event["message"]
            if not isinstance(message, dict):
                raise TypeError(f"message_start without a message: {event!r:.200}")
            self.message = dict(message)
            self.usage = dict(self.message.get("usage") or {})
            self.started = True
        elif kind == "message_delta":
            delta = event.get("delta") or {}
            usage = event.get("usage") or {}
            if not isinstance(delta, dict) or not isinstance(usage, dict):
                raise TypeError(f"message_delta with a malformed delta or usage: {event!r:.200}")
            self.message.update({k: v for k, v in delta.items() if k != "type"})
            for key in ("context_management", "input_transformations"):
                if event.get(key) is not None:
                    self.message[key] = event[key]
            self.usage.update({k: v for k, v in usage.items() if v is not None})
        elif kind == "message_stop":
            self.stopped = True
        elif not isinstance(kind, str):
            raise TypeError(f"stream event without a type: {event!r:.200}")
        return []  # ping, and event types newer than this module

    def _finished(self, block: dict[str, Any] | None) -> list[ModelStreamEvent]:
        """A server result block is complete: the hosted item of its call."""
        if not is_result(block) or block is None:
            return []
        call_id = str(block.get("tool_use_id"))
        use = self._uses.get(call_id)
        item = hosted_item(use, block, [use, block] if use is not None else [block], self.model)
        self.hosted[call_id] = item
        return [ModelHostedToolEvent("finished", item.kind, item.name, call_id, item)]

    def _close(self, index: int) -> None:
        parts = self._json.pop(index, None)
        if parts is None:
            return
        raw = "".join(parts)
        if not raw.strip():
            return  # a tool without arguments: the start's ``input: {}`` stands
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if isinstance(value, dict):
            self.blocks[index]["input"] = value
        else:
            self.raw_inputs[index] = raw

    def _delta(self, index: int, delta: dict[str, Any]) -> list[ModelStreamEvent]:
        block = self.blocks[index]
        kind = delta.get("type")
        if kind == "text_delta":
            text = str(delta.get("text") or "")
            block["text"] = str(block.get("text") or "") + text
            return [ModelTextDelta(text)] if text else []
        if kind == "input_json_delta":
            part = str(delta.get("partial_json") or "")
            self._json.setdefault(index, []).append(part)
            tool_no = self._tool_index.get(index)
            if tool_no is None or not part:
                return []
            return [ModelToolCallDelta(index=tool_no, arguments=part)]
        if kind == "thinking_delta":
            text = str(delta.get("thinking") or "")
            block["thinking"] = str(block.get("thinking") or "") + text
            return [ModelReasoningDelta(text)] if text else []
        if kind == "signature_delta":
            block["signature"] = str(block.get("signature") or "") + str(delta.get("signature") or "")
        elif kind == "citations_delta":
            if not block.get("citations"):
                block["citations"] = []
            block["citations"].append(delta.get("citation"))
        elif kind == "compaction_delta":
            block["content"] = delta.get("content")  # the SDK sets, not appends
            if "encrypted_content" in delta:
                block["encrypted_content"] = delta["encrypted_content"]
        else:
            self.unknown.append(str(kind))
        return []

    def final(self) -> dict[str, Any]:
        for index in list(self._json):  # a block the stream never closed
            self._close(index)
        message = dict(self.message)
        message["content"] = [self.blocks[i] for i in sorted(self.blocks)]
        message["usage"] = self.usage
        if self.unknown:
            tracing.note("anthropic.unknown_stream_deltas", types=",".join(sorted(set(self.unknown))))
        return message


def _index(event: dict[str, Any]) -> int:
    index = event["index"]
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"block index is not an integer: {event!r:.200}")
    return index
