"""The docker sandbox's control shell: already running when no new process can start (issue 12 item 7).

A fork bomb that holds the container's pids limit also stops ``docker exec``: neither the kill after a
timeout nor a new shell could start until the bomb's processes exit on their own (a bash bomb never
does). So each container gets one private persistent shell, ``agentcore-control``, opened in the
background right after the container starts. Kills and the process-limit probe run in it with bash
builtins only (``__ac_kill_groups``, ``__ac_kill_tree``, a ``read`` of ``pids.current``/``pids.max``):
nothing new has to start. ``kill -9 -1`` from there stops every process of the sandbox user but itself;
the watchdog (PID 1) runs as another uid and stays.

The control shell runs as the sandbox user: the agent can kill it (``kill -9 -1``); it is started again
on the next request, and meanwhile (or while it is busy or not up yet) the same script runs through an
exec, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._kill import KILL_TREE_FUNCTIONS, near_process_limit
from ..shell import ShellProcess, ShellSession

if TYPE_CHECKING:
    from .sandbox import DockerSandbox, DockerShellProcess

__all__ = ["CONTROL_SESSION", "PIDS_PROBE", "ControlShell", "at_limit"]

CONTROL_SESSION = "agentcore-control"
"""Name of the private control session (reserved, like ``agentcore-files``)."""

PIDS_PROBE = (
    "for d in /sys/fs/cgroup/pids /sys/fs/cgroup; do "
    '{ read -r c < "$d/pids.current" && read -r m < "$d/pids.max"; } 2>/dev/null && '
    '{ printf \'%s %s\\n\' "$c" "$m"; break; }; done'
)
"""Bash, builtins only: the container's ``pids.current`` and ``pids.max`` (cgroup v1, then v2)."""

_TIMEOUT_S = 10.0


def at_limit(probe_output: str) -> bool:
    """Whether :data:`PIDS_PROBE`'s output says the container is at its pids limit."""
    words = probe_output.split()
    if len(words) != 2 or not words[0].isdigit() or not words[1].isdigit():
        return False  # "max": no limit
    return near_process_limit(int(words[0]), int(words[1]))


class ControlShell:
    """The control session of one :class:`~.sandbox.DockerSandbox`."""

    def __init__(self, sandbox: DockerSandbox) -> None:
        self._sandbox = sandbox
        self._session: ShellSession | None = None
        self._opening: asyncio.Task[None] | None = None
        self._process: DockerShellProcess | None = None

    def start_soon(self) -> None:
        """Open the control shell in the background (right after the container started)."""
        sb = self._sandbox
        cfg = sb.config
        session = ShellSession(
            CONTROL_SESSION,
            open_process=self._open_process,
            kill_groups=sb._exec_kill_groups,  # never itself
            workdir=cfg.workdir,
            env=cfg.shell_env(),
            state_dir=sb._shell_state_dir(),
            grace_s=cfg.kill_grace_s,
            persist_state=False,
            state_key=sb.id,
            check_alive=sb._check_alive_unless_closed,
        )
        sb._sessions[CONTROL_SESSION] = session  # closed with the sandbox
        self._session = session
        self._opening = asyncio.get_running_loop().create_task(self._open(session))

    @staticmethod
    async def _open(session: ShellSession) -> None:
        with contextlib.suppress(Exception):
            await session.open()

    async def _open_process(self, env: Mapping[str, str], cwd: str) -> ShellProcess:
        self._process = await self._sandbox._open_shell(env, cwd)
        return self._process

    def owns(self, pid: int) -> bool:
        """Whether ``pid`` is the control shell's own wrapper (a kill of it must not run in it)."""
        return self._process is not None and self._process.pid == pid

    async def run(self, script: str) -> str | None:
        """Run a builtin-only ``script`` (the kill functions are defined first) in the control shell and
        return its output; None when the control shell is not available (not up, busy, or dead and
        not restartable): the caller then uses an exec."""
        session = self._session
        if session is None or self._sandbox.closed:
            return None
        if self._opening is not None and not self._opening.done():
            with contextlib.suppress(Exception, TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._opening), _TIMEOUT_S)
        if session.busy:  # or the caller is its own timeout or kill path
            return None
        try:
            result = await session.run(KILL_TREE_FUNCTIONS + script, timeout=_TIMEOUT_S)
        except Exception:
            return None
        if result.timed_out or result.exit_code is None:
            return None
        return result.output

    async def close(self) -> None:
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
            with contextlib.suppress(BaseException):
                await self._opening
