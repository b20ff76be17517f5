"""Responses output items beyond messages and function calls: native client tools, server-run tools,
and item types the adapter does not model (issue 13).

* Client-run native calls (``shell_call`` with a local environment, ``apply_patch_call``,
  ``local_shell_call``) become neutral :class:`ToolCall` items named ``shell`` / ``apply_patch`` /
  ``local_shell`` whose arguments are the call's ``action`` / ``operation`` JSON. They carry two states:
  the raw item (``provider="openai"``, ``kind`` = its wire type) so it replays byte-exact, and a neutral
  marker (``provider="native"``, ``kind`` = the native tool kind) that the run routes to the agent's
  sandbox. Their results go back as ``shell_call_output`` / ``apply_patch_call_output`` /
  ``local_shell_call_output``.
* Tools the server ran (``web_search_call``, ``file_search_call``, ``code_interpreter_call``, a hosted
  container's ``shell_call`` + ``shell_call_output``, ``image_generation_call``, ``mcp_call``) become
  :class:`~agentcore.messages.HostedToolUse` items (:mod:`.responses_hosted`).
* Everything else (``mcp_list_tools``, any type not known here) is kept as an assistant message without
  text holding the raw item (``kind="item"``), the mechanism ``compaction`` items use: replayed as it
  came to OpenAI, skipped by other vendors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from agentcore.messages import AssistantMessage, Item, ProviderState, ToolCall, ToolResult

from .._common import dumps

PROVIDER = "openai"
NATIVE_MARK = "native"
"""``ProviderState.provider`` of the neutral marker on a native tool call and on its result."""

NATIVE_CALLS: dict[str, tuple[str, str]] = {
    "shell_call": ("shell", "action"),
    "apply_patch_call": ("apply_patch", "operation"),
    "local_shell_call": ("local_shell", "action"),
}
"""Wire type of a client-run call → (native tool kind, the field holding its input)."""

OPAQUE_KIND = "item"
"""``ProviderState.kind`` of a server-run or unknown output item kept as it came."""

SERVER_ITEMS = frozenset(
    {
        "web_search_call",
        "file_search_call",
        "code_interpreter_call",
        "image_generation_call",
        "shell_call_output",
        "mcp_call",
        "mcp_list_tools",
    }
)
"""Items the server ran itself (kept, nothing for the client to do)."""


def _state(model: str, kind: str, payload: Any) -> ProviderState:
    return ProviderState(provider=PROVIDER, model=model, kind=kind, payload=payload)


def server_ran(out: Mapping[str, Any], output: Sequence[Any]) -> bool:
    """Whether a ``shell_call`` ran in a hosted container: its environment is not ``local``, or the same
    response carries its ``shell_call_output``."""
    env = out.get("environment")
    if isinstance(env, Mapping) and env.get("type") not in (None, "local"):
        return True
    call_id = out.get("call_id")
    return any(
        isinstance(o, Mapping) and o.get("type") == "shell_call_output" and o.get("call_id") == call_id
        for o in output
    )


def native_call(out: dict[str, Any], model: str) -> ToolCall:
    """A client-run native call as a neutral tool call."""
    kind, field = NATIVE_CALLS[str(out.get("type"))]
    data = out.get(field)
    return ToolCall(
        call_id=str(out.get("call_id") or ""),
        name=kind,
        arguments=json.dumps(data if isinstance(data, dict) else {}),
        state=(
            _state(model, str(out["type"]), out),
            ProviderState(provider=NATIVE_MARK, kind=kind),
        ),
    )


def opaque_item(out: dict[str, Any], model: str) -> AssistantMessage:
    """A server-run or unknown output item, kept whole."""
    return AssistantMessage(text="", state=(_state(model, OPAQUE_KIND, out),))


def opaque_label(item: Item) -> str | None:
    """The wire type of an opaque item, else ``None``."""
    if not isinstance(item, AssistantMessage):
        return None
    st = item.state_for(PROVIDER, kind=OPAQUE_KIND)
    if st is None or not isinstance(st.payload, dict):
        return None
    return str(st.payload.get("type"))


def render_opaque(payload: Mapping[str, Any]) -> str:
    """A short, bounded text for an opaque item (for logs and for other vendors that want one)."""
    kind = payload.get("type")
    action = payload.get("action") if isinstance(payload.get("action"), Mapping) else {}
    if kind == "web_search_call":
        query = action.get("query") if isinstance(action, Mapping) else None
        return f"[web search: {query}]" if query else "[web search]"
    if kind == "file_search_call":
        return f"[file search: {'; '.join(str(q) for q in payload.get('queries') or [])[:200]}]"
    if kind == "code_interpreter_call":
        return f"[code run on the server]\n{str(payload.get('code') or '')[:1000]}"
    return f"[{kind} run by the server]"


def replay_native_call(item: ToolCall) -> bytes | None:
    """The raw bytes of a native call this provider issued, else ``None``."""
    for st in item.state:
        if st.provider == PROVIDER and st.kind in NATIVE_CALLS and isinstance(st.payload, dict):
            return dumps(st.payload)
    return None


def native_kind_of(call: ToolCall) -> str | None:
    """The wire type of the native call ``call`` came from (``shell_call``…), else ``None``."""
    for st in call.state:
        if st.provider == PROVIDER and st.kind in NATIVE_CALLS:
            return st.kind
    return None


def native_output(result: ToolResult, call_type: str, call_id: str) -> dict[str, Any]:
    """The output item answering a native call: from the structured result the sandbox produced
    (``provider="native"`` state), or built from the text when there is none (a refused or failed call)."""
    kind = NATIVE_CALLS[call_type][0]
    st = result.state_for(NATIVE_MARK, kind=kind)
    payload = st.payload if st is not None and isinstance(st.payload, dict) else None
    if kind == "shell":
        if payload is not None and isinstance(payload.get("output"), list) and not result.is_error:
            wire: dict[str, Any] = {
                "type": "shell_call_output",
                "call_id": call_id,
                "output": payload["output"],
            }
            if payload.get("max_output_length") is not None:
                wire["max_output_length"] = payload["max_output_length"]
            return wire
        code = 1 if result.is_error else 0
        chunk = {
            "stdout": "" if result.is_error else result.output,
            "stderr": result.output if result.is_error else "",
        }
        return {
            "type": "shell_call_output",
            "call_id": call_id,
            "output": [{**chunk, "outcome": {"type": "exit", "exit_code": code}}],
        }
    if kind == "apply_patch":
        status = "failed" if result.is_error else "completed"
        if payload is not None and payload.get("status") in ("completed", "failed"):
            status = payload["status"]
        return {
            "type": "apply_patch_call_output",
            "call_id": call_id,
            "status": status,
            "output": result.output,
        }
    if payload is not None and isinstance(payload.get("output"), str) and not result.is_error:
        text = payload["output"]
    else:
        text = json.dumps({"output": result.output, "metadata": {"exit_code": 1 if result.is_error else 0}})
    return {"type": "local_shell_call_output", "id": call_id, "output": text}
