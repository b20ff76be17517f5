"""Hosted tools (:mod:`agentcore.hosted`) as Anthropic server tools, and what a request needs for them.

* :class:`~agentcore.hosted.WebSearch` -> ``web_search_20250305`` (``allowed_domains`` *or*
  ``blocked_domains``, ``user_location``, ``max_uses``).
* :class:`~agentcore.hosted.WebFetch` -> ``web_fetch_20250910`` with the ``web-fetch-2025-09-10`` beta.
* :class:`~agentcore.hosted.CodeExecution` -> ``code_execution_20250825`` with the
  ``code-execution-2025-08-25`` beta; ``container`` is the request's top-level ``container`` (an id the
  adapter also remembers from each answer and sends back while it has not expired); ``file_ids`` (Files
  API ids) become ``container_upload`` blocks of the first user message, with the ``files-api-2025-04-14``
  beta.
* an :class:`~.container.AnthropicContainer` (the agent's sandbox) -> the same code execution tool, its
  container id, and its uploads as ``container_upload`` blocks (:func:`attach_uploads`).
* :class:`~agentcore.hosted.HostedMCP` -> the MCP connector (beta ``mcp-client-2025-11-20``): one
  ``mcp_servers`` entry (``url``, ``name``, ``authorization_token``) and one ``mcp_toolset`` tool entry
  (``allowed_tools`` -> every tool disabled by default, the named ones enabled).

Anything the API cannot serve raises :class:`~agentcore.hosted.UnsupportedHostedToolError` while the
request is built, before anything is sent: file search (no vector stores at Anthropic), both domain
lists at once (the API rejects it), code execution with ``memory_limit`` (Anthropic sizes its containers
itself), an MCP server that needs approvals or custom headers (the connector has neither).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from agentcore.hosted import (
    CodeExecution,
    FileSearch,
    HostedMCP,
    UnsupportedHostedToolError,
    WebFetch,
    WebSearch,
)
from agentcore.messages import HostedToolUse, Item, ProviderState, UserMessage
from agentcore.model import ModelRequest

from .._common import dumps, iso_timestamp, unknown_hosted_tool
from .server_blocks import own_blocks

PROVIDER = "anthropic"
WEB_FETCH_BETA = "web-fetch-2025-09-10"
CODE_EXECUTION_BETA = "code-execution-2025-08-25"
MCP_BETA = "mcp-client-2025-11-20"
FILES_BETA = "files-api-2025-04-14"
UPLOAD_KIND = "container_upload"
"""``ProviderState.kind`` of the file ids sent as ``container_upload`` blocks after a user message."""
CODE_EXECUTION_ENTRY = {"type": "code_execution_20250825", "name": "code_execution"}
CONTAINER_CACHE_KEY = "anthropic.container"
"""``ModelRequest.cache`` key of the last answer's ``container`` (``{"id", "expires_at"}``)."""
_EXPIRY_MARGIN = 30.0
"""Seconds before ``expires_at`` after which a remembered container is no longer sent."""


def _domains(tool: WebSearch | WebFetch, entry: dict[str, Any]) -> None:
    if tool.allowed_domains and tool.blocked_domains:
        raise UnsupportedHostedToolError(
            PROVIDER,
            tool.kind,
            "allowed_domains and blocked_domains cannot be used together (give one list)",
        )
    if tool.allowed_domains:
        entry["allowed_domains"] = list(tool.allowed_domains)
    if tool.blocked_domains:
        entry["blocked_domains"] = list(tool.blocked_domains)
    if tool.max_uses is not None:
        if tool.max_uses < 1:
            raise UnsupportedHostedToolError(PROVIDER, tool.kind, "max_uses must be at least 1")
        entry["max_uses"] = tool.max_uses


def hosted_entry(tool: Any, model: str = "") -> dict[str, Any]:
    """One hosted tool declaration as an entry of the request's ``tools`` (``model`` is the model the
    request is for; every current Claude model takes the same versions)."""
    if isinstance(tool, WebSearch):
        entry: dict[str, Any] = {"type": "web_search_20250305", "name": "web_search"}
        _domains(tool, entry)
        if tool.user_location is not None:
            loc = tool.user_location
            where = {"city": loc.city, "region": loc.region, "country": loc.country, "timezone": loc.timezone}
            entry["user_location"] = {"type": "approximate", **{k: v for k, v in where.items() if v}}
        if tool.context_size is not None:
            raise UnsupportedHostedToolError(
                PROVIDER,
                "web_search",
                "context_size is not an option of Anthropic web search",
                supported_by=["openai"],
            )
        return entry
    if isinstance(tool, WebFetch):
        entry = {"type": "web_fetch_20250910", "name": "web_fetch"}
        _domains(tool, entry)
        return entry
    if isinstance(tool, CodeExecution):
        if tool.memory_limit:
            raise UnsupportedHostedToolError(
                PROVIDER,
                "code_execution",
                "memory_limit is not an option of Anthropic code execution (Anthropic sizes the container)",
                supported_by=["openai"],
            )
        return dict(CODE_EXECUTION_ENTRY)
    if is_container(tool):  # the agent's sandbox is an Anthropic container: code execution runs its shell
        return dict(CODE_EXECUTION_ENTRY)
    if isinstance(tool, HostedMCP):
        _check_mcp(tool)
        toolset: dict[str, Any] = {"type": "mcp_toolset", "mcp_server_name": tool.server_label}
        if tool.allowed_tools:
            toolset["default_config"] = {"enabled": False}
            toolset["configs"] = {name: {"enabled": True} for name in tool.allowed_tools}
        return toolset
    if isinstance(tool, FileSearch):
        raise UnsupportedHostedToolError(
            PROVIDER,
            "file_search",
            "Anthropic has no hosted vector stores",
            supported_by=["openai", "gemini"],
        )
    raise unknown_hosted_tool(PROVIDER, tool)


def is_container(tool: Any) -> bool:
    """An :class:`~.container.AnthropicContainer` (by its marker: this module imports no SDK)."""
    return getattr(tool, "hosted_vendor", None) == PROVIDER


def _check_mcp(tool: HostedMCP) -> None:
    if tool.require_approval != "never":
        raise UnsupportedHostedToolError(
            PROVIDER,
            "mcp",
            f"the MCP connector has no approval flow; server {tool.server_label!r} asks for "
            f"require_approval={tool.require_approval!r} (use require_approval='never', or a vendor "
            "that pauses for approvals)",
            supported_by=["openai"],
        )
    if tool.headers:
        raise UnsupportedHostedToolError(
            PROVIDER,
            "mcp",
            "the MCP connector sends no custom headers (only authorization as a bearer token)",
            supported_by=["openai"],
        )
    if not tool.server_url.startswith("https://"):
        raise UnsupportedHostedToolError(PROVIDER, "mcp", "the MCP connector needs an https:// server_url")


def mcp_server(tool: HostedMCP) -> dict[str, Any]:
    """The ``mcp_servers`` entry of a hosted MCP declaration."""
    server: dict[str, Any] = {"type": "url", "url": tool.server_url, "name": tool.server_label}
    if tool.authorization:
        server["authorization_token"] = tool.authorization
    return server


@dataclass(frozen=True, slots=True)
class HostedParts:
    """What the hosted declarations add to a request: tool entries (bytes, after the function tools),
    ``anthropic-beta`` values, ``mcp_servers`` and the declared container id."""

    tools: bytes = b""
    betas: tuple[str, ...] = ()
    mcp_servers: tuple[dict[str, Any], ...] = ()
    container: str | None = None
    code_execution: bool = False
    file_ids: tuple[str, ...] = ()
    """``CodeExecution.file_ids``: sent as ``container_upload`` blocks after the first user message."""


NO_HOSTED = HostedParts()


def hosted_parts(tools: Sequence[Any], model: str = "") -> HostedParts:
    """The request parts of ``tools`` (cached: declarations are frozen values). Raises
    :class:`~agentcore.hosted.UnsupportedHostedToolError` for what Anthropic cannot serve."""
    if not tools:
        return NO_HOSTED
    try:
        return _parts(tuple(tools), model)
    except TypeError:  # an unhashable stand-in for a declaration: build it uncached
        return _parts.__wrapped__(tuple(tools), model)


@lru_cache(maxsize=64)
def _parts(tools: tuple[Any, ...], model: str) -> HostedParts:
    code = [t for t in tools if isinstance(t, CodeExecution)]
    boxes = [t for t in tools if is_container(t)]
    if len(boxes) > 1:
        raise UnsupportedHostedToolError(PROVIDER, "code_execution", "an agent has one Anthropic container")
    # one code execution tool: a declared one and the container's are the same tool
    entries = [hosted_entry(t, model) for t in tools if not (code and is_container(t))]
    labels = [t.server_label for t in tools if isinstance(t, HostedMCP)]
    if len(labels) != len(set(labels)):
        raise UnsupportedHostedToolError(PROVIDER, "mcp", "two hosted MCP servers share a server_label")
    kinds = [t.kind for t in tools if not isinstance(t, HostedMCP)]
    if len(kinds) != len(set(kinds)):
        raise UnsupportedHostedToolError(
            PROVIDER, kinds[0], "a hosted tool is declared twice (tool names must be unique)"
        )
    betas: list[str] = []
    if any(isinstance(t, WebFetch) for t in tools):
        betas.append(WEB_FETCH_BETA)
    if code or boxes:
        betas.append(CODE_EXECUTION_BETA)
    if boxes or any(c.file_ids for c in code):
        betas.append(FILES_BETA)
    if labels:
        betas.append(MCP_BETA)
    return HostedParts(
        tools=b",".join(dumps(e) for e in entries),
        betas=tuple(betas),
        mcp_servers=tuple(mcp_server(t) for t in tools if isinstance(t, HostedMCP)),
        container=code[0].container if code else None,
        code_execution=bool(code or boxes),
        file_ids=tuple(f for c in code for f in c.file_ids),
    )


def request_betas(request: ModelRequest, model: str = "") -> tuple[str, ...]:
    """The betas a request needs: its hosted tools', and the MCP connector's while the transcript
    holds MCP blocks to send back (they are beta blocks even when the server is no longer declared)."""
    betas = hosted_parts(request.hosted_tools, model).betas if request.hosted_tools else ()
    if MCP_BETA not in betas and any(
        isinstance(i, HostedToolUse) and i.kind == "mcp" and own_blocks(i) for i in request.items
    ):
        betas = (*betas, MCP_BETA)
    return betas


def beta_header(betas: Sequence[str], existing: str | None) -> str | None:
    """The ``anthropic-beta`` value: the client's own betas plus ``betas``."""
    have = [b.strip() for b in (existing or "").split(",") if b.strip()]
    extra = [b for b in betas if b not in have]
    return ",".join(have + extra) if extra else None


# --------------------------------------------------------------------------- containers


def container_to_send(parts: HostedParts, cache: dict[str, Any], tools: Sequence[Any] = ()) -> str | None:
    """The ``container`` to send: the declared one, else the agent's container's (``None`` until the
    first answer made one), else the last answer's while it has not expired (code execution declared
    only: a container is the code execution tool's workspace)."""
    if parts.container:
        return parts.container
    for box in tools:
        if is_container(box):
            cid = box.container_id
            return cid if isinstance(cid, str) else None
    if not parts.code_execution:
        return None
    remembered = cache.get(CONTAINER_CACHE_KEY)
    if not isinstance(remembered, dict) or not isinstance(remembered.get("id"), str):
        return None
    expires = iso_timestamp(remembered.get("expires_at"))
    if expires is not None and expires - _EXPIRY_MARGIN <= time.time():
        cache.pop(CONTAINER_CACHE_KEY, None)
        return None
    return str(remembered["id"])


def remember_container(message: dict[str, Any], cache: dict[str, Any]) -> None:
    """Keep the answer's ``container`` (``{"id", "expires_at"}``) for the next request."""
    container = message.get("container")
    if isinstance(container, dict) and isinstance(container.get("id"), str):
        cache[CONTAINER_CACHE_KEY] = {"id": container["id"], "expires_at": container.get("expires_at")}


def observe_containers(tools: Sequence[Any], message: dict[str, Any]) -> None:
    """Tell the agent's container what an answer says: its ``container`` and the files code produced."""
    for box in tools:
        if is_container(box):
            box.observe(message)


# --------------------------------------------------------------------------- container_upload blocks


def attach_uploads(request: ModelRequest, copies: dict[str, tuple[Item, Item]]) -> list[Item]:
    """The request's items with each file to place in the container attached to a user message (as
    state that :func:`.items.encode_item` sends as ``container_upload`` blocks after its content):
    ``CodeExecution.file_ids`` to the first user message, the container's uploads to the user message
    they were first sent with (the latest one, for files uploaded since). Every later request sends them
    at the same place, so the history stays append-only. ``copies`` keeps each altered copy for the next
    request (the encoder's caches go by identity)."""
    items = list(request.items)
    if not request.hosted_tools:
        return items
    parts = hosted_parts(request.hosted_tools)
    users = [n for n, i in enumerate(items) if isinstance(i, UserMessage)]
    if not users:
        return items
    attach: dict[int, list[str]] = {}
    if parts.file_ids:
        attach.setdefault(users[0], []).extend(parts.file_ids)
    for box in request.hosted_tools:
        if is_container(box):
            placed = box.place_uploads([items[n].id for n in users])
            for n in users:
                attach.setdefault(n, []).extend(f for f in placed.get(items[n].id, ()) if f not in attach[n])
    for n, file_ids in attach.items():
        if not file_ids:
            continue
        item = items[n]
        key = f"{item.id}:{','.join(file_ids)}"
        hit = copies.get(key)
        if hit is None or hit[0] is not item:
            state = ProviderState(provider=PROVIDER, kind=UPLOAD_KIND, payload={"file_ids": file_ids})
            hit = (item, item.model_copy(update={"state": (*item.state, state)}))
            if len(copies) >= 256:
                copies.clear()
            copies[key] = hit
        items[n] = hit[1]
    return items
