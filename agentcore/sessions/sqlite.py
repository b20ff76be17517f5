"""Sessions in an embedded SQLite database: the default store of the CLI.

Each session is an append-only log of records in ``sessions.db`` under the data directory
(``$AGENTCORE_HOME`` or ``~/.local/share/agentcore``). A record is one JSON document with its own
``version``; reading a record written by an older version upgrades it through :data:`RECORD_UPGRADES`,
and the database schema itself is migrated with ``PRAGMA user_version`` through :data:`MIGRATIONS`.
Loading folds the log into a :class:`~agentcore.session.SessionSnapshot`.

Concurrency: WAL journal, a busy timeout, one short ``BEGIN IMMEDIATE`` transaction per append, and a
fresh connection per operation, run in a worker thread so the event loop never blocks on the disk.
Runs on different sessions (in one process or several) proceed in parallel; one session is used by
one run at a time, across processes: the runner holds :meth:`SQLiteSession.lock`, a row in the
``locks`` table naming its owner (a random token, ``pid@host``) with an expiry that a heartbeat thread
pushes forward every ``lock_ttl / 3`` seconds. A second run polls (asynchronously) for up to
``lock_timeout`` seconds, then raises :class:`~agentcore.errors.SessionBusy`. When the owner crashed
(no release, no heartbeat), its lock expires ``lock_ttl`` seconds after the last heartbeat and the next
run takes it over. An append by anyone but a live lock's owner raises ``SessionBusy``, so two runs
never interleave a conversation (even one whose heartbeat stalled past the TTL cannot write after
another run took over).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SessionBusy
from ..messages import Item, Usage, dump_items, load_items, new_id
from ..paths import data_dir
from .base import Session, SessionSnapshot
from .blobs import extract, restore

RECORD_VERSION = 1
"""Version written into every new record."""

RecordUpgrade = Callable[[dict[str, Any]], dict[str, Any]]
RECORD_UPGRADES: dict[int, RecordUpgrade] = {}
"""``{n: fn}`` turns a version-``n`` record payload into a version ``n+1`` payload."""


def _migration_1(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS sessions (
               session_id TEXT PRIMARY KEY,
               created_at REAL NOT NULL,
               updated_at REAL NOT NULL,
               metadata TEXT NOT NULL DEFAULT '{}'
           )"""
    )
    db.execute(
        """CREATE TABLE IF NOT EXISTS records (
               session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
               seq INTEGER NOT NULL,
               version INTEGER NOT NULL,
               kind TEXT NOT NULL,
               payload TEXT NOT NULL,
               created_at REAL NOT NULL,
               PRIMARY KEY (session_id, seq)
           )"""
    )


def _migration_2(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS locks (
               session_id TEXT PRIMARY KEY,
               owner TEXT NOT NULL,
               holder TEXT NOT NULL,
               acquired_at REAL NOT NULL,
               expires_at REAL NOT NULL
           )"""
    )


def _migration_3(db: sqlite3.Connection) -> None:
    db.execute(  # images of the session's items, once each (agentcore.sessions.blobs)
        """CREATE TABLE IF NOT EXISTS session_blobs (
               session_id TEXT NOT NULL,
               digest TEXT NOT NULL,
               media_type TEXT NOT NULL,
               data BLOB NOT NULL,
               created_at REAL NOT NULL,
               PRIMARY KEY (session_id, digest)
           )"""
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migration_1, _migration_2, _migration_3]
"""Database schema migrations; ``PRAGMA user_version`` counts how many ran."""


def default_path() -> Path:
    return data_dir() / "sessions.db"


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 30000")
    db.execute("PRAGMA synchronous = NORMAL")  # with WAL: a crash of the process loses nothing
    db.execute("PRAGMA foreign_keys = ON")
    return db


_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def _wal(db: sqlite3.Connection) -> None:
    """Switch to WAL. Changing the journal mode needs the database to itself and SQLite answers "locked"
    at once, without its busy handler, while another connection holds it: retry for up to 30 s."""
    deadline = time.monotonic() + 30.0
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _migrate(path: Path) -> None:
    key = str(path.resolve())
    if key in _migrated and path.exists():
        return
    with _migrate_lock:  # runs in worker threads: one migration per process at a time
        if key in _migrated and path.exists():
            return
        _migrate_locked(path, key)


def _migrate_locked(path: Path, key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = _connect(path)
    try:
        _wal(db)
        db.execute("BEGIN IMMEDIATE")
        current = db.execute("PRAGMA user_version").fetchone()[0]
        if current > len(MIGRATIONS):
            db.execute("ROLLBACK")
            raise RuntimeError(
                f"{path} was written by a newer agentcore (schema {current}); upgrade agentcore"
            )
        for index in range(current, len(MIGRATIONS)):
            MIGRATIONS[index](db)
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        db.execute("COMMIT")
    finally:
        db.close()
    _migrated.add(key)


def upgrade_record(version: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored record up to :data:`RECORD_VERSION`."""
    if version > RECORD_VERSION:
        raise RuntimeError(
            f"session record version {version} is newer than this agentcore ({RECORD_VERSION})"
        )
    while version < RECORD_VERSION:
        payload = RECORD_UPGRADES[version](payload)
        version += 1
    return payload


def turn_payload(
    items: Sequence[Item],
    active_agent: str | None = None,
    caches: dict[str, dict[str, Any]] | None = None,
    usage: Usage | None = None,
) -> dict[str, Any]:
    """The payload of a ``turn`` record (the format every session store writes)."""
    payload: dict[str, Any] = {"items": dump_items(items)}
    if active_agent is not None:
        payload["active_agent"] = active_agent
    if caches is not None:
        payload["caches"] = caches
    if usage is not None:
        payload["usage"] = usage.model_dump()
    return payload


def fold_records(
    records: Iterable[tuple[int, int, str, dict[str, Any], float]], blobs: Mapping[str, bytes] | None = None
) -> SessionSnapshot:
    """Fold ``(seq, version, kind, payload, created_at)`` records, oldest first, into a snapshot; image
    references are resolved from ``blobs`` (digest -> bytes; :mod:`.blobs`)."""
    snapshot = SessionSnapshot()
    for _seq, version, kind, payload, _at in records:
        payload = restore(upgrade_record(version, payload), blobs or {})
        if kind == "cleared":
            snapshot = SessionSnapshot()
            continue
        snapshot.items.extend(load_items(payload.get("items", [])))
        if payload.get("active_agent") is not None:
            snapshot.active_agent = payload["active_agent"]
        if payload.get("caches") is not None:
            snapshot.caches = payload["caches"]
        if payload.get("usage") is not None:
            snapshot.usage.add(Usage.model_validate(payload["usage"]))
        snapshot.metadata.update(payload.get("metadata") or {})
    return snapshot


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    created_at: float
    updated_at: float
    records: int
    items: int
    active_agent: str | None


DEFAULT_LOCK_TIMEOUT = 30.0
"""Seconds a run waits for a session another run holds before it raises ``SessionBusy``."""
DEFAULT_LOCK_TTL = 30.0
"""Seconds after the last heartbeat when a (crashed) owner's lock expires."""


class SQLiteSession(Session):
    """A conversation stored in SQLite. ``SQLiteSession("chat-1")`` continues that conversation.

    ``lock_timeout``: how long a run waits for the session while another run (in any process) holds
    it, then :class:`~agentcore.errors.SessionBusy`; ``lock_ttl``: how long a lock outlives its owner's
    last heartbeat (a crashed owner's lock is taken over after that)."""

    def __init__(
        self,
        session_id: str,
        path: str | Path | None = None,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        lock_ttl: float = DEFAULT_LOCK_TTL,
    ) -> None:
        if not session_id:
            raise ValueError("session_id must not be empty")
        if lock_timeout < 0 or lock_ttl <= 0:
            raise ValueError("lock_timeout must be >= 0 and lock_ttl > 0")
        self.session_id = session_id
        self.path = Path(path) if path is not None else default_path()
        self.lock_timeout = lock_timeout
        self.lock_ttl = lock_ttl
        self._owner: str | None = None
        self._local_lock: asyncio.Lock | None = None

    # ------------------------------------------------------------------ sync core (worker thread)

    def _db(self) -> sqlite3.Connection:
        _migrate(self.path)
        return _connect(self.path)

    def _append_sync(self, kind: str, payload: dict[str, Any]) -> None:
        now = time.time()
        payload, blobs = extract(payload)  # images once, by content
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            self._check_owner(db, now)
            db.execute(
                "INSERT INTO sessions (session_id, created_at, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(session_id) DO UPDATE SET updated_at = excluded.updated_at",
                (self.session_id, now, now),
            )
            db.execute(
                "INSERT INTO records (session_id, seq, version, kind, payload, created_at) "
                "SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM records WHERE session_id = ?",
                (self.session_id, RECORD_VERSION, kind, json.dumps(payload), now, self.session_id),
            )
            db.executemany(
                "INSERT OR IGNORE INTO session_blobs (session_id, digest, media_type, data, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(self.session_id, d, media, raw, now) for d, (media, raw) in blobs.items()],
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def _check_owner(self, db: sqlite3.Connection, now: float) -> None:
        """Inside a write transaction: refuse when a live lock belongs to someone else."""
        row = db.execute(
            "SELECT owner, holder, expires_at FROM locks WHERE session_id = ?", (self.session_id,)
        ).fetchone()
        if row is not None and row[0] != self._owner and row[2] >= now:
            raise SessionBusy(
                self.session_id,
                holder=row[1],
                message=f"session {self.session_id!r} is held by another run ({row[1]}): not written",
            )

    # ------------------------------------------------------------------ the cross-process lock

    def _try_lock_sync(self, owner: str) -> str | None:
        """Take the lock if it is free or expired; otherwise return its holder."""
        now = time.time()
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT owner, holder, expires_at FROM locks WHERE session_id = ?", (self.session_id,)
            ).fetchone()
            if row is not None and row[0] != owner and row[2] >= now:
                db.execute("COMMIT")
                return str(row[1])
            db.execute(
                "INSERT OR REPLACE INTO locks (session_id, owner, holder, acquired_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    self.session_id,
                    owner,
                    f"pid {os.getpid()}@{socket.gethostname()}",
                    now,
                    now + self.lock_ttl,
                ),
            )
            db.execute("COMMIT")
            return None
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def _heartbeat_sync(self, owner: str) -> bool:
        """Push the expiry forward; ``False`` when the lock is no longer ours."""
        db = self._db()
        try:
            cur = db.execute(
                "UPDATE locks SET expires_at = ? WHERE session_id = ? AND owner = ?",
                (time.time() + self.lock_ttl, self.session_id, owner),
            )
            return cur.rowcount > 0
        finally:
            db.close()

    def _unlock_sync(self, owner: str) -> None:
        db = self._db()
        try:
            db.execute("DELETE FROM locks WHERE session_id = ? AND owner = ?", (self.session_id, owner))
        finally:
            db.close()

    def lock_holder(self) -> str | None:
        """Who holds this session's lock now (``pid N@host``), or ``None`` when it is free or expired."""
        db = self._db()
        try:
            row = db.execute(
                "SELECT holder, expires_at FROM locks WHERE session_id = ?", (self.session_id,)
            ).fetchone()
        finally:
            db.close()
        return str(row[0]) if row is not None and row[1] >= time.time() else None

    @contextlib.asynccontextmanager
    async def _hold(self) -> AsyncIterator[None]:
        if self._local_lock is None:
            self._local_lock = asyncio.Lock()
        async with self._local_lock:  # runs of this process on this object queue here first
            owner = new_id()
            start = time.monotonic()
            delay = 0.05
            while True:
                holder = await asyncio.to_thread(self._try_lock_sync, owner)
                if holder is None:
                    break
                waited = time.monotonic() - start
                if waited >= self.lock_timeout:
                    raise SessionBusy(self.session_id, holder=holder, waited=waited)
                await asyncio.sleep(min(delay, self.lock_timeout - waited))
                delay = min(delay * 2, 0.5)
            self._owner = owner
            stop = threading.Event()
            beat = threading.Thread(
                target=self._beat,
                args=(owner, stop),
                name=f"agentcore-session-lock-{self.session_id}",
                daemon=True,
            )
            beat.start()
            try:
                yield
            finally:
                stop.set()
                self._owner = None
                await asyncio.to_thread(beat.join)
                await asyncio.to_thread(self._unlock_sync, owner)

    def _beat(self, owner: str, stop: threading.Event) -> None:
        """The heartbeat (a thread, so a busy event loop does not let the lock expire)."""
        while not stop.wait(self.lock_ttl / 3):
            try:
                if not self._heartbeat_sync(owner):
                    return  # taken over after an expiry: appends now fail with SessionBusy
            except sqlite3.Error:
                continue  # a busy database: try again at the next beat

    def lock(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """The session's lock across processes (see the module docstring); the runner holds it per run."""
        return self._hold()

    def _records_sync(self) -> list[tuple[int, int, str, dict[str, Any], float]]:
        db = self._db()
        try:
            rows = db.execute(
                "SELECT seq, version, kind, payload, created_at FROM records WHERE session_id = ? ORDER BY seq",
                (self.session_id,),
            ).fetchall()
        finally:
            db.close()
        return [(seq, version, kind, json.loads(payload), at) for seq, version, kind, payload, at in rows]

    def _blobs_sync(self) -> dict[str, bytes]:
        db = self._db()
        try:
            rows = db.execute(
                "SELECT digest, data FROM session_blobs WHERE session_id = ?", (self.session_id,)
            ).fetchall()
        finally:
            db.close()
        return {digest: bytes(data) for digest, data in rows}

    def _load_sync(self) -> SessionSnapshot:
        return fold_records(self._records_sync(), self._blobs_sync())

    def _delete_sync(self) -> bool:
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM records WHERE session_id = ?", (self.session_id,))
            db.execute("DELETE FROM session_blobs WHERE session_id = ?", (self.session_id,))
            gone = db.execute("DELETE FROM sessions WHERE session_id = ?", (self.session_id,)).rowcount
            db.execute("COMMIT")
        finally:
            db.close()
        return bool(gone)

    # ------------------------------------------------------------------ Session

    async def load(self) -> SessionSnapshot:
        return await asyncio.to_thread(self._load_sync)

    async def append(
        self,
        items: Sequence[Item],
        *,
        active_agent: str | None = None,
        caches: dict[str, dict[str, Any]] | None = None,
        usage: Usage | None = None,
    ) -> None:
        await asyncio.to_thread(self._append_sync, "turn", turn_payload(items, active_agent, caches, usage))

    async def set_metadata(self, **values: Any) -> None:
        """Record metadata (for example the definition file a chat runs) in the log."""
        await asyncio.to_thread(self._append_sync, "metadata", {"metadata": values})

    async def clear(self) -> None:
        """Forget the conversation (the log keeps a ``cleared`` record; use :meth:`delete` to erase)."""
        await asyncio.to_thread(self._append_sync, "cleared", {})

    async def delete(self) -> bool:
        """Erase the session and its records. ``False`` when it did not exist."""
        return await asyncio.to_thread(self._delete_sync)

    def records(self) -> list[tuple[int, int, str, dict[str, Any], float]]:
        """The raw log: ``(seq, version, kind, payload, created_at)``."""
        return self._records_sync()


# --------------------------------------------------------------------------- helpers for the CLI


def list_sessions(path: str | Path | None = None) -> list[SessionInfo]:
    """Every session in the store, most recently updated first."""
    db_path = Path(path) if path is not None else default_path()
    if not db_path.exists():
        return []
    _migrate(db_path)
    db = _connect(db_path)
    try:
        rows = db.execute(
            "SELECT s.session_id, s.created_at, s.updated_at, COUNT(r.seq) FROM sessions s "
            "LEFT JOIN records r ON r.session_id = s.session_id GROUP BY s.session_id ORDER BY s.updated_at DESC"
        ).fetchall()
    finally:
        db.close()
    out = []
    for session_id, created, updated, count in rows:
        snapshot = SQLiteSession(session_id, db_path)._load_sync()
        out.append(
            SessionInfo(session_id, created, updated, count, len(snapshot.items), snapshot.active_agent)
        )
    return out


def load_session(session_id: str, path: str | Path | None = None) -> SessionSnapshot | None:
    """The snapshot of one session, or ``None`` when it does not exist."""
    session = SQLiteSession(session_id, path)
    if not session.path.exists() or not session._records_sync():
        return None
    return session._load_sync()


def delete_session(session_id: str, path: str | Path | None = None) -> bool:
    session = SQLiteSession(session_id, path)
    if not session.path.exists():
        return False
    return session._delete_sync()
