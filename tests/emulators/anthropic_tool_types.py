"""Anthropic-defined tool entries (``{"type": "bash_20250124", "name": "bash"}``…), as the API checks them.

A tool entry with a ``type`` other than ``custom`` must be one of the versioned tool types the API knows
(the members of the installed SDK's ``ToolUnionParam``: ``bash_20250124``, ``text_editor_20250124`` /
``_20250429`` / ``_20250728``, ``web_search_*``, ``web_fetch_*``, ``code_execution_*``, ``memory_*``, the
tool search tools…, and the beta ones: ``computer_*``, ``mcp_toolset``…); each is checked field by field against its SDK param type, closed: the ``name``
is the literal the type fixes (``bash``, ``str_replace_based_edit_tool``, ``str_replace_editor`` for the
2025-01-24 editor, ``web_search``…), an option of another version (``max_characters`` on the 2025-01-24
editor) is an extra input, a misspelt version is an unknown tag. Wording follows the API's schema errors
(``tools.0.bash_20250124.name: Input should be 'bash'``).
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal, get_args, get_origin, get_type_hints

import anthropic.types as sdk
import anthropic.types.beta as sdk_beta

__all__ = ["tool_entry_problem", "typed_tools"]


@cache
def typed_tools() -> dict[str, Any]:
    """Tool ``type`` -> the SDK's param type for it (every versioned, Anthropic-defined tool)."""
    out: dict[str, Any] = {}
    members = [*get_args(sdk.ToolUnionParam), *get_args(sdk_beta.BetaToolUnionParam)]  # GA types first
    for member in members:
        hint = get_type_hints(member).get("type")
        if hint is None:
            continue
        if get_origin(hint) is not Literal:
            continue
        for tag in get_args(hint):
            if isinstance(tag, str) and tag != "custom":
                out.setdefault(tag, member)
    return out


def tool_entry_problem(where: str, tool: dict[str, Any]) -> str | None:
    """What the API says about an Anthropic-defined tool entry, or ``None`` when it is fine (or is a
    custom tool, checked elsewhere)."""
    from tests.emulators.anthropic_rules import typed_problem

    kind = tool.get("type")
    if kind in (None, "custom"):
        return None
    known = typed_tools()
    if not isinstance(kind, str) or kind not in known:
        tags = ", ".join(repr(t) for t in sorted(known))
        return f"{where}type: Input tag {kind!r} found using 'type' does not match any of the expected tags: {tags}"
    return typed_problem(tool, known[kind], f"{where}{kind}")
