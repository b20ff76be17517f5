"""agentcore agents served as an MCP server (the official SDK's ``MCPServer``), so any MCP client can
delegate to them::

    from agentcore.mcp.server import agent_server, serve

    server = agent_server([researcher, writer])      # one tool per agent
    await serve(server)                               # stdio
    await serve(server, http=("127.0.0.1", 8765))     # Streamable HTTP at /mcp

Each tool takes ``input`` (the task) and returns the agent's final output: text, or structured content
(with an ``outputSchema``) when the agent has an ``output_type``. The run's turns and tool calls are
reported as progress notifications when the client asked for them (a ``progressToken``).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from .. import tracing
from ..agent import Agent
from ..errors import UserError
from ..events import ToolCallStarted, TurnCompleted
from ..run.runner import Runner
from .connection import _sdk

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer as SDKServer


def agent_tool_function(agent: Agent[Any], *, deps: Any = None, max_turns: int | None = None) -> Any:
    """The function the SDK serves as the tool for ``agent``: ``input`` in, final output out."""
    from mcp.server.mcpserver import Context

    structured = agent.output_type is not None and agent.output_type is not str

    async def run_agent(input: str, ctx: Context) -> Any:
        stream = Runner.stream(agent, input, deps=deps, max_turns=max_turns)
        steps = 0
        async for event in stream:
            message = None
            if isinstance(event, ToolCallStarted):
                message = f"{event.agent}: calling {event.call.name}"
            elif isinstance(event, TurnCompleted):
                message = f"{event.agent}: turn {event.turn} done"
            if message is not None:
                steps += 1
                await ctx.report_progress(steps, None, message)
        result = stream.result
        if result is None or result.paused:
            pending = ", ".join(p.call.name for p in (result.interruptions if result else []))
            raise UserError(f"the agent {agent.name!r} paused for approval of {pending or 'a tool call'}; "
                            "approvals cannot be given over MCP")
        return result.final_output if structured else str(result.final_output)

    run_agent.__name__ = agent.name
    run_agent.__annotations__ = {
        "input": Annotated[str, Field(description="The task for the agent.")],
        "ctx": Context,
        "return": agent.output_type if structured else str,
    }
    return run_agent


def agent_server(
    agents: Agent[Any] | Sequence[Agent[Any]],
    *,
    name: str = "agentcore",
    instructions: str | None = None,
    deps: Any = None,
    max_turns: int | None = None,
) -> SDKServer:
    """An SDK ``MCPServer`` with one tool per agent (named after the agent, described by its
    ``description``)."""
    _sdk()
    from mcp.server.mcpserver import MCPServer as SDKServer

    agents = [agents] if isinstance(agents, Agent) else list(agents)
    if not agents:
        raise UserError("an MCP server needs at least one agent to expose")
    server = SDKServer(name, instructions=instructions, log_level="WARNING")
    for agent in agents:
        structured = agent.output_type is not None and agent.output_type is not str
        server.add_tool(
            agent_tool_function(agent, deps=deps, max_turns=max_turns),
            name=agent.name,
            description=agent.description or f"Ask the agent {agent.name!r} to do a task.",
            structured_output=structured,
        )
    return server


async def serve(
    server: SDKServer, *, http: tuple[str, int] | None = None, path: str = "/mcp", token: str | None = None
) -> None:
    """Serve over stdio (the default) or Streamable HTTP on ``http=(host, port)`` at ``path``. With
    ``token``, HTTP requests without ``Authorization: Bearer <token>`` are refused (401)."""
    if http is None:
        await server.run_stdio_async()
        return
    import uvicorn

    host, port = http
    app: Any = server.streamable_http_app(streamable_http_path=path, host=host)
    if token:
        tracing.add_secret(token)
        app = BearerGate(app, token)
    await uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).serve()


class BearerGate:
    """ASGI middleware: HTTP requests must carry ``Authorization: Bearer <token>``."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": b'{"error": "unauthorized"}'})
                return
        await self.app(scope, receive, send)
