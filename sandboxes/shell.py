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
  after the killed job (``sleep 100; echo done``) still run: their output may appear. A process that
  left the shell's tree (``(cmd &)``, ``setsid cmd &``) was re-parented to the sandbox's pid 1: the
  children of pid 1 are recorded after every command (by the trailer, or host-side by the backend),
  and the trees that appeared under pid 1 since are killed too (mode ``new`` of ``__ac_kill_groups``).
  Shell death (EOF: ``exit``, ``exec``, OOM) → ``restarted=True``, the exit
  status is the result's exit code, and the next command gets a new shell with cwd and exported
  variables restored from the state file.
* process limit: when a command ends crowded, times out, or takes the shell with it while the sandbox
  is at its process limit (a fork bomb holds it), every process in the sandbox is killed (mode
  ``every``), the shell restarts, and the result says so (``process_limit``). The backend tells
  without starting a process (``Sandbox._at_process_limit``).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping

from agentcore.errors import SandboxDied, SandboxError

from ._kill import KILL_GROUPS_SCRIPT, READ_ORPHANS, OrphanSource, parse_pids
from .shell_stream import (
    BoundedOutput,
    KillGroups,
    OpenProcess,
    OutputCallback,
    ShellProcess,
    ShellResult,
    ansi_c_quote,
)

__all__ = [
    "KILL_GROUPS_SCRIPT",
    "BoundedOutput",
    "OutputCallback",
    "ShellProcess",
    "ShellResult",
    "ShellSession",
    "ansi_c_quote",
]


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
        orphans: OrphanSource = None,
        at_process_limit: Callable[[], Awaitable[bool]] | None = None,
        process_limit: int | None = None,
        restore_state: bool = False,
    ) -> None:
        self.name = name
        self._check_alive = check_alive
        self._orphan_source = orphans
        self._at_limit = at_process_limit
        self._process_limit = process_limit
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
        self._orphans: list[int] | None = None
        """Children of pid 1 after the last command (None: unknown, no sweep)."""
        self._has_state = restore_state and persist_state
        """Whether the first shell sources the state file (a sandbox reattached from another owner)."""
        self._died_unreported = False
        self._limit_unreported = False
        self._closed = False
        self.cwd: str = workdir

    # ------------------------------------------------------------------ lifecycle

    async def _ensure_started(self) -> None:
        if self._proc is not None and not self._eof:
            return
        try:
            await self._start_process()
        except SandboxError:
            # no shell can start while a fork bomb holds the process limit: end it, then try again
            if not await self._end_fork_bomb():
                raise
            self._limit_unreported = True
            await self._start_process()

    async def _start_process(self) -> None:
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
        in_band = self._orphan_source == "in-band"
        if in_band:
            script += READ_ORPHANS
        orphans_word = '"$__ac_o"' if in_band else "-"
        script += f"printf '%s%s %s%s\\n' H{token} $$ {orphans_word} H{token}; " + _READ_LOOP
        await proc.write(script.encode())
        marker = f"H{token}".encode()
        deadline = time.monotonic() + 30.0
        while True:
            start = self._pending.find(marker)
            if start >= 0:
                end = self._pending.find(marker, start + len(marker))
                if end >= 0:
                    pid_text, _, orphans = bytes(self._pending[start + len(marker) : end]).partition(b" ")
                    del self._pending[: end + len(marker) + 1]
                    self.shell_pid = int(pid_text)
                    self._bg_jobs = []
                    self._orphans = parse_pids(orphans) if in_band else self._host_orphans()
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
        """Kill what the running command started (the shell survives)."""
        if self.shell_pid is not None:
            await self._kill_command()

    async def _kill_command(self) -> None:
        """Kill the running command's processes: its process groups below the shell, and (when pid 1's
        children before the command are known) the trees it re-parented to pid 1."""
        assert self.shell_pid is not None
        if self._orphans is None:
            await self._kill_groups(self.shell_pid, "fg", self._bg_jobs)
        else:
            await self._kill_groups(self.shell_pid, "new", [*self._bg_jobs, *self._orphans])

    def _host_orphans(self) -> list[int] | None:
        source = self._orphan_source
        if source is None or source == "in-band":
            return None
        try:
            return source()
        except Exception:
            return None

    async def _end_fork_bomb(self) -> bool:
        """When the sandbox is at its process limit now (a fork bomb holds it), kill every process in it,
        the shell with them, and return True. False when it is not, or the backend cannot tell."""
        if self._at_limit is None:
            return False
        try:
            reached = await self._at_limit()
        except Exception:
            return False
        if reached:
            with contextlib.suppress(Exception):
                await self._kill_groups(self.shell_pid or 0, "every", ())
        return reached

    def _crowded(self) -> bool:
        """After a normal end: does the shell's process count suggest a held process limit? (Asking
        the backend may cost a round trip: only then.)"""
        if self._process_limit is None:
            return False
        count = len(self._bg_jobs) + len(self._orphans or ())
        return count >= max(2, min(16, self._process_limit // 2))

    @property
    def busy(self) -> bool:
        """A command is running (or the shell is being started or replaced)."""
        return self._lock.locked()

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
        limit_hit, self._limit_unreported = self._limit_unreported, False
        restarted = restarted or limit_hit
        proc = self._proc
        assert proc is not None and self.shell_pid is not None
        token = secrets.token_hex(10)
        s_tok, m_tok, e_tok = f"__AC{token}S_".encode(), f"_{token}M__".encode(), f"__AC{token}E__".encode()
        trailer = "__ac_rc=$?; __ac_post=; "
        trailer += (
            f'printf \'\\n%s%d:%s%s\\n\' {s_tok.decode()} "$__ac_rc" "$PWD" {m_tok.decode()}; jobs -p; '
        )
        if self._orphan_source == "in-band":
            trailer += READ_ORPHANS + "printf 'o%s\\n' \"$__ac_o\"; "
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
                    if self._crowded() and await self._end_fork_bomb():
                        await self._discard_process()  # killed with everything else
                        return self._result(out, exit_code, timed_out, cwd, True, started, limit_hit=True)
                    return self._result(
                        out, exit_code, timed_out, cwd, restarted, started, limit_hit=limit_hit
                    )
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
                        # a fork bomb holding the limit: everything goes (the shell too: EOF follows)
                        limit_hit = await self._end_fork_bomb() or limit_hit
                    last_kill = now
                    if not limit_hit:
                        with contextlib.suppress(Exception):
                            await self._kill_command()
                    continue
                # the command ignored the kill (a builtin loop runs inside the shell itself): restart
                emit(bytes(self._pending))
                self._pending = bytearray()
                await self._discard_process()
                return self._result(out, None, True, self.cwd, True, started, limit_hit=limit_hit)
            if chunk == _EOF:
                # the shell itself ended: `exit`, `exec`, OOM kill, killed from outside
                if trailer_bytes is None:
                    emit(bytes(self._pending))
                self._pending = bytearray()
                status: int | None = None
                with contextlib.suppress(Exception):
                    status = await asyncio.wait_for(proc.wait(), 10)
                if self._check_alive is not None:  # the shell, or the whole sandbox?
                    try:
                        await self._check_alive()
                    except SandboxDied as exc:
                        await self._discard_process()
                        before = out.getvalue().decode(errors="replace")
                        raise SandboxDied(
                            f"{exc}" + (f"\n[output before it died]\n{before}" if before else "")
                        ) from None
                # bash gives up on a fork that fails for 15 s: a fork bomb may have taken the shell
                limit_hit = limit_hit or await self._end_fork_bomb()
                await self._discard_process()
                return self._result(out, status, timed_out, self.cwd, True, started, limit_hit=limit_hit)
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
        self._bg_jobs = []
        orphans: list[int] | None = None
        for line in jobs.splitlines():
            if line.startswith(b"o"):
                orphans = parse_pids(line[1:])
            elif line.isdigit():
                self._bg_jobs.append(int(line))
        self._orphans = orphans if self._orphan_source == "in-band" else self._host_orphans()
        return exit_code, self.cwd

    def _result(
        self,
        out: BoundedOutput,
        exit_code: int | None,
        timed_out: bool,
        cwd: str,
        restarted: bool,
        started: float,
        *,
        limit_hit: bool = False,
    ) -> ShellResult:
        return ShellResult(
            output=out.text(),
            exit_code=exit_code,
            timed_out=timed_out,
            truncated=out.truncated,
            total_bytes=out.total,
            cwd=cwd,
            restarted=restarted,
            process_limit=self._process_limit if limit_hit else None,
            duration_s=time.monotonic() - started,
            session=self.name,
        )
