"""Gemini through the Interactions API (registry name ``google-interactions``), server state as a cache.

The Interactions API stores each interaction (``store`` defaults to true) and continues from one with
``previous_interaction_id``; only the history comes back from the server, so ``system_instruction``,
``tools`` and ``generation_config`` are sent on every call (WIRE.md §4.8).

Watermark rule (DESIGN.md decision 2): ``request.cache`` keeps the last interaction id, how many
transcript items it covers and a fingerprint of those items. While the transcript only grew, the
adapter sends ``previous_interaction_id`` plus the new items; when anything before the watermark
changed (handoff filter, provider switch, edit) or the server no longer knows the id, it sends the
full transcript and says so in the trace with ``tracing.note``. ``store=False`` runs fully stateless.

Transport: the google-genai API client (the request path the SDK's own generateContent uses: URL,
key, headers, pooling, typed errors) with a body built from per-item steps encoded once; the public
``client.aio.interactions.create`` costs ~20-30 ms of CPU per call whatever the body (it builds
pydantic model classes per request). See ``_create`` for how streams are read.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from agentcore import tracing
from agentcore.errors import InvalidRequestError, ModelError, ModelStreamError
from agentcore.messages import (
    AssistantMessage,
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
)

from .._common import ItemCache, json_body, stale_watermark
from .._computer import without_computer
from . import computer
from .common import (
    close_client,
    fingerprint,
    gemini_schema,
    make_client,
    malformed,
    map_exception,
    request_options,
    safe_call_id,
    server_of,
    sse_json,
)
from .hosted import interactions_tools
from .hosted_items import cited_mark, text_with_sources
from .hosted_steps import (
    HOSTED_STEP_TYPES,
    decode_steps,
    finished_events,
    grounding_requests,
    merge_delta,
    replay_steps,
    started_events,
    step_citations,
    with_search_sources,
)

_STATUS_FINISH = {"completed": "stop", "requires_action": "tool_calls", "incomplete": "length"}


def _dump(obj: Any) -> Any:
    """An SDK model (or plain dict) as a JSON-ready dict."""
    if obj is None or isinstance(obj, dict | list | str | int | float | bool):
        return obj
    dumped = obj.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def _usage(u: dict[str, Any] | None) -> Usage:
    u = u or {}
    thoughts = int(u.get("total_thought_tokens") or 0)
    return Usage(
        requests=1,
        input_tokens=int(u.get("total_input_tokens") or 0) + int(u.get("total_tool_use_tokens") or 0),
        output_tokens=int(u.get("total_output_tokens") or 0) + thoughts,
        cached_input_tokens=int(u.get("total_cached_tokens") or 0),
        reasoning_tokens=thoughts,
        server_tool_requests=grounding_requests(u),
    )


def _texts(content: Any) -> str:
    return "".join(
        c.get("text", "") for c in content or [] if isinstance(c, dict) and c.get("type") == "text"
    )


class GeminiInteractionsModel(Model):
    """Gemini through ``client.aio.interactions.create`` with ``previous_interaction_id`` as a cache."""

    provider = "google-interactions"
    system = "gcp.gemini"

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        client: Any = None,
        timeout: float | None = 600.0,
        store: bool = True,
        api_version: str = "v1beta",
        cache_size: int = 8192,
    ) -> None:
        self.model_name = model_name
        self.store = store
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
        self._step = ItemCache(lambda item: self._step_uncached(item), cache_size).encoded

    # ------------------------------------------------------------------ request building

    def _step_uncached(self, item: Item) -> dict[str, Any] | list[dict[str, Any]] | None:
        if isinstance(item, UserMessage):
            content = [computer.interactions_content(p) for p in item.content]
            return {"type": "user_input", "content": content} if content else None
        if isinstance(item, AssistantMessage):
            text = text_with_sources(item, self.provider)
            if not text:
                return None
            return {"type": "model_output", "content": [{"type": "text", "text": text}]}
        if isinstance(item, Reasoning):
            st = item.state_for(self.provider, model=self.model_name, kind="thought")
            if st is None or not isinstance(st.payload, dict):
                return None  # foreign reasoning is dropped, never replayed as text
            step: dict[str, Any] = {"type": "thought"}
            if st.payload.get("signature"):
                step["signature"] = st.payload["signature"]
            if item.summary:
                step["summary"] = [{"type": "text", "text": item.summary}]
            return step
        if isinstance(item, ToolCall):
            try:
                args = json.loads(item.arguments) if item.arguments.strip() else {}
            except ValueError:
                args = {"_raw_arguments": item.arguments}
            if not isinstance(args, dict):
                args = {"value": args}
            name = item.name
            vendor = computer.vendor_call(item, self.provider)
            if vendor is not None:  # a predefined computer-use function: back as the model wrote it
                name, args = vendor["name"], vendor["args"]
            return {
                "type": "function_call",
                "id": safe_call_id(item.call_id),
                "name": name,
                "arguments": args,
            }
        if isinstance(item, ToolResult):
            result: dict[str, Any] = {
                "type": "function_result",
                "call_id": safe_call_id(item.call_id),
                "name": item.name,
                "result": computer.interactions_result(item, self.model_name),
            }
            if item.is_error:
                result["is_error"] = True
            return result
        if isinstance(item, HostedToolUse):
            own = replay_steps(item, self.provider, self.model_name)
            if own is None:  # another vendor's (or API's) tool work: what happened, as model text
                return {"type": "model_output", "content": [{"type": "text", "text": item.render()}]}
            return own or None
        return None  # Handoff: nothing on the wire

    def _steps(self, items: Any, context: Any = None) -> list[dict[str, Any]]:
        """``items`` as input steps; ``context`` (default ``items``) is the transcript their calls are in."""
        calls = {
            i.call_id: i
            for i in (items if context is None else context)
            if isinstance(i, ToolCall) and computer.vendor_call(i, self.provider)
        }
        out: list[dict[str, Any]] = []
        answer = computer.interactions_answer  # a predefined computer-use function's result, else None
        for step in (answer(i, calls, self.provider, self.model_name) or self._step(i) for i in items):
            if isinstance(step, list):  # a hosted call and its result
                out.extend(step)
            elif step is not None:
                out.append(step)
        return out

    def _base_body(self, request: ModelRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model_name}
        if request.instructions:
            body["system_instruction"] = request.instructions
        s = request.settings
        gc: dict[str, Any] = {}
        view = computer.request_view(self.model_name, request)
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "name": t.name,
                    "description": t.description,
                    "parameters": gemini_schema(t.parameters),
                }
                for t in (without_computer(request.tools) if view else request.tools)
            ]
            if view is not None:  # the native computer-use tool instead of the function tool
                body["tools"].append(computer.interactions_tool(self.model_name))
            if s.tool_choice in (None, "auto") and any(t.strict for t in request.tools):
                gc["tool_choice"] = "validated"
            elif s.tool_choice is not None:
                mode = {"auto": "auto", "required": "any", "none": "none"}.get(s.tool_choice)
                if mode is None:
                    gc["tool_choice"] = {"allowed_tools": {"mode": "any", "tools": [s.tool_choice]}}
                else:
                    gc["tool_choice"] = mode
        if request.hosted_tools:
            hosted = interactions_tools(
                request.hosted_tools, len(request.tools), self.model_name, self.provider
            )
            body["tools"] = [*body.get("tools", []), *hosted]
        if s.parallel_tool_calls is False:
            tracing.note(
                "gen_ai.setting_dropped", setting="parallel_tool_calls", reason="gemini has no such switch"
            )
        if s.temperature is not None:
            gc["temperature"] = s.temperature
        if s.top_p is not None:
            gc["top_p"] = s.top_p
        if s.max_tokens is not None:
            gc["max_output_tokens"] = s.max_tokens
        if s.stop:
            gc["stop_sequences"] = list(s.stop)
        if s.seed is not None:
            gc["seed"] = s.seed
        if s.reasoning_effort is not None:
            gc["thinking_level"] = s.reasoning_effort
        if s.reasoning_summary is not None:
            gc["thinking_summaries"] = "auto" if s.reasoning_summary else "none"
        if gc:
            body["generation_config"] = gc
        if request.output_schema is not None:
            body["response_format"] = {
                "type": "text",
                "mime_type": "application/json",
                "schema": gemini_schema(request.output_schema.schema),
            }
        if not self.store:
            body["store"] = False
        if s.extra:
            body.update(s.extra)
        return body

    def _plan(self, request: ModelRequest) -> tuple[dict[str, Any], bool]:
        """The body to send and whether it continues a stored interaction."""
        body = self._base_body(request)
        items = request.items
        cache = request.cache
        prev = cache.get("interaction_id") if self.store else None
        if prev:
            covered = int(cache.get("covered", -1))
            same = (
                stale_watermark(cache, len(items), self.model_name, lambda n: fingerprint(items[:n])) is None
            )
            new_steps = self._steps(items[covered:], items) if same else []
            if same and new_steps:
                body["previous_interaction_id"] = prev
                body["input"] = new_steps
                return body, True
            reason = (
                "transcript changed before the watermark" if not same else "no new items since the watermark"
            )
            tracing.note(
                "gen_ai.server_state.resend_full",
                reason=reason,
                previous_interaction_id=prev,
                covered_items=covered,
                items=len(items),
            )
            cache.clear()
        body["input"] = self._steps(items)
        return body, False

    def _remember(self, request: ModelRequest, response: ModelResponse) -> None:
        cache = request.cache
        if not self.store or not response.response_id:
            cache.clear()
            return
        everything = [*request.items, *response.items]
        cache.update(
            interaction_id=response.response_id,
            covered=len(everything),
            fingerprint=fingerprint(everything),
            model=self.model_name,
        )

    @staticmethod
    def _state_lost(err: ModelError) -> bool:
        if not isinstance(err, InvalidRequestError):
            return False
        text = str(err.message).lower()
        return (
            err.status_code == 404
            or "previous_interaction_id" in text
            or ("interaction" in text and "not found" in text)
        )

    def _fallback(self, request: ModelRequest, err: ModelError) -> dict[str, Any]:
        tracing.note(
            "gen_ai.server_state.resend_full",
            reason="server no longer knows the interaction",
            previous_interaction_id=request.cache.get("interaction_id"),
            error=str(err.message)[:200],
        )
        request.cache.clear()
        body, _ = self._plan(request)
        return body

    # ------------------------------------------------------------------ parsing

    def _items_from_steps(self, steps: Any) -> list[Item]:
        items: list[Item] = []
        hosted = decode_steps(steps or [], self.provider, self.model_name)
        for i, step in enumerate(steps or []):
            kind = step.get("type")
            if kind in HOSTED_STEP_TYPES:
                if i in hosted:
                    items.append(hosted[i])
            elif kind == "thought":
                summary = _texts(step.get("summary"))
                payload = {"signature": step.get("signature")}
                st = (
                    ProviderState(
                        provider=self.provider, model=self.model_name, kind="thought", payload=payload
                    ),
                )
                items.append(Reasoning(summary=summary, state=st))
            elif kind == "model_output":
                text = _texts(step.get("content"))
                if text:
                    cites = step_citations(step.get("content"))
                    mark = (cited_mark(self.provider, self.model_name),) if cites else ()
                    items.append(AssistantMessage(text=text, citations=cites, state=mark))
            elif kind == "function_call":
                payload = {"id": step.get("id")}
                st = (
                    ProviderState(
                        provider=self.provider, model=self.model_name, kind="function_call", payload=payload
                    ),
                )
                raw = step.get("_raw_arguments")  # streamed arguments that are not a JSON object
                items.append(
                    ToolCall(
                        call_id=str(step.get("id") or ""),
                        name=str(step.get("name") or ""),
                        arguments=raw if raw is not None else json.dumps(step.get("arguments") or {}),
                        state=st,
                    )
                )
        return with_search_sources(items)

    def _response(self, data: dict[str, Any], items: list[Item]) -> ModelResponse:
        status = str(data.get("status") or "")
        finish = _STATUS_FINISH.get(status, status or None)
        if finish == "stop" and any(isinstance(i, ToolCall) for i in items):
            finish = "tool_calls"
        return ModelResponse(
            items=items,
            usage=_usage(data.get("usage")),
            response_id=data.get("id"),
            finish_reason=finish,
            model=data.get("model") or self.model_name,
        )

    # ------------------------------------------------------------------ calls

    async def _create(self, body: dict[str, Any]) -> Any:
        """POST the body; a dict for a plain call, an async iterator of event dicts for a stream.

        Both go through the google-genai API client (URL, key or ADC token, headers, pooling, typed
        HTTP errors). The public ``client.aio.interactions.create`` spends ~20 ms of CPU per call
        building pydantic model classes for the body (bench/providers_gemini.py). For streams the API
        client's own SSE reader cannot take this API's ``event:`` lines, so the adapter sends the
        request with the client's ``_build_request``/``_async_request`` (what its public
        ``async_request_streamed`` does) and reads the SSE itself; if a future SDK drops those, it
        falls back to the public typed stream.
        """
        if not body.get("stream"):
            raw = await self._api.async_request("post", "interactions", body, self._options)
            return json_body(raw.body, self.provider) if raw.body else {}
        build = getattr(self._api, "_build_request", None)
        send = getattr(self._api, "_async_request", None)
        if build is None or send is None:  # pragma: no cover - depends on the SDK version
            return await self._client.aio.interactions.create(**body)
        http_request = build("post", "interactions", body, self._options)
        response = await send(http_request=http_request, http_options=self._options, stream=True)
        return sse_json(response.response_stream)

    async def respond(self, request: ModelRequest) -> ModelResponse:
        body, continued = self._plan(request)
        try:
            try:
                raw = await self._create(body)
            except Exception as exc:
                err = map_exception(exc, provider=self.provider)
                if not (continued and self._state_lost(err)):
                    raise err from exc
                raw = await self._create(self._fallback(request, err))
        except ModelError:
            raise
        except Exception as exc:
            raise map_exception(exc, provider=self.provider) from exc
        try:
            data = _dump(raw)
            response = self._response(data, self._items_from_steps(data.get("steps")))
            computer.neutralize(response, self.provider, computer.request_view(self.model_name, request))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise malformed(exc, provider=self.provider) from exc
        self._remember(request, response)
        return response

    async def _open_stream(self, request: ModelRequest) -> Any:
        body, continued = self._plan(request)
        body["stream"] = True
        try:
            return await self._create(body)
        except Exception as exc:
            err = map_exception(exc, provider=self.provider)
            if not (continued and self._state_lost(err)):
                raise err from exc
        body = self._fallback(request, err)
        body["stream"] = True
        try:
            return await self._create(body)
        except Exception as exc:
            raise map_exception(exc, provider=self.provider) from exc

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        events = await self._open_stream(request)
        steps: dict[int, dict[str, Any]] = {}
        final: dict[str, Any] = {}
        calls = 0
        started = False
        try:
            async for ev in events:
                e = _dump(ev)
                if not isinstance(e, dict):
                    raise TypeError(f"stream event is not an object: {e!r:.200}")
                etype = e.get("event_type")
                if etype in ("interaction.created", "interaction.completed"):
                    final.update({k: v for k, v in (e.get("interaction") or {}).items() if v is not None})
                elif etype == "interaction.status_update":
                    final["status"] = e.get("status", final.get("status"))
                    if e.get("usage"):
                        final["usage"] = e["usage"]
                elif etype == "step.start":
                    step = dict(e.get("step") or {})
                    steps[int(e.get("index", len(steps)))] = step
                    for hosted_event in started_events(step):
                        yield hosted_event
                    if step.get("type") == "function_call":
                        step["_args"] = ""
                        step["_index"] = calls
                        calls += 1
                        started = True
                        yield ModelToolCallDelta(step["_index"], step.get("id"), step.get("name"))
                    for c in step.get("content") or []:
                        if c.get("type") == "text" and c.get("text"):
                            started = True
                            yield ModelTextDelta(c["text"])
                elif etype == "step.delta":
                    step = steps.setdefault(int(e.get("index", 0)), {})
                    delta = e.get("delta") or {}
                    dtype = delta.get("type")
                    if dtype == "text":
                        step.setdefault("content", []).append({"type": "text", "text": delta.get("text", "")})
                        started = True
                        yield ModelTextDelta(delta.get("text", ""))
                    elif dtype == "thought_summary":
                        text = _texts([delta.get("content") or {}])
                        step.setdefault("summary", []).append({"type": "text", "text": text})
                        if text:
                            started = True
                            yield ModelReasoningDelta(text)
                    elif dtype == "thought_signature":
                        step["signature"] = delta.get("signature")
                    elif dtype in HOSTED_STEP_TYPES or dtype == "text_annotation_delta":
                        merge_delta(step, delta)
                    elif dtype == "arguments_delta":
                        fragment = delta.get("arguments") or ""
                        step["_args"] = step.get("_args", "") + fragment
                        started = True
                        yield ModelToolCallDelta(step.get("_index", 0), arguments=fragment)
                elif etype == "error":
                    err = e.get("error") or {}
                    raise ModelStreamError(
                        f"stream broke: {err.get('message') or err}", provider=self.provider, body=e
                    )
        except ModelError:
            raise
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            # an event that is not JSON or not the documented shape (the runner retries it only
            # while nothing reached the user)
            raise malformed(exc, provider=self.provider, streamed=True) from exc
        except Exception as exc:
            err2 = map_exception(exc, provider=self.provider, streamed=True)
            if started:
                raise ModelStreamError(f"stream broke: {err2.message}", provider=self.provider) from exc
            raise err2 from exc
        ordered = []
        for _, step in sorted(steps.items()):
            if step.get("type") == "function_call" and step.get("_args"):
                try:
                    value = json.loads(step["_args"])
                except ValueError:
                    value = None
                if isinstance(value, dict):
                    step["arguments"] = value
                else:  # kept as written: the tool executor answers the model with a tool error
                    step["_raw_arguments"] = step["_args"]
            ordered.append(step)
        try:
            response = self._response(final, self._items_from_steps(ordered))
            computer.neutralize(response, self.provider, computer.request_view(self.model_name, request))
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            raise malformed(exc, provider=self.provider, streamed=True) from exc
        self._remember(request, response)
        for hosted_event in finished_events(response.items):
            yield hosted_event
        yield ModelResponseDone(response)

    async def aclose(self) -> None:
        await close_client(self._client, self._options is None)
