"""A fleet of durable agents: N `agentcore worker` processes share a Postgres queue; this script submits
runs, waits for every result and stops the workers.

    python examples/durable/run_fleet.py --dsn postgresql://user:pass@127.0.0.1:5432/agents \\
        --base-url http://127.0.0.1:8000/v1 --model llama3 --workers 3 --runs 20

Kill a worker while it runs (``kill -9``): the others take its runs over, without filing a ticket twice.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent


def start_workers(count: int, dsn: str, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    cmd = [sys.executable, "-m", "agentcore.cli", "worker", str(HERE / "fleet.yaml"), "--dsn", dsn]
    return [subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE) for _ in range(count)]


def wait_ready(procs: list[subprocess.Popen[bytes]]) -> None:
    """Wait for each worker's "ready" line, then pass its output on (a pipe nobody reads would fill)."""
    for proc in procs:
        assert proc.stderr is not None
        for line in iter(proc.stderr.readline, b""):
            sys.stderr.write(line.decode(errors="replace"))
            if b" ready" in line:
                break
        else:
            raise SystemExit(f"a worker exited with {proc.wait()} before it was ready")
        threading.Thread(target=_relay, args=(proc.stderr,), daemon=True).start()


def _relay(stream: IO[bytes]) -> None:
    for line in iter(stream.readline, b""):
        sys.stderr.write(line.decode(errors="replace"))


async def submit_all(dsn: str, runs: int) -> None:
    from agentcore.durable import DurableRunner

    runner = DurableRunner(dsn)
    try:
        started = time.perf_counter()
        ids = [await runner.submit("clerk", f"Ticket {n}: the printer on floor {n % 7} is jammed") for n in range(runs)]
        results = await asyncio.gather(*(runner.result(run_id) for run_id in ids))
        for result in results:
            print(f"{result.run_id}  {result.final_output}  ({result.turns} turns)")
        print(f"{runs} runs in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    finally:
        runner.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default=os.environ.get("AGENTCORE_DURABLE_DSN"), required=False)
    parser.add_argument("--base-url", default=os.environ.get("MODEL_BASE_URL", "http://127.0.0.1:8000/v1"))
    parser.add_argument("--model", default=os.environ.get("MODEL", "llama3"))
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if not args.dsn:
        parser.error("give --dsn (or set AGENTCORE_DURABLE_DSN)")
    env = {**os.environ, "MODEL": args.model, "MODEL_BASE_URL": args.base_url}
    env.setdefault("OPENAI_API_KEY", "local")  # a local server needs no key; the SDK wants one set
    procs = start_workers(args.workers, args.dsn, env)
    try:
        wait_ready(procs)
        asyncio.run(submit_all(args.dsn, args.runs))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
