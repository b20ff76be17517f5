"""Sessions in Postgres, for deployments whose runs move between worker processes and machines.

Same record format as :class:`~agentcore.sessions.SQLiteSession`: each session is an append-only log
of JSON records with their own ``version`` (read through the same :data:`RECORD_UPGRADES`), the same
``sessions`` and ``records`` tables, folded into a :class:`~agentcore.sessions.SessionSnapshot` the
same way. The schema is migrated through :data:`MIGRATIONS`, counted in ``agentcore_schema``.

Concurrency: one short transaction per append (the next ``seq`` taken under a row lock of the
session). One run at a time per session, across processes and machines: :meth:`PostgresSession.lock`
holds a session-level advisory lock on a connection of its own for the run. Postgres releases it the
moment that connection ends, so a crashed owner (killed process, lost machine) frees the session at
once, with no expiry to wait for. A second run waits up to ``lock_timeout`` seconds, then raises
:class:`~agentcore.errors.SessionBusy`; an append by anyone else while the lock is held raises it too.

Needs ``psycopg`` (the ``durable`` extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import psycopg

from ..errors import SessionBusy
from ..messages import Item, Usage
from .base import Session, SessionSnapshot
from .blobs import extract
from .sqlite import DEFAULT_LOCK_TIMEOUT, RECORD_VERSION, fold_records, turn_payload

MIGRATIONS: list[str] = [
    """CREATE TABLE IF NOT EXISTS sessions (
           session_id TEXT PRIMARY KEY,
           created_at DOUBLE PRECISION NOT NULL,
           updated_at DOUBLE PRECISION NOT NULL,
           metadata TEXT NOT NULL DEFAULT '{}'
       );
       CREATE TABLE IF NOT EXISTS records (
           session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
           seq INTEGER NOT NULL,
           version INTEGER NOT NULL,
           kind TEXT NOT NULL,
           payload TEXT NOT NULL,
           created_at DOUBLE PRECISION NOT NULL,
           PRIMARY KEY (session_id, seq)
       )""",
    """CREATE TABLE IF NOT EXISTS session_blobs (
           session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
           digest TEXT NOT NULL,
           media_type TEXT NOT NULL,
           data BYTEA NOT NULL,
           created_at DOUBLE PRECISION NOT NULL,
           PRIMARY KEY (session_id, digest)
       )""",  # images of the session's items, once each (agentcore.sessions.blobs)
]
"""Schema migrations (SQL); ``agentcore_schema.version`` counts how many ran."""

_LOCK_KEY = "SELECT hashtextextended('agentcore-session:' || %s, 0)"
_migrated: set[str] = set()


async def _migrate(conn: psycopg.AsyncConnection[Any], dsn: str) -> None:
    if dsn in _migrated:
        return
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('agentcore-migrate', 0))")
        await conn.execute("CREATE TABLE IF NOT EXISTS agentcore_schema (version INTEGER NOT NULL)")
        cur = await conn.execute("SELECT version FROM agentcore_schema")
        row = await cur.fetchone()
        current = int(row[0]) if row else 0
        if current > len(MIGRATIONS):
            raise RuntimeError(f"the database was written by a newer agentcore (schema {current}); upgrade")
        for sql in MIGRATIONS[current:]:
            await conn.execute(sql)  # type: ignore[arg-type]
        if row is None:
            await conn.execute("INSERT INTO agentcore_schema (version) VALUES (%s)", (len(MIGRATIONS),))
        else:
            await conn.execute("UPDATE agentcore_schema SET version = %s", (len(MIGRATIONS),))
    _migrated.add(dsn)


class PostgresSession(Session):
    """A conversation stored in Postgres. ``PostgresSession("chat-1", dsn)`` continues that conversation."""

    def __init__(self, session_id: str, dsn: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        if not session_id:
            raise ValueError("session_id must not be empty")
        self.session_id = session_id
        self.dsn = dsn
        self.lock_timeout = lock_timeout
        self._holder: psycopg.AsyncConnection[Any] | None = None
        self._local_lock: asyncio.Lock | None = None

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        await _migrate(conn, self.dsn)
        return conn

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if self._holder is not None:  # the run that holds the lock writes on its own connection
            yield self._holder
            return
        conn = await self._connect()
        try:
            yield conn
        finally:
            await conn.close()

    async def _append(self, kind: str, payload: dict[str, Any]) -> None:
        now = time.time()
        payload, blobs = extract(payload)  # images once, by content
        async with self._conn() as conn, conn.transaction():
            if self._holder is None:
                cur = await conn.execute(f"SELECT pg_try_advisory_xact_lock(({_LOCK_KEY}))", (self.session_id,))
                row = await cur.fetchone()
                if not row or not row[0]:
                    raise SessionBusy(
                        self.session_id,
                        holder="another run",
                        message=f"session {self.session_id!r} is held by another run: not written",
                    )
            await conn.execute(
                "INSERT INTO sessions (session_id, created_at, updated_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (session_id) DO UPDATE SET updated_at = excluded.updated_at",
                (self.session_id, now, now),
            )
            await conn.execute("SELECT 1 FROM sessions WHERE session_id = %s FOR UPDATE", (self.session_id,))
            await conn.execute(
                "INSERT INTO records (session_id, seq, version, kind, payload, created_at) "
                "SELECT %s, COALESCE(MAX(seq), 0) + 1, %s, %s, %s, %s FROM records WHERE session_id = %s",
                (self.session_id, RECORD_VERSION, kind, json.dumps(payload), now, self.session_id),
            )
            for digest, (media, raw) in blobs.items():
                await conn.execute(
                    "INSERT INTO session_blobs (session_id, digest, media_type, data, created_at) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (self.session_id, digest, media, raw, now),
                )

    # ------------------------------------------------------------------ the cross-process lock

    @contextlib.asynccontextmanager
    async def _hold(self) -> AsyncIterator[None]:
        if self._local_lock is None:
            self._local_lock = asyncio.Lock()
        async with self._local_lock:
            conn = await self._connect()
            try:
                start = time.monotonic()
                delay = 0.05
                while True:
                    cur = await conn.execute(f"SELECT pg_try_advisory_lock(({_LOCK_KEY}))", (self.session_id,))
                    row = await cur.fetchone()
                    if row and row[0]:
                        break
                    waited = time.monotonic() - start
                    if waited >= self.lock_timeout:
                        raise SessionBusy(self.session_id, holder="another run", waited=waited)
                    await asyncio.sleep(min(delay, self.lock_timeout - waited))
                    delay = min(delay * 2, 0.5)
                self._holder = conn
                try:
                    yield
                finally:
                    self._holder = None
                    with contextlib.suppress(psycopg.Error):
                        await conn.execute(f"SELECT pg_advisory_unlock(({_LOCK_KEY}))", (self.session_id,))
            finally:
                await conn.close()

    def lock(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """The session's lock across processes and machines (see the module docstring)."""
        return self._hold()

    # ------------------------------------------------------------------ Session

    async def records(self) -> list[tuple[int, int, str, dict[str, Any], float]]:
        """The raw log: ``(seq, version, kind, payload, created_at)``."""
        async with self._conn() as conn:
            cur = await conn.execute(
                "SELECT seq, version, kind, payload, created_at FROM records WHERE session_id = %s ORDER BY seq",
                (self.session_id,),
            )
            rows = await cur.fetchall()
        return [(int(s), int(v), str(k), json.loads(p), float(at)) for s, v, k, p, at in rows]

    async def load(self) -> SessionSnapshot:
        records = await self.records()
        async with self._conn() as conn:
            cur = await conn.execute(
                "SELECT digest, data FROM session_blobs WHERE session_id = %s", (self.session_id,)
            )
            blobs = {str(d): bytes(data) for d, data in await cur.fetchall()}
        return fold_records(records, blobs)

    async def append(
        self,
        items: Sequence[Item],
        *,
        active_agent: str | None = None,
        caches: dict[str, dict[str, Any]] | None = None,
        usage: Usage | None = None,
    ) -> None:
        await self._append("turn", turn_payload(items, active_agent, caches, usage))

    async def set_metadata(self, **values: Any) -> None:
        await self._append("metadata", {"metadata": values})

    async def clear(self) -> None:
        """Forget the conversation (the log keeps a ``cleared`` record; :meth:`delete` erases)."""
        await self._append("cleared", {})

    async def delete(self) -> bool:
        async with self._conn() as conn, conn.transaction():
            await conn.execute("DELETE FROM records WHERE session_id = %s", (self.session_id,))
            await conn.execute("DELETE FROM session_blobs WHERE session_id = %s", (self.session_id,))
            cur = await conn.execute("DELETE FROM sessions WHERE session_id = %s", (self.session_id,))
            return cur.rowcount > 0
