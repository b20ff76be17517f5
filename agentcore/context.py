"""The run context handed to tools, dynamic instructions and guardrails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .messages import Item, ToolCall, Usage

if TYPE_CHECKING:
    from .agent import Agent
    from .sessions.base import Session

DepsT = TypeVar("DepsT")


@dataclass(slots=True)
class RunContext(Generic[DepsT]):
    """What a tool can see of the run it is part of.

    A tool receives it by declaring a parameter annotated ``RunContext`` (or ``RunContext[MyDeps]``);
    that parameter is left out of the schema the model sees.
    """

    deps: DepsT
    agent: Agent[Any]
    run_id: str
    usage: Usage
    items: list[Item]
    """The transcript so far (history plus this run's items). Do not mutate."""
    session: Session | None = None
    sandbox: Any = None
    """The agent's sandbox when it has one (a ``agentcore.sandboxes.Sandbox``)."""
    tool_call: ToolCall | None = None
    """The call being executed, inside a tool."""
    conversation_id: str | None = None
    on_output: Callable[[str], None] | None = None
    """Inside a tool: call with live output (for example a shell command's) to stream it to the user."""
    on_progress: Callable[[float, float | None, str | None], None] | None = None
    """Inside a tool: call with (progress, total, message) to stream a ``ToolProgress`` event."""
    extra: dict[str, Any] = field(default_factory=dict)
    run_agent: Callable[..., Awaitable[Any]] | None = None
    """``await ctx.run_agent(agent, input, deps=…, max_turns=…)`` runs another agent to completion inside
    this run and returns its ``RunResult`` (set by the run loop; agents as tools and LLM judges use it)."""

    async def run_subagent(self, agent: Agent[Any], input: str, *, max_turns: int | None = None) -> Any:
        if self.run_agent is None:
            from .errors import UserError

            raise UserError("this RunContext is not part of a run (no run_agent): run agents with Runner")
        return await self.run_agent(agent, input, deps=self.deps, max_turns=max_turns)

    def emit_output(self, delta: str) -> None:
        """Stream a piece of live tool output to the run's events (``ToolOutputDelta``)."""
        if self.on_output is not None and delta:
            self.on_output(delta)

    def for_call(self, call: ToolCall) -> RunContext[DepsT]:
        return RunContext(
            deps=self.deps,
            agent=self.agent,
            run_id=self.run_id,
            usage=self.usage,
            items=self.items,
            session=self.session,
            sandbox=self.sandbox,
            tool_call=call,
            conversation_id=self.conversation_id,
            on_output=self.on_output,
            on_progress=self.on_progress,
            extra=self.extra,
            run_agent=self.run_agent,
        )
