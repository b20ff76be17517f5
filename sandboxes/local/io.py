"""FIFO plumbing of the local backend: output readers fed by the event loop, and the shell stream."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import TYPE_CHECKING

from ..shell import BoundedOutput, ShellProcess

if TYPE_CHECKING:
    from .sandbox import LocalSandbox


class Pipes:
    """FIFO read ends of one shell or exec, fed into buffers or a queue by the event loop."""

    def __init__(self, sandbox: LocalSandbox, ident: str, outputs: dict[int, BoundedOutput]) -> None:
        self.sandbox = sandbox
        self.ident = ident
        self.outputs = outputs
        self.queue: asyncio.Queue[bytes] | None = None
        self.done = asyncio.Event()
        self.status: int | None = None
        self._loop = asyncio.get_running_loop()
        for fd in outputs:
            self._loop.add_reader(fd, self._readable, fd)

    def _readable(self, fd: int) -> None:
        try:
            data = os.read(fd, 1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._loop.remove_reader(fd)
            return
        if data:
            self._deliver(fd, data)

    def _deliver(self, fd: int, data: bytes) -> None:
        if self.queue is not None:
            self.queue.put_nowait(data)
        else:
            self.outputs[fd].add(data)

    def finish(self, status: int | None) -> None:
        """The process ended: drain what it wrote, close the FIFOs, signal EOF."""
        if self.done.is_set():
            return
        self.status = status
        for fd in self.outputs:
            self._loop.remove_reader(fd)
            with contextlib.suppress(OSError):
                while True:
                    data = os.read(fd, 1 << 16)
                    if not data:
                        break
                    self._deliver(fd, data)
            with contextlib.suppress(OSError):
                os.close(fd)
        self.sandbox._unlink(f"{self.ident}.in", f"{self.ident}.out", f"{self.ident}.err")
        if self.queue is not None:
            self.queue.put_nowait(b"")
        self.done.set()


def set_done(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class LocalShell(ShellProcess):
    def __init__(self, sandbox: LocalSandbox, ident: str, in_fd: int, out_fd: int) -> None:
        self.sandbox = sandbox
        self.in_fd = in_fd
        self.wrapper_pid: int | None = None
        self.pipes = Pipes(sandbox, ident, {out_fd: BoundedOutput(1)})
        self.pipes.queue = asyncio.Queue()
        self._loop = asyncio.get_running_loop()

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            fd = self.in_fd
            if self.pipes.done.is_set() or fd < 0:
                return
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                ready: asyncio.Future[None] = self._loop.create_future()
                self._loop.add_writer(fd, set_done, ready)
                try:
                    await ready
                finally:
                    self._loop.remove_writer(fd)
            except OSError:
                return

    async def read(self) -> bytes:
        assert self.pipes.queue is not None
        if self.pipes.done.is_set() and self.pipes.queue.empty():
            return b""
        return await self.pipes.queue.get()

    async def kill(self) -> None:
        # a closing sandbox kills everything at once right after: no kill request per shell
        if not self.pipes.done.is_set() and self.wrapper_pid is not None and not self.sandbox.closed:
            with contextlib.suppress(Exception):
                await self.sandbox._kill_process_groups(self.wrapper_pid, "fg", ())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.pipes.done.wait(), 5)
        self.pipes.finish(self.pipes.status)
        # kill() may run more than once (a restart, then the sandbox's close): closing the number twice
        # would close whatever file took it since — another sandbox's supervisor pipe, say
        fd, self.in_fd = self.in_fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)

    async def wait(self) -> int | None:
        await self.pipes.done.wait()
        return self.pipes.status
