"""Server-run tool items of the Responses API as neutral :class:`HostedToolUse` items, citations, hosted
tool request counts, and the hosted MCP approval round trip (issues 13 and 14).

* ``web_search_call``, ``file_search_call``, ``code_interpreter_call``, ``image_generation_call``,
  ``mcp_call`` and a hosted container's ``shell_call`` (with the ``shell_call_output`` that follows it)
  become one :class:`HostedToolUse` each. The exact wire items are kept in ``state`` (``provider="openai"``,
  ``kind`` = the wire type, in order), so OpenAI gets them back byte-exact; another vendor gets
  :meth:`HostedToolUse.render`. An image generation's base64 result stays in the state only.
* ``output_text.annotations`` (``url_citation``, ``file_citation``, ``container_file_citation``,
  ``file_path``) become :class:`Citation` entries of the assistant message.
* ``mcp_approval_request`` becomes a :class:`ToolCall` marked with
  :data:`~agentcore.hosted.APPROVAL_MARK`: the run pauses for a human decision like any tool needing
  approval, and nothing runs locally; the decision goes back as ``mcp_approval_response``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from agentcore.hosted import APPROVAL_MARK
from agentcore.messages import (
    Citation,
    HostedToolKind,
    HostedToolUse,
    Item,
    ProviderState,
    ToolCall,
    ToolResult,
)

from .._common import dumps

PROVIDER = "openai"

HOSTED_KINDS: dict[str, tuple[HostedToolKind, str]] = {
    "web_search_call": ("web_search", "web_search"),
    "file_search_call": ("file_search", "file_search"),
    "code_interpreter_call": ("code_execution", "code_interpreter"),
    "image_generation_call": ("image_generation", "image_generation"),
    "mcp_call": ("mcp", "mcp"),
    "shell_call": ("shell", "shell"),
    "shell_call_output": ("shell", "shell"),
}
"""Wire type of a server-run item → (neutral kind, the vendor's tool name)."""

BILLED = {"web_search_call": "web_search", "file_search_call": "file_search"}
"""Items OpenAI bills per call → the neutral kind counted in ``Usage.server_tool_requests``."""

APPROVAL_REQUEST = "mcp_approval_request"
_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]")
_Status = Literal["in_progress", "completed", "failed", "incomplete"]


def _status(value: Any) -> _Status:
    if value in ("completed", "failed", "incomplete"):
        return value  # type: ignore[no-any-return]
    return "in_progress"  # searching, interpreting, generating, calling…


def _state(model: str, item: Mapping[str, Any]) -> ProviderState:
    return ProviderState(provider=PROVIDER, model=model, kind=str(item.get("type")), payload=item)


def _web_search(out: Mapping[str, Any]) -> dict[str, Any]:
    action = out.get("action") if isinstance(out.get("action"), Mapping) else {}
    assert isinstance(action, Mapping)
    fields: dict[str, Any] = {}
    if action.get("query"):
        fields["query"] = action["query"]
    if action.get("queries"):
        fields["queries"] = list(action["queries"])
    if action.get("url"):
        fields["url"] = action["url"]
    if action.get("pattern"):
        fields["pattern"] = action["pattern"]
    sources = tuple(
        Citation(kind="web", url=str(s["url"]))
        for s in action.get("sources") or []
        if isinstance(s, Mapping) and s.get("url")
    )
    return {"input": fields, "sources": sources}


def _file_search(out: Mapping[str, Any]) -> dict[str, Any]:
    sources = tuple(
        Citation(
            kind="file",
            file_id=r.get("file_id"),
            filename=r.get("filename"),
            cited_text=(str(r["text"])[:2000] if r.get("text") else None),
        )
        for r in out.get("results") or []
        if isinstance(r, Mapping)
    )
    return {"input": {"queries": list(out.get("queries") or [])}, "sources": sources}


def _code_interpreter(out: Mapping[str, Any]) -> dict[str, Any]:
    logs = [str(o.get("logs") or "") for o in out.get("outputs") or [] if isinstance(o, Mapping)]
    images = [
        str(o["url"])
        for o in out.get("outputs") or []
        if isinstance(o, Mapping) and o.get("type") == "image" and o.get("url")
    ]
    fields = {"container_id": out["container_id"]} if out.get("container_id") else {}
    return {"input": fields, "code": out.get("code"), "output": "".join(logs), "files": tuple(images)}


def _mcp_call(out: Mapping[str, Any]) -> dict[str, Any]:
    raw = out.get("arguments")
    try:
        arguments: Any = json.loads(raw) if isinstance(raw, str) and raw.strip() else {}
    except ValueError:
        arguments = raw
    error = out.get("error")
    text = out.get("output")
    if error:
        text = error if isinstance(error, str) else json.dumps(error)
    return {
        "name": str(out.get("name") or "mcp"),
        "input": {"server_label": out.get("server_label"), "tool": out.get("name"), "arguments": arguments},
        "output": str(text or ""),
        "is_error": bool(error),
    }


def shell_text(commands: Sequence[Any], output: Sequence[Any]) -> str:
    """A hosted shell call's output, command by command."""
    parts = []
    for i, chunk in enumerate(output):
        if not isinstance(chunk, Mapping):
            continue
        cmd = commands[i] if i < len(commands) else None
        outcome = chunk.get("outcome") if isinstance(chunk.get("outcome"), Mapping) else {}
        assert isinstance(outcome, Mapping)
        end = "timed out" if outcome.get("type") == "timeout" else f"exit {outcome.get('exit_code')}"
        head = f"$ {cmd}\n" if cmd is not None else ""
        parts.append(f"{head}{chunk.get('stdout') or ''}{chunk.get('stderr') or ''}[{end}]")
    return "\n".join(parts)


def _shell(call: Mapping[str, Any] | None, result: Mapping[str, Any] | None) -> dict[str, Any]:
    action = (call or {}).get("action")
    commands = list(action.get("commands") or []) if isinstance(action, Mapping) else []
    env = (call or {}).get("environment")
    fields: dict[str, Any] = {"commands": commands}
    if isinstance(env, Mapping) and env.get("container_id"):
        fields["container_id"] = env["container_id"]
    output = (result or {}).get("output")
    return {"input": fields, "output": shell_text(commands, output if isinstance(output, list) else [])}


def hosted_item(out: Mapping[str, Any], model: str, result: Mapping[str, Any] | None = None) -> HostedToolUse:
    """A server-run item (and, for a hosted ``shell_call``, the ``shell_call_output`` that answers it)
    as one :class:`HostedToolUse` holding the wire items as they came."""
    wire = str(out.get("type"))
    kind, name = HOSTED_KINDS[wire]
    fields: dict[str, Any]
    if wire == "web_search_call":
        fields = _web_search(out)
    elif wire == "file_search_call":
        fields = _file_search(out)
    elif wire == "code_interpreter_call":
        fields = _code_interpreter(out)
    elif wire == "image_generation_call":
        fields = {"input": {"revised_prompt": out["revised_prompt"]} if out.get("revised_prompt") else {}}
        fields["output"] = "[image generated]" if out.get("result") else ""
    elif wire == "mcp_call":
        fields = _mcp_call(out)
    elif wire == "shell_call":
        fields = _shell(out, result)
    else:  # a shell_call_output whose call is not next to it
        fields = _shell(None, out)
    status = _status((result or out).get("status"))
    state = (_state(model, out),) if result is None else (_state(model, out), _state(model, result))
    return HostedToolUse(
        kind=kind,
        name=fields.pop("name", name),
        call_id=str(out.get("call_id") or out.get("id") or "") or None,
        status=status,
        is_error=fields.pop("is_error", False) or status == "failed",
        state=state,
        **fields,
    )


def replay_hosted(item: HostedToolUse) -> bytes | None:
    """The wire items of a hosted tool use OpenAI produced (comma-joined, in order), else ``None``."""
    own = [dumps(s.payload) for s in item.state if s.provider == PROVIDER and isinstance(s.payload, dict)]
    return b",".join(own) if own else None


def foreign_hosted(item: HostedToolUse) -> dict[str, Any]:
    """Another vendor's hosted tool use, as assistant text OpenAI reads (never the foreign blocks)."""
    return {"role": "assistant", "content": item.render()}


def server_tool_requests(output: Sequence[Any]) -> dict[str, int]:
    """Per-call billed hosted tool requests in a response's output."""
    counts: dict[str, int] = {}
    for out in output:
        kind = BILLED.get(str(out.get("type"))) if isinstance(out, Mapping) else None
        if kind is not None:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


# --------------------------------------------------------------------------- citations


def citations(content: Sequence[Any]) -> tuple[Citation, ...]:
    """The annotations of a message's ``output_text`` parts as citations (offsets into the joined text)."""
    found: list[Citation] = []
    offset = 0
    for part in content:
        if not isinstance(part, Mapping) or part.get("type") != "output_text":
            continue
        for a in part.get("annotations") or []:
            if not isinstance(a, Mapping):
                continue
            cite = _citation(a, offset)
            if cite is not None:
                found.append(cite)
        offset += len(str(part.get("text") or ""))
    return tuple(found)


def _citation(a: Mapping[str, Any], offset: int) -> Citation | None:
    kind = a.get("type")

    def at(key: str) -> int | None:
        value = a.get(key)
        return value + offset if isinstance(value, int) else None

    if kind == "url_citation":
        return Citation(
            kind="web", url=a.get("url"), title=a.get("title"), start=at("start_index"), end=at("end_index")
        )
    if kind == "file_citation":
        return Citation(kind="file", file_id=a.get("file_id"), filename=a.get("filename"), start=at("index"))
    if kind == "container_file_citation":
        return Citation(
            kind="file",
            file_id=a.get("file_id"),
            filename=a.get("filename"),
            start=at("start_index"),
            end=at("end_index"),
        )
    if kind == "file_path":
        return Citation(kind="file", file_id=a.get("file_id"), start=at("index"))
    return None


def annotated(content: Sequence[Any]) -> bool:
    """Whether a message's content carries annotations (then its content is kept for replay)."""
    return any(isinstance(p, Mapping) and p.get("annotations") for p in content)


# --------------------------------------------------------------------------- hosted MCP approvals


def approval_name(server_label: str, name: str) -> str:
    """The neutral tool name of a hosted MCP approval request (a name every vendor accepts)."""
    return _NAME_BAD.sub("_", f"mcp__{server_label}__{name}")[:64]


def approval_call(out: dict[str, Any], model: str) -> ToolCall:
    """An ``mcp_approval_request`` as a tool call the run pauses on (it never runs locally)."""
    label, name = str(out.get("server_label") or ""), str(out.get("name") or "")
    arguments = out.get("arguments")
    return ToolCall(
        call_id=str(out.get("id") or ""),
        name=approval_name(label, name),
        arguments=arguments if isinstance(arguments, str) and arguments.strip() else "{}",
        state=(
            _state(model, out),
            ProviderState(
                provider=APPROVAL_MARK,
                kind="mcp",
                payload={"vendor": PROVIDER, "server_label": label, "tool": name},
            ),
        ),
    )


def approval_request_of(call: ToolCall) -> dict[str, Any] | None:
    """The ``mcp_approval_request`` a call came from, when this provider issued it."""
    st = call.state_for(PROVIDER, kind=APPROVAL_REQUEST)
    return st.payload if st is not None and isinstance(st.payload, dict) else None


def approval_response(result: ToolResult, request: Mapping[str, Any]) -> dict[str, Any]:
    """The ``mcp_approval_response`` answering ``request`` with the run's decision."""
    decision = result.state_for(APPROVAL_MARK, kind="decision")
    payload = decision.payload if decision is not None and isinstance(decision.payload, dict) else {}
    approve = bool(payload.get("approve", not result.is_error))
    wire: dict[str, Any] = {
        "type": "mcp_approval_response",
        "approval_request_id": request.get("id"),
        "approve": approve,
    }
    reason = payload.get("reason")
    if not approve and reason:
        wire["reason"] = str(reason)
    return wire


def is_hosted_follower(item: Item | None) -> bool:
    """An item a replayed reasoning item may precede (the server-run items it produced)."""
    return isinstance(item, HostedToolUse) and item.state_for(PROVIDER) is not None
