"""Guardrail verdicts the loop applies outside tool calls.

Input guardrails: blocking ones before the first model call, non-blocking ones alongside it. A
non-blocking guardrail's verdict gates the reply: the reply is held (never streamed) until every such
guardrail allowed the input, and any other verdict stops the run before the reply is used.

Output rewrites: the rewritten final text replaces the answer in the transcript and is validated again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from .. import tracing
from ..context import RunContext
from ..control.guardrails import Check, Verdict
from ..errors import GuardrailError, GuardrailTripwire, UnsupportedResponseError
from ..messages import AssistantMessage, Item, Part, TextPart, UserMessage
from . import steps
from .toolexec import apply_guardrails

if TYPE_CHECKING:
    from ..agent import Agent
    from ..model import ModelResponse

Gate = list["asyncio.Task[Verdict]"]


def input_text(items: list[Item]) -> str:
    return "\n".join(i.text for i in items if isinstance(i, UserMessage))


def rewrite_input(items: list[Item], text: str) -> list[Item]:
    """The new input with its text replaced by ``text``: the first user message carries it (with its
    images and files), later user messages keep only their non-text parts."""
    out: list[Item] = []
    placed = False
    for item in items:
        if not isinstance(item, UserMessage):
            out.append(item)
            continue
        parts: tuple[Part, ...] = tuple(p for p in item.content if not isinstance(p, TextPart))
        if not placed:
            parts = (TextPart(text=text), *parts)
            placed = True
        if parts:
            out.append(item.model_copy(update={"content": parts}))
    if not placed:
        out.append(UserMessage.of(text))
    return out


def _stop(verdict: Verdict, agent: Agent[Any], items: Callable[[], list[Item]], *, blocking: bool) -> None:
    """Raise for a verdict that stops the run at the input stage (``retry``: the user's input cannot
    be corrected by the model; ``rewrite`` by a non-blocking guardrail: the model already read it)."""
    if verdict.action == "retry":
        raise GuardrailTripwire(
            verdict.guardrail, verdict.reason, stage="input", items=items(), agent_name=agent.name
        )
    if verdict.action == "rewrite" and not blocking:
        raise GuardrailError(
            verdict.guardrail,
            "a non-blocking input guardrail cannot rewrite the input (the model already read it); "
            "make it blocking",
            stage="input",
            items=items(),
            agent_name=agent.name,
        )


async def check_input(
    agent: Agent[Any], ctx: RunContext[Any], new_input: list[Item], items: Callable[[], list[Item]]
) -> tuple[list[Item] | None, Gate]:
    """Run the blocking input guardrails (raising when one stops the run) and start the non-blocking
    ones. Returns the rewritten input (``None``: unchanged) and the gate of running checks."""
    text = input_text(new_input)
    rewritten: list[Item] | None = None
    blocking = [g for g in agent.guardrails if g.applies("input") and g.blocking]
    background = [g for g in agent.guardrails if g.applies("input") and not g.blocking]
    if blocking:
        check = Check("input", ctx, text=text)
        verdict = await apply_guardrails(blocking, "input", check, agent=agent, items=items)
        _stop(verdict, agent, items, blocking=True)
        if verdict.action == "rewrite" and check.text is not None:
            text = check.text
            rewritten = rewrite_input(new_input, text)
    gate: Gate = [
        asyncio.create_task(
            apply_guardrails([g], "input", Check("input", ctx, text=text), agent=agent, items=items)
        )
        for g in background
    ]
    return rewritten, gate


def gate_passed(gate: Gate) -> bool:
    """Every non-blocking input check finished and allowed the input (the reply may be shown)."""
    for task in gate:
        if not task.done() or task.cancelled() or task.exception() is not None:
            return False
        if task.result().action != "allow":
            return False
    return True


async def await_gate(gate: Gate, agent: Agent[Any], items: Callable[[], list[Item]]) -> None:
    """Wait for the non-blocking input checks; raise when one of them stops the run."""
    try:
        verdicts = await asyncio.gather(*gate)
    finally:
        for t in gate:
            t.cancel()
    for verdict in verdicts:
        _stop(verdict, agent, items, blocking=False)


def rewrite_output(
    agent: Agent[Any], verdict: Verdict, items: list[Item], start: int, snapshot: Callable[[], list[Item]]
) -> Any:
    """Apply an output guardrail's rewrite: the final answer (the assistant text of the items from
    ``start``) becomes the replacement, which must validate as the agent's output. Returns the output."""
    from ..agent import OutputValidationError

    text = verdict.replacement or ""
    try:
        output = agent.parse_output(text)
    except OutputValidationError as exc:
        raise GuardrailError(
            verdict.guardrail,
            f"rewrote the output to something that does not validate: {exc}",
            stage="output",
            items=snapshot(),
            agent_name=agent.name,
        ) from None
    placed = False
    for index in range(len(items) - 1, start - 1, -1):
        item = items[index]
        if isinstance(item, AssistantMessage):
            if placed:
                del items[index]
            else:
                items[index] = item.model_copy(update={"text": text})
                placed = True
    if not placed:
        items.append(AssistantMessage(text=text, agent=agent.name))
    return output


async def run_verifier(agent: Agent[Any], verifier: Any, ctx: RunContext[Any], output: Any) -> Any:
    """One verifier inside its span, as a step (a durable run records its outcome, never re-checks)."""
    with tracing.span(f"agentcore.verify {verifier.name}", {"gen_ai.agent.name": agent.name}) as s:
        outcome = await steps.run_step("verifier", verifier.name, partial(verifier.verify, ctx, output))
        if s.is_recording():
            s.set_attribute("agentcore.verifier.passed", outcome.passed)
    return outcome


def refuse_unsupported(agent: Agent[Any], response: ModelResponse, items: Callable[[], list[Item]]) -> None:
    """A response holding only items the adapter kept without understanding them is a typed error, never
    an empty final answer (``finish_reason`` ``unsupported_item:<type>``, see ModelResponse)."""
    reason = response.finish_reason or ""
    if reason.startswith("unsupported_item:") and not response.text.strip():
        raise UnsupportedResponseError(
            f"{agent.name}: the model answered only with a {reason.partition(':')[2]!r} item, which agentcore "
            "cannot act on (it is kept in the transcript)",
            items=items(),
            agent_name=agent.name,
        )
