"""The ``tools`` array of a Responses request: function tools, native client tools and hosted tools.

Native tools (issue 13): an agent with a sandbox asks for ``shell`` and ``apply_patch``
(``ModelRequest.native_tools``). OpenAI models trained on them (GPT-5.1 and later, their codex variants;
not ``*-chat``) get ``{"type":"shell","environment":{"type":"local"}}`` and ``{"type":"apply_patch"}``
in place of the function tools of the same name; other models keep the function tools.

Hosted tools (:mod:`agentcore.hosted`): ``web_search``, ``file_search``, ``code_interpreter`` and ``mcp``
entries; a declaration or option OpenAI does not serve raises
:class:`~agentcore.hosted.UnsupportedHostedToolError` before the request is sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeGuard

from agentcore.hosted import (
    CodeExecution,
    FileSearch,
    HostedMCP,
    UnsupportedHostedToolError,
    WebFetch,
    WebSearch,
)
from agentcore.model import ToolSpec

from .._common import unknown_hosted_tool
from . import computer

if TYPE_CHECKING:
    from .container import OpenAIContainer

PROVIDER = "openai"
_GPT = re.compile(r"^gpt-(\d+)(?:\.(\d+))?")

NATIVE_ENTRIES: dict[str, dict[str, Any]] = {
    "shell": {"type": "shell", "environment": {"type": "local"}},
    "apply_patch": {"type": "apply_patch"},
}


def native_model(model: str) -> bool:
    """Whether ``model`` was trained on the ``shell`` and ``apply_patch`` tools: GPT-5.1 and later
    (``gpt-5.1``, ``gpt-5.2-codex``, ``gpt-6``…), not the ``-chat`` models, not gpt-5 itself."""
    name = model.rsplit("/", 1)[-1].lower()
    m = _GPT.match(name)
    if m is None or "-chat" in name:
        return False
    major, minor = int(m.group(1)), int(m.group(2) or 0)
    return major > 5 or (major == 5 and minor >= 1)


def native_entries(model: str, kinds: Sequence[str]) -> list[dict[str, Any]]:
    """Native tool entries for the ``kinds`` the agent's sandbox offers and ``model`` knows."""
    if not native_model(model):
        return []
    return [NATIVE_ENTRIES[k] for k in kinds if k in NATIVE_ENTRIES]


def hosted_entry(tool: Any, model: str = "") -> dict[str, Any]:
    """One hosted tool declaration as a Responses tool entry (an :class:`.container.OpenAIContainer`
    sandbox: the ``shell`` tool run in that container)."""
    if _is_container(tool):
        if model and not native_model(model):
            raise UnsupportedHostedToolError(
                PROVIDER, "shell", f"model {model!r} has no shell tool (GPT-5.1 and later have it)"
            )
        return {"type": "shell", "environment": tool.shell_environment()}
    if isinstance(tool, WebSearch):
        if tool.blocked_domains:
            raise UnsupportedHostedToolError(
                PROVIDER,
                "web_search",
                "blocked_domains is not an option of OpenAI web search",
                supported_by=["anthropic"],
            )
        if tool.max_uses is not None:
            raise UnsupportedHostedToolError(
                PROVIDER,
                "web_search",
                "max_uses is not an option of OpenAI web search",
                supported_by=["anthropic"],
            )
        entry: dict[str, Any] = {"type": "web_search"}
        if tool.allowed_domains:
            entry["filters"] = {"allowed_domains": list(tool.allowed_domains)}
        if tool.user_location is not None:
            loc = tool.user_location
            where = {"city": loc.city, "country": loc.country, "region": loc.region, "timezone": loc.timezone}
            entry["user_location"] = {
                "type": "approximate",
                **{k: v for k, v in where.items() if v is not None},
            }
        if tool.context_size is not None:
            entry["search_context_size"] = tool.context_size
        return entry
    if isinstance(tool, FileSearch):
        entry = {"type": "file_search", "vector_store_ids": list(tool.vector_store_ids)}
        if tool.max_results is not None:
            entry["max_num_results"] = tool.max_results
        return entry
    if isinstance(tool, CodeExecution):
        if tool.container is not None:
            if tool.file_ids or tool.memory_limit:
                raise UnsupportedHostedToolError(
                    PROVIDER,
                    "code_execution",
                    "file_ids and memory_limit apply to a new container, not to a reused one",
                )
            return {"type": "code_interpreter", "container": tool.container}
        auto: dict[str, Any] = {"type": "auto"}
        if tool.file_ids:
            auto["file_ids"] = list(tool.file_ids)
        if tool.memory_limit:
            auto["memory_limit"] = tool.memory_limit
        return {"type": "code_interpreter", "container": auto}
    if isinstance(tool, HostedMCP):
        return mcp_entry(tool)
    if isinstance(tool, WebFetch):
        raise UnsupportedHostedToolError(
            PROVIDER,
            "web_fetch",
            "the Responses API has no web fetch tool",
            supported_by=["anthropic", "gemini"],
        )
    raise unknown_hosted_tool(PROVIDER, tool)


def mcp_entry(tool: HostedMCP) -> dict[str, Any]:
    """A hosted MCP server as the Responses ``mcp`` tool. ``require_approval`` as a tuple of tool names
    becomes the filter form ``{"always": {"tool_names": [...]}, "never": {...}}`` (the other tools of
    ``allowed_tools`` never need approval)."""
    entry: dict[str, Any] = {"type": "mcp", "server_label": tool.server_label, "server_url": tool.server_url}
    if tool.allowed_tools:
        entry["allowed_tools"] = list(tool.allowed_tools)
    if isinstance(tool.require_approval, str):
        entry["require_approval"] = tool.require_approval
    else:
        approval: dict[str, Any] = {"always": {"tool_names": list(tool.require_approval)}}
        rest = [t for t in tool.allowed_tools if t not in tool.require_approval]
        if rest:
            approval["never"] = {"tool_names": rest}
        entry["require_approval"] = approval
    if tool.authorization:
        entry["authorization"] = tool.authorization
    if tool.headers:
        entry["headers"] = dict(tool.headers)
    if tool.description:
        entry["server_description"] = tool.description
    return entry


def tools_to_wire(
    tools: Sequence[ToolSpec], *, model: str = "", native: Sequence[str] = (), hosted: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """The request's ``tools``: native entries replace the function tools of the same name."""
    entries = native_entries(model, native) if native else []
    view = computer.view_for(model, native, tools)
    if view is not None:  # computer-use-preview: the native computer tool replaces the function tool
        entries.append(computer.tool_entry(model, view))
    replaced = {"computer" if e["type"] == "computer_use_preview" else e["type"] for e in entries}
    out = [
        {
            "type": "function",
            "name": t.name,
            "description": t.description or None,
            "parameters": t.parameters,
            "strict": t.strict,
        }
        for t in tools
        if t.name not in replaced
    ]
    out.extend(entries)
    out.extend(hosted_entry(h, model) for h in hosted)
    labels = [h.server_label for h in hosted if isinstance(h, HostedMCP)]
    if len(labels) != len(set(labels)):
        raise UnsupportedHostedToolError(PROVIDER, "mcp", "two hosted MCP servers share a server_label")
    return out


def _is_container(tool: Any) -> TypeGuard[OpenAIContainer]:
    """An OpenAI hosted container (checked by its marker: this module does not import the SDK)."""
    return getattr(tool, "hosted_vendor", None) == PROVIDER


async def containers_ready(hosted: Sequence[Any]) -> None:
    """Wait for the hosted containers the request's ``shell`` tool names (the run starts them while the
    first request is being built; the request needs their ids)."""
    for h in hosted:
        if _is_container(h):
            await h.ready()


def container_key(hosted: Sequence[Any]) -> tuple[Any, ...]:
    """What of the hosted containers changes the request's tools (a ``container_auto`` one, once made)."""
    return tuple(h.container_id for h in hosted if _is_container(h))


def observe_containers(hosted: Sequence[Any], items: Sequence[Any]) -> None:
    """Tell ``container_auto`` containers which container OpenAI made (from the hosted shell calls)."""
    boxes = [h for h in hosted if _is_container(h) and h.auto and h.container_id is None]
    for item in items if boxes else ():
        cid = (
            getattr(item, "input", {}).get("container_id") if getattr(item, "kind", None) == "shell" else None
        )
        if isinstance(cid, str):
            for box in boxes:
                box.observe(cid)
            return
