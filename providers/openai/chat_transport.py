"""How the ``openai-chat`` adapter moves its pre-encoded bytes: over ``httpx2`` itself, or through an
``openai.AsyncOpenAI`` client the user built.

The adapter encodes the request body and parses the answer itself (:mod:`.chat_wire`,
:mod:`.chat_parse`), so on its default path the SDK would only add an import of ~0.4 s (its type
models) to every process start. :class:`HTTPTransport` sends the same request the SDK's low-level
``post`` sends (bearer key, ``OpenAI-Organization``/``OpenAI-Project`` from the SDK's variables, the
SDK's default timeout, pool limits and redirects), decodes the server-sent events and maps failures the
way :func:`map_error` maps the SDK's exceptions. :class:`SDKTransport` keeps a user's client (Azure,
custom transports) working exactly as before; it is the only place that touches the SDK.

Both raise typed :mod:`agentcore.errors`: HTTP statuses by :func:`by_status`, a refused or cut
connection as ``TransportError`` (``ModelStreamError`` once the stream has started), timeouts as
``ModelTimeoutError``, an ``error`` object inside the stream as ``ModelStreamError``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

import httpx2

from agentcore import errors

from .._common import header_retry_after, malformed_stream

if TYPE_CHECKING:
    import openai

__all__ = ["ChatTransport", "HTTPTransport", "SDKTransport", "by_status", "map_error"]

_CONTEXT_RE = re.compile(
    r"context[_ ]length|maximum context|context window|context size|too many tokens|prompt is too long",
    re.IGNORECASE,
)
_PATH = "chat/completions"  # relative: joined to the base URL's path, as the SDK does
_DEFAULT_TIMEOUT = httpx2.Timeout(timeout=600, connect=5.0)  # the SDK's defaults
_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
_DRAIN = 0.1
"""Seconds spent reading what follows ``[DONE]`` so an HTTP/1.1 connection can be reused."""


class ChatTransport(Protocol):
    """POST a Chat Completions body; failures arrive as typed agentcore errors."""

    base_url: str

    async def post(self, body: bytes) -> bytes: ...

    def stream(self, body: bytes) -> AsyncGenerator[Any, None]:
        """The decoded ``data:`` payload of each server-sent event up to ``[DONE]``."""
        ...

    async def aclose(self) -> None: ...


def by_status(
    status: int, message: str, *, provider: str, body: Any, retry_after: float | None, kind: str
) -> errors.ModelError:
    """The typed error for an HTTP status (``kind``: the body's ``type`` and ``code``, lower case)."""
    kw: dict[str, Any] = {
        "provider": provider,
        "status_code": status,
        "body": body,
        "retry_after": retry_after,
    }
    if status == 429:
        return errors.RateLimitError(message, **kw)
    if status in (503, 529) or "overloaded" in kind:
        return errors.OverloadedError(message, **kw)
    if status == 408:
        return errors.ModelTimeoutError(message, **kw)
    if status >= 500 or status == 409:
        return errors.ServerError(message, **kw)
    if status in (401, 403):
        return errors.AuthenticationError(message, **kw)
    if "context_length" in kind or _CONTEXT_RE.search(message):
        return errors.ContextTooLongError(message, **kw)
    return errors.InvalidRequestError(message, **kw)


def _status_error(status: int, text: str, headers: Any, provider: str) -> errors.ModelError:
    """What the SDK raises for a non-2xx answer, mapped: the ``error`` object (or the whole JSON body,
    or the text) as the body; its ``message`` as the message, else ``Error code: N``."""
    message = f"Error code: {status}"
    data: Any = text
    kind = ""
    try:
        parsed = json.loads(text)
    except ValueError:
        pass
    else:
        data = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
        if isinstance(data, dict):
            message = str(data.get("message") or message)
            kind = f"{data.get('type') or ''} {data.get('code') or ''}".lower()
    return by_status(
        status, message, provider=provider, body=data, retry_after=header_retry_after(headers), kind=kind
    )


def _failed(exc: httpx2.HTTPError, provider: str, *, mid_stream: bool) -> errors.ModelError:
    if isinstance(exc, httpx2.TimeoutException):
        return errors.ModelTimeoutError("Request timed out.", provider=provider)
    cls = errors.ModelStreamError if mid_stream else errors.TransportError
    return cls(f"connection failed: {exc}", provider=provider)


def _stream_error(data: Any, provider: str) -> errors.ModelStreamError | None:
    """An ``{"error": ...}`` payload inside the stream (a gateway's mid-stream failure)."""
    if not isinstance(data, dict) or not data.get("error"):
        return None
    err = data["error"]
    message = err.get("message") if isinstance(err, dict) else None
    if not message or not isinstance(message, str):
        message = "An error occurred during streaming"
    return errors.ModelStreamError(message, provider=provider, body=err)


class _Events:
    """Server-sent events from lines: the ``data`` of each event (its lines joined), comments and
    other fields skipped, as the SSE specification reads them."""

    def __init__(self) -> None:
        self.data: list[str] = []

    def feed(self, line: str) -> str | None:
        if not line:
            if not self.data:
                return None
            out, self.data = "\n".join(self.data), []
            return out
        name, _, value = line.partition(":")
        if name == "data":
            self.data.append(value[1:] if value.startswith(" ") else value)
        return None


class HTTPTransport:
    """Chat Completions over an ``httpx2.AsyncClient`` (no SDK import)."""

    def __init__(
        self,
        *,
        provider: str,
        api_key: str,
        base_url: str | None,
        timeout: float | None,
        default_headers: dict[str, str] | None,
        organization: str | None = None,
        project: str | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        if not self.base_url.endswith("/"):
            self.base_url += "/"
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Authorization": f"Bearer {api_key}",
        }
        organization = organization or os.environ.get("OPENAI_ORG_ID")
        project = project or os.environ.get("OPENAI_PROJECT_ID")
        if organization:
            headers["OpenAI-Organization"] = organization
        if project:
            headers["OpenAI-Project"] = project
        headers.update(default_headers or {})
        self._http = httpx2.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=_DEFAULT_TIMEOUT if timeout is None else httpx2.Timeout(timeout),
            limits=_LIMITS,
            follow_redirects=True,
        )

    async def post(self, body: bytes) -> bytes:
        try:
            response = await self._http.post(_PATH, content=body)
        except httpx2.HTTPError as exc:
            raise _failed(exc, self.provider, mid_stream=False) from None
        if not response.is_success:
            raise _status_error(response.status_code, response.text.strip(), response.headers, self.provider)
        return response.content

    async def stream(self, body: bytes) -> AsyncGenerator[Any, None]:
        request = self._http.build_request("POST", _PATH, content=body)
        try:
            response = await self._http.send(request, stream=True)
        except httpx2.HTTPError as exc:
            raise _failed(exc, self.provider, mid_stream=False) from None
        try:
            if not response.is_success:
                try:
                    await response.aread()
                except httpx2.HTTPError as exc:
                    raise _failed(exc, self.provider, mid_stream=False) from None
                raise _status_error(
                    response.status_code, response.text.strip(), response.headers, self.provider
                )
            events = _Events()
            lines = response.aiter_lines()
            try:
                async for line in lines:
                    data = events.feed(line)
                    if data is None:
                        continue
                    if data.startswith("[DONE]"):
                        await _drain(response, lines)
                        return
                    yield self._chunk(data)
                data = events.feed("")  # an event the server did not end with a blank line
                if data is not None and not data.startswith("[DONE]"):
                    yield self._chunk(data)
            except httpx2.HTTPError as exc:
                raise _failed(exc, self.provider, mid_stream=True) from None
        finally:
            await response.aclose()

    def _chunk(self, data: str) -> Any:
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise malformed_stream(self.provider, exc) from None
        error = _stream_error(chunk, self.provider)
        if error is not None:
            raise error
        return chunk

    async def aclose(self) -> None:
        await self._http.aclose()


async def _drain(response: httpx2.Response, lines: AsyncIterator[str]) -> None:
    """Read what follows ``[DONE]`` (the end of the chunked body, usually) for a moment, through the
    same iterator, so the HTTP/1.1 connection goes back to the pool instead of being closed unread."""
    if response.http_version != "HTTP/1.1" or response.is_closed:
        return
    try:
        async with asyncio.timeout(_DRAIN):
            async for _ in lines:
                pass
    except (TimeoutError, httpx2.HTTPError, httpx2.StreamError):
        pass


class SDKTransport:
    """Chat Completions through a user's ``openai.AsyncOpenAI`` client (its own retries off)."""

    def __init__(self, client: openai.AsyncOpenAI, provider: str) -> None:
        self.client = client.with_options(max_retries=0)
        self.provider = provider
        self.base_url = str(self.client.base_url)

    async def post(self, body: bytes) -> bytes:
        import openai

        try:
            return await self.client.post("/chat/completions", cast_to=bytes, content=body)
        except openai.OpenAIError as exc:
            raise map_error(exc, self.provider) from None

    async def stream(self, body: bytes) -> AsyncGenerator[Any, None]:
        import openai

        try:
            chunks = await self.client.post(
                "/chat/completions",
                cast_to=object,
                content=body,
                stream=True,
                stream_cls=openai.AsyncStream[object],
            )
        except openai.OpenAIError as exc:
            raise map_error(exc, self.provider) from None
        try:
            async for chunk in chunks:
                yield chunk
        except openai.OpenAIError as exc:
            raise map_error(exc, self.provider, mid_stream=True) from None
        except ValueError as exc:  # a line that is not JSON (the SDK's SSE decoder raises JSONDecodeError)
            raise malformed_stream(self.provider, exc) from None
        finally:
            await chunks.close()

    async def aclose(self) -> None:
        await self.client.close()


def map_error(exc: Exception, provider: str, *, mid_stream: bool = False) -> errors.ModelError:
    """An ``openai`` SDK exception as a typed agentcore error."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return errors.ModelTimeoutError(str(exc) or "request timed out", provider=provider)
    if isinstance(exc, openai.APIConnectionError):
        cls = errors.ModelStreamError if mid_stream else errors.TransportError
        return cls(f"connection failed: {exc.__cause__ or exc}", provider=provider)
    if isinstance(exc, openai.APIStatusError):
        body = exc.body
        message = exc.message
        kind = ""
        if isinstance(body, dict):
            message = str(body.get("message") or message)
            kind = f"{body.get('type') or ''} {body.get('code') or ''}".lower()
        return by_status(
            exc.status_code,
            message,
            provider=provider,
            body=body,
            retry_after=header_retry_after(exc.response.headers),
            kind=kind,
        )
    if isinstance(exc, openai.APIError):  # an error event inside an SSE stream
        return errors.ModelStreamError(exc.message, provider=provider, body=exc.body)
    return errors.ModelError(str(exc), provider=provider)
