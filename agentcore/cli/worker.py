"""``agentcore worker <definition.yaml>``: a process that executes durable runs of the file's agents."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from typing import Any

from .common import EXIT_OK, EXIT_USAGE


def add_worker_parser(sub: Any) -> None:
    p = sub.add_parser("worker", help="execute durable runs of a definition's agents (DBOS on Postgres)")
    p.add_argument("file", help="the YAML definition whose agents this worker runs")
    p.add_argument(
        "--dsn",
        default=os.environ.get("AGENTCORE_DURABLE_DSN"),
        help="the Postgres database the workers share (default: $AGENTCORE_DURABLE_DSN)",
    )
    p.add_argument("--concurrency", type=int, metavar="N", help="runs this worker executes at once")
    p.add_argument(
        "--executor-id", metavar="ID", help="this worker's id (default: agentcore-HOST-PID-RANDOM)"
    )
    p.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="VENDOR=N",
        help="at most N model calls of VENDOR (openai, anthropic, openai-chat…) at once over every worker",
    )
    p.add_argument("--allow", action="append", default=[], metavar="MODULE")
    p.add_argument(
        "--traces",
        metavar="DSN|DIR",
        default=os.environ.get("AGENTCORE_TRACE_STORE") or None,
        help="write this worker's spans to that trace store: a postgresql:// DSN the fleet shares, or a "
        "directory (default: $AGENTCORE_TRACE_STORE; none)",
    )
    p.add_argument("--trace-content", action="store_true", help="record message content in the traces")


def cmd_worker(args: argparse.Namespace) -> int:
    import asyncio  # here: `agentcore --help` builds this parser and should not pay for it

    if not args.dsn:
        print("agentcore worker: give --dsn (or set AGENTCORE_DURABLE_DSN)", file=sys.stderr)
        return EXIT_USAGE
    try:
        from ..durable import Worker
    except ImportError as exc:
        print(f"agentcore worker needs the durable extra (agentcore[durable]): {exc}", file=sys.stderr)
        return EXIT_USAGE
    limits: dict[str, int] = {}
    for spec in args.limit:
        vendor, _, count = spec.partition("=")
        if not vendor or not count.isdigit() or int(count) < 1:
            print(f"agentcore worker: --limit wants VENDOR=N (N >= 1), not {spec!r}", file=sys.stderr)
            return EXIT_USAGE
        limits[vendor] = int(count)
    from ..definitions import load

    definition = load(args.file, allow=args.allow)
    definition.build()
    worker = Worker(
        args.dsn,
        dict(definition.agents),
        executor_id=args.executor_id,
        concurrency=args.concurrency,
        vendor_limits=limits,
        traces=args.traces,
        trace_content=args.trace_content,
    )

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, worker.stop)
        await worker.start()
        print(f"agentcore worker {worker.executor_id} ready", file=sys.stderr, flush=True)
        await worker.serve()

    asyncio.run(serve())
    return EXIT_OK
