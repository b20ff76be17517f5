"""What the Anthropic emulator checks about server tools (web search, web fetch, code execution, the MCP
connector) and what it remembers of the server blocks and containers it issued.

Grounded in the installed SDK's param types (``WebSearchTool20250305Param``, ``WebFetchTool20250910Param``,
``CodeExecutionTool20250825Param``, ``BetaMCPToolsetParam``, ``BetaRequestMCPServerURLDefinitionParam``),
the vendor's tool pages (web fetch needs ``anthropic-beta: web-fetch-2025-09-10``, code execution
2025-08-25 ``code-execution-2025-08-25``, the MCP connector ``mcp-client-…``; the domain lists "cannot
be used together"; MCP server URLs must be ``https://``) and the recordings in
``../shared/cassettes/anthropic`` (container reuse, code execution and text editor results, web fetch
errors).

Also: builders for the blocks a scripted reply sends (:func:`web_search_blocks`,
:func:`code_execution_blocks`, :func:`web_fetch_error_blocks`, :func:`mcp_blocks`).
"""

from __future__ import annotations

import json
import os
from typing import Any

import anthropic.types.beta as sdk_beta

from tests.emulators.anthropic_rules import SERVER_RESULTS, Rejected, typed_problem

BETAS: dict[str, str] = {
    "web_fetch_20250910": "web-fetch-2025-09-10",
    "code_execution_20250522": "code-execution-2025-05-22",
    "code_execution_20250825": "code-execution-2025-08-25",
    "mcp_toolset": "mcp-client-2025-11-20",
}
"""Server tool types that need an ``anthropic-beta`` header (the shapes themselves are checked against
the SDK's param types by ``anthropic_tool_types``)."""
FAMILIES = ("web_search_", "web_fetch_", "code_execution_", "mcp_")
ISSUED_TYPES = frozenset(
    {
        "server_tool_use",
        "mcp_tool_use",
        "mcp_tool_result",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
    }
)


def is_server_tool(tool: Any) -> bool:
    """A tool entry of a server tool family."""
    kind = tool.get("type") if isinstance(tool, dict) else None
    return isinstance(kind, str) and kind.startswith(FAMILIES)


def check_server_tool(where: str, tool: dict[str, Any], betas: frozenset[str]) -> None:
    """What the API checks of a server tool entry beyond its shape: its beta, the domain lists."""
    kind = tool["type"]
    beta = BETAS.get(kind)
    if beta is not None and beta not in betas:
        raise Rejected(f"{where}type: '{kind}' requires the `anthropic-beta: {beta}` header")
    if tool.get("allowed_domains") and tool.get("blocked_domains"):
        raise Rejected(f"{where[:-1]}: Cannot specify both allowed_domains and blocked_domains.")
    max_uses = tool.get("max_uses")
    if isinstance(max_uses, int) and max_uses < 1:
        raise Rejected(f"{where}max_uses: Input should be greater than 0")
    for domain in (*(tool.get("allowed_domains") or ()), *(tool.get("blocked_domains") or ())):
        if isinstance(domain, str) and "://" in domain:
            raise Rejected(f"{where[:-1]}: domains must not include a scheme: {domain!r}")


def check_mcp(body: dict[str, Any], betas: frozenset[str]) -> None:
    """``mcp_servers`` entries and their ``mcp_toolset`` tools: each server is named once and, with
    ``mcp-client-2025-11-20``, configured by exactly one toolset that names an existing server."""
    servers = body.get("mcp_servers")
    toolsets = [t for t in body.get("tools") or () if isinstance(t, dict) and t.get("type") == "mcp_toolset"]
    if servers is None:
        if toolsets:
            raise Rejected(
                f"tools: mcp_toolset references MCP server '{toolsets[0]['mcp_server_name']}' "
                "but no mcp_servers were given"
            )
        return
    if not isinstance(servers, list):
        raise Rejected("mcp_servers: Input should be a valid list")
    names: list[str] = []
    for n, server in enumerate(servers):
        problem = typed_problem(server, sdk_beta.BetaRequestMCPServerURLDefinitionParam, f"mcp_servers.{n}")
        if problem is not None:
            raise Rejected(problem)
        if not server["url"].startswith("https://"):
            raise Rejected(f"mcp_servers.{n}.url: URL must start with https://")
        if server["name"] in names:
            raise Rejected(f"mcp_servers: MCP server names must be unique: '{server['name']}'")
        names.append(server["name"])
    if "mcp-client-2025-11-20" in betas:
        referenced = [t["mcp_server_name"] for t in toolsets]
        for name in referenced:
            if name not in names:
                raise Rejected(f"tools: mcp_toolset references unknown MCP server '{name}'")
        for name in names:
            if referenced.count(name) != 1:
                raise Rejected(
                    f"mcp_servers: MCP server '{name}' must be referenced by exactly one mcp_toolset"
                )
        if any("tool_configuration" in s for s in servers):
            raise Rejected("mcp_servers: tool_configuration moved to mcp_toolset in mcp-client-2025-11-20")


def check_server_tools(body: dict[str, Any], betas: frozenset[str]) -> None:
    """The server tool entries (betas, domain lists) and the MCP servers."""
    tools = body.get("tools")
    for n, tool in enumerate(tools if isinstance(tools, list) else ()):
        if is_server_tool(tool):
            check_server_tool(f"tools.{n}.", tool, betas)
    check_mcp(body, betas)


def check_server_pairing(
    n: int,
    blocks: list[dict[str, Any]],
    *,
    last: bool,
    pending: set[str] | frozenset[str] = frozenset(),
) -> set[str]:
    """Server tools run inside the assistant turn: each result follows its ``server_tool_use`` (same
    message, same id) and each use has its result there, except (a) in the last message, a turn the
    API paused (``pause_turn``) that the request continues, and (b) in a turn that also called a client
    tool ("the server_tool_use block appears without a result and the response ends with
    stop_reason tool_use"): the result then opens the next assistant turn (``pending``: those uses).
    Returns the uses left waiting that way."""
    uses: dict[str, str] = {}
    answered: set[str] = set()
    client_call = any(b["type"] == "tool_use" for b in blocks)
    for m, block in enumerate(blocks):
        kind = block["type"]
        if kind in ("server_tool_use", "mcp_tool_use"):
            if block["id"] in uses:
                raise Rejected(f"messages.{n}.content.{m}: `{kind}` ids must be unique")
            uses[block["id"]] = kind
        elif kind in SERVER_RESULTS or kind == "mcp_tool_result":
            wanted = "mcp_tool_use" if kind == "mcp_tool_result" else "server_tool_use"
            rid = block["tool_use_id"]
            if rid in pending and rid not in answered and rid not in uses:
                answered.add(rid)  # the result of a use the previous turn left waiting on a client tool
                continue
            if uses.get(rid) != wanted or rid in answered:
                raise Rejected(
                    f"messages.{n}.content.{m}: `{kind}` block with tool_use_id {rid} has no preceding "
                    f"`{wanted}` block with that id in the same message"
                )
            answered.add(rid)
    missing = [i for i in uses if i not in answered]
    if missing and not last and not client_call:
        raise Rejected(
            f"messages.{n}: `server_tool_use` ids were found without their result blocks: "
            f"{', '.join(missing)}. Each server tool use must be followed by its result in the same message."
        )
    return set(missing) if client_call else set()


# --------------------------------------------------------------------------- what the emulator issued


def _key(block: dict[str, Any]) -> tuple[str, str] | None:
    kind = block.get("type")
    if kind not in ISSUED_TYPES:
        return None
    ident = block.get("id") if kind in ("server_tool_use", "mcp_tool_use") else block.get("tool_use_id")
    return (str(kind), str(ident)) if ident else None


def _canon(block: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in block.items() if k != "cache_control"}, sort_keys=True)


def remember_blocks(state: dict[str, Any], content: list[dict[str, Any]]) -> None:
    issued: dict[tuple[str, str], str] = state.setdefault("server_blocks", {})
    for block in content:
        key = _key(block)
        if key is not None:
            issued[key] = _canon(block)


def check_replayed(state: dict[str, Any], body: dict[str, Any]) -> None:
    """Server blocks this emulator issued must come back unchanged (the API checks its encrypted
    search results and indexes the same way)."""
    issued: dict[tuple[str, str], str] = state.get("server_blocks") or {}
    if not issued:
        return
    for n, msg in enumerate(body["messages"]):
        content = msg.get("content")
        if not isinstance(content, list):
            continue
        for m, block in enumerate(content):
            key = _key(block) if isinstance(block, dict) else None
            if key is not None and key in issued and issued[key] != _canon(block):
                raise Rejected(f"messages.{n}.content.{m}: `{key[0]}` block {key[1]} was modified")


def check_container(state: dict[str, Any], body: dict[str, Any]) -> None:
    """A ``container`` sent back must be one this emulator created."""
    container = body.get("container")
    if container is None:
        return
    ident = container.get("id") if isinstance(container, dict) else container
    if not isinstance(ident, str):
        raise Rejected("container: Input should be a valid string")
    if ident not in state.setdefault("containers", set()):
        raise Rejected(f"container: Container '{ident}' not found", status=404, kind="not_found_error")


def check_continuation(state: dict[str, Any], body: dict[str, Any]) -> None:
    """After ``pause_turn`` a request that continues the turn (its last message is the assistant's)
    must end with the paused content unchanged; a new user message starts a new turn instead."""
    paused = state.pop("paused", None)
    last = body["messages"][-1]
    if paused is None or last.get("role") != "assistant":
        return
    content = last.get("content")
    sent = [_canon(b) for b in content] if isinstance(content, list) else []
    if sent[-len(paused) :] != paused:
        state["paused"] = paused
        raise Rejected(
            "messages: to continue a turn paused with stop_reason 'pause_turn', send its assistant content "
            "back unchanged as the last message"
        )


def after_reply(state: dict[str, Any], message: dict[str, Any]) -> None:
    """Remember what the answer issued: server blocks, its container, a paused turn."""
    remember_blocks(state, message["content"])
    container = message.get("container")
    if isinstance(container, dict):
        state.setdefault("containers", set()).add(container["id"])
    if message.get("stop_reason") == "pause_turn":
        state["paused"] = [_canon(b) for b in message["content"]]


def server_usage(content: list[dict[str, Any]]) -> dict[str, int] | None:
    """``usage.server_tool_use`` for an answer that used server tools."""
    uses = [b.get("name") for b in content if b.get("type") == "server_tool_use"]
    if not uses:
        return None
    return {"web_search_requests": uses.count("web_search"), "web_fetch_requests": uses.count("web_fetch")}


# --------------------------------------------------------------------------- scripted blocks


def server_id() -> str:
    return "srvtoolu_01" + os.urandom(10).hex()


def web_search_blocks(
    query: str, results: list[tuple[str, str]], call_id: str | None = None
) -> list[dict[str, Any]]:
    """A search and its result list (``(url, title)`` pairs)."""
    call_id = call_id or server_id()
    return [
        {"type": "server_tool_use", "id": call_id, "name": "web_search", "input": {"query": query}},
        {
            "type": "web_search_tool_result",
            "tool_use_id": call_id,
            "content": [
                {
                    "type": "web_search_result",
                    "url": url,
                    "title": title,
                    "encrypted_content": "Eq" + os.urandom(12).hex(),
                    "page_age": None,
                }
                for url, title in results
            ],
        },
    ]


def cited_text(text: str, url: str, title: str, cited: str) -> dict[str, Any]:
    return {
        "type": "text",
        "text": text,
        "citations": [
            {
                "type": "web_search_result_location",
                "url": url,
                "title": title,
                "encrypted_index": "Eo" + os.urandom(6).hex(),
                "cited_text": cited,
            }
        ],
    }


def code_execution_blocks(
    command: str, stdout: str, stderr: str = "", return_code: int = 0, files: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """A ``bash_code_execution`` call and its result (the shape of the container-reuse recording)."""
    call_id = server_id()
    return [
        {
            "type": "server_tool_use",
            "id": call_id,
            "name": "bash_code_execution",
            "input": {"command": command},
        },
        {
            "type": "bash_code_execution_tool_result",
            "tool_use_id": call_id,
            "content": {
                "type": "bash_code_execution_result",
                "stdout": stdout,
                "stderr": stderr,
                "return_code": return_code,
                "content": [{"type": "bash_code_execution_output", "file_id": f} for f in files],
            },
        },
    ]


def web_fetch_error_blocks(url: str, error_code: str = "unavailable") -> list[dict[str, Any]]:
    call_id = server_id()
    return [
        {"type": "server_tool_use", "id": call_id, "name": "web_fetch", "input": {"url": url}},
        {
            "type": "web_fetch_tool_result",
            "tool_use_id": call_id,
            "content": {"type": "web_fetch_tool_result_error", "error_code": error_code},
        },
    ]


def mcp_blocks(
    server: str, name: str, arguments: dict[str, Any], text: str, is_error: bool = False
) -> list[dict[str, Any]]:
    call_id = "mcptoolu_01" + os.urandom(8).hex()
    return [
        {"type": "mcp_tool_use", "id": call_id, "name": name, "server_name": server, "input": arguments},
        {
            "type": "mcp_tool_result",
            "tool_use_id": call_id,
            "is_error": is_error,
            "content": [{"type": "text", "text": text}],
        },
    ]
