"""Token counting and native context management for the Anthropic adapter.

* ``POST /v1/messages/count_tokens`` through the SDK's client (the endpoint of
  ``client.messages.count_tokens``) with the fields of
  the body the adapter would send that the endpoint takes (``max_tokens``, ``stream``, sampling and
  ``metadata`` are generation-only).
* Context editing (``ContextPolicy(native=True)``): ``context_management`` with a
  ``clear_tool_uses_20250919`` edit that clears old tool results once the input passes the policy's
  threshold, keeping the last three tool uses; it needs the ``context-management-2025-06-27`` beta,
  which the adapter adds to the request's ``anthropic-beta`` header when the body carries the field.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import anthropic
import httpx2

from agentcore.model import ModelRequest

from .._common import dumps, json_body

if TYPE_CHECKING:
    from .model import AnthropicModel

CONTEXT_BETA = "context-management-2025-06-27"
COUNT_FIELDS = frozenset(
    {"model", "messages", "system", "tools", "tool_choice", "thinking", "output_config", "cache_control"}
)


async def count_messages(model: AnthropicModel, request: ModelRequest) -> int:
    """The endpoint's count. The body goes through the client's low-level ``post`` (the path
    ``messages.count_tokens`` posts to) as bytes: the typed method re-transforms every message in Python."""
    body, _ = model.encoder.body(request, stream=False)
    fields: dict[str, Any] = {k: v for k, v in json.loads(body).items() if k in COUNT_FIELDS}
    try:
        response = await model.client.post(
            "/v1/messages/count_tokens",
            cast_to=httpx2.Response,
            content=dumps(fields),
            options=model._options(request),
        )
    except anthropic.APIError as exc:
        raise model._error(exc) from exc
    return int(json_body(response.content, model.provider)["input_tokens"])


def context_editing(threshold: int, keep: int = 3) -> dict[str, Any]:
    return {
        "context_management": {
            "edits": [
                {
                    "type": "clear_tool_uses_20250919",
                    "trigger": {"type": "input_tokens", "value": threshold},
                    "keep": {"type": "tool_uses", "value": keep},
                }
            ]
        }
    }


def with_context_beta(options: dict[str, Any], client_betas: Any) -> None:
    """Add the context-management beta to a request's ``anthropic-beta`` header (in ``options``)."""
    have = options.get("headers", {}).get("anthropic-beta") or client_betas
    values = [v for v in str(have or "").split(",") if v]
    if CONTEXT_BETA not in values:
        values.append(CONTEXT_BETA)
    options.setdefault("headers", {})["anthropic-beta"] = ",".join(values)
