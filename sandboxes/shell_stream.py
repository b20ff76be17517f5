"""What a backend's persistent shell is made of: the byte stream it provides (:class:`ShellProcess`),
the result of one command (:class:`ShellResult`), the head+tail output buffer and the quoting of a
command as one bash word. Re-exported by :mod:`agentcore.sandboxes.shell`, which drives them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "BoundedOutput",
    "KillGroups",
    "OpenProcess",
    "OutputCallback",
    "ShellProcess",
    "ShellResult",
    "ansi_c_quote",
]

OutputCallback = Callable[[str], None]
"""Receives live shell output as it arrives (decoded incrementally, ``errors="replace"``)."""


@dataclass
class ShellResult:
    """The outcome of one command in a persistent shell session."""

    output: str
    """stdout and stderr merged in arrival order, decoded UTF-8 with ``errors="replace"``; when over
    the cap, the head and tail are kept and the cut is marked in the text."""
    exit_code: int | None
    """``$?`` of the whole command string (no pipefail unless the command sets it). ``None`` when the
    shell had to be killed and the status is unknown."""
    timed_out: bool = False
    truncated: bool = False
    total_bytes: int = 0
    """How many output bytes the command produced (before truncation)."""
    cwd: str | None = None
    """The shell's working directory after the command."""
    restarted: bool = False
    """The shell died (``exit``, ``exec``, OOM, an unkillable timeout) and was or will be restarted
    with cwd and exported variables restored; other state (functions, jobs) is lost."""
    process_limit: int | None = None
    """The sandbox's process limit, when this command found the sandbox at it (a fork bomb): every
    process in the sandbox was then killed and the shell restarted. None otherwise."""
    duration_s: float = 0.0
    session: str = "default"

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class ShellProcess(ABC):
    """One running ``bash --noprofile --norc`` inside a sandbox, as a byte stream. Backends implement it.

    Requirements:

    * :meth:`read` returns the next chunk of the shell's stdout (any size > 0), and ``b""`` once the
      shell process has exited. It must return ``b""`` when the *shell* exits even if background
      children still hold the stream open (poll the process state if the transport cannot tell).
      Only one reader calls it at a time; it is never cancelled except by :meth:`kill`/``close``.
    * :meth:`write` delivers all bytes to the shell's stdin, in order.
    * :meth:`kill` SIGKILLs the shell and everything it started (idempotent, never raises when it is
      already gone); afterwards :meth:`read` returns ``b""``.
    * :meth:`wait` returns the exit status after :meth:`read` returned ``b""`` (128+N for signal N),
      or None when unknown.
    """

    @abstractmethod
    async def write(self, data: bytes) -> None: ...

    @abstractmethod
    async def read(self) -> bytes: ...

    @abstractmethod
    async def kill(self) -> None: ...

    @abstractmethod
    async def wait(self) -> int | None: ...


OpenProcess = Callable[[Mapping[str, str], str], Awaitable[ShellProcess]]
KillGroups = Callable[[int, str, Sequence[int]], Awaitable[None]]


def ansi_c_quote(data: bytes) -> bytes:
    """Quote bytes as one bash ``$'…'`` word (one line, any byte except NUL survives exactly)."""
    out = bytearray(b"$'")
    for byte in data:
        if byte == 0x5C:
            out += b"\\\\"
        elif byte == 0x27:
            out += b"\\'"
        elif byte < 0x20 or byte == 0x7F:
            out += b"\\x%02x" % byte
        else:
            out.append(byte)
    out.append(0x27)
    return bytes(out)


class BoundedOutput:
    """Keeps the first and last ``limit // 2`` bytes of a stream and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = max(2, limit)
        self._head_limit = self.limit // 2
        self._tail_limit = self.limit - self._head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self._head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self._tail_limit:
                del self.tail[: len(self.tail) - self._tail_limit]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.head) + min(len(self.tail), self._tail_limit)

    def getvalue(self) -> bytes:
        """Raw bytes kept (head + tail, without a marker)."""
        return bytes(self.head) + bytes(self.tail[-self._tail_limit :] if self.tail else b"")

    def text(self) -> str:
        """Decoded output; when truncated, the cut is marked with the number of bytes left out."""
        tail = bytes(self.tail[-self._tail_limit :]) if self.tail else b""
        head = self.head.decode("utf-8", errors="replace")
        if not self.truncated:
            return head + tail.decode("utf-8", errors="replace") if tail else head
        omitted = self.total - len(self.head) - len(tail)
        marker = f"\n[... {omitted:,} bytes of output omitted (total {self.total:,} bytes) ...]\n"
        return head + marker + tail.decode("utf-8", errors="replace")
