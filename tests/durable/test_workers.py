"""Durable runs for real: Postgres, DBOS, `agentcore worker` processes, SIGKILL, a scripted model server."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.durable.fleet import Fleet, ScriptedChat, ledger, wait_for, write_definition


async def _collect(stream: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event async for event in stream]


@pytest.fixture
def chat() -> ScriptedChat:
    emulator = ScriptedChat()
    emulator.start()
    try:
        yield emulator  # type: ignore[misc]
    finally:
        emulator.stop()


async def test_killed_worker_resumes_on_another_without_repeating(
    pg_dsn: str, chat: ScriptedChat, tmp_path: Path
) -> None:
    from agentcore.durable import DurableRunner

    definition = write_definition(tmp_path, chat.base_url)
    book = tmp_path / "ledger.txt"
    runner = DurableRunner(pg_dsn)
    with Fleet(definition, pg_dsn, tmp_path, book) as fleet:
        a = fleet.start("a", stall="r1:2")  # worker A hangs inside the third tool call, after its effect
        run_id = await runner.submit("clerk", "r1 5", stream=True)
        events = asyncio.ensure_future(_collect(runner.events(run_id)))
        await asyncio.to_thread(wait_for, lambda: any(k == 2 for _, k, _ in ledger(book)))
        a.send_signal(signal.SIGKILL)
        a.wait()
        b = fleet.start("b")
        try:
            result = await asyncio.wait_for(runner.result(run_id), 180)
            streamed = await asyncio.wait_for(events, 60)
        except Exception:
            print(fleet.logs())
            raise
        finally:
            runner.close()
    assert result.run_id == run_id
    # the event stream, written by A and then B, has every event once
    finished = [e["call"]["call_id"] for e in streamed if e["type"] == "ToolCallFinished"]
    assert finished == [f"call_r1_{k}" for k in range(5)]
    assert [e["type"] for e in streamed].count("TurnCompleted") == 5
    assert result.final_output == "done r1"
    lines = ledger(book)
    # each call's side effect happened once: 0-2 on A (2 was interrupted there), 3-4 on B
    assert Counter((tag, k) for tag, k, _ in lines) == {("r1", k): 1 for k in range(5)}
    assert {k for _, k, pid in lines if pid == a.pid} == {0, 1, 2}
    assert {k for _, k, pid in lines if pid == b.pid} == {3, 4}
    # and each model request was made once: the ones A completed were replayed from the record
    assert chat.model_requests() == {("r1", k): 1 for k in range(6)}
    # the interrupted call was not run again; the model read that it may have run
    results = [i for i in result.new_items if i.get("type") == "tool_result"]
    interrupted = [r for r in results if r["call_id"] == "call_r1_2"]
    assert interrupted and interrupted[0]["is_error"] and "stopped before" in interrupted[0]["output"]


@pytest.mark.parametrize("runs,workers", [(200, 4)])
async def test_many_runs_over_workers_complete_exactly_once(
    pg_dsn: str, chat: ScriptedChat, tmp_path: Path, runs: int, workers: int
) -> None:
    from agentcore.durable import DurableRunner

    definition = write_definition(tmp_path, chat.base_url)
    book = tmp_path / "ledger.txt"
    runner = DurableRunner(pg_dsn)
    with Fleet(definition, pg_dsn, tmp_path, book) as fleet:
        procs = [fleet.start(f"w{i}", concurrency=8) for i in range(workers)]
        ids = [await runner.submit("clerk", f"t{i} 3") for i in range(runs)]
        try:
            results = await asyncio.wait_for(asyncio.gather(*(runner.result(r) for r in ids)), 600)
        except Exception:
            print(fleet.logs())
            raise
        finally:
            runner.close()
    assert [r.final_output for r in results] == [f"done t{i}" for i in range(runs)]
    lines = ledger(book)
    assert Counter((tag, k) for tag, k, _ in lines) == {
        (f"t{i}", k): 1 for i in range(runs) for k in range(3)
    }
    assert chat.model_requests() == {(f"t{i}", k): 1 for i in range(runs) for k in range(4)}
    used = {pid for _, _, pid in lines}
    assert used <= {p.pid for p in procs}


async def test_durable_runs_continue_a_postgres_session(
    pg_dsn: str, chat: ScriptedChat, tmp_path: Path
) -> None:
    from agentcore.durable import DurableRunner
    from agentcore.messages import ToolResult, UserMessage
    from agentcore.sessions.postgres import PostgresSession

    definition = write_definition(tmp_path, chat.base_url)
    book = tmp_path / "ledger.txt"
    runner = DurableRunner(pg_dsn)
    with Fleet(definition, pg_dsn, tmp_path, book) as fleet:
        fleet.start("a")
        fleet.start("b")
        try:
            first = await asyncio.wait_for(runner.run("clerk", "s1 2", session_id="conv"), 180)
            # the second run reads the first one's history: the script answers from its first message
            second = await asyncio.wait_for(runner.run("clerk", "more", session_id="conv"), 180)
        finally:
            runner.close()
    assert first.final_output == "done s1"
    assert second.final_output == "done s1"
    snap = await PostgresSession("conv", pg_dsn).load()
    assert [i.text for i in snap.items if isinstance(i, UserMessage)] == ["s1 2", "more"]
    assert [i.call_id for i in snap.items if isinstance(i, ToolResult)] == ["call_s1_0", "call_s1_1"]
    assert snap.active_agent == "clerk"


async def test_a_run_paused_for_approval_on_one_worker_resumes_on_another(
    pg_dsn: str, chat: ScriptedChat, tmp_path: Path
) -> None:
    from agentcore.durable import DurableRunner

    definition = write_definition(tmp_path, chat.base_url)
    book = tmp_path / "ledger.txt"
    runner = DurableRunner(pg_dsn)

    async def waiting_on(run_id: str, call_id: str) -> None:
        for _ in range(100_000):  # bounded by the wait_for around it
            if call_id in {c["call_id"] for c in await runner.pending(run_id, wait=1)}:
                return
            await asyncio.sleep(0.1)

    with Fleet(definition, pg_dsn, tmp_path, book) as fleet:
        a = fleet.start("a")
        try:
            run_id = await runner.submit("gatekeeper", "g1 2")
            await asyncio.wait_for(waiting_on(run_id, "call_g1_0"), 120)
            a.send_signal(signal.SIGKILL)  # the worker holding the paused run dies
            a.wait()
            b = fleet.start("b")
            await runner.decide(run_id, {"call_g1_0": True})
            await asyncio.wait_for(waiting_on(run_id, "call_g1_1"), 120)
            await runner.decide(run_id, {"call_g1_1": (False, "not this one")})
            result = await asyncio.wait_for(runner.result(run_id), 120)
        except Exception:
            print(fleet.logs())
            raise
        finally:
            runner.close()
    assert result.final_output == "done g1"
    assert ledger(book) == [("g1", 0, b.pid)]  # approved once, run once, on B; the rejected call never ran
    assert chat.model_requests() == {("g1", k): 1 for k in range(3)}
    rejected = [
        i for i in result.new_items if i.get("call_id") == "call_g1_1" and i.get("type") == "tool_result"
    ]
    assert rejected and "not this one" in rejected[0]["output"]


async def test_a_vendor_limit_holds_over_every_worker(pg_dsn: str, tmp_path: Path) -> None:
    from agentcore.durable import DurableRunner

    chat = ScriptedChat(delay=0.05)
    chat.start()
    definition = write_definition(tmp_path, chat.base_url)
    runner = DurableRunner(pg_dsn)
    try:
        with Fleet(definition, pg_dsn, tmp_path, tmp_path / "ledger.txt") as fleet:
            for name in ("a", "b"):
                fleet.start(name, concurrency=4, extra=("--limit", "openai-chat=2"))
            ids = [await runner.submit("clerk", f"v{i} 2") for i in range(8)]
            results = await asyncio.wait_for(asyncio.gather(*(runner.result(r) for r in ids)), 300)
    finally:
        runner.close()
        chat.stop()
    assert [r.final_output for r in results] == [f"done v{i}" for i in range(8)]
    assert chat.model_requests() == {(f"v{i}", k): 1 for i in range(8) for k in range(3)}
    assert chat.max_in_flight <= 2  # eight runs at once on two workers, never more than two calls
