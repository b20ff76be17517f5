"""Token counting and native context management for the OpenAI adapters.

* Responses: ``POST /v1/responses/input_tokens`` through the SDK's client (the endpoint of
  ``client.responses.input_tokens.count``) with the fields of the body the adapter would send that the endpoint takes (the whole view, no
  ``previous_response_id``: the count must not depend on what the server still holds).
* Native compaction (``ContextPolicy(native=True)``): ``context_management: [{"type": "compaction",
  "compact_threshold": N}]``; the server then adds a ``compaction`` item to a response that passes N
  tokens, which the adapter keeps and replays as it came (WIRE.md §1.7).
* Stand-alone compaction (``native=True``, when the run compacts): ``POST /v1/responses/compact`` turns the
  oldest turns into their user messages plus one opaque ``compaction`` item (WIRE.md §1.7).
* Chat Completions has no counting endpoint: context policies use the local estimate.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import openai

from agentcore.messages import Item, Usage, UserMessage
from agentcore.model import ModelRequest

from .._common import dumps, json_body
from .responses_wire import output_to_items, usage_from

if TYPE_CHECKING:
    from .responses import OpenAIResponsesModel

COUNT_FIELDS = frozenset(
    {"input", "instructions", "model", "parallel_tool_calls", "reasoning", "text", "tool_choice", "tools"}
)
"""Body fields ``/responses/input_tokens`` takes (its SDK signature), of those the adapter sends."""
COMPACT_FIELDS = frozenset({"input", "instructions", "model"})
"""Body fields ``/responses/compact`` takes, of those the adapter sends (WIRE.md §1.7)."""


async def count_responses(model: OpenAIResponsesModel, request: ModelRequest) -> int:
    """The endpoint's count. The body goes through the client's low-level ``post`` (the path
    ``responses.input_tokens.count`` posts to) as bytes: the typed method re-transforms every input item
    in Python, seconds for a few hundred turns."""
    return int((await _post(model, request, "/responses/input_tokens", COUNT_FIELDS))["input_tokens"])


async def compact(model: OpenAIResponsesModel, request: ModelRequest) -> tuple[list[Item], Usage]:
    """``POST /responses/compact``: the user messages of ``request.items`` and one ``compaction`` item
    standing for the rest (kept as the Responses adapter keeps server compaction items)."""
    data = await _post(model, request, "/responses/compact", COMPACT_FIELDS)
    items: list[Item] = []
    for out in data.get("output") or []:
        if out.get("type") == "message" and out.get("role") == "user":
            text = "".join(str(p.get("text", "")) for p in out.get("content") or [] if isinstance(p, dict))
            items.append(UserMessage.of(text))
        else:  # the compaction item (and anything else the server put there), kept whole
            items.extend(output_to_items([out], model.model_name))
    return items, usage_from(data.get("usage"))


async def _post(
    model: OpenAIResponsesModel, request: ModelRequest, path: str, take: frozenset[str]
) -> dict[str, Any]:
    """POST to ``path`` the fields of ``take`` from the body the adapter would send for ``request`` (the
    whole view); the answer's JSON."""
    from .responses_stream import map_error

    body = json.loads(model._body(request, None, request.items, stream=False))
    fields: dict[str, Any] = {k: v for k, v in body.items() if k in take}
    try:
        raw = await model._client.post(path, cast_to=bytes, content=dumps(fields))
    except openai.APIError as exc:
        raise map_error(exc) from exc
    return json_body(raw, model.provider)


def compaction(threshold: int) -> dict[str, Any]:
    """The body field that turns on server-side compaction past ``threshold`` tokens."""
    return {"context_management": [{"type": "compaction", "compact_threshold": threshold}]}
