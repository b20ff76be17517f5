"""What every provider adapter does the same way, whatever the vendor.

* ``dumps``: compact JSON bytes, the one encoding adapters send;
* ``server_address``: ``(host, port)`` of a base URL for the ``server.address``/``server.port`` span
  attributes;
* ``header_retry_after``: seconds to wait from ``retry-after-ms`` / ``retry-after`` response headers;
* ``ItemCache``: a bounded per-item cache of wire encodings (items are immutable: encode once);
* ``hashed_call_id``: the deterministic replacement for a tool-call id a vendor would reject;
* ``stale_watermark``: whether the server-side state an adapter chained from still matches the
  transcript (the Responses and Interactions adapters keep ``covered``/``fingerprint``/``model`` in
  ``request.cache``, each with its own fingerprint);
* ``json_body`` / ``malformed_stream``: a 200 whose body is not a JSON object, or a stream line that
  is not JSON, as the typed, retryable errors (``ServerError`` / ``ModelStreamError``) instead of a raw
  ``JSONDecodeError``. The runner replays such a call only while nothing of it reached the user.

Vendor rules (which status means what, which ids a vendor accepts, how server-side state is chained)
stay in each adapter.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from agentcore.errors import ModelStreamError, ServerError
from agentcore.hosted import UnsupportedHostedToolError
from agentcore.messages import AssistantMessage, Item

__all__ = [
    "ItemCache",
    "dumps",
    "hashed_call_id",
    "header_retry_after",
    "json_body",
    "malformed_stream",
    "server_address",
    "stale_watermark",
]

_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(value: Any) -> bytes:
    """Compact JSON as UTF-8 bytes (no ASCII escaping)."""
    return _encode_json(value).encode()


def json_body(raw: bytes | str, provider: str) -> dict[str, Any]:
    """``raw`` parsed as the JSON object a successful answer must be; otherwise a retryable
    :class:`ServerError` (a proxy's HTML error page, a truncated body) carrying the start of it."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ServerError(
            f"the server answered 200 with a body that is not JSON ({exc})",
            provider=provider,
            status_code=200,
            body=raw[:2000],
        ) from None
    if not isinstance(data, dict):
        raise ServerError(
            "the server answered 200 with JSON that is not an object",
            provider=provider,
            status_code=200,
            body=raw[:2000],
        )
    return data


def malformed_stream(provider: str, exc: ValueError) -> ModelStreamError:
    """The error for a stream line that is not JSON (retryable while nothing reached the user)."""
    return ModelStreamError(
        f"malformed stream: a line is not JSON ({exc})", provider=provider, status_code=200
    )


def server_address(url: str) -> tuple[str | None, int]:
    """Host and port of ``url`` (the scheme's default port when it names none)."""
    parts = urlsplit(url)
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def header_retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date), never negative.

    ``None`` when neither header is there or neither parses.
    """
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(float(value) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(when.timestamp() - time.time(), 0.0)


def hashed_call_id(call_id: str, *, sha1: bool = False, prefix: str = "call_") -> str:
    """``prefix`` and 24 hex digits of a hash of ``call_id``: the same input always maps the same way."""
    digest = hashlib.sha1(call_id.encode()) if sha1 else hashlib.sha256(call_id.encode())
    return prefix + digest.hexdigest()[:24]


def stale_watermark(
    cache: Mapping[str, Any], items_count: int, model: str, prefix_fingerprint: Callable[[int], str]
) -> str | None:
    """Why the watermark in ``cache`` no longer describes the start of the transcript, or ``None``.

    The watermark says the server holds the first ``covered`` items, whose fingerprint was
    ``fingerprint``, produced by ``model``. ``prefix_fingerprint(n)`` fingerprints the transcript's
    first ``n`` items the way the adapter stored it. Reasons: ``model_changed``,
    ``transcript_shorter`` (or no usable watermark), ``transcript_changed``.
    """
    if cache.get("model") != model:
        return "model_changed"
    covered = cache.get("covered")
    if not isinstance(covered, int) or not 0 <= covered <= items_count:
        return "transcript_shorter"
    if prefix_fingerprint(covered) != cache.get("fingerprint"):
        return "transcript_changed"
    return None


V = TypeVar("V")


class ItemCache(Generic[V]):
    """``cache.encoded(item)``: ``encode(item)``, computed once per item and kept while there is room.

    Entries are keyed by item id and hold the item itself, so an item that reuses an id with other
    content is encoded again (an equal copy takes the entry's place). When ``limit`` entries are held, the oldest ``drop`` go (dicts keep
    insertion order: cheap and bounded). ``data`` lets several adapters share one store. Hot loops
    keep the bound method (``encode = cache.encoded``): a plain method call is the cheapest lookup.
    """

    __slots__ = ("_data", "_drop", "_encode", "limit")

    def __init__(
        self,
        encode: Callable[[Item], V],
        limit: int,
        *,
        drop: int | None = None,
        data: dict[str, tuple[Item, V]] | None = None,
    ) -> None:
        self._encode = encode
        self.limit = limit
        self._drop = limit // 2 if drop is None else drop
        self._data: dict[str, tuple[Item, V]] = {} if data is None else data

    def encoded(self, item: Item) -> V:
        data = self._data
        hit = data.get(item.id)
        if hit is not None:
            if hit[0] is item:
                return hit[1]
            if hit[0] == item:  # an equal copy (a reloaded session): keep it for the identity check
                data[item.id] = (item, hit[1])
                return hit[1]
        value = self._encode(item)
        if len(data) >= self.limit:
            for key in list(data)[: self._drop]:
                data.pop(key, None)
        data[item.id] = (item, value)
        return value

    def __len__(self) -> int:
        return len(self._data)


def assistant_text(item: AssistantMessage, provider: str) -> str:
    """What an assistant message says to ``provider``: its text; for another vendor's server-side
    compaction (an empty message holding that vendor's ``compaction`` block, e.g. Anthropic's, whose
    ``content`` is its summary of the conversation before it), that summary as readable text, since
    the block itself means nothing to this vendor. An opaque compaction (OpenAI's) has no text: ''."""
    if item.text:
        return item.text
    for st in item.state:
        if st.provider == provider or st.kind != "compaction" or not isinstance(st.payload, dict):
            continue
        block = st.payload.get("block")
        content = block.get("content") if isinstance(block, dict) else None
        if isinstance(content, str) and content.strip():
            return compaction_text(content, st.model or st.provider)
    return ""


def compaction_text(summary: str, model: str) -> str:
    """A vendor's compaction summary as text for a model that cannot take its block."""
    return (
        f"[Summary of the earlier conversation, written by {model} when it compacted its context]\n{summary}"
    )


def iso_timestamp(value: Any) -> float | None:
    """An ISO 8601 time a vendor sent (``...Z`` or with an offset) as a Unix timestamp; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def unknown_hosted_tool(provider: str, tool: object) -> UnsupportedHostedToolError:
    """The error for a hosted tool declaration an adapter does not know (a type newer than the adapter)."""
    return UnsupportedHostedToolError(
        provider, type(tool).__name__, "not a hosted tool declaration this adapter knows"
    )
