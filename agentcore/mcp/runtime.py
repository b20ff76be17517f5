"""The MCP servers of a run: connected when an agent that uses them becomes active (all of its
servers at once), their tools listed and cached, and closed when the run ends (``lifetime="run"``)
or kept for later runs on the same event loop (``lifetime="session"``)."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import weakref
from collections.abc import Sequence
from typing import Any

from ..errors import UserError
from ..tools import Tool
from .config import MCPServer
from .connection import MCPConnection
from .tools import make_tool, read_resource_tool

_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[MCPServer, MCPConnection]] = (
    weakref.WeakKeyDictionary()
)


def shared_connection(server: MCPServer) -> MCPConnection:
    """The connection a ``lifetime="session"`` server keeps on this event loop."""
    conns = _shared.setdefault(asyncio.get_running_loop(), {})
    conn = conns.get(server)
    if conn is None or conn.closed:
        conn = conns[server] = MCPConnection(server)
    return conn


async def close_all() -> None:
    """Close every ``lifetime="session"`` connection opened on this event loop."""
    conns = _shared.pop(asyncio.get_running_loop(), {})
    await asyncio.gather(*(c.close() for c in conns.values()), return_exceptions=True)


@atexit.register
def _forget() -> None:  # pragma: no cover - interpreter exit
    # A stdio server whose stdin closes exits on its own (the spec's shutdown); nothing to await here.
    _shared.clear()


class ToolCache:
    """Tools built from one connection's listing, rebuilt only when the listing changed."""

    def __init__(self, server: MCPServer, conn: MCPConnection) -> None:
        self.server, self.conn = server, conn
        self.built: list[Tool] | None = None
        self.for_listing = -1

    async def tools(self) -> list[Tool]:
        specs = await self.conn.list_tools()
        if self.built is None or self.for_listing != self.conn.listings:
            out: list[Tool] = [
                make_tool(self.server, self.conn, spec) for spec in specs if self.server.wants(spec.name)
            ]
            if self.server.resource_tool:
                out.append(read_resource_tool(self.server, self.conn))
            self.built, self.for_listing = out, self.conn.listings
        return self.built


class RunServers:
    """The MCP connections one run uses."""

    def __init__(self) -> None:
        self.caches: dict[MCPServer, ToolCache] = {}
        self.owned: list[MCPConnection] = []

    def connection(self, server: MCPServer) -> MCPConnection:
        cache = self.caches.get(server)
        if cache is None:
            if server.lifetime == "session":
                conn = shared_connection(server)
            else:
                conn = MCPConnection(server)
                self.owned.append(conn)
            cache = self.caches[server] = ToolCache(server, conn)
        return cache.conn

    async def tools(self, agent_name: str, servers: Sequence[MCPServer]) -> list[Tool]:
        """Every tool of ``servers`` (connected concurrently), namespaced and filtered."""
        for server in servers:
            self.connection(server)
        lists = await asyncio.gather(*(self.caches[s].tools() for s in servers))
        seen: dict[str, str] = {}
        out: list[Tool] = []
        for server, tools in zip(servers, lists, strict=True):
            for t in tools:
                if t.name in seen:
                    raise UserError(
                        f"agent {agent_name!r}: MCP servers {seen[t.name]!r} and {server.name!r} both have a "
                        f"tool named {t.name!r}; give one of them a prefix"
                    )
                seen[t.name] = server.name
                out.append(t)
        return out

    async def close(self) -> None:
        owned, self.owned = self.owned, []
        results = await asyncio.gather(*(c.close() for c in owned), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, Exception):
                raise r


async def connect(server: MCPServer) -> MCPConnection:
    """Connect ``server`` outside a run (``agentcore mcp list``, scripts); close it when done."""
    conn = MCPConnection(server)
    await conn.start()
    return conn


@contextlib.asynccontextmanager
async def connected(server: MCPServer) -> Any:
    """``async with connected(server) as conn:`` — a connection closed on the way out."""
    conn = await connect(server)
    try:
        yield conn
    finally:
        await conn.close()


def servers_of(agent: Any) -> tuple[MCPServer, ...]:
    return tuple(getattr(agent, "mcp_servers", ()) or ())
