"""Server-tool blocks <-> :class:`~agentcore.messages.HostedToolUse`, and text ``citations`` <->
:class:`~agentcore.messages.Citation`.

Decoding: a ``server_tool_use`` (or ``mcp_tool_use``) block and the result blocks that follow it
(``web_search_tool_result``, ``web_fetch_tool_result``, ``code_execution_tool_result``,
``bash_code_execution_tool_result``, ``text_editor_code_execution_tool_result``,
``tool_search_tool_result``, ``mcp_tool_result``) become one ``HostedToolUse`` whose neutral fields
(input, output, sources, code, files, errors) describe the call, and whose ``state`` holds the exact
blocks, one ``server_block`` entry each, in the order they came. Each item owns a contiguous run of
blocks, so that the items of a response, encoded in order, give back the content exactly: when the
model starts calls in parallel (``use A, use B, result A, result B``) the item of B carries the result
of A after its own use (A's neutral fields still come from its result).

Encoding: a ``HostedToolUse`` with such state goes back to Anthropic (any Claude model reads server
blocks) as those blocks; one from another vendor becomes an assistant text block, its
:meth:`~agentcore.messages.HostedToolUse.render`. An assistant text without Anthropic state that
cites sources (another vendor's annotations) gets them appended as a readable list.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agentcore.messages import Citation, HostedToolKind, HostedToolUse, ProviderState

from .._common import dumps

PROVIDER = "anthropic"
STATE_KIND = "server_block"
UNFINISHED = "server_block_unfinished"
"""State kind of a call a paused turn left without result: kept, but sent back as text (see ``turns``)."""
USE_BLOCKS = frozenset({"server_tool_use", "mcp_tool_use"})
_KINDS: dict[str, HostedToolKind] = {
    "web_search": "web_search",
    "web_fetch": "web_fetch",
    "code_execution": "code_execution",
    "bash_code_execution": "code_execution",
    "text_editor_code_execution": "code_execution",
}
_OUTPUT_LIMIT = 4000


def is_use(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") in USE_BLOCKS


def is_result(block: Any) -> bool:
    """A server result block: ``*_tool_result`` with a ``tool_use_id`` (never a client ``tool_result``)."""
    return (
        isinstance(block, dict)
        and str(block.get("type", "")).endswith("_tool_result")
        and "tool_use_id" in block
    )


def kind_of(use: dict[str, Any]) -> HostedToolKind:
    """The neutral kind of a ``server_tool_use`` / ``mcp_tool_use`` block."""
    if use.get("type") == "mcp_tool_use":
        return "mcp"
    return _KINDS.get(str(use.get("name") or ""), "other")


def group(content: Sequence[Any]) -> list[tuple[int, list[int]]]:
    """``(first index, block indices)`` of each item of ``content``: a use block with the result
    blocks right after it form one item; every other block is an item alone."""
    out: list[tuple[int, list[int]]] = []
    open_run = False
    for n, block in enumerate(content):
        if is_use(block):
            out.append((n, [n]))
            open_run = True
        elif is_result(block) and open_run:
            out[-1][1].append(n)
        else:
            out.append((n, [n]))
            open_run = False
    return out


def hosted_item(
    use: dict[str, Any] | None,
    result: dict[str, Any] | None,
    blocks: Sequence[dict[str, Any]],
    model: str | None,
) -> HostedToolUse:
    """The neutral item of one call (``use`` and its ``result``, either may be missing) whose state is
    ``blocks``."""
    state = tuple(
        ProviderState(provider=PROVIDER, model=model, kind=STATE_KIND, payload={"block": b}) for b in blocks
    )
    name = str((use or {}).get("name") or _name_of_result(result))
    mcp = (use or {}).get("type") == "mcp_tool_use" or (result or {}).get("type") == "mcp_tool_result"
    kind: HostedToolKind = "mcp" if mcp else _KINDS.get(name, "other")
    raw_input = (use or {}).get("input")
    tool_input = dict(raw_input) if isinstance(raw_input, dict) else {}
    if mcp and use is not None:  # as OpenAI's mcp_call reads: which server, which tool, what arguments
        tool_input = {"server_label": use.get("server_name"), "tool": name, "arguments": tool_input}
    call_id = (use or {}).get("id") or (result or {}).get("tool_use_id")
    fields: dict[str, Any] = {}
    code = tool_input.get("code") if name == "code_execution" else None
    if name == "bash_code_execution":
        code = tool_input.get("command")
    if isinstance(code, str):
        fields["code"] = code
    if result is not None:
        fields.update(_result_fields(result))
    else:
        fields["status"] = "incomplete"
    return HostedToolUse(
        kind=kind,
        name=name,
        call_id=str(call_id) if call_id else None,
        input=tool_input,
        state=state,
        **fields,
    )


def _name_of_result(result: dict[str, Any] | None) -> str:
    kind = str((result or {}).get("type") or "")
    return kind.removesuffix("_tool_result") or "server_tool"


def _result_fields(result: dict[str, Any]) -> dict[str, Any]:
    """``output``, ``sources``, ``files``, ``is_error``, ``status`` from one result block."""
    kind = result.get("type")
    content = result.get("content")
    if kind == "mcp_tool_result":
        text = content if isinstance(content, str) else _texts(content)
        error = bool(result.get("is_error"))
        return {"output": _bound(text), "is_error": error, "status": "failed" if error else "completed"}
    if isinstance(content, dict) and "error_code" in content:
        message = content.get("error_message")
        output = f"error: {content['error_code']}" + (f": {message}" if message else "")
        return {"output": output, "is_error": True, "status": "failed"}
    if kind == "web_search_tool_result" and isinstance(content, list):
        sources = tuple(
            Citation(kind="web", url=r.get("url"), title=r.get("title"))
            for r in content
            if isinstance(r, dict) and r.get("type") == "web_search_result"
        )
        return {"sources": sources}
    if not isinstance(content, dict):
        return {"output": _bound(_texts(content))}
    ctype = str(content.get("type") or "")
    if ctype == "web_fetch_result":
        document = _dict(content.get("content"))
        title = document.get("title") if isinstance(document.get("title"), str) else None
        source = _dict(document.get("source"))
        data = source.get("data") if source.get("type") == "text" else None
        return {
            "sources": (Citation(kind="web", url=content.get("url"), title=title),),
            "output": _bound(data) if isinstance(data, str) else f"[{source.get('media_type', 'document')}]",
        }
    if ctype in ("code_execution_result", "bash_code_execution_result", "encrypted_code_execution_result"):
        files = tuple(
            str(o["file_id"])
            for o in content.get("content") or ()
            if isinstance(o, dict) and o.get("file_id")
        )
        code = content.get("return_code")
        failed = isinstance(code, int) and code != 0
        return {"output": _run_output(content), "files": files, "is_error": failed}
    if ctype == "text_editor_code_execution_view_result":
        return {"output": _bound(str(content.get("content") or ""))}
    if ctype == "text_editor_code_execution_create_result":
        return {"output": "file updated" if content.get("is_file_update") else "file created"}
    if ctype == "text_editor_code_execution_str_replace_result":
        return {"output": _bound("\n".join(str(line) for line in content.get("lines") or ()) or "replaced")}
    if ctype == "tool_search_tool_search_result":
        names = [r.get("tool_name") for r in content.get("tool_references") or () if isinstance(r, dict)]
        return {"output": "found tools: " + ", ".join(str(n) for n in names if n)}
    return {
        "output": _bound(json.dumps({k: v for k, v in content.items() if k != "type"}, ensure_ascii=False))
    }


def _run_output(content: dict[str, Any]) -> str:
    parts = []
    stdout, stderr = str(content.get("stdout") or ""), str(content.get("stderr") or "")
    if stdout:
        parts.append(stdout.rstrip("\n"))
    if stderr:
        parts.append("stderr:\n" + stderr.rstrip("\n"))
    code = content.get("return_code")
    if isinstance(code, int) and (code != 0 or not parts):
        parts.append(f"return code: {code}")
    return _bound("\n".join(parts))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _texts(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text")) for b in content if isinstance(b, dict) and b.get("text"))
    return ""


def _bound(text: str) -> str:
    return text if len(text) <= _OUTPUT_LIMIT else text[: _OUTPUT_LIMIT - 1] + "…"


# --------------------------------------------------------------------------- citations


def citations_of(block: dict[str, Any]) -> tuple[Citation, ...]:
    """A text block's ``citations`` as neutral citations (web search results, documents, search results)."""
    raw = block.get("citations")
    if not isinstance(raw, list):
        return ()
    out = []
    for c in raw:
        if not isinstance(c, dict):
            continue
        cited = c.get("cited_text") if isinstance(c.get("cited_text"), str) else None
        if c.get("type") == "web_search_result_location":
            out.append(Citation(kind="web", url=c.get("url"), title=c.get("title"), cited_text=cited))
        elif c.get("type") == "search_result_location":
            out.append(Citation(kind="web", url=c.get("source"), title=c.get("title"), cited_text=cited))
        else:  # char/page/content_block locations in documents (a fetched page is a document too)
            title = c.get("document_title") if isinstance(c.get("document_title"), str) else None
            file_id = c.get("file_id") if isinstance(c.get("file_id"), str) else None
            out.append(Citation(kind="document", title=title, cited_text=cited, file_id=file_id))
    return tuple(out)


def sources_text(citations: Sequence[Citation]) -> str:
    """Citations as a readable list (for a model that cannot take the vendor's annotations)."""
    lines, seen = [], set()
    for c in citations:
        label = c.title or c.filename or c.url or c.file_id or "source"
        where = c.url or c.file_id or ""
        if (label, where) in seen:
            continue
        seen.add((label, where))
        lines.append(f"- {label}" + (f" <{where}>" if where and where != label else ""))
    return "Sources:\n" + "\n".join(lines) if lines else ""


# --------------------------------------------------------------------------- encoding


def own_blocks(item: HostedToolUse) -> list[dict[str, Any]]:
    """The Anthropic blocks a hosted item carries (empty for another vendor's item)."""
    return [
        s.payload["block"]
        for s in item.state
        if s.provider == PROVIDER
        and s.kind == STATE_KIND
        and isinstance(s.payload, dict)
        and isinstance(s.payload.get("block"), dict)
    ]


def encode_hosted(item: HostedToolUse) -> tuple[bytes, ...]:
    """The item's own blocks, exactly; another vendor's item as one text block (its rendering)."""
    blocks = own_blocks(item)
    if blocks:
        return tuple(dumps(b) for b in blocks)
    return (b'{"type":"text","text":' + dumps(item.render()) + b"}",)
