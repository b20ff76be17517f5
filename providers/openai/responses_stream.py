"""Streaming and errors of the OpenAI Responses adapter: SSE events to agentcore stream events (hosted
tool activity included), a finished response replayed as events, and SDK errors to agentcore errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
from openai import AsyncStream

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
from agentcore.messages import AssistantMessage, HostedToolUse, Reasoning, ToolCall
from agentcore.model import (
    ModelHostedToolEvent,
    ModelReasoningDelta,
    ModelResponse,
    ModelResponseDone,
    ModelStreamEvent,
    ModelTextDelta,
    ModelToolCallDelta,
)

from .._common import header_retry_after, malformed_stream
from .responses_hosted import HOSTED_KINDS, hosted_item
from .responses_wire import PROVIDER


def replay(response: ModelResponse) -> list[ModelStreamEvent]:
    """A finished response as stream events (a polled background response, when streaming)."""
    out: list[ModelStreamEvent] = []
    index = 0
    for item in response.items:
        if isinstance(item, Reasoning) and item.summary:
            out.append(ModelReasoningDelta(item.summary))
        elif isinstance(item, AssistantMessage) and item.text:
            out.append(ModelTextDelta(item.text))
        elif isinstance(item, HostedToolUse):
            out.append(ModelHostedToolEvent("started", item.kind, item.name, item.call_id))
            out.append(ModelHostedToolEvent("finished", item.kind, item.name, item.call_id, item))
        elif isinstance(item, ToolCall):
            out.append(ModelToolCallDelta(index=index, call_id=item.call_id, name=item.name))
            out.append(ModelToolCallDelta(index=index, arguments=item.arguments))
            index += 1
    out.append(ModelResponseDone(response))
    return out


# --------------------------------------------------------------------------- streaming


async def iterate(events: AsyncStream[object]) -> AsyncIterator[dict[str, Any]]:
    """SSE events as dicts. A top-level ``error`` event becomes :class:`ModelStreamError`, and so does a
    line that is not JSON."""
    try:
        async for event in events:
            if isinstance(event, dict):
                yield event
    except ValueError as exc:  # json.JSONDecodeError from the SDK's SSE decoder
        raise malformed_stream(PROVIDER, exc) from None
    except openai.APIStatusError as exc:
        raise map_error(exc) from exc
    except openai.APIConnectionError as exc:
        raise map_error(exc) from exc
    except openai.APIError as exc:  # the SDK raises this for an ``error`` event carrying ``error{...}``
        yield {"type": "error", "error": exc.body if isinstance(exc.body, dict) else {"message": exc.message}}


class StreamState:
    """Turns Responses SSE events into agentcore stream events and keeps the final response."""

    def __init__(self, model: str = "") -> None:
        self.model = model
        self.final: dict[str, Any] | None = None
        self.error: ModelError | None = None
        self.yielded = False
        self.lost_state = False
        self._tool_index: dict[int, int] = {}
        self._done: dict[int, Any] = {}
        self._started: set[Any] = set()

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
            if _server_ran(item):
                hosted_kind, name = HOSTED_KINDS[item["type"]]
                cid = item.get("call_id") or item.get("id")
                if cid in self._started:
                    return []  # a hosted shell call's output: the call already started
                self._started.add(cid)
                self.yielded = True
                return [ModelHostedToolEvent("started", hosted_kind, name, cid)]
            if item.get("type") == "function_call":
                index = len(self._tool_index)
                self._tool_index[int(event.get("output_index", index))] = index
                self.yielded = True
                return [ModelToolCallDelta(index=index, call_id=item.get("call_id"), name=item.get("name"))]
            return []
        if kind == "response.output_item.done":
            index = int(event.get("output_index", len(self._done)))
            item = event.get("item")
            self._done[index] = item
            return self._finished(index, item) if isinstance(item, dict) else []
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

    def _finished(self, index: int, item: dict[str, Any]) -> list[ModelStreamEvent]:
        """The ``finished`` event of a server-run item; a hosted shell call finishes with its output."""
        if not _server_ran(item):
            return []
        wire = item["type"]
        if wire == "shell_call":
            return []  # finished by the shell_call_output that follows
        if wire == "shell_call_output":
            call = self._done.get(index - 1)
            if isinstance(call, dict) and call.get("type") == "shell_call":
                done = hosted_item(call, self.model, item)
            else:
                done = hosted_item(item, self.model)
        else:
            done = hosted_item(item, self.model)
        return [ModelHostedToolEvent("finished", done.kind, done.name, done.call_id, done)]


def _server_ran(item: dict[str, Any]) -> bool:
    """A server-run item (a ``shell_call`` only when it names a container environment)."""
    wire = item.get("type")
    if wire not in HOSTED_KINDS:
        return False
    if wire != "shell_call":
        return True
    env = item.get("environment")
    return isinstance(env, dict) and env.get("type") not in (None, "local")


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
