"""A SQLite index over the trace store, built incrementally from its JSONL files.

The trace store (:mod:`agentcore.tracing.store`) appends one JSON line per span to a file per day.
The index remembers how far it read each file (``files``), keeps every span it read (``spans``) and one
summary row per trace (``runs``: status, agent, models, turns, tokens, cost, duration, a search
string), so that the runs list is one indexed query whatever the size of the store. :meth:`refresh`
reads only what was appended since the last call and re-summarizes the traces it touched; a torn last
line (a writer still writing) is left for the next call.

One connection, used under a lock by whichever worker thread calls (the server runs every call in a
thread, never on the event loop).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..tracing import pgstore
from ..tracing.pgstore import is_dsn

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, offset INTEGER NOT NULL, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS spans (
    trace_id TEXT NOT NULL, span_id TEXT NOT NULL, start INTEGER, data TEXT NOT NULL, file TEXT,
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS spans_file ON spans (file);
CREATE TABLE IF NOT EXISTS runs (
    trace_id TEXT PRIMARY KEY, name TEXT, agent TEXT, models TEXT, status TEXT, turns INTEGER,
    input_tokens INTEGER, output_tokens INTEGER, cost REAL, start INTEGER, end INTEGER,
    spans INTEGER, errors INTEGER, run_id TEXT, conversation_id TEXT, service TEXT, input TEXT,
    search TEXT
);
CREATE INDEX IF NOT EXISTS runs_start ON runs (start DESC);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status, start DESC);
CREATE INDEX IF NOT EXISTS runs_run_id ON runs (run_id);
CREATE INDEX IF NOT EXISTS runs_agent ON runs (agent, start DESC);
"""

INDEX_VERSION = 2
"""Bumped when the summary changes: an index of another version is rebuilt from the files."""

CHUNK_BYTES = 4 * 1024 * 1024
"""Bytes of a trace file indexed per transaction (the lock is released in between)."""
DATABASE_CHUNK = 2_000
"""Spans read from a Postgres store per transaction."""

CHAT_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})


@dataclass
class RunRow:
    trace_id: str
    name: str
    agent: str | None
    models: list[str]
    status: str
    """``ok``, ``error`` or ``running`` (spans arrived, the root has not: the run is in progress)."""
    turns: int
    input_tokens: int
    output_tokens: int
    cost: float | None
    start: int
    end: int
    spans: int
    errors: int
    run_id: str | None
    conversation_id: str | None
    service: str | None
    input: str | None

    @property
    def duration_ms(self) -> float:
        return max(0, self.end - self.start) / 1e6

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "duration_ms": self.duration_ms}


def _attrs(span: dict[str, Any]) -> dict[str, Any]:
    attrs = span.get("attributes")
    return attrs if isinstance(attrs, dict) else {}


def _first_user_text(raw: Any) -> str | None:
    """The first user text in a ``gen_ai.input.messages`` value (a JSON string)."""
    try:
        messages = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict) and message.get("role") == "user":
            for part in message.get("parts") or []:
                if isinstance(part, dict) and isinstance(part.get("content"), str):
                    return str(part["content"])
    return None


def summarize(trace_id: str, spans: Sequence[dict[str, Any]]) -> RunRow:
    """One run's row from its spans (any order; the root may still be missing)."""
    ordered = sorted(spans, key=lambda s: s.get("start") or 0)
    ids = {s.get("span_id") for s in ordered}
    roots = [s for s in ordered if not s.get("parent_id")]
    orphans = [s for s in ordered if s.get("parent_id") and s.get("parent_id") not in ids]
    root = roots[0] if roots else (orphans[0] if orphans else ordered[0])
    root_attrs = _attrs(root)
    chats = [s for s in ordered if _attrs(s).get("gen_ai.operation.name") in CHAT_OPERATIONS]
    models: list[str] = []
    input_tokens = output_tokens = 0
    cost: float | None = None
    for s in chats:
        a = _attrs(s)
        model = a.get("gen_ai.request.model") or a.get("gen_ai.response.model")
        if model and str(model) not in models:
            models.append(str(model))
        input_tokens += int(a.get("gen_ai.usage.input_tokens") or 0)
        output_tokens += int(a.get("gen_ai.usage.output_tokens") or 0)
        value = a.get("gen_ai.usage.cost", a.get("llm.cost.total"))
        if isinstance(value, int | float):
            cost = (cost or 0.0) + float(value)
    if not models and root_attrs.get("gen_ai.request.model"):
        models.append(str(root_attrs["gen_ai.request.model"]))
    agent = next(
        (
            str(_attrs(s)["gen_ai.agent.name"])
            for s in ([root, *ordered])
            if _attrs(s).get("gen_ai.agent.name")
        ),
        None,
    )
    if not roots:
        status = "running"
    elif root.get("status") == "ERROR":
        status = "error"
    else:
        status = "ok"
    text = root_attrs.get("agentcore.input")
    if not isinstance(text, str) and chats:
        text = _first_user_text(_attrs(chats[0]).get("gen_ai.input.messages"))
    if isinstance(text, str) and text.startswith('"'):
        try:
            text = str(json.loads(text))
        except ValueError:
            pass
    turns = root_attrs.get("agentcore.turns")
    first = {k: _first(ordered, k) for k in ("agentcore.run.id", "gen_ai.conversation.id")}
    return RunRow(
        trace_id=trace_id,
        name=str(root.get("name") or ""),
        agent=agent,
        models=models,
        status=status,
        turns=int(turns) if isinstance(turns, int) else len(chats),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost=cost,
        start=min(int(s.get("start") or 0) for s in ordered),
        end=max(int(s.get("end") or 0) for s in ordered),
        spans=len(ordered),
        errors=sum(
            1 for s in ordered if s.get("status") == "ERROR" or _attrs(s).get("agentcore.tool.is_error")
        ),
        run_id=first["agentcore.run.id"],
        conversation_id=first["gen_ai.conversation.id"],
        service=root.get("service"),
        input=text[:300] if isinstance(text, str) else None,
    )


def _first(spans: Iterable[dict[str, Any]], key: str) -> str | None:
    for s in spans:
        value = _attrs(s).get(key)
        if value is not None:
            return str(value)
    return None


_COLUMNS = [f for f in RunRow.__dataclass_fields__]


class TraceIndex:
    """The index of the JSONL files in ``sources`` (directories), stored in ``path``."""

    def __init__(self, path: str | Path, sources: Sequence[str | Path]) -> None:
        self.path = Path(path)
        self.sources = [Path(s) for s in sources if not is_dsn(s)]
        self.databases = [str(s) for s in sources if is_dsn(s)]
        """Postgres trace stores (``postgresql://`` sources, :mod:`agentcore.tracing.pgstore`)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        if self._db.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
            for table in ("files", "spans", "runs"):
                self._db.execute(f"DROP TABLE IF EXISTS {table}")
            self._db.execute(f"PRAGMA user_version = {INDEX_VERSION}")
        self._db.executescript(SCHEMA)
        self.generation = 0
        """Counts refreshes that found something new (the page polls it to update live)."""

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ writing

    def refresh(self) -> int:
        """Read what was appended to the source files since the last call; returns how many spans.

        Files are read in chunks of :data:`CHUNK_BYTES`, each in its own transaction: the lock is
        released between chunks, so the first build of a large index does not hold readers up."""
        count = 0
        with self._lock:
            self._forget_removed_files()
        for directory in self.sources:
            for file in sorted(directory.glob("*.jsonl")) if directory.is_dir() else []:
                while True:
                    with self._lock:
                        read, more = self._read_chunk(file)
                    count += read
                    if not more:
                        break
        for dsn in self.databases:
            while True:
                read = self._read_database(dsn)
                count += read
                if read < DATABASE_CHUNK:
                    break
        return count

    def _read_database(self, dsn: str) -> int:
        """Index the next spans of a Postgres store (its rows come in ``id`` order; the last id read is
        kept in ``files`` under the DSN). An unreachable database reads as nothing new."""
        with self._lock:
            known = self._db.execute("SELECT offset FROM files WHERE path = ?", (dsn,)).fetchone()
        after = int(known[0]) if known is not None else 0
        try:
            with pgstore.connect(dsn) as conn:
                fetched = conn.execute(
                    "SELECT id, record FROM agentcore_spans WHERE id > %s ORDER BY id LIMIT %s",
                    (after, DATABASE_CHUNK),
                ).fetchall()
        except Exception:
            return 0
        if not fetched:
            return 0
        rows = []
        dirty: set[str] = set()
        for _, record in fetched:
            span = dict(record)
            rows.append((span["trace_id"], span["span_id"], span.get("start"), json.dumps(span), dsn))
            dirty.add(span["trace_id"])
        with self._lock:
            self._write(rows, (dsn, fetched[-1][0], 0), dirty)
            self.generation += 1
        return len(fetched)

    def _forget_removed_files(self) -> None:
        """Spans of files the store pruned (it keeps 30 days) leave the index too."""
        gone = [
            p for (p,) in self._db.execute("SELECT path FROM files") if not is_dsn(p) and not Path(p).exists()
        ]
        if not gone:
            return
        self._db.execute("BEGIN")
        try:
            for path in gone:
                traces = [
                    t
                    for (t,) in self._db.execute(
                        "SELECT DISTINCT trace_id FROM spans WHERE file = ?", (path,)
                    )
                ]
                self._db.execute("DELETE FROM spans WHERE file = ?", (path,))
                self._db.execute("DELETE FROM files WHERE path = ?", (path,))
                for trace_id in traces:
                    self._db.execute("DELETE FROM runs WHERE trace_id = ?", (trace_id,))
                    self._summarize(trace_id)  # what other files still hold of it
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self.generation += 1

    def _read_chunk(self, file: Path) -> tuple[int, bool]:
        """Index the next chunk of ``file``: (spans read, whether more complete lines may follow)."""
        try:
            size = file.stat().st_size
        except OSError:
            return 0, False
        known = self._db.execute("SELECT offset FROM files WHERE path = ?", (str(file),)).fetchone()
        offset = known[0] if known is not None else 0
        if size < offset:  # the file was replaced: read it again
            offset = 0
        if size == offset:
            return 0, False
        with file.open("rb") as fh:
            fh.seek(offset)
            data = fh.read(min(size - offset, CHUNK_BYTES))
            end = data.rfind(b"\n")
            if end < 0 and offset + len(data) < size:  # one line longer than a chunk
                data += fh.read(size - offset - len(data))
                end = data.rfind(b"\n")
        if end < 0:
            return 0, False  # a writer is in the middle of the only line
        rows = []
        dirty: set[str] = set()
        for line in data[: end + 1].splitlines():
            try:
                span = json.loads(line)
            except ValueError:
                continue  # a torn line from a crashed writer
            if isinstance(span, dict) and span.get("trace_id") and span.get("span_id"):
                text = line.decode("utf-8", "replace")
                rows.append((span["trace_id"], span["span_id"], span.get("start"), text, str(file)))
                dirty.add(span["trace_id"])
        self._write(rows, (str(file), offset + end + 1, size), dirty)
        if dirty:
            self.generation += 1
        return len(rows), offset + end + 1 < size

    def _write(self, rows: list[tuple[Any, ...]], source: tuple[str, int, int], dirty: set[str]) -> None:
        """In one transaction: the spans read, how far their source (a file or a DSN) has been read,
        and the summaries of the traces they touched."""
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT OR REPLACE INTO spans VALUES (?, ?, ?, ?, ?)", rows)
            self._db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?)", source)
            for trace_id in dirty:
                self._summarize(trace_id)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _summarize(self, trace_id: str) -> None:
        spans = [
            json.loads(d)
            for (d,) in self._db.execute("SELECT data FROM spans WHERE trace_id = ?", (trace_id,))
        ]
        if not spans:
            return
        row = summarize(trace_id, spans)
        values = asdict(row)
        values["models"] = json.dumps(row.models)
        search = " ".join(
            str(v)
            for v in (
                row.trace_id,
                row.run_id,
                row.agent,
                row.name,
                row.service,
                row.input,
                row.conversation_id,
                *row.models,
            )
            if v
        ).lower()
        self._db.execute(
            f"INSERT OR REPLACE INTO runs ({', '.join(_COLUMNS)}, search) "
            f"VALUES ({', '.join('?' for _ in _COLUMNS)}, ?)",
            [values[c] for c in _COLUMNS] + [search],
        )

    # ------------------------------------------------------------------ reading

    def runs(
        self,
        *,
        offset: int = 0,
        limit: int = 50,
        query: str = "",
        status: str = "",
        agent: str = "",
    ) -> tuple[int, list[RunRow]]:
        """A page of runs, newest first, and how many match in all."""
        where, params = [], []
        if query:
            where.append("search LIKE ? ESCAPE '\\'")
            escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
        if status:
            where.append("status = ?")
            params.append(status)
        if agent:
            where.append("agent = ?")
            params.append(agent)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM runs{clause}", params).fetchone()[0]
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM runs{clause} ORDER BY start DESC LIMIT ? OFFSET ?",
                [*params, max(1, min(limit, 500)), max(0, offset)],
            ).fetchall()
        return int(total), [self._row(r) for r in rows]

    @staticmethod
    def _row(values: Sequence[Any]) -> RunRow:
        data = dict(zip(_COLUMNS, values, strict=True))
        data["models"] = json.loads(data["models"] or "[]")
        return RunRow(**data)

    def agents(self) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT agent FROM runs WHERE agent IS NOT NULL ORDER BY agent")
            return [r[0] for r in rows]

    def run(self, ident: str) -> tuple[RunRow, list[dict[str, Any]]] | None:
        """One run by trace id (or a unique prefix of it) or run id, with its spans in start order."""
        with self._lock:
            found = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE trace_id = ? OR run_id = ?", (ident, ident)
            ).fetchall()
            if not found:
                found = self._db.execute(
                    f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE trace_id LIKE ? LIMIT 2", (f"{ident}%",)
                ).fetchall()
            if len(found) != 1:
                return None
            row = self._row(found[0])
            spans = [
                json.loads(d)
                for (d,) in self._db.execute(
                    "SELECT data FROM spans WHERE trace_id = ? ORDER BY start", (row.trace_id,)
                )
            ]
        return row, spans

    def usage_over_time(self, *, bucket_s: int = 3600, buckets: int = 48) -> list[dict[str, Any]]:
        """Tokens, cost and runs per time bucket, the newest ``buckets`` buckets that have runs."""
        size = max(1, bucket_s) * 1_000_000_000
        with self._lock:
            rows = self._db.execute(
                "SELECT start / ? AS b, COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cost), "
                "SUM(status = 'error') FROM runs GROUP BY b ORDER BY b DESC LIMIT ?",
                (size, buckets),
            ).fetchall()
        return [
            {
                "start": int(b) * size,
                "runs": n,
                "input_tokens": i or 0,
                "output_tokens": o or 0,
                "cost": c,
                "errors": e or 0,
            }
            for b, n, i, o, c, e in reversed(rows)
        ]
