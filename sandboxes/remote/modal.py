"""Modal backend: a gVisor container per sandbox, through the ``modal`` SDK (optional extra).

Install with ``pip install agentcore[modal]`` and authenticate (``modal token new`` or
``MODAL_TOKEN_ID``/``MODAL_TOKEN_SECRET``). What is enforced (SANDBOX.md §2):

* **Network:** ``block_network=True`` unless ``network="open"`` (Modal's own default is open).
* **Limits:** ``cpu=(cpu, cpu)`` and ``memory=(memory_mb, memory_mb)`` (request = hard limit, so
  exceeding memory OOM-kills); ``timeout=max_lifetime_s`` — Modal terminates the sandbox when it
  expires, even if this process crashed. ``pids`` and ``disk_mb`` are not configurable on Modal.
* **User:** Modal's ``exec`` has no user option. When the image's user is root and ``setpriv`` is
  available, every command drops to ``uid`` (no supplementary groups) and the workspace is given to
  it; otherwise commands run as the image's user. gVisor is the isolation boundary either way.
* **Environment:** commands start with exactly the config's environment (``env -i``); tags carry the
  labels, so :func:`reap_modal` can find leaked sandboxes.

The persistent shell is one ``sb.exec`` of bash with stdin (``text=False``) whose stdout we iterate;
``shell.py`` supplies the protocol. File contents travel through ``sb.filesystem`` (bytes) after the
path was resolved and checked inside the container; listing, stat, remove and mkdir run a small
script through ``exec``.

``sdk`` (default: the ``modal`` module) is the seam the tests use to plug a narrow stand-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agentcore.errors import SandboxDied, SandboxError

from .. import janitor
from .._exec_files import ExecFilesSandbox, optional_sdk
from .._loop_sandbox import ExecCall
from .._remote_shell import QueueShellProcess, WrappedExec, new_token, shell_argv
from ..base import ExecResult, SandboxConfig
from ..shell import ShellProcess

DEFAULT_APP = "agentcore-sandboxes"


def _modal() -> Any:
    return optional_sdk("modal")


class ModalSandbox(ExecFilesSandbox):
    """A sandbox in a Modal container.

    ``ModalSandbox(image="python:3.12-slim")`` (a registry image name) or pass a ``modal.Image`` as
    ``modal_image``; default ``modal.Image.debian_slim()``. ``app`` is a ``modal.App`` or the name of
    one to look up (created if missing). ``runtime``/``region``/``cloud``/``gpu`` go to Modal as-is.
    """

    backend = "modal"

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        app: Any = DEFAULT_APP,
        modal_image: Any = None,
        sdk: Any = None,
        shell_state_dir: str = "/tmp",
        create_options: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(config, **overrides)
        self._app = app
        self._image = modal_image
        self._sdk_module = sdk
        self._state_dir = shell_state_dir
        self._create_options = dict(create_options or {})
        self._sb: Any = None
        self._drop: list[str] = []
        self.object_id: str | None = None

    @property
    def modal(self) -> Any:
        if self._sdk_module is None:
            self._sdk_module = _modal()
        return self._sdk_module

    # ------------------------------------------------------------------ lifecycle

    async def _start(self) -> None:
        modal = self.modal
        cfg = self.config
        try:
            app = self._app
            if isinstance(app, str):
                app = await modal.App.lookup.aio(app, create_if_missing=True)
            image = self._image
            if image is None:
                image = modal.Image.from_registry(cfg.image) if cfg.image else modal.Image.debian_slim()
            self._sb = await modal.Sandbox.create.aio(
                app=app,
                image=image,
                block_network=cfg.network == "none",
                cpu=(cfg.cpu, cfg.cpu),
                memory=(cfg.memory_mb, cfg.memory_mb),
                timeout=None if cfg.max_lifetime_s is None else max(1, int(cfg.max_lifetime_s)),
                tags={
                    **{k: str(v) for k, v in self.labels.items()},
                    "agentcore.created": str(int(time.time())),
                },
                **self._create_options,
            )
        except SandboxError:
            raise
        except Exception as exc:
            raise SandboxError(f"could not create a Modal sandbox: {exc}") from exc
        self.object_id = str(self._sb.object_id)
        try:
            await self._prepare_workspace()
        except BaseException:
            await self._close()
            raise

    async def _prepare_workspace(self) -> None:
        cfg = self.config
        uid = cfg.uid
        probe = await self._run(
            [
                "sh",
                "-c",
                'id -u; command -v setpriv >/dev/null && echo setpriv; mkdir -p -- "$1"',
                "prep",
                cfg.workdir,
            ],
            None,
            60.0,
        )
        lines = probe.stdout.decode(errors="replace").split()
        if probe.exit_code != 0:
            raise SandboxError(f"cannot prepare the workspace {cfg.workdir}: {probe.stderr!r}")
        if lines[:1] == ["0"] and "setpriv" in lines and uid != 0:
            await self._run(["chown", f"{uid}:{uid}", "--", cfg.workdir], None, 60.0)
            self._drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]

    async def _close(self) -> None:
        sb, self._sb = self._sb, None
        if sb is not None:
            with contextlib.suppress(Exception):
                await sb.terminate.aio()

    # ------------------------------------------------------------------ reattachment (durable runs)

    def handle(self) -> dict[str, Any]:
        """Adds the Modal object id: a Modal sandbox outlives this process (until its timeout), so
        another process can :meth:`attach` to it."""
        out = super().handle()
        out["modal_id"] = self.object_id
        out["reattachable"] = self.object_id is not None
        return out

    async def _attach(self, handle: Mapping[str, Any]) -> bool:
        oid = handle.get("modal_id")
        if not isinstance(oid, str) or not oid:
            return False
        try:
            sb = await self.modal.Sandbox.from_id.aio(oid)
            if await sb.poll.aio() is not None:
                return False
            if (await sb.get_tags.aio()).get("agentcore.sandbox") != self.id:
                return False
        except Exception:
            return False
        self._sb, self.object_id = sb, oid
        try:
            await self._prepare_workspace()  # (idempotent) learns the uid switch the first start chose
        except Exception:
            self._sb = None
            return False
        return True

    async def _attached(self) -> None:
        await self._end_stale_shells()

    async def _check_alive(self) -> None:
        sb = self._sb
        if sb is None:
            return
        try:
            code = await sb.poll.aio()
        except Exception:  # cannot tell (network): let the caller's own error stand
            return
        if code is not None:
            raise SandboxDied(f"sandbox {self.id}: the Modal sandbox ended (exit code {code})")

    @property
    def _container(self) -> Any:
        return self._live(self._sb)

    def _shell_state_dir(self) -> str:
        return self._state_dir

    # ------------------------------------------------------------------ processes

    async def _spawn(self, argv: Sequence[str], cwd: str | None, timeout: float | None) -> Any:  # noqa: ASYNC109
        sb = self._sb
        if sb is None:
            raise SandboxDied(f"sandbox {self.id} is closed")
        try:
            return await sb.exec.aio(
                *argv,
                workdir=cwd,
                timeout=None if timeout is None else int(timeout) + 30,
                text=False,
            )
        except Exception as exc:
            raise SandboxError(f"exec {argv[0]!r} in the Modal sandbox failed: {exc}") from exc

    async def _run(self, argv: Sequence[str], stdin: bytes | None, timeout: float) -> ExecResult:  # noqa: ASYNC109
        """Run ``argv`` as the image's user (no privilege drop, no env reset); collect everything."""
        proc = await self._spawn(argv, None, timeout)
        if stdin is not None:
            proc.stdin.write(stdin)
        proc.stdin.write_eof()
        await proc.stdin.drain.aio()
        out, err = await asyncio.gather(_read_all(proc.stdout), _read_all(proc.stderr))
        code = await proc.wait.aio()
        return ExecResult(stdout=out, stderr=err, exit_code=code)

    async def _open_shell(self, env: Mapping[str, str], cwd: str) -> ShellProcess:
        self._check_running()
        token = new_token()
        proc_holder: list[Any] = []

        async def write(data: bytes) -> None:
            proc_holder[0].stdin.write(data)
            await proc_holder[0].stdin.drain.aio()

        async def kill(pid: int | None) -> None:
            if pid is not None:
                with contextlib.suppress(Exception):
                    await self._kill_tree(pid)

        async def status() -> int | None:
            code = await proc_holder[0].poll.aio()
            return None if code is None else int(code)

        shell = QueueShellProcess(token, writer=write, killer=kill, status=status)
        proc = await self._spawn([*self._drop, *shell_argv(env, token)], cwd, None)
        proc_holder.append(proc)

        async def pump() -> None:
            try:
                async for chunk in proc.stdout:
                    shell.push(bytes(chunk))
            finally:
                shell.push_eof()

        async def drain_stderr() -> None:
            async for _ in proc.stderr:
                pass

        loop = asyncio.get_running_loop()
        shell.tasks += [loop.create_task(pump()), loop.create_task(drain_stderr())]
        return shell

    async def _exec(self, call: ExecCall) -> ExecResult:
        job = WrappedExec.prepare(self.config, call)
        self._check_running()
        stdin, cap = job.stdin, job.cap
        proc = await self._spawn([*self._drop, *job.argv], job.cwd, job.limit)
        out, err = bytearray(), bytearray()
        truncated = False

        async def collect(stream: Any, buf: bytearray, room: int) -> None:
            nonlocal truncated
            async for chunk in stream:
                data = bytes(chunk)
                if len(buf) + len(data) > room:
                    truncated = True
                    data = data[: max(0, room - len(buf))]
                buf += data

        async def run() -> int | None:
            if stdin:
                proc.stdin.write(stdin)
            proc.stdin.write_eof()
            await proc.stdin.drain.aio()
            await asyncio.gather(collect(proc.stdout, out, cap), collect(proc.stderr, err, cap + 256))
            code = await proc.wait.aio()
            return None if code is None else int(code)

        timed_out = False
        exit_code: int | None = None
        try:
            exit_code = await asyncio.wait_for(run(), timeout=job.limit)
        except TimeoutError:
            timed_out = True
            await self._kill_timed_out(job, bytes(err))
        except SandboxError:
            raise
        except Exception as exc:
            raise SandboxError(f"{job.what} in the Modal sandbox failed: {exc}") from exc
        return job.result(bytes(out), bytes(err), exit_code, timed_out=timed_out, truncated=truncated)

    # ------------------------------------------------------------------ file contents as bytes

    async def _read_file(self, path: str, *, max_bytes: int | None = 10_000_000) -> bytes:
        real = await self.resolve_for_read(path, max_bytes=max_bytes)
        try:
            return bytes(await self._container.filesystem.read_bytes.aio(real))
        except Exception as exc:
            raise SandboxError(f"read {path!r}: {exc}") from exc

    async def _write_file(
        self, path: str, data: bytes | str, *, mode: int = 0o644, make_parents: bool = True
    ) -> None:
        payload = data.encode() if isinstance(data, str) else bytes(data)
        real = await self.resolve_for_write(path, mode=mode, make_parents=make_parents)
        try:
            await self._container.filesystem.write_bytes.aio(payload, real)
        except Exception as exc:
            raise SandboxError(f"write {path!r}: {exc}") from exc
        uid = self.config.uid
        script = 'chmod "$1" -- "$3" && { [ -z "$2" ] || chown "$2" -- "$3"; }'
        owner = f"{uid}:{uid}" if self._drop else ""
        fix = await self._run(["sh", "-c", script, "fix", f"{mode:o}", owner, real], None, 60.0)
        if fix.exit_code != 0:
            raise SandboxError(f"write {path!r}: {fix.stderr.decode(errors='replace').strip()}")


async def _read_all(stream: Any) -> bytes:
    buf = bytearray()
    async for chunk in stream:
        buf += bytes(chunk)
    return bytes(buf)


def _has_credentials() -> bool:
    if os.environ.get("MODAL_TOKEN_ID") and os.environ.get("MODAL_TOKEN_SECRET"):
        return True
    return (Path.home() / ".modal.toml").exists()


async def reap_modal(labels: Mapping[str, str], older_than_s: float) -> list[str]:
    """Janitor: terminate Modal sandboxes tagged ``agentcore.backend=modal`` plus ``labels``. Modal
    cannot tell whether their owner is alive, and their lifetime is bounded by ``timeout`` anyway, so
    only ``older_than_s`` filters (by the ``agentcore.created`` tag when present). Needs credentials."""
    if not _has_credentials():
        return []
    modal = _modal()
    removed: list[str] = []
    async for sb in modal.Sandbox.list.aio(tags={"agentcore.backend": "modal", **labels}):
        tags = await sb.get_tags.aio()
        if tags.get("agentcore.durable_run") and await janitor.held(tags) is not False:
            continue  # a durable run (or a worker) still needs it, or nobody here can tell
        if older_than_s:
            created = float(tags.get("agentcore.created", "0") or 0)
            if created and time.time() - created < older_than_s:
                continue
        with contextlib.suppress(Exception):
            await sb.terminate.aio()
            removed.append(str(sb.object_id))
    return removed


janitor.register("modal", reap_modal)

__all__ = ["DEFAULT_APP", "ModalSandbox", "reap_modal"]
