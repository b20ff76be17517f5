"""Durable runs (DBOS on Postgres): the cost of a step, and many short runs over worker processes.

1. Overhead per step, in one process: the same ten-turn tool loop (a scripted model, a no-op tool)
   run by the plain runner and as a durable workflow started directly in this process (no queue),
   interleaved; wall time (the cost is Postgres round trips, not CPU), median of the repeats,
   divided by the run's steps (model calls + tool calls).
2. Fan-out: ``--runs`` ten-turn runs submitted to the queue and executed by ``--workers``
   ``agentcore worker`` processes (``--concurrency`` runs at once each) against a local Chat
   Completions server that answers after ``--latency`` seconds; wall time from the first submit to
   the last result, against the ideal ``runs x 11 model calls x latency / (workers x concurrency)``,
   and the database load (transactions committed, per run and per second).

    python bench/durable.py --dsn postgresql://agentcore:agentcore@127.0.0.1:5432/agentcore_test
    python bench/durable.py --runs 1000 --workers 4 --concurrency 50   # the issue's fleet

The DSN defaults to $AGENTCORE_TEST_PG_DSN (.ci/postgres.sh prints one); a scratch database is
created on it and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from agentcore import Agent, Runner, tool  # noqa: E402
from agentcore.model import ModelRequest  # noqa: E402
from agentcore.testing import FunctionModel, Step, tool_call  # noqa: E402

TURNS = 10


@tool
async def step(n: int) -> int:
    """Advance."""
    return n + 1


def _script(request: ModelRequest) -> Step | str:
    done = sum(1 for i in request.items if getattr(i, "type", "") == "tool_result")
    return tool_call("step", {"n": done}) if done < TURNS else "done"


def bench_agent() -> Agent[Any]:
    return Agent(name="bench", model=FunctionModel(_script), tools=[step], max_turns=TURNS + 2)


async def overhead(dsn: str, repeats: int) -> None:
    from dbos import DBOS, SetWorkflowID

    from agentcore.durable import Worker
    from agentcore.durable.engine import durable_run

    agent = bench_agent()
    worker = Worker(dsn, {"bench": agent})
    await worker.start()
    plain: list[float] = []
    durable: list[float] = []
    steps = 2 * TURNS + 1  # model calls + tool calls
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            await Runner.run(agent, "go")
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            with SetWorkflowID(uuid.uuid4().hex):
                handle = await DBOS.start_workflow_async(durable_run, "bench", "go", None)
            await handle.get_result()
            durable.append(time.perf_counter() - start)
    finally:
        await worker.close()
    p, d = statistics.median(plain), statistics.median(durable)
    print(f"overhead per step ({TURNS}-turn run, {steps} steps, median of {repeats}):")
    print(f"  plain runner   {p * 1e3:8.2f} ms per run  {p / steps * 1e3:7.3f} ms per step")
    print(f"  durable (DBOS) {d * 1e3:8.2f} ms per run  {d / steps * 1e3:7.3f} ms per step")
    print(f"  overhead       {(d - p) / steps * 1e3:7.3f} ms per step")


async def _commits(dsn: str) -> int:
    import psycopg

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cur = await conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        row = await cur.fetchone()
        return int(row[0]) if row else 0


async def fleet(dsn: str, runs: int, workers: int, concurrency: int, latency: float) -> None:
    from agentcore.durable import DurableRunner
    from tests.durable.fleet import Fleet, ScriptedChat, write_definition

    class SlowChat(ScriptedChat):
        def _handle(self, request: Any) -> Any:
            time.sleep(latency)  # a thread per request: the model's latency, not a queue
            return super()._handle(request)

    chat = SlowChat()
    chat.start()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        definition = write_definition(folder, chat.base_url)
        runner = DurableRunner(dsn)
        try:
            with Fleet(definition, dsn, folder, folder / "ledger.txt") as procs:
                for i in range(workers):
                    procs.start(f"w{i}", concurrency=concurrency)
                before = await _commits(dsn)
                start = time.perf_counter()
                ids = await asyncio.gather(*(runner.submit("clerk", f"b{i} {TURNS}") for i in range(runs)))
                await asyncio.gather(*(runner.result(r) for r in ids))
                wall = time.perf_counter() - start
                commits = await _commits(dsn) - before
        finally:
            runner.close()
            chat.stop()
    ideal = runs * (TURNS + 1) * latency / (workers * concurrency)
    print(
        f"fan-out: {runs} runs x {TURNS} turns, {workers} workers x {concurrency} at once, "
        f"{latency * 1e3:.0f} ms model:"
    )
    print(f"  wall {wall:7.2f} s   ideal {ideal:6.2f} s   ({wall / ideal:.1f}x the ideal)")
    print(f"  database: {commits} commits, {commits / runs:.0f} per run, {commits / wall:.0f} per second")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default=os.environ.get("AGENTCORE_TEST_PG_DSN"))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    if not args.dsn:
        parser.error("give --dsn (or set AGENTCORE_TEST_PG_DSN)")
    import psycopg

    name = f"agentcore_bench_{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(args.dsn, autocommit=True) as admin:
        await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = urlunsplit(urlsplit(args.dsn)._replace(path=f"/{name}"))
    try:
        await overhead(dsn, args.repeats)
        await fleet(dsn, args.runs, args.workers, args.concurrency, args.latency)
    finally:
        async with await psycopg.AsyncConnection.connect(args.dsn, autocommit=True) as admin:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
