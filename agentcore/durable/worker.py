"""A worker process: runs durable runs from the queue, and recovers the runs of workers that died.

Each worker is one DBOS executor with its own id (``agentcore-<host>-<pid>-<random>``). DBOS recovers
an executor's pending workflows only when asked to for that executor id, so the workers keep watch
for each other through Postgres: each holds a session-level advisory lock named after its executor id
on a connection of its own for as long as it lives. The server drops the lock the moment that
connection ends — the process exited or was killed, its socket closed. Every ``reap_interval``
seconds a worker lists the executors that have pending runs; one whose lock it can take is dead, and
its runs are handed back to the queue (DBOS re-enqueues them; a duplicate hand-back is a no-op), where
any live worker picks them up and replays them from their last recorded step.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from dbos import DBOS, DBOSConfig

from .. import __version__
from ..agent import Agent
from ..tracing import store as trace_store
from .engine import APP_NAME, QUEUE, register_agents
from .limits import VendorLimits
from .sandboxes import SandboxRecords, hold_check
from .sandboxes import install as install_records
from .steps import set_vendor_limits

log = logging.getLogger("agentcore.durable")
_PREFIX = "agentcore-"
JANITOR_EVERY = 15
"""Every this many recovery rounds (and after each recovery) a worker runs the docker janitor."""


def _lock_sql(fn: str) -> str:
    return f"SELECT {fn}(hashtextextended(%s, 0))"


class Worker:
    """Executes durable runs of ``agents`` (by name) taken from the queue shared through ``dsn``.
    One per process (DBOS keeps one instance per process).

    ``concurrency`` bounds the runs this worker executes at once; ``global_concurrency`` and
    ``rate_limit`` (``(runs, seconds)``) bound the queue as a whole (shared by every worker);
    ``vendor_limits`` (``{"openai": 10}``) bounds model calls in flight per vendor over every worker
    (each worker of the fleet should be given the same limits). ``traces`` is the trace store the
    worker writes its spans to — a ``postgresql://`` DSN shared by the fleet (see
    :mod:`agentcore.tracing.pgstore`), or a directory; ``trace_content`` records message content too.
    """

    def __init__(
        self,
        dsn: str,
        agents: dict[str, Agent[Any]],
        *,
        executor_id: str | None = None,
        concurrency: int | None = None,
        global_concurrency: int | None = None,
        rate_limit: tuple[int, float] | None = None,
        reap_interval: float = 2.0,
        polling_interval: float = 0.2,
        app_version: str | None = None,
        vendor_limits: dict[str, int] | None = None,
        traces: str | None = None,
        trace_content: bool = False,
    ) -> None:
        self.dsn = dsn
        self.agents = agents
        self.executor_id = (
            executor_id or f"{_PREFIX}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        )
        self.concurrency = concurrency
        self.global_concurrency = global_concurrency
        self.rate_limit = rate_limit
        self.reap_interval = reap_interval
        self.polling_interval = polling_interval
        self.app_version = app_version or f"agentcore-{__version__}"
        self.vendor_limits = dict(vendor_limits or {})
        self.traces = traces
        self.trace_content = trace_content
        self._tracing: Any = None
        self._lock_conn: psycopg.AsyncConnection[Any] | None = None
        self._stop = asyncio.Event()
        self._hold_check: Any = None
        self._rounds = 0

    async def start(self) -> None:
        """Take this worker's liveness lock, launch DBOS in this event loop, declare the queue."""
        self._lock_conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        await self._lock_conn.execute(_lock_sql("pg_advisory_lock"), (self.executor_id,))
        records = SandboxRecords(self._lock_conn)  # holds go with this connection: with the process
        await records.create_table()
        install_records(records)
        self._hold_check = hold_check(self.dsn)
        _janitor().register_hold_check(self._hold_check)
        register_agents(self.agents, dsn=self.dsn)
        if self.traces:  # this worker's spans go to the shared store (a postgresql:// DSN, or a directory)
            self._tracing = trace_store.setup(directory=self.traces, capture_content=self.trace_content)
        set_vendor_limits(VendorLimits(self.dsn, self.vendor_limits) if self.vendor_limits else None)
        config: DBOSConfig = {
            "name": APP_NAME,
            "system_database_url": _sqlalchemy_url(self.dsn),
            "executor_id": self.executor_id,
            "application_version": self.app_version,
            "log_level": os.environ.get("AGENTCORE_DBOS_LOG_LEVEL", "WARNING"),
        }
        DBOS(config=config)
        DBOS.launch()  # in this thread, whose loop then runs the queued workflows (a start-up cost)
        limiter = {"limit": self.rate_limit[0], "period": self.rate_limit[1]} if self.rate_limit else None
        await DBOS.register_queue_async(
            QUEUE,
            worker_concurrency=self.concurrency,
            global_concurrency=self.global_concurrency,
            limiter=limiter,  # type: ignore[arg-type]
            polling_interval_sec=self.polling_interval,
            on_conflict="always_update",
        )

    async def serve(self) -> None:
        """Run until :meth:`stop` (or cancellation), recovering dead workers' runs as it goes."""
        if self._lock_conn is None:
            await self.start()
        try:
            while not self._stop.is_set():
                try:
                    await self.reap()
                except Exception:  # the database is briefly unreachable: try at the next round
                    log.warning("recovering dead workers' runs failed; retrying", exc_info=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.reap_interval)
        finally:
            await self.close()

    def stop(self) -> None:
        self._stop.set()

    async def reap(self) -> list[str]:
        """Hand the pending runs of dead workers back to the queue; the executor ids recovered."""
        assert self._lock_conn is not None
        pending = await DBOS.list_workflows_async(status="PENDING", load_input=False, load_output=False)
        owners = {w.executor_id for w in pending if w.executor_id and w.executor_id.startswith(_PREFIX)}
        owners.discard(self.executor_id)
        dead: list[str] = []
        for owner in sorted(owners):
            cur = await self._lock_conn.execute(_lock_sql("pg_try_advisory_lock"), (owner,))
            row = await cur.fetchone()
            if not row or not row[0]:
                continue  # alive: its process still holds its lock
            await self._lock_conn.execute(_lock_sql("pg_advisory_unlock"), (owner,))
            log.warning("worker %s is gone; recovering its runs", owner)
            await asyncio.to_thread(DBOS._recover_pending_workflows, [owner])
            dead.append(owner)
        self._rounds += 1
        if dead or self._rounds % JANITOR_EVERY == 0:
            await self.reap_sandboxes()
        return dead

    async def reap_sandboxes(self) -> dict[str, list[str]]:
        """Remove the docker sandboxes nothing needs any more: those of dead processes on this host,
        and durable runs' sandboxes whose run is over and that no worker holds (see .sandboxes)."""
        janitor = _janitor()
        if "docker" not in janitor.registered():  # no docker sandbox was ever started here
            return {}
        removed: dict[str, list[str]] = await janitor.reap(backends=["docker"], older_than_s=float("inf"))
        return removed

    async def close(self) -> None:
        install_records(None)
        if self._hold_check is not None:
            _janitor().unregister_hold_check(self._hold_check)
            self._hold_check = None
        await asyncio.to_thread(DBOS.destroy)
        if self._tracing is not None:  # what is still buffered reaches the store
            await asyncio.to_thread(self._tracing.shutdown)
            self._tracing = None
        # DBOS made its own pool this loop's default executor; it is gone now: give the loop a new one
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())
        if self._lock_conn is not None:
            with contextlib.suppress(Exception):
                await self._lock_conn.close()
            self._lock_conn = None


def _janitor() -> Any:
    """:mod:`agentcore.sandboxes.janitor` (the sandboxes package is found at run time)."""
    return importlib.import_module("agentcore.sandboxes.janitor")


def _sqlalchemy_url(dsn: str) -> str:
    """DBOS takes a SQLAlchemy URL: ``postgresql://`` becomes ``postgresql+psycopg://``."""
    for scheme in ("postgresql://", "postgres://"):
        if dsn.startswith(scheme):
            return "postgresql+psycopg://" + dsn[len(scheme) :]
    return dsn
