"""The local backend: bubblewrap, no infrastructure, starts in milliseconds.

Security model (SANDBOX.md §5.3, where bwrap launched as root read the host's ``/etc/shadow`` and the
Docker socket):

* bwrap is launched as an **unprivileged host user**. When the host process is root, a dedicated uid
  (``host_uid``, default 60999, no groups, no capabilities, ``no_new_privs``) is used through
  ``setpriv``; otherwise the current user. Root is refused.
* ``--unshare-all`` (user, pid, net, ipc, uts, cgroup namespaces), ``--disable-userns``, ``--clearenv``
  (only :meth:`SandboxConfig.shell_env` is set), ``--die-with-parent``, ``--new-session``.
* Minimal read-only binds: ``/usr`` (and the host's ``/bin``, ``/lib*`` links), ``/etc/ld.so.cache``,
  ``/etc/alternatives``, a synthetic ``/etc/passwd``/``/etc/group``; nothing else of the host. The root
  is read-only; the workspace and ``/tmp`` are size-limited tmpfs (``disk_mb``, ``tmp_mb``) that vanish
  with the sandbox. ``workspace_dir=`` binds a host directory instead (it must belong to the sandbox's
  host uid; it is kept after close; ``disk_mb`` is then NOT enforced, and code on the host that later
  reads that directory must not follow symlinks the sandbox may have planted there).
* Limits: a cgroup (v1 or v2) with memory, pids and CPU quotas when the host lets us create one
  (root does); otherwise rlimits (``RLIMIT_AS``, ``RLIMIT_NPROC``), which are weaker — see
  :mod:`._local_limits`. ``limits_mechanism`` tells which is active.
* Files: host-side, through ``/proc/<pid>/root``, walked without following links and with the sandbox
  user's file credentials (:mod:`._local_fs`).

Inside, a small bash supervisor spawns the shells and execs on request, in the sandbox's namespaces,
talking to the host over FIFOs in a read-only control directory. It is the pid namespace's init
(``--as-pid-1``), so ``kill -9 -1`` (or any signal) from the agent cannot take it down; a shell killed
that way is reported as ended and the next command gets a fresh one (cwd and variables restored).
Its environment is the sandbox's own (``--clearenv``): nothing of the host shows in ``/proc/1/environ``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import posixpath
import secrets
import shlex
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agentcore.errors import SandboxDied, SandboxError, UserError

from .. import janitor
from .._kill import KILL_GROUPS_SCRIPT, ORPHANS_FILE, OrphanSource, near_process_limit
from .._loop import on_sandbox_loop
from .._loop_sandbox import ExecCall, LoopSandbox
from ..base import ExecResult, FileInfo, SandboxConfig, resolve_path
from ..shell import BoundedOutput, ShellProcess
from . import pid1
from .bwrap import ISOLATION, bwrap_options, host_prefix
from .fs import ConfinedFiles
from .io import LocalShell, Pipes
from .launch import LaunchSpec, prewarm_key, refill_soon, spawn_launcher, take_warm
from .limits import PREFIX, Limits, create_limits
from .state import state_root
from .supervisor import COMMAND, SUPERVISOR

__all__ = ["DEFAULT_HOST_UID", "SUPERVISOR", "LocalSandbox", "bwrap_path", "state_root"]

DEFAULT_HOST_UID = 60999
"""Host uid the sandbox runs as when agentcore runs as root (no passwd entry, owns nothing)."""


def _proc_state(pid: int | None) -> str:
    """A host process's state letter (``X`` when gone). /proc reads do not block."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if pid else "X"
    except (OSError, IndexError):
        return "X"


def bwrap_path() -> str | None:
    """The bubblewrap binary, or None when it is not installed."""
    return shutil.which("bwrap")


class LocalSandbox(LoopSandbox):
    """A bubblewrap sandbox on this machine. See the module docstring for the security model.

    ``LocalSandbox()`` uses :class:`SandboxConfig` defaults; keyword arguments override its fields.
    ``host_uid``/``host_gid`` choose the unprivileged host user when running as root.
    ``use_cgroups=False`` forces the rlimit fallback. ``prewarm=False`` turns off the warm launcher
    (see :mod:`._local_launch`): after a start with cgroups, one launcher is parked in a fresh cgroup so
    that the next start skips the kernel's cgroup-move wait.
    """

    backend = "local"

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        host_uid: int | None = None,
        host_gid: int | None = None,
        use_cgroups: bool = True,
        prewarm: bool = True,
        workspace_dir: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(config, **overrides)
        if self.config.image is not None:
            raise UserError("the local backend runs the host's /usr read-only; it takes no image")
        if os.geteuid() == 0:
            self.host_uid = DEFAULT_HOST_UID if host_uid is None else host_uid
            self.host_gid = self.host_uid if host_gid is None else host_gid
        else:
            if host_uid not in (None, os.getuid()):
                raise UserError("only root can run a local sandbox as another host user")
            self.host_uid, self.host_gid = os.getuid(), os.getgid()
        if self.host_uid == 0 or self.host_gid == 0:
            raise UserError("refusing to run bubblewrap as host root (it escapes, SANDBOX.md §5.3)")
        self._use_cgroups = use_cgroups
        self._prewarm = prewarm
        self.workspace_dir = Path(workspace_dir).resolve() if workspace_dir is not None else None
        self._ctl: Path | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._init_pid: int | None = None
        self._limits: Limits | None = None
        self._files: ConfinedFiles | None = None
        self._ids = itertools.count(1)
        self._waiters: dict[str, asyncio.Future[int]] = {}
        self._exit_handlers: dict[str, Pipes] = {}
        self._reader: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()
        self._death = ""
        self._pid1_children_fd = -1

    @property
    def limits_mechanism(self) -> str:
        """``cgroup-v1``, ``cgroup-v2`` or ``rlimit`` once started."""
        return self._limits.mechanism if self._limits else "none"

    # ------------------------------------------------------------------ lifecycle

    async def _start(self) -> None:
        spec = self._launch_spec()
        if spec is None:
            raise SandboxError("bubblewrap is not installed (apt-get install bubblewrap)")
        root = state_root()
        root.mkdir(mode=0o711 if os.geteuid() == 0 else 0o700, exist_ok=True)
        ctl = root / self.id
        ctl.mkdir(mode=0o711)
        self._ctl = ctl
        try:
            pid, started = janitor.owner_identity()  # first: a crash from here on is the janitor's
            meta = {"id": self.id, "owner_pid": pid, "owner_start": started, "labels": self.labels}
            (ctl / "meta.json").touch(mode=0o600)  # the control directory is visible inside: not this
            (ctl / "meta.json").write_text(json.dumps({**meta, "created": time.time()}))
            self._write_ctl_files(ctl)
            if self.workspace_dir is not None:
                self._prepare_workspace_dir(self.workspace_dir)
            self._proc = await self._launch(spec, ctl)
            assert self._proc.stdout is not None
            try:
                line = await asyncio.wait_for(self._proc.stdout.readline(), 30)
            except TimeoutError:
                line = b""
            if not line.startswith(b"ready "):
                err = b""
                if self._proc.stderr is not None:
                    with contextlib.suppress(Exception):
                        err = await asyncio.wait_for(self._proc.stderr.read(4000), 2)
                raise SandboxError(f"bubblewrap failed to start: {err.decode(errors='replace').strip()}")
            self._init_pid = self._find_init_pid(self._proc.pid)
            self._files = ConfinedFiles(self._root_pid, self.config.workdir, self.host_uid, self.host_gid)
            self._reader = asyncio.get_running_loop().create_task(self._read_notices())
        except BaseException:
            await self._close()
            raise
        janitor.reap_after_first_start("local", lambda: janitor.reap_local({}, 0.0))

    def _prepare_workspace_dir(self, path: Path) -> None:
        """Create a missing host workspace for the sandbox user; check an existing one is usable."""
        if not path.exists():
            path.mkdir(mode=0o700, parents=True)
            os.chown(path, self.host_uid, self.host_gid)
        elif not path.is_dir() or path.is_symlink():
            raise SandboxError(f"workspace_dir {path} is not a directory")
        info = path.stat()
        if info.st_uid != self.host_uid:
            raise SandboxError(
                f"workspace_dir {path} must belong to the sandbox's host user {self.host_uid} "
                f"(chown -R {self.host_uid}:{self.host_gid} {path})"
            )
        for parent in path.parents:
            mode = parent.stat().st_mode
            if parent.stat().st_uid != self.host_uid and not mode & 0o001:
                raise SandboxError(
                    f"workspace_dir {path}: the sandbox user cannot reach it ({parent} is not searchable by others)"
                )

    def _write_ctl_files(self, ctl: Path) -> None:
        cfg = self.config
        files = {
            "passwd": f"root:x:0:0::/root:/usr/sbin/nologin\n{cfg.user}:x:{cfg.uid}:{cfg.uid}::{cfg.workdir}:/bin/bash\n"
            "nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n",
            "group": f"root:x:0:\n{cfg.user}:x:{cfg.uid}:\nnogroup:x:65534:\n",
            "kill-groups.sh": KILL_GROUPS_SCRIPT,
            "nproc": f"{cfg.pids}\n",  # the supervisor's RLIMIT_NPROC for shells and execs
        }
        for name, text in files.items():
            (ctl / name).write_text(text)
            os.chmod(ctl / name, 0o644)

    @classmethod
    async def prewarm(cls, **kwargs: Any) -> bool:
        """Park a warm launcher now, so that even the first start of a ``LocalSandbox(**kwargs)`` in
        this process skips the kernel's cgroup-move wait (call it once at application start-up; it
        returns in about a millisecond). False when there is nothing to warm: no bubblewrap, no
        cgroups (rlimits need no warming) or ``prewarm=False``."""
        key = cls(**kwargs).launch_key()
        return key is not None and await on_sandbox_loop(prewarm_key(key))

    def launch_key(self) -> LaunchSpec | None:
        """What a warm launcher for this sandbox is built from; None when none applies."""
        spec = self._launch_spec()
        return self._warm_key(spec) if spec is not None else None

    def _warm_key(self, spec: LaunchSpec) -> LaunchSpec | None:
        return spec if self._use_cgroups and self._prewarm else None

    def _launch_spec(self) -> LaunchSpec | None:
        bwrap = bwrap_path()
        if bwrap is None:
            return None
        command = COMMAND if pid1.execute_only_bash(state_root()) is None else pid1.COMMAND
        return LaunchSpec(bwrap, tuple(self._host_prefix()), ISOLATION, command)

    async def _launch(self, spec: LaunchSpec, ctl: Path) -> asyncio.subprocess.Process:
        """Start bwrap through a launcher: a parked warm one when available, else a new one."""
        key = self._warm_key(spec)
        launcher = take_warm(key) if key is not None else None
        if launcher is not None:
            try:
                launcher.limits.apply(self.config)
                launcher.limits.rename(PREFIX + self.id)
            except OSError:
                await asyncio.to_thread(launcher.discard)
                launcher = None
        if launcher is None:
            limits = create_limits(self.id, self.config, use_cgroups=self._use_cgroups)
            self._limits = limits
            launcher = await spawn_launcher(spec, limits)
        self._limits, self._proc = launcher.limits, launcher.proc  # from here on, _close() cleans up
        await launcher.start(self._bwrap_options(ctl))
        if key is not None and self._limits.dirs:
            refill_soon(key)
        return launcher.proc

    def _host_prefix(self) -> list[str]:
        """What runs between the launcher and bwrap (:func:`.bwrap.host_prefix`)."""
        return host_prefix(self.host_uid, self.host_gid)

    def _bwrap_options(self, ctl: Path) -> list[str]:
        """bwrap's options (everything before the command), handed over through ``--args``."""
        return bwrap_options(self.config, ctl, self.workspace_dir)

    @staticmethod
    def _find_init_pid(outer: int) -> int:
        """Host pid of bwrap's pid-1 child (inside the sandbox's namespaces)."""
        for _ in range(200):
            with contextlib.suppress(OSError):
                children = Path(f"/proc/{outer}/task/{outer}/children").read_text().split()
                if children:
                    return int(children[0])
            time.sleep(0.001)
        raise SandboxError("could not find the sandbox's init process")

    def _running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def _root_pid(self) -> int:
        if self._init_pid is None or not self._running():
            raise SandboxDied(self._not_running())
        return self._init_pid

    async def _check_alive(self) -> None:
        if not self._running() or _proc_state(self._init_pid) in ("Z", "X"):
            if self._reader is not None and not self._death:  # let the notice reader say why
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(self._reader), 2)
            raise SandboxDied(self._not_running())

    def _not_running(self) -> str:
        return f"sandbox {self.id} is not running" + (f": it died ({self._death})" if self._death else "")

    def _end_pending(self, how: str) -> None:
        """End every running shell and exec, and fail every pending request: the sandbox ``how``."""
        for pipes in list(self._exit_handlers.values()):
            pipes.finish(None)
        self._exit_handlers.clear()
        for fut in self._waiters.values():
            if not fut.done():
                fut.set_exception(SandboxDied(f"sandbox {self.id} {how}"))

    async def _close(self) -> None:
        self._end_pending("closed")
        self._waiters.clear()
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
            self._reader = None
        if self._files is not None:
            self._files.shutdown()
        if self._pid1_children_fd >= 0:
            os.close(self._pid1_children_fd)
            self._pid1_children_fd = -1
        if self._limits is not None:
            await asyncio.to_thread(self._limits.destroy)
        if self._ctl is not None:
            await asyncio.to_thread(shutil.rmtree, self._ctl, True)
            self._ctl = None

    # ------------------------------------------------------------------ supervisor protocol

    async def _send(self, *words: str) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None or not self._running():
            raise SandboxDied(self._not_running())
        # one line per request; newlines inside words become "$NL" (POSIX sh has no $'...')
        data = " ".join(shlex.quote(w).replace("\n", "'\"$NL\"'") for w in words).encode() + b"\n"
        async with self._send_lock:
            try:
                proc.stdin.write(data)
                await proc.stdin.drain()
            except (BrokenPipeError, ConnectionResetError) as exc:
                raise SandboxDied(f"sandbox {self.id} died") from exc

    async def _request(
        self, op: str, wait_for: str, *words: str, ident: str | None = None
    ) -> tuple[str, int]:
        """Send a request and wait for the notice ``wait_for`` ('p' or 'k') about it."""
        ident = ident or self._new_ident(op)
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters[f"{wait_for} {ident}"] = fut
        try:
            await self._send(op, ident, *words)
            return ident, await asyncio.wait_for(fut, 30)
        except TimeoutError:
            raise SandboxDied(f"sandbox {self.id} does not answer") from None
        finally:
            self._waiters.pop(f"{wait_for} {ident}", None)

    async def _read_notices(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        while True:
            line = await stdout.readline()
            if not line:
                break
            kind, _, rest = line.decode(errors="replace").strip().partition(" ")
            ident, _, value = rest.partition(" ")
            code = int(value) if value.lstrip("-").isdigit() else 0
            if kind in ("d", "x"):
                pipes = self._exit_handlers.pop(ident, None)
                if pipes is not None:
                    pipes.finish(code)
            fut = self._waiters.get(f"{kind} {ident}")
            if fut is not None and not fut.done():
                fut.set_result(code)
        # the supervisor is gone: every shell and exec ends
        self._death = await self._diagnose_death()
        self._end_pending(f"died ({self._death})")

    async def _diagnose_death(self) -> str:
        """Why the sandbox ended: bwrap's exit status, the cgroup's OOM count, bwrap's last words."""
        proc = self._proc
        if proc is None:
            return "closed"
        with contextlib.suppress(Exception):
            await asyncio.wait_for(proc.wait(), 2)
        parts = [f"exit status {proc.returncode}"]
        if self._limits is not None and self._limits.memory_events().get("oom_kill"):
            parts.append(f"out of memory ({self.config.memory_mb} MiB)")
        if proc.stderr is not None:
            with contextlib.suppress(Exception):
                err = await asyncio.wait_for(proc.stderr.read(2000), 0.5)
                if err.strip():
                    parts.append(err.decode(errors="replace").strip())
        return ", ".join(parts)

    def _new_ident(self, op: str) -> str:
        """Request/FIFO names: unguessable, so one process cannot open another session's FIFOs."""
        return f"{op}{next(self._ids)}-{secrets.token_hex(6)}"

    def _fifo(self, name: str) -> int:
        assert self._ctl is not None
        path = self._ctl / name
        os.mkfifo(path, 0o600)
        os.chown(path, self.host_uid, self.host_gid)
        return os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)

    def _unlink(self, *names: str) -> None:
        if self._ctl is not None:
            for name in names:
                with contextlib.suppress(OSError):
                    (self._ctl / name).unlink()

    async def _kill_process_groups(self, shell_pid: int, mode: str, keep: Sequence[int]) -> None:
        await self._request("kg", "k", str(shell_pid), mode, *map(str, keep))

    def _orphan_source(self) -> OrphanSource:
        return self._pid1_children

    def _pid1_children(self) -> list[int] | None:
        """The children of the sandbox's pid 1, read host-side through a /proc file kept open (a
        ``pread`` costs about a microsecond, nothing inside the sandbox)."""
        if self._pid1_children_fd < 0:
            if self._init_pid is None or not self._running():
                return None
            try:
                path = f"/proc/{self._init_pid}/root{ORPHANS_FILE}"
                self._pid1_children_fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return None
        try:
            return [int(p) for p in os.pread(self._pid1_children_fd, 1 << 16, 0).split()]
        except (OSError, ValueError):
            return None

    async def _at_process_limit(self) -> bool:
        """The cgroup holds about ``pids`` tasks: the agent's processes are at their RLIMIT_NPROC (the
        cgroup's own limit is higher, see :data:`~.limits.PIDS_RESERVE`). Unknown with rlimits only."""
        current = self._limits.pids_current() if self._limits is not None else None
        return current is not None and near_process_limit(current, self.config.pids)

    # ------------------------------------------------------------------ shells

    async def _open_shell(self, env: Mapping[str, str], cwd: str) -> ShellProcess:
        self._check_running()
        ident = self._new_ident("sh")
        in_fd = self._fifo(f"{ident}.in")
        out_fd = self._fifo(f"{ident}.out")
        shell = LocalShell(self, ident, in_fd, out_fd)
        self._exit_handlers[ident] = shell.pipes
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters[f"p {ident}"] = fut
        try:
            await self._send("sh", ident, cwd, *(f"{k}={v}" for k, v in env.items()))
            shell.wrapper_pid = await asyncio.wait_for(fut, 30)
        except BaseException:
            shell.pipes.finish(None)
            raise
        finally:
            self._waiters.pop(f"p {ident}", None)
        return shell

    # ------------------------------------------------------------------ exec

    async def _exec(self, call: ExecCall) -> ExecResult:
        argv, cwd, env, stdin = call.argv, call.cwd, call.env, call.stdin
        self._check_running()
        if not argv:
            raise UserError("exec needs a non-empty argv")
        if any("\0" in a for a in argv):
            raise SandboxError("exec argument contains a NUL byte")
        started = time.monotonic()
        workdir = self.config.workdir
        run_cwd = cwd if cwd is not None and posixpath.isabs(cwd) else posixpath.join(workdir, cwd or ".")
        run_cwd = posixpath.normpath(run_cwd)
        pairs = [f"{k}={v}" for k, v in (env or {}).items()]
        for key in env or {}:
            if not key.replace("_", "a").isalnum() or key[0].isdigit() or "\0" in (env or {})[key]:
                raise UserError(f"invalid environment variable name {key!r}")
        limit = call.max_output_bytes or 10 * self.config.max_output_bytes
        ident = self._new_ident("ex")
        out_fd = self._fifo(f"{ident}.out")
        err_fd = self._fifo(f"{ident}.err")
        if stdin is not None:
            assert self._ctl is not None
            stdin_path = self._ctl / f"{ident}.stdin"
            fd = os.open(stdin_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(stdin)
            os.chown(stdin_path, self.host_uid, self.host_gid)
        pipes = Pipes(self, ident, {out_fd: BoundedOutput(limit), err_fd: BoundedOutput(limit)})
        self._exit_handlers[ident] = pipes
        deadline = self.config.timeout_s if call.timeout is None else call.timeout
        timed_out = False
        try:
            _, wrapper = await self._request("ex", "p", run_cwd, *pairs, "--", *argv, ident=ident)
            try:
                await asyncio.wait_for(asyncio.shield(pipes.done.wait()), max(0.0, deadline))
            except TimeoutError:
                timed_out = True
                with contextlib.suppress(Exception):
                    await self._kill_process_groups(wrapper, "fg", ())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(pipes.done.wait(), 5)
        finally:
            pipes.finish(pipes.status)
            self._exit_handlers.pop(ident, None)
            self._unlink(f"{ident}.stdin")
        out, err = pipes.outputs[out_fd], pipes.outputs[err_fd]
        return ExecResult(
            stdout=out.getvalue(),
            stderr=err.getvalue(),
            exit_code=pipes.status,
            timed_out=timed_out,
            truncated=out.truncated or err.truncated,
            duration_s=time.monotonic() - started,
        )

    # ------------------------------------------------------------------ files

    def _fs(self) -> ConfinedFiles:
        self._check_running()
        assert self._files is not None
        return self._files

    async def read_file(self, path: str, *, max_bytes: int | None = 10_000_000) -> bytes:
        return await self._fs().read(path, max_bytes)

    async def write_file(
        self, path: str, data: bytes | str, *, mode: int = 0o644, make_parents: bool = True
    ) -> None:
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        await self._fs().write(path, payload, mode, make_parents)

    async def list_dir(self, path: str = ".") -> list[FileInfo]:
        return await self._fs().list_dir(path)

    async def stat(self, path: str) -> FileInfo | None:
        return await self._fs().stat(path)

    async def remove(self, path: str, *, recursive: bool = False) -> None:
        await self._fs().remove(path, recursive)

    async def mkdir(self, path: str, *, parents: bool = True) -> None:
        resolve_path(self.config.workdir, path)
        await self._fs().mkdir(path, parents)
