"""A local stand-in for E2B's in-sandbox daemon (envd), so the real ``e2b`` SDK can be tested offline.

In an E2B sandbox, envd (a Go daemon, port 49983) starts processes and serves files; the SDK talks to
it with connect-rpc (``/process.Process/*``) and plain HTTP (``/files``, ``/health``). With
``debug=True`` the SDK skips E2B's control plane entirely, and ``sandbox_url=`` points it at this
server on 127.0.0.1. The connect-rpc plumbing is the server half that ships inside the ``e2b`` wheel
(``ProcessASGIApplication``); only the behaviour is ours, modelled on envd's source:

* ``Start`` runs ``cmd args`` with the request's env on top of PATH/HOME/USER/LOGNAME, streams
  stdout/stderr as data events and ends with an end event carrying the exit code; ``stdin=False``
  gives the process ``/dev/null``; the request's ``Connect-Timeout-Ms`` kills the process (SIGKILL
  to that one pid, as envd does) when it expires; a client that goes away does not kill it.
* ``SendInput``/``CloseStdin``/``SendSignal``/``List`` act on the running processes by pid.
* ``GET /files?path=`` returns the bytes, ``POST /files?path=`` (octet-stream) writes them, creating
  parent directories; relative paths resolve against the user's home.

Processes run on this machine, in ``home`` by default. When the tests run as root, each FakeEnvd
gets its own PID and mount namespace (``unshare``; processes enter it with ``nsenter``) and its
processes run as the unprivileged ``nobody`` user, so a /proc walk or ``kill -9 -1`` stays inside
the fake "VM", as it would in E2B. This is not a security boundary: the stand-in exists to check that
the adapter drives the SDK correctly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from e2b.envd.process import process_pb
from e2b.envd.process.process_connect import Process, ProcessASGIApplication
from protobuf import Oneof

from .fake_vm import FakeVM

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class StartedProcess:
    cmd: str
    args: list[str]
    stdin: bool
    timeout_ms: float | None


class _Proc:
    def __init__(self, proc: asyncio.subprocess.Process, config: process_pb.ProcessConfig) -> None:
        self.proc = proc
        self.config = config


class FakeProcessService(Process):
    """The ``process.Process`` service, backed by local subprocesses (unlisted methods: UNIMPLEMENTED)."""

    def __init__(self, home: Path, vm: FakeVM) -> None:
        self.home = home
        self.vm = vm
        self.procs: dict[int, _Proc] = {}
        self.started: list[StartedProcess] = []
        """Every Start request, in order (what the adapter asked envd for)."""

    def _event(self, **kw: Any) -> process_pb.StartResponse:
        ((name, value),) = kw.items()
        return process_pb.StartResponse(event=process_pb.ProcessEvent(event=Oneof(name, value)))

    async def start(
        self, request: process_pb.StartRequest, ctx: RequestContext[Any, Any]
    ) -> AsyncIterator[process_pb.StartResponse]:
        config = request.process
        assert config is not None
        self.started.append(
            StartedProcess(config.cmd, list(config.args), bool(request.stdin), ctx.timeout_ms)
        )
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(self.home),
            "USER": "user",
            "LOGNAME": "user",
            **dict(config.envs),
        }
        cwd = config.cwd or str(self.home)
        if not os.path.isabs(cwd):
            cwd = str(self.home / cwd)
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.vm.argv(cwd),
                config.cmd,
                *config.args,
                cwd=cwd,
                env=env,
                stdin=asyncio.subprocess.PIPE if request.stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise ConnectError(Code.INVALID_ARGUMENT, f"error starting process: {exc}") from exc
        self.procs[proc.pid] = _Proc(proc, config)
        timeout_ms = ctx.timeout_ms
        killer = None
        if timeout_ms:
            loop = asyncio.get_running_loop()
            killer = loop.call_later(timeout_ms / 1000, _kill_quietly, proc, signal.SIGKILL)
        queue: asyncio.Queue[tuple[str, bytes] | None] = asyncio.Queue()

        async def pump(name: str, stream: asyncio.StreamReader | None) -> None:
            assert stream is not None
            while chunk := await stream.read(32 * 1024):
                await queue.put((name, chunk))
            await queue.put(None)

        pumps = [
            asyncio.create_task(pump("stdout", proc.stdout)),
            asyncio.create_task(pump("stderr", proc.stderr)),
        ]
        try:
            yield self._event(start=process_pb.ProcessEvent.StartEvent(pid=proc.pid))
            open_streams = 2
            while open_streams:
                item = await queue.get()
                if item is None:
                    open_streams -= 1
                    continue
                yield self._event(data=process_pb.ProcessEvent.DataEvent(output=Oneof(item[0], item[1])))
            code = await proc.wait()
            status = f"exit status {code}" if code >= 0 else f"signal: {signal.Signals(-code).name}"
            yield self._event(
                end=process_pb.ProcessEvent.EndEvent(
                    exit_code=code if code >= 0 else -1, exited=code >= 0, status=status
                )
            )
        finally:
            # A client that disconnects does not kill the process (envd behaves the same).
            for task in pumps:
                task.cancel()
            if killer is not None and proc.returncode is not None:
                killer.cancel()
            if proc.returncode is not None:
                self.procs.pop(proc.pid, None)

    def _lookup(self, selector: process_pb.ProcessSelector | None) -> _Proc:
        if selector is None or selector.selector is None or selector.selector.field != "pid":
            raise ConnectError(Code.INVALID_ARGUMENT, "process selector must be a pid")
        pid = int(selector.selector.value)
        found = self.procs.get(pid)
        if found is None or found.proc.returncode is not None:
            raise ConnectError(Code.NOT_FOUND, f"process with pid {pid} not found")
        return found

    async def send_input(
        self, request: process_pb.SendInputRequest, ctx: RequestContext[Any, Any]
    ) -> process_pb.SendInputResponse:
        found = self._lookup(request.process)
        stdin = found.proc.stdin
        if stdin is None or request.input is None or request.input.input is None:
            raise ConnectError(Code.FAILED_PRECONDITION, "stdin not enabled or no input")
        try:
            stdin.write(bytes(request.input.input.value))
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise ConnectError(Code.INTERNAL, f"error writing to stdin: {exc}") from exc
        return process_pb.SendInputResponse()

    async def close_stdin(
        self, request: process_pb.CloseStdinRequest, ctx: RequestContext[Any, Any]
    ) -> process_pb.CloseStdinResponse:
        found = self._lookup(request.process)
        if found.proc.stdin is not None:
            found.proc.stdin.close()
        return process_pb.CloseStdinResponse()

    async def send_signal(
        self, request: process_pb.SendSignalRequest, ctx: RequestContext[Any, Any]
    ) -> process_pb.SendSignalResponse:
        found = self._lookup(request.process)
        sig = signal.SIGKILL if request.signal == process_pb.Signal.SIGKILL else signal.SIGTERM
        _kill_quietly(found.proc, sig)
        return process_pb.SendSignalResponse()

    async def list(
        self, request: process_pb.ListRequest, ctx: RequestContext[Any, Any]
    ) -> process_pb.ListResponse:
        return process_pb.ListResponse(
            processes=[
                process_pb.ProcessInfo(config=p.config, pid=pid)
                for pid, p in self.procs.items()
                if p.proc.returncode is None
            ]
        )

    def kill_all(self) -> None:
        for p in list(self.procs.values()):
            _kill_quietly(p.proc, signal.SIGKILL)


def _kill_quietly(proc: asyncio.subprocess.Process, sig: int) -> None:
    """Signal the process (and, behind an ``nsenter`` prefix, the process inside: same group)."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)


class FakeEnvd:
    """Serve the fake envd on 127.0.0.1 (a free port) from a background thread.

    ``url`` is what the SDK's ``sandbox_url=`` wants. ``home`` is the sandbox user's home and the
    default working directory.
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        self.vm = FakeVM()
        self.vm.give(home)
        self.process = FakeProcessService(home, self.vm)
        self._rpc = ProcessASGIApplication(self.process)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.requests: list[tuple[str, str]] = []
        self._server = uvicorn.Server(
            uvicorn.Config(
                self, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=1
            )
        )
        self._thread: threading.Thread | None = None

    def start(self) -> FakeEnvd:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("fake envd did not start")
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        # kill the processes while the server's loop still runs, so it reaps them and closes their pipes
        self.process.kill_all()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
            p.proc.returncode is None for p in self.process.procs.values()
        ):
            time.sleep(0.01)
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.vm.stop()
        self._sock.close()

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        self.requests.append((scope["method"], path))
        if path.startswith("/process.Process/"):
            await self._rpc(scope, receive, send)  # type: ignore[arg-type]
        elif path == "/health":
            await _reply(send, 204, b"")
        elif path == "/files":
            await self._files(scope, receive, send)
        else:
            await _reply(send, 404, json.dumps({"code": 404, "message": "not found"}).encode())

    def _resolve(self, scope: Scope) -> Path | None:
        query = parse_qs(scope.get("query_string", b"").decode())
        raw = query.get("path", [""])[0]
        if not raw:
            return None
        path = Path(raw)
        return path if path.is_absolute() else self.home / path

    async def _files(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = self._resolve(scope)
        if path is None:
            await _reply(send, 400, json.dumps({"code": 400, "message": "path is required"}).encode())
            return
        if scope["method"] == "GET":
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except FileNotFoundError:
                await _reply(
                    send, 404, json.dumps({"code": 404, "message": f"file not found: {path}"}).encode()
                )
                return
            except IsADirectoryError:
                await _reply(
                    send, 400, json.dumps({"code": 400, "message": f"path is a directory: {path}"}).encode()
                )
                return
            await _reply(send, 200, data, content_type=b"application/octet-stream")
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope.get("headers", ()))
        content_type = headers.get(b"content-type", b"").decode()
        uploads = [(path, bytes(body))]
        if content_type.startswith("multipart/form-data"):
            uploads = [
                (path if len(parts) == 1 else self.home / name, data)
                for parts in [_multipart(content_type, bytes(body))]
                for name, data in parts
            ]
        info = []
        for target, data in uploads:
            try:
                await asyncio.to_thread(self._write, target, data)
            except OSError as exc:
                await _reply(send, 400, json.dumps({"code": 400, "message": str(exc)}).encode())
                return
            info.append({"name": target.name, "type": "file", "path": str(target)})
        await _reply(send, 200, json.dumps(info).encode())

    def _write(self, path: Path, data: bytes) -> None:
        created: list[Path] = []
        parent = path.parent
        while not parent.exists():
            created.append(parent)
            parent = parent.parent
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        for p in [path, *created]:
            self.vm.give(p)


def _multipart(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """``(filename, content)`` of each part of a ``multipart/form-data`` body."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    parts: list[tuple[str, bytes]] = []
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.partition(b"\r\n\r\n")
        filename = ""
        for line in head.decode(errors="replace").split("\r\n"):
            if line.lower().startswith("content-disposition") and 'filename="' in line:
                filename = line.split('filename="', 1)[1].split('"', 1)[0]
        parts.append((filename, content.removesuffix(b"\r\n")))
    return parts


async def _reply(send: Send, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
