"""OpenAI APIs: :mod:`.responses` (the Responses API, ``openai:``) and :mod:`.chat` (any
OpenAI-compatible Chat Completions server, ``openai-chat:``).

This package file imports no SDK: :func:`deferrable` is what the registry asks before it puts off
building an adapter (and importing ``openai``) until the model is first used."""

from __future__ import annotations

from typing import Any

DEFERRABLE_OPTIONS: dict[str, frozenset[str]] = {
    "openai": frozenset(
        "api_key base_url timeout store encrypted_reasoning poll_interval max_poll_interval organization "
        "project default_headers max_cached_items".split()
    ),
    "openai-chat": frozenset(
        "api_key base_url timeout max_tokens_param system_role replay_reasoning reasoning_field "
        "structured_output stream_usage thinking_toggle extra_body default_headers".split()
    ),
}
"""Constructor options (plain values) an adapter may be built later with; anything else builds it now."""


def deferrable(provider: str, options: dict[str, Any]) -> bool:
    """Whether the adapter can be built on first use. A missing key for OpenAI's own host raises
    :class:`~agentcore.errors.MissingCredentialsError` now, as building the adapter would."""
    if not set(options) <= DEFERRABLE_OPTIONS[provider]:
        return False
    from .auth import api_key_for

    api_key_for(provider, options.get("api_key"), options.get("base_url"))
    return True
