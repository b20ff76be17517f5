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
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from agentcore import tracing
from agentcore.errors import PathEscapeError, SandboxDied, SandboxError, UserError

from ._kill import KILL_GROUPS_SCRIPT, OrphanSource
from .shell import OutputCallback, ShellProcess, ShellResult, ShellSession

if TYPE_CHECKING:
    from agentcore.tools import Tool

    from .desktop import Desktop, DesktopConfig

__all__ = [
    "DEFAULT_SHELL_ENV",
    "ExecResult",
    "FileInfo",
    "FileKind",
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
    "resolve_path",
]

# --------------------------------------------------------------------------- errors (all SandboxError)


class SandboxFileNotFound(SandboxError):
    """The path does not exist inside the sandbox."""


class SandboxIsADirectory(SandboxError):
    """A file operation met a directory."""


class SandboxNotADirectory(SandboxError):
    """A directory operation met something else."""


class SandboxFileExists(SandboxError):
    """The path already exists (for example ``remove`` without ``recursive`` on a non-empty dir)."""


# --------------------------------------------------------------------------- configuration

DEFAULT_SHELL_ENV: Mapping[str, str] = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TERM": "dumb",
    "NO_COLOR": "1",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "MANPAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_EDITOR": "true",
    "EDITOR": "true",
    "VISUAL": "true",
    "DEBIAN_FRONTEND": "noninteractive",
    "PIP_NO_INPUT": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PYTHONUNBUFFERED": "1",
    # An agent edits files faster than mtime resolution: a same-size edit within one second would
    # otherwise run stale cached bytecode.
    "PYTHONDONTWRITEBYTECODE": "1",
    "CI": "1",
}
"""Non-interactive defaults every shell and exec starts with (the caller's ``env`` wins)."""

Lifetime = Literal["run", "session"]
Network = Literal["none", "open"]

_PLAIN_ENV = frozenset(
    {*DEFAULT_SHELL_ENV, "PATH", "HOME", "USER", "SHELL", "PWD", "TMPDIR", "TERM", "TZ", "LANG", "PYTHONPATH"}
)


def register_env_secrets(env: Mapping[str, str]) -> None:
    """Treat the values handed to a sandbox as secrets (``agentcore.tracing.add_secret``): those under a
    secret-looking name (``*KEY*``, ``*TOKEN*``…; 4+ characters) never reach a trace nor, with
    ``SecretRedactor``, the model; every other value of 8+ characters never reaches a trace. The
    well-known non-secret variables (``PATH``, ``HOME``, ``LANG``, ``LC_*``…) and bare paths are left."""
    for key, value in env.items():
        if key in _PLAIN_ENV or key.startswith("LC_"):
            continue
        if tracing._SECRET_NAME.search(key):
            tracing.add_secret(value)
        elif len(value) >= 8 and not value.startswith(("/", "~", ".")):
            tracing.add_secret(value, trace_only=True)


@dataclass(frozen=True)
class SandboxConfig:
    """Backend-neutral settings. Every default is the safe one.

    Sizes are MiB, times are seconds. A backend that cannot enforce a limit says so in its docstring.
    """

    image: str | None = None
    """Docker image / E2B template / Modal image. The local backend uses the host's ``/usr`` when None."""
    workdir: str = "/workspace"
    """Absolute sandbox path of the workspace; the file API is confined to it, shells start in it."""
    env: Mapping[str, str] = field(default_factory=dict)
    """The only variables the sandbox sees, on top of :data:`DEFAULT_SHELL_ENV`. Never the host's."""
    network: Network = "none"
    """``"none"``: loopback only. ``"open"``: outbound allowed (backend permitting)."""
    cpu: float = 1.0
    """CPU cores (quota)."""
    memory_mb: int = 1024
    """Memory for the sandbox's processes (exceeding it OOM-kills the offender); files come on top."""
    pids: int = 256
    """Maximum number of processes/threads (fork-bomb cap)."""
    disk_mb: int = 1024
    """Size of the writable workspace."""
    tmp_mb: int = 256
    """Size of ``/tmp``."""
    lifetime: Lifetime = "run"
    """``"run"``: the runner closes a sandbox it started when the run ends. ``"session"``: it lives
    until :meth:`Sandbox.close` (for example across the turns of a chat session)."""
    max_lifetime_s: float | None = 3600.0
    """Hard wall-clock TTL after start; the backend destroys the sandbox when it expires."""
    timeout_s: float = 120.0
    """Default timeout of one ``shell``/``exec`` command."""
    max_output_bytes: int = 64_000
    """Output kept per command (head and tail halves; the cut is marked)."""
    kill_grace_s: float = 2.0
    """After a timeout kill, how long to wait for the shell before restarting it."""
    user: str = "sandbox"
    """User name inside the sandbox (never root where the backend allows)."""
    uid: int = 1000
    """Numeric id of that user inside the sandbox."""
    read_only_root: bool = True
    """The root file system is read-only; only the workspace and ``/tmp`` are writable."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels/tags/metadata put on every resource (plus ``agentcore.sandbox`` and
    ``agentcore.session``). The janitor finds leaked resources by them."""
    session_id: str | None = None
    """Ties the resources to an agentcore session (``agentcore.session`` label)."""
    persist_shell_state: bool = True
    """Write cwd and exported env to a state file after every command so a restarted shell gets them
    back. Costs a fraction of a millisecond per command."""
    approve_tools: tuple[str, ...] = ()
    """Agent tools of this sandbox (``shell``, ``write_file``, ``edit_file``…) that pause the run for
    human approval before each call (see docs/control.md)."""
    desktop: DesktopConfig | None = None
    """A virtual display started with the sandbox (``sandbox.desktop``; docs/computer-use.md)."""

    def __post_init__(self) -> None:
        if not posixpath.isabs(self.workdir) or posixpath.normpath(self.workdir) in ("/", "//"):
            raise UserError(f"SandboxConfig.workdir must be an absolute path below /, got {self.workdir!r}")
        if self.network not in ("none", "open"):
            raise UserError(f"SandboxConfig.network must be 'none' or 'open', got {self.network!r}")
        if self.lifetime not in ("run", "session"):
            raise UserError(f"SandboxConfig.lifetime must be 'run' or 'session', got {self.lifetime!r}")
        for name in ("cpu", "memory_mb", "pids", "disk_mb", "tmp_mb", "timeout_s", "max_output_bytes"):
            if getattr(self, name) <= 0:
                raise UserError(f"SandboxConfig.{name} must be positive")
        if self.max_lifetime_s is not None and self.max_lifetime_s <= 0:
            raise UserError("SandboxConfig.max_lifetime_s must be positive or None")
        for key, value in self.env.items():
            if not key or "=" in key or "\0" in key or "\0" in value:
                raise UserError(f"invalid environment variable name or value: {key!r}")
        register_env_secrets(self.env)

    @property
    def memory_limit_mb(self) -> int:
        """The hard memory limit of the whole sandbox: ``memory_mb`` plus the tmpfs workspace and ``/tmp``,
        whose pages count against it too. A full workspace is then ENOSPC, never an OOM kill."""
        return self.memory_mb + self.disk_mb + self.tmp_mb

    def shell_env(self) -> dict[str, str]:
        """The environment shells and execs start with: safe defaults, HOME/USER, then ``env``."""
        env = dict(DEFAULT_SHELL_ENV)
        env["HOME"] = self.workdir
        env["USER"] = self.user
        env.update(self.env)
        return env


# --------------------------------------------------------------------------- results


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


FileKind = Literal["file", "dir", "symlink", "other"]


@dataclass(frozen=True)
class FileInfo:
    """One directory entry. ``path`` is the absolute sandbox path."""

    path: str
    name: str
    type: FileKind
    size: int
    mode: int
    """Permission bits (``0o644``)."""
    mtime: float
    symlink_target: str | None = None


def kind_of_mode(mode: int) -> FileKind:
    """Map ``st_mode`` to a :data:`FileKind`."""
    if stat_module.S_ISLNK(mode):
        return "symlink"
    if stat_module.S_ISDIR(mode):
        return "dir"
    if stat_module.S_ISREG(mode):
        return "file"
    return "other"


# --------------------------------------------------------------------------- paths


def resolve_path(workdir: str, path: str) -> str:
    """Normalize a sandbox path lexically and refuse anything outside ``workdir``.

    Relative paths resolve against ``workdir``; ``..`` is applied lexically and may not climb above it;
    absolute paths must lie inside it. Symlinks are NOT resolved here: the backend resolves them
    inside the sandbox, or host-side without following links.
    """
    if not isinstance(path, str) or "\0" in path:
        raise PathEscapeError(f"invalid path {path!r}")
    root = posixpath.normpath(workdir)
    joined = path if posixpath.isabs(path) else posixpath.join(root, path)
    parts: list[str] = []
    for part in joined.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise PathEscapeError(f"path {path!r} escapes the workspace {root}")
            parts.pop()
            continue
        parts.append(part)
    normal = "/" + "/".join(parts)
    if normal != root and not normal.startswith(root + "/"):
        raise PathEscapeError(f"path {path!r} is outside the workspace {root}")
    return normal


def relative_to_workdir(workdir: str, resolved: str) -> list[str]:
    """Components of a :func:`resolve_path` result below ``workdir`` (empty list = the workspace)."""
    root = posixpath.normpath(workdir)
    rest = resolved[len(root) :].strip("/")
    return [p for p in rest.split("/") if p]


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

    # ------------------------------------------------------------------ lifecycle

    @property
    def labels(self) -> dict[str, str]:
        """Labels for every resource: the config's plus ``agentcore.sandbox`` (id) and ``agentcore.session``."""
        labels = dict(self.config.labels)
        labels["agentcore.sandbox"] = self.id
        labels["agentcore.backend"] = self.backend
        if self.config.session_id:
            labels["agentcore.session"] = self.config.session_id
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
            if self.config.desktop is not None:
                from .desktop.desktop import start_desktop

                await start_desktop(self.desktop)
            ttl = self.config.max_lifetime_s
            if ttl is not None:
                loop = asyncio.get_running_loop()
                self._ttl_handle = loop.call_later(ttl, lambda: loop.create_task(self._expire()))

    @property
    def desktop(self) -> Desktop:
        """The virtual display of a sandbox whose config has ``desktop=DesktopConfig(...)`` (it starts
        with the sandbox)."""
        if self._desktop is None:
            if self.config.desktop is None:
                raise SandboxError(f"sandbox {self.id} has no desktop (SandboxConfig(desktop=DesktopConfig()))")
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


def _write_host_file(dest: Path, data: bytes, mode: int) -> None:
    """Write a downloaded file without following a symlink already sitting at ``dest``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(dest, flags, mode & 0o777 or 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)
