"""OpenTelemetry spans following the GenAI semantic conventions.

agentcore uses the global tracer provider (the user's, when they configured one) unless
:func:`configure` names another. Nothing is exported anywhere unless a provider with an exporter is
installed. Message content (prompts, tool arguments and results) is recorded only when content capture
is on: ``configure(capture_content=True)`` or ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` set
to ``SPAN_ONLY``/``SPAN_AND_EVENT``/``true``. Captured content (:func:`content`), status messages and
event attributes are passed through :func:`redact` (see
:mod:`agentcore.tracing.redaction`): registered secret values (secret-looking environment variables,
API keys, values handed to sandboxes and tools) and key-shaped strings (``sk-…``, ``AKIA…``, ``ghp_…``,
JWTs, PEM private keys…) are replaced before any exporter sees the span.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from ..messages import Item, Usage
from . import redaction as _redaction

__all__ = [
    "capture_content",
    "configure",
    "redact",
    "span",
    "tracer",
]

_SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"
_provider: trace.TracerProvider | None = None
_capture: bool | None = None
_delta = False
_tracer: Tracer | None = None
_tracer_source: object | None = None
MAX_CONTENT_CHARS = 16_000
_WALK_CHARS = 2_048
_SECRET_NAME = _redaction.SECRET_NAME
_secret_values: list[str] | None = None
"""``None``: (re)read the secret-looking environment variables on next use (tests set it)."""


def configure(
    *,
    tracer_provider: trace.TracerProvider | None = None,
    capture_content: bool | None = None,
    content_delta: bool | None = None,
) -> None:
    """Choose the tracer provider agentcore uses and whether message content is recorded.

    ``content_delta``: each ``chat`` span records only the messages the previous one of the same agent
    did not show (``agentcore.input.messages.from`` says where they start), so long runs stay small.
    The local trace store uses it; exporters get the full ``gen_ai.input.messages`` of the semconv."""
    global _provider, _capture, _tracer, _delta
    if content_delta is not None:
        _delta = content_delta
    if tracer_provider is not None:
        _provider = tracer_provider
        _tracer = None
    if capture_content is not None:
        _capture = capture_content


def tracer() -> Tracer:
    global _tracer, _tracer_source
    source = _provider or trace.get_tracer_provider()
    if _tracer is None or _tracer_source is not source:
        from .. import __version__

        _tracer = source.get_tracer("agentcore", __version__, schema_url=_SCHEMA_URL)
        _tracer_source = source
    return _tracer


def content_delta() -> bool:
    return _delta


def capture_content() -> bool:
    if _capture is not None:
        return _capture
    value = os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "").strip().lower()
    return value in ("true", "1", "span_only", "span_and_event")


def _secrets() -> tuple[str, ...]:
    global _secret_values
    if _secret_values is None:
        _redaction.load_env(again=True)
        _secret_values = []
    return _redaction.secret_values()


def add_secret(value: str, *, trace_only: bool = False) -> None:
    """Register one more value that must never appear in a trace (at least 4 characters); unless
    ``trace_only``, ``SecretRedactor`` also hides it from the model."""
    _redaction.add_secret(value, trace_only=trace_only)


def redact(text: str) -> str:
    """``text`` with every known secret value replaced by ``[REDACTED]`` and every key-shaped string
    (``sk-…``, ``AKIA…``, ``ghp_…``, JWTs, PEM private keys…) by ``[REDACTED:label]``."""
    for secret in _secrets():
        if secret in text:
            text = text.replace(secret, "[REDACTED]")
    return _redaction.redact_patterns(text)


def _redact_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: redact(v) if isinstance(v, str) else v for k, v in attributes.items()}


def content(value: Any) -> str:
    """Serialize ``value`` for a content attribute: redacted (every string, before JSON escaping), JSON,
    truncated."""
    _secrets()  # honours a reset of ``_secret_values``
    if isinstance(value, str):
        text = _redaction.redact_cached(value)
    else:
        text = json.dumps(value, default=str)
        if len(text) < _WALK_CHARS:  # small: one pass over the JSON (escaped values are registered too)
            text = _redaction.redact(text)
        else:  # large: redact each string once (tool results recur in later chat spans)
            cleaned, changed = _redaction.redact_tree(value)
            if changed:
                text = json.dumps(cleaned, default=str)
    if len(text) > MAX_CONTENT_CHARS:
        text = text[:MAX_CONTENT_CHARS] + f"…[{len(text) - MAX_CONTENT_CHARS} chars cut]"
    return text


@contextmanager
def span(
    name: str,
    attributes: dict[str, Any] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: Span | None = None,
) -> Iterator[Span]:
    """Start a span as the current one (under ``parent`` when given, else under the current span);
    record exceptions as ``error.type`` and status ERROR."""
    context = trace.set_span_in_context(parent) if parent is not None else None
    operation = (attributes or {}).get("gen_ai.operation.name")
    kind_name = _OPENINFERENCE_KIND.get(str(operation)) if operation else None
    if kind_name is not None:  # the span kind backends such as Phoenix recognise (AGENT, LLM, TOOL…)
        attributes = {**(attributes or {}), "openinference.span.kind": kind_name}
    with tracer().start_as_current_span(
        name,
        context=context,
        kind=kind,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as s:
        try:
            yield s
        except BaseException as exc:
            if s.is_recording():
                s.set_attribute("error.type", getattr(exc, "error_type", type(exc).__name__))
                s.set_status(Status(StatusCode.ERROR, redact(str(exc))[:500]))
            raise
        status = getattr(s, "status", None)  # a recording SDK span; UNSET: nobody said it failed
        if operation in _STATUS_OK and status is not None and status.status_code is StatusCode.UNSET:
            s.set_status(Status(StatusCode.OK))  # a finished run, a guardrail that let it go on


_OPENINFERENCE_KIND = {
    "invoke_agent": "AGENT",
    "create_agent": "AGENT",
    "chat": "LLM",
    "text_completion": "LLM",
    "generate_content": "LLM",
    "execute_tool": "TOOL",
    "apply_guardrail": "GUARDRAIL",
    "embeddings": "EMBEDDING",
}
"""``gen_ai.operation.name`` → ``openinference.span.kind``: agent, model, tool and guardrail spans are
recognised as such by backends that read OpenInference kinds (Phoenix) rather than the GenAI semconv."""
_STATUS_OK = frozenset({"invoke_agent", "apply_guardrail"})
"""Spans that end with status OK when they succeed (an error sets ERROR): the root and the guardrails."""
_prices: dict[str, tuple[float, float]] = {}
_tool_prices: dict[str, float] = {
    "web_search": 0.01,
    "web_fetch": 0.0,
    "file_search": 0.0025,
}
"""USD per hosted tool request by neutral kind (the vendors' list prices: web search is $10 per 1,000 at
OpenAI and Anthropic, file search $2.50 per 1,000 tool calls at OpenAI, web fetch costs only its tokens).
:func:`set_tool_price` overrides; a kind not listed costs nothing beyond its tokens."""


def set_tool_price(kind: str, usd_per_request: float) -> None:
    """USD per request of the hosted tool ``kind`` (``web_search``…), added to the cost of model calls
    that used it (:attr:`Usage.server_tool_requests`)."""
    _tool_prices[kind] = float(usd_per_request)


def _tool_cost(usage: Usage) -> float:
    return sum(_tool_prices.get(kind, 0.0) * n for kind, n in usage.server_tool_requests.items())


def set_price(model: str, input_per_mtok: float, output_per_mtok: float) -> None:
    """USD per million input and output tokens of ``model`` (its ``model_name``): its ``chat`` spans
    then carry their cost (``gen_ai.usage.cost``). Definitions register their models' ``pricing``."""
    _prices[model] = (float(input_per_mtok), float(output_per_mtok))


def cost_of(model: str, usage: Usage) -> float | None:
    """The cost in USD of ``usage`` on ``model``; ``None`` when its price is unknown."""
    price = _prices.get(model)
    if price is None:
        return None
    return (usage.input_tokens * price[0] + usage.output_tokens * price[1]) / 1e6 + _tool_cost(usage)


def set_cost(s: Span, model: str, usage: Usage) -> None:
    """Record the cost of one model call (``gen_ai.usage.cost``, and OpenInference's ``llm.cost.*``)."""
    price = _prices.get(model)
    if price is None or not s.is_recording():
        return
    prompt, completion = usage.input_tokens * price[0] / 1e6, usage.output_tokens * price[1] / 1e6
    tools = _tool_cost(usage)
    s.set_attribute("gen_ai.usage.cost", round(prompt + completion + tools, 10))
    s.set_attribute("llm.cost.prompt", round(prompt, 10))
    s.set_attribute("llm.cost.completion", round(completion, 10))
    if tools:
        s.set_attribute("agentcore.cost.hosted_tools", round(tools, 10))
        for kind, n in usage.server_tool_requests.items():
            s.set_attribute(f"agentcore.usage.server_tool_requests.{kind}", n)
    s.set_attribute("llm.cost.total", round(prompt + completion + tools, 10))


def set_error(s: Span, message: str) -> None:
    """Mark ``s`` as failed (status ERROR) with a redacted message, without an exception."""
    if s.is_recording():
        s.set_status(Status(StatusCode.ERROR, redact(message)[:500]))


def set_usage(s: Span, usage: Usage, *, prefix: str = "gen_ai.usage") -> None:
    if not s.is_recording():
        return
    s.set_attribute(f"{prefix}.input_tokens", usage.input_tokens)
    s.set_attribute(f"{prefix}.output_tokens", usage.output_tokens)
    if usage.cached_input_tokens:
        s.set_attribute(f"{prefix}.cache_read.input_tokens", usage.cached_input_tokens)
    if usage.cache_write_tokens:
        s.set_attribute(f"{prefix}.cache_creation.input_tokens", usage.cache_write_tokens)
    if usage.reasoning_tokens:
        s.set_attribute(f"{prefix}.reasoning.output_tokens", usage.reasoning_tokens)


def note(event: str, **attributes: Any) -> None:
    """Add an event to the current span (adapters use it to say, e.g., that they resent the transcript)."""
    current = trace.get_current_span()
    if current.is_recording():
        current.add_event(event, _redact_attributes({k: v for k, v in attributes.items() if v is not None}))


def trace_id_of(s: Span) -> str | None:
    ctx = s.get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def messages_for_span(items: list[Item] | tuple[Item, ...]) -> list[dict[str, Any]]:
    """Items in the semconv ``gen_ai.input.messages`` shape (role + parts)."""
    from ..messages import AssistantMessage, Handoff, Reasoning, ToolCall, ToolResult, UserMessage

    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, UserMessage):
            out.append({"role": "user", "parts": [{"type": "text", "content": item.text}]})
        elif isinstance(item, AssistantMessage):
            out.append({"role": "assistant", "parts": [{"type": "text", "content": item.text}]})
        elif isinstance(item, ToolCall):
            out.append(
                {
                    "role": "assistant",
                    "parts": [
                        {
                            "type": "tool_call",
                            "id": item.call_id,
                            "name": item.name,
                            "arguments": item.arguments,
                        }
                    ],
                }
            )
        elif isinstance(item, ToolResult):
            out.append(
                {
                    "role": "tool",
                    "parts": [{"type": "tool_call_response", "id": item.call_id, "response": item.output}],
                }
            )
        elif isinstance(item, Reasoning):
            out.append({"role": "assistant", "parts": [{"type": "reasoning", "content": item.summary}]})
        elif isinstance(item, Handoff):
            out.append(
                {"role": "system", "parts": [{"type": "text", "content": f"handoff to {item.to_agent}"}]}
            )
    return out
