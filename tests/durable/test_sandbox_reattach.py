"""A worker dies while its run's docker sandbox is alive: the run continues on another worker in the SAME
container (files intact), and no janitor reaps that container while the run still needs it."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.durable.fleet import CallScript, Fleet, pids_running, wait_for

STALL = "sleep 3599.75"  # the command worker A dies in; unique, so the test can find its process
CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("write_file", {"path": "notes/kept.txt", "content": "written on worker A\n"}, "call_0"),
    ("shell", {"command": STALL}, "call_1"),
    ("shell", {"command": "cat notes/kept.txt"}, "call_2"),
]

DEFINITION = """\
version: 1
models:
  scripted: {{provider: openai-chat, model: scripted, base_url: "{url}/v1"}}
sandboxes:
  box: {{backend: docker, image: "{image}"}}
agents:
  builder:
    model: scripted
    sandbox: box
    instructions: Do what you are given.
    max_turns: 10
entry: builder
"""


def _stall_pids() -> list[int]:
    return pids_running(STALL)


def _containers(run_id: str) -> list[dict[str, Any]]:
    import docker

    client = docker.from_env()
    try:
        found: list[dict[str, Any]] = client.api.containers(
            all=True, filters={"label": [f"agentcore.durable_run={run_id}"]}
        )
        return found
    finally:
        client.close()


async def _rows(dsn: str, run_id: str) -> int:
    import psycopg

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cur = await conn.execute("SELECT count(*) FROM agentcore_run_sandboxes WHERE run_id = %s", (run_id,))
        row = await cur.fetchone()
        return int(row[0]) if row else 0


async def test_a_run_continues_in_its_docker_sandbox_on_another_worker(pg_dsn: str, tmp_path: Path) -> None:
    from tests.sandboxes.backends_remote import DOCKER_TEST_IMAGE, docker_unavailable

    problem = docker_unavailable()
    if problem is not None:  # .ci/run starts dockerd and builds the image
        if os.environ.get("CI") == "true":
            pytest.fail(f"the docker sandbox test needs Docker: {problem}")
        pytest.skip(problem)
    from agentcore.durable import DurableRunner
    from agentcore.durable.sandboxes import hold_check
    from agentcore.sandboxes import janitor

    server = CallScript(CALLS)
    server.start()
    definition = tmp_path / "builder.yaml"
    definition.write_text(DEFINITION.format(url=server.base_url, image=DOCKER_TEST_IMAGE))
    runner = DurableRunner(pg_dsn)
    check = hold_check(pg_dsn)
    try:
        with Fleet(definition, pg_dsn, tmp_path, tmp_path / "unused.txt") as fleet:
            a = fleet.start("a")
            run_id = await runner.submit("builder", "go")
            await asyncio.to_thread(wait_for, lambda: bool(_stall_pids()))  # A is inside the second call
            [container] = await asyncio.to_thread(_containers, run_id)
            a.send_signal(signal.SIGKILL)
            a.wait()

            # A is dead, its container is not: no janitor removes it while the run needs it, neither one
            # that cannot ask the database (it leaves durable sandboxes alone) nor one that can
            removed = await janitor.reap(backends=["docker"], older_than_s=0)
            assert container["Id"] not in removed.get("docker", [])
            janitor.register_hold_check(check)
            assert await janitor.held(container["Labels"]) is True
            removed = await janitor.reap(backends=["docker"], older_than_s=0)
            assert container["Id"] not in removed.get("docker", [])
            [alive] = await asyncio.to_thread(_containers, run_id)
            assert alive["Id"] == container["Id"] and alive["State"] == "running"

            fleet.start("b", extra=("--traces", pg_dsn))  # B's spans go to the Postgres trace store
            try:
                result = await asyncio.wait_for(runner.result(run_id), 180)
            except Exception:
                print(fleet.logs())
                raise
            # B reattached and stopped what A's shell left running; B closed the sandbox at the end of the
            # run (lifetime "run"), and forgot the run's record
            assert not _stall_pids()
            await asyncio.to_thread(wait_for, lambda: not _containers(run_id), 60)
            assert await _rows(pg_dsn, run_id) == 0
            assert await janitor.held(container["Labels"]) is False  # the run is over, nobody holds it
    finally:
        janitor.unregister_hold_check(check)
        runner.close()
        server.stop()
    assert result.final_output == "done"
    outputs = {i["call_id"]: i["output"] for i in result.new_items if i.get("type") == "tool_result"}
    assert "stopped before" in outputs["call_1"]  # the interrupted command was not run again on B
    assert outputs["call_2"].startswith("written on worker A\n")  # the same workspace: no reset, no note
    from agentcore.tracing import store

    [recover] = [s for s in store.iter_spans(pg_dsn) if s["name"] == "sandbox.recover"]
    assert recover["attributes"]["agentcore.sandbox.reattached"] is True
    assert recover["attributes"]["agentcore.sandbox.backend"] == "docker"
    assert recover["attributes"]["agentcore.sandbox.reset_reason"] == ""
