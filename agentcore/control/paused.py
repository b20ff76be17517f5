"""What a run paused for approval keeps of its sandboxes, so the approved call finds its workspace.

A run that started a sandbox itself (the agent's sandbox was not started yet: a "run-owned" sandbox)
closes it when the run ends. A pause is not an end:

* **In this process** the runner *parks* the run's sandboxes instead of closing them: they stay up, as
  they were, until the run resumes (``Runner.run(agent, state)`` with the same agent object), until
  :meth:`RunState.discard <agentcore.control.approvals.RunState.discard>`, or until
  :data:`PAUSED_SANDBOX_TTL` seconds (``AGENTCORE_PAUSED_SANDBOX_TTL``, default 900) passed; then they
  are closed. The sandbox's own ``max_lifetime_s`` still applies.
* **Across processes** (``state.to_json()`` … ``RunState.from_json()``) the workspace travels with the
  state: at pause time the runner downloads each run-owned sandbox's workspace (``config.workdir``)
  into a bounded snapshot (:data:`SNAPSHOT_MAX_BYTES`, ``AGENTCORE_PAUSE_SNAPSHOT_MAX_BYTES``, default
  16 MiB; :data:`SNAPSHOT_MAX_FILES` files), sealed with the rest of the state. A resume that starts a
  fresh sandbox (a new process, a rebuilt agent) uploads the snapshot into it before the approved calls
  run. A workspace over the bound is not saved: such a state can still be resumed in this process while
  its sandbox is parked, but ``to_json()`` refuses it with a message saying so. Only the workspace
  travels: files elsewhere in the sandbox, running processes and shell state (cwd, variables) do not.

The sandboxes are duck-typed (``config.workdir``, ``list_dir``, ``download``, ``upload``, ``close``), so
this module does not depend on the sandbox package.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import posixpath
import tempfile
import threading
from pathlib import Path
from typing import Any


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


PAUSED_SANDBOX_TTL = _env_number("AGENTCORE_PAUSED_SANDBOX_TTL", 900.0)
"""Seconds a paused run's sandboxes are kept in this process before they are closed."""
SNAPSHOT_MAX_BYTES = int(_env_number("AGENTCORE_PAUSE_SNAPSHOT_MAX_BYTES", 16 * 1024 * 1024))
"""Largest workspace (sum of file sizes) saved with a paused run."""
SNAPSHOT_MAX_FILES = 5_000
"""Most files and directories saved with a paused run."""


# --------------------------------------------------------------------------- parking (this process)


class _Parked:
    def __init__(self, sandboxes: list[Any], timer: threading.Timer) -> None:
        self.sandboxes = sandboxes
        self.timer = timer


_parked: dict[str, _Parked] = {}
_lock = threading.Lock()


def _close_all(sandboxes: list[Any]) -> None:
    """Close from a timer thread (the sandboxes' public coroutines work from any event loop)."""

    async def close() -> None:
        for sandbox in sandboxes:
            with contextlib.suppress(Exception):
                await sandbox.close()

    asyncio.run(close())


def _expire(run_id: str) -> None:
    with _lock:
        parked = _parked.pop(run_id, None)
    if parked is not None:
        _close_all(parked.sandboxes)


def park(run_id: str, sandboxes: list[Any], ttl: float | None = None) -> None:
    """Keep ``sandboxes`` for the paused run ``run_id`` (closed after ``ttl`` seconds unless claimed)."""
    if not sandboxes:
        return
    timer = threading.Timer(PAUSED_SANDBOX_TTL if ttl is None else ttl, _expire, args=(run_id,))
    timer.daemon = True
    with _lock:
        previous = _parked.pop(run_id, None)
        _parked[run_id] = _Parked(list(sandboxes), timer)
    if previous is not None:
        previous.timer.cancel()
    timer.start()


def claim(run_id: str) -> list[Any]:
    """The sandboxes parked for ``run_id`` (now the resuming run's); empty when none are left."""
    with _lock:
        parked = _parked.pop(run_id, None)
    if parked is None:
        return []
    parked.timer.cancel()
    return [s for s in parked.sandboxes if not getattr(s, "closed", False)]


async def discard(run_id: str) -> None:
    """Close what the paused run ``run_id`` keeps, now."""
    for sandbox in claim(run_id):
        with contextlib.suppress(Exception):
            await sandbox.close()


def parked_runs() -> list[str]:
    with _lock:
        return list(_parked)


# --------------------------------------------------------------------------- workspace snapshots


def _workdir(sandbox: Any) -> str:
    return str(getattr(getattr(sandbox, "config", None), "workdir", "/workspace"))


async def _measure(sandbox: Any, max_bytes: int, max_files: int) -> str | None:
    """Walk the workspace; a reason when it is over the bounds, else ``None``."""
    total = count = 0
    stack = [_workdir(sandbox)]
    while stack:
        for entry in await sandbox.list_dir(stack.pop()):
            if entry.type == "dir":
                stack.append(entry.path)
            elif entry.type != "file":
                continue
            count += 1
            total += int(entry.size) if entry.type == "file" else 0
            if total > max_bytes:
                return f"its workspace is over the {max_bytes:,}-byte snapshot limit"
            if count > max_files:
                return f"its workspace has more than {max_files:,} files and directories"
    return None


def _pack(root: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            continue
        if path.is_dir():
            entries.append({"path": rel, "type": "dir"})
        elif path.is_file():
            entries.append(
                {
                    "path": rel,
                    "type": "file",
                    "mode": path.stat().st_mode & 0o777,
                    "data": base64.b64encode(path.read_bytes()).decode("ascii"),
                }
            )
    return entries


def _unpack(entries: list[dict[str, Any]], root: Path) -> None:
    for entry in entries:
        rel = str(entry["path"])
        norm = posixpath.normpath(rel)
        if norm.startswith(("/", "..")) or "\0" in rel or norm == ".":
            raise ValueError(f"workspace snapshot names an unsafe path: {rel!r}")
        dest = root / norm
        if entry["type"] == "dir":
            dest.mkdir(parents=True, exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(base64.b64decode(entry["data"]))
            dest.chmod(int(entry.get("mode", 0o644)) & 0o777)


async def snapshot(
    sandbox: Any, *, max_bytes: int | None = None, max_files: int | None = None
) -> dict[str, Any]:
    """The workspace of ``sandbox`` as JSON (``{"workdir", "entries"}``), or ``{"error": reason}`` when
    it is over the bounds or cannot be read."""
    limit_bytes = SNAPSHOT_MAX_BYTES if max_bytes is None else max_bytes
    limit_files = SNAPSHOT_MAX_FILES if max_files is None else max_files
    try:
        reason = await _measure(sandbox, limit_bytes, limit_files)
        if reason is not None:
            return {"error": reason}
        with tempfile.TemporaryDirectory(prefix="agentcore-pause-") as tmp:
            root = Path(tmp) / "workspace"
            await sandbox.download(_workdir(sandbox), root)
            entries = await asyncio.to_thread(_pack, root)
    except Exception as exc:  # a snapshot must never turn a pause into a crash
        return {"error": f"its workspace could not be saved: {type(exc).__name__}: {exc}"}
    return {"workdir": _workdir(sandbox), "entries": entries}


async def restore(sandbox: Any, saved: dict[str, Any]) -> None:
    """Upload a :func:`snapshot` into a (fresh, started) sandbox's workspace."""
    with tempfile.TemporaryDirectory(prefix="agentcore-resume-") as tmp:
        root = Path(tmp) / "workspace"
        root.mkdir()
        await asyncio.to_thread(_unpack, list(saved.get("entries", [])), root)
        await sandbox.upload(root, _workdir(sandbox))


# --------------------------------------------------------------------------- the run loop's hooks


def _sandboxes_by_agent(agents: dict[str, Any], owned: list[Any]) -> dict[str, Any]:
    """The run-owned, started, open sandboxes, each under the first agent that uses it."""
    out: dict[str, Any] = {}
    for name, agent in agents.items():
        sandbox = getattr(agent, "sandbox", None)
        if (
            sandbox is not None
            and any(sandbox is s for s in owned)
            and getattr(sandbox, "started", False)
            and not getattr(sandbox, "closed", False)
            and all(sandbox is not s for s in out.values())
        ):
            out[name] = sandbox
    return out


async def save_workspaces(agents: dict[str, Any], owned: list[Any]) -> dict[str, dict[str, Any]]:
    """At pause time: a snapshot of each run-owned sandbox's workspace, by agent name."""
    return {name: await snapshot(sandbox) for name, sandbox in _sandboxes_by_agent(agents, owned).items()}


async def restore_workspaces(
    workspaces: dict[str, dict[str, Any]], agent: Any, agents: dict[str, Any], fresh: list[Any]
) -> None:
    """At resume time: refuse a sandbox that was closed meanwhile; fill the sandboxes this resume
    started (a new process, a rebuilt agent) from the snapshots saved at pause time."""
    from ..errors import UserError

    sandbox = getattr(agent, "sandbox", None)
    if sandbox is not None and getattr(sandbox, "closed", False):
        raise UserError(
            f"the sandbox of agent {agent.name!r} was closed while the run was paused (discarded, or kept "
            f"longer than AGENTCORE_PAUSED_SANDBOX_TTL={PAUSED_SANDBOX_TTL:.0f}s); resume with an agent whose "
            "sandbox is not started yet: the workspace saved with the state is restored into it"
        )
    for name, sandbox in _sandboxes_by_agent(agents, fresh).items():
        saved = workspaces.get(name)
        if saved is not None and "entries" in saved:
            await restore(sandbox, saved)
