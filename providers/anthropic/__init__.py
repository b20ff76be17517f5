"""Anthropic Messages API (``anthropic:``): :mod:`.model` (the adapter), :mod:`.encode` (requests),
:mod:`.decode` (responses and streams), :mod:`.items` (transcript items to content blocks),
:mod:`.hosted` (hosted tool declarations as server tools), :mod:`.server_blocks` (server-tool blocks as
``HostedToolUse`` items), :mod:`.turns` (a turn the API paused, continued), :mod:`.container` (the code
execution container as an agent's sandbox, files through the Files API).

This package file imports no SDK (``AnthropicModel`` is imported on first use):
:func:`deferrable` is what the registry asks before it puts off building an adapter."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import AnthropicModel

__all__ = ["AnthropicModel", "deferrable"]

DEFERRABLE_OPTIONS = frozenset(
    "api_key base_url timeout max_tokens thinking prompt_caching default_headers text_editor_max_characters".split()
)
"""Constructor options (plain values) the adapter may be built later with; anything else builds it now."""


def deferrable(provider: str, options: dict[str, Any]) -> bool:
    """Whether the adapter can be built on first use: plain options and a key or token in sight. Without
    one it is built now, so the SDK decides (a profile may hold credentials) and a missing key is
    reported at once."""
    if not set(options) <= DEFERRABLE_OPTIONS:
        return False
    headers = {k.lower() for k in options.get("default_headers") or {}}
    return bool(
        options.get("api_key")
        or os.environ.get("ANTHROPIC_API_KEY")
        or os.environ.get("ANTHROPIC_AUTH_TOKEN")
        or headers & {"x-api-key", "authorization"}
    )


def __getattr__(name: str) -> Any:
    if name == "AnthropicModel":
        from .model import AnthropicModel

        return AnthropicModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
