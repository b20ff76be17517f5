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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping

__all__ = ["Reaper", "reap", "reap_local", "register", "registered"]

Reaper = Callable[[Mapping[str, str], float], Awaitable[list[str]]]
"""``reaper(labels, older_than_s) -> ids removed``. Must only touch resources carrying all ``labels``
whose owner is gone (or that are older than ``older_than_s`` when the backend cannot tell)."""

_reapers: dict[str, Reaper] = {}

WARM_GRACE_S = 30.0
"""An empty cgroup of a parked local launcher younger than this may be one still joining: kept."""


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


def _owner_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _matches(meta_labels: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(meta_labels.get(k) == v for k, v in labels.items())


async def reap_local(labels: Mapping[str, str], older_than_s: float) -> list[str]:
    """Reaper of the local backend (control directories + cgroups of dead owners)."""
    return await asyncio.to_thread(_reap_local_sync, labels, older_than_s)


def _reap_local_sync(labels: Mapping[str, str], older_than_s: float) -> list[str]:
    from .local.launch import WARM_PREFIX
    from .local.limits import PREFIX, Limits, leaked_cgroups
    from .local.sandbox import state_root

    removed: list[str] = []
    root = state_root()
    live_ids: set[str] = set()
    if root.is_dir():
        for ctl in root.iterdir():
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
            if _owner_alive(int(meta.get("owner_pid", 0))) or not _matches(meta.get("labels", {}), labels):
                live_ids.add(ctl.name)
                continue
            if time.time() - float(meta.get("created", 0)) < older_than_s:
                live_ids.add(ctl.name)
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
