"""OpenAI Responses API adapter (registry name ``openai``).

Transport is the official ``openai`` SDK (auth, base URL, headers, pooling, typed errors, SSE decoding)
with its own retries off; the core owns retries. Request bodies are built here as wire JSON from
per-item cached bytes (see :mod:`.openai_responses_wire`) and sent raw through the client's low-level
``post``, so the per-call cost does not grow with the transcript.

Server-side state is a cache (DESIGN decision 2). ``request.cache`` remembers the last response id,
how many transcript items it covers (the input it was given plus the output it produced) and a
fingerprint of those items. While the transcript only grew, the adapter sends ``previous_response_id``
plus the items after that watermark (tool results, new user messages), and ``instructions`` and
``tools`` every turn. When anything before the watermark changed, or the server no longer knows the
id, it sends the whole transcript again and notes ``agentcore.server_state.reset`` in the trace.
With ``store=False`` every call is stateless: full transcript, reasoning replayed in place with its
``encrypted_content``.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx2
import openai
from openai import AsyncOpenAI, AsyncStream

from agentcore import tracing
from agentcore.errors import (
    AuthenticationError,
    ContextTooLongError,
    InvalidRequestError,
    ModelError,
    ModelStreamError,
    ModelTimeoutError,
    OverloadedError,
    RateLimitError,
    ServerError,
    ServerStateLostError,
    TransportError,
)
from agentcore.messages import Item
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

from .._common import dumps, header_retry_after, server_address, stale_watermark
from .responses_wire import (
    PROVIDER,
    Fingerprint,
    ItemEncoder,
    assemble,
    response_from,
    settings_to_wire,
    tools_to_wire,
)

__all__ = ["OpenAIResponsesModel"]

_INCLUDE = ["reasoning.encrypted_content"]
_MAX_LOST = 2
"""Consecutive ``previous_response_not_found`` fallbacks after which a conversation stops chaining."""
_SSL: list[ssl.SSLContext] = []


def _ssl_context() -> ssl.SSLContext:
    """One TLS context per process: building one costs ~20 ms, and runners may build an adapter per run."""
    if not _SSL:
        _SSL.append(httpx2.create_ssl_context())
    return _SSL[0]


class OpenAIResponsesModel(Model):
    """A model behind ``POST /v1/responses``.

    Options: ``api_key``, ``base_url``, ``client`` (a pre-built ``openai.AsyncOpenAI``), ``timeout``,
    ``store`` (default ``True``: use ``previous_response_id`` as a cache; ``False``: fully
    stateless), ``organization``, ``project``, ``default_headers``.
    """

    provider = PROVIDER
    system = "openai"

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        client: AsyncOpenAI | None = None,
        timeout: float | None = None,
        store: bool = True,
        organization: str | None = None,
        project: str | None = None,
        default_headers: dict[str, str] | None = None,
        max_cached_items: int = 8192,
    ) -> None:
        self.model_name = model_name
        self.store = store
        self._client_error: str | None = None
        self._client: AsyncOpenAI | None = None
        self._owns_client = False
        if client is not None:
            if not isinstance(client, AsyncOpenAI):
                raise TypeError("client must be an openai.AsyncOpenAI instance")
            if timeout is not None:
                client = client.with_options(timeout=timeout)
            self._client = client.with_options(max_retries=0)
        else:
            try:
                self._client = AsyncOpenAI(
                    api_key=api_key,
                    base_url=base_url,
                    organization=organization,
                    project=project,
                    timeout=timeout if timeout is not None else 600.0,
                    max_retries=0,
                    default_headers=default_headers,
                    http_client=openai.DefaultAsyncHttpxClient(verify=_ssl_context()),
                )
                self._owns_client = True
            except openai.OpenAIError as exc:  # no API key anywhere: fail on first call, typed
                self._client_error = str(exc)
        if self._client is not None:
            self.server_address, self.server_port = server_address(str(self._client.base_url))
        self._encoder = ItemEncoder(model_name, max_items=max_cached_items)
        self._head_key: tuple[Any, ...] | None = None
        self._head: tuple[bytes, list[str]] = (b"", [])

    # ------------------------------------------------------------------ request building

    def _static_head(self, request: ModelRequest) -> bytes:
        """Body fields that do not depend on the transcript, as JSON without the closing brace.

        Cached while instructions, tools, output schema and settings stay equal (the runner passes the
        same objects every turn, so the check is mostly identity comparisons).
        """
        key = (request.instructions, tuple(request.tools), request.output_schema, request.settings)
        if key != self._head_key:
            head: dict[str, Any] = {"model": self.model_name}
            if request.instructions:
                head["instructions"] = request.instructions
            if request.tools:
                head["tools"] = tools_to_wire(request.tools)
            head["store"] = self.store
            head["include"] = list(_INCLUDE)
            dropped = []
            s = request.settings
            if s.stop:
                dropped.append("stop")
            if s.seed is not None:
                dropped.append("seed")
            head.update(settings_to_wire(s, request.output_schema, [t.name for t in request.tools]))
            head.pop("input", None)
            head.pop("stream", None)
            head.pop("previous_response_id", None)
            self._head = (dumps(head)[:-1], dropped)
            self._head_key = key
        encoded, dropped = self._head
        for name in dropped:
            tracing.note(
                "agentcore.setting.dropped", setting=name, reason="not supported by the Responses API"
            )
        return encoded

    def _plan(self, request: ModelRequest) -> tuple[str | None, Sequence[Item], Fingerprint]:
        """``(previous_response_id, items to send, fingerprint of the whole transcript)``.

        One pass over the item ids both checks the watermark and fingerprints the transcript for the
        next call, so the cost per call stays a few microseconds per item.
        """
        items = request.items
        fp = Fingerprint()
        cache = request.cache
        if not self.store or cache.get("lost", 0) >= _MAX_LOST:
            return None, items, fp
        rid = cache.get("response_id")
        covered = cache.get("covered")
        if not rid:
            return None, items, fp.add(items)
        reason = stale_watermark(cache, len(items), self.model_name, lambda n: fp.add(items[:n]).digest())
        if reason is None:
            return str(rid), items[covered:], fp.add(items[covered:])
        if reason == "transcript_changed":
            fp.add(items[covered:])
        tracing.note("agentcore.server_state.reset", reason=reason, previous_response_id=str(rid))
        return None, items, (fp if reason == "transcript_changed" else Fingerprint().add(items))

    def _body(
        self, request: ModelRequest, previous: str | None, items: Sequence[Item], stream: bool
    ) -> bytes:
        head = self._static_head(request)
        if stream:
            head += b',"stream":true'
        if previous is not None:
            head += b',"previous_response_id":' + dumps(previous)
        inputs, orphans = self._encoder.input_bytes(items)
        if orphans:
            tracing.note("agentcore.openai.reasoning_dropped", count=orphans, reason="no following item")
        return assemble(head, inputs)

    def _remember(
        self, request: ModelRequest, response: ModelResponse, fp: Fingerprint, chained: bool
    ) -> None:
        cache = request.cache
        if not self.store or not response.response_id or cache.get("lost", 0) >= _MAX_LOST:
            return
        if chained:
            cache.pop("lost", None)
        cache.update(
            response_id=response.response_id,
            covered=len(request.items) + len(response.items),
            fingerprint=fp.add(response.items).digest(),
            model=self.model_name,
        )

    def _forget(self, request: ModelRequest, previous: str) -> None:
        tracing.note(
            "agentcore.server_state.reset",
            reason="previous_response_not_found",
            previous_response_id=previous,
        )
        cache = request.cache
        for key in ("response_id", "covered", "fingerprint", "model"):
            cache.pop(key, None)
        # A server that never finds what it just stored (zero data retention, a proxy that does not
        # keep responses) would cost a failed request per call: stop chaining for this conversation.
        cache["lost"] = cache.get("lost", 0) + 1
        if cache["lost"] >= _MAX_LOST:
            tracing.note("agentcore.server_state.disabled", reason="previous_response_not_found repeatedly")

    # ------------------------------------------------------------------ transport

    def _require_client(self) -> AsyncOpenAI:
        if self._client is None:
            raise AuthenticationError(self._client_error or "no OpenAI client", provider=self.provider)
        return self._client

    async def _post_json(self, body: bytes) -> dict[str, Any]:
        client = self._require_client()
        try:
            result = await client.post("/responses", cast_to=object, content=body)
        except openai.APIError as exc:
            raise map_error(exc) from exc
        if not isinstance(result, dict):
            raise ServerError("unexpected response body", provider=self.provider, body=result)
        return result

    async def _post_stream(self, body: bytes) -> AsyncStream[object]:
        client = self._require_client()
        try:
            return await client.post(
                "/responses", cast_to=object, content=body, stream=True, stream_cls=AsyncStream[object]
            )
        except openai.APIError as exc:
            raise map_error(exc) from exc

    # ------------------------------------------------------------------ Model API

    async def respond(self, request: ModelRequest) -> ModelResponse:
        previous, items, fp = self._plan(request)
        chained = previous is not None
        try:
            data = await self._post_json(self._body(request, previous, items, stream=False))
        except ServerStateLostError:
            if previous is None:
                raise
            self._forget(request, previous)
            previous, items, chained = None, request.items, False
            data = await self._post_json(self._body(request, None, items, stream=False))
        status = data.get("status")
        if status == "failed":
            raise failed_error(data.get("error"), stream=False)
        response = response_from(data, self.model_name)
        self._remember(request, response, fp, chained)
        return response

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        previous, items, fp = self._plan(request)
        body = self._body(request, previous, items, stream=True)
        for attempt in (0, 1):
            try:
                events = await self._post_stream(body)
            except ServerStateLostError:
                if previous is None or attempt:
                    raise
                self._forget(request, previous)
                previous = None
                body = self._body(request, None, request.items, stream=True)
                continue
            state = _StreamState()
            try:
                async for event in _iterate(events):
                    for out in state.feed(event):
                        yield out
                    if state.lost_state:
                        break
            finally:
                await events.close()
            if state.lost_state and previous is not None and not state.yielded and not attempt:
                self._forget(request, previous)
                previous = None
                body = self._body(request, None, request.items, stream=True)
                continue
            if state.final is None:
                raise state.error or ModelStreamError(
                    "stream ended without response.completed", provider=PROVIDER
                )
            response = response_from(state.final, self.model_name)
            self._remember(request, response, fp, previous is not None)
            yield ModelResponseDone(response)
            return
        raise ServerStateLostError("the server lost its stored state twice", provider=PROVIDER)

    async def aclose(self) -> None:
        """Close the HTTP client this adapter created (a client passed in stays open)."""
        if self._client is not None and self._owns_client:
            await self._client.close()


# --------------------------------------------------------------------------- streaming


async def _iterate(events: AsyncStream[object]) -> AsyncIterator[dict[str, Any]]:
    """SSE events as dicts. A top-level ``error`` event becomes :class:`ModelStreamError`."""
    try:
        async for event in events:
            if isinstance(event, dict):
                yield event
    except openai.APIStatusError as exc:
        raise map_error(exc) from exc
    except openai.APIConnectionError as exc:
        raise map_error(exc) from exc
    except openai.APIError as exc:  # the SDK raises this for an ``error`` event carrying ``error{...}``
        yield {"type": "error", "error": exc.body if isinstance(exc.body, dict) else {"message": exc.message}}


class _StreamState:
    """Turns Responses SSE events into agentcore stream events and keeps the final response."""

    def __init__(self) -> None:
        self.final: dict[str, Any] | None = None
        self.error: ModelError | None = None
        self.yielded = False
        self.lost_state = False
        self._tool_index: dict[int, int] = {}
        self._done: dict[int, Any] = {}

    def feed(self, event: dict[str, Any]) -> list[ModelStreamEvent]:
        kind = event.get("type")
        if kind == "response.output_text.delta":
            self.yielded = True
            return [ModelTextDelta(str(event.get("delta", "")))]
        if kind == "response.function_call_arguments.delta":
            index = self._tool_index.get(int(event.get("output_index", -1)), 0)
            self.yielded = True
            return [ModelToolCallDelta(index=index, arguments=str(event.get("delta", "")))]
        if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            self.yielded = True
            return [ModelReasoningDelta(str(event.get("delta", "")))]
        if kind == "response.output_item.added":
            item = event.get("item") or {}
            if item.get("type") == "function_call":
                index = len(self._tool_index)
                self._tool_index[int(event.get("output_index", index))] = index
                self.yielded = True
                return [ModelToolCallDelta(index=index, call_id=item.get("call_id"), name=item.get("name"))]
            return []
        if kind == "response.output_item.done":
            self._done[int(event.get("output_index", len(self._done)))] = event.get("item")
            return []
        if kind in ("response.completed", "response.incomplete"):
            final = event.get("response") or {}
            if not final.get("output") and self._done:
                # Some proxies send the final response without its output; the items were streamed.
                final = {**final, "output": [self._done[k] for k in sorted(self._done)]}
            self.final = final
            return []
        if kind == "response.failed":
            err = (event.get("response") or {}).get("error")
            self.error = self.error or failed_error(err, stream=True)
            raise self.error
        if kind == "error":
            err = event.get("error") if isinstance(event.get("error"), dict) else event
            if _is_state_lost(err) and not self.yielded:
                self.lost_state = True
                return []
            self.error = failed_error(err, stream=True)
            raise self.error
        return []


# --------------------------------------------------------------------------- errors


def _is_state_lost(err: Any) -> bool:
    if not isinstance(err, dict):
        return False
    if err.get("code") == "previous_response_not_found":
        return True
    message = str(err.get("message") or "").lower()
    return err.get("param") == "previous_response_id" and "not found" in message


def failed_error(err: Any, *, stream: bool) -> ModelError:
    """The error of a failed response (``response.failed`` or an ``error`` event)."""
    err = err if isinstance(err, dict) else {}
    message = str(err.get("message") or "response failed")
    code = err.get("code") or err.get("type")
    if stream:
        return ModelStreamError(f"{code}: {message}" if code else message, provider=PROVIDER, body=err)
    if code == "rate_limit_exceeded":
        return RateLimitError(message, provider=PROVIDER, body=err)
    return ServerError(message, provider=PROVIDER, body=err)


def map_error(exc: openai.APIError) -> ModelError:
    """The agentcore error for an ``openai`` SDK error."""
    if isinstance(exc, openai.APITimeoutError):
        return ModelTimeoutError(str(exc), provider=PROVIDER)
    if isinstance(exc, openai.APIConnectionError):
        return TransportError(str(exc), provider=PROVIDER)
    body = exc.body
    err = body if isinstance(body, dict) else {}
    message = str(err.get("message") or exc.message)
    if not isinstance(exc, openai.APIStatusError):
        return ModelStreamError(message, provider=PROVIDER, body=body)
    status = exc.status_code
    kw: dict[str, Any] = {"provider": PROVIDER, "status_code": status, "body": body}
    code = str(err.get("code") or "")
    if status == 429:
        return RateLimitError(message, retry_after=header_retry_after(exc.response.headers), **kw)
    if status in (503, 529) or code == "overloaded":
        return OverloadedError(message, retry_after=header_retry_after(exc.response.headers), **kw)
    if status >= 500:
        return ServerError(message, retry_after=header_retry_after(exc.response.headers), **kw)
    if status in (401, 403):
        return AuthenticationError(message, **kw)
    if _is_state_lost(err):
        return ServerStateLostError(message, **kw)
    if code == "context_length_exceeded" or "context window" in message.lower():
        return ContextTooLongError(message, **kw)
    return InvalidRequestError(message, **kw)
