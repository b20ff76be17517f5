"""Traces in Postgres for multi-worker deployments: the same records as the JSONL store, written by
several worker processes into one database, read back by ``agentcore trace`` as intact trees."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.durable.fleet import ROOT, Fleet, ScriptedChat, ledger, write_definition


def _emit(provider: TracerProvider, run_id: str) -> str:
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("invoke_agent clerk", attributes={"agentcore.run.id": run_id}) as root:
        with tracer.start_as_current_span("chat scripted", attributes={"gen_ai.operation.name": "chat"}):
            pass
        with tracer.start_as_current_span("execute_tool append") as tool:
            tool.add_event("retry", {"attempt": 1})
    return format(root.get_span_context().trace_id, "032x")


async def test_the_postgres_store_keeps_the_jsonl_record_format(pg_dsn: str, tmp_path: Path) -> None:
    from agentcore.tracing import pgstore, store

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(pgstore.PostgresSpanExporter(pg_dsn)))
    provider.add_span_processor(SimpleSpanProcessor(store.JsonlSpanExporter(tmp_path)))
    trace_id = await asyncio.to_thread(_emit, provider, "run-1")
    await asyncio.to_thread(_emit, provider, "run-2")
    provider.shutdown()

    from_pg = await asyncio.to_thread(lambda: sorted(store.iter_spans(pg_dsn), key=lambda s: s["span_id"]))
    from_files = await asyncio.to_thread(
        lambda: sorted(store.iter_spans(tmp_path), key=lambda s: s["span_id"])
    )
    assert from_pg == from_files and len(from_pg) == 6  # one record format, whichever the store

    found = await asyncio.to_thread(store.find_trace, "run-1", pg_dsn)
    assert found is not None and found[0] == trace_id
    assert found == await asyncio.to_thread(store.find_trace, trace_id[:10], pg_dsn)
    assert found == await asyncio.to_thread(store.find_trace, "run-1", tmp_path)
    listed = await asyncio.to_thread(store.list_traces, pg_dsn)
    assert [t.run_id for t in listed] == ["run-2", "run-1"]  # newest first
    assert listed == await asyncio.to_thread(store.list_traces, tmp_path)

    # migrations: applied once, counted; a second connection finds nothing to do
    conn = await asyncio.to_thread(pgstore.connect, pg_dsn)
    try:
        assert pgstore.migrate(conn) == len(pgstore.MIGRATIONS)
        assert conn.execute("SELECT version FROM agentcore_trace_schema").fetchall() == [
            (len(pgstore.MIGRATIONS),)
        ]
    finally:
        conn.close()
    assert "***" in store.describe_location("postgresql://u:secret@127.0.0.1:5432/db")


def _cli(*args: str) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTCORE_", "OTEL_"))}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-m", "agentcore.cli", "trace", *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout)


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node["children"] for n in _walk(child))]


async def test_workers_write_their_runs_traces_into_one_postgres_store(pg_dsn: str, tmp_path: Path) -> None:
    from agentcore.durable import DurableRunner

    chat = ScriptedChat(delay=0.05)
    chat.start()
    definition = write_definition(tmp_path, chat.base_url)
    book = tmp_path / "ledger.txt"
    runner = DurableRunner(pg_dsn)
    try:
        with Fleet(definition, pg_dsn, tmp_path, book) as fleet:
            for name in ("a", "b"):
                fleet.start(name, concurrency=1, extra=("--traces", pg_dsn))
            ids = [await runner.submit("clerk", f"p{i} 2") for i in range(6)]
            try:
                results = await asyncio.wait_for(asyncio.gather(*(runner.result(r) for r in ids)), 300)
            except Exception:
                print(fleet.logs())
                raise
        # the fleet stopped (SIGTERM): each worker flushed its spans on the way out
    finally:
        runner.close()
        chat.stop()
    assert [r.final_output for r in results] == [f"done p{i}" for i in range(6)]
    assert len({pid for _, _, pid in ledger(book)}) == 2  # both workers ran some of the runs

    listed = await asyncio.to_thread(_cli, "list", "--store", pg_dsn, "--json", "--limit", "100")
    by_run = {t["run_id"]: t for t in listed}
    assert set(ids) <= set(by_run)
    for run_id in ids:
        shown = await asyncio.to_thread(_cli, "show", run_id, "--store", pg_dsn, "--json")
        assert shown["trace_id"] == by_run[run_id]["trace_id"]
        [root] = shown["spans"]  # one root: every other span hangs below it
        assert root["name"] == "invoke_agent clerk" and root["parent_id"] is None
        spans = _walk(root)
        assert len(spans) == by_run[run_id]["spans"]
        names = [s["name"] for s in spans]
        assert sum(n.startswith("chat") for n in names) == 3
        assert sum(n.startswith("execute_tool") for n in names) == 2

    # agentcore ui reads the same store (its index pulls new rows by id)
    from agentcore.ui.index import TraceIndex

    index = TraceIndex(tmp_path / "ui-index.db", [pg_dsn])
    try:
        assert await asyncio.to_thread(index.refresh) == sum(t["spans"] for t in listed)
        assert await asyncio.to_thread(index.refresh) == 0  # nothing new
        total, rows = await asyncio.to_thread(lambda: index.runs(limit=100))
        assert total == len(listed) and set(ids) <= {r.run_id for r in rows}
        found = await asyncio.to_thread(index.run, ids[0])
        assert found is not None and found[0].trace_id == by_run[ids[0]]["trace_id"]
    finally:
        index.close()
