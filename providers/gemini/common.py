"""Pieces both Gemini adapters share: the SDK client, error mapping, tool schemas, call ids, usage.

Kept separate so ``gemini.py`` (generateContent) and ``gemini_interactions.py`` (the Interactions API)
stay small. Nothing here is imported by other vendors' adapters.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
from collections.abc import AsyncIterator
from typing import Any

from agentcore.errors import (
    AuthenticationError,
    ContextTooLongError,
    InvalidRequestError,
    MissingCredentialsError,
    ModelError,
    ModelStreamError,
    ModelTimeoutError,
    OverloadedError,
    RateLimitError,
    ServerError,
    TransportError,
)

from .._common import hashed_call_id, header_retry_after, malformed_stream, server_address

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
API_VERSION = "v1beta"
"""generateContent's full JSON Schema fields (parametersJsonSchema, responseJsonSchema) are v1beta."""

DUMMY_THOUGHT_SIGNATURE = base64.b64encode(b"skip_thought_signature_validator").decode()
"""The documented stand-in signature for function calls Gemini did not produce (WIRE.md §4.5)."""

SYNTH_CALL_PREFIX = "gemini_call_"
"""Call ids agentcore made up for Gemini function calls that came without an id (never sent back)."""

_TOKEN_LIMIT = re.compile(
    r"(input token count|exceeds the maximum number of tokens|context window|too long)", re.I
)
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


# --------------------------------------------------------------------------- client


KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
"""Where google-genai looks for a key when none is passed (it prefers ``GOOGLE_API_KEY`` when both are set)."""


def api_key_from_env() -> str | None:
    for name in reversed(KEY_VARIABLES):
        value = os.environ.get(name)
        if value:
            return value
    return None


def make_client(
    *,
    api_key: str | None,
    base_url: str | None,
    timeout: float | None,
    client: Any = None,
    api_version: str = API_VERSION,
    provider: str = "google",
) -> Any:
    """A ``google.genai.Client`` with the SDK's own retries off (the core owns retries).

    Without ``api_key`` the key comes from ``GEMINI_API_KEY``/``GOOGLE_API_KEY``, as in the SDK;
    with neither, :class:`~agentcore.errors.MissingCredentialsError` is raised here, before any
    network work (a caller's own client is taken as configured).
    """
    if client is not None:
        return client
    key = api_key or api_key_from_env()
    if not key:
        raise MissingCredentialsError(provider, "GEMINI_API_KEY", "GOOGLE_API_KEY is read too")
    # httpx2 is what google-genai itself depends on (httpx is not a dependency of either)
    import httpx2
    from google import genai
    from google.genai import types

    http_options = types.HttpOptions(
        base_url=base_url or DEFAULT_BASE_URL,
        api_version=api_version,
        timeout=int(timeout * 1000) if timeout is not None else None,
        retry_options=types.HttpRetryOptions(attempts=1),
        # One connection pool for both APIs (the Interactions client only speaks httpx/httpx2).
        httpx_async_client=httpx2.AsyncClient(timeout=timeout),
    )
    return genai.Client(api_key=key, http_options=http_options)


def request_options(client: Any, built_here: bool, api_version: str) -> dict[str, Any] | None:
    """Per-request HTTP options for a client the caller built: pin the API version, SDK retries off.

    ``None`` for a client built here (already configured, and per-request options cost a validation).
    """
    if built_here:
        return None
    return {"api_version": api_version, "retry_options": {"attempts": 1}}


async def close_client(client: Any, built_here: bool) -> None:
    """Close what we opened (the SDK leaves an httpx client it was handed open); a caller's client stays open."""
    if not built_here:
        return
    try:
        await client.aio.aclose()
        client.close()
        await client._api_client._async_httpx_client.aclose()
    except Exception:  # closing is best effort
        pass


def server_of(client: Any, base_url: str | None) -> tuple[str | None, int | None]:
    url = base_url
    if url is None:
        try:
            url = str(client._api_client._http_options.base_url)
        except AttributeError:
            url = DEFAULT_BASE_URL
    return server_address(url)


# --------------------------------------------------------------------------- errors


def _retry_delay(details: Any) -> float | None:
    """``google.rpc.RetryInfo.retryDelay`` ("34s", "1.5s") from an error body's ``details``."""
    if not isinstance(details, list):
        return None
    for d in details:
        if isinstance(d, dict) and str(d.get("@type", "")).endswith("google.rpc.RetryInfo"):
            raw = str(d.get("retryDelay", "")).strip()
            if raw.endswith("s"):
                try:
                    return float(raw[:-1])
                except ValueError:
                    return None
    return None


def error_from_status(
    status: int, body: Any, *, provider: str, headers: Any = None, message: str | None = None
) -> ModelError:
    """A typed agentcore error for an HTTP error answer in Google's ``{"error": {...}}`` shape."""
    err = body.get("error", body) if isinstance(body, dict) else {}
    if not isinstance(err, dict):
        err = {}
    text = message or str(err.get("message") or body or f"HTTP {status}")
    rpc_status = str(err.get("status") or "")
    kw: dict[str, Any] = {"provider": provider, "status_code": status, "body": body}
    if status == 429 or rpc_status == "RESOURCE_EXHAUSTED":
        retry_after = header_retry_after(headers)
        if retry_after is None:
            retry_after = _retry_delay(err.get("details"))
        return RateLimitError(text, retry_after=retry_after, **kw)
    if status == 503 or rpc_status == "UNAVAILABLE":
        return OverloadedError(text, retry_after=header_retry_after(headers), **kw)
    if status >= 500:
        return ServerError(text, retry_after=header_retry_after(headers), **kw)
    if status in (401, 403):
        return AuthenticationError(text, **kw)
    if status == 400 and _TOKEN_LIMIT.search(text):
        return ContextTooLongError(text, **kw)
    return InvalidRequestError(text, **kw)


def map_exception(exc: BaseException, *, provider: str, streamed: bool = False) -> ModelError:
    """Translate whatever the google-genai client raised into an agentcore error (``streamed``: it
    came while reading a stream)."""
    if isinstance(exc, ModelError):
        return exc
    import httpx2
    from google.genai import _interactions_errors as ierrors
    from google.genai import errors as gerrors

    if isinstance(exc, gerrors.APIError):
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
        body = exc.details if isinstance(exc.details, dict) else {"error": {"message": str(exc.details)}}
        if "error" not in body:
            body = {"error": body}
        return error_from_status(int(exc.code or 0), body, provider=provider, headers=headers)
    if isinstance(exc, ierrors.APITimeoutError):
        return ModelTimeoutError(str(exc) or "request timed out", provider=provider)
    if isinstance(exc, ierrors.APIStatusError):
        return error_from_status(
            int(exc.status_code or 0), exc.body, provider=provider, headers=exc.response.headers
        )
    if isinstance(exc, ierrors.APIConnectionError):
        return TransportError(str(exc) or "connection failed", provider=provider)
    if isinstance(exc, httpx2.TimeoutException | asyncio.TimeoutError | TimeoutError):
        return ModelTimeoutError(str(exc) or "request timed out", provider=provider)
    if isinstance(exc, httpx2.TransportError | ConnectionError | OSError):
        return TransportError(str(exc) or type(exc).__name__, provider=provider)
    name = type(exc).__module__
    if name.startswith(("aiohttp", "httpx")):  # a caller's own transport (aiohttp, httpx)
        if "Timeout" in type(exc).__name__:
            return ModelTimeoutError(str(exc) or "request timed out", provider=provider)
        return TransportError(str(exc) or type(exc).__name__, provider=provider)
    if isinstance(
        exc, json.JSONDecodeError | gerrors.UnknownApiResponseError | ierrors.APIResponseValidationError
    ):
        return malformed(exc, provider=provider, streamed=streamed)  # a 200 whose body/line is not JSON
    return ModelError(f"{type(exc).__name__}: {exc}", provider=provider)


def malformed(exc: BaseException, *, provider: str, streamed: bool = False) -> ModelError:
    """A body or stream line that is not what the API sends (a proxy's page, a cut or garbled
    line): retryable, like any server fault; the runner never replays what already reached the user.
    A line that is not JSON is the shared ``malformed_stream`` error of every adapter."""
    if streamed:
        if isinstance(exc, ValueError):
            return malformed_stream(provider, exc)
        return ModelStreamError(f"malformed Gemini stream: {exc!r}", provider=provider, status_code=200)
    return ServerError(
        f"Gemini answered 200 with a malformed body: {exc!r}", provider=provider, status_code=200
    )


# --------------------------------------------------------------------------- SSE


async def _byte_chunks(raw: Any) -> AsyncIterator[bytes]:
    if hasattr(raw, "aiter_bytes"):  # httpx.Response
        async for chunk in raw.aiter_bytes():
            yield chunk
    else:  # aiohttp.ClientResponse
        async for chunk in raw.content.iter_any():
            yield chunk


async def sse_json(raw: Any) -> AsyncIterator[Any]:
    """The JSON ``data`` of each server-sent event of a streamed HTTP response, ``event:`` lines allowed.

    Lines end at LF (or CRLF) only: U+2028 and friends may sit unescaped inside JSON strings.
    """
    buffer = b""
    data: list[bytes] = []
    try:
        async for chunk in _byte_chunks(raw):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                line = line.rstrip(b"\r")
                if not line:
                    if data:
                        yield json.loads(b"\n".join(data))
                        data = []
                elif line.startswith(b"data:"):
                    data.append(line[5:].lstrip(b" "))
                # "event:", "id:", "retry:" and comments carry nothing the JSON does not
        if buffer.strip().startswith(b"data:"):
            data.append(buffer.strip()[5:].lstrip(b" "))
        if data:
            yield json.loads(b"\n".join(data))
    finally:
        close = getattr(raw, "aclose", None)
        if close is not None:
            await close()
        else:
            raw.release()


# --------------------------------------------------------------------------- schemas

_DROP_KEYS = ("$schema", "discriminator", "examples", "exclusiveMinimum", "exclusiveMaximum", "$comment")


def gemini_schema(schema: Any) -> Any:
    """A JSON Schema Gemini's ``parametersJsonSchema``/``responseJsonSchema`` accept.

    Gemini takes most of JSON Schema ($ref/$defs, anyOf, additionalProperties, prefixItems, minimum…)
    but rejects ``$schema``, ``const``, ``discriminator``, ``examples`` and the exclusive bounds, and
    only takes string enums. Returns a new dict; the input is not changed.
    """
    if isinstance(schema, list):
        return [gemini_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP_KEYS:
            continue
        if key in ("properties", "$defs", "definitions", "patternProperties") and isinstance(value, dict):
            out[key] = {k: gemini_schema(v) for k, v in value.items()}
        elif key == "const":
            out["enum"] = [value if isinstance(value, str) else str(value)]
            if not isinstance(value, str):
                out["type"] = "string"
        elif key == "enum" and isinstance(value, list):
            if any(not isinstance(v, str) for v in value):
                out["type"] = "string"
            out["enum"] = [v if isinstance(v, str) else str(v) for v in value]
        elif isinstance(value, dict | list):
            out[key] = gemini_schema(value)
        else:
            out[key] = value
    if out.get("type") == "string" and "enum" in out:
        out["type"] = "string"
    return out


# --------------------------------------------------------------------------- ids


def wire_call_id(call_id: str) -> str | None:
    """The id to put on ``functionCall``/``functionResponse`` for a transcript call id.

    ``None`` for ids agentcore invented for id-less Gemini calls (they go back without an id and are
    paired by name and order); foreign ids Gemini may not accept are mapped deterministically.
    """
    if call_id.startswith(SYNTH_CALL_PREFIX):
        return None
    return safe_call_id(call_id)


def safe_call_id(call_id: str) -> str:
    """``call_id`` if Gemini accepts it, else a deterministic replacement."""
    if _SAFE_ID.match(call_id):
        return call_id
    return hashed_call_id(call_id, sha1=True)


def synth_call_id(response_id: str | None, index: int) -> str:
    """A stable id for the ``index``-th id-less function call of a response."""
    seed = (response_id or "").encode() + b":" + str(index).encode()
    return f"{SYNTH_CALL_PREFIX}{hashlib.sha1(seed).hexdigest()[:16]}_{index}"


def fingerprint(items: Any) -> str:
    """A cheap fingerprint of a transcript prefix: item ids and types (items are immutable)."""
    h = hashlib.sha1()
    for item in items:
        h.update(item.id.encode())
        h.update(item.type.encode())
    return h.hexdigest()
