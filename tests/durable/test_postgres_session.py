"""PostgresSession on a real Postgres: the SQLite record format, runs that continue it, the lock."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from agentcore import Agent, Runner
from agentcore.errors import SessionBusy
from agentcore.messages import Usage, UserMessage
from agentcore.sessions import SQLiteSession
from agentcore.testing import ScriptedModel
from tests.durable.fleet import ROOT


async def test_same_records_as_sqlite_and_a_run_continues_it(pg_dsn: str, tmp_path: Path) -> None:
    from agentcore.sessions.postgres import PostgresSession

    pg = PostgresSession("chat-1", pg_dsn)
    lite = SQLiteSession("chat-1", tmp_path / "sessions.db")
    hi = UserMessage.of("hi")
    for s in (pg, lite):
        await s.append([hi], active_agent="a", caches={"k": {"v": 1}}, usage=Usage(input_tokens=3))
        await s.set_metadata(file="x.yaml")
    pg_records = [(seq, v, kind, payload) for seq, v, kind, payload, _ in await pg.records()]
    lite_records = [(seq, v, kind, payload) for seq, v, kind, payload, _ in lite.records()]
    assert pg_records == lite_records
    agent = Agent(name="a", model=ScriptedModel(["first", "second"]))
    await Runner.run(agent, "one", session=pg)
    result = await Runner.run(agent, "two", session=pg)
    assert result.final_output == "second"
    snap = await pg.load()
    assert [i.text for i in snap.items if isinstance(i, UserMessage)] == ["hi", "one", "two"]
    assert snap.metadata == {"file": "x.yaml"} and snap.active_agent == "a"
    await pg.clear()
    assert (await pg.load()).items == []
    assert await pg.delete()


async def test_one_run_at_a_time_and_a_killed_holder_frees_the_session(pg_dsn: str) -> None:
    from agentcore.sessions.postgres import PostgresSession

    first = PostgresSession("busy", pg_dsn)
    other = PostgresSession("busy", pg_dsn, lock_timeout=0.2)
    async with first.lock():
        await first.append([UserMessage.of("mine")])
        with pytest.raises(SessionBusy):
            async with other.lock():
                pass
        with pytest.raises(SessionBusy):
            await other.append([UserMessage.of("not mine")])
    async with other.lock():  # released
        pass
    # a process that holds the lock and is killed frees it at once (no expiry to wait for)
    code = (
        "import asyncio, sys\n"
        "from agentcore.sessions.postgres import PostgresSession\n"
        "async def main():\n"
        "    async with PostgresSession('busy', sys.argv[1]).lock():\n"
        "        print('held', flush=True)\n"
        "        await asyncio.sleep(3600)\n"
        "asyncio.run(main())\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        pg_dsn,
        stdout=asyncio.subprocess.PIPE,
        cwd=str(ROOT),
        env={"PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        assert (await proc.stdout.readline()).strip() == b"held"
        with pytest.raises(SessionBusy):
            async with other.lock():
                pass
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        patient = PostgresSession("busy", pg_dsn, lock_timeout=60)
        async with patient.lock():
            await patient.append([UserMessage.of("after the crash")])
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    texts = [i.text for i in (await patient.load()).items if isinstance(i, UserMessage)]
    assert texts == ["mine", "after the crash"]
