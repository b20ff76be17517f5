"""Wire format of the OpenAI Responses API: transcript items to request JSON, response JSON to items.

Everything here works on plain ``dict``/``bytes``; no SDK pydantic models are built on the hot path.
Each transcript item is encoded to wire JSON once and its bytes are reused on every later call
(:class:`ItemEncoder` keeps a bounded cache keyed by item id; items are immutable), so the cost of
building a request does not grow with the transcript beyond joining byte strings.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from agentcore import tracing
from agentcore.errors import ServerError
from agentcore.messages import (
    AssistantMessage,
    FilePart,
    Handoff,
    HostedToolUse,
    ImagePart,
    Item,
    ProviderState,
    Reasoning,
    TextPart,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
)
from agentcore.model import ModelResponse, ModelSettings, OutputSchema

from .._common import ItemCache, assistant_text, dumps, hashed_call_id
from . import computer
from .responses_hosted import (
    HOSTED_KINDS,
    annotated,
    approval_call,
    approval_request_of,
    approval_response,
    citations,
    foreign_hosted,
    hosted_item,
    is_hosted_follower,
    replay_hosted,
    server_tool_requests,
)
from .responses_items import (
    NATIVE_CALLS,
    OPAQUE_KIND,
    SERVER_ITEMS,
    native_call,
    native_kind_of,
    native_output,
    opaque_item,
    opaque_label,
    replay_native_call,
    server_ran,
)

PROVIDER = "openai"
PENDING = frozenset({"queued", "in_progress"})
"""Statuses of a response that has not ended yet (background mode): never a final answer."""

_CALL_ID_OK = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_FORMAT_NAME_BAD = re.compile(r"[^A-Za-z0-9_\-]")
_O_SERIES = re.compile(r"^o\d+(?:$|-)")
_GPT_MAJOR = re.compile(r"^gpt-(\d+)")


def reasoning_family(model: str) -> bool:
    """Whether ``model`` belongs to an OpenAI family that reasons, and so may be asked for encrypted
    reasoning (``include: ["reasoning.encrypted_content"]``).

    The rule, by name (a ``vendor/`` prefix as proxies write it is ignored): the o-series (``o1``,
    ``o3-pro``, ``o4-mini``…), ``gpt-5`` and later (``gpt-5``, ``gpt-5-mini``, ``gpt-5.5``…) except
    ``gpt-5-chat``, which does not reason, and every ``codex`` model. Everything else is not asked:
    ``gpt-4o``, ``gpt-4o-mini``, ``gpt-4.1``, ``gpt-3.5``… (OpenAI answers 400 "Encrypted content is
    not supported with this model") and any name the rule does not know, such as the models of an
    OpenAI-compatible server (``llama3``, ``qwen3``, ``gpt-oss``).
    """
    name = model.rsplit("/", 1)[-1].lower()
    if _O_SERIES.match(name) or "codex" in name:
        return True
    m = _GPT_MAJOR.match(name)
    return m is not None and int(m.group(1)) >= 5 and not name.startswith("gpt-5-chat")


def wire_call_id(call_id: str | None) -> str:
    """``call_id`` as OpenAI accepts it. Foreign ids it would reject are mapped deterministically."""
    if call_id and _CALL_ID_OK.match(call_id):
        return call_id
    return hashed_call_id(call_id or "")


def own_call(item: ToolCall) -> bool:
    """Whether this provider's server issued the call (its id goes back unchanged, whatever it looks
    like: OpenAI-compatible servers issue ids OpenAI itself would reject)."""
    return item.state_for(PROVIDER, kind="function_call") is not None


class Fingerprint:
    """A cheap, incremental fingerprint of a transcript prefix: a hash of the item ids, in order."""

    __slots__ = ("_h",)

    def __init__(self) -> None:
        self._h = hashlib.blake2b(digest_size=12)

    def add(self, items: Sequence[Item]) -> Fingerprint:
        update = self._h.update
        for item in items:
            update(item.id.encode())
            update(b"\x1f")
        return self

    def digest(self) -> str:
        return self._h.hexdigest()


def fingerprint(items: Sequence[Item], count: int) -> str:
    """The fingerprint of the first ``count`` items."""
    return Fingerprint().add(items[:count]).digest()


# --------------------------------------------------------------------------- request: items


_SHARED_CACHES: dict[str, dict[str, tuple[Item, bytes | None]]] = {}


class ItemEncoder:
    """Encodes transcript items to wire JSON once per item and caches the bytes.

    ``None`` in the cache means "this item is not sent" (a handoff, foreign reasoning). The cache is
    shared by all adapters for the same model (encoding depends only on the item and the model) and
    bounded: when it is full the oldest half is dropped.
    """

    def __init__(self, model: str, *, max_items: int = 8192) -> None:
        self.model = model
        self.max_items = max_items
        # Shared by every adapter for the same model: a runner may build a fresh adapter per run.
        self._cache = ItemCache(
            lambda item: self._encode(item), max_items, data=_SHARED_CACHES.setdefault(model, {})
        )

    def encode(self, item: Item, context: Sequence[Item] = ()) -> bytes | None:
        self._context = context
        try:
            return self._cache.encoded(item)
        finally:
            self._context = ()

    _context: Sequence[Item] = ()
    """The whole transcript of the call being encoded: a tool result whose id OpenAI would reject
    looks up its call there (once: the encoding is cached)."""

    def _encode(self, item: Item) -> bytes | None:
        own = False
        if isinstance(item, HostedToolUse):
            return replay_hosted(item) or dumps(foreign_hosted(item))
        if isinstance(item, ToolCall):
            raw = replay_native_call(item) or computer.replay(item)
            if raw is not None:
                return raw
            request = approval_request_of(item)
            if request is not None:  # a hosted MCP approval request: back as it came
                return dumps(request)
        if isinstance(item, ToolResult):
            call = next(
                (c for c in reversed(self._context) if isinstance(c, ToolCall) and c.call_id == item.call_id),
                None,
            )
            request = None if call is None else approval_request_of(call)
            if request is not None:
                return dumps(approval_response(item, request))
            native = None if call is None else native_kind_of(call)
            if native is not None:
                return dumps(native_output(item, native, item.call_id))
            if call is not None and computer.is_computer_call(call):  # a screenshot answers a computer_call
                return dumps(computer.output_item(item, call))
            own = call is not None and own_call(call) if not _CALL_ID_OK.match(item.call_id) else False
        wire = item_to_wire(item, self.model, own_result=own)
        return None if wire is None else dumps(wire)

    def input_bytes(
        self, items: Sequence[Item], context: Sequence[Item] | None = None
    ) -> tuple[list[bytes], int]:
        """Encoded input items, in order, plus how many reasoning items were dropped as orphans.

        ``context`` is the whole transcript when ``items`` is its tail (chained calls). A replayed
        reasoning item must be followed by the item it produced (the API answers 400 otherwise), so
        reasoning not followed by assistant output is left out.
        """
        out: list[bytes] = []
        orphans = 0
        n = len(items)
        self._context = items if context is None else context
        try:
            encode = self._cache.encoded
            for i, item in enumerate(items):
                data = encode(item)
                if data is None:
                    continue
                if isinstance(item, Reasoning):
                    following = items[i + 1] if i + 1 < n else None
                    if (
                        following is None
                        or not (
                            isinstance(following, AssistantMessage | ToolCall)
                            or is_hosted_follower(following)
                        )
                        or is_compaction(following)
                    ):
                        orphans += 1
                        continue
                out.append(data)
        finally:
            self._context = ()
        return out, orphans


def _own_state(item: Item, kind: str, model: str | None) -> ProviderState | None:
    return item.state_for(PROVIDER, model=model, kind=kind)


def _user_content(msg: UserMessage) -> str | list[dict[str, Any]]:
    if len(msg.content) == 1 and isinstance(msg.content[0], TextPart):
        return msg.content[0].text
    parts: list[dict[str, Any]] = []
    for part in msg.content:
        if isinstance(part, TextPart):
            parts.append({"type": "input_text", "text": part.text})
        elif isinstance(part, ImagePart):
            url = part.url if part.url is not None else f"data:{part.media_type};base64,{part.data or ''}"
            parts.append({"type": "input_image", "image_url": url, "detail": "auto"})
        elif isinstance(part, FilePart):
            file: dict[str, Any] = {
                "type": "input_file",
                "file_data": f"data:{part.media_type};base64,{part.data}",
            }
            file["filename"] = part.filename or "file"
            parts.append(file)
    return parts


def result_output(item: ToolResult) -> str | list[dict[str, Any]]:
    """A tool result's ``output``: its text, or (with images, e.g. a screenshot) a list of ``input_text``
    and ``input_image`` parts, the form ``function_call_output`` accepts."""
    if not item.parts:
        return item.output
    parts: list[dict[str, Any]] = [{"type": "input_text", "text": item.output}] if item.output else []
    for part in item.parts:
        if isinstance(part, TextPart):
            parts.append({"type": "input_text", "text": part.text})
        elif isinstance(part, ImagePart):
            url = part.url if part.url is not None else f"data:{part.media_type};base64,{part.data or ''}"
            parts.append({"type": "input_image", "image_url": url, "detail": "auto"})
        else:
            name = part.filename or "file"
            parts.append(
                {
                    "type": "input_file",
                    "file_data": f"data:{part.media_type};base64,{part.data}",
                    "filename": name,
                }
            )
    return parts


def is_compaction(item: Item) -> bool:
    """A ``compaction`` item this provider issued (kept as an empty assistant message holding it)."""
    return isinstance(item, AssistantMessage) and item.state_for(PROVIDER, kind="compaction") is not None


def item_to_wire(item: Item, model: str, *, own_result: bool = False) -> dict[str, Any] | None:
    """One transcript item as a Responses input item, or ``None`` when it is not sent.

    ``own_result``: the item is a tool result answering a call this provider's server issued, so its
    id goes back unchanged.
    """
    if isinstance(item, UserMessage):
        return {"role": "user", "content": _user_content(item)}
    if isinstance(item, AssistantMessage):
        compaction = item.state_for(PROVIDER, kind="compaction")
        if compaction is not None and isinstance(compaction.payload, dict):
            # The server's encrypted summary of everything before it: replayed as it came, in its place
            # (with store=False this is how the compacted state reaches the next request).
            p = compaction.payload
            wire: dict[str, Any] = {"type": "compaction", "encrypted_content": p.get("encrypted_content")}
            if p.get("id"):
                wire["id"] = p["id"]
            return wire
        kept = item.state_for(PROVIDER, kind=OPAQUE_KIND)
        if kept is not None and isinstance(kept.payload, dict):
            return kept.payload  # a server-run or unknown item: back as it came
        st = _own_state(item, "message", None)
        if (
            st is not None
            and isinstance(st.payload, dict)
            and st.payload.get("content")
            and st.payload.get("id")
        ):
            # an annotated answer (citations): the output message as it came, annotations included
            p = st.payload
            full = {
                "type": "message",
                "id": p["id"],
                "role": "assistant",
                "status": p.get("status"),
                "content": p["content"],
            }
            if p.get("phase"):
                full["phase"] = p["phase"]
            return full
        msg: dict[str, Any] = {"role": "assistant", "content": assistant_text(item, PROVIDER)}
        if st is not None and isinstance(st.payload, dict) and st.payload.get("phase"):
            msg["phase"] = st.payload["phase"]
        return msg
    if isinstance(item, ToolCall):
        return {
            "type": "function_call",
            "call_id": item.call_id if own_call(item) else wire_call_id(item.call_id),
            "name": item.name,
            "arguments": item.arguments,
        }
    if isinstance(item, ToolResult):
        call_id = item.call_id if own_result else wire_call_id(item.call_id)
        return {"type": "function_call_output", "call_id": call_id, "output": result_output(item)}
    if isinstance(item, Reasoning):
        # Encrypted reasoning is bound to the model that produced it: replay only our own, in place.
        st = _own_state(item, "reasoning", model)
        if st is None or not isinstance(st.payload, dict) or not st.payload.get("encrypted_content"):
            return None
        p = st.payload
        return {
            "type": "reasoning",
            "id": p["id"],
            "summary": p.get("summary") or [],
            "encrypted_content": p["encrypted_content"],
        }
    if isinstance(item, HostedToolUse):
        # this provider's own items replay as they came (ItemEncoder joins a shell call and its output)
        own = [s.payload for s in item.state if s.provider == PROVIDER and isinstance(s.payload, dict)]
        return own[0] if own else foreign_hosted(item)
    if isinstance(item, Handoff):
        return None
    return None


# --------------------------------------------------------------------------- request: the rest


def settings_to_wire(
    settings: ModelSettings, output_schema: OutputSchema | None, tool_names: Sequence[str]
) -> dict[str, Any]:
    """Body fields for ``settings`` and structured output. ``stop`` and ``seed`` have no Responses API
    field and are left out (the adapter notes that in the trace)."""
    body: dict[str, Any] = {}
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    if settings.top_p is not None:
        body["top_p"] = settings.top_p
    if settings.max_tokens is not None:
        body["max_output_tokens"] = settings.max_tokens
    if settings.tool_choice is not None and tool_names:
        choice = settings.tool_choice
        body["tool_choice"] = (
            choice if choice in ("auto", "required", "none") else {"type": "function", "name": choice}
        )
    if settings.parallel_tool_calls is not None and tool_names:
        body["parallel_tool_calls"] = settings.parallel_tool_calls
    if settings.background:
        body["background"] = True
    reasoning: dict[str, Any] = {}
    if settings.reasoning_effort is not None:
        reasoning["effort"] = settings.reasoning_effort
    if settings.reasoning_summary:
        reasoning["summary"] = "auto"
    if reasoning:
        body["reasoning"] = reasoning
    if output_schema is not None:
        body["text"] = {
            "format": {
                "type": "json_schema",
                "name": _FORMAT_NAME_BAD.sub("_", output_schema.name)[:64] or "output",
                "schema": output_schema.schema,
                "strict": output_schema.strict,
            }
        }
    if settings.extra:
        body.update(settings.extra)
    return body


def assemble(head: bytes, inputs: list[bytes]) -> bytes:
    """``head`` is a JSON object without its closing brace; the input array is appended last."""
    return b"".join((head, b',"input":[', b",".join(inputs), b"]}"))


# --------------------------------------------------------------------------- response


def usage_from(data: Any) -> Usage:
    if not isinstance(data, dict):
        return Usage(requests=1)
    inp = data.get("input_tokens_details") or {}
    out = data.get("output_tokens_details") or {}
    return Usage(
        requests=1,
        input_tokens=int(data.get("input_tokens") or 0),
        output_tokens=int(data.get("output_tokens") or 0),
        cached_input_tokens=int(inp.get("cached_tokens") or 0),
        cache_write_tokens=int(inp.get("cache_write_tokens") or 0),
        reasoning_tokens=int(out.get("reasoning_tokens") or 0),
    )


def _state(model: str, kind: str, payload: dict[str, Any]) -> tuple[ProviderState, ...]:
    return (ProviderState(provider=PROVIDER, model=model, kind=kind, payload=payload),)


def output_to_items(output: Sequence[Any], model: str) -> list[Item]:
    """Response output items as transcript items, in the vendor's order."""
    items: list[Item] = []
    consumed: set[int] = set()
    for index, out in enumerate(output):
        if not isinstance(out, dict) or index in consumed:
            continue
        kind = out.get("type")
        if kind == "reasoning":
            summary = out.get("summary") or []
            text = "\n\n".join(s.get("text", "") for s in summary if isinstance(s, dict))
            payload: dict[str, Any] = {"id": out.get("id"), "summary": summary}
            if out.get("encrypted_content"):
                payload["encrypted_content"] = out["encrypted_content"]
            items.append(Reasoning(summary=text, state=_state(model, "reasoning", payload)))
        elif kind == "message":
            texts = []
            for part in out.get("content") or []:
                if isinstance(part, dict) and part.get("type") == "output_text":
                    texts.append(part.get("text", ""))
                elif isinstance(part, dict) and part.get("type") == "refusal":
                    texts.append(part.get("refusal", ""))
            payload = {"id": out.get("id")}
            if out.get("phase"):
                payload["phase"] = out["phase"]
            content = out.get("content") or []
            if annotated(content):  # the annotated message replays as it came (see item_to_wire)
                payload.update(status=out.get("status") or "completed", content=content)
            items.append(
                AssistantMessage(
                    text="".join(texts),
                    citations=citations(content),
                    state=_state(model, "message", payload),
                )
            )
        elif kind == "function_call":
            items.append(
                ToolCall(
                    call_id=out.get("call_id") or "",
                    name=out.get("name") or "",
                    arguments=out.get("arguments") or "{}",
                    state=_state(model, "function_call", {"id": out.get("id")}),
                )
            )
        elif kind == "computer_call":  # computer use: the neutral computer call (issue 16)
            items.append(computer.computer_call(out, model))
        elif kind == "mcp_approval_request":  # hosted MCP: the run pauses for a human decision
            items.append(approval_call(out, model))
        elif kind in HOSTED_KINDS and (kind != "shell_call" or server_ran(out, output)):
            # a tool the server ran (web search, code interpreter, a hosted container's shell…)
            after = output[index + 1] if index + 1 < len(output) else None
            result = None
            if (
                kind == "shell_call"
                and isinstance(after, dict)
                and after.get("type") == "shell_call_output"
                and after.get("call_id") == out.get("call_id")
            ):
                result = after
                consumed.add(index + 1)
            items.append(hosted_item(out, model, result))
        elif kind in NATIVE_CALLS and not (kind == "shell_call" and server_ran(out, output)):
            # a client-run native tool: a neutral call the run executes in the agent's sandbox
            items.append(native_call(out, model))
        elif kind == "compaction" and out.get("encrypted_content"):
            # Server-side compaction: an opaque summary of the conversation so far. Kept in the
            # transcript (an assistant message without text, as Anthropic's compaction blocks are) and
            # replayed in place to any OpenAI model; other vendors skip it.
            payload = {"id": out.get("id"), "encrypted_content": out["encrypted_content"]}
            items.append(AssistantMessage(text="", state=_state(model, "compaction", payload)))
        else:
            # Server-run tools (web search, code interpreter, a hosted container's shell) and item types
            # not modelled here: kept whole, replayed as they came, never dropped.
            if kind not in SERVER_ITEMS and kind != "shell_call":
                tracing.note("agentcore.openai.output_item_kept_opaque", type=str(kind))
            items.append(opaque_item(out, model))
    return items


def finish_reason(resp: dict[str, Any], items: Sequence[Item]) -> str:
    status = resp.get("status")
    if status == "incomplete":
        reason = (resp.get("incomplete_details") or {}).get("reason")
        return "length" if reason == "max_output_tokens" else str(reason or "incomplete")
    if any(isinstance(i, ToolCall) for i in items):
        return "tool_calls"
    if not any(isinstance(i, AssistantMessage) and i.text for i in items):
        # no text and no call: say what the answer held instead of an empty "stop"
        unknown = [k for k in map(opaque_label, items) if k not in (None, "shell_call", *SERVER_ITEMS)]
        if unknown:
            return f"unsupported_item:{unknown[0]}"
    return "stop"


def response_from(resp: dict[str, Any], model: str) -> ModelResponse:
    """A complete Responses ``response`` object as a :class:`ModelResponse`.

    A response that has not ended (``queued``, ``in_progress``) is refused with a retryable
    :class:`ServerError`: the adapter waits for such responses before it reads them.
    """
    if resp.get("status") in PENDING:
        raise ServerError(
            f"response {resp.get('id')} is still {resp.get('status')}: not a final answer",
            provider=PROVIDER,
            body={k: resp.get(k) for k in ("id", "status", "background")},
        )
    items = output_to_items(resp.get("output") or [], model)
    usage = usage_from(resp.get("usage"))
    usage.server_tool_requests.update(server_tool_requests(resp.get("output") or []))
    withheld = resp.get("input_transformations") or []
    if withheld:
        tracing.note(
            "agentcore.openai.reasoning_withheld",
            count=len(withheld),
            ids=[str(t.get("id")) for t in withheld if isinstance(t, dict)],
            reasons=sorted({str(t.get("reason")) for t in withheld if isinstance(t, dict)}),
        )
    return ModelResponse(
        items=items,
        usage=usage,
        response_id=resp.get("id"),
        finish_reason=finish_reason(resp, items),
        model=resp.get("model"),
    )
