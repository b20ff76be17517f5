"""Token counting and native context management for the Anthropic adapter.

* ``POST /v1/messages/count_tokens`` through the SDK's client (the endpoint of
  ``client.messages.count_tokens``) with the fields of
  the body the adapter would send that the endpoint takes (``max_tokens``, ``stream``, sampling and
  ``metadata`` are generation-only).
* The vendor's own context management (``ContextPolicy(native=True)``), one of two edits of
  ``context_management.edits``:

  - server-side compaction, ``compact_20260112`` with ``trigger: {type: input_tokens, value: N}``,
    on the models that have it (Opus/Sonnet 4.6 and later, every 5.x family, Haiku 5.5) when the
    policy's threshold is at least the edit's minimum trigger (50,000 tokens); beta
    ``compact-2026-01-12``. Past N the API summarises the conversation inside the request and answers
    with a ``compaction`` block first; sent back in place, it stands for everything before it.
  - else context editing, ``clear_tool_uses_20250919`` (old tool results cleared past N, the last
    three tool uses kept); beta ``context-management-2025-06-27``.

  The adapter adds the edit's beta to the request's ``anthropic-beta`` header when the body carries
  ``context_management``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anthropic
import httpx2

from agentcore.messages import AssistantMessage, Item
from agentcore.model import ModelRequest

from .._common import dumps, json_body
from .items import PROVIDER, model_family

if TYPE_CHECKING:
    from .model import AnthropicModel

CONTEXT_BETA = "context-management-2025-06-27"
COMPACT_BETA = "compact-2026-01-12"
COMPACT_EDIT = "compact_20260112"
COMPACT_MIN_TRIGGER = 50_000
"""The smallest ``trigger.value`` the compaction edit takes."""
_CLAUDE = re.compile(r"claude-(opus|sonnet|haiku|fable|mythos)-(\d+)(?:-(\d)(?!\d))?")
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


def compacts(model: str) -> bool:
    """Whether ``model`` has server-side compaction (the ``compact_20260112`` edit): Opus and Sonnet 4.6
    and later, Haiku 5 and later, every Fable and Mythos model."""
    m = _CLAUDE.search(model.lower())
    if m is None:
        return False
    family, major, minor = m.group(1), int(m.group(2)), int(m.group(3) or 0)
    if family in ("fable", "mythos"):
        return True
    if family == "haiku":
        return major >= 5
    return (major, minor) >= (4, 6)


def context_management(model: str, threshold: int) -> dict[str, Any]:
    """The edit ``ContextPolicy(native=True)`` asks for at ``threshold`` input tokens: server-side
    compaction where the model has it and the threshold is one the edit takes, else tool-result
    clearing."""
    if compacts(model) and threshold >= COMPACT_MIN_TRIGGER:
        edit = {"type": COMPACT_EDIT, "trigger": {"type": "input_tokens", "value": threshold}}
        return {"context_management": {"edits": [edit]}}
    return context_editing(threshold)


COMPACTING = {"edits": [{"type": COMPACT_EDIT}]}
"""A ``context_management`` whose beta is compaction's (for :func:`with_context_beta`)."""


def holds_compaction(items: Sequence[Item], model: str) -> bool:
    """Whether ``items`` hold a compaction block the request sends back (one of ``model``'s family)."""
    family = model_family(model)
    for item in items:
        if isinstance(item, AssistantMessage) and item.state:
            st = item.state_for(PROVIDER, kind="compaction")
            if st is not None and model_family(st.model) == family:
                return True
    return False


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


def with_context_beta(options: dict[str, Any], client_betas: Any, management: Any = None) -> None:
    """Add the beta of ``management``'s edits (the body's ``context_management``) to a request's
    ``anthropic-beta`` header (in ``options``): compaction's, context editing's, or both."""
    have = options.get("headers", {}).get("anthropic-beta") or client_betas
    values = [v for v in str(have or "").split(",") if v]
    edits = management.get("edits") if isinstance(management, dict) else None
    kinds = {e.get("type") for e in edits if isinstance(e, dict)} if isinstance(edits, list) else set()
    wanted = [COMPACT_BETA] if COMPACT_EDIT in kinds else []
    if kinds - {COMPACT_EDIT} or not wanted:
        wanted.append(CONTEXT_BETA)
    values.extend(b for b in wanted if b not in values)
    options.setdefault("headers", {})["anthropic-beta"] = ",".join(values)
