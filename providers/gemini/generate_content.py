"""Google Gemini through ``generateContent`` / ``streamGenerateContent?alt=sse`` (registry name ``google``).

Transport is the official google-genai client: its API client builds the URL, adds the key and
headers, pools connections and decodes SSE; the SDK's own retries are off. The public
``client.aio.models.generate_content`` re-validates and re-converts every Content of the transcript
into pydantic models on each call (its cost grows with the transcript, see ``bench/providers_gemini.py``),
so the adapter hands the same API client a body it built itself from per-item wire dicts that are
encoded once and reused, and parses answers with plain ``json``.

State model (WIRE.md §4.5): Gemini returns ``thoughtSignature`` on the exact part it belongs to (a text
part or a ``functionCall`` part). Each produced item keeps that signature in its provider state and
replays it on the same kind of part, only to the same provider and model. Function calls Gemini did
not sign (another vendor's, another Gemini model's) get the documented stand-in signature on the first
call of each model turn, which Gemini 3 requires. Calls that came without an id get a stable
synthesized id that never goes back on the wire (Gemini pairs them by name and order).

The Interactions API adapter (registry name ``google-interactions``) lives in ``gemini_interactions``
and is re-exported here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from agentcore import tracing
from agentcore.errors import ModelError, ModelStreamError
from agentcore.messages import (
    AssistantMessage,
    Handoff,
    HostedToolUse,
    Item,
    ProviderState,
    Reasoning,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
)
from agentcore.model import (
    Model,
    ModelReasoningDelta,
    ModelRequest,
    ModelResponse,
    ModelResponseDone,
    ModelStreamEvent,
    ModelTextDelta,
    ModelToolCallDelta,
    ToolSpec,
)

from .._common import ItemCache, json_body
from .._computer import computer_view, without_computer
from . import computer, tokens
from .common import (
    DUMMY_THOUGHT_SIGNATURE,
    close_client,
    gemini_schema,
    make_client,
    malformed,
    map_exception,
    request_options,
    server_of,
    synth_call_id,
    wire_call_id,
)
from .hosted import generate_content_tools, tool_config_flags
from .hosted_items import (
    add_hosted_part,
    build_part_item,
    encode_hosted,
    ground,
    grounding_started,
    hosted_key,
    search_requests,
    text_with_sources,
)

__all__ = ["GeminiModel"]

_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}
_BUDGETS = {"minimal": 512, "low": 1024, "medium": 8192, "high": 24576, "xhigh": 32768}


def _usage(meta: dict[str, Any] | None) -> Usage:
    """``usageMetadata`` -> Usage. Prompt tokens include cached ones; thoughts count as output."""
    m = meta or {}
    thoughts = int(m.get("thoughtsTokenCount") or 0)
    return Usage(
        requests=1,
        input_tokens=int(m.get("promptTokenCount") or 0) + int(m.get("toolUsePromptTokenCount") or 0),
        output_tokens=int(m.get("candidatesTokenCount") or 0) + thoughts,
        cached_input_tokens=int(m.get("cachedContentTokenCount") or 0),
        reasoning_tokens=thoughts,
    )


def _args_object(arguments: str) -> dict[str, Any]:
    """Gemini wants ``args`` as an object; keep whatever the model wrote recognisable."""
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return {"_raw_arguments": arguments}
    return value if isinstance(value, dict) else {"value": value}


class _Assembler:
    """Folds generateContent chunks (one for ``respond``, many for ``stream``) into items and deltas.

    A non-streamed answer keeps each part as its own item, so a signature stays on exactly the part
    it came on. A stream splits one part over many chunks: consecutive text is joined again, and a
    signature that arrives on its own empty chunk goes to the part before it.
    """

    def __init__(self, provider: str, model: str, *, streamed: bool = False) -> None:
        self.provider = provider
        self.model = model
        self.streamed = streamed
        self.parts: list[dict[str, Any]] = []
        self.calls = 0
        self.response_id: str | None = None
        self.model_version: str | None = None
        self.finish: str | None = None
        self.usage_meta: dict[str, Any] | None = None
        self.blocked: str | None = None
        self.grounding: dict[str, Any] | None = None
        self.url_context: dict[str, Any] | None = None
        self.late_events: list[ModelStreamEvent] = []
        """Hosted-tool events known only once the answer is whole (grounding), for ``stream``."""

    def feed(self, chunk: dict[str, Any]) -> list[ModelStreamEvent]:
        events: list[ModelStreamEvent] = []
        self.response_id = chunk.get("responseId") or self.response_id
        self.model_version = chunk.get("modelVersion") or self.model_version
        if chunk.get("usageMetadata"):
            self.usage_meta = chunk["usageMetadata"]  # cumulative: the last one is final
        feedback = chunk.get("promptFeedback") or {}
        if feedback.get("blockReason"):
            self.blocked = str(feedback["blockReason"])
        candidates = chunk.get("candidates") or []
        if not candidates:
            return events
        cand = candidates[0]
        if cand.get("finishReason"):
            self.finish = cand["finishReason"]
        for part in (cand.get("content") or {}).get("parts") or []:
            events.extend(self._add(part))
        if cand.get("groundingMetadata"):
            if self.grounding is None and self.streamed:
                events.extend(grounding_started(self.parts, cand["groundingMetadata"]))
            self.grounding = cand["groundingMetadata"]
        if cand.get("urlContextMetadata"):
            self.url_context = cand["urlContextMetadata"]
        return events

    def _add(self, part: dict[str, Any]) -> list[ModelStreamEvent]:
        sig = part.get("thoughtSignature")
        last = self.parts[-1] if self.parts else None
        if hosted_key(part) is not None:
            return add_hosted_part(self.parts, part, self.provider, self.model)
        if "functionCall" in part:
            fc = part["functionCall"]
            api_id = fc.get("id")
            call_id = api_id or synth_call_id(self.response_id, self.calls)
            entry = {"kind": "call", "name": fc.get("name", ""), "args": fc.get("args") or {}, "id": api_id}
            entry["call_id"] = call_id
            if sig:
                entry["sig"] = sig
            self.parts.append(entry)
            index = self.calls
            self.calls += 1
            return [ModelToolCallDelta(index, call_id, entry["name"], json.dumps(entry["args"]))]
        if "text" in part:
            text = part.get("text") or ""
            kind = "thought" if part.get("thought") else "text"
            if not self.streamed:
                if text or sig:
                    self.parts.append({"kind": kind, "text": text, **({"sig": sig} if sig else {})})
            elif last is not None and last["kind"] == kind and (not sig or not last.get("sig")):
                last["text"] += text
                if sig:
                    last["sig"] = sig
            elif not text and sig and last is not None and not last.get("sig"):
                last["sig"] = sig  # a signature that arrived on its own empty chunk
            elif text or sig:
                self.parts.append({"kind": kind, "text": text, **({"sig": sig} if sig else {})})
            if not text:
                return []
            return [ModelReasoningDelta(text)] if kind == "thought" else [ModelTextDelta(text)]
        return []  # inline data, executable code…: not part of the normalized protocol

    def response(self) -> ModelResponse:
        items: list[Item] = []
        for p in self.parts:
            if p["kind"] == "hosted":
                if p.get("sig") and "thoughtSignature" not in p["parts"][-1]:
                    p["parts"][-1] = {**p["parts"][-1], "thoughtSignature": p["sig"]}  # came on its own chunk
                    p.pop("item", None)
                item = p.get("item") or build_part_item(p["parts"], self.provider, self.model)
                items.append(item)
            elif p["kind"] == "thought":
                raw: dict[str, Any] = {"text": p["text"], "thought": True}
                if p.get("sig"):
                    raw["thoughtSignature"] = p["sig"]
                state = (
                    ProviderState(provider=self.provider, model=self.model, kind="thought_part", payload=raw),
                )
                items.append(Reasoning(summary=p["text"], state=state))
            elif p["kind"] == "text":
                st: tuple[ProviderState, ...] = ()
                if p.get("sig"):
                    payload = {"signature": p["sig"]}
                    st = (
                        ProviderState(
                            provider=self.provider, model=self.model, kind="text_signature", payload=payload
                        ),
                    )
                items.append(AssistantMessage(text=p["text"], state=st))
            else:
                payload = {"id": p["id"], "signature": p.get("sig")}
                st = (
                    ProviderState(
                        provider=self.provider, model=self.model, kind="function_call", payload=payload
                    ),
                )
                items.append(
                    ToolCall(call_id=p["call_id"], name=p["name"], arguments=json.dumps(p["args"]), state=st)
                )
        items = ground(items, self.grounding, self.url_context, self.provider, self.model, self.late_events)
        if self.blocked and not items:
            finish: str | None = "content_filter"
        elif self.calls and self.finish in (None, "STOP"):
            finish = "tool_calls"
        else:
            finish = _FINISH.get(self.finish or "", (self.finish or "").lower() or None)
        usage = _usage(self.usage_meta)
        searches = search_requests(self.grounding, self.model_version or self.model)
        if searches:
            usage.server_tool_requests["web_search"] = searches
        return ModelResponse(
            items=items,
            usage=usage,
            response_id=self.response_id,
            finish_reason=finish,
            model=self.model_version or self.model,
        )


class GeminiModel(Model):
    """Gemini ``generateContent`` through google-genai. ``GeminiModel("gemini-2.5-pro", api_key=...)``."""

    provider = "google"
    system = "gcp.gemini"

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        client: Any = None,
        timeout: float | None = 600.0,
        api_version: str = "v1beta",
        cache_size: int = 8192,
    ) -> None:
        self.model_name = model_name
        self._client = make_client(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            client=client,
            api_version=api_version,
            provider=self.provider,
        )
        self._api = self._client.aio._api_client
        self._options = request_options(self._client, client is None, api_version)
        self.server_address, self.server_port = server_of(self._client, base_url)
        path_model = model_name if "/" in model_name else f"models/{model_name}"
        self._path = f"{path_model}:generateContent"
        self._stream_path = f"{path_model}:streamGenerateContent?alt=sse"
        self._encode = ItemCache(lambda item: self._encode_uncached(item), cache_size).encoded
        self._tools_cache: tuple[tuple[ToolSpec, ...], list[dict[str, Any]]] | None = None

    # ------------------------------------------------------------------ request building

    def _own(self, item: Item, kind: str) -> Any:
        st = item.state_for(self.provider, model=self.model_name, kind=kind)
        return st.payload if st is not None else None

    def _encode_uncached(self, item: Item) -> tuple[str, list[dict[str, Any]]] | None:
        if isinstance(item, UserMessage):
            parts = [c for p in item.content if (c := computer.content_part(p)) is not None]
            return ("user", parts) if parts else None
        if isinstance(item, AssistantMessage):
            own = self._own(item, "text_signature")
            part: dict[str, Any] = {"text": text_with_sources(item, self.provider)}
            if own and own.get("signature"):
                part["thoughtSignature"] = own["signature"]
            elif not part["text"]:
                return None
            return ("model", [part])
        if isinstance(item, ToolCall):
            call: dict[str, Any] = {"name": item.name, "args": _args_object(item.arguments)}
            vendor = computer.vendor_call(item, self.provider)
            if vendor is not None:  # a predefined computer-use function: back as the model wrote it
                call = {"name": vendor["name"], "args": vendor["args"]}
            wid = wire_call_id(item.call_id)
            if wid is not None:
                call["id"] = wid
            part = {"functionCall": call}
            own = self._own(item, "function_call")
            if own and own.get("signature"):
                part["thoughtSignature"] = own["signature"]
            return ("model", [part])
        if isinstance(item, ToolResult):
            key = "error" if item.is_error else "output"
            resp: dict[str, Any] = {"name": item.name, "response": {key: item.output}}
            wid = wire_call_id(item.call_id)
            if wid is not None:
                resp["id"] = wid
            return ("user", computer.function_response_parts(item, self.model_name, resp))
        if isinstance(item, Reasoning):
            raw = self._own(item, "thought_part")
            return ("model", [dict(raw)]) if raw else None  # foreign reasoning is dropped, never text
        if isinstance(item, HostedToolUse):
            return encode_hosted(item, self.provider, self.model_name)
        if isinstance(item, Handoff):
            return None
        return None

    def _contents(self, items: Any) -> list[dict[str, Any]]:
        contents: list[dict[str, Any]] = []
        role: str | None = None
        parts: list[dict[str, Any]] = []
        calls = {
            i.call_id: i for i in items if isinstance(i, ToolCall) and computer.vendor_call(i, self.provider)
        }
        for item in items:
            if isinstance(item, ToolResult) and item.call_id in calls:  # answers a predefined function
                enc: tuple[str, list[dict[str, Any]]] | None = self._computer_result(
                    item, calls[item.call_id]
                )
            else:
                enc = self._encode(item)
            if enc is None:
                continue
            r, p = enc
            if r != role:
                if parts:
                    contents.append(self._close(role, parts))
                role, parts = r, []
            parts.extend(p)
        if parts:
            contents.append(self._close(role, parts))
        return contents

    @staticmethod
    def _close(role: str | None, parts: list[dict[str, Any]]) -> dict[str, Any]:
        if role == "model":
            for i, part in enumerate(parts):
                if "functionCall" in part:
                    if "thoughtSignature" not in part:
                        parts[i] = {**part, "thoughtSignature": DUMMY_THOUGHT_SIGNATURE}
                    break
        return {"role": role, "parts": parts}

    def _computer_result(self, item: ToolResult, call: ToolCall) -> tuple[str, list[dict[str, Any]]]:
        vendor = computer.vendor_call(call, self.provider) or {}
        resp: dict[str, Any] = {"name": vendor.get("name", item.name), "response": {}}
        resp["response"]["error" if item.is_error else "output"] = item.output
        wid = wire_call_id(item.call_id)
        if wid is not None:
            resp["id"] = wid
        ack = computer.acknowledged(call, item)
        return ("user", computer.function_response_parts(item, self.model_name, resp, ack=ack))

    def _view(self, request: ModelRequest) -> tuple[int, int] | None:
        """The screenshot size when the computer-use tool is declared for this request."""
        if not computer.computer_model(self.model_name):
            return None
        return computer_view(request.native_tools, request.tools)

    def _tools(self, tools: Any) -> list[dict[str, Any]]:
        key = tuple(tools)
        if self._tools_cache is not None and self._tools_cache[0] == key:
            return self._tools_cache[1]
        decls = [
            {
                "name": t.name,
                "description": t.description,
                "parametersJsonSchema": gemini_schema(t.parameters),
            }
            for t in tools
        ]
        value = [{"functionDeclarations": decls}]
        self._tools_cache = (key, value)
        return value

    def build_body(self, request: ModelRequest) -> dict[str, Any]:
        """The REST body (camelCase, as the API documents it) for ``request``."""
        body: dict[str, Any] = {"contents": self._contents(request.items)}
        if request.instructions:
            body["systemInstruction"] = {"parts": [{"text": request.instructions}]}
        s = request.settings
        if request.tools:
            view = self._view(request)
            body["tools"] = self._tools(without_computer(request.tools) if view else request.tools)
            if view is not None:  # the native computer-use tool instead of the function tool
                body["tools"] = [t for t in body["tools"] if t["functionDeclarations"]]
                body["tools"].append(computer.tool_entry(self.model_name))
            choice = s.tool_choice
            if choice in (None, "auto") and any(t.strict for t in request.tools):
                # strict tools: the model still chooses, and its calls are validated against the schema
                body["toolConfig"] = {"functionCallingConfig": {"mode": "VALIDATED"}}
            elif choice is not None:
                mode = {"auto": "AUTO", "required": "ANY", "none": "NONE"}.get(choice)
                fcc: dict[str, Any] = {"mode": mode or "ANY"}
                if mode is None:
                    fcc["allowedFunctionNames"] = [choice]
                body["toolConfig"] = {"functionCallingConfig": fcc}
        if request.hosted_tools:
            body["tools"] = [
                *body.get("tools", []),
                *generate_content_tools(request.hosted_tools, len(request.tools), self.model_name),
            ]
            flags = tool_config_flags(request.hosted_tools, len(request.tools))
            if flags:
                body["toolConfig"] = {**body.get("toolConfig", {}), **flags}
        if s.parallel_tool_calls is False:
            tracing.note(
                "gen_ai.setting_dropped", setting="parallel_tool_calls", reason="gemini has no such switch"
            )
        gc: dict[str, Any] = {}
        if s.temperature is not None:
            gc["temperature"] = s.temperature
        if s.top_p is not None:
            gc["topP"] = s.top_p
        if s.max_tokens is not None:
            gc["maxOutputTokens"] = s.max_tokens
        if s.stop:
            gc["stopSequences"] = list(s.stop)
        if s.seed is not None:
            gc["seed"] = s.seed
        thinking: dict[str, Any] = {}
        if s.reasoning_effort is not None:
            if "gemini-3" in self.model_name:
                thinking["thinkingLevel"] = s.reasoning_effort.upper()
            else:
                thinking["thinkingBudget"] = _BUDGETS[s.reasoning_effort]
        if s.reasoning_summary:
            thinking["includeThoughts"] = True
        if thinking:
            gc["thinkingConfig"] = thinking
        if request.output_schema is not None:
            gc["responseMimeType"] = "application/json"
            gc["responseJsonSchema"] = gemini_schema(request.output_schema.schema)
        if gc:
            body["generationConfig"] = gc
        if s.extra:
            _merge(body, s.extra)
        return body

    # ------------------------------------------------------------------ calls

    async def respond(self, request: ModelRequest) -> ModelResponse:
        body = self.build_body(request)
        try:
            raw = await self._api.async_request("post", self._path, body, self._options)
        except Exception as exc:
            raise map_exception(exc, provider=self.provider) from exc
        asm = _Assembler(self.provider, self.model_name)
        data = json_body(raw.body, self.provider) if raw.body else {}  # not JSON: a retryable ServerError
        try:
            asm.feed(data)
            return computer.neutralize(asm.response(), self.provider, self._view(request))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise malformed(exc, provider=self.provider) from exc

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        body = self.build_body(request)
        asm = _Assembler(self.provider, self.model_name, streamed=True)
        started = False
        try:
            chunks = await self._api.async_request_streamed("post", self._stream_path, body, self._options)
            async for chunk in chunks:
                try:
                    events = asm.feed(json.loads(chunk.body) if chunk.body else {})
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    raise malformed(exc, provider=self.provider, streamed=True) from exc
                for event in events:
                    started = True
                    yield event
            response = computer.neutralize(asm.response(), self.provider, self._view(request))
        except ModelStreamError:
            raise
        except Exception as exc:
            err = map_exception(exc, provider=self.provider, streamed=True)
            if started or (type(err) is ModelError):
                raise ModelStreamError(
                    f"stream broke: {err.message}",
                    provider=self.provider,
                    status_code=err.status_code,
                    body=err.body,
                ) from exc
            raise err from exc
        for event in asm.late_events:
            yield event
        yield ModelResponseDone(response)

    async def count_tokens(self, request: ModelRequest) -> int | None:
        return await tokens.count_generate(self, request)  # POST models/{model}:countTokens

    async def aclose(self) -> None:
        await close_client(self._client, self._options is None)


def _merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merged = dict(target[key])
            _merge(merged, value)
            target[key] = merged
        else:
            target[key] = value
