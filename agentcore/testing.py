"""Models for testing agents without a network.

``ScriptedModel`` answers from a list of steps; ``FunctionModel`` lets a function decide each answer.
Both record every :class:`~agentcore.model.ModelRequest` they receive in ``requests``::

    model = ScriptedModel([
        tool_call("get_weather", {"city": "Paris"}),
        "It is sunny in Paris.",
    ])
    result = Runner.run_sync(Agent(name="w", model=model, tools=[get_weather]), "Weather in Paris?")
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import UserError
from .messages import (
    AssistantMessage,
    Item,
    ProviderState,
    Reasoning,
    ToolCall,
    Usage,
    new_id,
)
from .model import (
    Model,
    ModelReasoningDelta,
    ModelRequest,
    ModelResponse,
    ModelResponseDone,
    ModelStreamEvent,
    ModelTextDelta,
    ModelToolCallDelta,
)

__all__ = ["FunctionModel", "ScriptExhausted", "ScriptedModel", "Step", "fail", "reply", "text", "tool_call"]


class ScriptExhausted(UserError):
    """The scripted model was called more times than it has steps."""


@dataclass
class Step:
    """One scripted model answer: optional reasoning, text and tool calls, or an error to raise."""

    text: str | None = None
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    reasoning: str | None = None
    error: BaseException | None = None
    usage: Usage | None = None


def text(value: str) -> Step:
    return Step(text=value)


def tool_call(name: str, arguments: dict[str, Any] | str | None = None, *, text: str | None = None) -> Step:
    """A step that calls one tool. ``arguments`` may be a raw (even invalid) JSON string."""
    return Step(text=text, tool_calls=[(name, {} if arguments is None else arguments)])


def reply(
    text: str | None = None,
    *calls: tuple[str, dict[str, Any] | str],
    reasoning: str | None = None,
) -> Step:
    """A step with any mix of reasoning, text and (several, parallel) tool calls."""
    return Step(text=text, tool_calls=list(calls), reasoning=reasoning)


def fail(error: BaseException) -> Step:
    """A step that raises ``error`` (e.g. ``RateLimitError("slow down", retry_after=0)``)."""
    return Step(error=error)


def _estimate_tokens(request: ModelRequest) -> int:
    """A deterministic, O(1) stand-in for input token counting."""
    return 10 + 20 * len(request.items)


def step_to_response(
    step: Step, request: ModelRequest, *, provider: str, model: str, turn: int
) -> ModelResponse:
    items: list[Item] = []
    if step.reasoning is not None:
        items.append(
            Reasoning(
                summary=step.reasoning,
                state=(
                    ProviderState(provider=provider, model=model, kind="reasoning", payload={"turn": turn}),
                ),
            )
        )
    if step.text:
        items.append(AssistantMessage(text=step.text))
    for i, (name, args) in enumerate(step.tool_calls):
        raw = args if isinstance(args, str) else json.dumps(args)
        items.append(ToolCall(call_id=f"call_{turn}_{i}_{new_id()[:6]}", name=name, arguments=raw))
    usage = step.usage or Usage(
        requests=1, input_tokens=_estimate_tokens(request), output_tokens=max(1, len(step.text or "") // 4)
    )
    finish = "tool_calls" if step.tool_calls else "stop"
    return ModelResponse(
        items=items, usage=usage, response_id=f"resp_{turn}", finish_reason=finish, model=model
    )


async def stream_response(response: ModelResponse) -> AsyncIterator[ModelStreamEvent]:
    """Emit a finished response as stream events (text in word-sized chunks)."""
    for item in response.items:
        if isinstance(item, Reasoning) and item.summary:
            yield ModelReasoningDelta(item.summary)
        elif isinstance(item, AssistantMessage):
            words = item.text.split(" ")
            for i, word in enumerate(words):
                yield ModelTextDelta(word if i == len(words) - 1 else word + " ")
    index = 0
    for item in response.items:
        if isinstance(item, ToolCall):
            yield ModelToolCallDelta(
                index=index, call_id=item.call_id, name=item.name, arguments=item.arguments
            )
            index += 1
    yield ModelResponseDone(response)


class ScriptedModel(Model):
    """A model that answers from a script. A plain string in the list is a text answer."""

    provider = "scripted"
    system = "agentcore.scripted"

    def __init__(
        self, steps: Sequence[Step | str] | str = (), *, model_name: str = "scripted", **_: Any
    ) -> None:
        self.model_name = model_name
        self.steps: list[Step] = []
        self.requests: list[ModelRequest] = []
        self.add(*([steps] if isinstance(steps, str) else steps))

    def add(self, *steps: Step | str) -> None:
        self.steps.extend(Step(text=s) if isinstance(s, str) else s for s in steps)

    @property
    def remaining(self) -> int:
        return len(self.steps)

    async def respond(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        if not self.steps:
            raise ScriptExhausted(
                f"ScriptedModel {self.model_name!r} ran out of steps after {len(self.requests) - 1} calls"
            )
        step = self.steps.pop(0)
        if step.error is not None:
            raise step.error
        return step_to_response(
            step, request, provider=self.provider, model=self.model_name, turn=len(self.requests)
        )

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        response = await self.respond(request)
        async for event in stream_response(response):
            yield event


ModelFunction = Callable[[ModelRequest], "Step | str | ModelResponse | Awaitable[Step | str | ModelResponse]"]


class FunctionModel(Model):
    """A model whose every answer comes from ``fn(request)``: a string, a :class:`Step` or a ModelResponse."""

    provider = "function"
    system = "agentcore.function"

    def __init__(self, fn: ModelFunction, *, model_name: str = "function") -> None:
        self.fn = fn
        self.model_name = model_name
        self.requests: list[ModelRequest] = []

    async def respond(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        value = self.fn(request)
        if inspect.isawaitable(value):
            value = await value
        if isinstance(value, ModelResponse):
            return value
        step = Step(text=value) if isinstance(value, str) else value
        if step.error is not None:
            raise step.error
        return step_to_response(
            step, request, provider=self.provider, model=self.model_name, turn=len(self.requests)
        )

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        response = await self.respond(request)
        async for event in stream_response(response):
            yield event


def scripted_model(
    model_name: str = "scripted", *, steps: Sequence[Step | str] = (), **_: Any
) -> ScriptedModel:
    """Registry factory: ``scripted:<name>`` builds an empty ScriptedModel (add steps with ``add``)."""
    return ScriptedModel(steps, model_name=model_name)
