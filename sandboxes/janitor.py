"""Remove sandbox resources leaked by a crashed process.

Every backend labels its resources (``Sandbox.labels``: ``agentcore.sandbox`` = id,
``agentcore.backend``, ``agentcore.session``, plus the user's) and registers a *reaper* here: an async
function that finds leftovers whose owner is gone, filtered by labels, and removes them **by id**.

>>> from agentcore.sandboxes import janitor
>>> removed = await janitor.reap()                     # every registered backend
>>> removed = await janitor.reap({"agentcore.session": "s1"}, backends=["docker"])

Backends register at import time: ``janitor.register("docker", reap_docker)``. The local backend's
reaper is built in: it removes control directories and cgroups of sandboxes whose owning process
died (with ``--die-with-parent`` their processes died with it; anything left in the cgroup is killed).

Automatic: the first start of a local or docker sandbox in a process reaps, in the background, what
*dead owners on this machine* left behind (:func:`reap_after_first_start`): an owner is the process id
plus its start time (:func:`owner_identity`), so a reused pid never passes for the owner. Resources
whose owner cannot be judged from here (another host) are left to ``agentcore sandboxes reap``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path

__all__ = [
    "HoldCheck",
    "Reaper",
    "held",
    "owner_alive",
    "owner_identity",
    "reap",
    "reap_after_first_start",
    "reap_local",
    "register",
    "register_hold_check",
    "registered",
    "startup_reap",
    "unregister_hold_check",
]

Reaper = Callable[[Mapping[str, str], float], Awaitable[list[str]]]
"""``reaper(labels, older_than_s) -> ids removed``. Must only touch resources carrying all ``labels``
whose owner is gone (or that are older than ``older_than_s`` when the backend cannot tell)."""

_reapers: dict[str, Reaper] = {}

WARM_GRACE_S = 30.0
"""An empty cgroup of a parked local launcher younger than this may be one still joining: kept."""


HoldCheck = Callable[[Mapping[str, str]], Awaitable[bool | None]]
"""``check(labels)``: whether something still needs a resource that outlives its creating process on
purpose (a durable run's sandbox, labelled ``agentcore.durable_run``): True (keep it), False (free to
reap), None (not this check's to judge)."""

_hold_checks: list[HoldCheck] = []


def register_hold_check(check: HoldCheck) -> None:
    """Add a :data:`HoldCheck` (the durable workers add one that asks their database)."""
    if check not in _hold_checks:
        _hold_checks.append(check)


def unregister_hold_check(check: HoldCheck) -> None:
    with contextlib.suppress(ValueError):
        _hold_checks.remove(check)


async def held(labels: Mapping[str, str]) -> bool | None:
    """The verdict of the first registered :data:`HoldCheck` that judges ``labels``; None when none
    does. A check that fails (its database is unreachable) counts as True: keep."""
    for check in list(_hold_checks):
        try:
            verdict = await check(labels)
        except Exception:
            return True
        if verdict is not None:
            return verdict
    return None


def register(backend: str, reaper: Reaper) -> None:
    """Add (or replace) the reaper of ``backend``."""
    _reapers[backend] = reaper


def registered() -> list[str]:
    return sorted(_reapers)


async def reap(
    labels: Mapping[str, str] | None = None,
    *,
    older_than_s: float = 0.0,
    backends: Iterable[str] | None = None,
) -> dict[str, list[str]]:
    """Run the reapers; returns ``{backend: [removed ids]}``. A failing reaper reports nothing."""
    _load_builtin_backends()
    wanted = list(backends) if backends is not None else registered()
    out: dict[str, list[str]] = {}
    for name in wanted:
        reaper = _reapers.get(name)
        if reaper is None:
            continue
        try:
            out[name] = await reaper(dict(labels or {}), older_than_s)
        except Exception:
            out[name] = []
    return out


def _load_builtin_backends() -> None:
    """Import backends whose module registers a reaper (ignoring missing optional SDKs)."""
    for module in ("docker.sandbox", "remote.e2b", "remote.modal"):
        with contextlib.suppress(Exception):
            __import__(f"agentcore.sandboxes.{module}")


STARTUP_REAP_TIMEOUT_S = 30.0
"""The background reap after a process's first start gives up after this long (it never blocks a start)."""


def process_start(pid: int) -> str | None:
    """``<boot id>:<start time in clock ticks>`` of a running process; None when it is gone. Together
    with the pid it names one process for good: a reused pid has another start time."""
    try:
        ticks = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except (OSError, IndexError):
        return None
    return f"{boot}:{ticks}"


def owner_identity() -> tuple[int, str]:
    """``(pid, start)`` of this process, recorded on every resource it creates."""
    pid = os.getpid()
    return pid, process_start(pid) or ""


def owner_alive(pid: int, start: str | None = None) -> bool:
    """Whether the owner ``pid`` (started at ``start``, when recorded) still runs on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if start:
        now = process_start(pid)
        return now is None or now == start  # None: /proc unreadable, assume alive
    return True


_startup: dict[str, concurrent.futures.Future[list[str]]] = {}


def _forget_startup_after_fork() -> None:
    _startup.clear()


os.register_at_fork(after_in_child=_forget_startup_after_fork)


def reap_after_first_start(backend: str, run: Callable[[], Awaitable[list[str]]]) -> None:
    """Once per process and backend: run ``run()`` (that backend's reaper, limited to dead owners on
    this machine) as a background task of the running loop, bounded by :data:`STARTUP_REAP_TIMEOUT_S`.
    Never raises and never delays the caller."""
    if backend in _startup:
        return
    done: concurrent.futures.Future[list[str]] = concurrent.futures.Future()
    _startup[backend] = done

    async def bounded() -> None:
        try:
            done.set_result(await asyncio.wait_for(run(), STARTUP_REAP_TIMEOUT_S))
        except BaseException as exc:  # a failed reap reports nothing
            done.set_result([])
            if isinstance(exc, asyncio.CancelledError):
                raise

    task = asyncio.get_running_loop().create_task(bounded())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


_tasks: set[asyncio.Task[None]] = set()


async def startup_reap(backend: str) -> list[str] | None:
    """What the first-start reap of ``backend`` removed (waits for it); None when none ran."""
    fut = _startup.get(backend)
    if fut is None:
        return None
    removed: list[str] = await asyncio.wrap_future(fut)
    return removed


def _matches(meta_labels: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(meta_labels.get(k) == v for k, v in labels.items())


async def reap_local(labels: Mapping[str, str], older_than_s: float) -> list[str]:
    """Reaper of the local backend (control directories + cgroups of dead owners)."""
    return await asyncio.to_thread(_reap_local_sync, labels, older_than_s)


def _reap_local_sync(labels: Mapping[str, str], older_than_s: float) -> list[str]:
    from .local.launch import WARM_PREFIX
    from .local.limits import PREFIX, Limits, leaked_cgroups
    from .local.state import state_root

    removed: list[str] = []
    root = state_root()
    live_ids: set[str] = set()
    if root.is_dir():
        for ctl in root.iterdir():
            if ctl.is_symlink() or not ctl.is_dir():  # e.g. the execute-only bash of local/pid1.py
                continue
            try:
                meta = json.loads((ctl / "meta.json").read_text())
            except (OSError, ValueError):
                meta = None
            if meta is None:
                # a start that crashed before writing meta.json: judge by age only
                with contextlib.suppress(OSError):
                    if not labels and time.time() - ctl.stat().st_mtime > max(older_than_s, 60.0):
                        shutil.rmtree(ctl, ignore_errors=True)
                        removed.append(ctl.name)
                continue
            owner = int(meta.get("owner_pid", 0))
            if owner_alive(owner, meta.get("owner_start")) or not _matches(meta.get("labels", {}), labels):
                live_ids.add(ctl.name)
                continue
            if owner <= 0 and time.time() - float(meta.get("created", 0)) < older_than_s:
                live_ids.add(ctl.name)  # no owner recorded: judged by age only
                continue
            shutil.rmtree(ctl, ignore_errors=True)
            removed.append(ctl.name)
    for cg in leaked_cgroups():
        sandbox_id = cg.name[len(PREFIX) :]
        if sandbox_id in live_ids:
            continue
        leftover = Limits("cgroup-v1", [cg])
        if sandbox_id.startswith(WARM_PREFIX):
            # a parked launcher (no session, no labels): dead once empty; one just created gets time to join
            with contextlib.suppress(OSError):
                if leftover.pids() or time.time() - cg.stat().st_mtime < WARM_GRACE_S:
                    continue
        elif sandbox_id not in removed and (labels or leftover.pids()):
            # no control directory of ours: without labels to check, only an empty cgroup is surely dead
            continue
        leftover.destroy()
        if sandbox_id not in removed:
            removed.append(sandbox_id)
    return removed


register("local", reap_local)
