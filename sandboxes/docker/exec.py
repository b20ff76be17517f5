"""A process started with ``docker exec``, driven from asyncio through the exec's hijacked socket.

Docker answers ``POST /exec/{id}/start`` (``Upgrade: tcp``, ``Tty: false``) by turning the HTTP
connection into a raw byte stream: what we write goes to the process's stdin, and its output comes
back *multiplexed*: each frame is an 8-byte header ``[stream, 0, 0, 0, size (uint32, big endian)]``
(stream 1 = stdout, 2 = stderr) followed by ``size`` bytes of payload.

docker-py itself is blocking. Creating and starting the exec (two HTTP calls) runs in a worker
thread; after that the socket is a plain Unix/TCP socket, which we duplicate, switch to
non-blocking and drive with the event loop (``sock_recv``/``sock_sendall``): no thread per read and
no polling, so a shell round trip costs about one millisecond. When the engine is reached over TLS
or SSH (the socket is not a plain ``socket.socket``), reads and writes fall back to worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Mapping, Sequence
from typing import Any

STDOUT = 1
STDERR = 2
_HEADER = struct.Struct(">BxxxL")


class FrameDecoder:
    """Splits Docker's multiplexed stream into ``(stream, payload)`` frames; feed it any chunking."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buf += data
        frames: list[tuple[int, bytes]] = []
        while len(self._buf) >= _HEADER.size:
            stream, size = _HEADER.unpack_from(self._buf)
            end = _HEADER.size + size
            if len(self._buf) < end:
                break
            frames.append((stream, bytes(self._buf[_HEADER.size : end])))
            del self._buf[:end]
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame still buffered."""
        return len(self._buf)


class ExecProcess:
    """One ``docker exec`` process: write stdin, read tagged output frames, learn the exit code."""

    def __init__(self, api: Any, exec_id: str, sock: Any) -> None:
        self._api = api
        self.exec_id = exec_id
        self._decoder = FrameDecoder()
        self._frames: list[tuple[int, bytes]] = []
        self._eof = False
        self._closed = False
        self._raw: Any = sock
        self._sock: socket.socket | None = None
        inner = getattr(sock, "_sock", sock)
        if type(inner) is socket.socket:
            # Our own descriptor: docker-py's response objects may close theirs whenever they like.
            self._sock = inner.dup()
            self._sock.setblocking(False)
            with contextlib.suppress(OSError):
                sock.close()
            self._raw = None
        self._io_lock = asyncio.Lock()

    @classmethod
    async def start(
        cls,
        api: Any,
        container_id: str,
        argv: Sequence[str],
        *,
        user: str = "",
        workdir: str | None = None,
        environment: Mapping[str, str] | None = None,
        stdin: bool = True,
    ) -> ExecProcess:
        def _start() -> tuple[str, Any]:
            created = api.exec_create(
                container_id,
                list(argv),
                stdin=stdin,
                stdout=True,
                stderr=True,
                tty=False,
                user=user,
                workdir=workdir,
                environment=dict(environment) if environment else None,
            )
            exec_id = str(created["Id"])
            return exec_id, api.exec_start(exec_id, socket=True, tty=False)

        exec_id, sock = await asyncio.to_thread(_start)
        return cls(api, exec_id, sock)

    # ------------------------------------------------------------------ bytes in

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise BrokenPipeError("exec stream is closed")
        if self._sock is not None:
            await asyncio.get_running_loop().sock_sendall(self._sock, data)
        else:
            target = getattr(self._raw, "_sock", self._raw)
            await asyncio.to_thread(target.sendall, data)

    def close_stdin(self) -> None:
        """Half-close: the process reads EOF on stdin, its output keeps flowing."""
        with contextlib.suppress(OSError):
            if self._sock is not None:
                self._sock.shutdown(socket.SHUT_WR)
            else:
                getattr(self._raw, "_sock", self._raw).shutdown(socket.SHUT_WR)

    # ------------------------------------------------------------------ bytes out

    async def _recv(self) -> bytes:
        if self._sock is not None:
            return await asyncio.get_running_loop().sock_recv(self._sock, 1 << 16)
        target = getattr(self._raw, "_sock", self._raw)
        data: bytes = await asyncio.to_thread(target.recv, 1 << 16)
        return data

    async def read_frame(self) -> tuple[int, bytes] | None:
        """The next ``(stream, payload)`` frame, or ``None`` once the process closed its output."""
        async with self._io_lock:
            while not self._frames:
                if self._eof or self._closed:
                    return None
                try:
                    data = await self._recv()
                except (ConnectionError, OSError):
                    data = b""
                if not data:
                    self._eof = True
                    return None
                self._frames.extend(self._decoder.feed(data))
            return self._frames.pop(0)

    async def read(self) -> bytes:
        """The next chunk of output, stdout and stderr merged in arrival order; ``b""`` at EOF."""
        frame = await self.read_frame()
        return b"" if frame is None else frame[1]

    async def communicate(self, *, max_bytes: int | None = None) -> tuple[bytes, bytes, bool]:
        """Read to EOF. Returns ``(stdout, stderr, truncated)``; beyond ``max_bytes`` per stream
        the rest is read and dropped."""
        out = bytearray()
        err = bytearray()
        truncated = False
        while (frame := await self.read_frame()) is not None:
            stream, payload = frame
            buf = err if stream == STDERR else out
            if max_bytes is not None and len(buf) + len(payload) > max_bytes:
                buf += payload[: max(0, max_bytes - len(buf))]
                truncated = True
            else:
                buf += payload
        return bytes(out), bytes(err), truncated

    # ------------------------------------------------------------------ status

    async def inspect(self) -> dict[str, Any]:
        info: dict[str, Any] = await asyncio.to_thread(self._api.exec_inspect, self.exec_id)
        return info

    async def exit_code(self, *, settle_s: float = 1.0) -> int | None:
        """The exit code once the process ended; ``None`` if it still runs after ``settle_s`` (the
        engine may report ``Running`` for a moment after the stream closed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settle_s
        while True:
            info = await self.inspect()
            if not info.get("Running"):
                code = info.get("ExitCode")
                return None if code is None else int(code)
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(0.01)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            if self._sock is not None:
                self._sock.close()
            elif self._raw is not None:
                self._raw.close()
