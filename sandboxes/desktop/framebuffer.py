"""Reading a local sandbox's framebuffer file host-side, without starting a process per screenshot.

The local backend's sandbox is a mount namespace on this machine: the host reaches Xvfb's framebuffer
file through ``/proc/<pid>/root``. The file is opened once, component by component with
``O_NOFOLLOW`` (a symlink the sandbox plants anywhere on the path makes the open fail, never follow),
must be a regular file, and is then read with ``pread`` (never mapped: a file the sandbox truncates
gives a short read, which is a typed error, not a SIGBUS). The sandbox can only ever show us pixels.
"""

from __future__ import annotations

import contextlib
import os
import stat

from .config import DesktopError

__all__ = ["HostFramebuffer"]

_DIR = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class HostFramebuffer:
    """An open framebuffer file of a sandbox (``read()`` is blocking: call it in a worker thread)."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self.size = size

    @classmethod
    def open(cls, root_pid: int, path: str, size: int) -> HostFramebuffer:
        """Open ``path`` (absolute, inside the sandbox) below ``/proc/<root_pid>/root``."""
        parts = [p for p in path.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise DesktopError(f"bad framebuffer path {path!r}")
        try:
            fd = os.open(f"/proc/{root_pid}/root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)  # a magic link
        except OSError as exc:
            raise DesktopError(f"cannot reach the sandbox's root: {exc}") from None
        try:
            for part in parts[:-1]:
                nxt = os.open(part, _DIR, dir_fd=fd)
                os.close(fd)
                fd = nxt
            file_fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
        except OSError as exc:
            raise DesktopError(f"cannot open the framebuffer {path}: {exc}") from None
        finally:
            os.close(fd)
        if not stat.S_ISREG(os.fstat(file_fd).st_mode):
            os.close(file_fd)
            raise DesktopError(f"the framebuffer {path} is not a regular file")
        return cls(file_fd, size)

    def read(self) -> bytes:
        """The whole file (at most ``size`` bytes)."""
        if self._fd < 0:
            raise DesktopError("the framebuffer is closed")
        chunks: list[bytes] = []
        offset = 0
        while offset < self.size:
            chunk = os.pread(self._fd, self.size - offset, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
        return b"".join(chunks) if len(chunks) != 1 else chunks[0]

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
