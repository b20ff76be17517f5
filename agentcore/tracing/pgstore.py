"""The trace store in Postgres, for deployments with several worker processes or machines.

Wherever a trace store location is accepted (``store.setup(directory=...)``, ``agentcore trace
--store``, ``agentcore worker --traces``, ``$AGENTCORE_TRACE_STORE``) a ``postgresql://`` DSN selects
this store instead of the JSONL directory. Each span is the same record the JSONL store writes
(:func:`agentcore.tracing.records.span_to_dict`), kept whole as ``JSONB`` with the ids and start time in
columns of their own, one row per span (a span exported twice is kept once). The schema is migrated
through :data:`MIGRATIONS`, counted in ``agentcore_trace_schema``, under an advisory lock so that
workers starting together do not race.

The exporter runs in OpenTelemetry's export thread and uses a plain (blocking) connection there, never
on an event loop. Needs ``psycopg`` (the ``durable`` extra).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .records import span_to_dict

MIGRATIONS: list[str] = [
    """
    CREATE TABLE IF NOT EXISTS agentcore_spans (
        id BIGSERIAL PRIMARY KEY,
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        parent_id TEXT,
        start_ns BIGINT,
        record JSONB NOT NULL,
        UNIQUE (trace_id, span_id)
    );
    CREATE INDEX IF NOT EXISTS agentcore_spans_start ON agentcore_spans (start_ns);
    CREATE INDEX IF NOT EXISTS agentcore_spans_run
        ON agentcore_spans ((record -> 'attributes' ->> 'agentcore.run.id'));
    """,
]
"""Schema versions in order; the database records how many it has applied."""

_INSERT = (
    "INSERT INTO agentcore_spans (trace_id, span_id, parent_id, start_ns, record) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (trace_id, span_id) DO NOTHING"
)


def is_dsn(location: object) -> bool:
    """Whether a trace store location names a Postgres database rather than a directory."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - the durable extra is missing
        raise RuntimeError("a Postgres trace store needs psycopg: pip install 'agentcore[durable]'") from exc
    return psycopg


def connect(dsn: str) -> Any:
    """A migrated connection (autocommit) to the store at ``dsn``."""
    conn = _psycopg().connect(dsn, autocommit=True)
    try:
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: Any) -> int:
    """Apply the migrations the database lacks; returns its schema version."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('agentcore-trace-migrate', 0))")
        conn.execute("CREATE TABLE IF NOT EXISTS agentcore_trace_schema (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM agentcore_trace_schema").fetchone()
        current = int(row[0]) if row else 0
        if current > len(MIGRATIONS):
            raise RuntimeError(
                f"the trace store was written by a newer agentcore (schema {current}); upgrade"
            )
        for sql in MIGRATIONS[current:]:
            conn.execute(sql)
        if row is None:
            conn.execute("INSERT INTO agentcore_trace_schema (version) VALUES (%s)", (len(MIGRATIONS),))
        elif current != len(MIGRATIONS):
            conn.execute("UPDATE agentcore_trace_schema SET version = %s", (len(MIGRATIONS),))
    return len(MIGRATIONS)


class PostgresSpanExporter(SpanExporter):
    """Write spans to the Postgres trace store at ``dsn`` (one connection, opened on first export and
    opened again after an error)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._conn: Any = None
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        rows = []
        for span in spans:
            record = span_to_dict(span)
            rows.append(
                (
                    record["trace_id"],
                    record["span_id"],
                    record["parent_id"],
                    record["start"],
                    json.dumps(record, default=str),
                )
            )
        psycopg = _psycopg()
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = connect(self.dsn)
                with self._conn.cursor() as cur:
                    cur.executemany(_INSERT, rows)
            except psycopg.Error:
                self._drop()
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    def shutdown(self) -> None:
        with self._lock:
            self._drop()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def iter_spans(dsn: str) -> Iterator[dict[str, Any]]:
    """Every span record in the store, in the order they were written."""
    with connect(dsn) as conn, conn.transaction(), conn.cursor(name="agentcore_spans_scan") as cur:
        cur.execute("SELECT record FROM agentcore_spans ORDER BY id")  # streamed: any size of store
        for (record,) in cur:
            yield dict(record)


def trace_spans(dsn: str, ident: str) -> tuple[str, list[dict[str, Any]]] | None:
    """The spans of one trace by id prefix or run id (the store's index answers; no full scan)."""
    with connect(dsn) as conn:
        ids = [
            t
            for (t,) in conn.execute(
                "SELECT DISTINCT trace_id FROM agentcore_spans WHERE trace_id LIKE %s LIMIT 2",
                (ident.replace("%", r"\%").replace("_", r"\_") + "%",),
            )
        ]
        if not ids:
            ids = [
                t
                for (t,) in conn.execute(
                    "SELECT DISTINCT trace_id FROM agentcore_spans "
                    "WHERE record -> 'attributes' ->> 'agentcore.run.id' = %s LIMIT 2",
                    (ident,),
                )
            ]
        if len(ids) != 1:
            return None
        rows = conn.execute("SELECT record FROM agentcore_spans WHERE trace_id = %s ORDER BY id", (ids[0],))
        return ids[0], [dict(r) for (r,) in rows]
