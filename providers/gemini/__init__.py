"""Google Gemini: :mod:`.generate_content` (``google:``), :mod:`.interactions` (``google-interactions:``)
and what both share (:mod:`.common`).

This package file imports neither adapter (they are imported on first use): :func:`deferrable` is what
the registry asks before it puts off building an adapter and importing ``google-genai``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .generate_content import GeminiModel
    from .interactions import GeminiInteractionsModel

__all__ = ["GeminiInteractionsModel", "GeminiModel", "deferrable"]

DEFERRABLE_OPTIONS: dict[str, frozenset[str]] = {
    "google": frozenset("api_key base_url timeout api_version cache_size".split()),
    "google-interactions": frozenset("api_key base_url timeout store api_version cache_size".split()),
}
"""Constructor options (plain values) an adapter may be built later with; anything else builds it now."""


def deferrable(provider: str, options: dict[str, Any]) -> bool:
    """Whether the adapter can be built on first use: plain options and a key in sight. Without a key it
    is built now, which raises :class:`~agentcore.errors.MissingCredentialsError` at once."""
    if not set(options) <= DEFERRABLE_OPTIONS[provider]:
        return False
    from .common import api_key_from_env

    return bool(options.get("api_key") or api_key_from_env())


def __getattr__(name: str) -> Any:
    if name == "GeminiModel":
        from .generate_content import GeminiModel

        return GeminiModel
    if name == "GeminiInteractionsModel":
        from .interactions import GeminiInteractionsModel

        return GeminiInteractionsModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
