"""E2B backend: a Firecracker microVM per sandbox, through the ``e2b`` SDK (optional extra).

Install with ``pip install agentcore[e2b]`` and set ``E2B_API_KEY``. What is enforced (SANDBOX.md §1):

* **Network:** ``allow_internet_access=False`` unless ``network="open"`` (E2B's own default is open).
* **Lifetime:** the sandbox's E2B timeout is ``max_lifetime_s`` (E2B kills the VM when it expires,
  even if this process crashed); ``metadata`` carries the labels, so :func:`reap_e2b` can find leaks.
* **Limits:** CPU and memory are fixed by the template (E2B bills and enforces them per template);
  ``cpu``, ``memory_mb``, ``pids`` and ``disk_mb`` of the config are not applied here — the VM is the
  boundary. Commands run as the template's unprivileged user (``user``, E2B's default).
* **Environment:** commands start with exactly the config's environment (``env -i``); the VM gets
  nothing from the host.

The SDK has no persistent shell (each ``commands.run`` is a fresh ``bash -l -c``), so the session
shell is one background command with stdin (``background=True, stdin=True, timeout=0``) driven with
``send_stdin``; ``shell.py`` supplies the protocol. Command output reaches us as text (the SDK
decodes it, invalid UTF-8 becomes U+FFFD); file contents travel as bytes through ``files.read`` /
``files.write`` after the path was resolved and checked inside the VM.

Offline: with ``debug=True`` (or ``E2B_DEBUG=true``) the SDK skips E2B's control plane and talks to
an envd at ``sandbox_url`` (default ``http://localhost:49983``) — the test suite uses a local stand-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
from collections.abc import Mapping
from typing import Any

from agentcore.errors import SandboxDied, SandboxError

from .. import janitor
from .._exec_files import ExecFilesSandbox, optional_sdk
from .._loop_sandbox import ExecCall
from .._remote_shell import QueueShellProcess, WrappedExec, new_token, shell_argv
from ..base import ExecResult, SandboxConfig, SandboxFileNotFound, SandboxIsADirectory
from ..shell import ShellProcess

DEFAULT_TEMPLATE = "base"


def _e2b() -> Any:
    return optional_sdk("e2b")


def _wrap(exc: Exception, what: str) -> SandboxError:
    e2b = _e2b()
    if isinstance(exc, SandboxError):
        return exc
    if isinstance(exc, e2b.exceptions.SandboxNotFoundException | e2b.exceptions.SandboxNotRunningException):
        return SandboxDied(f"{what}: the E2B sandbox is gone ({exc})")
    if isinstance(exc, e2b.exceptions.FileNotFoundException):
        return SandboxFileNotFound(f"{what}: {exc}")
    return SandboxError(f"{what}: {exc}")


class _Capped:
    """Text chunks from the SDK, re-encoded to bytes and capped."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.buf = bytearray()
        self.truncated = False

    def add(self, text: str) -> None:
        data = text.encode("utf-8", errors="surrogateescape")
        room = self.cap - len(self.buf)
        if len(data) > room:
            self.truncated = True
            data = data[: max(0, room)]
        self.buf += data


class E2BSandbox(ExecFilesSandbox):
    """A sandbox in an E2B microVM.

    ``E2BSandbox(template="base")`` or ``E2BSandbox(SandboxConfig(image="my-template", ...))``.
    ``user`` is the VM user commands run as (E2B templates have ``user``; ``root`` is possible but not
    advised). ``shell_state_dir`` is where persistent shells keep their restart state (default ``/tmp``). ``api_key``, ``domain``, ``debug``, ``sandbox_url`` and ``request_timeout`` go to the SDK.
    The workspace directory is created at start and given to ``user``.
    """

    backend = "e2b"

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        template: str | None = None,
        user: str = "user",
        api_key: str | None = None,
        domain: str | None = None,
        debug: bool | None = None,
        sandbox_url: str | None = None,
        request_timeout: float | None = None,
        shell_state_dir: str = "/tmp",
        **overrides: Any,
    ) -> None:
        super().__init__(config, **overrides)
        self._state_dir = shell_state_dir
        self.template = template or self.config.image or DEFAULT_TEMPLATE
        self.user = user
        self._api: dict[str, Any] = {
            k: v
            for k, v in {
                "api_key": api_key,
                "domain": domain,
                "debug": debug,
                "sandbox_url": sandbox_url,
                "request_timeout": request_timeout,
            }.items()
            if v is not None
        }
        self._sb: Any = None
        self.sandbox_id: str | None = None

    # ------------------------------------------------------------------ lifecycle

    async def _start(self) -> None:
        e2b = _e2b()
        cfg = self.config
        timeout = None if cfg.max_lifetime_s is None else max(1, int(cfg.max_lifetime_s))
        try:
            self._sb = await e2b.AsyncSandbox.create(
                template=self.template,
                timeout=timeout,
                metadata={k: str(v) for k, v in self.labels.items()},
                allow_internet_access=cfg.network == "open",
                **self._api,
            )
        except Exception as exc:
            raise _wrap(exc, f"creating an E2B sandbox from template {self.template!r}") from exc
        self.sandbox_id = str(self._sb.sandbox_id)
        workdir = shlex.quote(cfg.workdir)
        prepared = await self._run_text(f"mkdir -p -- {workdir} && test -w {workdir}", timeout=60)
        if prepared.exit_code != 0:
            fix = f"mkdir -p -- {workdir} && chown {shlex.quote(self.user)} -- {workdir}"
            prepared = await self._run_text(fix, timeout=60, user="root")
            if prepared.exit_code != 0:
                await self._close()
                raise SandboxError(f"cannot prepare the workspace {cfg.workdir}: {prepared.stderr!r}")

    async def _close(self) -> None:
        sb, self._sb = self._sb, None
        if sb is not None:
            with contextlib.suppress(Exception):
                await sb.kill()

    # ------------------------------------------------------------------ reattachment (durable runs)

    def handle(self) -> dict[str, Any]:
        """Adds the E2B sandbox id: an E2B sandbox outlives this process (until its timeout), so another
        process can :meth:`attach` to it."""
        out = super().handle()
        out["e2b_id"] = self.sandbox_id
        out["reattachable"] = self.sandbox_id is not None
        return out

    async def _attach(self, handle: Mapping[str, Any]) -> bool:
        vm = handle.get("e2b_id")
        if not isinstance(vm, str) or not vm:
            return False
        try:
            sb = await _e2b().AsyncSandbox.connect(vm, **self._api)
            if not self._api.get("debug"):  # (debug mode talks to envd only: no metadata to check)
                info = await sb.get_info()
                if (getattr(info, "metadata", None) or {}).get("agentcore.sandbox") != self.id:
                    return False
        except Exception:
            return False
        self._sb, self.sandbox_id = sb, vm
        return True

    async def _attached(self) -> None:
        await self._end_stale_shells()

    @property
    def _sdk(self) -> Any:
        return self._live(self._sb)

    async def _run_text(self, cmd: str, *, timeout: float, user: str | None = None) -> ExecResult:  # noqa: ASYNC109
        """A plain ``commands.run`` (used before the sandbox counts as started)."""
        e2b = _e2b()
        try:
            result = await self._sb.commands.run(cmd, user=user or self.user, timeout=timeout)
            code, out, err = result.exit_code, result.stdout, result.stderr
        except e2b.CommandExitException as exc:
            code, out, err = exc.exit_code, exc.stdout, exc.stderr
        except Exception as exc:
            raise _wrap(exc, "preparing the sandbox") from exc
        return ExecResult(stdout=out.encode(), stderr=err.encode(), exit_code=code)

    # ------------------------------------------------------------------ shell

    def _shell_state_dir(self) -> str:
        return self._state_dir

    async def _open_shell(self, env: Mapping[str, str], cwd: str) -> ShellProcess:
        sdk = self._sdk
        token = new_token()
        handle: Any = None

        async def write(data: bytes) -> None:
            await handle.send_stdin(data)

        async def kill(pid: int | None) -> None:
            if pid is not None:
                with contextlib.suppress(Exception):
                    await self._kill_tree(pid)
            if handle is not None:
                with contextlib.suppress(Exception):
                    await handle.kill()

        async def status() -> int | None:
            code = handle.exit_code if handle is not None else None
            return None if code is None else int(code)

        proc = QueueShellProcess(token, writer=write, killer=kill, status=status)
        try:
            handle = await sdk.commands.run(
                shlex.join(shell_argv(env, token)),
                background=True,
                stdin=True,
                timeout=0,
                cwd=cwd,
                user=self.user,
                on_stdout=lambda text: proc.push(text.encode("utf-8", errors="surrogateescape")),
                on_stderr=lambda text: None,
                retain_output=False,
            )
        except Exception as exc:
            raise _wrap(exc, "starting the shell") from exc

        async def watch() -> None:
            with contextlib.suppress(BaseException):
                await handle.wait()
            proc.push_eof()

        proc.tasks.append(asyncio.get_running_loop().create_task(watch()))
        return proc

    # ------------------------------------------------------------------ exec

    async def _exec(self, call: ExecCall) -> ExecResult:
        job = WrappedExec.prepare(self.config, call)
        e2b = _e2b()
        sdk = self._sdk
        stdin = job.stdin
        out, err = _Capped(job.cap), _Capped(job.cap + 256)
        try:
            handle = await sdk.commands.run(
                shlex.join(job.argv),
                background=True,
                stdin=stdin is not None,
                timeout=int(job.limit) + 30,
                cwd=job.cwd,
                user=self.user,
                on_stdout=out.add,
                on_stderr=err.add,
                retain_output=False,
            )
        except Exception as exc:
            raise _wrap(exc, job.what) from exc

        async def run() -> int | None:
            if stdin is not None:
                if stdin:
                    await handle.send_stdin(stdin)
                await handle.close_stdin()
            try:
                result = await handle.wait()
                return int(result.exit_code)
            except e2b.CommandExitException as exc:
                return int(exc.exit_code)

        timed_out = False
        exit_code: int | None = None
        try:
            exit_code = await asyncio.wait_for(run(), timeout=job.limit)
        except TimeoutError:
            timed_out = True
            pid = job.pid(bytes(err.buf))
            with contextlib.suppress(Exception):
                await self._kill_tree(pid or int(handle.pid))
            with contextlib.suppress(Exception):
                await handle.kill()
        except Exception as exc:
            raise _wrap(exc, job.what) from exc
        truncated = out.truncated or err.truncated
        return job.result(bytes(out.buf), bytes(err.buf), exit_code, timed_out=timed_out, truncated=truncated)

    # ------------------------------------------------------------------ file contents as bytes

    async def _read_file(self, path: str, *, max_bytes: int | None = 10_000_000) -> bytes:
        real = await self.resolve_for_read(path, max_bytes=max_bytes)
        try:
            data = await self._sdk.files.read(real, format="bytes", user=self.user)
        except Exception as exc:
            raise _wrap(exc, f"read {path!r}") from exc
        return bytes(data)

    async def _write_file(
        self, path: str, data: bytes | str, *, mode: int = 0o644, make_parents: bool = True
    ) -> None:
        payload = data.encode() if isinstance(data, str) else bytes(data)
        real = await self.resolve_for_write(path, mode=mode, make_parents=make_parents)
        try:
            await self._sdk.files.write(real, payload, user=self.user)
        except Exception as exc:
            raise _wrap(exc, f"write {path!r}") from exc
        chmod = await self._exec(ExecCall(["chmod", f"{mode:o}", "--", real], timeout=30.0))
        if not chmod.ok:
            if b"Is a directory" in chmod.stderr:
                raise SandboxIsADirectory(f"{path} is a directory")
            raise SandboxError(f"chmod {path!r}: {chmod.stderr.decode(errors='replace').strip()}")


async def reap_e2b(labels: Mapping[str, str], older_than_s: float) -> list[str]:
    """Janitor: kill E2B sandboxes whose metadata carries ``agentcore.backend=e2b`` and ``labels``,
    started more than ``older_than_s`` ago (E2B cannot tell whether their owner is alive). Needs
    ``E2B_API_KEY``; without it there is nothing to reach and nothing is done."""
    if not os.environ.get("E2B_API_KEY"):
        return []
    e2b = _e2b()
    from datetime import UTC, datetime

    query = e2b.SandboxQuery(metadata={"agentcore.backend": "e2b", **labels})
    paginator = e2b.AsyncSandbox.list(query=query)
    removed: list[str] = []
    now = datetime.now(UTC)
    while paginator.has_next:
        for info in await paginator.next_items():
            started = getattr(info, "started_at", None)
            if started is not None and started.tzinfo is None:
                started = started.replace(tzinfo=UTC)
            if started is not None and (now - started).total_seconds() < older_than_s:
                continue
            metadata = dict(getattr(info, "metadata", None) or {})
            if metadata.get("agentcore.durable_run") and await janitor.held(metadata) is not False:
                continue  # a durable run (or a worker) still needs it, or nobody here can tell
            if await e2b.AsyncSandbox.kill(info.sandbox_id):
                removed.append(str(info.sandbox_id))
    return removed


janitor.register("e2b", reap_e2b)

__all__ = ["DEFAULT_TEMPLATE", "E2BSandbox", "reap_e2b"]
