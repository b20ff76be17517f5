"""A durable run that waits for approval keeps its sandbox for as long as it waits (not the in-process
pause TTL of a plain run), and the approved call finds the workspace as the run left it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.durable.fleet import TOOLS, CallScript, Fleet, ledger, require_bwrap

CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("write_file", {"path": "kept.txt", "content": "before the pause\n"}, "call_0"),
    ("append", {"tag": "w", "k": 0}, "call_1"),  # needs approval: the run pauses here
    ("shell", {"command": "cat kept.txt"}, "call_2"),
]

DEFINITION = """\
version: 1
imports: [fleet_tools]
models:
  scripted: {{provider: openai-chat, model: scripted, base_url: "{url}/v1"}}
sandboxes:
  box: {{backend: local}}
agents:
  waiter:
    model: scripted
    sandbox: box
    instructions: Do what you are given.
    tools: [{{ref: "fleet_tools:append", needs_approval: true}}]
entry: waiter
"""


async def test_a_run_waiting_for_approval_keeps_its_sandbox_past_the_pause_ttl(
    pg_dsn: str, tmp_path: Path
) -> None:
    require_bwrap()  # .ci/run installs it
    from agentcore.durable import DurableRunner

    server = CallScript(CALLS)
    server.start()
    (tmp_path / "fleet_tools.py").write_text(TOOLS)
    definition = tmp_path / "waiter.yaml"
    definition.write_text(DEFINITION.format(url=server.base_url))
    book = tmp_path / "ledger.txt"
    runner = DurableRunner(pg_dsn)
    try:
        with Fleet(definition, pg_dsn, tmp_path, book) as fleet:
            fleet.start("a", env_extra={"AGENTCORE_PAUSED_SANDBOX_TTL": "0.5"})
            run_id = await runner.submit("waiter", "go")
            pending: list[dict[str, Any]] = []
            for _ in range(600):
                pending = await runner.pending(run_id, wait=1)
                if pending:
                    break
            assert [p["call_id"] for p in pending] == ["call_1"]
            await asyncio.sleep(2.0)  # four times the pause TTL of a plain run
            await runner.decide(run_id, {"call_1": True})
            try:
                result = await asyncio.wait_for(runner.result(run_id), 120)
            except Exception:
                print(fleet.logs())
                raise
    finally:
        runner.close()
        server.stop()
    assert result.final_output == "done"
    assert [(tag, k) for tag, k, _ in ledger(book)] == [("w", 0)]
    outputs = {i["call_id"]: i["output"] for i in result.new_items if i.get("type") == "tool_result"}
    assert outputs["call_2"].startswith("before the pause\n")
