"""One transcript item -> its Anthropic content blocks, as wire JSON bytes.

Also the small vocabulary the other Anthropic modules share: the compact JSON encoding, model
families (the unit thinking signatures are bound to), tool-id remapping and cache marks.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from agentcore.messages import (
    AssistantMessage,
    FilePart,
    Handoff,
    HostedToolUse,
    ImagePart,
    Item,
    Reasoning,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
)

from .._common import compaction_text, dumps, hashed_call_id
from .native import replay_block
from .server_blocks import encode_hosted, sources_text

PROVIDER = "anthropic"
TOOL_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_DATE_SUFFIX = re.compile(r"(-\d{8}|-latest|@.*)$")
_CACHE_MARK = b',"cache_control":{"type":"ephemeral"}}'
_REPLAY_KINDS = ("thinking", "redacted_thinking")
SERVER_BLOCKS = frozenset(
    {
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "container_upload",
        "mcp_tool_use",
        "mcp_tool_result",
    }
)
"""Server-side tool blocks: plain data any Claude model reads, so they are replayed across model
families (thinking and compaction blocks are replayed only to the family that produced them)."""
TRUNCATED_NOTE = (
    "[This call was cut off: your previous reply reached max_tokens while writing its arguments.] "
)


PREFIX_CHECKED = frozenset(
    {
        "claude-fable-5-1",
        "claude-fable-5-2",
        "claude-mythos-5-1",
        "claude-mythos-5-2",
        "claude-opus-5-5",
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
    }
)
"""Model families whose API checks a replayed thinking block's prefix (docs ``preserved-thinking/
prefix-checks``): system, tools or an earlier message changed since the block was made -> 400 "bound
to a different conversation". Other models check a block's signature against its text only (and
strip the thinking of earlier turns themselves), so a block stays valid after the conversation
before it changed (a compaction, a handoff filter)."""


def prefix_checked(model: str) -> bool:
    """Whether ``model``'s thinking blocks are bound to the conversation before them."""
    return model_family(model) in PREFIX_CHECKED


def model_family(model: str | None) -> str:
    """``claude-sonnet-4-5-20250929`` -> ``claude-sonnet-4-5``: the unit thinking signatures are bound to."""
    return _DATE_SUFFIX.sub("", model or "")


def wire_tool_id(call_id: str) -> str:
    """The id Anthropic accepts for ``call_id``: unchanged when valid, else a deterministic ``toolu_`` hash."""
    if TOOL_ID_RE.match(call_id):
        return call_id
    return hashed_call_id(call_id, prefix="toolu_")


def with_cache_mark(block: bytes) -> bytes:
    """``block`` (a JSON object's bytes) with an ephemeral ``cache_control`` added."""
    return block[:-1] + _CACHE_MARK


# --------------------------------------------------------------------------- per-item encoding


@dataclass(slots=True)
class Encoded:
    """One item as wire content blocks. ``role`` None means the item is not sent."""

    item: Item
    role: str | None
    blocks: tuple[bytes, ...] = ()
    tool_use_id: str | None = None
    """For a ToolCall: its wire id. For a ToolResult: the id it answers."""
    bound: str | None = None
    """For replayed thinking: the binding (system, tools, earlier messages) it was produced after."""
    cacheable: bool = True
    """False for blocks that cannot carry ``cache_control`` (thinking)."""


def text_block(text: str) -> bytes:
    return b'{"type":"text","text":' + dumps(text) + b"}"


def _file_block(part: FilePart) -> bytes:
    media = part.media_type.lower()
    if media == "application/pdf":
        source: dict[str, Any] = {"type": "base64", "media_type": "application/pdf", "data": part.data}
    elif media.startswith("text/"):
        try:
            text = base64.b64decode(part.data, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            text = part.data
        source = {"type": "text", "media_type": "text/plain", "data": text}
    else:
        name = part.filename or "file"
        return text_block(f"[attached file {name} ({part.media_type}) cannot be shown to this model]")
    block: dict[str, Any] = {"type": "document", "source": source}
    if part.filename:
        block["title"] = part.filename
    return dumps(block)


def _image_block(part: ImagePart) -> bytes:
    if part.data is not None:
        source = {"type": "base64", "media_type": part.media_type, "data": part.data}
    else:
        source = {"type": "url", "url": part.url or ""}
    return dumps({"type": "image", "source": source})


def _result_part(part: TextPart | ImagePart | FilePart) -> bytes:
    if isinstance(part, TextPart):
        return text_block(part.text or " ")
    return _image_block(part) if isinstance(part, ImagePart) else _file_block(part)


def _result_with(body: dict[str, Any], content: list[bytes]) -> bytes:
    """``body`` (a tool_result) with ``content`` blocks, already encoded (images are not re-encoded)."""
    return dumps(body)[:-1] + b',"content":[' + b",".join(content) + b'],"is_error":false}'


def _tool_input(arguments: str) -> bytes:
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return arguments.encode() if arguments.strip() else b"{}"
    return dumps({"arguments": arguments})


def encode_item(item: Item, family: str, truncated: set[str] | None = None) -> Encoded:
    """Encode one item for a model of ``family`` (own-vendor state is replayed only for that family).

    ``truncated`` collects the wire ids of tool calls ``max_tokens`` cut off (items are encoded in
    transcript order, so a call is seen before its result); the error result of such a call says so.
    """
    if isinstance(item, UserMessage):
        blocks: list[bytes] = []
        for part in item.content:
            if isinstance(part, TextPart):
                if part.text:
                    blocks.append(text_block(part.text))
            elif isinstance(part, ImagePart):
                blocks.append(_image_block(part))
            else:
                blocks.append(_file_block(part))
        for st in item.state:  # files for the code execution container (hosted.attach_uploads)
            if st.provider == PROVIDER and st.kind == "container_upload":
                blocks.extend(
                    dumps({"type": "container_upload", "file_id": f}) for f in st.payload["file_ids"]
                )
        return Encoded(item, "user" if blocks else None, tuple(blocks))
    if isinstance(item, AssistantMessage):
        raw = _own_state(item, family, ("text", "block", "compaction")) or _server_block(item)
        if raw is not None:
            block = raw.payload["block"]
            cacheable = raw.kind != "block" or block.get("type") in SERVER_BLOCKS
            return Encoded(item, "assistant", (dumps(block),), cacheable=cacheable)
        text = item.text or _summary_text(item)  # another family's compaction: its summary, readable
        if item.citations:  # another vendor's (or model family's) annotations, kept readable
            text = f"{text}\n\n{sources_text(item.citations)}" if text else sources_text(item.citations)
        return Encoded(item, "assistant" if text else None, (text_block(text),) if text else ())
    if isinstance(item, HostedToolUse):  # server tool blocks exactly, or another vendor's as text
        return Encoded(item, "assistant", encode_hosted(item))
    if isinstance(item, ToolCall):
        wire_id = wire_tool_id(item.call_id)
        if truncated is not None and _was_truncated(item):
            truncated.add(wire_id)
        native = replay_block(item, wire_id)  # bash / text editor: the block as the model wrote it
        if native is not None:
            return Encoded(item, "assistant", (native,), tool_use_id=wire_id)
        raw = _own_state(item, family, ("tool_use",))
        if raw is not None and raw.payload["block"].get("id") == wire_id:
            return Encoded(item, "assistant", (dumps(raw.payload["block"]),), tool_use_id=wire_id)
        block = (
            b'{"type":"tool_use","id":'
            + dumps(wire_id)
            + b',"name":'
            + dumps(item.name)
            + b',"input":'
            + _tool_input(item.arguments)
            + b"}"
        )
        return Encoded(item, "assistant", (block,), tool_use_id=wire_id)
    if isinstance(item, ToolResult):
        wire_id = wire_tool_id(item.call_id)
        body: dict[str, Any] = {"type": "tool_result", "tool_use_id": wire_id}
        output = item.output
        if item.is_error and truncated is not None and wire_id in truncated:
            output = TRUNCATED_NOTE + output
        if item.parts and not item.is_error:  # a screenshot: text and image blocks in the result
            content = [text_block(output)] if output else []
            content.extend(_result_part(p) for p in item.parts)
            return Encoded(item, "user", (_result_with(body, content),), tool_use_id=wire_id)
        if output:
            body["content"] = output
        body["is_error"] = item.is_error
        return Encoded(item, "user", (dumps(body),), tool_use_id=wire_id)
    if isinstance(item, Reasoning):
        raw = _own_state(item, family, _REPLAY_KINDS)
        if raw is None:
            return Encoded(item, None)  # foreign or stateless reasoning is never turned into text
        return Encoded(
            item, "assistant", (dumps(raw.payload["block"]),), bound=raw.payload.get("bound"), cacheable=False
        )
    if isinstance(item, Handoff):
        return Encoded(item, None)  # a handoff is a transition of ours, not something the model said
    return Encoded(item, None)  # pragma: no cover - exhaustive


def _own_state(item: Item, family: str, kinds: tuple[str, ...]) -> Any:
    for s in item.state:
        if s.provider == PROVIDER and s.kind in kinds and model_family(s.model) == family:
            if isinstance(s.payload, dict) and isinstance(s.payload.get("block"), dict):
                return s
    return None


def _summary_text(item: AssistantMessage) -> str:
    """The summary of a compaction block from another Claude family (its block is not sent), as text."""
    st = item.state_for(PROVIDER, kind="compaction")
    block = st.payload.get("block") if st is not None and isinstance(st.payload, dict) else None
    content = block.get("content") if isinstance(block, dict) else None
    if isinstance(content, str) and content.strip():
        return compaction_text(content, st.model or PROVIDER) if st is not None else ""
    return ""


def _server_block(item: Item) -> Any:
    """Anthropic state holding a server-tool block, from any Claude model."""
    for s in item.state:
        if s.provider == PROVIDER and s.kind == "block" and isinstance(s.payload, dict):
            block = s.payload.get("block")
            if isinstance(block, dict) and block.get("type") in SERVER_BLOCKS:
                return s
    return None


def _was_truncated(item: ToolCall) -> bool:
    for s in item.state:
        if s.provider == PROVIDER and s.kind == "tool_use_incomplete" and isinstance(s.payload, dict):
            return s.payload.get("truncated") == "max_tokens"
    return False


def orphan_result_block(item: ToolResult) -> bytes:
    """A tool result whose call is not in the previous assistant turn, as plain context text."""
    state = "failed" if item.is_error else "returned"
    return text_block(f"[tool {item.name} ({item.call_id}) {state}]: {item.output}")


def missing_result_block(tool_use_id: str) -> bytes:
    return dumps(
        {
            "type": "tool_result",
            "tool_use_id": tool_use_id,
            "content": "no result was recorded",
            "is_error": True,
        }
    )
