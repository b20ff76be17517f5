"""Typed MCP errors. Failures during a tool call are :class:`~agentcore.errors.ToolError` subclasses, so
the model reads them as tool errors and the run goes on; failing to connect ends the run."""

from __future__ import annotations

from ..errors import AgentcoreError, ToolError, UserError


class MCPConnectError(AgentcoreError):
    """An MCP server could not be started or reached (or did not answer the handshake in time)."""

    def __init__(self, server: str, message: str) -> None:
        super().__init__(f"MCP server {server!r}: {message}")
        self.server = server


class MCPToolError(ToolError):
    """An MCP tool call failed; the message goes to the model. Subclasses say why."""

    def __init__(self, server: str, tool: str, message: str) -> None:
        super().__init__(message)
        self.server = server
        self.tool = tool


class MCPServerCrashed(MCPToolError):
    """The server went away during the call (its process exited, or the HTTP session dropped)."""


class MCPCallTimeout(MCPToolError):
    """The server did not answer within ``call_timeout``; the request was cancelled."""


class MCPResultError(MCPToolError):
    """The tool reported an error (``isError``), or its result broke its own ``outputSchema``."""


class MCPNotInstalled(UserError):
    """The ``mcp`` package is missing: ``pip install 'agentcore[mcp]'``."""
