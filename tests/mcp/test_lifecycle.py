"""Lifecycle: a killed agent process leaves no server behind, cancelling a run cancels the request in
flight, and a dropped HTTP session is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from agentcore import Agent, Runner
from agentcore.mcp import MCPServer, connected
from agentcore.testing import ScriptedModel, tool_call

from .conftest import NODE_PKGS, _need, toy

KILL_CHILD = Path(__file__).with_name("kill_child.py")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[1].startswith("Z")


async def _until(predicate: object, what: str, tries: int = 400) -> None:
    for _ in range(tries):  # bounded: 400 x 50 ms
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"gave up waiting: {what}")


async def test_killing_the_agent_process_leaves_no_server() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(KILL_CHILD), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    server_pid = int(line)
    assert not _gone(server_pid)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    await _until(lambda: _gone(server_pid), f"the server {server_pid} to exit after its client was killed")


async def test_cancelling_a_run_cancels_the_request_in_flight(tmp_path: Path) -> None:
    mark = tmp_path / "mark"
    model = ScriptedModel([tool_call("toy__hang"), "never"])
    agent = Agent(name="a", model=model, mcp_servers=[toy(env={"TOY_MARK": str(mark)}, call_timeout=3600)])
    run = asyncio.create_task(Runner.run(agent, "go"))
    await _until(lambda: mark.exists(), "the hang tool to start")
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    await _until(lambda: "cancelled" in mark.read_text(), "the server to see the cancellation")


async def _start_http(js: Path, port: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        "node", str(js), "streamableHttp", env={"PATH": os.environ["PATH"], "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )

    async def listening() -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        return True

    for _ in range(400):
        if await listening():
            return proc
        await asyncio.sleep(0.05)
    proc.kill()
    pytest.fail("server-everything did not listen")


async def test_a_dropped_http_session_is_replaced() -> None:
    js = _need(NODE_PKGS / "server-everything" / "dist" / "index.js", "@modelcontextprotocol/server-everything")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await _start_http(js, port)
    try:
        server = MCPServer(name="web", url=f"http://127.0.0.1:{port}/mcp", call_timeout=10)
        async with connected(server) as conn:
            first = await conn.call_tool("echo", {"message": "before"})
            proc.terminate()
            await proc.wait()
            proc = await _start_http(js, port)  # a new server process: the old session is unknown to it
            second = await conn.call_tool("echo", {"message": "after"})
        assert [c.text for c in first.content] == ["Echo: before"]  # type: ignore[union-attr]
        assert [c.text for c in second.content] == ["Echo: after"]  # type: ignore[union-attr]
    finally:
        proc.terminate()
        await proc.wait()
