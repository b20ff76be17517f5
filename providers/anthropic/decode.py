"""Anthropic Messages responses (JSON and SSE events) -> normalized items, usage and deltas.

Every block the model returned is kept in the produced item's ProviderState exactly as it arrived
(``payload["block"]``), so the next request can echo ``thinking``/``redacted_thinking`` blocks with
their signatures, and the whole assistant turn around them, unchanged and in order.
"""

from __future__ import annotations

import json
from typing import Any

from agentcore.messages import AssistantMessage, Item, ProviderState, Reasoning, ToolCall, Usage
from agentcore.model import (
    ModelReasoningDelta,
    ModelResponse,
    ModelStreamEvent,
    ModelTextDelta,
    ModelToolCallDelta,
)

from .items import PROVIDER

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
    "pause_turn": "pause_turn",
}


def usage_from(raw: dict[str, Any] | None) -> Usage:
    """Anthropic usage -> agentcore Usage. Anthropic's ``input_tokens`` excludes cache reads and writes."""
    if not raw:
        return Usage(requests=1)
    read = int(raw.get("cache_read_input_tokens") or 0)
    write = int(raw.get("cache_creation_input_tokens") or 0)
    details = raw.get("output_tokens_details") or {}
    return Usage(
        requests=1,
        input_tokens=int(raw.get("input_tokens") or 0) + read + write,
        output_tokens=int(raw.get("output_tokens") or 0),
        cached_input_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=int(details.get("thinking_tokens") or 0) if isinstance(details, dict) else 0,
    )


class BlockDecoder:
    """Turns content blocks into items for one model; ``bound`` is the request's system+tools fingerprint."""

    def __init__(self, model: str, bound: str) -> None:
        self.model = model
        self.bound = bound

    def _state(self, kind: str, block: dict[str, Any], **extra: Any) -> tuple[ProviderState, ...]:
        return (
            ProviderState(provider=PROVIDER, model=self.model, kind=kind, payload={"block": block, **extra}),
        )

    def item(self, block: dict[str, Any]) -> Item | None:
        kind = block.get("type")
        if kind == "text":
            text = str(block.get("text") or "")
            extras = {k: v for k, v in block.items() if k not in ("type", "text") and v is not None}
            return AssistantMessage(text=text, state=self._state("text", block) if extras else ())
        if kind == "thinking":
            return Reasoning(
                summary=str(block.get("thinking") or ""),
                state=self._state("thinking", block, bound=self.bound),
            )
        if kind == "redacted_thinking":
            return Reasoning(summary="", state=self._state("redacted_thinking", block, bound=self.bound))
        if kind == "tool_use":
            arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
            extras = {
                k: v for k, v in block.items() if k not in ("type", "id", "name", "input") and v is not None
            }
            return ToolCall(
                call_id=str(block.get("id") or ""),
                name=str(block.get("name") or ""),
                arguments=arguments,
                state=self._state("tool_use", block) if extras else (),
            )
        # server tool use/results, containers, anything newer: not portable, echoed verbatim to Anthropic
        return AssistantMessage(text="", state=self._state("block", block))

    def response(self, message: dict[str, Any]) -> ModelResponse:
        items = [it for it in (self.item(b) for b in message.get("content") or ()) if it is not None]
        stop = message.get("stop_reason")
        return ModelResponse(
            items=items,
            usage=usage_from(message.get("usage")),
            response_id=message.get("id"),
            finish_reason=FINISH_REASONS.get(stop, stop) if isinstance(stop, str) else None,
            model=message.get("model"),
        )


class StreamAssembler:
    """Feeds on SSE event payloads; returns the deltas to yield and, at the end, the whole message."""

    def __init__(self) -> None:
        self.message: dict[str, Any] = {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self._json: dict[int, list[str]] = {}
        self._tool_index: dict[int, int] = {}
        self.usage: dict[str, Any] = {}
        self.stopped = False

    def feed(self, event: dict[str, Any]) -> list[ModelStreamEvent]:
        kind = event.get("type")
        if kind == "content_block_delta":
            return self._delta(int(event["index"]), event.get("delta") or {})
        if kind == "content_block_start":
            index = int(event["index"])
            block = dict(event.get("content_block") or {})
            self.blocks[index] = block
            if block.get("type") == "tool_use":
                self._json[index] = []
                tool_no = self._tool_index[index] = len(self._tool_index)
                return [ModelToolCallDelta(index=tool_no, call_id=block.get("id"), name=block.get("name"))]
            if block.get("type") == "text" and block.get("text"):
                return [ModelTextDelta(block["text"])]
            return []
        if kind == "content_block_stop":
            index = int(event["index"])
            if index in self._json:
                raw = "".join(self._json.pop(index))
                self.blocks[index]["input"] = json.loads(raw) if raw.strip() else {}
            return []
        if kind == "message_start":
            self.message = dict(event.get("message") or {})
            self.usage = dict(self.message.get("usage") or {})
        elif kind == "message_delta":
            delta = event.get("delta") or {}
            for key in ("stop_reason", "stop_sequence", "stop_details"):
                if key in delta:
                    self.message[key] = delta[key]
            self.usage.update({k: v for k, v in (event.get("usage") or {}).items() if v is not None})
        elif kind == "message_stop":
            self.stopped = True
        return []

    def _delta(self, index: int, delta: dict[str, Any]) -> list[ModelStreamEvent]:
        block = self.blocks[index]
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text") or ""
            block["text"] = block.get("text", "") + text
            return [ModelTextDelta(text)] if text else []
        if kind == "input_json_delta":
            part = delta.get("partial_json") or ""
            self._json[index].append(part)
            return [ModelToolCallDelta(index=self._tool_index[index], arguments=part)] if part else []
        if kind == "thinking_delta":
            text = delta.get("thinking") or ""
            block["thinking"] = block.get("thinking", "") + text
            return [ModelReasoningDelta(text)] if text else []
        if kind == "signature_delta":
            block["signature"] = block.get("signature", "") + (delta.get("signature") or "")
        elif kind == "citations_delta":
            block.setdefault("citations", [])
            if block["citations"] is None:
                block["citations"] = []
            block["citations"].append(delta.get("citation"))
        return []

    def final(self) -> dict[str, Any]:
        message = dict(self.message)
        message["content"] = [self.blocks[i] for i in sorted(self.blocks)]
        message["usage"] = self.usage
        return message
