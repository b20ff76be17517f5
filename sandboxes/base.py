"""The sandbox contract every backend implements (DESIGN.md decision 4).

A :class:`Sandbox` is an async context manager built from a backend-neutral :class:`SandboxConfig`
whose defaults are the safe ones: no network, CPU/memory/pids/disk limits, a wall-clock lifetime,
a non-root user, and only the environment the caller passes (never the host's).

What a backend writes (everything else is shared code):

* ``_start()`` / ``_close()``: create and destroy the isolated environment. ``_close`` must kill every
  process and remove every resource; the public :meth:`Sandbox.close` makes it idempotent.
* ``_open_shell(env, cwd)``: launch ``bash --noprofile --norc`` inside the sandbox with exactly ``env``
  and ``cwd`` and return a :class:`~agentcore.sandboxes.shell.ShellProcess` (a byte stream both ways).
  The persistent-shell protocol (framing, timeouts, restarts, output caps) lives in ``shell.py`` and is
  written once; backends only move bytes.
* ``exec(argv, ...)``: one-shot, stateless command; safe to call concurrently.
* Files: ``read_file``, ``write_file``, ``list_dir``, ``stat``, ``remove``, ``mkdir``. Paths are
  sandbox paths; relative ones resolve against ``config.workdir``. Use :func:`resolve_path` first: it
  refuses anything outside the workspace (``..``, absolute paths elsewhere, NUL) with
  :class:`~agentcore.errors.PathEscapeError`. Resolution of symlinks must happen *inside* the sandbox
  (or host-side without following links); a host-side ``open()`` that follows a link the sandbox
  planted is a host escape.
* Optional overrides: ``_kill_process_groups`` (default: runs :data:`~.shell.KILL_GROUPS_SCRIPT`
  through ``exec``, which works whenever ``exec`` shares the shell's PID namespace), ``upload`` /
  ``download`` (default: recursive walk over the file primitives; override with tar for speed).

Command failure, timeout and truncation are *fields of results*, never exceptions. Exceptions are the
typed errors of :mod:`agentcore.errors` (:class:`SandboxError` and subclasses).
"""

from __future__ import annotations

import asyncio
import os
import posixpath
import secrets
import stat as stat_module
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from agentcore.errors import PathEscapeError, SandboxDied, SandboxError, UserError

from ._kill import KILL_GROUPS_SCRIPT, OrphanSource
from .config import DEFAULT_SHELL_ENV, Lifetime, Network, SandboxConfig, register_env_secrets
from .files import (
    FileInfo,
    FileKind,
    SandboxFileExists,
    SandboxFileNotFound,
    SandboxIsADirectory,
    SandboxNotADirectory,
    _write_host_file,
    kind_of_mode,
    relative_to_workdir,
    resolve_path,
)
from .shell import OutputCallback, ShellProcess, ShellResult, ShellSession

if TYPE_CHECKING:
    from agentcore.tools import Tool

    from .desktop import Desktop

__all__ = [
    "DEFAULT_SHELL_ENV",
    "ExecResult",
    "FileInfo",
    "FileKind",
    "Lifetime",
    "Network",
    "OutputCallback",
    "PathEscapeError",
    "Sandbox",
    "SandboxConfig",
    "SandboxDied",
    "SandboxError",
    "SandboxFileExists",
    "SandboxFileNotFound",
    "SandboxIsADirectory",
    "SandboxNotADirectory",
    "ShellResult",
    "kind_of_mode",
    "register_env_secrets",
    "relative_to_workdir",
    "resolve_path",
]


@dataclass
class ExecResult:
    """The outcome of a one-shot :meth:`Sandbox.exec`."""

    stdout: bytes
    stderr: bytes
    exit_code: int | None
    timed_out: bool = False
    truncated: bool = False
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def text(self) -> str:
        """stdout decoded (``errors="replace"``)."""
        return self.stdout.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- the contract


class Sandbox(ABC):
    """An isolated place to run commands and keep files. Use it as ``async with``.

    The runner relies on: :attr:`started`, :meth:`start`, :meth:`close` (idempotent),
    ``config.lifetime`` and :meth:`tools`.
    """

    backend: str = "abstract"
    """Registry name of the backend (``local``, ``docker``, ...)."""

    def __init__(self, config: SandboxConfig | None = None, **overrides: Any) -> None:
        """``Sandbox(config)`` or ``Sandbox(memory_mb=512, network="none", ...)`` (fields of
        :class:`SandboxConfig`)."""
        if config is None:
            config = SandboxConfig(**overrides)
        elif overrides:
            from dataclasses import replace

            config = replace(config, **overrides)
        self.config: SandboxConfig = config
        self.id: str = "sbx-" + secrets.token_hex(6)
        self.started: bool = False
        self.closed: bool = False
        self._sessions: dict[str, ShellSession] = {}
        self._tools: list[Tool] | None = None
        self._start_lock = asyncio.Lock()
        self._ttl_handle: asyncio.TimerHandle | None = None
        self._desktop: Desktop | None = None
        self.durable_run: str | None = None
        """The durable run whose sandbox this is when it must outlive this process (:meth:`outlive_owner`)."""
        self.started_at: float | None = None
        self._reattached = False
        """Wall-clock time (``time.time()``) the sandbox started, in whichever process started it."""

    # ------------------------------------------------------------------ lifecycle

    @property
    def labels(self) -> dict[str, str]:
        """Labels for every resource: the config's plus ``agentcore.sandbox`` (id) and ``agentcore.session``."""
        labels = dict(self.config.labels)
        labels["agentcore.sandbox"] = self.id
        labels["agentcore.backend"] = self.backend
        if self.config.session_id:
            labels["agentcore.session"] = self.config.session_id
        if self.durable_run:
            labels["agentcore.durable_run"] = self.durable_run
        return labels

    async def start(self) -> None:
        """Create the sandbox. Idempotent; raises :class:`SandboxError` after :meth:`close`."""
        async with self._start_lock:
            if self.closed:
                raise SandboxError(f"sandbox {self.id} is closed")
            if self.started:
                return
            await self._start()
            self.started = True
            self.started_at = time.time()
            if self.config.desktop is not None:
                from .desktop.desktop import start_desktop

                await start_desktop(self.desktop)
            self._arm_ttl()

    def _arm_ttl(self) -> None:
        ttl = self.config.max_lifetime_s
        if ttl is not None:
            left = ttl - (time.time() - (self.started_at or time.time()))
            loop = asyncio.get_running_loop()
            self._ttl_handle = loop.call_later(max(0.0, left), lambda: loop.create_task(self._expire()))

    # ------------------------------------------------------------------ reattachment (durable runs)

    def outlive_owner(self, run_id: str) -> None:
        """Before :meth:`start`: keep this sandbox when this process dies, so that the durable run
        ``run_id``, recovered by another process, can :meth:`attach` to it. Its resources are labelled
        ``agentcore.durable_run``; the janitor leaves them while that run (or a live holder) needs them
        (:func:`~agentcore.sandboxes.janitor.held`); ``max_lifetime_s`` still ends them. A backend whose
        sandbox cannot outlive its process (local) only records the label."""
        if self.started:
            raise SandboxError(f"sandbox {self.id} is started: outlive_owner() must come before start()")
        self.durable_run = run_id

    def handle(self) -> dict[str, Any]:
        """What another process needs to reattach to this started sandbox (JSON): ``backend``,
        ``sandbox_id``, ``started_at``, ``reattachable`` and the backend's own fields (a container id…).
        ``reattachable`` is False when the backend cannot be reattached (its sandbox dies with this
        process) or :meth:`outlive_owner` was not called before the start."""
        return {
            "backend": self.backend,
            "sandbox_id": self.id,
            "started_at": self.started_at,
            "reattachable": False,
        }

    async def attach(self, handle: Mapping[str, Any]) -> bool:
        """Adopt the running sandbox that ``handle`` (:meth:`handle`, from another process) names instead
        of starting one: the same resources and files. Shells start afresh (cwd and exported variables
        come back from the state file); what the previous owner's shells were running is stopped. False,
        with nothing changed, when the sandbox is gone, this one is already started or closed, or the
        backend cannot reattach."""
        async with self._start_lock:
            if self.closed or self.started or not handle.get("reattachable"):
                return False
            if handle.get("backend") != self.backend or self.config.desktop is not None:
                return False
            own_id = self.id
            self.id = str(handle.get("sandbox_id") or own_id)
            if not await self._attach(handle):
                self.id = own_id
                return False
            self.started = self._reattached = True
            started_at = handle.get("started_at")
            self.started_at = float(started_at) if isinstance(started_at, int | float) else time.time()
            await self._attached()
            self._arm_ttl()
            return True

    async def _attach(self, handle: Mapping[str, Any]) -> bool:
        """Backend: find the sandbox ``handle`` names and take it over (True), or say it cannot (False)."""
        return False

    async def _attached(self) -> None:  # noqa: B027 (an optional hook)
        """Backend: after a successful :meth:`_attach`, with :attr:`started` set (commands work)."""

    @property
    def desktop(self) -> Desktop:
        """The virtual display of a sandbox whose config has ``desktop=DesktopConfig(...)`` (it starts
        with the sandbox)."""
        if self._desktop is None:
            if self.config.desktop is None:
                raise SandboxError(
                    f"sandbox {self.id} has no desktop (SandboxConfig(desktop=DesktopConfig()))"
                )
            from .desktop.desktop import Desktop

            self._desktop = Desktop(self, self.config.desktop)
        return self._desktop

    async def _expire(self) -> None:
        await self.close()

    async def close(self) -> None:
        """Kill every process and remove every resource. Safe to call twice, or before start."""
        if self.closed:
            return
        self.closed = True
        if self._ttl_handle is not None:
            self._ttl_handle.cancel()
            self._ttl_handle = None
        sessions = list(self._sessions.values())
        self._sessions.clear()
        for session in sessions:
            await session.close()
        if self._desktop is not None:
            await self._desktop.close()
        if self.started:
            await self._close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _check_running(self) -> None:
        if self.closed:
            raise SandboxDied(f"sandbox {self.id} is closed")
        if not self.started:
            raise SandboxError(f"sandbox {self.id} is not started; use 'async with' or await start()")

    @abstractmethod
    async def _start(self) -> None:
        """Backend: create the environment (workspace owned by the sandbox user, limits applied)."""

    @abstractmethod
    async def _close(self) -> None:
        """Backend: destroy everything. Called once, only after a successful start."""

    # ------------------------------------------------------------------ persistent shell

    async def shell(
        self,
        command: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        session: str = "default",
        on_output: OutputCallback | None = None,
        max_output_bytes: int | None = None,
    ) -> ShellResult:
        """Run ``command`` in the persistent shell ``session`` (created on first use).

        cwd, variables, functions and ``set`` options persist between calls; stdin is ``/dev/null``;
        one command at a time per session (calls queue), sessions run in parallel. ``timeout``
        (default ``config.timeout_s``) kills the command's process groups; see :class:`ShellResult`.
        """
        return await self._session(session).run(
            command,
            timeout=self.config.timeout_s if timeout is None else timeout,
            on_output=on_output,
            max_output_bytes=max_output_bytes or self.config.max_output_bytes,
        )

    async def open_shell(self, session: str = "default") -> None:
        """Start ``session``'s shell now (otherwise it starts with its first command). The runner does
        this for a sandbox it starts, while the first model call is in flight."""
        await self._session(session).open()

    async def interrupt(self, session: str = "default") -> None:
        """Kill the running command of ``session`` (its process groups), keeping the shell."""
        if session in self._sessions:
            await self._sessions[session].interrupt()

    async def reset_shell(self, session: str = "default") -> None:
        """Replace ``session``'s shell by a fresh one in ``workdir`` with the config's env."""
        old = self._sessions.pop(session, None)
        if old is not None:
            await old.close(forget_state=True)

    def _session(self, name: str) -> ShellSession:
        self._check_running()
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            raise UserError(f"shell session name {name!r} must be letters, digits, '-', '_' or '.'")
        existing = self._sessions.get(name)
        if existing is not None:
            return existing
        created = ShellSession(
            name,
            open_process=self._open_shell,
            kill_groups=self._kill_process_groups,
            workdir=self.config.workdir,
            env=self.config.shell_env(),
            state_dir=self._shell_state_dir(),
            grace_s=self.config.kill_grace_s,
            persist_state=self.config.persist_shell_state,
            state_key=self.id,
            check_alive=self._check_alive_unless_closed,
            orphans=self._orphan_source(),
            at_process_limit=self._at_process_limit,
            process_limit=self.config.pids,
            restore_state=self._reattached,
        )
        self._sessions[name] = created
        return created

    async def _check_alive_unless_closed(self) -> None:
        if not self.closed:  # closing (by the caller or the lifetime) is not dying
            await self._check_alive()

    async def _check_alive(self) -> None:  # noqa: B027 (an optional hook: backends that can tell override it)
        """Backend: raise :class:`SandboxDied` (saying why) when the whole sandbox is gone. Called when
        a shell ends on its own, to tell ``exit`` from the sandbox dying. Default: no check."""

    def _shell_state_dir(self) -> str:
        """Sandbox directory for shell state files (must be writable by the sandbox user)."""
        return "/tmp"

    def _orphan_source(self) -> OrphanSource:
        """Backend: where shells read pid 1's children, so that a timeout also kills what a command
        re-parented there (see :mod:`._kill`). Default None: only what is still below the shell."""
        return None

    async def _at_process_limit(self) -> bool:
        """Backend: whether the sandbox is at its process limit now, told without starting a process
        (then none can start). Default: False (cannot tell)."""
        return False

    @abstractmethod
    async def _open_shell(self, env: Mapping[str, str], cwd: str) -> ShellProcess:
        """Backend: start ``bash --noprofile --norc`` inside the sandbox as the sandbox user, with
        exactly ``env`` and working directory ``cwd``, stdin/stdout (stderr merged or discarded)
        connected to the returned stream. See :class:`~agentcore.sandboxes.shell.ShellProcess`."""

    async def _kill_process_groups(self, shell_pid: int, mode: str, keep: Sequence[int]) -> None:
        """Kill processes below the shell whose PID (inside the sandbox) is ``shell_pid``.

        ``mode="fg"``: the process groups of its children except those led by a pid in ``keep``
        (the background jobs that existed before the command). ``"new"``: also the trees re-parented to
        pid 1 since (``keep`` then holds pid 1's children from before). ``"all"``: every descendant and
        the shell itself. ``"every"``: all but pid 1 (``kill -9 -1``). The default runs
        :data:`~._kill.KILL_GROUPS_SCRIPT` (builtins only) through :meth:`exec`; override when ``exec``
        runs in another PID namespace than the shell, or cannot start at the process limit.
        """
        argv = ["bash", "-c", KILL_GROUPS_SCRIPT, "kill-groups", str(shell_pid), mode, *map(str, keep)]
        await self.exec(argv, timeout=10.0)

    # ------------------------------------------------------------------ one-shot execution

    @abstractmethod
    async def exec(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        max_output_bytes: int | None = None,
    ) -> ExecResult:
        """Run ``argv`` once (no shell state). ``cwd`` defaults to ``workdir``; ``env`` is added to
        :meth:`SandboxConfig.shell_env`; stdin is ``stdin`` or empty. A timeout kills the process
        group and returns ``timed_out=True``. stdout and stderr are each capped at
        ``max_output_bytes`` (default 10x ``config.max_output_bytes``). Safe to call concurrently."""

    # ------------------------------------------------------------------ files

    @abstractmethod
    async def read_file(self, path: str, *, max_bytes: int | None = 10_000_000) -> bytes:
        """Bytes of a regular file. Raises :class:`SandboxFileNotFound`, :class:`SandboxIsADirectory`,
        :class:`PathEscapeError`; :class:`SandboxError` when it is larger than ``max_bytes`` or not a
        regular file (FIFOs and devices are refused, never read)."""

    @abstractmethod
    async def write_file(
        self, path: str, data: bytes | str, *, mode: int = 0o644, make_parents: bool = True
    ) -> None:
        """Create or replace a file (owned by the sandbox user). ``str`` is written as UTF-8."""

    @abstractmethod
    async def list_dir(self, path: str = ".") -> list[FileInfo]:
        """Entries of a directory (not recursive, sorted by name; symlinks reported, not followed)."""

    @abstractmethod
    async def stat(self, path: str) -> FileInfo | None:
        """Information about ``path`` (a symlink is reported as a symlink), or None when absent."""

    @abstractmethod
    async def remove(self, path: str, *, recursive: bool = False) -> None:
        """Delete a file, symlink or (empty, unless ``recursive``) directory. Missing → SandboxFileNotFound."""

    @abstractmethod
    async def mkdir(self, path: str, *, parents: bool = True) -> None:
        """Create a directory (and its parents). Existing directory → no error."""

    async def upload(self, local_path: str | os.PathLike[str], remote_path: str) -> None:
        """Copy a host file or directory tree into the sandbox. Host symlinks are skipped."""
        src = Path(local_path)
        st = await asyncio.to_thread(src.lstat)
        if stat_module.S_ISREG(st.st_mode):
            data = await asyncio.to_thread(src.read_bytes)
            await self.write_file(remote_path, data, mode=st.st_mode & 0o777)
            return
        if not stat_module.S_ISDIR(st.st_mode):
            raise SandboxError(f"cannot upload {src}: not a regular file or directory")
        await self.mkdir(remote_path)
        for entry in sorted(await asyncio.to_thread(lambda: list(src.iterdir()))):
            mode = (await asyncio.to_thread(entry.lstat)).st_mode
            if stat_module.S_ISDIR(mode) or stat_module.S_ISREG(mode):
                await self.upload(entry, posixpath.join(remote_path, entry.name))

    async def download(self, remote_path: str, local_path: str | os.PathLike[str]) -> None:
        """Copy a sandbox file or directory tree to the host. Sandbox symlinks and special files are
        skipped (never followed); names are checked so nothing lands outside ``local_path``."""
        info = await self.stat(remote_path)
        if info is None:
            raise SandboxFileNotFound(f"{remote_path}: no such file or directory")
        dest = Path(local_path)
        if info.type == "file":
            data = await self.read_file(remote_path, max_bytes=None)
            await asyncio.to_thread(_write_host_file, dest, data, info.mode)
            return
        if info.type != "dir":
            raise SandboxError(f"cannot download {remote_path}: not a regular file or directory")
        await asyncio.to_thread(dest.mkdir, parents=True, exist_ok=True)
        for entry in await self.list_dir(remote_path):
            if entry.name in ("", ".", "..") or "/" in entry.name or "\0" in entry.name:
                continue
            if entry.type in ("file", "dir"):
                await self.download(entry.path, dest / entry.name)

    # ------------------------------------------------------------------ agent tools

    def tools(self) -> list[Tool]:
        """The agent tools bound to this sandbox: shell, read_file, write_file, edit_file, list_files
        (and ``computer`` when it has a desktop).
        Built once per sandbox (schemas take milliseconds; the runner asks every turn)."""
        if self._tools is None:
            from .tools import sandbox_tools

            self._tools = sandbox_tools(self)
            if self.config.desktop is not None:  # also before start: the runner asks while it starts
                self._tools.append(self.desktop.tool())
        return list(self._tools)
