"""Anthropic Messages API adapter (registry name ``anthropic``).

Transport is the official ``anthropic`` SDK client (auth, base URL, headers, pooling, typed errors,
SSE decoding) with its retries off; request bodies are wire JSON this module built itself from bytes
cached per transcript item (see ``anthropic_encode``), passed to the client's low-level ``post`` as
raw ``content``, and responses are parsed with plain ``json``.

What it takes care of:

* tool_use/tool_result pairing: every result of a turn in the next user message, results first;
  consecutive same-role items merged into one message; ``is_error`` on failed tools.
* ``thinking``/``redacted_thinking`` blocks echoed unchanged, in order, with their signatures, only to
  the same model family (``claude-x-1-20260101`` and ``claude-x-1`` are one family); history is
  append-only (earlier messages are re-sent byte for byte). Each block remembers a digest of the
  conversation it was produced after (system, tools, every earlier message as sent); when that changed
  (handoff filter, compaction, other tools) a model that checks prefixes (``items.PREFIX_CHECKED``)
  would answer 400 "bound to a different conversation", so there the block and every later one are
  dropped instead, and the trace says so; other models check the block's text only and keep it.
* a tool loop started by another vendor that is still in flight pauses extended thinking for that call
  (the API requires the in-flight assistant turn to start with a thinking block).
* automatic ``cache_control`` breakpoints on the stable prefix (last tool, system, previous user turn,
  newest message), so long runs pay cached-input prices.
* API version 2026-10-21 rules: ``temperature``/``top_p``/``top_k`` are never sent (noted in the trace);
  ``max_tokens`` is always sent; structured output uses native ``output_config.format``.
* hosted tools (``ModelRequest.hosted_tools``) as server tools with their betas, ``mcp_servers`` and the
  reused ``container`` (:mod:`.hosted`); their blocks as ``HostedToolUse`` items (:mod:`.server_blocks`);
  a turn the API paused (``pause_turn``) continued into one response (:mod:`.turns`).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import anthropic
import httpx2
from anthropic import AsyncAnthropic, AsyncStream

from agentcore import errors
from agentcore.model import Model, ModelRequest, ModelResponse, ModelResponseDone, ModelStreamEvent

from .._common import header_retry_after, json_body, malformed_stream, server_address
from . import computer, tokens
from .decode import BlockDecoder, StreamAssembler
from .encode import RequestEncoder
from .hosted import beta_header, request_betas
from .native import declared
from .turns import Turn

__all__ = ["AnthropicModel"]

DEFAULT_MAX_TOKENS = 8192
_CONTEXT_MARKERS = ("prompt is too long", "context window", "context_length", "too many tokens")


class AnthropicModel(Model):
    """A Claude model over the Anthropic Messages API.

    Options: ``api_key``, ``base_url`` (the API root, e.g. ``https://api.anthropic.com``), ``client``
    (a pre-built ``AsyncAnthropic``), ``timeout`` (seconds), ``max_tokens`` (default 8192, used when
    ``ModelSettings.max_tokens`` is unset), ``thinking`` (``None`` = model default, an int budget,
    ``"adaptive"``, ``"disabled"`` or a raw dict), ``prompt_caching`` (automatic ``cache_control``
    breakpoints, default on), ``default_headers`` (e.g. ``anthropic-beta``),
    ``text_editor_max_characters`` (the ``max_characters`` of the native text editor tool: what one
    ``view`` shows at most; see :mod:`.native`).
    """

    provider = "anthropic"
    system = "anthropic"

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        client: AsyncAnthropic | None = None,
        timeout: float | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        thinking: int | str | dict[str, Any] | None = None,
        prompt_caching: bool = True,
        default_headers: dict[str, str] | None = None,
        text_editor_max_characters: int | None = None,
    ) -> None:
        self.model_name = model_name
        if client is None:
            kwargs: dict[str, Any] = {"max_retries": 0}
            if api_key is not None:
                kwargs["api_key"] = api_key
            if base_url is not None:
                kwargs["base_url"] = base_url
            if timeout is not None:
                kwargs["timeout"] = timeout
            if default_headers:
                kwargs["default_headers"] = default_headers
            try:
                client = AsyncAnthropic(**kwargs)
            except anthropic.CredentialsError as exc:  # a configured profile that is missing or broken
                raise errors.MissingCredentialsError(self.provider, "ANTHROPIC_API_KEY", str(exc)) from exc
        elif client.max_retries:
            client = client.with_options(max_retries=0)  # the core's retry policy owns retries
        if not _has_credentials(client):
            raise errors.MissingCredentialsError(
                self.provider, "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN or an anthropic profile also work"
            )
        self.client = client
        self._timeout = timeout
        self.server_address, self.server_port = server_address(str(client.base_url))
        version = str(client.default_headers.get("anthropic-version", ""))
        # sampling parameters only exist for the pre-2026-10-21 API versions
        sampling = bool(version) and version < "2026-10-21"
        self.encoder = RequestEncoder(
            model_name,
            max_tokens=max_tokens,
            thinking=_thinking_param(thinking),
            caching=prompt_caching,
            sampling=sampling,
            max_characters=text_editor_max_characters,
        )

    # ------------------------------------------------------------------ calls

    async def respond(self, request: ModelRequest) -> ModelResponse:
        turn = Turn(request, lambda bound: self._decoder(request, bound))
        going = True
        while going:  # more than once only when the API paused the turn (``pause_turn``)
            body, bound = self.encoder.body(turn.request, stream=False)
            try:
                response = await self.client.post(
                    "/v1/messages", cast_to=httpx2.Response, content=body, options=self._options(request)
                )
            except anthropic.APIError as exc:
                raise self._error(exc) from exc
            message = json_body(response.content, self.provider)  # not JSON: a retryable ServerError
            try:
                going = turn.add(message, bound)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise self._malformed(response.content, exc) from exc
        try:
            return turn.response()
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise self._malformed(response.content, exc) from exc

    def _malformed(self, content: bytes, exc: Exception) -> errors.ServerError:
        # a proxy's error page, a cut body: nothing reached the user, so it is worth a retry
        return errors.ServerError(
            f"Anthropic answered 200 with a malformed message: {exc}",
            provider=self.provider,
            status_code=200,
            body=content[:2000].decode("utf-8", "replace"),
        )

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        turn = Turn(request, lambda bound: self._decoder(request, bound))
        going, uses = True, dict[str, dict[str, Any]]()
        while going:  # more than once only when the API paused the turn (``pause_turn``)
            body, bound = self.encoder.body(turn.request, stream=True)
            assembler = StreamAssembler(self.model_name, uses)
            async for delta in self._stream_piece(request, body, assembler):
                yield delta
            try:
                message = assembler.final()
                going = turn.add(message, bound, assembler.raw_inputs, assembler.hosted)
                if not going:
                    response = turn.response()
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                raise errors.ModelStreamError(
                    f"malformed Anthropic stream: {exc!r}", provider=self.provider, status_code=200
                ) from exc
        yield ModelResponseDone(response)

    async def _stream_piece(
        self, request: ModelRequest, body: bytes, assembler: StreamAssembler
    ) -> AsyncIterator[ModelStreamEvent]:
        """One streamed call: its deltas; the whole message is left in ``assembler``."""
        try:
            events = await self.client.post(
                "/v1/messages",
                cast_to=object,
                content=body,
                options=self._options(request),
                stream=True,
                stream_cls=AsyncStream[object],
            )
        except anthropic.APIError as exc:
            raise self._error(exc) from exc
        try:
            async for event in events:
                if isinstance(event, dict):
                    for delta in assembler.feed(event):
                        yield delta
        except anthropic.APIStatusError as exc:
            raise self._stream_error(exc) from exc
        except anthropic.APIError as exc:
            raise self._error(exc) from exc
        except json.JSONDecodeError as exc:  # a line that is not JSON (a proxy cut it)
            raise malformed_stream(self.provider, exc) from exc
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
            # an event that is not what the API sends: retryable while nothing reached the user
            # (the runner never replays a stream the user already saw)
            raise errors.ModelStreamError(
                f"malformed Anthropic stream: {exc!r}", provider=self.provider, status_code=200
            ) from exc
        finally:
            await events.close()
        if not assembler.stopped or not assembler.started:
            raise errors.ModelStreamError(
                "Anthropic stream ended before message_stop", provider=self.provider, status_code=200
            )

    def _decoder(self, request: ModelRequest, bound: str) -> BlockDecoder:
        native = declared(self.model_name, request)  # bash / text editor calls run in the sandbox
        if computer.declared(self.model_name, request):  # computer use: the neutral computer tool runs it
            native = {**native, "computer": "computer"}
        return BlockDecoder(self.model_name, bound, native, self.encoder.max_characters)

    async def count_tokens(self, request: ModelRequest) -> int | None:
        return await tokens.count_messages(self, request)  # POST /v1/messages/count_tokens

    def native_context(self, threshold: int) -> dict[str, Any] | None:
        # compaction or context editing; its beta goes with it (tokens.with_context_beta in _options)
        return tokens.context_management(self.model_name, threshold)

    async def aclose(self) -> None:
        await self.client.close()

    def _options(self, request: ModelRequest | None = None) -> Any:
        options: dict[str, Any] = {"max_retries": 0}
        if self._timeout is not None:
            options["timeout"] = self._timeout
        if request is not None:  # hosted tools' betas (MCP's for MCP blocks sent back), with the client's own
            default = self.client.default_headers.get("anthropic-beta")
            beta = beta_header(request_betas(request, self.model_name), default)  # type: ignore[arg-type]
            if beta:
                options["headers"] = {"anthropic-beta": beta}
        desktop = computer.beta(self.model_name, request) if request is not None else None
        if desktop:  # the computer tool's beta, with the others
            have = options.get("headers", {}).get("anthropic-beta") or self.client.default_headers.get(
                "anthropic-beta"
            )
            values = [v for v in str(have or "").split(",") if v]
            options["headers"] = {
                "anthropic-beta": ",".join([*values, desktop] if desktop not in values else values)
            }
        extra = request.settings.extra if request is not None else None
        if extra and "context_management" in extra:
            default = self.client.default_headers.get("anthropic-beta")
            tokens.with_context_beta(options, default, extra["context_management"])
        elif request is not None and tokens.holds_compaction(request.items, self.model_name):
            # a compaction block to send back is a beta block: its beta goes with it
            tokens.with_context_beta(
                options, self.client.default_headers.get("anthropic-beta"), tokens.COMPACTING
            )
        return options

    # ------------------------------------------------------------------ errors

    def _stream_error(self, exc: anthropic.APIStatusError) -> errors.ModelError:
        if exc.status_code >= 400:
            return self._error(exc)
        kind = exc.type or "error"
        message = exc.api_message or str(exc)
        return errors.ModelStreamError(
            f"Anthropic stream broke: {kind}: {message}",
            provider=self.provider,
            status_code=None,
            body=exc.body,
        )

    def _error(self, exc: anthropic.APIError) -> errors.ModelError:
        if isinstance(exc, anthropic.APITimeoutError):
            return errors.ModelTimeoutError(f"Anthropic request timed out: {exc}", provider=self.provider)
        if isinstance(exc, anthropic.APIConnectionError):
            return errors.TransportError(f"cannot reach Anthropic: {exc}", provider=self.provider)
        if not isinstance(exc, anthropic.APIStatusError):
            return errors.InvalidRequestError(str(exc), provider=self.provider, body=exc.body)
        status = exc.status_code
        kind = exc.type or ""
        text = f"Anthropic {status} {kind}: {exc.api_message or exc.message}"
        common: dict[str, Any] = {"provider": self.provider, "status_code": status, "body": exc.body}
        if status == 429 or kind == "rate_limit_error":
            return errors.RateLimitError(text, retry_after=retry_after(exc.response.headers), **common)
        if status in (529, 503) or kind == "overloaded_error":
            return errors.OverloadedError(text, retry_after=retry_after(exc.response.headers), **common)
        if status in (408, 504) or kind == "timeout_error":
            return errors.ModelTimeoutError(text, **common)
        if status >= 500 or status == 409:
            return errors.ServerError(text, retry_after=retry_after(exc.response.headers), **common)
        if status in (401, 403):
            return errors.AuthenticationError(text, **common)
        lowered = text.lower()
        if status == 413 or (status == 400 and any(m in lowered for m in _CONTEXT_MARKERS)):
            return errors.ContextTooLongError(text, **common)
        return errors.InvalidRequestError(text, **common)


def _has_credentials(client: Any) -> bool:
    """Whether the client can authenticate: a key or token (argument or environment), SDK credentials
    (a profile, workload identity), or an auth header of the caller's own."""
    if getattr(client, "api_key", None) or getattr(client, "auth_token", None):
        return True
    if getattr(client, "credentials", None) is not None:
        return True
    headers = {k.lower() for k in getattr(client, "_custom_headers", None) or {}}
    return bool(headers & {"x-api-key", "authorization"})


def retry_after(headers: Any) -> float | None:
    """Seconds to wait: ``retry-after-ms``, ``retry-after`` (seconds or HTTP date), else the latest
    ``anthropic-ratelimit-*-reset`` of a limit whose remaining count is 0."""
    seconds = header_retry_after(headers)
    if seconds is not None:
        return seconds
    waits = []
    for kind in ("requests", "tokens", "input-tokens", "output-tokens"):
        if headers.get(f"anthropic-ratelimit-{kind}-remaining") == "0":
            reset = headers.get(f"anthropic-ratelimit-{kind}-reset")
            try:
                when = datetime.fromisoformat(reset.replace("Z", "+00:00")) if reset else None
            except ValueError:
                when = None
            if when is not None:
                waits.append(max(when.timestamp() - time.time(), 0.0))
    return max(waits) if waits else None


def _thinking_param(value: int | str | dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, bool):
        raise errors.UserError("thinking= takes a token budget, 'adaptive', 'disabled' or a dict")
    if isinstance(value, int):
        return {"type": "enabled", "budget_tokens": value}
    if value in ("adaptive", "disabled"):
        return {"type": value}
    raise errors.UserError(f"thinking={value!r}: expected a token budget, 'adaptive', 'disabled' or a dict")
