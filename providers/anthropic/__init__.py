"""Anthropic Messages API (``anthropic:``): :mod:`.model` (the adapter), :mod:`.encode` (requests),
:mod:`.decode` (responses and streams), :mod:`.items` (transcript items to content blocks)."""

from .model import AnthropicModel

__all__ = ["AnthropicModel"]
