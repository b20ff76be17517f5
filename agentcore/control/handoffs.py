"""Handoffs (pass control to another agent) and agents as tools (call one and get its output back).

A handoff is a transition the runner records: the model calls ``transfer_to_<agent>``, the runner
appends a :class:`~agentcore.messages.Handoff` item, applies the target's history policy, switches the
active agent and persists it in the session, so the next user turn goes to that agent.

History policies: ``"full"`` (the target sees everything), ``"summary"`` (the target sees one message
summarizing the conversation, produced by ``summarizer`` or a deterministic digest), or a function
``items -> items`` (filtered). Whatever the policy, the result is made valid for every provider: no tool
call without its result, no result without its call, no reasoning item cut from the output it belongs to.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..messages import AssistantMessage, Item, Reasoning, ToolCall, ToolResult, UserMessage
from ..messages import Handoff as HandoffItem
from ..model import ToolSpec
from ..tools import Tool, ToolArgumentsError

if TYPE_CHECKING:
    from ..agent import Agent
    from ..context import RunContext

HistoryPolicy = Literal["full", "summary"] | Callable[[list[Item]], list[Item]]

_HANDOFF_PARAMS: dict[str, Any] = {
    "type": "object",
    "properties": {"reason": {"type": "string", "description": "Why the conversation is handed over."}},
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Handoff:
    """A handoff to ``agent``, with its history policy and tool name."""

    agent: Agent[Any]
    history: HistoryPolicy = "full"
    tool_name: str | None = None
    description: str | None = None
    summarizer: Callable[[list[Item]], str] | None = None

    @property
    def name(self) -> str:
        return self.tool_name or f"transfer_to_{self.agent.name}"

    @property
    def spec(self) -> ToolSpec:
        desc = self.description or (
            f"Hand the conversation over to the agent {self.agent.name!r}"
            + (f": {self.agent.description}" if self.agent.description else ".")
        )
        return ToolSpec(self.name, desc, _HANDOFF_PARAMS)

    def apply(self, items: list[Item]) -> list[Item]:
        """The history the target agent sees."""
        if self.history == "full":
            return items
        if self.history == "summary":
            text = (self.summarizer or digest)(items)
            return [UserMessage.of(f"Summary of the conversation so far:\n{text}")]
        return sanitize(list(self.history(list(items))))


def as_handoff(value: Agent[Any] | Handoff) -> Handoff:
    return value if isinstance(value, Handoff) else Handoff(agent=value)


def digest(items: Sequence[Item], *, limit: int = 4000) -> str:
    """A deterministic, model-free summary: who said what, which tools ran."""
    lines: list[str] = []
    for item in items:
        if isinstance(item, UserMessage):
            lines.append(f"- user: {item.text}")
        elif isinstance(item, AssistantMessage):
            lines.append(f"- {item.agent or 'assistant'}: {item.text}")
        elif isinstance(item, ToolCall):
            lines.append(f"- called {item.name}({item.arguments})")
        elif isinstance(item, ToolResult):
            lines.append(f"  -> {'error: ' if item.is_error else ''}{item.output[:200]}")
        elif isinstance(item, HandoffItem):
            lines.append(f"- handed from {item.from_agent} to {item.to_agent}")
    text = "\n".join(lines)
    return text if len(text) <= limit else "…\n" + text[-limit:]


def sanitize(items: list[Item]) -> list[Item]:
    """Drop dangling tool calls/results and reasoning that lost the output it preceded."""
    call_ids = {i.call_id for i in items if isinstance(i, ToolCall)}
    result_ids = {i.call_id for i in items if isinstance(i, ToolResult)}
    kept: list[Item] = [
        i
        for i in items
        if not (isinstance(i, ToolCall) and i.call_id not in result_ids)
        and not (isinstance(i, ToolResult) and i.call_id not in call_ids)
    ]
    out: list[Item] = []
    for index, item in enumerate(kept):
        if isinstance(item, Reasoning):
            nxt = kept[index + 1] if index + 1 < len(kept) else None
            if not isinstance(nxt, (AssistantMessage, ToolCall, Reasoning)):
                continue
        out.append(item)
    return out


class AgentTool(Tool):
    """``agent.as_tool()``: runs a sub-agent on ``input`` and returns its final output to the caller."""

    def __init__(
        self,
        agent: Agent[Any],
        *,
        name: str | None = None,
        description: str | None = None,
        max_turns: int | None = None,
    ) -> None:
        super().__init__(
            name=name or agent.name,
            description=description or agent.description or f"Ask the agent {agent.name!r}.",
            parameters={
                "type": "object",
                "properties": {"input": {"type": "string", "description": "The request for the agent."}},
                "required": ["input"],
                "additionalProperties": False,
            },
        )
        self.agent = agent
        self.max_turns = max_turns
        self.metadata["transfer_mode"] = "return_to_caller"
        self.metadata["transfer_target"] = agent.name

    def parse_arguments(self, raw: str) -> dict[str, Any]:
        data = super().parse_arguments(raw)

        if not isinstance(data.get("input"), str):
            raise ToolArgumentsError(f"{self.name} needs a string argument 'input'")
        return data

    async def invoke(self, ctx: RunContext[Any], arguments: dict[str, Any]) -> Any:
        result = await ctx.run_subagent(self.agent, arguments["input"], max_turns=self.max_turns)
        ctx.usage.add(result.usage)
        out: Any = result.final_output
        if hasattr(out, "model_dump_json"):
            return out.model_dump_json()
        return out if isinstance(out, str) else json.dumps(out, default=str)
