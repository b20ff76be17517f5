"""Hosted tools on Gemini: declarations for both APIs and the check of what Gemini can serve.

generateContent takes one ``Tool`` object per built-in tool (``googleSearch``, ``urlContext``,
``codeExecution``, ``fileSearch``; camelCase like the rest of the body, which proto JSON also accepts
in snake_case). The Interactions API takes typed entries (``{"type": "google_search"}``…, WIRE.md
§4.8) and also remote MCP servers (``{"type": "mcp_server", ...}``).

What Gemini cannot serve raises :class:`~agentcore.hosted.UnsupportedHostedToolError` when the
request is built, before anything is sent:

* web search options: Gemini's ``google_search`` has no domain allow/block list on the Gemini API
  (``exclude_domains`` is Vertex AI only), no user location, no use limit, no context size;
* web fetch options (``url_context`` takes none);
* code execution in a given container or with vendor files (Gemini's sandbox has neither);
* file search over anything but Gemini File Search stores (``fileSearchStores/…``);
* hosted MCP on generateContent (only the Interactions API documents a server-side MCP tool), and on
  the Interactions API with approvals (Gemini calls the server's tools without asking);
* built-in tools together with function tools on models before Gemini 3 ("Built-in and custom tools
  combinations are … supported for Gemini 3 models only"; generateContent also needs
  ``toolConfig.includeServerSideToolInvocations``, which :func:`tool_config_flags` sets).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from agentcore.hosted import (
    CodeExecution,
    FileSearch,
    HostedMCP,
    UnsupportedHostedToolError,
    WebFetch,
    WebSearch,
)

from .._common import unknown_hosted_tool

__all__ = [
    "combines_tools",
    "generate_content_tools",
    "hosted_entry",
    "interactions_entry",
    "interactions_tools",
]

PROVIDER = "google"
STORE_PREFIX = "fileSearchStores/"
_MAJOR = re.compile(r"gemini-(\d+)")


def gemini_major(model: str) -> int:
    """The Gemini generation of ``model`` (``gemini-3-pro-preview`` -> 3), 0 when unknown."""
    m = _MAJOR.search(model.rsplit("/", 1)[-1].lower())
    return int(m.group(1)) if m else 0


def combines_tools(model: str) -> bool:
    """Whether ``model`` takes built-in tools and function declarations in one request (Gemini 3+)."""
    return gemini_major(model) >= 3


def _refuse(provider: str, tool: str, message: str, *supported_by: str) -> UnsupportedHostedToolError:
    return UnsupportedHostedToolError(provider, tool, message, supported_by=supported_by)


def _check_search(tool: WebSearch, provider: str) -> None:
    if tool.allowed_domains:
        raise _refuse(
            provider,
            "web_search",
            "Google Search grounding has no allowed-domains filter",
            "openai",
            "anthropic",
        )
    if tool.blocked_domains:
        raise _refuse(
            provider,
            "web_search",
            "blocked_domains (exclude_domains) is a Vertex AI option, not one of the Gemini API",
            "anthropic",
        )
    if tool.user_location is not None:
        raise _refuse(
            provider,
            "web_search",
            "Google Search grounding takes no user location",
            "openai",
            "anthropic",
        )
    if tool.max_uses is not None:
        raise _refuse(provider, "web_search", "Gemini has no limit on searches per request", "anthropic")
    if tool.context_size is not None:
        raise _refuse(provider, "web_search", "Gemini has no search context size", "openai")


def _check_fetch(tool: WebFetch, provider: str) -> None:
    if tool.allowed_domains or tool.blocked_domains or tool.max_uses is not None:
        raise _refuse(
            provider,
            "web_fetch",
            "URL context takes no domain lists and no use limit",
            "anthropic",
        )


def _check_code(tool: CodeExecution, provider: str) -> None:
    if tool.container is not None or tool.file_ids or tool.memory_limit is not None:
        raise _refuse(
            provider,
            "code_execution",
            "Gemini code execution runs in a fresh sandbox: no container to reuse, no vendor files, "
            "no memory limit",
            "openai",
            "anthropic",
        )


def _stores(tool: FileSearch, provider: str) -> list[str]:
    bad = [s for s in tool.vector_store_ids if not s.startswith(STORE_PREFIX)]
    if bad:
        raise _refuse(
            provider,
            "file_search",
            f"Gemini File Search searches File Search stores ({STORE_PREFIX}…), not {bad[0]!r}",
            "openai",
        )
    return list(tool.vector_store_ids)


def hosted_entry(tool: Any, model: str = "") -> dict[str, Any]:
    """One hosted tool declaration as a generateContent ``Tool`` object."""
    if isinstance(tool, WebSearch):
        _check_search(tool, PROVIDER)
        return {"googleSearch": {}}
    if isinstance(tool, WebFetch):
        _check_fetch(tool, PROVIDER)
        return {"urlContext": {}}
    if isinstance(tool, CodeExecution):
        _check_code(tool, PROVIDER)
        return {"codeExecution": {}}
    if isinstance(tool, FileSearch):
        entry: dict[str, Any] = {"fileSearchStoreNames": _stores(tool, PROVIDER)}
        if tool.max_results is not None:
            entry["topK"] = tool.max_results
        return {"fileSearch": entry}
    if isinstance(tool, HostedMCP):
        raise _refuse(
            PROVIDER,
            "mcp",
            "generateContent has no documented server-side MCP tool (use the Interactions API, "
            "google-interactions, or agentcore.mcp.MCPServer to reach the server from this process)",
            "openai",
            "anthropic",
            "google-interactions",
        )
    raise unknown_hosted_tool(PROVIDER, tool)


def interactions_entry(tool: Any, model: str = "", provider: str = "google-interactions") -> dict[str, Any]:
    """One hosted tool declaration as an Interactions API tool entry."""
    if isinstance(tool, WebSearch):
        _check_search(tool, provider)
        return {"type": "google_search"}
    if isinstance(tool, WebFetch):
        _check_fetch(tool, provider)
        return {"type": "url_context"}
    if isinstance(tool, CodeExecution):
        _check_code(tool, provider)
        return {"type": "code_execution"}
    if isinstance(tool, FileSearch):
        entry: dict[str, Any] = {"type": "file_search", "file_search_store_names": _stores(tool, provider)}
        if tool.max_results is not None:
            entry["top_k"] = tool.max_results
        return entry
    if isinstance(tool, HostedMCP):
        if tool.require_approval != "never":
            raise _refuse(
                provider,
                "mcp",
                "Gemini calls a remote MCP server's tools without asking: declare it with "
                "require_approval='never' to accept that",
                "openai",
                "anthropic",
            )
        mcp: dict[str, Any] = {"type": "mcp_server", "name": tool.server_label, "url": tool.server_url}
        headers = dict(tool.headers)
        if tool.authorization:
            headers["Authorization"] = f"Bearer {tool.authorization}"
        if headers:
            mcp["headers"] = headers
        if tool.allowed_tools:
            mcp["allowed_tools"] = [{"mode": "auto", "tools": list(tool.allowed_tools)}]
        return mcp
    raise unknown_hosted_tool(provider, tool)


def _check_combination(hosted: Sequence[Any], functions: int, model: str, provider: str) -> None:
    if hosted and functions and not combines_tools(model):
        kind = getattr(hosted[0], "kind", type(hosted[0]).__name__)
        raise _refuse(
            provider,
            str(kind),
            f"{model} cannot combine built-in tools with function tools (Gemini 3 models and later can)",
            "openai",
            "anthropic",
        )


def generate_content_tools(hosted: Sequence[Any], functions: int, model: str) -> list[dict[str, Any]]:
    """The hosted ``Tool`` objects of a generateContent request with ``functions`` function tools."""
    entries = [hosted_entry(h, model) for h in hosted]
    _check_combination(hosted, functions, model, PROVIDER)
    return entries


def tool_config_flags(hosted: Sequence[Any], functions: int) -> dict[str, Any]:
    """``toolConfig`` fields a request with both kinds of tools needs (the documented opt-in)."""
    return {"includeServerSideToolInvocations": True} if hosted and functions else {}


def interactions_tools(
    hosted: Sequence[Any], functions: int, model: str, provider: str = "google-interactions"
) -> list[dict[str, Any]]:
    """The hosted tool entries of an Interactions request with ``functions`` function tools."""
    entries = [interactions_entry(h, model, provider) for h in hosted]
    _check_combination(hosted, functions, model, provider)
    return entries
