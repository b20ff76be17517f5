"""Anthropic's client tools the models were trained on, run in the agent's sandbox (issue 13 §3).

An agent with a sandbox offers its shell and its file editing as native tools
(``ModelRequest.native_tools``). Claude models trained on Anthropic's schema-less client tools get them
in that form instead of the function tools that do the same work:

=====================  ======================================================  =========================
model                  tool entries                                            replaces the function tools
=====================  ======================================================  =========================
Claude 4.x and later   ``{"type":"bash_20250124","name":"bash"}``              ``shell``
                       ``{"type":"text_editor_20250728",                       ``read_file``,
                       "name":"str_replace_based_edit_tool"}`` (+              ``write_file``,
                       ``max_characters`` when the adapter sets one)           ``edit_file``
Claude Sonnet 3.7      ``bash_20250124``; ``text_editor_20250124`` named       the same
                       ``str_replace_editor``
older models           none: the function tools stay
=====================  ======================================================  =========================

A ``tool_use`` block naming a declared native tool becomes a neutral :class:`ToolCall` the run executes
in the sandbox (``agentcore.sandboxes.native.execute_native``): a ``bash`` call is named ``shell`` with
the block's input as arguments (``{"command": ...}``, what the ``shell`` function tool takes), so
guardrails (``ShellPolicy``), approvals and spans (``execute_tool shell``) are those of the shell
tool; a text editor call is named ``str_replace_based_edit_tool``. Each carries the block as it came
(replayed byte-exact to any Claude model) and the neutral marker (``provider="native"``, ``kind`` =
``bash`` / ``text_editor``, payload ``{"max_characters": N}`` when declared with one). The result goes
back as a plain ``tool_result`` (the text the executor wrote, with the error texts the model expects,
``is_error`` on failures). On another vendor the same call is an ordinary function call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from agentcore.messages import Item, ProviderState, ToolCall
from agentcore.model import ModelRequest, ToolSpec

from .._common import dumps

__all__ = [
    "NATIVE_KIND",
    "declared",
    "native_call",
    "native_choice",
    "native_entries",
    "native_versions",
    "replay_block",
    "split_tools",
]

PROVIDER = "anthropic"
NATIVE_MARK = "native"
NATIVE_KIND = "native_tool_use"
"""``ProviderState.kind`` of the raw ``tool_use`` block of a native call."""
SHELL_NAME = "shell"
EDITOR_NAME = "str_replace_based_edit_tool"
REPLACES: dict[str, frozenset[str]] = {
    "bash": frozenset({"shell"}),
    "text_editor": frozenset({"read_file", "write_file", "edit_file"}),
}
"""The sandbox function tools each native tool stands in for."""
_CLAUDE = re.compile(r"claude-(?:(?:opus|sonnet|haiku)-)?(\d+)(?:-(\d)(?!\d))?")


@lru_cache(maxsize=256)
def native_versions(model: str) -> dict[str, tuple[str, str]]:
    """Native tool kind -> (tool type, tool name) for the Claude ``model``: Claude 4.x and later take
    ``bash_20250124`` and ``text_editor_20250728``; Sonnet 3.7 ``bash_20250124`` and
    ``text_editor_20250124`` (``str_replace_editor``); other models none. (Cached: do not change it.)"""
    m = _CLAUDE.search(model.lower())
    if m is None:
        return {}
    major, minor = int(m.group(1)), int(m.group(2) or 0)
    if major >= 4:
        return {"bash": ("bash_20250124", "bash"), "text_editor": ("text_editor_20250728", EDITOR_NAME)}
    if (major, minor) == (3, 7):
        return {
            "bash": ("bash_20250124", "bash"),
            "text_editor": ("text_editor_20250124", "str_replace_editor"),
        }
    return {}


def declared(model: str, request: ModelRequest) -> dict[str, str]:
    """Wire tool name -> native kind, for the native tools a request to ``model`` declares."""
    versions = native_versions(model)
    return {versions[k][1]: k for k in request.native_tools if k in versions}


def native_entries(
    model: str, kinds: Sequence[str], max_characters: int | None = None
) -> list[dict[str, Any]]:
    """The tool entries for the native ``kinds`` the agent's sandbox offers and ``model`` knows."""
    versions = native_versions(model)
    entries: list[dict[str, Any]] = []
    for kind in ("bash", "text_editor"):
        if kind not in kinds or kind not in versions:
            continue
        tool_type, name = versions[kind]
        entry: dict[str, Any] = {"type": tool_type, "name": name}
        if kind == "text_editor" and max_characters is not None and tool_type == "text_editor_20250728":
            entry["max_characters"] = max_characters
        entries.append(entry)
    return entries


def split_tools(
    model: str, request: ModelRequest, max_characters: int | None = None
) -> tuple[tuple[ToolSpec, ...], bytes]:
    """The request's function tools without those a native tool replaces, and the native entries' bytes
    (comma-joined, empty when there are none)."""
    if not request.native_tools:
        return tuple(request.tools), b""
    replaced, entries = _declared(model, tuple(request.native_tools), max_characters)
    if not entries:
        return tuple(request.tools), b""
    return tuple(t for t in request.tools if t.name not in replaced), entries


@lru_cache(maxsize=64)
def _declared(model: str, kinds: tuple[str, ...], max_characters: int | None) -> tuple[frozenset[str], bytes]:
    """The function tools replaced and the native entries' bytes (computed once per model and kinds)."""
    entries = native_entries(model, kinds, max_characters)
    versions = native_versions(model)
    declared = {k for k, (tool_type, _) in versions.items() if any(e["type"] == tool_type for e in entries)}
    replaced = frozenset().union(*(REPLACES[k] for k in declared))
    return replaced, b",".join(dumps(e) for e in entries)


def native_choice(model: str, request: ModelRequest, choice: str | None) -> str | None:
    """``tool_choice`` naming a function tool a native tool replaced (``shell``) names the native tool
    (``bash``) instead: the function tool is not in the request."""
    if choice in (None, "auto", "required", "none") or not request.native_tools:
        return choice
    versions = native_versions(model)
    for kind in ("bash", "text_editor"):
        if kind in request.native_tools and kind in versions and choice in REPLACES[kind]:
            return versions[kind][1]
    return choice


def native_call(
    block: dict[str, Any],
    kind: str,
    model: str,
    *,
    raw_input: str | None = None,
    max_characters: int | None = None,
) -> ToolCall:
    """A ``tool_use`` block of a declared native tool as a neutral call the run executes in the sandbox.
    ``raw_input``: streamed input that is not a JSON object (the executor answers with an error)."""
    data = block.get("input")
    arguments = raw_input if raw_input is not None else json.dumps(data if isinstance(data, dict) else {})
    marker: dict[str, Any] = {"max_characters": max_characters} if max_characters is not None else {}
    states = [ProviderState(provider=NATIVE_MARK, kind=kind, payload=marker or None)]
    if raw_input is None:  # a block whose input is what the model meant: replayed as it came
        states.insert(
            0, ProviderState(provider=PROVIDER, model=model, kind=NATIVE_KIND, payload={"block": block})
        )
    return ToolCall(
        call_id=str(block.get("id") or ""),
        name=SHELL_NAME if kind == "bash" else EDITOR_NAME,
        arguments=arguments,
        state=tuple(states),
    )


def replay_block(item: Item, wire_id: str) -> bytes | None:
    """The raw ``tool_use`` block of a native call a Claude model made (any model: the block is plain
    data), when its id is the one the request uses; else ``None``."""
    for st in item.state:
        if st.provider == PROVIDER and st.kind == NATIVE_KIND and isinstance(st.payload, dict):
            block = st.payload.get("block")
            if isinstance(block, dict) and block.get("id") == wire_id:
                return dumps(block)
    return None
