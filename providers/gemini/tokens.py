"""Token counting for the Gemini ``generateContent`` adapter: ``POST models/{model}:countTokens``.

The body is ``{"generateContentRequest": {...}}``, the very request the adapter would send, so the
count covers the system instruction and tool declarations as well as the contents. The SDK's
``models.count_tokens`` cannot say that on the Gemini Developer API (it refuses ``system_instruction``
and ``tools`` outside Vertex AI), so the adapter posts through the SDK's own API client, the transport
its ``generateContent`` calls use. The Interactions API has no counting endpoint: context policies
use the local estimate there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentcore.model import ModelRequest

from .._common import json_body
from .common import map_exception

if TYPE_CHECKING:
    from .generate_content import GeminiModel


async def count_generate(model: GeminiModel, request: ModelRequest) -> int | None:
    name = model.model_name if "/" in model.model_name else f"models/{model.model_name}"
    body: dict[str, Any] = {"generateContentRequest": {"model": name, **model.build_body(request)}}
    try:
        raw = await model._api.async_request("post", f"{name}:countTokens", body, model._options)
    except Exception as exc:
        raise map_exception(exc, provider=model.provider) from exc
    data = json_body(raw.body, model.provider) if raw.body else {}
    total = data.get("totalTokens")
    return int(total) if isinstance(total, int) else None
