"""Images of a session stored once, by content (issue 16): screenshots must not grow a session by
megabytes per step.

When a turn is written, every inline image of its items (an :class:`~agentcore.messages.ImagePart`
with base64 ``data``, such as a ``computer`` tool's screenshot) is replaced in the stored record by a
reference, ``agentcore-blob:sha256:<hex>``, and its bytes go to the session's blob table keyed by
that digest, once: the same screenshot twice (an unchanged screen) is one blob. Loading the session
puts the images back. A reference whose blob is gone loads as a text placeholder, never as a URL a
vendor would be sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

SCHEME = "agentcore-blob:sha256:"
MIN_CHARS = 512
"""Images smaller than this (base64 characters) stay inline: a reference would not save anything."""
MISSING = "[image no longer stored]"
_IMAGE_KEYS = frozenset({"type", "url", "data", "media_type"})

Blobs = dict[str, tuple[str, bytes]]
"""digest -> (media type, bytes)."""


def _is_image(node: dict[str, Any]) -> bool:
    return node.get("type") == "image" and set(node) == _IMAGE_KEYS


def extract(payload: dict[str, Any]) -> tuple[dict[str, Any], Blobs]:
    """``payload`` (a turn record) with its inline images replaced by references, and the blobs."""
    blobs: Blobs = {}

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        if _is_image(node) and isinstance(node.get("data"), str) and len(node["data"]) >= MIN_CHARS:
            try:
                raw = base64.b64decode(node["data"], validate=True)
            except (binascii.Error, ValueError):
                return node  # not base64: kept as it is
            digest = hashlib.sha256(raw).hexdigest()
            blobs[digest] = (str(node.get("media_type") or "image/png"), raw)
            return {**node, "url": SCHEME + digest, "data": None}
        return {k: walk(v) for k, v in node.items()}

    if "items" not in payload:
        return payload, blobs
    return {**payload, "items": walk(payload["items"])}, blobs


def referenced(payload: dict[str, Any]) -> set[str]:
    """The digests a stored payload refers to."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, dict):
            url = node.get("url")
            if _is_image(node) and isinstance(url, str) and url.startswith(SCHEME):
                found.add(url[len(SCHEME) :])
            else:
                for v in node.values():
                    walk(v)

    walk(payload.get("items"))
    return found


def restore(payload: dict[str, Any], blobs: Mapping[str, bytes]) -> dict[str, Any]:
    """A stored payload with its references replaced by the images (base64 ``data`` again)."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        url = node.get("url")
        if _is_image(node) and isinstance(url, str) and url.startswith(SCHEME):
            raw = blobs.get(url[len(SCHEME) :])
            if raw is None:
                return {"type": "text", "text": MISSING}
            return {**node, "url": None, "data": base64.b64encode(raw).decode()}
        return {k: walk(v) for k, v in node.items()}

    if "items" not in payload:
        return payload
    return {**payload, "items": walk(payload["items"])}
