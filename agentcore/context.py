"""The run context handed to tools, dynamic instructions and guardrails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .messages import Item, ToolCall, Usage

if TYPE_CHECKING:
    from .agent import Agent
    from .session import Session

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
    extra: dict[str, Any] = field(default_factory=dict)

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
            extra=self.extra,
        )
