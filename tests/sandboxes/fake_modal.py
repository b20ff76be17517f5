"""The narrowest stand-in for the ``modal`` SDK objects :class:`ModalSandbox` uses, backed by local
processes in a :class:`~tests.sandboxes.fake_vm.FakeVM` (its own PID namespace, running as ``nobody``).

Modal has no offline mode, so the adapter is tested against objects with the same names, call shapes
and ``.aio`` async variants as modal 1.6.4 (read from its ``sandbox.pyi``/``container_process.pyi``):

* ``App.lookup.aio(name, create_if_missing=...)``; ``Image.debian_slim()``, ``Image.from_registry(tag)``
* ``Sandbox.create.aio(*args, app=, image=, block_network=, cpu=, memory=, timeout=, tags=, ...)``
  (every keyword is recorded in ``FakeModal.created`` so tests can check the hardening options)
* ``sb.exec.aio(*argv, workdir=, timeout=, text=False, env=)`` -> process with ``stdin.write`` /
  ``stdin.write_eof`` / ``stdin.drain.aio()``, ``stdout``/``stderr`` async-iterable of bytes,
  ``wait.aio()``, ``poll.aio()``
* ``sb.filesystem.read_bytes.aio(path)``, ``sb.filesystem.write_bytes.aio(data, path)``
  (``FileNotFoundError``/``IsADirectoryError`` as modal raises them)
* ``sb.terminate.aio()``, ``sb.poll.aio()`` (None while running, else the exit code), ``sb.object_id``,
  ``Sandbox.list.aio(tags=)``, ``Sandbox.from_id.aio(object_id)``
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from .fake_vm import FakeVM

_ids = itertools.count(1)


class _Aio:
    """A modal-style method: ``obj.method.aio(...)`` is the async variant (the only one we use)."""

    def __init__(self, fn: Callable[..., Awaitable[Any]]) -> None:
        self.aio = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("blocking modal calls are not allowed inside the event loop: use .aio")


class FakeStreamReader:
    def __init__(self, reader: asyncio.StreamReader | None) -> None:
        self._reader = reader

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        if self._reader is None:
            return
        while chunk := await self._reader.read(64 * 1024):
            yield chunk


class FakeStreamWriter:
    def __init__(self, writer: asyncio.StreamWriter | None) -> None:
        self._writer = writer
        self.drain = _Aio(self._drain)

    def write(self, data: bytes | bytearray | memoryview | str) -> None:
        if self._writer is None:
            raise BrokenPipeError("stdin is closed")
        self._writer.write(data.encode() if isinstance(data, str) else bytes(data))

    def write_eof(self) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.close()

    async def _drain(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                await self._writer.drain()


class FakeContainerProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        self.stdout = FakeStreamReader(proc.stdout)
        self.stderr = FakeStreamReader(proc.stderr)
        self.stdin = FakeStreamWriter(proc.stdin)
        self.wait = _Aio(self._wait)
        self.poll = _Aio(self._poll)

    async def _wait(self) -> int:
        code = await self._proc.wait()
        return code if code >= 0 else 128 - code

    async def _poll(self) -> int | None:
        code = self._proc.returncode
        return None if code is None else (code if code >= 0 else 128 - code)

    @property
    def returncode(self) -> int:
        code = self._proc.returncode
        if code is None:
            raise RuntimeError("process has not finished")
        return code


class FakeFilesystem:
    def __init__(self, vm: FakeVM) -> None:
        self._vm = vm
        self.read_bytes = _Aio(self._read_bytes)
        self.write_bytes = _Aio(self._write_bytes)

    async def _read_bytes(self, remote_path: str) -> bytes:
        return await asyncio.to_thread(Path(remote_path).read_bytes)

    async def _write_bytes(self, data: bytes | bytearray | memoryview, remote_path: str) -> None:
        path = Path(remote_path)
        await asyncio.to_thread(path.write_bytes, bytes(data))
        self._vm.give(path)  # written by the container's user, as in modal


class FakeSandbox:
    def __init__(self, owner: FakeModal, tags: dict[str, str]) -> None:
        self.object_id = f"sb-fake{next(_ids)}"
        self.vm = FakeVM()
        self._tags = dict(tags)
        self._procs: list[asyncio.subprocess.Process] = []
        self._owner = owner
        self.terminated = False
        self.exec = _Aio(self._exec)
        self.terminate = _Aio(self._terminate)
        self.poll = _Aio(self._poll_sandbox)
        self.get_tags = _Aio(self._get_tags)
        self.filesystem = FakeFilesystem(self.vm)

    async def _exec(
        self,
        *args: str,
        workdir: str | None = None,
        timeout: int | None = None,  # noqa: ASYNC109 - modal's signature
        env: dict[str, str | None] | None = None,
        text: bool = True,
        **_: Any,
    ) -> FakeContainerProcess:
        if self.terminated:
            raise RuntimeError("Sandbox has already terminated")
        assert not text, "the adapter must ask for bytes (text=False)"
        cwd = workdir or "/"
        proc = await asyncio.create_subprocess_exec(
            *self.vm.argv(cwd),
            *args,
            cwd=cwd,
            env={k: v for k, v in (env or {}).items() if v is not None} or None,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        self._procs.append(proc)
        return FakeContainerProcess(proc)

    async def _terminate(self) -> None:
        self.terminated = True
        for proc in self._procs:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.vm.stop)
        for proc in self._procs:
            with contextlib.suppress(Exception):
                await proc.wait()
            transport = getattr(proc, "_transport", None)
            if transport is not None:  # release the pipes while the loop still runs
                transport.close()
        self._owner.sandboxes.remove(self)

    async def _poll_sandbox(self) -> int | None:
        """``Sandbox.poll``: None while running, else the exit code (a VM killed from outside: 137)."""
        if self.terminated:
            return 0
        return 137 if self.vm.stopped else None

    async def _get_tags(self) -> dict[str, str]:
        return dict(self._tags)


class FakeApp:
    def __init__(self, name: str) -> None:
        self.name = name


class FakeImage:
    def __init__(self, ref: str) -> None:
        self.ref = ref


class FakeModal:
    """Pass as ``ModalSandbox(sdk=FakeModal())``: the module-level names the adapter touches."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.sandboxes: list[FakeSandbox] = []
        owner = self

        class App:
            lookup = _Aio(self._lookup)

        class Image:
            @staticmethod
            def debian_slim(python_version: str | None = None) -> FakeImage:
                return FakeImage("debian_slim")

            @staticmethod
            def from_registry(tag: str, **_: Any) -> FakeImage:
                return FakeImage(tag)

        class Sandbox:
            create = _Aio(self._create)
            from_id = _Aio(self._from_id)

            class list:
                @staticmethod
                def aio(
                    *, app_id: str | None = None, tags: dict[str, str] | None = None
                ) -> AsyncIterator[FakeSandbox]:
                    return owner._list(tags or {})

        self.App = App
        self.Image = Image
        self.Sandbox = Sandbox

    async def _lookup(self, name: str, *, create_if_missing: bool = False, **_: Any) -> FakeApp:
        return FakeApp(name)

    async def _create(
        self, *args: str, app: Any = None, tags: dict[str, str] | None = None, **kwargs: Any
    ) -> FakeSandbox:
        if app is None:
            raise RuntimeError("App.lookup is required outside a Modal container")
        self.created.append({"args": args, "app": app, "tags": tags, **kwargs})
        sb = FakeSandbox(self, tags or {})
        self.sandboxes.append(sb)
        return sb

    async def _from_id(self, sandbox_id: str, client: Any = None) -> FakeSandbox:
        for sb in self.sandboxes:
            if sb.object_id == sandbox_id:
                return sb
        raise LookupError(f"Sandbox with id {sandbox_id} not found")  # modal: NotFoundError

    async def _list(self, tags: dict[str, str]) -> AsyncIterator[FakeSandbox]:
        for sb in list(self.sandboxes):
            if all(sb._tags.get(k) == v for k, v in tags.items()):
                yield sb
