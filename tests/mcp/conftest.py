"""Where the third-party MCP servers live: installed by .ci/run (npm into ``$AGENTCORE_MCP_SERVERS``,
default ``~/.cache/agentcore-mcp``, and a virtualenv under it for the PyPI servers). Under CI a missing
server fails its test instead of skipping it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from agentcore.mcp import MCPServer

HOME = Path(os.environ.get("AGENTCORE_MCP_SERVERS") or Path.home() / ".cache" / "agentcore-mcp")
NODE_PKGS = HOME / "node_modules" / "@modelcontextprotocol"
TOY = Path(__file__).with_name("toy_server.py")


def _need(path: Path, what: str) -> Path:
    if path.exists():
        return path
    message = f"{what} is not installed at {path} (bash .ci/run installs it)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def everything(name: str = "everything", **kw: object) -> MCPServer:
    js = _need(NODE_PKGS / "server-everything" / "dist" / "index.js", "@modelcontextprotocol/server-everything")
    return MCPServer(name=name, command="node", args=[str(js), "stdio"], **kw)  # type: ignore[arg-type]


def filesystem(root: Path, name: str = "files", **kw: object) -> MCPServer:
    js = _need(NODE_PKGS / "server-filesystem" / "dist" / "index.js", "@modelcontextprotocol/server-filesystem")
    return MCPServer(name=name, command="node", args=[str(js), str(root)], **kw)  # type: ignore[arg-type]


def time_server(name: str = "time", **kw: object) -> MCPServer:
    exe = _need(HOME / "venv" / "bin" / "mcp-server-time", "mcp-server-time")
    return MCPServer(name=name, command=str(exe), **kw)  # type: ignore[arg-type]


def git_server(repo: Path, name: str = "git", **kw: object) -> MCPServer:
    exe = _need(HOME / "venv" / "bin" / "mcp-server-git", "mcp-server-git")
    return MCPServer(name=name, command=str(exe), args=["--repository", str(repo)], **kw)  # type: ignore[arg-type]


def toy(name: str = "toy", **kw: object) -> MCPServer:
    return MCPServer(name=name, command=sys.executable, args=[str(TOY)], **kw)  # type: ignore[arg-type]
