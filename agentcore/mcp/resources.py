"""Resources and prompts of an MCP server as agentcore items: attach a resource to a run's input, or
start a run from a server's prompt::

    async with connected(server) as conn:
        message = await resource_message(conn, "file:///srv/report.md", "Summarize this.")
        items = await prompt_items(conn, "code_review", {"code": source})
"""

from __future__ import annotations

from typing import Any

from ..messages import AssistantMessage, FilePart, ImagePart, Item, Part, TextPart, UserMessage
from .connection import MCPConnection


def contents_parts(contents: Any) -> list[Part]:
    """One resource's contents as message parts: text, an image, or a file."""
    text = getattr(contents, "text", None)
    if text is not None:
        return [TextPart(text=f"[resource {contents.uri}]\n{text}")]
    mime = getattr(contents, "mime_type", None) or "application/octet-stream"
    if mime.startswith("image/"):
        return [ImagePart(data=contents.blob, media_type=mime)]
    name = str(contents.uri).rstrip("/").rsplit("/", 1)[-1] or None
    return [FilePart(data=contents.blob, media_type=mime, filename=name)]


async def resource_parts(conn: MCPConnection, uri: str) -> list[Part]:
    """The parts of the resource at ``uri`` (a resource may have several contents)."""
    result = await conn.read_resource(uri)
    return [part for contents in result.contents for part in contents_parts(contents)]


async def resource_message(conn: MCPConnection, uri: str, text: str = "") -> UserMessage:
    """A user message carrying ``text`` and the resource at ``uri``: pass it as (part of) a run's input."""
    parts: list[Part] = [TextPart(text=text)] if text else []
    return UserMessage(content=(*parts, *await resource_parts(conn, uri)))


def _block_parts(block: Any) -> list[Part]:
    kind = getattr(block, "type", None)
    if kind == "text":
        return [TextPart(text=block.text)]
    if kind == "image":
        return [ImagePart(data=block.data, media_type=block.mime_type)]
    if kind == "resource":
        return contents_parts(block.resource)
    from .tools import content_text

    return [TextPart(text=content_text(block))]


async def prompt_items(conn: MCPConnection, name: str, arguments: dict[str, str] | None = None) -> list[Item]:
    """The server's prompt ``name`` filled with ``arguments``, as transcript items (user messages, and
    assistant messages where the prompt has them): a run's input."""
    result = await conn.get_prompt(name, arguments)
    items: list[Item] = []
    for message in result.messages:
        parts = _block_parts(message.content)
        if message.role == "assistant":
            items.append(AssistantMessage(text="".join(p.text for p in parts if isinstance(p, TextPart))))
        else:
            items.append(UserMessage(content=tuple(parts)))
    return items


def sampler(agent: Any) -> Any:
    """A ``sampling=`` callback that answers an MCP server's sampling requests with ``agent`` (an
    agentcore ``Agent``; its model, instructions and tools): ``MCPServer(..., sampling=sampler(helper))``.
    The request's system prompt is added to the agent's instructions; the answer is the agent's final
    text."""

    async def answer(params: Any) -> Any:
        import mcp.types as mt

        from ..run.runner import Runner

        items: list[Item] = []
        for message in params.messages:
            blocks = message.content if isinstance(message.content, list) else [message.content]
            parts = [p for block in blocks for p in _block_parts(block)]
            if message.role == "assistant":
                items.append(AssistantMessage(text="".join(p.text for p in parts if isinstance(p, TextPart))))
            else:
                items.append(UserMessage(content=tuple(parts)))
        run_agent = agent
        if params.system_prompt:
            base = agent.instructions if isinstance(agent.instructions, str) else ""
            run_agent = agent.clone(instructions=f"{base}\n\n{params.system_prompt}".strip())
        result = await Runner.run(run_agent, items)
        return mt.CreateMessageResult(
            role="assistant",
            content=mt.TextContent(type="text", text=str(result.final_output)),
            model=getattr(agent.model, "model_name", None) or str(agent.model),
            stop_reason="endTurn",
        )

    return answer
