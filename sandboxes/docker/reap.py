"""What keeps a crashed owner from leaking Docker containers (issue 12 item 4).

* **Watchdog.** The container's PID 1 (under ``docker-init``, as an unprivileged uid the sandbox user
  cannot signal) is ``cat`` reading the container's stdin, bounded by ``timeout <max_lifetime_s>``.
  The owner attaches to that stdin right after creating the container and keeps the connection for
  the sandbox's life (``StdinOnce``: the engine closes stdin when that one client goes). When the
  owner process dies, however it dies, the kernel closes its socket, ``cat`` reads EOF, PID 1 exits,
  the container stops and ``auto_remove`` deletes it.
* **Reaper.** :func:`reap_docker` (registered with the janitor; run in the background by the first
  start of a process and by ``agentcore sandboxes reap``) removes containers by label, by id, whose
  owner on this host is gone: the labels carry the owner's host, pid and start time, so a reused pid
  never passes for the owner.
* **Durable runs.** A durable run's container must survive its worker so that the run, recovered by
  another worker, reattaches to it: it has no stdin watchdog (PID 1 only bounds its lifetime,
  :func:`lifetime_entrypoint`) and carries ``agentcore.durable_run``. The reaper then asks
  :func:`~agentcore.sandboxes.janitor.held` (the durable workers register the check) instead of
  judging by the owner process.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Mapping
from typing import Any

from .. import janitor

__all__ = ["attach_watchdog", "owner_gone", "owner_labels", "reap_docker", "watchdog_entrypoint"]


def _docker() -> Any:
    import docker

    return docker


def watchdog_entrypoint(max_lifetime_s: float | None) -> list[str]:
    """PID 1's command: wait for EOF on stdin (the owner is gone), at most the sandbox's lifetime."""
    if max_lifetime_s is None:
        return ["cat"]
    return ["timeout", str(max(1, int(max_lifetime_s + 30))), "cat"]


def lifetime_entrypoint(max_lifetime_s: float | None) -> list[str]:
    """PID 1's command for a container that outlives its owner (a durable run's): only the lifetime."""
    if max_lifetime_s is None:
        return ["sleep", "infinity"]
    return ["sleep", str(max(1, int(max_lifetime_s + 30)))]


def owner_labels() -> dict[str, str]:
    """Labels naming this process as a container's owner."""
    pid, started = janitor.owner_identity()
    return {
        "agentcore.owner_host": socket.gethostname(),
        "agentcore.owner_pid": str(pid),
        "agentcore.owner_start": started,
    }


def attach_watchdog(api: Any, container_id: str) -> Any:
    """Attach to the created container's stdin (blocking; before start). Keep the returned socket
    open for as long as the container should live; closing it (or dying) stops the container."""
    return api.attach_socket(container_id, params={"stdin": 1, "stream": 1})


def close_watchdog(sock: Any) -> None:
    if sock is None:
        return
    with contextlib.suppress(Exception):
        inner = getattr(sock, "_sock", None)
        if inner is not None:
            inner.close()
        sock.close()


def owner_gone(labels: Mapping[str, str]) -> bool | None:
    """Whether the process that created a container is gone (None: cannot tell from here)."""
    host, pid = labels.get("agentcore.owner_host"), labels.get("agentcore.owner_pid")
    if host != socket.gethostname() or not (pid and pid.isdigit()):
        return None
    return not janitor.owner_alive(int(pid), labels.get("agentcore.owner_start"))


async def reap_docker(labels: Mapping[str, str], older_than_s: float, *, client: Any = None) -> list[str]:
    """Janitor: remove containers leaked by a crashed process, found by label (``agentcore.backend=docker``
    plus ``labels``) and removed by id. A container whose owner process is known (same host) is removed
    when that process is gone; otherwise when it is older than ``older_than_s``. A durable run's
    container (``agentcore.durable_run``) outlives its owner on purpose: it is removed only when
    :func:`janitor.held <agentcore.sandboxes.janitor.held>` says nothing needs it any more."""
    docker = _docker()
    cli = client or await asyncio.to_thread(docker.from_env)
    try:
        filters = [f"{k}={v}" for k, v in {"agentcore.backend": "docker", **labels}.items()]
        found = await asyncio.to_thread(cli.api.containers, all=True, filters={"label": filters})
        removed: list[str] = []
        now = time.time()
        for summary in found:
            tags = summary.get("Labels") or {}
            gone = owner_gone(tags)
            if gone is False:
                continue
            if tags.get("agentcore.durable_run"):
                if await janitor.held(tags) is not False:
                    continue  # its run (or a worker) still needs it, or nobody here can tell
            elif gone is None and now - float(summary.get("Created", now)) < older_than_s:
                continue
            if await asyncio.to_thread(_remove, cli, str(summary["Id"])):
                removed.append(str(summary["Id"]))
        return removed
    finally:
        if client is None:
            await asyncio.to_thread(cli.close)


def _remove(cli: Any, container_id: str) -> bool:
    docker = _docker()
    try:
        cli.api.remove_container(container_id, force=True, v=True)
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError as exc:
        if exc.status_code != 409:
            raise
    return True


janitor.register("docker", reap_docker)
