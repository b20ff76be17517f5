"""The Interactions API's server-side tool steps as :class:`~agentcore.messages.HostedToolUse` items.

``*_call`` / ``*_result`` steps (``google_search``, ``code_execution``, ``url_context``,
``file_search``, ``google_maps``, ``mcp_server_tool``) -> one item per call with the exact steps as
state (``ProviderState(kind="step")``), replayed as steps to the same provider (signatures only to the
same model); ``url_citation`` / ``file_citation`` annotations on text -> citations. A Google Search
result holds only rendered search suggestions: the sources are the answer's ``url_citation``
annotations, which are also put on the search item. Billed searches come in
``usage.grounding_tool_count``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from agentcore.messages import AssistantMessage, Citation, HostedToolKind, HostedToolUse, Item
from agentcore.model import ModelHostedToolEvent, ModelStreamEvent

from .hosted_items import _state, _text

__all__ = [
    "HOSTED_STEP_TYPES",
    "decode_steps",
    "finished_events",
    "grounding_requests",
    "merge_delta",
    "replay_steps",
    "started_events",
    "step_citations",
    "with_search_sources",
]


_STEP_KINDS: dict[str, tuple[HostedToolKind, str]] = {
    "google_search": ("web_search", "google_search"),
    "code_execution": ("code_execution", "code_execution"),
    "url_context": ("web_fetch", "url_context"),
    "file_search": ("file_search", "file_search"),
    "google_maps": ("other", "google_maps"),
    "mcp_server_tool": ("mcp", "mcp"),
}
HOSTED_STEP_TYPES = frozenset(f"{k}_{s}" for k in _STEP_KINDS for s in ("call", "result"))


def _step_family(step_type: str) -> str:
    return step_type.rsplit("_", 1)[0]


def _result_text(result: Any) -> str:
    if isinstance(result, str):
        return result
    if isinstance(result, list):
        texts = [str(c["text"]) for c in result if isinstance(c, dict) and isinstance(c.get("text"), str)]
        if texts and len(texts) == len(result):
            return "".join(texts)
    return _text(result) if result is not None else ""


def _step_item(
    call: dict[str, Any] | None, result: dict[str, Any] | None, provider: str, model: str
) -> HostedToolUse:
    first = call or result or {}
    family = _step_family(str(first.get("type")))
    kind, name = _STEP_KINDS.get(family, ("other", family))
    state = tuple(_state(provider, model, "step", s) for s in (call, result) if s is not None)
    args = (call or {}).get("arguments") or {}
    res = (result or {}).get("result")
    error = bool((result or {}).get("is_error"))
    inputs: dict[str, Any] = dict(args) if isinstance(args, dict) else {"arguments": args}
    code: str | None = None
    sources: tuple[Citation, ...] = ()
    output = _result_text(res)
    if family == "google_search":
        queries = [q for q in inputs.pop("queries", None) or [] if isinstance(q, str) and q]
        if queries:
            inputs.update({"query": queries[0], **({"queries": queries} if len(queries) > 1 else {})})
        output = ""  # the result holds only the rendered search suggestions (kept in state)
    elif family == "code_execution":
        code = inputs.pop("code", None)
    elif family == "url_context":
        urls = inputs.pop("urls", None) or []
        inputs.update({"url": urls[0]} if len(urls) == 1 else {"urls": urls})
        entries = [r for r in res or [] if isinstance(r, dict)] if isinstance(res, list) else []
        output = "\n".join(f"{r.get('url')}: {r.get('status')}" for r in entries)
        sources = tuple(
            Citation(kind="web", url=r.get("url")) for r in entries if r.get("status") == "success"
        )
        error = error or (bool(entries) and not sources)
    elif family == "mcp_server_tool":
        name = str((call or result or {}).get("name") or "mcp")
        server = (call or result or {}).get("server_name")
        inputs = {"server": server, "arguments": args} if server else {"arguments": args}
    if result is None:
        status: Literal["completed", "failed", "incomplete"] = "incomplete"
    else:
        status = "failed" if error else "completed"
    return HostedToolUse(
        kind=kind,
        name=name,
        call_id=(call or {}).get("id") or (result or {}).get("call_id"),
        input=inputs,
        status=status,
        output=_text(output),
        code=code,
        sources=sources,
        is_error=error,
        state=state,
    )


def decode_steps(steps: Sequence[dict[str, Any]], provider: str, model: str) -> dict[int, HostedToolUse]:
    """The hosted items of an interaction's steps, by the index of the step each stands at (the call's;
    a result's when it came alone). Results placed at their call are left out of the map."""
    results = {
        s.get("call_id"): i
        for i, s in enumerate(steps)
        if str(s.get("type", "")).endswith("_result") and s.get("type") in HOSTED_STEP_TYPES
    }
    used: set[int] = set()
    out: dict[int, HostedToolUse] = {}
    for i, step in enumerate(steps):
        stype = str(step.get("type"))
        if stype not in HOSTED_STEP_TYPES or i in used:
            continue
        if stype.endswith("_call"):
            j = results.get(step.get("id"))
            result = steps[j] if j is not None and j > i else None
            if j is not None and result is not None:
                used.add(j)
            out[i] = _step_item(step, result, provider, model)
        else:
            out[i] = _step_item(None, step, provider, model)
    return out


def step_citations(content: Any) -> tuple[Citation, ...]:
    """``url_citation`` / ``file_citation`` annotations of a ``model_output`` step's text contents."""
    cites: list[Citation] = []
    for c in content or []:
        if not isinstance(c, dict):
            continue
        for a in c.get("annotations") or []:
            if not isinstance(a, dict):
                continue
            if a.get("type") == "url_citation":
                cites.append(
                    Citation(
                        kind="web",
                        url=a.get("url"),
                        title=a.get("title"),
                        start=a.get("start_index"),
                        end=a.get("end_index"),
                    )
                )
            elif a.get("type") == "file_citation":
                cites.append(
                    Citation(
                        kind="file",
                        url=a.get("document_uri"),
                        filename=a.get("file_name"),
                        title=a.get("file_name"),
                        start=a.get("start_index"),
                        end=a.get("end_index"),
                    )
                )
    return tuple(cites)


def replay_steps(item: HostedToolUse, provider: str, model: str) -> list[dict[str, Any]] | None:
    """The steps to send back for ``item`` (this provider's, signatures only to the same model), else
    ``None``."""
    own = [
        s for s in item.state if s.provider == provider and s.kind == "step" and isinstance(s.payload, dict)
    ]
    if not own:
        return None
    return [
        s.payload if s.model == model else {k: v for k, v in s.payload.items() if k != "signature"}
        for s in own
    ]


def with_search_sources(items: list[Item]) -> list[Item]:
    """``items`` with each Google Search item given the web sources the answer after it cites (the
    search result itself carries none)."""
    out = list(items)
    for i, item in enumerate(out):
        if not (isinstance(item, HostedToolUse) and item.kind == "web_search" and not item.sources):
            continue
        cited: list[Citation] = []
        for later in out[i + 1 :]:
            if isinstance(later, HostedToolUse) and later.kind == "web_search":
                break
            if isinstance(later, AssistantMessage):
                for c in later.citations:
                    if c.kind == "web" and all(c.url != k.url for k in cited):
                        cited.append(Citation(kind="web", url=c.url, title=c.title))
        if cited:
            out[i] = item.model_copy(update={"sources": tuple(cited)})
    return out


def grounding_requests(usage: dict[str, Any]) -> dict[str, int]:
    """Billed Google Search requests from ``usage.grounding_tool_count`` (``{"web_search": n}``)."""
    total = 0
    for entry in usage.get("grounding_tool_count") or []:
        if isinstance(entry, dict) and entry.get("type") == "google_search":
            total += int(entry.get("count") or 0)
    return {"web_search": total} if total else {}


def started_events(step: dict[str, Any]) -> list[ModelStreamEvent]:
    """The started event for a streamed step that opens a hosted call."""
    stype = str(step.get("type"))
    if stype not in HOSTED_STEP_TYPES or not stype.endswith("_call"):
        return []
    kind, name = _STEP_KINDS.get(_step_family(stype), ("other", stype))
    if kind == "mcp":
        name = str(step.get("name") or name)
    return [ModelHostedToolEvent("started", kind, name, step.get("id"))]


def merge_delta(step: dict[str, Any], delta: dict[str, Any]) -> None:
    """Fold a streamed hosted-call delta (arguments, result, signature) or a text annotation delta
    into its step."""
    if delta.get("type") == "text_annotation_delta":
        contents = step.setdefault("content", [])
        if not contents:
            contents.append({"type": "text", "text": ""})
        contents[-1].setdefault("annotations", []).extend(delta.get("annotations") or [])
        return
    for key, value in delta.items():
        if key != "type":
            step[key] = value


def finished_events(items: Sequence[Item]) -> list[ModelStreamEvent]:
    """A finished event for each hosted item of a streamed response, once it is whole."""
    return [
        ModelHostedToolEvent("finished", i.kind, i.name, i.call_id, i)
        for i in items
        if isinstance(i, HostedToolUse)
    ]
