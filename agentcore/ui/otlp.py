"""OTLP/HTTP trace requests (JSON or protobuf) as span dicts in the trace store's format.

The store writes one dict per span (:func:`agentcore.tracing.store.span_to_dict`): hex ids, ``kind`` and
``status`` by name, nanosecond times, plain attribute values, ``service`` from the resource. A request
received at ``/v1/traces`` is turned into the same dicts and appended to a JSONL file of its own, so
spans of any app instrumented with the GenAI semantic conventions are indexed like agentcore's own.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from ..errors import AgentcoreError

_KINDS = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"]
_STATUSES = ["UNSET", "OK", "ERROR"]
_HEX = re.compile(r"^[0-9a-fA-F]+$")


class OTLPDecodeError(AgentcoreError):
    """The body of a ``/v1/traces`` request is not an OTLP trace export request."""


def _id(value: Any, size: int) -> str | None:
    """A trace or span id: hex in OTLP/JSON, base64 when it came through protobuf's JSON mapping."""
    if not value or not isinstance(value, str):
        return None
    if len(value) == size * 2 and _HEX.match(value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == size and any(raw) else None


def _value(v: Any) -> Any:
    if not isinstance(v, dict):
        return v
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "arrayValue" in v:
        return [_value(x) for x in (v["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in v:
        return _attributes((v["kvlistValue"] or {}).get("values", []))
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def _attributes(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in items if isinstance(items, list) else []:
        if isinstance(kv, dict) and isinstance(kv.get("key"), str):
            value = _value(kv.get("value"))
            if isinstance(value, dict):  # the store keeps flat attribute values
                value = json.dumps(value)
            out[kv["key"]] = value
    return out


def _enum(value: Any, names: list[str], prefix: str) -> str:
    if isinstance(value, int):
        return names[value] if 0 <= value < len(names) else names[0]
    if isinstance(value, str) and value:
        name = value.removeprefix(prefix)
        return name if name in names else names[0]
    return names[0]


def _time(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        return None


def spans_from_json(body: Any) -> list[dict[str, Any]]:
    """Spans of an OTLP ``ExportTraceServiceRequest`` in its JSON form (camelCase or snake_case)."""
    if not isinstance(body, dict):
        raise OTLPDecodeError("an OTLP trace request is a JSON object with resourceSpans")
    out: list[dict[str, Any]] = []
    for rs in body.get("resourceSpans", body.get("resource_spans")) or []:
        resource = _attributes((rs.get("resource") or {}).get("attributes"))
        service = resource.get("service.name")
        for ss in rs.get("scopeSpans", rs.get("scope_spans")) or []:
            for s in ss.get("spans") or []:
                trace_id = _id(s.get("traceId", s.get("trace_id")), 16)
                span_id = _id(s.get("spanId", s.get("span_id")), 8)
                if trace_id is None or span_id is None:
                    raise OTLPDecodeError(f"span {s.get('name')!r} has no valid traceId/spanId")
                status = s.get("status") or {}
                out.append(
                    {
                        "trace_id": trace_id,
                        "span_id": span_id,
                        "parent_id": _id(s.get("parentSpanId", s.get("parent_span_id")), 8),
                        "name": str(s.get("name") or ""),
                        "kind": _enum(s.get("kind"), _KINDS, "SPAN_KIND_"),
                        "start": _time(s.get("startTimeUnixNano", s.get("start_time_unix_nano"))),
                        "end": _time(s.get("endTimeUnixNano", s.get("end_time_unix_nano"))),
                        "status": _enum(status.get("code"), _STATUSES, "STATUS_CODE_"),
                        "status_message": status.get("message") or None,
                        "attributes": _attributes(s.get("attributes")),
                        "events": [
                            {
                                "name": e.get("name"),
                                "time": _time(e.get("timeUnixNano", e.get("time_unix_nano"))),
                                "attributes": _attributes(e.get("attributes")),
                            }
                            for e in s.get("events") or []
                            if isinstance(e, dict)
                        ],
                        "service": service,
                    }
                )
    return out


def _pb_value(v: Any) -> Any:
    """An OTLP ``AnyValue`` message in the JSON form :func:`_value` reads."""
    which = v.WhichOneof("value")
    if which is None:
        return {}
    if which == "array_value":
        return {"arrayValue": {"values": [_pb_value(x) for x in v.array_value.values]}}
    if which == "kvlist_value":
        return {"kvlistValue": {"values": _pb_attributes(v.kvlist_value.values)}}
    if which == "bytes_value":
        return {"bytesValue": base64.b64encode(v.bytes_value).decode()}
    camel = {"string_value": "stringValue", "bool_value": "boolValue", "int_value": "intValue"}
    return {camel.get(which, "doubleValue"): getattr(v, which)}


def _pb_attributes(items: Any) -> list[dict[str, Any]]:
    return [{"key": kv.key, "value": _pb_value(kv.value)} for kv in items]


def spans_from_protobuf(data: bytes) -> list[dict[str, Any]]:
    """Spans of a binary (``application/x-protobuf``) OTLP ``ExportTraceServiceRequest``."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError (its module is not imported here)
        raise OTLPDecodeError(f"not an OTLP protobuf trace request: {exc}") from exc
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": _pb_attributes(rs.resource.attributes)},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": s.trace_id.hex(),
                                "spanId": s.span_id.hex(),
                                "parentSpanId": s.parent_span_id.hex(),
                                "name": s.name,
                                "kind": s.kind,
                                "startTimeUnixNano": s.start_time_unix_nano,
                                "endTimeUnixNano": s.end_time_unix_nano,
                                "status": {"code": s.status.code, "message": s.status.message},
                                "attributes": _pb_attributes(s.attributes),
                                "events": [
                                    {
                                        "name": e.name,
                                        "timeUnixNano": e.time_unix_nano,
                                        "attributes": _pb_attributes(e.attributes),
                                    }
                                    for e in s.events
                                ],
                            }
                            for s in ss.spans
                        ]
                    }
                    for ss in rs.scope_spans
                ],
            }
            for rs in request.resource_spans
        ]
    }
    return spans_from_json(body)


def empty_response(protobuf: bool) -> tuple[bytes, str]:
    """The body and content type of a successful export's answer."""
    if protobuf:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

        return ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf"
    return b"{}", "application/json"
