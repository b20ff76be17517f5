"""Docker backend: one hardened container per sandbox, driven with docker-py.

The container (SANDBOX.md §3, every option measured on this machine):

* ``network_mode="none"`` (loopback only) unless ``network="open"``; ``cap_drop=["ALL"]``,
  ``no-new-privileges``, Docker's default seccomp profile; ``pids_limit``, ``mem_limit`` =
  ``memswap_limit`` (no swap headroom), ``nano_cpus``; an init process (``init=True``) that reaps
  zombies.
* Read-only root file system; the workspace and ``/tmp`` are size-limited tmpfs mounts (the disk
  limit), the workspace owned by the sandbox user. ``/dev/shm`` is capped too. Their pages count
  against the memory limit, which is therefore ``memory_mb + disk_mb + tmp_mb`` + ``/dev/shm``: a full
  workspace is ENOSPC, processes keep ``memory_mb`` (issue 12 item 1). With
  ``read_only_root=False`` the container's own layer is writable and has no size limit (overlay2
  quotas need xfs with pquota).
* PID 1 is a watchdog (:mod:`.reap`), run as an unprivileged uid that differs from the sandbox user's,
  so ``kill -9 -1`` inside cannot take the container down: it reads the container's stdin, to which
  this process stays attached, and exits when that connection ends (this process died) or when
  ``max_lifetime_s`` ends; the container then stops and removes itself (``auto_remove``).
* Labels ``agentcore.sandbox``/``agentcore.backend``/``agentcore.session`` (+ the config's, + the
  owner's host, pid and start time) tie the container to its owner; :func:`reap_docker` (registered
  with the janitor, run in the background by a process's first start) removes leftovers by label, by id.

Commands run as the sandbox user with exactly the configured environment (``env -i``: nothing from
the image or the host). The persistent shell is a ``docker exec`` of bash whose hijacked socket is
driven by the event loop (see ``_docker_exec``). Files move inside the container too, because
``put_archive``/``get_archive`` neither see tmpfs mounts nor write to a read-only root: small
operations through a private shell session (``agentcore-files``, reserved), large writes and
directory transfers through one exec with ``cat``/``tar``. Kills and the process-limit probe run in
another private session, ``agentcore-control``, which is already running when a fork bomb stops every
``docker exec`` (:mod:`.control`).

docker-py is blocking: every call runs in a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import posixpath
import shlex
import stat as stat_module
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agentcore.errors import SandboxDied, SandboxError

from .. import janitor
from .._exec_files import EXIT_ERRORS, ExecFilesSandbox
from .._loop_sandbox import ExecCall
from .._remote_shell import MarkedStream, WrappedExec, new_token, shell_argv
from ..base import ExecResult, Sandbox, SandboxConfig, resolve_path
from ..shell import ShellProcess
from .control import PIDS_PROBE, ControlShell, at_limit
from .exec import STDERR, ExecProcess
from .reap import (
    attach_watchdog,
    close_watchdog,
    lifetime_entrypoint,
    owner_labels,
    reap_docker,
    watchdog_entrypoint,
)
from .tarball import tar_directory, untar_safely

DEFAULT_IMAGE = "python:3.12-slim"
"""Used when ``SandboxConfig.image`` is None: a Debian-based image with bash, coreutils and python3."""

SHM_MB = 16
"""Size of ``/dev/shm`` (a tmpfs: added to the memory limit like the workspace and ``/tmp``)."""

FILES_SESSION = "agentcore-files"
"""Name of the private shell session the file API uses (see ``DockerSandbox._run_files``)."""
SESSION_WRITE_LIMIT = 8192
"""Writes up to this size travel inside the command line of the file session; larger ones use an exec."""

_UNPACK_SCRIPT = r"""
set -u
root=$1 dest=$2
real=$(realpath -m -- "$dest") || exit 9
case "$real" in "$root" | "$root"/*) ;; *) echo "$dest is outside the workspace" >&2; exit 3 ;; esac
mkdir -p -- "$real" || exit 9
exec tar -x --no-same-owner --no-overwrite-dir -C "$real" -f -
"""

_PACK_SCRIPT = r"""
set -u
root=$1 src=$2
real=$(realpath -e -- "$src") || { echo "$src: no such directory" >&2; exit 4; }
case "$real" in "$root" | "$root"/*) ;; *) echo "$src is outside the workspace" >&2; exit 3 ;; esac
[ -d "$real" ] || { echo "$src is not a directory" >&2; exit 6; }
exec tar -c -C "$real" -f - .
"""


def _docker() -> Any:
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - docker is a core dependency
        raise SandboxError("the docker backend needs the 'docker' package (pip install docker)") from exc
    return docker


def _wrap_api_error(exc: Exception, what: str) -> SandboxError:
    docker = _docker()
    if isinstance(exc, docker.errors.NotFound):
        return SandboxDied(f"{what}: the container is gone ({exc})")
    if isinstance(exc, docker.errors.APIError) and exc.status_code == 409:
        return SandboxDied(f"{what}: the container is not running ({exc})")
    return SandboxError(f"{what}: {exc}")


class DockerShellProcess(ShellProcess):
    """The session shell: a ``docker exec`` of the wrapped bash (see ``_remote_shell``)."""

    def __init__(self, sandbox: DockerSandbox, proc: ExecProcess, token: str) -> None:
        self._sandbox = sandbox
        self._proc = proc
        self._marked = MarkedStream(token)
        self._done = False
        self._killed = False

    @property
    def pid(self) -> int | None:
        """The wrapper's pid inside the container, once its first line arrived."""
        return self._marked.pid

    async def write(self, data: bytes) -> None:
        if self._done:
            raise BrokenPipeError("the shell has exited")
        await self._proc.write(data)

    async def read(self) -> bytes:
        while not self._done:
            frame = await self._proc.read_frame()
            if frame is None:
                self._done = True
                return self._marked.flush()
            stream, payload = frame
            if stream == STDERR:
                continue
            out = self._marked.feed(payload)
            if self._marked.exited:
                self._done = True
            if out:
                return out
        return b""

    async def kill(self) -> None:
        if self._killed:
            return
        self._killed = True
        pid = self._marked.pid
        if pid is not None and pid > 0 and not self._sandbox.closed:
            with contextlib.suppress(Exception):
                await self._sandbox._kill_tree(pid)
        self._done = True
        self._proc.close()

    async def wait(self) -> int | None:
        if self._marked.exit_code is not None:
            return self._marked.exit_code
        try:
            return await self._proc.exit_code()
        except Exception:
            return None


class DockerSandbox(ExecFilesSandbox):
    """A sandbox in a hardened Docker container. See the module docstring for what is enforced.

    ``DockerSandbox(image="python:3.12-slim", memory_mb=512)`` or ``DockerSandbox(SandboxConfig(...))``.
    ``client`` is a ``docker.DockerClient`` (default: ``docker.from_env()``); ``runtime`` selects an
    OCI runtime such as ``"runsc"`` (gVisor) when the engine has one. A missing image is pulled.
    The image needs ``bash``, ``env`` and, for the file API, GNU coreutils/findutils and ``tar``
    (any Debian/Ubuntu-based image has them).
    """

    backend = "docker"

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        client: Any = None,
        runtime: str | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(config, **overrides)
        self._client: Any = client
        self._own_client = client is None
        self._runtime = runtime
        self.container_id: str | None = None
        self._watchdog: Any = None
        self._control = ControlShell(self)

    @property
    def image(self) -> str:
        return self.config.image or DEFAULT_IMAGE

    @property
    def _user(self) -> str:
        return f"{self.config.uid}:{self.config.uid}"

    # ------------------------------------------------------------------ lifecycle

    def _container_options(self) -> dict[str, Any]:
        cfg = self.config
        workdir = posixpath.normpath(cfg.workdir)
        init_uid = 65534 if cfg.uid != 65534 else 65533
        durable = self.durable_run is not None  # outlives this process: no stdin watchdog (see .reap)
        options: dict[str, Any] = {
            "entrypoint": (lifetime_entrypoint if durable else watchdog_entrypoint)(cfg.max_lifetime_s),
            "stdin_open": not durable,  # with detach=False, docker-py also sets StdinOnce (see .reap)
            "auto_remove": True,
            "user": f"{init_uid}:{init_uid}",
            "hostname": "sandbox",
            "working_dir": workdir,
            "network_mode": "none" if cfg.network == "none" else "bridge",
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "init": True,
            "pids_limit": cfg.pids,
            "mem_limit": f"{cfg.memory_limit_mb + SHM_MB}m",  # the tmpfs pages count too
            "memswap_limit": f"{cfg.memory_limit_mb + SHM_MB}m",
            "nano_cpus": int(cfg.cpu * 1e9),
            "shm_size": f"{SHM_MB}m",
            "read_only": cfg.read_only_root,
            "tmpfs": {
                "/tmp": f"rw,nosuid,nodev,size={cfg.tmp_mb}m,mode=1777",
                workdir: f"rw,nosuid,nodev,size={cfg.disk_mb}m,uid={cfg.uid},gid={cfg.uid},mode=0755",
            },
            "labels": {**self.labels, **owner_labels()},
            "environment": {},
        }
        if self._runtime:
            options["runtime"] = self._runtime
        return options

    async def _start(self) -> None:
        docker = _docker()

        def create() -> str:
            if self._client is None:
                try:  # negotiating the API version is the reachability check
                    self._client = docker.from_env()
                except Exception as exc:
                    raise SandboxError(f"the Docker engine is not reachable: {exc}") from exc
            api = self._client.api
            options = self._container_options()
            keys = ("entrypoint", "user", "hostname", "working_dir", "labels", "environment", "stdin_open")
            container = {k: options.pop(k) for k in keys}
            options.pop("detach", None)
            # low-level calls: create + start, without the high-level client's extra inspect
            host_config = api.create_host_config(**options)
            try:
                try:
                    created = api.create_container(self.image, host_config=host_config, **container)
                except docker.errors.ImageNotFound:
                    self._client.images.pull(self.image)
                    created = api.create_container(self.image, host_config=host_config, **container)
                try:
                    if self.durable_run is None:
                        self._watchdog = attach_watchdog(api, created["Id"])  # before start: no gap
                    api.start(created["Id"])
                except Exception:
                    with contextlib.suppress(Exception):
                        api.remove_container(created["Id"], force=True, v=True)
                    raise
            except docker.errors.APIError as exc:
                if isinstance(exc, docker.errors.ImageNotFound) or "/images/create" in str(exc):
                    raise SandboxError(
                        f"image {self.image!r} is not present and could not be pulled: {exc}"
                    ) from exc
                raise SandboxError(f"could not start a container from {self.image!r}: {exc}") from exc
            return str(created["Id"])

        self.container_id = await asyncio.to_thread(create)
        self._control.start_soon()
        client = self._client
        janitor.reap_after_first_start("docker", lambda: reap_docker({}, float("inf"), client=client))

    async def _close(self) -> None:
        await self._control.close()
        docker = _docker()
        cid, client = self.container_id, self._client

        def remove() -> None:
            if cid is not None:
                with contextlib.suppress(docker.errors.NotFound):
                    try:
                        client.api.remove_container(cid, force=True, v=True)
                    except docker.errors.APIError as exc:
                        if exc.status_code != 409:  # 409: removal already in progress (auto_remove)
                            raise
            close_watchdog(self._watchdog)
            self._watchdog = None
            if self._own_client:
                client.close()

        if client is not None:
            await asyncio.to_thread(remove)

    # ------------------------------------------------------------------ reattachment (durable runs)

    def handle(self) -> dict[str, Any]:
        """Adds the container id; reattachable when the container outlives this process
        (:meth:`~agentcore.sandboxes.base.Sandbox.outlive_owner` before the start)."""
        out = super().handle()
        out["container_id"] = self.container_id
        out["reattachable"] = self.durable_run is not None and self.container_id is not None
        return out

    async def _attach(self, handle: Mapping[str, Any]) -> bool:
        cid = handle.get("container_id")
        if not isinstance(cid, str) or not cid:
            return False
        docker = _docker()

        def inspect() -> Any:
            if self._client is None:
                self._client = docker.from_env()
            return self._client.api.inspect_container(cid)

        try:
            info = await asyncio.to_thread(inspect)
        except Exception:
            return False
        labels = (info.get("Config") or {}).get("Labels") or {}
        if not (info.get("State") or {}).get("Running"):
            return False
        if labels.get("agentcore.backend") != "docker" or labels.get("agentcore.sandbox") != self.id:
            return False
        self.container_id = str(info["Id"])
        self.durable_run = labels.get("agentcore.durable_run")
        return True

    async def _attached(self) -> None:
        """Stop what the previous owner's shells left running (every process of the sandbox user; PID 1
        runs as another uid), then open the control shell."""
        with contextlib.suppress(Exception):
            await self._exec(ExecCall(["bash", "-c", "kill -9 -1"], timeout=10.0))
        self._control.start_soon()

    @property
    def _api(self) -> Any:
        self._check_running()
        return self._client.api

    async def _check_alive(self) -> None:
        api, cid = self._api, self.container_id
        try:
            state = (await asyncio.to_thread(api.inspect_container, cid))["State"]
        except Exception as exc:
            raise _wrap_api_error(exc, f"sandbox {self.id}") from None
        if not state.get("Running"):
            why = "out of memory" if state.get("OOMKilled") else f"exit status {state.get('ExitCode')}"
            raise SandboxDied(f"sandbox {self.id}: the container stopped ({why})")

    # ------------------------------------------------------------------ shell

    async def _open_shell(self, env: Mapping[str, str], cwd: str) -> DockerShellProcess:
        token = new_token()
        try:
            proc = await ExecProcess.start(
                self._api, self.container_id or "", shell_argv(env, token), user=self._user, workdir=cwd
            )
        except Exception as exc:
            raise _wrap_api_error(exc, "starting the shell") from exc
        return DockerShellProcess(self, proc, token)

    # ------------------------------------------------------------------ kills, in the control shell

    async def _kill_process_groups(self, shell_pid: int, mode: str, keep: Sequence[int]) -> None:
        call = shlex.join(["__ac_kill_groups", str(shell_pid), mode, *map(str, keep)])
        if await self._control.run(call) is None:
            await self._exec_kill_groups(shell_pid, mode, keep)

    async def _exec_kill_groups(self, shell_pid: int, mode: str, keep: Sequence[int]) -> None:
        await Sandbox._kill_process_groups(self, shell_pid, mode, keep)

    async def _kill_tree(self, pid: int) -> None:
        if self._control.owns(pid) or await self._control.run(f"__ac_kill_tree {pid}") is None:
            await super()._kill_tree(pid)

    async def _at_process_limit(self) -> bool:
        out = await self._control.run(PIDS_PROBE)
        if out is None:
            with contextlib.suppress(Exception):
                out = (await self._exec(ExecCall(["bash", "-c", PIDS_PROBE], timeout=10.0))).text
        return at_limit(out or "")

    # ------------------------------------------------------------------ exec

    async def _exec(self, call: ExecCall) -> ExecResult:
        job = WrappedExec.prepare(self.config, call)
        stdin, cap = job.stdin, job.cap
        try:
            proc = await ExecProcess.start(
                self._api,
                self.container_id or "",
                job.argv,
                user=self._user,
                workdir=job.cwd,
                stdin=stdin is not None,
            )
        except SandboxError:
            raise
        except Exception as exc:
            raise _wrap_api_error(exc, job.what) from exc
        out, err = bytearray(), bytearray()
        truncated = False

        async def feed() -> None:
            if stdin is None:
                return
            with contextlib.suppress(OSError):
                await proc.write(stdin)
            proc.close_stdin()

        async def collect() -> None:
            nonlocal truncated
            while (frame := await proc.read_frame()) is not None:
                stream, payload = frame
                buf = err if stream == STDERR else out
                room = cap + (256 if stream == STDERR else 0) - len(buf)
                if len(payload) > room:
                    truncated = True
                    payload = payload[: max(0, room)]
                buf += payload

        writer = asyncio.create_task(feed())
        timed_out = False
        try:
            try:
                await asyncio.wait_for(collect(), timeout=job.limit)
            except TimeoutError:
                timed_out = True
                await self._kill_timed_out(job, bytes(err))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(collect(), timeout=2.0)
            exit_code = None if timed_out else await proc.exit_code()
        except SandboxError:
            raise
        except Exception as exc:
            raise _wrap_api_error(exc, job.what) from exc
        finally:
            writer.cancel()
            proc.close()
        return job.result(bytes(out), bytes(err), exit_code, timed_out=timed_out, truncated=truncated)

    # ------------------------------------------------------------------ file operations

    async def _run_files(self, argv: Sequence[str], stdin: bytes | None, timeout: float) -> ExecResult:  # noqa: ASYNC109
        """File operations go through a private persistent shell (``agentcore-files``) instead of one
        ``docker exec`` each: ~5 ms instead of ~70 ms, and a 1 MB read in ~30 ms. Output comes back
        base64-encoded (byte-exact), the script's stderr only on failure. Writes larger than
        :data:`SESSION_WRITE_LIMIT` use an exec (bash reads a command line byte by byte)."""
        if stdin is not None and len(stdin) > SESSION_WRITE_LIMIT:
            return await super()._run_files(argv, stdin, timeout)
        errfile = f"/tmp/.agentcore-files-{self.id}.err"
        feed = ""
        status = "${PIPESTATUS[0]}"
        if stdin is not None:
            feed = f"printf %s {base64.b64encode(stdin).decode()} | base64 -d | "
            status = "${PIPESTATUS[2]}"
        line = (
            f"( {feed}{shlex.join(argv)} 2>{errfile} | base64 -w0; rc={status}; "
            f'if [ "$rc" != 0 ]; then printf "\\n"; cat {errfile}; fi; rm -f {errfile}; exit "$rc" )'
        )
        result = await Sandbox.shell(
            self, line, session=FILES_SESSION, timeout=timeout, max_output_bytes=1 << 40
        )
        if result.timed_out or result.exit_code is None:
            # the helper shell died or hung: do this one the slow, independent way
            return await super()._run_files(argv, stdin, timeout)
        encoded, _, message = result.output.partition("\n")
        if result.exit_code != 0:
            return ExecResult(stdout=b"", stderr=message.encode(), exit_code=result.exit_code)
        try:
            data = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:
            return await super()._run_files(argv, stdin, timeout)
        return ExecResult(stdout=data, stderr=b"", exit_code=0)

    # ------------------------------------------------------------------ directories as tar streams

    async def _upload(self, local_path: str | os.PathLike[str], remote_path: str) -> None:
        """Copy a host file or directory into the sandbox (one tar stream for a directory).
        Host symlinks and special files are skipped."""
        src = Path(local_path)
        if not stat_module.S_ISDIR((await asyncio.to_thread(src.lstat)).st_mode):
            await super()._upload(src, remote_path)
            return
        target = resolve_path(self.config.workdir, remote_path)
        data = await asyncio.to_thread(tar_directory, src, self.config.uid)
        root = posixpath.normpath(self.config.workdir)
        result = await self._exec(
            ExecCall(["bash", "-c", _UNPACK_SCRIPT, "unpack", root, target], stdin=data)
        )
        _raise_for(result, f"upload to {remote_path!r}")

    async def _download(self, remote_path: str, local_path: str | os.PathLike[str]) -> None:
        """Copy a sandbox file or directory to the host. Only regular files and directories are
        written; symlinks, devices and names that would land outside ``local_path`` are skipped."""
        info = await self._stat(remote_path)
        if info is None or info.type != "dir":
            await super()._download(remote_path, local_path)
            return
        source = resolve_path(self.config.workdir, remote_path)
        root = posixpath.normpath(self.config.workdir)
        result = await self._exec(
            ExecCall(["bash", "-c", _PACK_SCRIPT, "pack", root, source], max_output_bytes=1 << 40)
        )
        _raise_for(result, f"download of {remote_path!r}")
        await asyncio.to_thread(untar_safely, result.stdout, Path(local_path))


def _raise_for(result: ExecResult, what: str) -> None:
    if result.ok:
        return
    message = result.stderr.decode("utf-8", errors="replace").strip()
    if result.timed_out:
        raise SandboxError(f"{what} timed out")
    raise EXIT_ERRORS.get(result.exit_code or 0, SandboxError)(
        f"{what} failed: {message or result.exit_code}"
    )


__all__ = ["DEFAULT_IMAGE", "DockerSandbox", "reap_docker"]
