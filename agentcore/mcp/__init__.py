"""Model Context Protocol: tools, resources and prompts from MCP servers (stdio and Streamable HTTP),
through the official ``mcp`` SDK (``pip install 'agentcore[mcp]'``)::

    from agentcore import Agent
    from agentcore.mcp import MCPServer

    files = MCPServer(name="files", command="mcp-server-filesystem", args=["/srv/data"],
                      needs_approval="destructive")
    agent = Agent(name="clerk", model="openai:gpt-5", mcp_servers=[files])

Serving an agent as an MCP server lives in :mod:`agentcore.mcp.server`.
"""

from __future__ import annotations

from .config import SEPARATOR, MCPServer, is_destructive
from .connection import MCPConnection
from .errors import (
    MCPCallTimeout,
    MCPConnectError,
    MCPNotInstalled,
    MCPResultError,
    MCPServerCrashed,
    MCPToolError,
)
from .oauth import OAuth
from .runtime import close_all, connect, connected
from .tools import MCPTool

__all__ = [
    "SEPARATOR",
    "MCPCallTimeout",
    "MCPConnectError",
    "MCPConnection",
    "MCPNotInstalled",
    "MCPResultError",
    "MCPServer",
    "MCPServerCrashed",
    "MCPTool",
    "MCPToolError",
    "OAuth",
    "close_all",
    "connect",
    "connected",
    "is_destructive",
]
