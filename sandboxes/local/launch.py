"""Launching bubblewrap for the local backend, and the warm launcher that keeps start() fast.

Every sandbox starts the same way: a tiny POSIX sh *launcher* applies the limits to itself (joins the
sandbox's cgroups, or sets rlimits), drops to the sandbox's host uid through ``setpriv`` when we are root,
and execs ``bwrap --args FD /bin/bash -c SUPERVISOR``. bwrap then blocks until it has read its options
(binds, environment, tmpfs sizes…) from the pipe ``FD``; :meth:`Launcher.start` writes them. Nothing of
the sandbox runs before the launcher has joined the cgroups, so every sandbox process is limited from its
first instruction.

Why a pipe instead of the command line: moving a process into a cgroup (writing ``cgroup.procs``) takes
the kernel's cgroup threadgroup lock for writing, which waits for an RCU grace period — measured here at
5 to 20 ms on an idle machine, more than bwrap's whole setup. Because the options come later, the launcher
can be spawned and placed in a fresh cgroup *before* anyone asks for a sandbox. After each start with
cgroups, one such warm launcher is parked per host user (one ``sh``/``bwrap`` process blocked on a pipe,
one empty-but-for-it cgroup); the next start() takes it, writes that sandbox's limits into its cgroups
(cheap), renames them after the sandbox and hands bwrap its options. The first start in a process pays
the grace period; ``await LocalSandbox.prewarm()`` moves even that off the critical path. ``LocalSandbox(prewarm=False)``
turns the mechanism off. A parked launcher dies with the process (its pipe closes, bwrap exits); the
janitor removes a cgroup left behind by a crash once it is empty.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import secrets
import shutil
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from agentcore.errors import SandboxError

from ..base import SandboxConfig
from .limits import Limits, create_limits

__all__ = ["LaunchSpec", "Launcher", "prewarm_key", "refill_soon", "spawn_launcher", "take_warm"]

HOST_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
WARM_PREFIX = "warm-"
"""Name of a parked launcher's cgroups (after ``agentcore-``) until a sandbox takes and renames them."""


@dataclass
class Launcher:
    """A launcher process whose bwrap waits for its options on ``args_fd``."""

    proc: asyncio.subprocess.Process
    limits: Limits
    args_fd: int
    pidfd: int = -1
    """Pins the launcher process (``discard`` signals it, not a pid that may have been reused)."""

    async def start(self, options: Sequence[str]) -> None:
        """Hand bwrap its options (NUL-separated; it starts once the pipe closes)."""
        if any("\0" in o for o in options):
            raise SandboxError("a sandbox option contains a NUL byte")
        data = b"".join(o.encode() + b"\0" for o in options)
        fd, self.args_fd = self.args_fd, -1
        try:
            if len(data) <= 60_000:  # fits in the pipe: never blocks
                _write_all(fd, data)
            else:
                await asyncio.to_thread(_write_all, fd, data)
        except OSError as exc:  # bwrap is gone (the launcher failed)
            raise SandboxError(f"bubblewrap failed to start: {exc}") from None
        finally:
            os.close(fd)
            if self.pidfd >= 0:  # it is a sandbox's process now: the sandbox owns its lifetime
                os.close(self.pidfd)
                self.pidfd = -1

    def discard(self) -> None:
        """Kill an unused launcher and remove its cgroups (blocking, short)."""
        if self.pidfd >= 0:  # never a bare pid: a reaped launcher's pid may belong to someone else now
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            os.close(self.pidfd)
            self.pidfd = -1
        if self.args_fd >= 0:  # after the kill: bwrap must not start with what it has read so far
            with contextlib.suppress(OSError):
                os.close(self.args_fd)
            self.args_fd = -1
        self.limits.destroy()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@dataclass(frozen=True)
class LaunchSpec:
    """How a launcher starts bwrap, minus the per-sandbox options (those come through the pipe)."""

    bwrap: str
    prefix: tuple[str, ...]
    """What runs between the launcher and bwrap (setpriv down to the host uid when we are root)."""
    isolation: tuple[str, ...]
    """bwrap options given on its command line, before ``--args``: the namespaces and the rest of the
    isolation, so that a parked bwrap woken with nothing (its owner crashed) is still fully isolated
    (and then finds no ``/bin/sh`` in its empty root and exits)."""
    command: tuple[str, ...]


async def spawn_launcher(spec: LaunchSpec, limits: Limits) -> Launcher:
    """Spawn a launcher that applies ``limits`` to itself, runs ``spec.prefix`` and execs
    ``bwrap ISOLATION --args FD COMMAND``."""
    read_fd, write_fd = os.pipe()
    # dash's ulimit has no -u: use bash when rlimits are the mechanism
    shell = (shutil.which("bash") or "/bin/bash") if limits.rlimits else "/bin/sh"
    script = limits.launcher_snippet() + '\nexec "$@"\n'
    argv = [shell, "-c", script, "agentcore-launcher", *spec.prefix, spec.bwrap, *spec.isolation]
    argv += ["--args", str(read_fd), *spec.command]
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={"PATH": HOST_PATH},
            pass_fds=(read_fd,),
        )
    except BaseException:
        os.close(write_fd)
        raise
    finally:
        os.close(read_fd)
    pidfd = -1
    with contextlib.suppress(OSError):  # blocked on the args pipe: it cannot have been reaped yet
        pidfd = os.pidfd_open(proc.pid)
    return Launcher(proc, limits, write_fd, pidfd)


# --------------------------------------------------------------------------- warm launchers

_parked: dict[LaunchSpec, Launcher] = {}
_refilling: set[LaunchSpec] = set()
_unavailable: set[LaunchSpec] = set()
_lock = threading.Lock()
_tasks: set[asyncio.Task[None]] = set()


def _forget_after_fork() -> None:
    """In a forked child: the parked launchers are the parent's (never take, signal or kill them)."""
    global _lock
    _lock = threading.Lock()
    for launcher in _parked.values():
        for fd in (launcher.args_fd, launcher.pidfd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
    _parked.clear()
    _refilling.clear()
    _tasks.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


def take_warm(key: LaunchSpec) -> Launcher | None:
    """The parked launcher for ``key``, if one is alive (the caller now owns it)."""
    with _lock:
        launcher = _parked.pop(key, None)
    if launcher is not None and launcher.proc.returncode is not None:
        launcher.discard()
        return None
    return launcher


def refill_soon(key: LaunchSpec) -> None:
    """Park a new launcher for ``key`` on the running loop, after the current start has finished."""
    with _lock:
        if key in _parked or key in _refilling or key in _unavailable:
            return
        _refilling.add(key)
    task = asyncio.get_running_loop().create_task(_refill(key))  # runs once the caller yields
    _tasks.add(task)  # the loop keeps only a weak reference
    task.add_done_callback(_tasks.discard)


async def _refill(key: LaunchSpec) -> None:
    try:
        await prewarm_key(key)
    finally:
        with _lock:
            _refilling.discard(key)


async def prewarm_key(key: LaunchSpec) -> bool:
    """Park a launcher for ``key`` unless one is parked; False when cgroups are unavailable."""
    with _lock:
        if key in _parked:
            return True
    limits = create_limits(WARM_PREFIX + secrets.token_hex(6), SandboxConfig())
    if not limits.dirs:
        with _lock:
            _unavailable.add(key)
        return False
    try:
        launcher = await spawn_launcher(key, limits)
    except BaseException:
        limits.destroy()
        raise
    with _lock:
        previous = _parked.pop(key, None)
        _parked[key] = launcher
    if previous is not None:
        previous.discard()
    return True


def _discard_all() -> None:
    with _lock:
        parked = list(_parked.values())
        _parked.clear()
    for launcher in parked:
        launcher.discard()


atexit.register(_discard_all)
