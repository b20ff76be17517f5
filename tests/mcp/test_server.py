"""agentcore agents served as an MCP server, checked with the official SDK's client over stdio and
Streamable HTTP, and with agentcore's own client (an agent delegating to agents through MCP)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import httpx2
import mcp
import pytest

from agentcore import Agent, Runner
from agentcore.mcp import MCPConnectError, MCPServer, connected
from agentcore.messages import ToolResult
from agentcore.testing import ScriptedModel, tool_call

from .conftest import HOME, _need

SERVED = Path(__file__).with_name("served_agents.py")


async def _exercise(client: mcp.Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"shouter", "measurer"}
    assert tools["shouter"].description == "Shouts the task back."
    assert tools["shouter"].input_schema["required"] == ["input"]
    assert tools["shouter"].output_schema is None
    assert tools["measurer"].output_schema is not None
    assert tools["measurer"].output_schema["required"] == ["word", "length"]
    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    shouted = await client.call_tool("shouter", {"input": "hello"}, progress_callback=on_progress)
    assert not shouted.is_error
    assert [c.text for c in shouted.content if c.type == "text"] == ["HELLO!"]
    assert progress == [(1, "shouter: calling upper"), (2, "shouter: turn 1 done")]
    measured = await client.call_tool("measurer", {"input": "hello"})
    assert measured.structured_content == {"word": "hello", "length": 5}


async def test_served_over_stdio_to_the_sdk_client() -> None:
    params = mcp.StdioServerParameters(command=sys.executable, args=[str(SERVED)])
    async with mcp.Client(params, mode="legacy") as client:
        await _exercise(client)


async def _serve_http(**env: str) -> tuple[asyncio.subprocess.Process, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(SERVED), "http", str(port), env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    for _ in range(400):  # bounded wait for the port
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            await asyncio.sleep(0.05)
    return proc, f"http://127.0.0.1:{port}/mcp"


async def test_served_over_streamable_http_to_the_sdk_client() -> None:
    proc, url = await _serve_http()
    try:
        async with mcp.Client(url, mode="legacy") as client:
            await _exercise(client)
    finally:
        proc.terminate()
        await proc.wait()


class _HeaderAuth(httpx2.Auth):
    def auth_flow(self, request: httpx2.Request) -> Any:
        request.headers["Authorization"] = "Bearer s3cret-token-1"
        yield request


async def test_served_over_http_with_a_token_and_the_client_s_bearer_token_and_auth() -> None:
    proc, url = await _serve_http(SERVED_TOKEN="s3cret-token-1")
    try:
        for server in (
            MCPServer(name="team", url=url, bearer_token="s3cret-token-1"),
            MCPServer(name="team", url=url, auth=_HeaderAuth()),
        ):
            async with connected(server) as conn:
                result = await conn.call_tool("measurer", {"input": "token"})
            assert result.structured_content == {"word": "token", "length": 5}
        with pytest.raises(MCPConnectError):
            async with connected(MCPServer(name="team", url=url, bearer_token="wrong-token")):
                pass
        with pytest.raises(MCPConnectError):
            async with connected(MCPServer(name="team", url=url)):
                pass
    finally:
        proc.terminate()
        await proc.wait()


async def test_an_agent_delegates_to_served_agents_through_agentcore_s_client() -> None:
    served = MCPServer(name="team", command=sys.executable, args=[str(SERVED)])
    model = ScriptedModel([tool_call("team__measurer", {"input": "delegation"}), "done"])
    result: Any = await Runner.run(Agent(name="boss", model=model, mcp_servers=[served]), "go")
    (out,) = [i for i in result.new_items if isinstance(i, ToolResult)]
    assert not out.is_error and '"length": 10' in out.output


async def test_the_mcp_inspector_cli_lists_and_calls_the_served_agents() -> None:
    inspector = _need(HOME / "node_modules" / ".bin" / "mcp-inspector", "@modelcontextprotocol/inspector")

    async def inspect(*args: str) -> Any:
        proc = await asyncio.create_subprocess_exec(
            str(inspector), "--cli", sys.executable, str(SERVED), *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
        return json.loads(out)

    listed = await inspect("--method", "tools/list")
    assert {t["name"] for t in listed["tools"]} == {"shouter", "measurer"}
    called = await inspect("--method", "tools/call", "--tool-name", "measurer", "--tool-arg", "input=hello")
    assert called["structuredContent"] == {"word": "hello", "length": 5} and called["isError"] is False
