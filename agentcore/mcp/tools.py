"""MCP tools as agentcore :class:`~agentcore.tools.Tool` objects, and their results as tool output.

The server's input schema goes to the model as it is (a copy); its annotations are on
``tool.metadata["mcp"]`` (``read_only``, ``destructive``, ``annotations``) for guardrails and approvals.
A result's text, structured content (validated by the SDK against ``outputSchema``), images, audio and
embedded resources become the tool's output text; images (image blocks and embedded image resources)
are also image parts of the result (:class:`~agentcore.tools.ToolOutput`), which each adapter sends in
its vendor's form; ``isError`` becomes a tool error the model reads.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..context import RunContext
from ..messages import ImagePart
from ..tools import Tool, ToolOutput
from .config import MCPServer, is_destructive
from .connection import refusal_hint
from .errors import MCPResultError

if TYPE_CHECKING:
    import mcp.types as mt

    from .connection import MCPConnection


@dataclass(eq=False)
class MCPTool(Tool):
    """One tool of an MCP server. ``remote`` is its name on the server; ``name`` is the namespaced
    name the model sees."""

    connection: MCPConnection | None = field(default=None, repr=False)
    remote: str = ""

    async def invoke(self, ctx: RunContext[Any], arguments: dict[str, Any]) -> Any:
        assert self.connection is not None
        result = await self.connection.call_tool(self.remote, arguments, progress=ctx.on_progress)
        text = result_text(result)
        if result.is_error:
            message = refusal_hint(text) if text else "the tool reported an error"
            raise MCPResultError(self.connection.server.name, self.remote, message)
        images = result_images(result)
        return ToolOutput(text, images) if images else text


def result_images(result: mt.CallToolResult) -> list[ImagePart]:
    """The images of a tool result (image blocks, embedded image resources) as image parts."""
    out: list[ImagePart] = []
    blocks: list[Any] = list(result.content)
    for block in blocks:
        kind = getattr(block, "type", None)
        if kind == "image" and block.data:
            out.append(ImagePart(data=block.data, media_type=block.mime_type or "image/png"))
        elif kind == "resource":
            contents = block.resource
            mime = getattr(contents, "mime_type", None) or ""
            blob = getattr(contents, "blob", None)
            if mime.startswith("image/") and blob:
                out.append(ImagePart(data=blob, media_type=mime))
    return out


def make_tool(server: MCPServer, connection: MCPConnection, spec: mt.Tool) -> MCPTool:
    annotations = spec.annotations
    schema = copy.deepcopy(spec.input_schema) if spec.input_schema else {"type": "object", "properties": {}}
    meta: dict[str, Any] = {
        "server": server.name,
        "tool": spec.name,
        "title": spec.title or (annotations.title if annotations is not None else None),
        "annotations": annotations.model_dump(exclude_none=True) if annotations is not None else {},
        "read_only": bool(annotations is not None and annotations.read_only_hint),
        "destructive": is_destructive(annotations),
        "open_world": annotations is None or annotations.open_world_hint is not False,
        "output_schema": spec.output_schema,
    }
    return MCPTool(
        name=server.tool_name(spec.name),
        description=spec.description or spec.title or spec.name,
        parameters=schema,
        needs_approval=server.approval_for(spec),
        metadata={"mcp": meta},
        connection=connection,
        remote=spec.name,
    )


def result_text(result: mt.CallToolResult) -> str:
    """A tool result as the text the model reads."""
    parts = [content_text(block) for block in result.content]
    text = "\n".join(p for p in parts if p)
    structured = result.structured_content
    if structured is not None and not text:  # servers mirror structured content in a text block (spec)
        text = json.dumps(structured, ensure_ascii=False)
    return text


def content_text(block: Any) -> str:
    """One content block (text, image, audio, resource link, embedded resource) as text."""
    kind = getattr(block, "type", None)
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        return f"[{kind} {block.mime_type}, {_size(block.data)} bytes]"
    if kind == "resource_link":
        label = f" ({block.name})" if getattr(block, "name", None) else ""
        return f"[resource link {block.uri}{label}]"
    if kind == "resource":
        return resource_text(block.resource)
    return f"[{kind} content]"


def resource_text(contents: Any) -> str:
    """A resource's contents (text, or a blob described by its type and size) as text."""
    uri = getattr(contents, "uri", "")
    text = getattr(contents, "text", None)
    if text is not None:
        return f"[resource {uri}]\n{text}"
    mime = getattr(contents, "mime_type", None) or "application/octet-stream"
    return f"[resource {uri}: {mime}, {_size(getattr(contents, 'blob', ''))} bytes]"


def _size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (ValueError, TypeError):
        return len(data)


@dataclass(eq=False)
class ReadResourceTool(Tool):
    """``<prefix>__read_resource``: reads one of the server's resources by URI."""

    connection: MCPConnection | None = field(default=None, repr=False)

    async def invoke(self, ctx: RunContext[Any], arguments: dict[str, Any]) -> Any:
        assert self.connection is not None
        result = await self.connection.read_resource(str(arguments.get("uri", "")))
        return "\n".join(resource_text(c) for c in result.contents)


def read_resource_tool(server: MCPServer, connection: MCPConnection) -> ReadResourceTool:
    return ReadResourceTool(
        name=server.tool_name("read_resource"),
        description=f"Read a resource of the {server.name} MCP server by its URI.",
        parameters={
            "type": "object",
            "properties": {"uri": {"type": "string", "description": "the resource URI"}},
            "required": ["uri"],
        },
        metadata={
            "mcp": {"server": server.name, "tool": "read_resource", "read_only": True, "destructive": False}
        },
        connection=connection,
    )
