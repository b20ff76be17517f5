"""The persistent shell, written once over any byte stream.

A backend provides a :class:`ShellProcess`: one running ``bash --noprofile --norc`` inside the sandbox
whose stdin we write and whose stdout (stderr merged or discarded) we read. :class:`ShellSession`
drives it with this protocol (SANDBOX.md §4.1, §7):

* at start: ``set -m`` (each command gets its own process group), the shell's own stderr goes to
  ``/dev/null`` (job notices), the saved state is sourced after a restart, and the shell prints its pid
  between two random tokens (handshake).
* per command: the command string is shipped as ONE ANSI-C quoted word to ``eval`` inside
  ``{ …; } </dev/null 2>&1`` (stdin readers see EOF; syntax errors cannot wedge the framing), then a
  trailer prints ``\\n<S-token><rc>:<cwd><M-token>``, the pids of background jobs (``jobs -p``), and
  ``<E-token>\\n``. Tokens are fresh random strings per command, so output cannot fake them. The
  trailer also writes ``declare -px`` and the cwd to a state file.
* reading: bytes, never text, until the trailer; a rolling window keeps the last few bytes so a token
  split across chunks is still found; output goes to a head+tail buffer and to the live callback.
* timeout: kill the process groups of the shell's children except the background jobs that existed
  before the command, and keep doing so every 0.1 s for ``grace_s`` (bash goes on with the rest of a
  command list after its running job dies, so ``a; b`` kills ``a``, then ``b``); when the trailer does
  not come within the grace (a builtin busy loop), kill the shell and restart it. Builtins that run
  after the killed job (``sleep 100; echo done``) still run: their output may appear. Shell death (EOF: ``exit``, ``exec``, OOM) → ``restarted=True``, the exit
  status is the result's exit code, and the next command gets a new shell with cwd and exported
  variables restored from the state file.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from agentcore.errors import SandboxDied, SandboxError

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
    duration_s: float = 0.0
    session: str = "default"

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


__all__ = [
    "KILL_GROUPS_SCRIPT",
    "BoundedOutput",
    "OutputCallback",
    "ShellProcess",
    "ShellResult",
    "ShellSession",
    "ansi_c_quote",
]


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


KILL_GROUPS_SCRIPT = r"""
# usage: bash -c "$KILL_GROUPS_SCRIPT" kill-groups SHELL_PID fg|all [KEEP_PGID...]
# Builtins only (works in images without procps). Runs inside the sandbox as the sandbox user.
sp=$1; mode=$2; shift 2
declare -A keep=() ppid=() pgrp=()
targets=()
for k in "$@"; do keep[$k]=1; done
for f in /proc/[0-9]*/stat; do
  { read -r line < "$f"; } 2>/dev/null || continue
  p=${f#/proc/}; p=${p%/stat}
  rest=${line##*) }
  set -- $rest
  ppid[$p]=$2; pgrp[$p]=$3
done
spg=${pgrp[$sp]}
[ -n "$spg" ] || exit 0
for p in "${!ppid[@]}"; do
  [ "$p" = "$sp" ] && continue
  c=$p; n=0
  while [ -n "$c" ] && [ "${ppid[$c]}" != "$sp" ] && [ "$c" -gt 1 ] && [ $n -lt 64 ]; do c=${ppid[$c]}; n=$((n+1)); done
  [ -n "$c" ] && [ "${ppid[$c]}" = "$sp" ] || continue
  if [ "$mode" = fg ] && [ -n "${keep[${pgrp[$c]}]}" ]; then continue; fi
  targets+=("$p")
done
# A process group dies at once (one kill). Processes left in the shell's own group (no job control:
# a supervisor's execs) die one by one, so stop them all first: otherwise `sh -c "sleep 300; echo
# never"` may see its sleep die before its own turn comes, and print "never". (Jobs are not stopped:
# a shell with job control would report a stopped job and move on.)
for p in "${targets[@]}"; do
  if [ "${pgrp[$p]}" = "$spg" ]; then kill -STOP "$p" 2>/dev/null; fi
done
for p in "${targets[@]}"; do
  g=${pgrp[$p]}
  if [ "$g" != "$spg" ]; then kill -9 -- "-$g" 2>/dev/null; fi
  kill -9 "$p" 2>/dev/null
done
if [ "$mode" = all ]; then kill -9 "$sp" 2>/dev/null; fi
exit 0
"""
"""Kill processes below a shell by process group (see ``Sandbox._kill_process_groups``)."""


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


_EOF = b""
_REKILL_INTERVAL_S = 0.1

# Requests are NUL-terminated and run by this loop rather than by bash's own reader: a parse error
# such as an unterminated quote inside ``eval`` sets bash's global EOF flag, which makes the *main*
# reader exit after the current line. The three nested loops and the pending-trailer check make a
# stray ``break``/``continue`` (up to two levels) in a user command skip nothing but its own rest.
_READ_LOOP = (
    "while :; do while :; do while :; do "
    '[ -n "$__ac_post" ] && eval "$__ac_post"; __ac_post=; '
    "IFS= read -r -d '' __ac_line || exit 0; "
    'eval "$__ac_line"; '
    "done; done; done\n"
)


class ShellSession:
    """One named persistent shell inside a sandbox. Use :meth:`Sandbox.shell` rather than this class."""

    def __init__(
        self,
        name: str,
        *,
        open_process: OpenProcess,
        kill_groups: KillGroups,
        workdir: str,
        env: Mapping[str, str],
        state_dir: str = "/tmp",
        grace_s: float = 2.0,
        persist_state: bool = True,
        state_key: str = "",
        check_alive: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.name = name
        self._check_alive = check_alive
        self._open_process = open_process
        self._kill_groups = kill_groups
        self._workdir = workdir
        self._env = dict(env)
        # the sandbox id in the name keeps sandboxes that share a /tmp (host stand-ins) apart
        key = f"{state_key}-" if state_key else ""
        self._state_file = f"{state_dir.rstrip('/')}/.agentcore-shell-{key}{name}.state"
        self._grace_s = grace_s
        self._persist = persist_state
        self._lock = asyncio.Lock()
        self._proc: ShellProcess | None = None
        self._pump: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._pending = bytearray()
        self._eof = False
        self.shell_pid: int | None = None
        self._bg_jobs: list[int] = []
        self._has_state = False
        self._died_unreported = False
        self._closed = False
        self.cwd: str = workdir

    # ------------------------------------------------------------------ lifecycle

    async def _ensure_started(self) -> None:
        if self._proc is not None and not self._eof:
            return
        if self._proc is not None:
            await self._discard_process()
        proc = await self._open_process(self._env, self._workdir)
        self._proc = proc
        self._eof = False
        self._pending = bytearray()
        self._queue = asyncio.Queue()
        self._pump = asyncio.get_running_loop().create_task(self._pump_output(proc, self._queue))
        token = secrets.token_hex(8)
        sf = ansi_c_quote(self._state_file.encode()).decode()
        script = "set -m; exec 2>/dev/null; set +o histexpand 2>/dev/null; __ac_post=; "
        script += f"[ -r {sf} ] && . {sf}; " if self._has_state else f": > {sf}; "
        script += f"printf '%s%s%s\\n' H{token} $$ H{token}; " + _READ_LOOP
        await proc.write(script.encode())
        marker = f"H{token}".encode()
        deadline = time.monotonic() + 30.0
        while True:
            start = self._pending.find(marker)
            if start >= 0:
                end = self._pending.find(marker, start + len(marker))
                if end >= 0:
                    pid_text = self._pending[start + len(marker) : end]
                    del self._pending[: end + len(marker) + 1]
                    self.shell_pid = int(pid_text)
                    self._bg_jobs = []
                    return
            chunk = await self._next_chunk(deadline)
            if chunk is None or chunk == _EOF:
                await self._discard_process()
                if self._check_alive is not None:
                    await self._check_alive()  # a dead sandbox says why
                raise SandboxDied(f"shell session {self.name!r} did not start (no handshake)")
            self._pending += chunk

    @staticmethod
    async def _pump_output(proc: ShellProcess, queue: asyncio.Queue[bytes]) -> None:
        try:
            while True:
                chunk = await proc.read()
                queue.put_nowait(chunk)
                if not chunk:
                    return
        except asyncio.CancelledError:
            raise
        except Exception:  # a broken transport counts as shell death
            queue.put_nowait(_EOF)

    async def _next_chunk(self, deadline: float | None) -> bytes | None:
        """Next chunk from the shell, ``b""`` at EOF, None when ``deadline`` (monotonic) passed."""
        if self._eof:
            return _EOF
        try:
            chunk = self._queue.get_nowait()
        except asyncio.QueueEmpty:
            if deadline is None:
                chunk = await self._queue.get()
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                try:
                    async with asyncio.timeout(remaining):
                        chunk = await self._queue.get()
                except TimeoutError:
                    return None
        if not chunk:
            self._eof = True
        return chunk

    async def _discard_process(self) -> None:
        proc, pump = self._proc, self._pump
        self._proc, self._pump = None, None
        self.shell_pid = None
        if proc is not None:
            with contextlib.suppress(Exception):
                await proc.kill()
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(BaseException):
                await pump
        self._queue.put_nowait(_EOF)  # wakes a command still waiting for output (close() mid-command)

    async def close(self, *, forget_state: bool = False) -> None:
        """Kill the shell (and its jobs). With ``forget_state`` the next start is fresh."""
        self._closed = True
        if forget_state:
            self._has_state = False
        await self._discard_process()

    async def interrupt(self) -> None:
        """Kill the running command's process groups (the shell survives)."""
        if self.shell_pid is not None:
            await self._kill_groups(self.shell_pid, "fg", self._bg_jobs)

    # ------------------------------------------------------------------ one command

    async def open(self) -> None:
        """Start the shell now instead of on the first command."""
        if self._closed:
            raise SandboxDied(f"shell session {self.name!r} is closed")
        async with self._lock:
            await self._ensure_started()

    async def run(
        self,
        command: str,
        *,
        timeout: float,  # noqa: ASYNC109
        on_output: OutputCallback | None = None,
        max_output_bytes: int = 64_000,
    ) -> ShellResult:
        if self._closed:
            raise SandboxDied(f"shell session {self.name!r} is closed")
        if "\0" in command:
            raise SandboxError("shell command contains a NUL byte")
        async with self._lock:
            try:
                return await self._run_locked(command, timeout, on_output, max_output_bytes)
            except BaseException:
                # cancelled (or a transport failure) mid-command: the shell may still be running it and
                # the stream is out of step. Replace the shell; the next call restores cwd and env.
                if self._proc is not None:
                    self._died_unreported = True
                    await asyncio.shield(self._discard_process())
                raise

    async def _run_locked(
        self,
        command: str,
        timeout: float,  # noqa: ASYNC109
        on_output: OutputCallback | None,
        max_output_bytes: int,
    ) -> ShellResult:
        started = time.monotonic()
        self._drain_idle_output()
        restarted = self._died_unreported
        self._died_unreported = False
        await self._ensure_started()
        proc = self._proc
        assert proc is not None and self.shell_pid is not None
        keep = list(self._bg_jobs)
        token = secrets.token_hex(10)
        s_tok, m_tok, e_tok = f"__AC{token}S_".encode(), f"_{token}M__".encode(), f"__AC{token}E__".encode()
        trailer = "__ac_rc=$?; __ac_post=; "
        trailer += (
            f'printf \'\\n%s%d:%s%s\\n\' {s_tok.decode()} "$__ac_rc" "$PWD" {m_tok.decode()}; jobs -p; '
        )
        if self._persist:
            sf = ansi_c_quote(self._state_file.encode()).decode()
            trailer += f"{{ declare -px; printf 'cd -- %q\\n' \"$PWD\"; }} > {sf}; "
        trailer += f"printf '%s\\n' {e_tok.decode()}"
        request = (
            b"__ac_post="
            + ansi_c_quote(trailer.encode())
            + b"; { eval "
            + ansi_c_quote(command.encode("utf-8", "surrogateescape"))
            + b'\n} </dev/null 2>&1; eval "$__ac_post"\0'
        )
        await proc.write(request)

        out = BoundedOutput(max_output_bytes)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace") if on_output else None
        start_marker = b"\n" + s_tok
        keep_back = len(start_marker)
        deadline = started + timeout
        timed_out = False
        killed_at: float | None = None
        last_kill = 0.0
        trailer_bytes: bytearray | None = None

        def emit(data: bytes) -> None:
            if not data:
                return
            out.add(data)
            if decoder is not None and on_output is not None:
                text = decoder.decode(data)
                if text:
                    try:
                        on_output(text)
                    except Exception:  # a broken callback must not break the protocol
                        pass

        while True:
            if trailer_bytes is None:
                idx = self._pending.find(start_marker)
                if idx >= 0:
                    emit(bytes(self._pending[:idx]))
                    trailer_bytes = bytearray(self._pending[idx + len(start_marker) :])
                    self._pending = bytearray()
                elif len(self._pending) > keep_back:
                    cut = len(self._pending) - keep_back
                    emit(bytes(self._pending[:cut]))
                    del self._pending[:cut]
            if trailer_bytes is not None:
                end = trailer_bytes.find(e_tok + b"\n")
                if end >= 0:
                    self._pending = bytearray(trailer_bytes[end + len(e_tok) + 1 :])
                    exit_code, cwd = self._parse_trailer(bytes(trailer_bytes[:end]), m_tok)
                    self._has_state = self._persist
                    if decoder is not None and on_output is not None:
                        rest = decoder.decode(b"", final=True)
                        if rest:
                            on_output(rest)
                    return self._result(out, exit_code, timed_out, cwd, restarted, started)
            if killed_at is None:
                wake = deadline
            else:
                wake = min(killed_at + self._grace_s, last_kill + _REKILL_INTERVAL_S)
            chunk = await self._next_chunk(wake)
            if chunk is None:
                now = time.monotonic()
                if killed_at is None or now < killed_at + self._grace_s:
                    # kill the foreground job; keep killing what the rest of the command line starts
                    if killed_at is None:
                        timed_out, killed_at = True, now
                    last_kill = now
                    with contextlib.suppress(Exception):
                        await self._kill_groups(self.shell_pid, "fg", keep)
                    continue
                # the command ignored the kill (a builtin loop runs inside the shell itself): restart
                emit(bytes(self._pending))
                self._pending = bytearray()
                await self._discard_process()
                return self._result(out, None, True, self.cwd, True, started)
            if chunk == _EOF:
                # the shell itself ended: `exit`, `exec`, OOM kill, killed from outside
                if trailer_bytes is None:
                    emit(bytes(self._pending))
                self._pending = bytearray()
                status: int | None = None
                with contextlib.suppress(Exception):
                    status = await asyncio.wait_for(proc.wait(), 10)
                await self._discard_process()
                if self._check_alive is not None:  # the shell, or the whole sandbox?
                    try:
                        await self._check_alive()
                    except SandboxDied as exc:
                        before = out.getvalue().decode(errors="replace")
                        raise SandboxDied(
                            f"{exc}" + (f"\n[output before it died]\n{before}" if before else "")
                        ) from None
                return self._result(out, status, timed_out, self.cwd, True, started)
            if trailer_bytes is not None:
                trailer_bytes += chunk
            else:
                self._pending += chunk

    def _drain_idle_output(self) -> None:
        """Collect what arrived between commands; notice a shell that died while idle."""
        if self._proc is None:
            return
        while not self._eof:
            try:
                chunk = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            if not chunk:
                self._eof = True
                self._died_unreported = True
                return
            self._pending += chunk

    def _parse_trailer(self, trailer: bytes, m_tok: bytes) -> tuple[int | None, str]:
        head, _, jobs = trailer.partition(m_tok)
        rc_text, _, cwd_bytes = head.partition(b":")
        try:
            exit_code: int | None = int(rc_text)
        except ValueError:
            exit_code = None
        self.cwd = cwd_bytes.decode("utf-8", errors="replace")
        self._bg_jobs = [int(j) for j in jobs.split() if j.isdigit()]
        return exit_code, self.cwd

    def _result(
        self,
        out: BoundedOutput,
        exit_code: int | None,
        timed_out: bool,
        cwd: str,
        restarted: bool,
        started: float,
    ) -> ShellResult:
        return ShellResult(
            output=out.text(),
            exit_code=exit_code,
            timed_out=timed_out,
            truncated=out.truncated,
            total_bytes=out.total,
            cwd=cwd,
            restarted=restarted,
            duration_s=time.monotonic() - started,
            session=self.name,
        )
