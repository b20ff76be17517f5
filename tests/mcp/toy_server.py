"""A small MCP server written with the official SDK, for behaviours no third-party server shows on
demand: a tool list that changes, a server that crashes or hangs mid-call, progress, an image, a tool
that reports an error. Run as ``python toy_server.py`` (stdio)."""

from __future__ import annotations

import asyncio
import base64
import os
import sys

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, SamplingMessage, TextContent

server = MCPServer("toy")


@server.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return text


@server.tool()
async def grow(ctx: Context) -> str:
    """Add a tool named `extra` and tell the client the tool list changed."""

    def extra() -> str:
        return "extra ran"

    server.add_tool(extra, name="extra", description="A tool added at run time.")
    await ctx.session.send_tool_list_changed()
    return "grown"


@server.tool()
def fail(reason: str) -> str:
    """Always fails."""
    raise ValueError(f"failed on purpose: {reason}")


@server.tool()
def crash() -> str:
    """The server process dies mid-call."""
    sys.stderr.write("toy server: crashing now\n")
    sys.stderr.flush()
    os._exit(3)


def _write(path: str, text: str, mode: str) -> None:
    with open(path, mode) as f:
        f.write(text)


@server.tool()
async def hang() -> str:
    """Never answers. With TOY_MARK set, writes 'started' there, and 'cancelled' when cancelled."""
    mark = os.environ.get("TOY_MARK")
    if mark:
        _write(mark, "started\n", "w")
    try:
        await asyncio.sleep(3600)
    except BaseException:
        if mark:
            _write(mark, "cancelled\n", "a")
        raise
    return "unreachable"


@server.tool()
async def slow_steps(steps: int, ctx: Context, delay: float = 0.0) -> str:
    """Reports progress for each step (``delay`` seconds apart)."""
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"step {i + 1}")
        if delay:
            await asyncio.sleep(delay)
    return f"{steps} steps done"


@server.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.tool()
def env(name: str) -> str:
    """One variable of the server's environment ('<unset>' when missing)."""
    return os.environ.get(name, "<unset>")


@server.tool()
async def ask_model(question: str, ctx: Context) -> str:
    """Asks the client's model (MCP sampling)."""
    result = await ctx.session.create_message(
        [SamplingMessage(role="user", content=TextContent(type="text", text=question))], max_tokens=50
    )
    content = result.content
    return f"the client's model said: {getattr(content, 'text', content)}"


@server.tool()
def liar() -> CallToolResult:
    """Advertises an outputSchema (below) and returns structured content that breaks it."""
    return CallToolResult(content=[TextContent(type="text", text="{}")], structured_content={"wrong": 1})


# published without a model: the server does not check it, a client must
server._tool_manager.get_tool("liar").fn_metadata.output_schema = {  # type: ignore[union-attr]
    "type": "object",
    "properties": {"count": {"type": "integer"}},
    "required": ["count"],
}


@server.resource("toy://greeting", mime_type="text/plain")
def greeting() -> str:
    """A greeting."""
    return "hello from the toy resource"


@server.resource("toy://pixel", mime_type="image/png")
def pixel() -> bytes:
    """A tiny image."""
    return base64.b64decode(PIXEL)


@server.prompt()
def review(code: str) -> str:
    """Ask for a code review."""
    return f"Please review this code:\n{code}"


PIXEL = base64.b64encode(bytes.fromhex("89504e470d0a1a0a")).decode()

if __name__ == "__main__":
    server.run("stdio")
