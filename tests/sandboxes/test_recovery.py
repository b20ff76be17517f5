"""Issue 12, items 1, 3 and 7: a full workspace, a timed-out double fork and a fork bomb are each told
to the model and leave a working sandbox, driven through the same tool functions an agent's calls use.

Parametrized over the backends with real isolation and limits (local, docker); the double-fork case
also runs on the e2b and modal stand-ins, whose processes live in a private PID namespace (as root).
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any

import pytest

from agentcore.context import RunContext
from agentcore.errors import ToolError
from agentcore.messages import Usage
from agentcore.sandboxes.base import Sandbox

from .backends import sandbox_config
from .conftest import MakeSandbox, require

BACKEND_NAMES = ("local", "docker")

ALLOCATE = (
    "python3 -c \"import sys; n = int(sys.argv[1]); b = bytearray(n << 20); b[::4096] = b'x' * len(b[::4096]); "
    "print('allocated', n, 'MiB')\" "
)


def _ctx(sandbox: Sandbox) -> RunContext[Any]:
    return RunContext(
        deps=None,
        agent=None,  # type: ignore[arg-type]
        run_id="test",
        usage=Usage(),
        items=[],
        sandbox=sandbox,
    )


class Tools:
    """The agent's tools of one sandbox, called as the runner calls them."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.ctx = _ctx(sandbox)
        self.by_name = {t.name: t for t in sandbox.tools()}

    async def __call__(self, name: str, **arguments: Any) -> str:
        result = await self.by_name[name].invoke(self.ctx, arguments)
        assert isinstance(result, str)
        return result

    async def shell(self, command: str, seconds: float | None = None) -> str:
        """The ``shell`` tool (``seconds``: its ``timeout`` argument)."""
        arguments: dict[str, Any] = {"command": command}
        if seconds is not None:
            arguments["timeout"] = seconds
        return await self("shell", **arguments)


def _status(result: str) -> str:
    """The status line the shell tool appends (``[exit code 0; cwd /workspace]``)."""
    return result.rstrip().rsplit("\n", 1)[-1]


# --------------------------------------------------------------------------- item 1: disk full


async def test_item1_disk_full_is_enospc_and_the_sandbox_survives(make_sandbox: MakeSandbox) -> None:
    # the audited case at a small scale: the workspace as large as the memory limit
    sandbox = await make_sandbox(memory_mb=128, disk_mb=128, tmp_mb=32)
    tools = Tools(sandbox)
    assert (await tools("write_file", path="notes.txt", content="kept\n")).startswith("wrote")

    filled = await tools.shell(
        "dd if=/dev/zero of=big bs=1M count=400; echo rc=$?; stat -c %s big", seconds=120
    )
    assert "No space left on device" in filled, filled
    assert "rc=1" in filled
    assert _status(filled) == "[exit code 0; cwd /workspace]", filled  # no kill, no restart
    size = int(filled.split("rc=1\n", 1)[1].split()[0])
    assert (sandbox.config.disk_mb - 1) << 20 <= size <= sandbox.config.disk_mb << 20
    tmp = await tools.shell("head -c 100M /dev/zero > /tmp/big; echo rc=$?; stat -c %s /tmp/big")
    assert "rc=1" in tmp and int(tmp.split("rc=1\n", 1)[1].split()[0]) <= sandbox.config.tmp_mb << 20

    # every tool keeps working; a write says why it fails
    with pytest.raises(ToolError, match=r"(?i)no space"):
        await tools("write_file", path="more.txt", content="x" * 200_000)
    assert await tools("read_file", path="notes.txt") == "kept\n"
    assert "big" in await tools("list_files", path=".")
    assert (await sandbox.exec(["cat", "notes.txt"])).stdout == b"kept\n"
    # the files take none of the processes' memory: most of memory_mb is still there
    allocated = await tools.shell(ALLOCATE + str(sandbox.config.memory_mb * 3 // 4))
    assert f"allocated {sandbox.config.memory_mb * 3 // 4} MiB" in allocated, allocated
    assert _status(allocated) == "[exit code 0; cwd /workspace]"
    # and memory is still bounded: a process that takes more than everything is killed, alone
    too_much = sandbox.config.memory_limit_mb + 64
    bomb = await tools.shell(ALLOCATE + str(too_much))
    assert f"allocated {too_much} MiB" not in bomb and "exit code 137" in bomb and "restarted" not in bomb

    freed = await tools.shell("rm big /tmp/big && echo freed")
    assert freed.startswith("freed\n")
    assert (await tools("write_file", path="more.txt", content="x" * 200_000)).startswith("wrote 200,000")


# --------------------------------------------------------------------------- item 3: timeout vs double fork

SURVIVORS = ("sleep 1001", "sleep 1002", "sleep 1003", "sleep 1004")
STRAYS = ("sleep 2001", "sleep 2002", "sleep 2003", "sleep 2004", "sleep 2005", "sleep 2006")
LIST_PROCESSES = "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done 2>/dev/null"


async def _sleeps(sandbox: Sandbox) -> set[str]:
    """The ``sleep NNNN`` processes in the sandbox (an exec: the shell may be busy)."""
    listing = (await sandbox.exec(["bash", "-c", LIST_PROCESSES])).text
    return {line.strip() for line in listing.splitlines() if re.fullmatch(r"sleep \d{4}", line.strip())}


async def _check_double_forks_are_killed(sandbox: Sandbox) -> None:
    tools = Tools(sandbox)
    # started by earlier commands, in and out of the shell's tree: a later timeout must spare them
    before = await tools.shell(
        "f() { echo same-shell; }; export KEEP=kept; "
        "{ (sleep 1001 &); (setsid sleep 1002 &); setsid -f sleep 1003; sleep 1004 & } >/dev/null 2>&1; "
        "echo started"
    )
    assert before.startswith("started\n"), before
    timed_out = await tools.shell(
        "(sleep 2001 &); (setsid sleep 2002 &); setsid -f sleep 2003; "
        "(setsid sh -c 'sleep 2004 & exec sleep 2005' &); sleep 2006",
        seconds=2,
    )
    assert "timed out after 2s" in timed_out, timed_out
    assert "restarted" not in timed_out  # the shell itself survives
    for _ in range(50):  # a killed process may linger a moment as a zombie (no cmdline)
        seen = await _sleeps(sandbox)
        if not seen & set(STRAYS):
            break
        await asyncio.sleep(0.1)
    assert seen == set(SURVIVORS), seen
    after = await tools.shell("f; echo $KEEP")
    assert after.startswith("same-shell\nkept\n"), after  # same shell: its function is still there
    assert _status(after) == f"[exit code 0; cwd {sandbox.config.workdir}]"
    # interrupting a command (what a cancelled tool call does) sweeps the same way
    run = asyncio.ensure_future(sandbox.shell("(setsid sleep 2001 &); sleep 2002", timeout=60))
    for _ in range(100):
        if {"sleep 2001", "sleep 2002"} <= await _sleeps(sandbox):
            break
        await asyncio.sleep(0.05)
    await sandbox.interrupt()
    result = await asyncio.wait_for(run, 30)
    assert result.exit_code == 137 and not result.restarted
    for _ in range(50):
        seen = await _sleeps(sandbox)
        if seen == set(SURVIVORS):
            break
        await asyncio.sleep(0.1)
    assert seen == set(SURVIVORS), seen


async def test_item3_timeout_kills_double_forked_processes(sandbox: Sandbox) -> None:
    await _check_double_forks_are_killed(sandbox)


@pytest.mark.parametrize("stand_in", ["e2b", "modal"])
async def test_item3_timeout_kills_double_forked_processes_on_stand_ins(stand_in: str) -> None:
    """The e2b and modal adapters over their offline stand-ins: same protocol, same sweep (their
    processes live in a private PID namespace only when the tests run as root)."""
    if os.geteuid() != 0:
        pytest.skip("the stand-ins share the host's PID namespace without root")
    backend = require(stand_in)
    sandbox = await backend.factory(sandbox_config())
    await sandbox.start()
    try:
        await _check_double_forks_are_killed(sandbox)
    finally:
        await sandbox.close()


# --------------------------------------------------------------------------- item 7: fork bomb

LIMIT_REACHED = "process limit reached ({pids} processes)"

PY_BOMB = (
    'python3 -c "import os, time\n'
    "n = 0\n"
    "for _ in range(5000):\n"
    "    try:\n"
    "        pid = os.fork()\n"
    "    except OSError:\n"
    "        break\n"
    "    if pid == 0:\n"
    "        time.sleep(1000); os._exit(0)\n"
    "    n += 1\n"
    "print('forked', n)\""
)
"""Forks until the limit, leaves its children sleeping and ends normally."""


async def _recovered(tools: Tools, sandbox: Sandbox) -> None:
    """The next command works: it forks, it sees cwd and variables, nothing of the bomb is left."""
    after = await tools.shell(
        "ls / >/dev/null && pwd && echo $KEEP && ls /proc | grep -c '^[0-9]'", seconds=20
    )
    lines = after.splitlines()
    assert lines[:2] == ["/workspace/sub", "kept"], after
    assert int(lines[2]) < 16, after  # the bomb's processes are gone
    assert _status(after) == "[exit code 0; cwd /workspace/sub]", after
    assert (await sandbox.exec(["true"])).exit_code == 0
    assert await tools("read_file", path="sub/data.txt") == "data\n"


async def test_item7_fork_bomb_is_reported_and_recovered(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox(pids=64)
    reached = LIMIT_REACHED.format(pids=64)
    tools = Tools(sandbox)
    await tools("write_file", path="sub/data.txt", content="data\n")
    await tools.shell("cd sub && export KEEP=kept")

    # a bomb that holds the limit until its command times out (the shell cannot fork meanwhile)
    held = await tools.shell("for i in $(seq 1000); do sleep 1000 & done; wait", seconds=8)
    assert reached in held and "timed out after 8s" in held, held
    await _recovered(tools, sandbox)

    # a bomb that ends normally and leaves its processes holding the limit
    left = await tools.shell(PY_BOMB, seconds=60)
    assert left.startswith("forked "), left
    assert int(left.split()[1]) < 64
    assert reached in left and "exit code 0" in left, left
    await _recovered(tools, sandbox)

    # the classic: it returns at once and holds the limit from the background; the command that finds
    # it (this one or a later one: the shell cannot fork meanwhile) says so
    told = await tools.shell(":(){ :|:& };:")
    for _ in range(3):
        if reached in told:
            break
        told = await tools.shell("ls / >/dev/null; echo probe", seconds=25)
    assert reached in told, told
    await _recovered(tools, sandbox)
