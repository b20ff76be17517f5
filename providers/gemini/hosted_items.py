"""Gemini's server-side tool activity as :class:`~agentcore.messages.HostedToolUse` items, and back.

generateContent (REST, camelCase):

* ``executableCode`` + ``codeExecutionResult`` parts -> one ``code_execution`` item;
  ``toolCall`` + ``toolResponse`` parts (built-in tools combined with function calling) -> one item of
  the tool's kind. The exact parts (with any ``thoughtSignature``) are the item's state, one
  ``ProviderState(kind="part")`` each, and go back in place to the same provider (without
  signatures when the model changed: signatures are model-bound).
* ``groundingMetadata`` (Google Search, File Search) -> a ``web_search`` / ``file_search`` item with the
  queries and sources, its ``groundingSupports`` -> ``AssistantMessage.citations``; ``urlContextMetadata``
  -> a ``web_fetch`` item with each URL's retrieval status. These are response metadata, never sent
  back; the raw metadata is kept as state so nothing is lost.

The Interactions API's steps are in :mod:`.hosted_steps`.

Another vendor's items (and Gemini items on the other Gemini API) are sent as model text
(:meth:`HostedToolUse.render`), never as foreign blocks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal, cast

from agentcore.messages import AssistantMessage, Citation, HostedToolKind, HostedToolUse, Item, ProviderState
from agentcore.model import ModelHostedToolEvent, ModelStreamEvent

from .._common import assistant_text
from .hosted import gemini_major

__all__ = [
    "build_part_item",
    "citations_for",
    "grounding_item",
    "replay_parts",
    "search_requests",
    "url_context_item",
]

_TOOL_TYPES: dict[str, tuple[HostedToolKind, str]] = {
    "GOOGLE_SEARCH_WEB": ("web_search", "google_search"),
    "GOOGLE_SEARCH_IMAGE": ("web_search", "google_search"),
    "URL_CONTEXT": ("web_fetch", "url_context"),
    "FILE_SEARCH": ("file_search", "file_search"),
    "GOOGLE_MAPS": ("other", "google_maps"),
}
HOSTED_PARTS = ("executableCode", "codeExecutionResult", "toolCall", "toolResponse")
_OUTPUT_LIMIT = 20_000


def _state(provider: str, model: str, kind: str, payload: Any) -> ProviderState:
    return ProviderState(provider=provider, model=model, kind=kind, payload=payload)


def _text(value: Any, limit: int = _OUTPUT_LIMIT) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def hosted_key(part: dict[str, Any]) -> str | None:
    """Which server-side tool field ``part`` carries, if any."""
    return next((k for k in HOSTED_PARTS if k in part), None)


# --------------------------------------------------------------------------- generateContent parts


def completes(parts: list[dict[str, Any]], part: dict[str, Any]) -> bool:
    """Whether ``part`` is the result of the call that opened ``parts``."""
    opener = parts[0]
    if len(parts) > 1:
        return False
    if "executableCode" in opener and "codeExecutionResult" in part:
        a, b = opener["executableCode"].get("id"), part["codeExecutionResult"].get("id")
        return a is None or b is None or a == b
    if "toolCall" in opener and "toolResponse" in part:
        return bool(opener["toolCall"].get("id") == part["toolResponse"].get("id"))
    return False


def build_part_item(parts: list[dict[str, Any]], provider: str, model: str) -> HostedToolUse:
    """The item for one server-side call made of ``parts`` (the call and, when it came, its result)."""
    state = tuple(_state(provider, model, "part", p) for p in parts)
    by_key = {hosted_key(p): p for p in parts}
    code = by_key.get("executableCode")
    result = by_key.get("codeExecutionResult")
    if code is not None or result is not None:
        ec = (code or {}).get("executableCode") or {}
        cr = (result or {}).get("codeExecutionResult") or {}
        outcome = str(cr.get("outcome") or "")
        failed = result is not None and outcome != "OUTCOME_OK"
        return HostedToolUse(
            kind="code_execution",
            name="code_execution",
            call_id=ec.get("id") or cr.get("id"),
            input={"language": ec.get("language")} if ec.get("language") else {},
            status=("failed" if failed else "completed") if result is not None else "incomplete",
            output=_text(cr.get("output") or "") + (f"\n[{outcome}]" if failed and outcome else ""),
            code=ec.get("code"),
            is_error=failed,
            state=state,
        )
    call = (by_key.get("toolCall") or {}).get("toolCall") or {}
    resp = (by_key.get("toolResponse") or {}).get("toolResponse") or {}
    tool_type = str(call.get("toolType") or resp.get("toolType") or "")
    kind, name = _TOOL_TYPES.get(tool_type, ("other", tool_type.lower() or "server_tool"))
    args = call.get("args") or {}
    response = resp.get("response")
    return HostedToolUse(
        kind=kind,
        name=name,
        call_id=call.get("id") or resp.get("id"),
        input=dict(args) if isinstance(args, dict) else {"args": args},
        status="completed" if "toolResponse" in by_key else "incomplete",
        output=_text(response) if response is not None else "",
        state=state,
    )


def add_hosted_part(
    entries: list[dict[str, Any]], part: dict[str, Any], provider: str, model: str
) -> list[ModelStreamEvent]:
    """Fold a server-side tool part into the assembler's ``entries``: it opens a call (code, toolCall)
    or completes the one before it; the stream events that says so."""
    last = entries[-1] if entries else None
    if last is not None and last["kind"] == "hosted" and completes(last["parts"], part):
        last["parts"].append(part)
        item = build_part_item(last["parts"], provider, model)
        last["item"] = item
        return [ModelHostedToolEvent("finished", item.kind, item.name, item.call_id, item)]
    entries.append({"kind": "hosted", "parts": [part]})
    if hosted_key(part) in ("executableCode", "toolCall"):
        item = build_part_item([part], provider, model)
        return [ModelHostedToolEvent("started", item.kind, item.name, item.call_id)]
    return []


def encode_hosted(item: HostedToolUse, provider: str, model: str) -> tuple[str, list[dict[str, Any]]] | None:
    """A hosted item as a generateContent turn: its own parts, nothing for response metadata, the
    rendering as model text for another vendor's (or the other Gemini API's) item."""
    parts = replay_parts(item, provider, model)
    if parts is None:
        return ("model", [{"text": item.render()}])
    return ("model", parts) if parts else None


def replay_parts(item: HostedToolUse, provider: str, model: str) -> list[dict[str, Any]] | None:
    """The parts to send back for ``item``: its own parts, ``[]`` for response metadata (nothing goes
    back), ``None`` when the item is not this provider's (the caller sends its rendering)."""
    own = [s for s in item.state if s.provider == provider]
    if not own:
        return None
    parts: list[dict[str, Any]] = []
    for s in own:
        if s.kind != "part" or not isinstance(s.payload, dict):
            continue
        if s.model == model or "thoughtSignature" not in s.payload:
            parts.append(s.payload)
        else:
            parts.append({k: v for k, v in s.payload.items() if k != "thoughtSignature"})
    return parts


# --------------------------------------------------------------------------- grounding metadata


def _queries(meta: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for q in meta.get("webSearchQueries") or []:
        if isinstance(q, str) and q.strip() and q not in seen:
            seen.append(q)
    return seen


def _chunk_citation(chunk: dict[str, Any]) -> Citation | None:
    web = chunk.get("web")
    if isinstance(web, dict):
        return Citation(kind="web", url=web.get("uri"), title=web.get("title") or web.get("domain"))
    ctx = chunk.get("retrievedContext")
    if isinstance(ctx, dict):
        return Citation(
            kind="file",
            url=ctx.get("uri"),
            title=ctx.get("title"),
            cited_text=ctx.get("text"),
            filename=ctx.get("title") or ctx.get("documentName"),
        )
    return None


def search_requests(meta: dict[str, Any] | None, model: str) -> int:
    """Billed Google Search requests of one response. Gemini 3 bills each executed search query
    (empty queries are not counted, repeated ones once); earlier models bill each grounded prompt, so
    a grounded response counts 1 whatever the number of queries."""
    if not meta:
        return 0
    queries = _queries(meta)
    web = any(isinstance(c, dict) and "web" in c for c in meta.get("groundingChunks") or [])
    if not queries and not web:
        return 0
    if gemini_major(model) >= 3:
        return len(queries) or 1
    return 1


def grounding_kind(meta: dict[str, Any]) -> tuple[Literal["file_search", "web_search"], str]:
    """The neutral kind and tool name of a ``groundingMetadata``: File Search when every chunk is a
    retrieved document, else Google Search."""
    chunks = [c for c in meta.get("groundingChunks") or [] if isinstance(c, dict)]
    if chunks and all("retrievedContext" in c for c in chunks) and not _queries(meta):
        return "file_search", "file_search"
    return "web_search", "google_search"


def grounding_item(
    meta: dict[str, Any], provider: str, model: str, base: HostedToolUse | None = None
) -> HostedToolUse:
    """A ``web_search`` (or, for File Search grounding, ``file_search``) item for ``groundingMetadata``;
    with ``base`` (the search's own ``toolCall`` item), that item with the queries and sources added."""
    sources = tuple(c for c in (_chunk_citation(ch) for ch in meta.get("groundingChunks") or []) if c)
    queries = _queries(meta) or [q for q in meta.get("retrievalQueries") or [] if isinstance(q, str)]
    inputs: dict[str, Any] = {}
    if queries:
        inputs = {"query": queries[0], "queries": queries} if len(queries) > 1 else {"query": queries[0]}
    state = _state(provider, model, "grounding_metadata", meta)
    if base is not None:
        return base.model_copy(
            update={
                "input": {**base.input, **inputs},
                "sources": base.sources + sources,
                "state": (*base.state, state),
            }
        )
    kind, name = grounding_kind(meta)
    return HostedToolUse(
        kind=kind,
        name=name,
        input=inputs,
        sources=sources,
        state=(state,),
    )


def url_context_item(meta: dict[str, Any], provider: str, model: str) -> HostedToolUse:
    """A ``web_fetch`` item for ``urlContextMetadata``: each URL with its retrieval status."""
    entries = [u for u in meta.get("urlMetadata") or [] if isinstance(u, dict)]
    urls = [str(u.get("retrievedUrl") or "") for u in entries]
    lines, sources = [], []
    ok = 0
    for u in entries:
        status = str(u.get("urlRetrievalStatus") or "URL_RETRIEVAL_STATUS_UNSPECIFIED")
        short = status.removeprefix("URL_RETRIEVAL_STATUS_").lower()
        lines.append(f"{u.get('retrievedUrl')}: {short}")
        if status == "URL_RETRIEVAL_STATUS_SUCCESS":
            ok += 1
            sources.append(Citation(kind="web", url=u.get("retrievedUrl")))
    failed = bool(entries) and ok == 0
    return HostedToolUse(
        kind="web_fetch",
        name="url_context",
        input={"url": urls[0]} if len(urls) == 1 else {"urls": urls},
        status="failed" if failed else "completed",
        output="\n".join(lines),
        sources=tuple(sources),
        is_error=failed,
        state=(_state(provider, model, "url_context_metadata", meta),),
    )


def _char_offset(text: str, byte_offset: int) -> int:
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def citations_for(meta: dict[str, Any], texts: Sequence[str]) -> dict[int, list[Citation]]:
    """``groundingSupports`` as citations on the answer's texts, by index in ``texts``.

    Gemini gives each support's segment (its text and byte offsets into a part) and the chunks it
    rests on. The segment's text is looked up in the answer (parts may have been joined while
    streaming); without it, the byte offsets are read against the first text.
    """
    chunks = [c for c in meta.get("groundingChunks") or [] if isinstance(c, dict)]
    out: dict[int, list[Citation]] = {}
    for support in meta.get("groundingSupports") or []:
        seg = support.get("segment") or {}
        seg_text = seg.get("text")
        where: tuple[int, int, int] | None = None
        if isinstance(seg_text, str) and seg_text:
            for i, text in enumerate(texts):
                at = text.find(seg_text)
                if at >= 0:
                    where = (i, at, at + len(seg_text))
                    break
        if where is None and texts and isinstance(seg.get("endIndex"), int):
            first = texts[0]
            where = (
                0,
                _char_offset(first, int(seg.get("startIndex") or 0)),
                _char_offset(first, seg["endIndex"]),
            )
        for index in support.get("groundingChunkIndices") or []:
            if not isinstance(index, int) or not 0 <= index < len(chunks):
                continue
            base = _chunk_citation(chunks[index])
            if base is None:
                continue
            if where is None:
                out.setdefault(0, []).append(
                    base.model_copy(update={"cited_text": seg_text or base.cited_text})
                )
                continue
            i, start, end = where
            out.setdefault(i, []).append(
                base.model_copy(
                    update={"cited_text": seg_text or base.cited_text, "start": start, "end": end}
                )
            )
    return out


def grounding_started(entries: list[dict[str, Any]], meta: dict[str, Any]) -> list[ModelStreamEvent]:
    """The started event for grounding first seen in a stream (none when the search came as its own
    ``toolCall`` part, which announced it)."""
    if any(e["kind"] == "hosted" and "toolCall" in e["parts"][0] for e in entries):
        return []
    kind, name = grounding_kind(meta)
    return [ModelHostedToolEvent("started", kind, name)]


def ground(
    items: list[Item],
    grounding: dict[str, Any] | None,
    url_context: dict[str, Any] | None,
    provider: str,
    model: str,
    events: list[ModelStreamEvent],
) -> list[Item]:
    """``items`` with the grounding and URL-context metadata as hosted items before the answer's text
    (grounding merged into the search's own ``toolCall`` item when there is one) and the citations on
    the answer; the finished events go to ``events``."""
    added: list[HostedToolUse] = []
    if url_context:
        added.append(url_context_item(url_context, provider, model))
    if grounding:
        items = with_citations(items, grounding, provider, model)
        at = next(
            (i for i, it in enumerate(items) if isinstance(it, HostedToolUse) and it.kind == "web_search"),
            None,
        )
        if at is not None:
            items[at] = grounding_item(grounding, provider, model, cast(HostedToolUse, items[at]))
        else:
            added.append(grounding_item(grounding, provider, model))
    for item in added:
        if item.kind == "web_fetch":  # a search was announced when its metadata came
            events.append(ModelHostedToolEvent("started", item.kind, item.name))
        events.append(ModelHostedToolEvent("finished", item.kind, item.name, item.call_id, item))
    if not added:
        return items
    at = next((i for i, it in enumerate(items) if isinstance(it, AssistantMessage)), len(items))
    return [*items[:at], *added, *items[at:]]


def cited_mark(provider: str, model: str) -> ProviderState:
    """The state that marks an answer's citations as this provider's own (they came as metadata or
    annotations, which are never sent back, so the text goes back as it was)."""
    return _state(provider, model, "citations", None)


def sources_text(citations: Sequence[Citation]) -> str:
    """Cited sources as a short list a model can read."""
    lines: list[str] = []
    for c in citations:
        label = c.title or c.filename or c.url or c.file_id or "source"
        where = c.url or c.file_id or ""
        line = f"- {label}" + (f" <{where}>" if where and where != label else "")
        if line not in lines:
            lines.append(line)
    return "Sources:\n" + "\n".join(lines) if lines else ""


def text_with_sources(item: AssistantMessage, provider: str) -> str:
    """The text to send for an assistant message: another vendor's cited sources (annotations this
    provider cannot take) listed after it; this provider's own answer as it was."""
    text = assistant_text(item, provider)  # another vendor's compaction: its summary
    if not item.citations or any(s.provider == provider for s in item.state):
        return text
    listing = sources_text(item.citations)
    return f"{text}\n\n{listing}" if listing else text


def with_citations(
    items: list[Item], meta: dict[str, Any], provider: str = "", model: str = ""
) -> list[Item]:
    """``items`` with the grounding supports of ``meta`` on their assistant messages (marked as this
    provider's own citations)."""
    positions = [i for i, it in enumerate(items) if isinstance(it, AssistantMessage)]
    if not positions:
        return items
    found = citations_for(meta, [cast(AssistantMessage, items[i]).text for i in positions])
    out = list(items)
    for n, cites in found.items():
        msg = cast(AssistantMessage, out[positions[n]])
        state = (
            msg.state
            if any(s.kind == "citations" for s in msg.state)
            else (*msg.state, cited_mark(provider, model))
        )
        out[positions[n]] = msg.model_copy(update={"citations": msg.citations + tuple(cites), "state": state})
    return out
