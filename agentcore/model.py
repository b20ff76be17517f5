"""The model protocol: what the runner asks of a provider adapter, and what it gets back.

An adapter implements :meth:`Model.respond` or :meth:`Model.stream` (or both) over the normalized
protocol. The runner hands it a :class:`ModelRequest` holding the whole transcript plus a mutable
``cache`` dict that belongs to this adapter for this agent and conversation: that is where server-side
state (a response id and the watermark it covers) lives. The cache must stay JSON-serializable; the
runner persists it with the session.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .messages import Item, Usage

ToolChoice = Literal["auto", "required", "none"] | str
"""``auto``, ``required``, ``none`` or the name of one tool the model must call."""


class ModelSettings(BaseModel):
    """Sampling and behaviour settings. ``None`` means: the vendor's default (the field is not sent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    reasoning_effort: Literal["minimal", "low", "medium", "high", "xhigh"] | None = None
    reasoning_summary: bool | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    background: bool | None = None
    """Run each request as a background job and poll until it ends (OpenAI Responses ``background``:
    long reasoning runs that outlast a connection). Adapters without such a mode ignore it."""
    poll_interval: float | None = None
    """Seconds before the first poll of a background response (each wait then grows 1.5x, capped by
    the adapter's ``max_poll_interval``); ``None``: the adapter's default."""
    extra: dict[str, Any] | None = None
    """Vendor-specific body fields, merged last into the request."""

    def merged(self, other: ModelSettings | None) -> ModelSettings:
        """Fields set in ``other`` override ours."""
        if other is None:
            return self
        data = self.model_dump(exclude_none=True)
        data.update(other.model_dump(exclude_none=True))
        return ModelSettings(**data)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What the model sees of a tool."""

    name: str
    description: str
    parameters: dict[str, Any]
    strict: bool = False


@dataclass(frozen=True, slots=True)
class OutputSchema:
    """A structured final output the model must produce (JSON matching ``schema``)."""

    name: str
    schema: dict[str, Any]
    strict: bool = True


@dataclass(slots=True)
class ModelRequest:
    instructions: str | None
    items: Sequence[Item]
    tools: Sequence[ToolSpec] = ()
    output_schema: OutputSchema | None = None
    settings: ModelSettings = field(default_factory=ModelSettings)
    cache: dict[str, Any] = field(default_factory=dict)
    """Adapter-owned, JSON-serializable state for this agent+conversation (server-side ids, watermarks)."""
    conversation_id: str | None = None
    agent_name: str | None = None
    native_tools: tuple[str, ...] = ()
    """Native client tools the agent's sandbox serves (``shell``, ``apply_patch``, ``bash``,
    ``text_editor``): an adapter whose model was trained on some of them declares those in the vendor's form
    instead of the function tools doing the same work (the run executes either in the sandbox). Empty with
    ``Agent(native_tools="off")``."""
    hosted_tools: tuple[Any, ...] = ()
    """The agent's hosted tool declarations (:mod:`agentcore.hosted`); an adapter that cannot serve one
    raises :class:`~agentcore.hosted.UnsupportedHostedToolError`."""


@dataclass(slots=True)
class ModelResponse:
    items: list[Item]
    """Assistant text, tool calls and reasoning, in the order the model produced them."""
    usage: Usage = field(default_factory=Usage)
    response_id: str | None = None
    finish_reason: str | None = None
    """The vendor's reason, normalized where it maps (``stop``, ``length``, ``tool_calls``, …). An adapter
    that kept an item it does not understand, and got nothing else, says ``unsupported_item:<type>``: the
    run then raises :class:`~agentcore.errors.UnsupportedResponseError` instead of an empty answer."""
    model: str | None = None

    @property
    def text(self) -> str:
        from .messages import AssistantMessage

        return "".join(i.text for i in self.items if isinstance(i, AssistantMessage))


# --------------------------------------------------------------------------- stream events


@dataclass(frozen=True, slots=True)
class ModelTextDelta:
    text: str
    kind: Literal["model_text_delta"] = "model_text_delta"


@dataclass(frozen=True, slots=True)
class ModelReasoningDelta:
    text: str
    kind: Literal["model_reasoning_delta"] = "model_reasoning_delta"


@dataclass(frozen=True, slots=True)
class ModelToolCallDelta:
    """A tool call is being written: ``name`` on the first delta, then argument fragments."""

    index: int
    call_id: str | None = None
    name: str | None = None
    arguments: str = ""
    kind: Literal["model_tool_call_delta"] = "model_tool_call_delta"


@dataclass(frozen=True, slots=True)
class ModelHostedToolEvent:
    """The vendor started (``phase="started"``: ``name`` known, maybe ``input``) or finished
    (``phase="finished"``: ``item`` is the whole :class:`~agentcore.messages.HostedToolUse`) a hosted
    tool. ``call_id`` ties the two together when the vendor gives one."""

    phase: Literal["started", "finished"]
    kind: str
    name: str
    call_id: str | None = None
    item: Any = None
    event: Literal["model_hosted_tool"] = "model_hosted_tool"


@dataclass(frozen=True, slots=True)
class ModelResponseDone:
    response: ModelResponse
    kind: Literal["model_response_done"] = "model_response_done"


ModelStreamEvent = (
    ModelTextDelta | ModelReasoningDelta | ModelToolCallDelta | ModelHostedToolEvent | ModelResponseDone
)


class Model(abc.ABC):  # noqa: B024 - override respond() or stream(), either one
    """A provider adapter bound to one model. Override ``respond``, ``stream`` or both.

    ``provider`` is agentcore's registry name (``openai``, ``anthropic``…); ``system`` is the value of
    the ``gen_ai.provider.name`` span attribute.
    """

    provider: str = "unknown"
    system: str = "unknown"
    model_name: str = ""
    server_address: str | None = None
    server_port: int | None = None
    context_window: int | None = None
    """Tokens the model reads at most; ``None``: from :data:`agentcore.contextwin.WINDOWS` by name."""

    async def respond(self, request: ModelRequest) -> ModelResponse:
        if type(self).stream is Model.stream:
            raise NotImplementedError(f"{type(self).__name__} implements neither respond() nor stream()")
        done: ModelResponse | None = None
        async for event in self.stream(request):
            if isinstance(event, ModelResponseDone):
                done = event.response
        if done is None:
            from .errors import ModelStreamError

            raise ModelStreamError("stream ended without a final response", provider=self.provider)
        return done

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        if type(self).respond is Model.respond:
            raise NotImplementedError(f"{type(self).__name__} implements neither respond() nor stream()")
        yield ModelResponseDone(await self.respond(request))

    async def count_tokens(self, request: ModelRequest) -> int | None:
        """The vendor's count of the input tokens ``request`` would send (its counting endpoint), or
        ``None`` when the vendor has none; context policies then use the local estimate."""
        return None

    async def native_compact(self, request: ModelRequest) -> tuple[list[Item], Usage] | None:
        """The vendor's stand-alone compaction of ``request.items`` (items that replace them, and the
        call's usage), or ``None`` when the vendor has none; ``ContextPolicy(native=True)`` then writes
        its own summary."""
        return None

    def native_context(self, threshold: int) -> dict[str, Any] | None:
        """Body fields that turn on the vendor's own context management at about ``threshold`` input
        tokens (``ContextPolicy(native=True)``), or ``None`` when the vendor has none."""
        return None

    @property
    def cache_key(self) -> str:
        """Key of this model's entry in a conversation's adapter caches."""
        return f"{self.provider}:{self.model_name}"

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections. Optional."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider}:{self.model_name}>"
