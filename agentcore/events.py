"""Typed events of a streamed run, and the result of a finished one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from .messages import HostedToolUse, Item, ToolCall, ToolResult, Usage

OutputT = TypeVar("OutputT")


@dataclass(frozen=True, slots=True)
class AgentStarted:
    agent: str
    kind: Literal["agent_started"] = "agent_started"


@dataclass(frozen=True, slots=True)
class TextDelta:
    agent: str
    delta: str
    kind: Literal["text_delta"] = "text_delta"


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    agent: str
    delta: str
    kind: Literal["reasoning_delta"] = "reasoning_delta"


@dataclass(frozen=True, slots=True)
class ItemAdded:
    """An item joined the transcript (assistant text, reasoning, tool call, result, handoff)."""

    item: Item
    kind: Literal["item_added"] = "item_added"


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    agent: str
    call: ToolCall
    kind: Literal["tool_call_started"] = "tool_call_started"


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    agent: str
    call: ToolCall
    result: ToolResult
    kind: Literal["tool_call_finished"] = "tool_call_finished"


@dataclass(frozen=True, slots=True)
class ToolOutputDelta:
    """Live output of a running tool (the sandbox shell streams its output here)."""

    agent: str
    call_id: str
    delta: str
    kind: Literal["tool_output_delta"] = "tool_output_delta"


@dataclass(frozen=True, slots=True)
class ToolProgress:
    """A running tool reported progress (an MCP server's ``notifications/progress``): ``progress`` of
    ``total`` (``None`` when unknown), with an optional message."""

    agent: str
    call_id: str
    progress: float
    total: float | None = None
    message: str | None = None
    kind: Literal["tool_progress"] = "tool_progress"


@dataclass(frozen=True, slots=True)
class HostedToolStarted:
    """The model's vendor began running a hosted tool (web search, code execution…) on its servers."""

    agent: str
    tool_kind: str
    name: str
    call_id: str | None = None
    kind: Literal["hosted_tool_started"] = "hosted_tool_started"


@dataclass(frozen=True, slots=True)
class HostedToolFinished:
    """The vendor finished a hosted tool; ``item`` is its :class:`~agentcore.messages.HostedToolUse`."""

    agent: str
    item: HostedToolUse
    kind: Literal["hosted_tool_finished"] = "hosted_tool_finished"


@dataclass(frozen=True, slots=True)
class HandoffOccurred:
    from_agent: str
    to_agent: str
    kind: Literal["handoff"] = "handoff"


@dataclass(frozen=True, slots=True)
class TurnCompleted:
    agent: str
    turn: int
    usage: Usage
    kind: Literal["turn_completed"] = "turn_completed"


@dataclass(frozen=True, slots=True)
class ContextCompacted:
    """The agent's context policy compacted what the model is sent (``reason``: ``threshold`` or
    ``recovery``; ``strategy``: ``tool_outputs``, ``summary``, ``native_compact``); the session still
    holds every item (docs/context.md)."""

    agent: str
    reason: str
    strategy: tuple[str, ...]
    tokens_before: int
    tokens_after: int
    kind: Literal["context_compacted"] = "context_compacted"


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    agent: str
    attempt: int
    delay: float
    error: str
    kind: Literal["retry_scheduled"] = "retry_scheduled"


@dataclass(frozen=True, slots=True)
class GuardrailFeedback:
    """A guardrail or verifier sent feedback to the model instead of stopping the run."""

    agent: str
    name: str
    message: str
    kind: Literal["guardrail_feedback"] = "guardrail_feedback"


@dataclass(frozen=True, slots=True)
class ModelCorrection:
    """The model made a mistake and was told so (an unknown tool, invalid tool arguments, a guardrail's
    ``retry``, output that does not validate). ``count`` is the length of the current streak of turns
    with a correction; past ``limit`` (the agent's ``max_corrections``) the run ends with
    ``ModelBehaviorError``, which lists every correction of the streak."""

    agent: str
    source: str
    message: str
    count: int
    limit: int
    kind: Literal["model_correction"] = "model_correction"


@dataclass(frozen=True, slots=True)
class FinalOutput:
    agent: str
    output: Any
    kind: Literal["final_output"] = "final_output"


@dataclass(frozen=True, slots=True)
class RunCompleted:
    result: RunResult[Any]
    kind: Literal["run_completed"] = "run_completed"


RunEvent = (
    AgentStarted
    | TextDelta
    | ReasoningDelta
    | ItemAdded
    | ToolCallStarted
    | ToolCallFinished
    | ToolOutputDelta
    | ToolProgress
    | HostedToolStarted
    | HostedToolFinished
    | HandoffOccurred
    | TurnCompleted
    | ContextCompacted
    | RetryScheduled
    | GuardrailFeedback
    | ModelCorrection
    | FinalOutput
    | RunCompleted
)


@dataclass(frozen=True, slots=True)
class PendingApproval:
    """A tool call waiting for a human decision."""

    call: ToolCall
    agent: str
    digest: str


@dataclass
class RunResult(Generic[OutputT]):
    """What a run produced.

    ``final_output`` is the validated output (a string for plain agents); ``None`` when the run paused
    for approval, in which case ``interruptions`` lists the pending calls and ``state`` resumes it.
    """

    final_output: OutputT | None
    new_items: list[Item]
    items: list[Item]
    usage: Usage
    last_agent: str
    run_id: str
    trace_id: str | None = None
    turns: int = 0
    interruptions: list[PendingApproval] = field(default_factory=list)
    state: Any = None
    """A ``RunState`` to resume from when the run paused for approval."""

    @property
    def output_text(self) -> str:
        from .messages import AssistantMessage

        for item in reversed(self.new_items):
            if isinstance(item, AssistantMessage):
                return item.text
        return ""

    @property
    def paused(self) -> bool:
        return bool(self.interruptions)
