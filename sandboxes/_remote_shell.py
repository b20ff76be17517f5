"""Pieces shared by the remote backends (docker, e2b, modal) to host ``shell.py``'s persistent shell.

The session shell runs under a tiny ``/bin/sh`` wrapper that, with exactly the environment asked for
(``env -i``), first prints its own pid and, when bash ends, prints bash's exit status — both on
stdout, framed by a random per-shell token::

    <token> pid 42\\n            ...bash's stdout...            <token> exit 7\\n

Why: a remote transport cannot always tell that bash is gone. Background jobs inherit the stream and
keep it open (Docker keeps an exec's stream open while any holder lives; E2B/Modal stream until the
pipes close), but :class:`~agentcore.sandboxes.shell.ShellProcess` must report EOF when the *shell*
exits. The exit line travels on the same pipe as the shell's output, after it, so nothing is lost or
reordered. The pid lets :meth:`kill` take down the wrapper, bash and every job by process group.
The token is random per shell; a command that prints a forged exit line only restarts its own shell.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from agentcore.errors import SandboxError

from ._kill import KILL_TREE_FUNCTIONS
from ._loop_sandbox import ExecCall
from .base import ExecResult, SandboxConfig
from .shell import ShellProcess

_WRAPPER = (
    'printf "%s pid %d\\n" "$1" "$$"; bash --noprofile --norc; rc=$?; printf "%s exit %d\\n" "$1" "$rc"'
)
_EXEC_WRAPPER = 'printf "%s pid %d\\n" "$0" "$$" >&2; exec "$@"'


def kill_tree_argv(pid: int) -> list[str]:
    """argv that SIGKILLs ``pid`` and everything below it (frozen first, then killed by group)."""
    return ["bash", "-c", KILL_TREE_FUNCTIONS + '__ac_kill_tree "$1"', "kill-tree", str(pid)]


def env_argv(env: Mapping[str, str]) -> list[str]:
    """``env -i K=V ...``: start the next program with exactly ``env`` (nothing from the image or host)."""
    return ["env", "-i", *(f"{k}={v}" for k, v in env.items())]


def shell_argv(env: Mapping[str, str], token: str) -> list[str]:
    """argv of the wrapped session shell (see the module docstring)."""
    return [*env_argv(env), "/bin/sh", "-c", _WRAPPER, "agentcore-shell", token]


def exec_argv(env: Mapping[str, str], token: str, argv: Sequence[str]) -> list[str]:
    """argv of a one-shot command that first reports its pid on stderr (``<token> pid N``)."""
    return [*env_argv(env), "/bin/sh", "-c", _EXEC_WRAPPER, token, *argv]


def new_token() -> str:
    return "__agentcore_" + secrets.token_hex(8)


class MarkedStream:
    """Strips the wrapper's pid and exit lines from the shell's stdout.

    ``feed`` returns the bytes that belong to the shell's output; :attr:`pid` and :attr:`exit_code`
    are set once their lines went by. Bytes that could be the beginning of the exit line are held back
    until the next chunk decides (never otherwise: the shell protocol waits for its own trailer).
    """

    def __init__(self, token: str) -> None:
        self._token = token.encode()
        self._pid_prefix = self._token + b" pid "
        self._exit_prefix = self._token + b" exit "
        self._buf = bytearray()
        self.pid: int | None = None
        self.exit_code: int | None = None
        self.exited = False

    def feed(self, data: bytes) -> bytes:
        if self.exited:
            return b""
        self._buf += data
        if self.pid is None:
            newline = self._buf.find(b"\n")
            if newline < 0:
                return b""
            line = bytes(self._buf[:newline])
            if line.startswith(self._pid_prefix):
                with contextlib.suppress(ValueError):
                    self.pid = int(line[len(self._pid_prefix) :])
                del self._buf[: newline + 1]
            else:
                self.pid = -1  # no pid line: not our wrapper; pass everything through
        idx = self._buf.find(self._exit_prefix)
        if idx >= 0:
            end = self._buf.find(b"\n", idx + len(self._exit_prefix))
            if end < 0:
                out = bytes(self._buf[:idx])
                del self._buf[:idx]
                return out
            with contextlib.suppress(ValueError):
                self.exit_code = int(self._buf[idx + len(self._exit_prefix) : end])
            out = bytes(self._buf[:idx])
            self._buf.clear()
            self.exited = True
            return out
        hold = self._partial_suffix()
        out = bytes(self._buf[: len(self._buf) - hold])
        del self._buf[: len(self._buf) - hold]
        return out

    def _partial_suffix(self) -> int:
        """Length of the longest suffix of the buffer that is a proper prefix of the exit line.

        The token starts with ``_``, never with a newline, so the shell protocol's own lines (which
        end with ``\\n``) are never held back."""
        window = self._buf[-len(self._exit_prefix) :]
        first = self._exit_prefix[:1]
        start = 0
        while True:
            at = window.find(first, start)
            if at < 0:
                return 0
            if self._exit_prefix.startswith(bytes(window[at:])):
                return len(window) - at
            start = at + 1

    def flush(self) -> bytes:
        """Whatever is still held back (the stream ended without an exit line)."""
        out = bytes(self._buf)
        self._buf.clear()
        return out


def split_pid_line(token: str, stderr: bytes) -> tuple[int | None, bytes]:
    """Remove the ``<token> pid N`` line :func:`exec_argv` puts first on stderr."""
    prefix = token.encode() + b" pid "
    if stderr.startswith(prefix):
        line, _, rest = stderr.partition(b"\n")
        try:
            return int(line[len(prefix) :]), rest
        except ValueError:
            return None, rest
    return None, stderr


@dataclass(frozen=True)
class WrappedExec:
    """One :meth:`~agentcore.sandboxes.base.Sandbox.exec` call as a remote backend runs it: ``argv``
    is the caller's command under :func:`exec_argv` with the config's environment plus the caller's;
    ``cwd`` defaults to ``workdir``, ``limit`` (seconds) to ``timeout_s``, ``cap`` (bytes per stream)
    to ten times ``max_output_bytes``. Stderr is collected up to ``cap + 256`` (room for the pid line)."""

    argv: list[str]
    cwd: str
    stdin: bytes | None
    limit: float
    cap: int
    token: str
    what: str
    started: float

    @classmethod
    def prepare(cls, config: SandboxConfig, call: ExecCall) -> WrappedExec:
        if not call.argv:
            raise SandboxError("exec needs a non-empty argv")
        started = time.monotonic()
        env = config.shell_env()
        env.update(call.env or {})
        token = new_token()
        cap = 10 * config.max_output_bytes if call.max_output_bytes is None else call.max_output_bytes
        return cls(
            argv=exec_argv(env, token, call.argv),
            cwd=call.cwd or config.workdir,
            stdin=call.stdin,
            limit=config.timeout_s if call.timeout is None else call.timeout,
            cap=cap,
            token=token,
            what=f"exec {call.argv[0]!r}",
            started=started,
        )

    def pid(self, stderr: bytes) -> int | None:
        """The wrapper's pid inside the sandbox, once its line has arrived on stderr."""
        return split_pid_line(self.token, stderr)[0]

    def result(
        self, stdout: bytes, stderr: bytes, exit_code: int | None, *, timed_out: bool, truncated: bool
    ) -> ExecResult:
        """The :class:`ExecResult`: the pid line removed from ``stderr``, which is capped at ``cap``."""
        _, stderr = split_pid_line(self.token, stderr)
        return ExecResult(
            stdout=stdout,
            stderr=stderr[: self.cap],
            exit_code=exit_code,
            timed_out=timed_out,
            truncated=truncated or len(stderr) > self.cap,
            duration_s=time.monotonic() - self.started,
        )


class QueueShellProcess(ShellProcess):
    """A :class:`ShellProcess` fed by callbacks (E2B's ``on_stdout``, a Modal stdout iterator task).

    The backend calls :meth:`push` with stdout bytes and :meth:`push_eof` when its stream ended;
    ``writer`` delivers stdin, ``killer(pid)`` kills the wrapper's process tree inside the sandbox,
    ``closer`` releases the transport.
    """

    def __init__(
        self,
        token: str,
        *,
        writer: Callable[[bytes], Awaitable[None]],
        killer: Callable[[int | None], Awaitable[None]],
        closer: Callable[[], Awaitable[None]] | None = None,
        status: Callable[[], Awaitable[int | None]] | None = None,
    ) -> None:
        self.marked = MarkedStream(token)
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._writer = writer
        self._killer = killer
        self._closer = closer
        self._status = status
        self._eof = False
        self._killed = False
        self.tasks: list[asyncio.Task[None]] = []
        """Background tasks feeding this process (kept referenced; cancelled by :meth:`kill`)."""

    def push(self, data: bytes) -> None:
        if self._eof:
            return
        out = self.marked.feed(data)
        if out:
            self._queue.put_nowait(out)
        if self.marked.exited:
            self.push_eof()

    def push_eof(self) -> None:
        if self._eof:
            return
        rest = self.marked.flush()
        if rest:
            self._queue.put_nowait(rest)
        self._eof = True
        self._queue.put_nowait(b"")

    @property
    def pid(self) -> int | None:
        pid = self.marked.pid
        return pid if pid is not None and pid > 0 else None

    async def write(self, data: bytes) -> None:
        if self._eof or self._killed:
            raise BrokenPipeError("the shell has exited")
        await self._writer(data)

    async def read(self) -> bytes:
        if self._eof and self._queue.empty():
            return b""
        return await self._queue.get()

    async def kill(self) -> None:
        if self._killed:
            return
        self._killed = True
        with contextlib.suppress(Exception):
            await self._killer(self.pid)
        if self._closer is not None:
            with contextlib.suppress(Exception):
                await self._closer()
        for task in self.tasks:
            task.cancel()
        self.push_eof()

    async def wait(self) -> int | None:
        if self.marked.exit_code is not None:
            return self.marked.exit_code
        if self._status is not None:
            with contextlib.suppress(Exception):
                return await self._status()
        return 137 if self._killed else None
