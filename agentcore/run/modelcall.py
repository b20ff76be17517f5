"""Model calls for the runner: one ``chat`` span per attempt, the retry policy, held output, content capture."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Span, SpanKind
from tenacity import AsyncRetrying, RetryCallState, stop_never

from .. import tracing
from ..errors import ModelCallFailed, ModelError, ModelStreamError, RetryBudgetExhausted
from ..events import (
    HostedToolFinished,
    HostedToolStarted,
    ReasoningDelta,
    RetryScheduled,
    RunEvent,
    TextDelta,
)
from ..messages import HostedToolUse, Item
from ..model import (
    Model,
    ModelHostedToolEvent,
    ModelReasoningDelta,
    ModelRequest,
    ModelResponse,
    ModelResponseDone,
    ModelTextDelta,
)
from . import steps
from .checks import gate_passed
from .retry import RetryBudget, RetryPolicy, RetryWait, is_retryable

if TYPE_CHECKING:
    from ..agent import Agent


async def _recorded_respond(model: Model, request: ModelRequest) -> ModelResponse:
    """The call as a step whose record holds the response and the adapter's cache after it (server-side
    state: a replay leaves the cache as the call did, so the next live call continues from there)."""

    async def call() -> tuple[ModelResponse, dict[str, Any]]:
        response = await model.respond(request)
        return response, copy.deepcopy(request.cache)

    response, cache = await steps.run_step("model", f"{model.provider}:{model.model_name}", call)
    if cache is not request.cache:
        request.cache.clear()
        request.cache.update(cache)
    return response


class ModelCaller:
    """Calls models for one run.

    ``streamed`` says whether any of the current call's output already reached the user (then it is
    never replayed); ``held`` is the text of the last call that was held back (``hold_output`` or a
    pending input guardrail) for the loop to release once it is allowed to.
    """

    def __init__(
        self,
        *,
        policy: RetryPolicy,
        user_streaming: bool,
        hold_output: bool,
        conversation_id: str,
        transcript: Callable[[], list[Item]],
    ) -> None:
        self.policy = policy
        self.budget = RetryBudget(policy.run_budget)
        self.user_streaming = user_streaming
        self.hold_output = hold_output
        self.conversation_id = conversation_id
        self.transcript = transcript
        self.streamed = False
        self.held = ""
        self.held_parts: list[str] = []
        self.captured: dict[str, int] = {}

    def attributes(self, agent: Agent[Any], model: Model, request: ModelRequest) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": model.system,
            "gen_ai.request.model": model.model_name,
            "gen_ai.agent.name": agent.name,
            "gen_ai.conversation.id": self.conversation_id,
            "gen_ai.request.stream": self.user_streaming,
        }
        settings = request.settings
        for key, value in (
            ("temperature", settings.temperature),
            ("top_p", settings.top_p),
            ("max_tokens", settings.max_tokens),
        ):
            if value is not None:
                attrs[f"gen_ai.request.{key}"] = value
        if model.server_address:
            attrs["server.address"] = model.server_address
            if model.server_port:
                attrs["server.port"] = model.server_port
        return attrs

    async def _attempt(
        self,
        agent: Agent[Any],
        model: Model,
        request: ModelRequest,
        gate: list[asyncio.Task[Any]],
        attrs: dict[str, Any],
        number: int,
    ) -> AsyncIterator[RunEvent | ModelResponse]:
        """One model call inside its ``chat`` span. Text reaches the user at once unless it is held."""
        self.held_parts = []
        with tracing.span(
            f"chat {model.model_name}", {**attrs, "agentcore.retry.attempt": number - 1}, kind=SpanKind.CLIENT
        ) as s:
            capture = s.is_recording() and tracing.capture_content()
            if capture:
                self._capture_input(s, agent, request)
            response: ModelResponse | None = None
            if steps.current() is not None:  # a durable run: a step, replayed whole with the adapter's cache
                response = await _recorded_respond(model, request)
            elif not self.user_streaming:
                response = await model.respond(request)
            else:
                async for ev in model.stream(request):
                    if isinstance(ev, ModelTextDelta):
                        if self.hold_output or (gate and not gate_passed(gate)):
                            self.held_parts.append(ev.text)
                        else:
                            self.streamed = True
                            yield TextDelta(agent.name, ev.text)
                    elif isinstance(ev, ModelReasoningDelta):
                        if gate and not gate_passed(gate):
                            continue  # nothing of a reply to unchecked input is shown (the item still arrives)
                        self.streamed = True
                        yield ReasoningDelta(agent.name, ev.text)
                    elif isinstance(ev, ModelHostedToolEvent):
                        if ev.phase == "started":
                            yield HostedToolStarted(agent.name, ev.kind, ev.name, ev.call_id)
                        elif isinstance(ev.item, HostedToolUse):
                            yield HostedToolFinished(agent.name, ev.item)
                    elif isinstance(ev, ModelResponseDone):
                        response = ev.response
            if response is None:
                raise ModelStreamError("stream ended without a response", provider=model.provider)
            self._record_response(s, response)
            tracing.set_cost(s, model.model_name, response.usage)
            if capture:
                self.captured[agent.name] = len(request.items) + len(response.items)
        self.held = "".join(self.held_parts)
        yield response

    async def call(
        self, agent: Agent[Any], model: Model, request: ModelRequest, gate: list[asyncio.Task[Any]]
    ) -> AsyncIterator[RunEvent | ModelResponse]:
        """Call the model under the retry policy. The first attempt runs without tenacity's machinery
        (the common case costs nothing); after a retryable failure tenacity takes over: its first
        attempt re-raises that failure so that it computes the wait (backoff or retry-after) and
        bounds the attempts, then each further attempt is a real call with its own span."""
        policy = agent.retry or self.policy
        attrs = self.attributes(agent, model, request)
        self.streamed = False
        try:
            async for ev in self._attempt(agent, model, request, gate, attrs, 1):
                yield ev
            return
        except ModelError as exc:
            if not exc.retryable or self.streamed or policy.max_attempts <= 1:
                raise self.failure(agent, exc) from exc
            first_error = exc

        def decide(rs: RetryCallState) -> bool:
            if rs.outcome is None or not rs.outcome.failed:
                return False
            exc = rs.outcome.exception()
            if (
                exc is None
                or not is_retryable(exc)
                or self.streamed
                or rs.attempt_number >= policy.max_attempts
            ):
                return False
            return self.budget.take()

        last: dict[str, Any] = {}

        def before_sleep(rs: RetryCallState) -> None:
            last["delay"] = rs.upcoming_sleep
            last["error"] = repr(rs.outcome.exception()) if rs.outcome else ""

        retrying = AsyncRetrying(
            retry=decide,
            wait=RetryWait(policy),
            stop=stop_never,
            reraise=True,
            before_sleep=before_sleep,
            sleep=asyncio.sleep,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    if number == 1:
                        raise first_error
                    yield RetryScheduled(
                        agent.name, number, float(last.get("delay", 0.0)), str(last.get("error"))
                    )
                    async for ev in self._attempt(agent, model, request, gate, attrs, number):
                        yield ev
        except ModelError as exc:
            raise self.failure(agent, exc) from exc

    def failure(self, agent: Agent[Any], exc: ModelError) -> Exception:
        if exc.retryable and not self.streamed:
            return RetryBudgetExhausted(exc, items=self.transcript(), agent_name=agent.name)
        return ModelCallFailed(exc, items=self.transcript(), agent_name=agent.name)

    def _capture_input(self, s: Span, agent: Agent[Any], request: ModelRequest) -> None:
        """Record the prompt. In delta mode (the local trace store) only the items the previous
        ``chat`` span of this agent did not already show, so a long run stores its transcript once."""
        if request.instructions:
            s.set_attribute("gen_ai.system_instructions", tracing.content(request.instructions))
        items = list(request.items)
        if tracing.content_delta():
            start = self.captured.get(agent.name, 0)
            start = start if start <= len(items) else 0
            s.set_attribute("agentcore.input.messages.from", start)
            items = items[start:]
        s.set_attribute("gen_ai.input.messages", tracing.content(tracing.messages_for_span(items)))

    def _record_response(self, s: Span, response: ModelResponse) -> None:
        if not s.is_recording():
            return
        if response.response_id:
            s.set_attribute("gen_ai.response.id", response.response_id)
        if response.model:
            s.set_attribute("gen_ai.response.model", response.model)
        if response.finish_reason:
            s.set_attribute("gen_ai.response.finish_reasons", [response.finish_reason])
        tracing.set_usage(s, response.usage)
        if tracing.capture_content():
            s.set_attribute(
                "gen_ai.output.messages", tracing.content(tracing.messages_for_span(response.items))
            )
