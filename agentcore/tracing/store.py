"""The local trace store (opt-in) and the standard OTLP exporter when the environment asks.

What a library call (``Runner.run`` in your program) writes by default: **nothing**. Unless the
application installed its own tracer provider, asked for OTLP export or set ``AGENTCORE_TRACES``, no
tracer provider is installed and every span is a no-op (the cheapest path; bench/overhead.py prints
its cost next to the no-tracing floor). :func:`ensure_default` is that rule; the runner calls it once
per process.

:func:`setup` (the ``agentcore`` CLI calls it for its own runs; a program may call it to opt in) gives
agentcore a private ``TracerProvider`` (the global one is left alone) with:

* a :class:`JsonlSpanExporter` writing one JSON line per span to ``traces/YYYY-MM-DD.jsonl`` under the
  data directory (``$AGENTCORE_HOME`` or ``~/.local/share/agentcore``). ``setup()`` records message
  content there (``capture_content=True``, the default of an explicit call: calling it is the opt-in);
  ``setup(capture_content=False)`` keeps only names, ids, timings, token usage and errors.
  ``AGENTCORE_TRACES=off`` disables the store;
* an OTLP/HTTP exporter when ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
  is set (or ``OTEL_TRACES_EXPORTER=otlp``). The exporter reads the usual ``OTEL_EXPORTER_OTLP_*``
  variables (headers, timeout, …). Content attributes are removed before export unless the user opted
  in with ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``.

Without a call to :func:`setup`, ``AGENTCORE_TRACES=on`` makes library runs write the local store
without content, ``AGENTCORE_TRACES=content`` with content.

When the user installed their own global provider (their code, ``opentelemetry-instrument``,
logfire…), :func:`setup` changes nothing: agentcore's spans go to that provider, and nothing else.
:func:`read_traces` and :mod:`agentcore.trace_view` are what ``agentcore trace`` uses.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from .. import tracing
from ..paths import data_dir
from .pgstore import PostgresSpanExporter, is_dsn, trace_spans
from .pgstore import iter_spans as pg_iter_spans
from .records import span_to_dict

CONTENT_KEYS = frozenset(
    {
        "gen_ai.system_instructions",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "gen_ai.tool.definitions",
        "process.command_line",
        "agentcore.sandbox.output",
        "agentcore.output",
        "agentcore.input",
    }
)
"""Attributes holding message content: removed before OTLP export unless the user opted in; recorded
at all only while content capture is on."""

_state: dict[str, Any] = {}


def traces_dir() -> Path:
    path = data_dir() / "traces"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_location(location: str | Path | None = None) -> str | Path:
    """Where the trace store is: ``location`` when given, else ``$AGENTCORE_TRACE_STORE`` (a directory
    or a ``postgresql://`` DSN), else ``traces/`` under the data directory."""
    if location is not None and str(location):
        return location
    configured = os.environ.get("AGENTCORE_TRACE_STORE", "").strip()
    if configured:
        return configured
    return traces_dir()


class JsonlSpanExporter(SpanExporter):
    """Append spans as JSON lines to a file per day. Safe for several processes (``flock``)."""

    def __init__(self, directory: str | Path | None = None, *, keep_files: int = 30) -> None:
        self.directory = Path(directory) if directory is not None else traces_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.keep_files = keep_files
        self._pruned = False

    def _file(self) -> Path:
        return self.directory / time.strftime("%Y-%m-%d.jsonl", time.gmtime())

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        data = "".join(json.dumps(span_to_dict(s), default=str) + "\n" for s in spans).encode()
        try:
            fd = os.open(self._file(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                os.write(fd, data)
            finally:
                os.close(fd)
        except OSError:
            return SpanExportResult.FAILURE
        if not self._pruned:
            self._prune()
        return SpanExportResult.SUCCESS

    def _prune(self) -> None:
        self._pruned = True
        files = sorted(self.directory.glob("*.jsonl"))
        for old in files[: max(0, len(files) - self.keep_files)]:
            old.unlink(missing_ok=True)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class ContentFilter(SpanExporter):
    """Wrap an exporter so message content (:data:`CONTENT_KEYS`) is removed before export."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    @staticmethod
    def strip(span: ReadableSpan) -> ReadableSpan:
        attrs = {k: v for k, v in (span.attributes or {}).items() if k not in CONTENT_KEYS}
        events = [
            Event(
                e.name, {k: v for k, v in (e.attributes or {}).items() if k not in CONTENT_KEYS}, e.timestamp
            )
            for e in span.events
        ]
        return ReadableSpan(
            name=span.name,
            context=span.get_span_context(),
            parent=span.parent,
            resource=span.resource,
            attributes=attrs,
            events=events,
            links=span.links,
            kind=span.kind,
            status=span.status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([self.strip(s) for s in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _user_opted_into_content() -> bool:
    value = os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "").strip().lower()
    return value in ("true", "1", "span_only", "span_and_event")


def otlp_requested() -> bool:
    exporters = os.environ.get("OTEL_TRACES_EXPORTER", "").lower()
    if "none" in exporters.split(","):
        return False
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or "otlp" in exporters
    )


def _otlp_exporter() -> SpanExporter:
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or ""
    ).strip()
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError as exc:
            raise RuntimeError(
                "OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs opentelemetry-exporter-otlp-proto-grpc; "
                "install it or use http/protobuf (the default)"
            ) from exc
        exporter: SpanExporter = GrpcExporter()
        return exporter
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:  # pragma: no cover - the otlp extra is missing
        raise RuntimeError("OTLP export needs: pip install 'agentcore[otlp]'") from exc
    return OTLPSpanExporter()


@dataclass
class TraceSetup:
    """What :func:`setup` installed (``provider`` is ``None`` when the user's provider is used)."""

    provider: TracerProvider | None
    local: SpanExporter | None = None
    """The local store's exporter: :class:`JsonlSpanExporter`, or the Postgres one (:mod:`.pgstore`)."""
    otlp: bool = False
    notes: list[str] = field(default_factory=list)

    def flush(self) -> None:
        if self.provider is not None:
            self.provider.force_flush()

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


def _resource() -> Resource:
    """``service.name`` from ``OTEL_SERVICE_NAME`` (default ``agentcore``), and the same name as the
    project of backends that group by ``openinference.project.name`` (Phoenix; without it every
    service lands in its ``default`` project). ``OTEL_RESOURCE_ATTRIBUTES`` may name another project."""
    service = os.environ.get("OTEL_SERVICE_NAME", "").strip() or "agentcore"
    attributes: dict[str, str] = {"service.name": service}
    if "openinference.project.name" not in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", ""):
        attributes["openinference.project.name"] = service
    return Resource.create(attributes)


_QUEUE = 65_536
"""Spans buffered before export; bursts of thousands of concurrent runs must not drop spans."""


def user_provider_installed() -> bool:
    """A global provider is set, or agentcore was given one with ``tracing.configure``."""
    if tracing._provider is not None:
        return True
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def _traces_env() -> str:
    """``AGENTCORE_TRACES`` normalized: ``off``, ``on`` (no content), ``content`` or ``""`` (unset)."""
    value = os.environ.get("AGENTCORE_TRACES", "").strip().lower()
    if value in ("off", "0", "false", "no"):
        return "off"
    if value in ("content", "full"):
        return "content"
    return "on" if value else ""


def setup(
    *, directory: str | Path | None = None, local: bool | None = None, capture_content: bool = True
) -> TraceSetup:
    """Install agentcore's tracer provider unless the user has their own (idempotent).

    Calling it opts in to the local trace store (``local=None``: on unless ``AGENTCORE_TRACES=off``)
    with message content (``capture_content=False``: names, ids, timings, usage and errors only).
    ``directory`` is where the store is (default :func:`store_location`): a directory, or a
    ``postgresql://`` DSN for the Postgres store (:mod:`.pgstore`)."""
    if "setup" in _state:
        existing: TraceSetup = _state["setup"]
        return existing
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        result = TraceSetup(None, notes=["OTEL_SDK_DISABLED=true: no tracing"])
    elif user_provider_installed():
        result = TraceSetup(None, notes=["using the TracerProvider installed by the application"])
    else:
        if local is None:
            local = _traces_env() != "off"
        provider = TracerProvider(resource=_resource())
        result = TraceSetup(provider)
        if local:
            location = store_location(directory)
            result.local = (
                PostgresSpanExporter(str(location)) if is_dsn(location) else JsonlSpanExporter(location)
            )
            provider.add_span_processor(BatchSpanProcessor(result.local, max_queue_size=_QUEUE))
        if otlp_requested():
            try:
                exporter = _otlp_exporter()
            except RuntimeError as exc:  # tracing must never stop a run
                result.notes.append(f"OTLP export is off: {exc}")
            else:
                if not _user_opted_into_content():
                    exporter = ContentFilter(exporter)
                provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=_QUEUE))
                result.otlp = True
        opted_in = _user_opted_into_content()
        local_content = bool(local) and capture_content
        if local and not local_content and not opted_in:
            result.notes.append("local trace store without message content")
        tracing.configure(
            tracer_provider=provider,
            capture_content=local_content or opted_in,
            content_delta=local_content and not opted_in,
        )
    _state["setup"] = result
    return result


def ensure_default() -> None:
    """The library default, applied by the runner once per process. Writes nothing to disk unless asked:

    * no ``AGENTCORE_TRACES`` (or ``off``): no local store. When ``OTEL_EXPORTER_OTLP_*`` asks for
      export, an OTLP exporter (without content unless opted in); otherwise no tracer provider at all
      (no-op spans; the application's own provider, when it installed one, gets the spans);
    * ``AGENTCORE_TRACES=on``: the local store without message content;
    * ``AGENTCORE_TRACES=content``: the local store with message content.
    """
    if "default" in _state:
        return
    _state["default"] = True
    mode = _traces_env()
    local = mode in ("on", "content")
    if local or otlp_requested():
        setup(local=local, capture_content=mode == "content")


def reset() -> None:
    """Forget :func:`setup` (tests): shut the provider down and give agentcore the global one back."""
    _state.pop("default", None)
    result: TraceSetup | None = _state.pop("setup", None)
    if result is not None and result.provider is not None:
        result.provider.shutdown()
        tracing._provider = None
        tracing._capture = None
        tracing._tracer = None
        tracing._delta = False


# --------------------------------------------------------------------------- reading


def describe_location(location: str | Path | None = None) -> str:
    """:func:`store_location` for messages (a DSN's password hidden)."""
    where = store_location(location)
    if not is_dsn(where):
        return str(where)
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(str(where))
    if parts.password is None:
        return str(where)
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def iter_spans(directory: str | Path | None = None) -> Iterator[dict[str, Any]]:
    """Every stored span record, from the JSONL directory or the Postgres store (:func:`store_location`)."""
    location = store_location(directory)
    if is_dsn(location):
        yield from pg_iter_spans(str(location))
        return
    base = Path(location)
    for path in sorted(base.glob("*.jsonl")):
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line)
                except ValueError:
                    continue  # a torn line from a crashed writer


@dataclass
class TraceSummary:
    trace_id: str
    name: str
    start: int
    end: int
    spans: int
    errors: int
    input_tokens: int
    output_tokens: int
    run_id: str | None
    conversation_id: str | None
    input: str | None = None
    """The run's input, when the local store captured it."""

    @property
    def duration_s(self) -> float:
        return max(0, self.end - self.start) / 1e9


def read_traces(directory: str | Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every stored trace: ``{trace_id: [span, …]}``."""
    traces: dict[str, list[dict[str, Any]]] = {}
    for span in iter_spans(directory):
        traces.setdefault(span["trace_id"], []).append(span)
    return traces


def summarize(trace_id: str, spans: list[dict[str, Any]]) -> TraceSummary:
    ids = {s["span_id"] for s in spans}
    roots = [s for s in spans if s.get("parent_id") not in ids] or spans
    root = min(roots, key=lambda s: s["start"] or 0)
    input_tokens = output_tokens = 0
    for s in spans:
        attrs = s.get("attributes", {})
        if attrs.get("gen_ai.operation.name") == "chat":
            input_tokens += int(attrs.get("gen_ai.usage.input_tokens", 0) or 0)
            output_tokens += int(attrs.get("gen_ai.usage.output_tokens", 0) or 0)
    return TraceSummary(
        trace_id=trace_id,
        name=root["name"],
        start=min(s["start"] or 0 for s in spans),
        end=max(s["end"] or 0 for s in spans),
        spans=len(spans),
        errors=sum(1 for s in spans if s.get("status") == "ERROR"),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        run_id=_first(spans, "agentcore.run.id"),
        conversation_id=_first(spans, "gen_ai.conversation.id"),
        input=root.get("attributes", {}).get("agentcore.input"),
    )


def _first(spans: list[dict[str, Any]], key: str) -> Any:
    for s in sorted(spans, key=lambda s: s["start"] or 0):
        value = s.get("attributes", {}).get(key)
        if value is not None:
            return value
    return None


def list_traces(directory: str | Path | None = None, *, limit: int | None = None) -> list[TraceSummary]:
    """Stored traces, newest first."""
    out = [summarize(tid, spans) for tid, spans in read_traces(directory).items()]
    out.sort(key=lambda t: t.start, reverse=True)
    return out[:limit] if limit is not None else out


def find_trace(
    ident: str | None, directory: str | Path | None = None
) -> tuple[str, list[dict[str, Any]]] | None:
    """A trace by id prefix or run id (the newest one when ``ident`` is ``None``)."""
    location = store_location(directory)
    if ident is not None and is_dsn(location):
        return trace_spans(str(location), ident.lower())
    traces = read_traces(directory)
    if not traces:
        return None
    if ident is None:
        newest = max(traces, key=lambda t: max(s["start"] or 0 for s in traces[t]))
        return newest, traces[newest]
    ident = ident.lower()
    matches = [t for t in traces if t.startswith(ident)]
    if not matches:
        matches = [
            t
            for t, spans in traces.items()
            if any(s.get("attributes", {}).get("agentcore.run.id") == ident for s in spans)
        ]
    if len(matches) != 1:
        return None
    return matches[0], traces[matches[0]]
