"""A worker that dies while its run holds a (local, bubblewrap) sandbox: the run resumes on another
worker with a fresh sandbox (a local sandbox cannot be reattached from another process), the model is
told so, and nothing of the dead worker's sandbox is left behind."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

from tests.durable.fleet import CallScript, Fleet, pids_running, require_bwrap, wait_for

STALL = "sleep 3599.25"  # the command worker A dies in; unique, so the test can find its process
COMMANDS = ["echo one", STALL, "echo three"]
CALLS = [("shell", {"command": c}, f"call_sh_{k}") for k, c in enumerate(COMMANDS)]

DEFINITION = """\
version: 1
models:
  scripted: {{provider: openai-chat, model: scripted, base_url: "{url}/v1"}}
sandboxes:
  box: {{backend: local}}
agents:
  builder:
    model: scripted
    sandbox: box
    instructions: Run the commands you are given.
    max_turns: 10
entry: builder
"""


def _stall_pids() -> list[int]:
    return pids_running(STALL)


def _sandboxes_of(pid: int) -> list[Path]:
    root = Path("/tmp/agentcore-local")
    found = []
    for meta in root.glob("*/meta.json") if root.exists() else []:
        try:
            if json.loads(meta.read_text()).get("owner_pid") == pid:
                found.append(meta.parent)
        except (OSError, ValueError):
            continue
    return found


async def test_a_dead_workers_sandbox_is_gone_after_recovery(pg_dsn: str, tmp_path: Path) -> None:
    require_bwrap()  # .ci/run installs it
    from agentcore.durable import DurableRunner

    server = CallScript(CALLS)
    server.start()
    definition = tmp_path / "builder.yaml"
    definition.write_text(DEFINITION.format(url=server.base_url))
    runner = DurableRunner(pg_dsn)
    try:
        with Fleet(definition, pg_dsn, tmp_path, tmp_path / "unused.txt") as fleet:
            a = fleet.start("a")
            run_id = await runner.submit("builder", "go")
            await asyncio.to_thread(wait_for, lambda: bool(_stall_pids()))  # A is inside the second command
            assert _sandboxes_of(a.pid)
            a.send_signal(signal.SIGKILL)
            a.wait()
            fleet.start("b", extra=("--traces", pg_dsn))  # B's spans go to the Postgres trace store
            try:
                result = await asyncio.wait_for(runner.result(run_id), 180)
            except Exception:
                print(fleet.logs())
                raise
            # nothing of A's sandbox is left: its processes and its control directory are gone
            await asyncio.to_thread(wait_for, lambda: not _stall_pids() and not _sandboxes_of(a.pid))
    finally:
        runner.close()
        server.stop()
    assert result.final_output == "done"
    outputs = {i["call_id"]: i["output"] for i in result.new_items if i.get("type") == "tool_result"}
    assert "one" in outputs["call_sh_0"] and "three" in outputs["call_sh_2"]
    assert "stopped before" in outputs["call_sh_1"]  # not run again on B
    # the first call that ran on B says the workspace was reset, because it really was
    assert "fresh sandbox" in outputs["call_sh_2"] and "cannot be reattached" in outputs["call_sh_2"]
    assert "fresh sandbox" not in outputs["call_sh_0"]
    # and B's trace says why (B flushed its spans when the fleet stopped)
    from agentcore.tracing import store

    [recover] = [s for s in store.iter_spans(pg_dsn) if s["name"] == "sandbox.recover"]
    assert recover["attributes"]["agentcore.sandbox.reattached"] is False
    assert recover["attributes"]["agentcore.sandbox.backend"] == "local"
    assert "cannot be reattached" in recover["attributes"]["agentcore.sandbox.reset_reason"]
    assert recover["attributes"]["agentcore.run.id"] == run_id
