"""Chat Completions responses (JSON and streamed chunks) to normalized items, usage and finish reasons.

Tolerates what OpenAI-compatible servers actually send: tool calls with empty or missing ids (ids are
synthesized, stable per response), ids repeated on every chunk, ``arguments`` as an object instead of a
string, ``usage: null`` on intermediate chunks, reasoning in ``reasoning_content`` (DeepSeek, older
vLLM) or ``reasoning`` (Ollama, OpenRouter, newer vLLM), Gemini's ``extra_content`` that must be echoed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agentcore.messages import AssistantMessage, Item, ProviderState, Reasoning, ToolCall, Usage
from agentcore.model import (
    ModelReasoningDelta,
    ModelResponse,
    ModelStreamEvent,
    ModelTextDelta,
    ModelToolCallDelta,
)

from .chat_wire import KIND_MESSAGE_EXTRA, KIND_REASONING, KIND_TOOL_CALL_EXTRA, synthesized_call_id

DEFAULT_REASONING_FIELDS = ("reasoning_content", "reasoning")

FINISH_REASONS = {
    "stop": "stop",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "length": "length",
    "content_filter": "content_filter",
    "eos": "stop",  # some llama.cpp builds
    "end_turn": "stop",
}


def finish_reason(raw: Any) -> str | None:
    """The normalized finish reason (``stop``/``tool_calls``/``length``/``content_filter``), unknown kept."""
    if not isinstance(raw, str) or not raw:
        return None
    return FINISH_REASONS.get(raw, raw)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_usage(raw: Any) -> Usage:
    """Chat usage to :class:`Usage` (``prompt_tokens`` already includes cached tokens)."""
    if not isinstance(raw, dict):
        return Usage(requests=1)
    prompt = raw.get("prompt_tokens_details") or {}
    completion = raw.get("completion_tokens_details") or {}
    cached = _int(prompt.get("cached_tokens")) if isinstance(prompt, dict) else 0
    if not cached:
        cached = _int(raw.get("prompt_cache_hit_tokens"))  # DeepSeek's own field
    return Usage(
        requests=1,
        input_tokens=_int(raw.get("prompt_tokens")),
        output_tokens=_int(raw.get("completion_tokens")),
        cached_input_tokens=cached,
        cache_write_tokens=_int(prompt.get("cache_write_tokens")) if isinstance(prompt, dict) else 0,
        reasoning_tokens=_int(completion.get("reasoning_tokens")) if isinstance(completion, dict) else 0,
    )


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some servers answer with content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _arguments(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value)


def _legacy_call(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The deprecated ``function_call`` (older servers) as one tool call without an id."""
    fn = message.get("function_call")
    return [{"index": 0, "function": fn}] if isinstance(fn, dict) else []


@dataclass
class _Call:
    call_id: str
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    extra: Any = None


@dataclass
class ResponseBuilder:
    """Accumulates one response (whole or chunk by chunk) into a :class:`ModelResponse`."""

    provider: str
    model: str
    reasoning_fields: tuple[str, ...] = DEFAULT_REASONING_FIELDS
    response_id: str | None = None
    response_model: str | None = None
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    reasoning_field: str | None = None
    calls: dict[int, _Call] = field(default_factory=dict)
    message_extra: Any = None
    refusal: list[str] = field(default_factory=list)
    finish: str | None = None
    usage: Usage | None = None

    def _state(self, kind: str, payload: Any) -> tuple[ProviderState, ...]:
        return (ProviderState(provider=self.provider, model=self.model, kind=kind, payload=payload),)

    def _take_reasoning(self, holder: dict[str, Any]) -> str | None:
        for name in self.reasoning_fields:
            value = holder.get(name)
            if isinstance(value, str) and value:
                self.reasoning_field = self.reasoning_field or name
                return value
        return None

    def _header(self, data: dict[str, Any]) -> None:
        if not self.response_id and isinstance(data.get("id"), str):
            self.response_id = data["id"]
        if not self.response_model and isinstance(data.get("model"), str):
            self.response_model = data["model"]
        if data.get("usage") is not None:
            self.usage = parse_usage(data["usage"])

    def _call_at(self, index: int, raw_id: Any) -> tuple[_Call, bool]:
        call = self.calls.get(index)
        if call is not None:
            return call, False
        cid = raw_id if isinstance(raw_id, str) and raw_id else synthesized_call_id(self.response_id, index)
        call = self.calls[index] = _Call(call_id=cid)
        return call, True

    # ------------------------------------------------------------------ whole response

    def add_completion(self, data: dict[str, Any]) -> None:
        self._header(data)
        choices = data.get("choices") or []
        if not choices:
            return
        choice = choices[0]
        self.finish = finish_reason(choice.get("finish_reason"))
        message = choice.get("message") or {}
        reasoning = self._take_reasoning(message)
        if reasoning:
            self.reasoning.append(reasoning)
        text = _text_of(message.get("content"))
        if text:
            self.text.append(text)
        if isinstance(message.get("refusal"), str) and message["refusal"]:
            self.refusal.append(message["refusal"])
        if message.get("extra_content") is not None:
            self.message_extra = message["extra_content"]
        for position, raw in enumerate(message.get("tool_calls") or _legacy_call(message)):
            index = raw.get("index") if isinstance(raw.get("index"), int) else position
            call, _ = self._call_at(index, raw.get("id"))
            fn = raw.get("function") or {}
            call.name = fn.get("name") or call.name
            call.arguments.append(_arguments(fn.get("arguments")))
            if raw.get("extra_content") is not None:
                call.extra = raw["extra_content"]

    # ------------------------------------------------------------------ streamed chunks

    def add_chunk(self, data: dict[str, Any]) -> list[ModelStreamEvent]:
        self._header(data)
        events: list[ModelStreamEvent] = []
        for choice in data.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            reasoning = self._take_reasoning(delta)
            if reasoning:
                self.reasoning.append(reasoning)
                events.append(ModelReasoningDelta(reasoning))
            text = _text_of(delta.get("content"))
            if text:
                self.text.append(text)
                events.append(ModelTextDelta(text))
            if isinstance(delta.get("refusal"), str) and delta["refusal"]:
                self.refusal.append(delta["refusal"])
            if delta.get("extra_content") is not None:
                self.message_extra = delta["extra_content"]
            for position, raw in enumerate(delta.get("tool_calls") or _legacy_call(delta)):
                index = raw.get("index") if isinstance(raw.get("index"), int) else position
                call, first = self._call_at(index, raw.get("id"))
                fn = raw.get("function") or {}
                name = fn.get("name")
                new_name = None
                if isinstance(name, str) and name and not call.name:
                    call.name = new_name = name
                fragment = _arguments(fn.get("arguments"))
                if fragment:
                    call.arguments.append(fragment)
                if raw.get("extra_content") is not None:
                    call.extra = raw["extra_content"]
                if first or fragment or new_name:
                    events.append(
                        ModelToolCallDelta(
                            index=index,
                            call_id=call.call_id if first else None,
                            name=new_name,
                            arguments=fragment,
                        )
                    )
            if choice.get("finish_reason"):
                self.finish = finish_reason(choice["finish_reason"])
        return events

    # ------------------------------------------------------------------ result

    def build(self) -> ModelResponse:
        items: list[Item] = []
        if self.reasoning:
            items.append(
                Reasoning(
                    summary="".join(self.reasoning),
                    state=self._state(KIND_REASONING, {"field": self.reasoning_field or "reasoning_content"}),
                )
            )
        text = "".join(self.text) or "".join(self.refusal)
        extra_state = (
            self._state(KIND_MESSAGE_EXTRA, self.message_extra) if self.message_extra is not None else ()
        )
        if text:
            items.append(AssistantMessage(text=text, state=extra_state))
            extra_state = ()
        for index in sorted(self.calls):
            call = self.calls[index]
            state = extra_state
            if call.extra is not None:
                state = state + self._state(KIND_TOOL_CALL_EXTRA, call.extra)
            items.append(
                ToolCall(
                    call_id=call.call_id,
                    name=call.name,
                    arguments="".join(call.arguments) or "{}",
                    state=state,
                )
            )
            extra_state = ()
        return ModelResponse(
            items=items,
            usage=self.usage or Usage(requests=1),
            response_id=self.response_id,
            finish_reason=self.finish,
            model=self.response_model or self.model,
        )
