"""One SQLite session, several processes: a cross-process lock per session (issue 11, item 16).

Each process runs ``RUNNER`` (below): an agent on a slow scripted model over a shared session. A second
run waits for the first and then continues the conversation after it, or gives up with ``SessionBusy``;
it never interleaves. A crashed owner's lock (SIGKILL: no release, no heartbeat) expires.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentcore.errors import SessionBusy
from agentcore.messages import ToolCall, ToolResult, UserMessage
from agentcore.sessions.sqlite import SQLiteSession

RUNNER = r"""
import asyncio, sys
from pathlib import Path
from agentcore import Agent, Runner, tool
from agentcore.errors import SessionBusy
from agentcore.sessions.sqlite import SQLiteSession
from agentcore.testing import ScriptedModel, tool_call

db, label, turns, delay, timeout, ttl, marker = sys.argv[1:8]
turns, delay, timeout, ttl = int(turns), float(delay), float(timeout), float(ttl)

class SlowModel(ScriptedModel):
    async def respond(self, request):
        Path(marker).touch()  # the run holds the session from here on
        if delay < 0:  # hold it until the test says so
            while not Path(marker + ".release").exists():
                await asyncio.sleep(0.02)
        await asyncio.sleep(max(delay, 0))
        return await super().respond(request)

@tool
def note(n: int) -> str:
    '''Take a note.'''
    return f"{label}-{n}"

steps = [tool_call("note", {"n": i}) for i in range(turns - 1)] + [f"{label} done"]
agent = Agent(name=label, model=SlowModel(steps), tools=[note])
session = SQLiteSession("shared", db, lock_timeout=timeout, lock_ttl=ttl)
try:
    result = Runner.run_sync(agent, f"{label} go", session=session, max_turns=turns + 1)
except SessionBusy as exc:
    print("SessionBusy", exc.holder, f"{exc.waited:.1f}", flush=True)
    sys.exit(7)
print("ok", result.final_output, flush=True)
"""


def _start(
    tmp_path: Path, label: str, *, turns: int, delay: float, timeout: float = 60.0, ttl: float = 30.0
) -> tuple[subprocess.Popen[str], Path]:
    marker = tmp_path / f"{label}.started"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUNNER,
            str(tmp_path / "s.db"),
            label,
            str(turns),
            str(delay),
            str(timeout),
            str(ttl),
            str(marker),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, marker


def _wait_for(marker: Path, proc: subprocess.Popen[str]) -> None:
    for _ in range(1200):
        if marker.exists():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before it started: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("the run did not start")


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def _owners(tmp_path: Path) -> list[str]:
    """The agent of every item of the shared conversation, in order."""
    snapshot = SQLiteSession("shared", tmp_path / "s.db")._load_sync()
    owners = []
    for item in snapshot.items:
        if isinstance(item, UserMessage):
            owners.append(item.text.split()[0])
        elif isinstance(item, ToolCall | ToolResult):
            owners.append(str(item.agent))
        else:
            owners.append(str(item.agent))
    return owners


def _runs_of(owners: list[str]) -> list[str]:
    """``["a", "a", "b", "b"]`` → ``["a", "b"]``: who wrote, in contiguous stretches."""
    runs: list[str] = []
    for owner in owners:
        if not runs or runs[-1] != owner:
            runs.append(owner)
    return runs


def test_item16_a_second_process_waits_and_never_interleaves(tmp_path: Path) -> None:
    first, started = _start(tmp_path, "a", turns=4, delay=0.4)
    _wait_for(started, first)
    second, _ = _start(tmp_path, "b", turns=4, delay=0.05)
    code_a, out_a, err_a = _finish(first)
    code_b, out_b, err_b = _finish(second)
    assert (code_a, code_b) == (0, 0), (err_a, err_b)
    assert "ok a done" in out_a and "ok b done" in out_b
    owners = _owners(tmp_path)
    assert _runs_of(owners) == ["a", "b"], owners  # a's whole run, then b's whole run
    assert owners.count("a") == owners.count("b") == 1 + 3 * 2 + 1
    assert SQLiteSession("shared", tmp_path / "s.db").lock_holder() is None  # released


def test_item16_a_second_process_gives_up_with_session_busy(tmp_path: Path) -> None:
    first, started = _start(tmp_path, "a", turns=3, delay=-1)
    _wait_for(started, first)
    second, _ = _start(tmp_path, "b", turns=2, delay=0.0, timeout=0.3)
    code_b, out_b, err_b = _finish(second)
    (tmp_path / "a.started.release").touch()  # a holds the session until b gave up
    code_a, _, err_a = _finish(first)
    assert code_a == 0, err_a
    assert code_b == 7, (out_b, err_b)
    assert out_b.startswith("SessionBusy pid ") and str(first.pid) in out_b
    assert _runs_of(_owners(tmp_path)) == ["a"]  # b wrote nothing, not even its input


def test_item16_a_crashed_owner_lock_expires(tmp_path: Path) -> None:
    crashed, started = _start(tmp_path, "a", turns=3, delay=3600, ttl=1.0)
    _wait_for(started, crashed)
    os.kill(crashed.pid, signal.SIGKILL)
    crashed.wait(timeout=30)
    with sqlite3.connect(tmp_path / "s.db") as db:  # the lock is still there: nobody released it
        rows = db.execute("SELECT holder FROM locks WHERE session_id = 'shared'").fetchall()
    assert rows == [(f"pid {crashed.pid}@{os.uname().nodename}",)]
    second, _ = _start(tmp_path, "b", turns=2, delay=0.0, timeout=60)
    code_b, out_b, err_b = _finish(second)
    assert code_b == 0, (out_b, err_b)
    assert _runs_of(_owners(tmp_path)) == ["a", "b"]  # a's input, then b's whole run


async def test_item16_an_append_by_another_while_the_lock_is_held_is_refused(tmp_path: Path) -> None:
    holder = SQLiteSession("shared", tmp_path / "s.db")
    other = SQLiteSession("shared", tmp_path / "s.db", lock_timeout=0.2)
    async with holder.lock():
        await holder.append([UserMessage.of("a mine")])
        with pytest.raises(SessionBusy):
            await other.append([UserMessage.of("b sneaks in")])
        with pytest.raises(SessionBusy) as busy:
            async with other.lock():
                pass
        assert busy.value.waited >= 0.2 and busy.value.session_id == "shared"
    async with other.lock():  # released: the other one gets it at once
        await other.append([UserMessage.of("b after")])
    assert [i.text for i in (await holder.load()).items] == ["a mine", "b after"]  # type: ignore[union-attr]


def test_item16_the_cli_exits_9_when_the_session_is_busy() -> None:
    from agentcore.cli.common import EXIT_BUSY, EXIT_CODES, exit_code_for
    from agentcore.errors import SessionBusy

    assert exit_code_for(SessionBusy("s1", holder="pid 1@host", waited=30.0)) == EXIT_BUSY == 9 and 9 in EXIT_CODES
