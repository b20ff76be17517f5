"""A durable run's sandboxes: started once per run, recorded, and reattached by the worker that recovers it.

At the start of each execution of a durable run (the first, and every recovery) the workflow readies
the sandboxes of the agents it can reach, before the loop's first step:

* **first execution**: the sandbox is started with :meth:`~agentcore.sandboxes.base.Sandbox.outlive_owner`
  (a docker container then survives this worker) and its :meth:`~agentcore.sandboxes.base.Sandbox.handle`
  (backend, sandbox id, container id…) is recorded in ``agentcore_run_sandboxes``, next to DBOS's
  tables, before any step can use it;
* **recovery** (a row exists): the worker :meth:`attaches <agentcore.sandboxes.base.Sandbox.attach>` to
  the recorded sandbox — same container, same files — where the backend allows; otherwise (the local
  backend, a sandbox that is gone) it starts a fresh one, records that one instead, says so on a
  ``sandbox.recover`` span (``agentcore.sandbox.reattached=false``, ``agentcore.sandbox.reset_reason``)
  and tells the model, in the result of the next sandbox tool call that actually runs, that the
  workspace was reset. A reattached sandbox is not announced: nothing changed for the model.

The record is a table of ours rather than a DBOS step: a recovery that starts a replacement must be
able to record it, and DBOS steps are matched by position, which a variable number of attempts would
shift. While a worker uses a sandbox it holds a Postgres advisory lock named after it (on the worker's
liveness connection, so it goes when the worker dies); the janitor's check (:func:`hold_check`) keeps
a durable sandbox while its run is queued or running or while some worker holds it.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import psycopg

from .. import tracing
from ..tools import ToolOutput

_SCHEMA = """
CREATE TABLE IF NOT EXISTS agentcore_run_sandboxes (
    run_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    handle JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, agent)
)
"""
_LOCK = "SELECT {fn}(hashtextextended('agentcore-sandbox:' || %s, 0))"
_UPSERT = (
    "INSERT INTO agentcore_run_sandboxes (run_id, agent, handle) VALUES (%s, %s, %s) "
    "ON CONFLICT (run_id, agent) DO UPDATE SET handle = EXCLUDED.handle, updated_at = now()"
)
_NATIVE_TOOLS = ("shell", "apply_patch", "bash", "str_replace_based_edit_tool", "computer")
"""Names under which vendor-native calls run in an agent's sandbox (besides its own tools)."""

RESET_NOTE = (
    "[note: the worker that ran this task stopped; its sandbox could not be reattached ({reason}), so "
    "this call ran in a fresh sandbox: files and processes from earlier calls are gone]\n"
)


class SandboxRecords:
    """The rows and holds of one worker, on its liveness connection (see the module docstring)."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn

    async def create_table(self) -> None:
        async with self.conn.transaction():  # one at a time: workers starting together would race
            await self.conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('agentcore-run-sandboxes', 0))"
            )
            await self.conn.execute(_SCHEMA)

    async def recorded(self, run_id: str) -> dict[str, dict[str, Any]]:
        cur = await self.conn.execute(
            "SELECT agent, handle FROM agentcore_run_sandboxes WHERE run_id = %s", (run_id,)
        )
        return {str(agent): dict(handle) for agent, handle in await cur.fetchall()}

    async def record(self, run_id: str, agent: str, handle: Mapping[str, Any]) -> None:
        await self.conn.execute(_UPSERT, (run_id, agent, json.dumps(dict(handle), default=str)))

    async def forget(self, run_id: str) -> None:
        await self.conn.execute("DELETE FROM agentcore_run_sandboxes WHERE run_id = %s", (run_id,))

    async def hold(self, sandbox_id: str) -> None:
        await self.conn.execute(_LOCK.format(fn="pg_advisory_lock"), (sandbox_id,))

    async def release(self, sandbox_id: str) -> None:
        with contextlib.suppress(psycopg.Error):
            await self.conn.execute(_LOCK.format(fn="pg_advisory_unlock"), (sandbox_id,))


_records: list[SandboxRecords] = []


def install(records: SandboxRecords | None) -> None:
    """The records this process's durable runs use (the :class:`~agentcore.durable.Worker` installs them)."""
    _records[:] = [records] if records is not None else []


_notes: contextvars.ContextVar[dict[str, tuple[int, str]] | None] = contextvars.ContextVar(
    "agentcore_sandbox_reset_notes", default=None
)


async def ready(run_id: str, agents: Mapping[str, Any], owned: list[Any]) -> list[Any]:
    """Start, or reattach to, the sandboxes of ``agents`` for this execution of ``run_id`` (see the
    module docstring); those started or adopted here are appended to ``owned`` (the loop closes the
    ``lifetime="run"`` ones when the run ends). Returns every sandbox readied."""
    pairs = _distinct_sandboxes(agents)
    if not pairs or not _records:
        return []
    records = _records[0]
    previous = await records.recorded(run_id)
    notes: dict[str, tuple[int, str]] = {}
    done: list[Any] = []
    try:
        for index, (name, sandbox) in enumerate(pairs):
            await _ready_one(run_id, index, name, sandbox, previous.get(name), owned, notes)
            done.append(sandbox)
    except BaseException:  # the loop never runs: what this call started must not outlive the run
        for sandbox in [s for _, s in pairs if any(s is o for o in owned)]:
            if sandbox.config.lifetime == "run":
                with contextlib.suppress(Exception):
                    await sandbox.close()
        await release(run_id, done, finished=False)
        raise
    _notes.set(notes)
    return [s for _, s in pairs]


async def _ready_one(
    run_id: str,
    index: int,
    name: str,
    sandbox: Any,
    before: Mapping[str, Any] | None,
    owned: list[Any],
    notes: dict[str, tuple[int, str]],
) -> None:
    reattached, reason = False, ""
    if before is not None:
        reattached, reason = await _reattach(sandbox, before)
        if reattached and all(sandbox is not s for s in owned):
            owned.append(sandbox)
    if not sandbox.started:
        if sandbox.durable_run is None:
            sandbox.outlive_owner(run_id)
        owned.append(sandbox)  # (before the start: a start that fails half-way is closed too)
        await _start(sandbox)
    await _records[0].hold(sandbox.id)
    await _records[0].record(run_id, name, sandbox.handle())
    if before is None:
        return
    attributes = {
        "agentcore.run.id": run_id,
        "gen_ai.agent.name": name,
        "agentcore.sandbox.backend": str(before.get("backend", "")),
        "agentcore.sandbox.id": sandbox.id,
        "agentcore.sandbox.reattached": reattached,
        "agentcore.sandbox.reset_reason": reason,
    }
    with tracing.span("sandbox.recover", attributes):
        pass
    if not reattached:
        note = RESET_NOTE.format(reason=reason)
        for tool in [t.name for t in sandbox.tools()] + list(_NATIVE_TOOLS):
            notes.setdefault(tool, (index, note))


async def release(run_id: str, sandboxes: list[Any], *, finished: bool) -> None:
    """After the run's loop: give up the holds on the sandboxes that are closed now; when the run
    ``finished``, forget its rows."""
    if not _records:
        return
    for sandbox in sandboxes:
        if sandbox.closed:
            await _records[0].release(sandbox.id)
    if finished:
        await _records[0].forget(run_id)


def noted(name: str, fn: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    """Wrap a tool step's function so the first sandbox tool call that runs after a reset tells the
    model (``name`` is the step's name: ``<tool> <call id>``)."""
    notes = _notes.get()
    tool = name.split(" ", 1)[0]
    if not notes or tool not in notes:
        return fn

    async def call() -> Any:
        entry = notes.get(tool)
        out = await fn()
        if entry is None:
            return out
        for key in [k for k, v in notes.items() if v[0] == entry[0]]:  # once per sandbox
            notes.pop(key, None)
        if isinstance(out, tuple) and out and isinstance(out[0], str):
            text = entry[1] + out[0]
            first = ToolOutput(text, out[0].parts) if isinstance(out[0], ToolOutput) else text
            return (first, *out[1:])
        return out

    return call


async def hold_check_for(dsn: str, labels: Mapping[str, str]) -> bool | None:
    """The janitor's verdict on a durable sandbox (``agentcore.durable_run`` label) from the database
    at ``dsn``: needed while its run is queued or running or while a worker holds it; None when the
    run is not one of this database's."""
    run_id, sandbox_id = labels.get("agentcore.durable_run"), labels.get("agentcore.sandbox")
    if not run_id or not sandbox_id:
        return None
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        try:
            cur = await conn.execute(
                "SELECT status FROM dbos.workflow_status WHERE workflow_uuid = %s", (run_id,)
            )
        except psycopg.errors.UndefinedTable:
            return None
        row = await cur.fetchone()
        if row is None:
            return None
        if row[0] in ("PENDING", "ENQUEUED"):
            return True
        cur = await conn.execute(_LOCK.format(fn="pg_try_advisory_lock"), (sandbox_id,))
        free = await cur.fetchone()
        if not free or not free[0]:
            return True  # a live worker uses it (a lifetime="session" sandbox serving later runs)
        await conn.execute(_LOCK.format(fn="pg_advisory_unlock"), (sandbox_id,))
        return False


def hold_check(dsn: str) -> Callable[[Mapping[str, str]], Awaitable[bool | None]]:
    """A :data:`~agentcore.sandboxes.janitor.HoldCheck` over the database at ``dsn``."""

    async def check(labels: Mapping[str, str]) -> bool | None:
        return await hold_check_for(dsn, labels)

    return check


def _distinct_sandboxes(agents: Mapping[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name in sorted(agents):
        sandbox = getattr(agents[name], "sandbox", None)
        if sandbox is not None and hasattr(sandbox, "handle") and all(sandbox is not s for _, s in out):
            out.append((name, sandbox))
    return out


async def _reattach(sandbox: Any, before: Mapping[str, Any]) -> tuple[bool, str]:
    if sandbox.started:
        if sandbox.id == before.get("sandbox_id"):
            return True, ""
        return False, "this worker's sandbox for the agent was already in use by other runs"
    if not before.get("reattachable"):
        return False, f"the {before.get('backend')} backend cannot be reattached from another process"
    if await sandbox.attach(before):
        return True, ""
    return False, f"{before.get('backend')} sandbox {before.get('sandbox_id')} is gone"


async def _start(sandbox: Any) -> None:
    await sandbox.start()
    with contextlib.suppress(Exception):  # the first shell command retries and reports
        await sandbox.open_shell()
