"""OpenAI Responses API adapter (registry name ``openai``).

Transport is the official ``openai`` SDK (auth, base URL, headers, pooling, typed errors, SSE decoding)
with its own retries off; the core owns retries. Request bodies are built here as wire JSON from
per-item cached bytes (see :mod:`.openai_responses_wire`) and sent raw through the client's low-level
``post``, so the per-call cost does not grow with the transcript. A 200 whose body or stream line is
not JSON is a retryable ``ServerError`` / ``ModelStreamError``, never a raw ``JSONDecodeError``.

Server-side state is a cache (DESIGN decision 2). ``request.cache`` remembers the last response id,
how many transcript items it covers (the input it was given plus the output it produced) and a
fingerprint of those items. While the transcript only grew, the adapter sends ``previous_response_id``
plus the items after that watermark (tool results, new user messages), and ``instructions`` and
``tools`` every turn. When anything before the watermark changed, or the server no longer knows the
id, it sends the whole transcript again and notes ``agentcore.server_state.reset`` in the trace.
With ``store=False`` every call is stateless: full transcript, reasoning replayed in place with its
``encrypted_content``, ``compaction`` items replayed in place.

Encrypted reasoning is asked for (``include: ["reasoning.encrypted_content"]``) only from models of a
reasoning family (:func:`.responses_wire.reasoning_family`; ``encrypted_reasoning=`` overrides). A 400
naming ``include`` anyway drops it for that model and server for the rest of the process, and the
request is sent again once without it.

Background mode (``ModelSettings(background=True)``): the response comes back ``queued``; the adapter
polls ``GET /responses/{id}`` with backoff until it ends, cancels it (``POST /responses/{id}/cancel``)
when the run is cancelled or polling fails, and raises a typed error when it ends ``failed``,
``cancelled`` or ``incomplete``. A streamed background request is polled the same way and its result
streamed when it is done. A response that has not ended is never returned as final, background
asked for or not.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx2
import openai
from openai import AsyncOpenAI, AsyncStream

from agentcore import tracing
from agentcore.errors import (
    IncompleteResponseError,
    InvalidRequestError,
    ModelError,
    ModelStreamError,
    ServerError,
    ServerStateLostError,
)
from agentcore.messages import Item, Usage
from agentcore.model import (
    Model,
    ModelRequest,
    ModelResponse,
    ModelResponseDone,
    ModelStreamEvent,
)

from .._common import (
    dumps,
    json_body,
    server_address,
    stale_watermark,
)
from . import computer, tokens
from .auth import api_key_for
from .responses_stream import StreamState, failed_error, iterate, map_error, replay
from .responses_tools import container_key, containers_ready, observe_containers, tools_to_wire
from .responses_wire import (
    PENDING,
    PROVIDER,
    Fingerprint,
    ItemEncoder,
    assemble,
    reasoning_family,
    response_from,
    settings_to_wire,
)

__all__ = ["OpenAIResponsesModel"]

_StreamState = StreamState  # the name tests import

_INCLUDE = ["reasoning.encrypted_content"]
_INCLUDE_QUERY = {"include": _INCLUDE}
_MAX_LOST = 2
"""Consecutive ``previous_response_not_found`` fallbacks after which a conversation stops chaining."""
_NO_INCLUDE: set[tuple[str, str]] = set()
"""(base URL, model) pairs that answered 400 to ``include``: not asked again in this process."""
_POLL_INTERVAL = 1.0
_POLL_BACKOFF = 1.5
_POLL_FAILURES = 5
"""Consecutive retryable failures of ``GET /responses/{id}`` tolerated while polling."""
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
    stateless), ``encrypted_reasoning`` (ask for encrypted reasoning: ``None``, the default, decides
    by model family, see :func:`.responses_wire.reasoning_family`), ``poll_interval`` and
    ``max_poll_interval`` (seconds between polls of a background response: the first wait, and the
    cap of its 1.5x growth), ``organization``, ``project``, ``default_headers``.

    Without ``api_key``/``client`` the key comes from ``OPENAI_API_KEY``; pointed at OpenAI without one,
    building the adapter raises :class:`~agentcore.errors.MissingCredentialsError` (see :mod:`.auth`).
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
        encrypted_reasoning: bool | None = None,
        poll_interval: float = _POLL_INTERVAL,
        max_poll_interval: float = 10.0,
        organization: str | None = None,
        project: str | None = None,
        default_headers: dict[str, str] | None = None,
        max_cached_items: int = 8192,
    ) -> None:
        self.model_name = model_name
        self.store = store
        self.encrypted_reasoning = encrypted_reasoning
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self._owns_client = False
        if client is not None:
            if not isinstance(client, AsyncOpenAI):
                raise TypeError("client must be an openai.AsyncOpenAI instance")
            if timeout is not None:
                client = client.with_options(timeout=timeout)
            self._client = client.with_options(max_retries=0)
        else:
            self._client = AsyncOpenAI(
                api_key=api_key_for(self.provider, api_key, base_url),
                base_url=base_url,
                organization=organization,
                project=project,
                timeout=timeout if timeout is not None else 600.0,
                max_retries=0,
                default_headers=default_headers,
                http_client=openai.DefaultAsyncHttpxClient(verify=_ssl_context()),
            )
            self._owns_client = True
        self._base_url = str(self._client.base_url)
        self.server_address, self.server_port = server_address(self._base_url)
        self._reasons = reasoning_family(model_name)
        self._encoder = ItemEncoder(model_name, max_items=max_cached_items)
        self._head_key: tuple[Any, ...] | None = None
        self._head: tuple[bytes, list[str]] = (b"", [])

    # ------------------------------------------------------------------ request building

    def _asks_reasoning(self) -> bool:
        """Whether requests carry ``include: ["reasoning.encrypted_content"]``."""
        if (self._base_url, self.model_name) in _NO_INCLUDE:
            return False
        if self.encrypted_reasoning is not None:
            return self.encrypted_reasoning
        return self._reasons

    def _static_head(self, request: ModelRequest) -> bytes:
        """Body fields that do not depend on the transcript, as JSON without the closing brace.

        Cached while instructions, tools, output schema and settings stay equal (the runner passes the
        same objects every turn, so the check is mostly identity comparisons).
        """
        include = self._asks_reasoning()
        native = request.native_tools
        hosted = request.hosted_tools
        key = (
            request.instructions,
            tuple(request.tools),
            request.output_schema,
            request.settings,
            include,
            tuple(native),
            tuple(hosted),
            container_key(hosted),
        )
        if key != self._head_key:
            head: dict[str, Any] = {"model": self.model_name}
            if request.instructions:
                head["instructions"] = request.instructions
            if request.tools or native or hosted:
                head["tools"] = tools_to_wire(
                    request.tools, model=self.model_name, native=native, hosted=hosted
                )
            head["store"] = self.store
            if include:
                head["include"] = list(_INCLUDE)
            dropped = []
            s = request.settings
            if s.stop:
                dropped.append("stop")
            if s.seed is not None:
                dropped.append("seed")
            head.update(settings_to_wire(s, request.output_schema, [t.name for t in request.tools]))
            preview = computer.preview_model(self.model_name)
            if preview and computer.view_for(self.model_name, native, request.tools):
                head.setdefault("truncation", "auto")  # computer_use_preview requires it
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
        inputs, orphans = self._encoder.input_bytes(items, request.items)
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

    def _drop_include(self, exc: InvalidRequestError) -> bool:
        """After a 400 naming ``include``: stop asking this model for encrypted reasoning (for the rest
        of the process) and say whether the request is worth sending again."""
        err = exc.body if isinstance(exc.body, dict) else {}
        if err.get("param") != "include" or not self._asks_reasoning():
            return False
        _NO_INCLUDE.add((self._base_url, self.model_name))
        tracing.note(
            "agentcore.openai.include_dropped",
            model=self.model_name,
            include=_INCLUDE[0],
            reason=str(err.get("message") or exc.message),
        )
        return True

    # ------------------------------------------------------------------ transport

    async def _post_json(self, body: bytes) -> dict[str, Any]:
        try:
            raw = await self._client.post("/responses", cast_to=bytes, content=body)
        except openai.APIError as exc:
            raise map_error(exc) from exc
        return json_body(raw, PROVIDER)

    async def _get_json(self, response_id: str) -> dict[str, Any]:
        options: Any = {"params": _INCLUDE_QUERY} if self._asks_reasoning() else {}
        try:
            raw = await self._client.get(f"/responses/{response_id}", cast_to=bytes, options=options)
        except openai.APIError as exc:
            raise map_error(exc) from exc
        return json_body(raw, PROVIDER)

    async def _post_stream(self, body: bytes) -> AsyncStream[object]:
        try:
            return await self._client.post(
                "/responses", cast_to=object, content=body, stream=True, stream_cls=AsyncStream[object]
            )
        except openai.APIError as exc:
            raise map_error(exc) from exc

    async def _create(
        self, request: ModelRequest, previous: str | None, items: Sequence[Item]
    ) -> tuple[dict[str, Any], bool]:
        """``POST /responses`` (not streamed) with the adapter's two fallbacks: the full transcript when
        the server lost ``previous``, and no ``include`` when the model refuses it. Returns the body
        and whether it was chained."""
        while True:
            try:
                data = await self._post_json(self._body(request, previous, items, stream=False))
                return data, previous is not None
            except ServerStateLostError:
                if previous is None:
                    raise
                self._forget(request, previous)
                previous, items = None, request.items
            except InvalidRequestError as exc:
                if not self._drop_include(exc):
                    raise

    # ------------------------------------------------------------------ background responses

    async def _wait(self, data: dict[str, Any], settings_interval: float | None) -> dict[str, Any]:
        """Poll a ``queued``/``in_progress`` response until it ends; cancel it if we stop waiting."""
        rid = data.get("id")
        if not isinstance(rid, str) or not rid:
            raise ServerError("a response that has not ended came back without an id", provider=PROVIDER)
        tracing.note("agentcore.openai.background", response_id=rid, status=str(data.get("status")))
        delay = settings_interval if settings_interval is not None else self.poll_interval
        failures = 0
        polls = 0
        try:
            while data.get("status") in PENDING:
                await asyncio.sleep(delay)
                delay = min(delay * _POLL_BACKOFF, max(self.max_poll_interval, delay))
                try:
                    data = await self._get_json(rid)
                    failures = 0
                    polls += 1
                except ModelError as exc:
                    failures += 1
                    if not exc.retryable or failures >= _POLL_FAILURES:
                        raise
        except BaseException:  # cancelled run, or polling failed: the job must not run on unwatched
            await self._cancel(rid)
            raise
        tracing.note(
            "agentcore.openai.background.done", response_id=rid, status=str(data.get("status")), polls=polls
        )
        return data

    async def _cancel(self, response_id: str) -> None:
        """``POST /responses/{id}/cancel``, best effort and bounded (this runs while a run unwinds)."""
        try:
            await asyncio.wait_for(
                self._client.post(f"/responses/{response_id}/cancel", cast_to=bytes, content=b"{}"), 10.0
            )
            tracing.note("agentcore.openai.background.cancelled", response_id=response_id)
        except Exception as exc:  # nothing more can be done for it
            tracing.note(
                "agentcore.openai.background.cancel_failed", response_id=response_id, error=repr(exc)[:300]
            )

    @staticmethod
    def _ended(data: dict[str, Any], *, waited: bool) -> None:
        """Raise the typed error of a response that ended without completing."""
        status = data.get("status")
        if status == "failed":
            raise failed_error(data.get("error"), stream=False)
        if status == "cancelled" or (status == "incomplete" and waited):
            reason = (data.get("incomplete_details") or {}).get("reason")
            raise IncompleteResponseError(
                f"background response {data.get('id')} ended {status}" + (f" ({reason})" if reason else ""),
                provider=PROVIDER,
                status=str(status),
                reason=reason,
                body={k: data.get(k) for k in ("id", "status", "incomplete_details", "error")},
            )

    async def _finished(self, request: ModelRequest, data: dict[str, Any]) -> dict[str, Any]:
        waited = data.get("status") in PENDING
        if waited:
            data = await self._wait(data, request.settings.poll_interval)
        self._ended(data, waited=waited or bool(request.settings.background))
        return data

    # ------------------------------------------------------------------ Model API

    async def respond(self, request: ModelRequest) -> ModelResponse:
        await containers_ready(request.hosted_tools)
        previous, items, fp = self._plan(request)
        data, chained = await self._create(request, previous, items)
        data = await self._finished(request, data)
        response = response_from(data, self.model_name)
        observe_containers(request.hosted_tools, response.items)
        self._remember(request, response, fp, chained)
        return response

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        if request.settings.background:
            # A background job is polled, not streamed: its result is streamed once it is done.
            for replayed in replay(await self.respond(request)):
                yield replayed
            return
        await containers_ready(request.hosted_tools)
        previous, items, fp = self._plan(request)
        body = self._body(request, previous, items, stream=True)
        lost = False
        while True:
            try:
                events = await self._post_stream(body)
            except ServerStateLostError:
                if previous is None or lost:
                    raise
                lost = True
                self._forget(request, previous)
                previous, items = None, request.items
                body = self._body(request, None, items, stream=True)
                continue
            except InvalidRequestError as exc:
                if not self._drop_include(exc):
                    raise
                body = self._body(request, previous, items, stream=True)
                continue
            state = StreamState(self.model_name)
            try:
                async for event in iterate(events):
                    for out in state.feed(event):
                        yield out
                    if state.lost_state:
                        break
            finally:
                await events.close()
            if state.lost_state and previous is not None and not state.yielded and not lost:
                lost = True
                self._forget(request, previous)
                previous, items = None, request.items
                body = self._body(request, None, items, stream=True)
                continue
            if state.lost_state:
                raise ServerStateLostError("the server lost its stored state twice", provider=PROVIDER)
            if state.final is None:
                raise state.error or ModelStreamError(
                    "stream ended without response.completed", provider=PROVIDER
                )
            final = await self._finished(request, state.final)
            response = response_from(final, self.model_name)
            observe_containers(request.hosted_tools, response.items)
            self._remember(request, response, fp, previous is not None)
            yield ModelResponseDone(response)
            return

    async def count_tokens(self, request: ModelRequest) -> int | None:
        return await tokens.count_responses(self, request)  # POST /responses/input_tokens

    def native_context(self, threshold: int) -> dict[str, Any] | None:
        return tokens.compaction(threshold)

    async def native_compact(self, request: ModelRequest) -> tuple[list[Item], Usage] | None:
        return await tokens.compact(self, request)  # POST /responses/compact

    async def aclose(self) -> None:
        """Close the HTTP client this adapter created (a client passed in stays open)."""
        if self._owns_client:
            await self._client.close()
