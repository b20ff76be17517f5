"""One span as the trace stores keep it (JSONL line or Postgres row): a plain JSON-able dict."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["span_to_dict"]


def span_to_dict(span: ReadableSpan) -> dict[str, Any]:
    ctx = span.get_span_context()
    parent = span.parent
    assert ctx is not None
    return {
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
        "parent_id": format(parent.span_id, "016x") if parent is not None else None,
        "name": span.name,
        "kind": span.kind.name,
        "start": span.start_time,
        "end": span.end_time,
        "status": span.status.status_code.name,
        "status_message": span.status.description,
        "attributes": dict(span.attributes or {}),
        "events": [
            {"name": e.name, "time": e.timestamp, "attributes": dict(e.attributes or {})} for e in span.events
        ],
        "service": (span.resource.attributes.get("service.name") if span.resource is not None else None),
    }
