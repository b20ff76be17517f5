"""Executing one turn's tool calls, and applying guardrails. Used by the runner only."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import time
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from .. import tracing
from ..context import RunContext
from ..control.approvals import Decision
from ..control.guardrails import Check, Guardrail, Stage, Verdict, allow
from ..control.handoffs import Handoff
from ..errors import GuardrailError, GuardrailTripwire, ToolError
from ..events import (
    PendingApproval,
    RunEvent,
    ToolCallFinished,
    ToolCallStarted,
    ToolOutputDelta,
    ToolProgress,
)
from ..hosted import APPROVAL_MARK
from ..messages import Item, ProviderState, ToolCall, ToolResult
from ..tools import Tool, ToolArgumentsError, ToolOutput, format_tool_output
from . import steps

if TYPE_CHECKING:
    from ..agent import Agent

T = TypeVar("T")


async def apply_guardrails(
    guardrails: Sequence[Guardrail],
    stage: Stage,
    check: Check,
    *,
    agent: Agent[Any],
    items: Callable[[], list[Item]],
    tool_name: str | None = None,
) -> Verdict:
    """Run every guardrail of ``stage`` in order. Tripwires raise; the first ``retry`` is returned;
    ``rewrite`` verdicts chain (each sees the previous one's text, or at ``pre_tool`` its arguments)
    and the last is returned. Every verdict returned names its guardrail. A check that raises, or a
    rewrite the stage cannot apply, raises :class:`GuardrailError`."""
    outcome = allow()
    for g in guardrails:
        if not g.applies(stage, tool_name):
            continue
        with tracing.span(
            f"apply_guardrail {g.name}",
            {
                "gen_ai.operation.name": "apply_guardrail",
                "gen_ai.guardrail.component.name": g.name,
                "gen_ai.guardrail.source": stage,
                "gen_ai.agent.name": agent.name,
            },
        ) as s:
            try:
                verdict = await steps.run_step("guardrail", f"{g.name} {stage}", partial(g.check, check))
            except (GuardrailTripwire, GuardrailError):
                raise
            except Exception as exc:
                raise GuardrailError(
                    g.name,
                    f"{type(exc).__name__}: {exc}",
                    stage=stage,
                    error=exc,
                    items=items(),
                    agent_name=agent.name,
                ) from exc
            verdict = replace(verdict, guardrail=g.name)
            if s.is_recording():
                s.set_attribute("agentcore.guardrail.action", verdict.action)
                if verdict.action == "tripwire":  # the span that stopped the run is an error
                    tracing.set_error(s, verdict.reason)
                if verdict.action != "allow":
                    s.add_event(
                        "gen_ai.guardrail.result",
                        {
                            "gen_ai.guardrail.result.type": verdict.action,
                            "agentcore.guardrail.reason": tracing.redact(verdict.reason),
                        },
                    )
            if verdict.action == "rewrite":
                _apply_rewrite(g, stage, check, verdict, agent=agent, items=items)
                if s.is_recording():
                    s.set_attribute("agentcore.guardrail.rewritten", True)
                    if tracing.capture_content():
                        s.set_attribute(
                            "agentcore.guardrail.replacement", tracing.content(verdict.replacement)
                        )
        if verdict.action == "tripwire":
            raise GuardrailTripwire(g.name, verdict.reason, stage=stage, items=items(), agent_name=agent.name)
        if verdict.action == "retry":
            return verdict
        if verdict.action == "rewrite":
            outcome = verdict
    return outcome


def _apply_rewrite(
    g: Guardrail,
    stage: Stage,
    check: Check,
    verdict: Verdict,
    *,
    agent: Agent[Any],
    items: Callable[[], list[Item]],
) -> None:
    """Put a rewrite into ``check`` (so the next guardrail sees it), or refuse it with GuardrailError."""

    def refuse(message: str) -> GuardrailError:
        return GuardrailError(g.name, message, stage=stage, items=items(), agent_name=agent.name)

    if verdict.replacement is None:
        raise refuse("a rewrite verdict without a replacement")
    if stage == "turn":
        raise refuse("a rewrite verdict at stage 'turn' has nothing to rewrite (use retry or tripwire)")
    if stage == "pre_tool":
        try:
            arguments = json.loads(verdict.replacement)
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            raise refuse("a pre_tool rewrite must be the new arguments as a JSON object")
        check.arguments = arguments
        return
    check.text = verdict.replacement


async def _gather_or_cancel(coros: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Run concurrently; on the first exception cancel the rest and raise it (not an ExceptionGroup)."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for t in tasks:
            if not t.done():
                t.cancel()


@dataclass
class ToolPhase:
    """What a turn's tool calls produced. ``corrections`` lists the model's mistakes of the turn as
    ``(source, message)``; each also went back to the model as an error result."""

    results: dict[str, ToolResult] = field(default_factory=dict)
    pending: list[PendingApproval] = field(default_factory=list)
    handoff: tuple[Handoff, ToolCall] | None = None
    corrections: list[tuple[str, str]] = field(default_factory=list)

    @property
    def mistakes(self) -> int:
        return len(self.corrections)

    def mistake(self, call: ToolCall, agent: str, source: str, message: str) -> ToolResult:
        self.corrections.append((source, f"{call.name}: {message}"))
        return _error(call, agent, message)


def _error(call: ToolCall, agent: str, message: str) -> ToolResult:
    return ToolResult(call_id=call.call_id, name=call.name, output=message, is_error=True, agent=agent)


async def execute_call(
    call: ToolCall,
    tool: Tool | None,
    ctx: RunContext[Any],
    phase: ToolPhase,
    *,
    digest: Callable[[ToolCall], str],
    items: Callable[[], list[Item]],
    approved: bool | None = None,
    reason: str = "",
) -> ToolResult | PendingApproval:
    """Validate, guard, (maybe) pause for approval, run and post-process one tool call.

    ``approved`` is the human decision when resuming a paused run (``None``: not decided yet);
    ``reason`` is the reason given with a rejection (the model reads it).
    """
    agent = ctx.agent
    attrs = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": call.name,
        "gen_ai.tool.call.id": call.call_id,
        "gen_ai.tool.type": "function",
        "gen_ai.agent.name": agent.name,
    }
    if tool is not None and tool.metadata.get("transfer_mode"):
        attrs["gen_ai.transfer.mode"] = tool.metadata["transfer_mode"]
        attrs["gen_ai.transfer.target.name"] = tool.metadata["transfer_target"]
    if tool is not None and "mcp" in tool.metadata:  # an MCP server's tool: the server, the tool's own name
        attrs["agentcore.mcp.server"] = tool.metadata["mcp"]["server"]
        attrs["agentcore.mcp.tool"] = tool.metadata["mcp"]["tool"]
    if call.state_for(APPROVAL_MARK) is not None:  # a vendor asks approval (hosted MCP): nothing runs here
        return _vendor_approval(call, agent.name, approved, reason, digest)
    native = native_kind(call, agent)
    if native is not None:  # a vendor-native call (OpenAI shell_call…): runs in the agent's sandbox
        tool = _native_tool(native, agent.sandbox)
        attrs["agentcore.tool.native"] = native
    with tracing.span(f"execute_tool {call.name}", attrs) as s:
        capture = s.is_recording() and tracing.capture_content()
        if capture:
            s.set_attribute("gen_ai.tool.call.arguments", tracing.content(call.arguments))
        if tool is None:
            names = ", ".join(sorted(t.name for t in ctx.extra.get("tools", ()))) or "none"
            return phase.mistake(
                call, agent.name, "unknown_tool", f"unknown tool {call.name!r}; available tools: {names}"
            )
        try:
            arguments = _native_arguments(call) if native else tool.parse_arguments(call.arguments)
        except ToolArgumentsError as exc:
            return phase.mistake(call, agent.name, "tool_arguments", str(exc))
        if approved is False:
            if s.is_recording():
                s.set_attribute("agentcore.approval", "rejected")
                if reason:
                    s.set_attribute("agentcore.approval.reason", tracing.redact(reason))
            message = "the user rejected this call"
            return _error(call, agent.name, f"{message}: {reason}" if reason else message)
        # pre_tool guardrails run again on an approved call, so a rewrite applies to what runs
        check = Check("pre_tool", ctx, call=call, arguments=arguments)
        pre = await apply_guardrails(
            agent.guardrails, "pre_tool", check, agent=agent, items=items, tool_name=call.name
        )
        if pre.action == "retry":
            return phase.mistake(call, agent.name, "guardrail", f"refused by guardrail: {pre.reason}")
        note = ""
        if pre.action == "rewrite":
            arguments, note = _rewritten_arguments(call, tool, check, pre, agent=agent, items=items)
            if s.is_recording():
                s.set_attribute("agentcore.tool.arguments_rewritten_by", pre.guardrail)
                if capture:
                    s.set_attribute("agentcore.tool.rewritten_arguments", tracing.content(check.arguments))
        if approved is None:
            if await tool.requires_approval(ctx, arguments):
                if s.is_recording():
                    s.set_attribute("agentcore.approval", "pending")
                return PendingApproval(call=call, agent=agent.name, digest=digest(call))
        elif s.is_recording():
            s.set_attribute("agentcore.approval", "approved")
        started = time.monotonic()
        payload: dict[str, Any] | None = None
        if native is not None:
            output, is_error, error_type, payload = await steps.run_step(
                "tool",
                f"{call.name} {call.call_id}",
                partial(_invoke_native, native, ctx, arguments, _native_option(call, native)),
            )
        else:
            output, is_error, error_type = await steps.run_step(
                "idempotent_tool" if tool.metadata.get("idempotent") else "tool",
                f"{call.name} {call.call_id}",
                partial(_invoke, tool, ctx, arguments),
            )
        if error_type and s.is_recording():
            s.set_attribute("error.type", error_type)
        if tool.metadata.get("sandbox"):
            ctx.extra["sandbox_seconds"] = ctx.extra.get("sandbox_seconds", 0.0) + time.monotonic() - started
        parts = output.parts if isinstance(output, ToolOutput) else ()  # a screenshot, for instance
        post_check = Check("post_tool", ctx, text=output, call=call, arguments=arguments)
        post = await apply_guardrails(
            agent.guardrails, "post_tool", post_check, agent=agent, items=items, tool_name=call.name
        )
        if post.action == "retry":
            output, is_error = f"refused by guardrail: {post.reason}", True
            phase.corrections.append(("guardrail", f"{call.name}: {output}"))
        elif post.action == "rewrite" and post_check.text is not None:
            output = post_check.text
            if s.is_recording():
                s.set_attribute("agentcore.tool.output_rewritten_by", post.guardrail)
        output = note + output
        if capture:
            s.set_attribute("gen_ai.tool.call.result", tracing.content(output))
        if is_error and s.is_recording():
            s.set_attribute("agentcore.tool.is_error", True)
        state: tuple[ProviderState, ...] = ()
        if native is not None and payload is not None and post.action == "allow" and not note:
            # the structured result (per-command stdout/stderr/outcome…) for the vendor's output item
            state = (ProviderState(provider=NATIVE_MARK, kind=native, payload=payload),)
        return ToolResult(
            call_id=call.call_id,
            name=call.name,
            output=output,
            is_error=is_error,
            agent=agent.name,
            parts=() if is_error or post.action != "allow" else parts,
            state=state,
        )


async def _invoke(tool: Tool, ctx: RunContext[Any], arguments: Any) -> tuple[str, bool, str]:
    """Run the tool: ``(output, is_error, error type of a tool bug)`` — one plain value a durable step
    records (a tripwire still raises)."""
    try:
        return format_tool_output(await tool.invoke(ctx, arguments)), False, ""
    except GuardrailTripwire:
        raise
    except ToolError as exc:
        return str(exc), True, ""
    except Exception as exc:  # a tool bug must not end the run: the model sees it
        return f"{type(exc).__name__}: {exc}", True, type(exc).__name__


def _vendor_approval(
    call: ToolCall, agent: str, approved: bool | None, reason: str, digest: Callable[[ToolCall], str]
) -> ToolResult | PendingApproval:
    """A vendor's request for approval (OpenAI ``mcp_approval_request``): the run pauses until a human
    decides; the decision goes back to the adapter on the result, which tells the vendor."""
    if approved is None:
        return PendingApproval(call=call, agent=agent, digest=digest(call))
    text = "approved" if approved else "the user rejected this call" + (f": {reason}" if reason else "")
    decision = ProviderState(
        provider=APPROVAL_MARK, kind="decision", payload={"approve": approved, "reason": reason}
    )
    return ToolResult(
        call_id=call.call_id,
        name=call.name,
        output=text,
        is_error=not approved,
        agent=agent,
        state=(decision,),
    )


NATIVE_MARK = "native"
"""``ProviderState.provider`` of the neutral marker an adapter puts on a vendor-native tool call (its
``kind`` is the :data:`~agentcore.sandboxes.native.NativeToolKind`), and of the structured result."""
_NATIVE_KINDS = frozenset({"shell", "local_shell", "apply_patch", "text_editor", "bash"})
_native_tools: weakref.WeakKeyDictionary[Any, dict[str, Tool]] = weakref.WeakKeyDictionary()


def native_tool_kinds(agent: Agent[Any]) -> tuple[str, ...]:
    """The native client tools an agent offers its model (``ModelRequest.native_tools``)."""
    if agent.sandbox is None or agent.native_tools == "off" or getattr(agent.sandbox, "hosted_vendor", None):
        return ()  # a vendor-hosted container's shell is a hosted tool (Agent.hosted_tools)
    kinds: tuple[str, ...] = ("shell", "apply_patch", "bash", "text_editor")
    config = getattr(agent.sandbox, "config", None)
    if getattr(config, "desktop", None) is not None:  # a desktop: the vendor's computer-use tool (issue 16)
        kinds += ("computer",)
    return kinds


def native_kind(call: ToolCall, agent: Agent[Any]) -> str | None:
    """The native tool kind of a call that came in a vendor's native form, when the agent has a sandbox
    to run it in."""
    if agent.sandbox is None:
        return None
    for st in call.state:
        if st.provider == NATIVE_MARK and st.kind in _NATIVE_KINDS:
            return st.kind
    return None


def _native_tool(kind: str, sandbox: Any) -> Tool:
    """The function tool of the same kind (approvals, metadata), built once per sandbox."""
    tools = _native_tools.setdefault(sandbox, {})
    if kind not in tools:
        tools[kind] = _native_module().native_function_tools(sandbox, [kind])[0]
    return tools[kind]


def _native_module() -> Any:
    # agentcore.sandboxes is mapped onto the sandboxes/ tree at run time (mypy checks it on its own)
    return importlib.import_module("agentcore.sandboxes.native")


def _native_option(call: ToolCall, kind: str) -> int | None:
    """The text editor's ``max_characters`` the adapter declared (on the call's native marker)."""
    st = call.state_for(NATIVE_MARK, kind=kind)
    value = st.payload.get("max_characters") if st is not None and isinstance(st.payload, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _native_arguments(call: ToolCall) -> dict[str, Any]:
    try:
        data = json.loads(call.arguments or "{}")
    except ValueError as exc:
        raise ToolArgumentsError(f"arguments are not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ToolArgumentsError(f"arguments must be a JSON object, got {type(data).__name__}")
    return data


async def _invoke_native(
    kind: str, ctx: RunContext[Any], arguments: dict[str, Any], max_characters: int | None = None
) -> tuple[str, bool, str, dict[str, Any] | None]:
    """Run a native call in the agent's sandbox: the text, error flag, error type and the structured
    payload of the vendor's output item."""
    from ..errors import SandboxError

    try:
        result = await _native_module().execute_native(
            kind,
            ctx.agent.sandbox,
            arguments,
            on_output=ctx.emit_output,
            max_characters=max_characters,
        )
    except SandboxError as exc:
        return f"{kind} failed: {exc}", True, "", None
    except Exception as exc:  # a bug must not end the run: the model sees it
        return f"{type(exc).__name__}: {exc}", True, type(exc).__name__, None
    return result.output, result.is_error, "", result.payload


def _rewritten_arguments(
    call: ToolCall,
    tool: Tool,
    check: Check,
    verdict: Verdict,
    *,
    agent: Agent[Any],
    items: Callable[[], list[Item]],
) -> tuple[Any, str]:
    """The arguments a pre_tool rewrite asked for, validated by the tool, and the note that tells the
    model (in the tool result, so the transcript records it) what actually ran."""
    raw = json.dumps(check.arguments)
    try:
        arguments = tool.parse_arguments(raw)
    except ToolArgumentsError as exc:
        raise GuardrailError(
            verdict.guardrail,
            f"rewrote the arguments of {call.name} to something the tool refuses: {exc}",
            stage="pre_tool",
            items=items(),
            agent_name=agent.name,
        ) from None
    return arguments, f"[guardrail {verdict.guardrail} rewrote the arguments to {raw}]\n"


async def run_tool_calls(
    calls: Sequence[ToolCall],
    tools: dict[str, Tool],
    handoffs: dict[str, Handoff],
    ctx: RunContext[Any],
    phase: ToolPhase,
    *,
    digest: Callable[[ToolCall], str],
    items: Callable[[], list[Item]],
    decisions: dict[str, Decision] | None = None,
    stream: bool = True,
) -> AsyncIterator[RunEvent]:
    """Run the calls concurrently (bounded by the agent's ``max_parallel_tools``), yielding events as
    they happen. Handoffs are resolved here: the first wins, later ones get a tool error."""
    agent = ctx.agent
    queue: asyncio.Queue[RunEvent | BaseException | None] = asyncio.Queue()
    # durable runs take the turn's calls one at a time, in call order: their steps then start in the
    # same order on every replay (the engine matches a step by its position)
    limit = asyncio.Semaphore(1 if steps.current() is not None else max(1, agent.max_parallel_tools))
    # native calls act on one workspace: they run one after the other, in call order (an editor's create
    # then its insert, a patch then the shell that runs the tests); so do the calls of a tool whose
    # metadata says ``in_order`` (the computer tool: a turn's clicks and keys act on one screen); other
    # tools overlap them
    in_order = asyncio.Lock()
    work: list[ToolCall] = []
    for call in calls:
        if call.name in handoffs and call.name not in tools:
            if phase.handoff is None:
                phase.handoff = (handoffs[call.name], call)
                target = handoffs[call.name].agent.name
                phase.results[call.call_id] = ToolResult(
                    call_id=call.call_id, name=call.name, output=f"Transferred to {target}.", agent=agent.name
                )
            else:
                first = phase.handoff[1].name
                phase.results[call.call_id] = _error(
                    call,
                    agent.name,
                    f"only one handoff per turn: {first} was already requested; this one was ignored",
                )
            continue
        work.append(call)

    async def one(call: ToolCall, live: bool) -> RunEvent | None:
        tool = tools.get(call.name)
        serial = native_kind(call, agent) is not None or (tool is not None and tool.metadata.get("in_order"))
        ordered = in_order if serial else contextlib.nullcontext()
        async with ordered, limit:
            call_ctx = ctx.for_call(call)
            if live:
                call_ctx.on_output = lambda d: queue.put_nowait(ToolOutputDelta(agent.name, call.call_id, d))
                call_ctx.on_progress = lambda p, t, m: queue.put_nowait(
                    ToolProgress(agent.name, call.call_id, p, t, m)
                )
            decision = None if decisions is None else decisions.get(call.call_id)
            out = await execute_call(
                call,
                tools.get(call.name),
                call_ctx,
                phase,
                digest=digest,
                items=items,
                approved=None if decision is None else decision.approved,
                reason="" if decision is None else decision.reason,
            )
        if isinstance(out, PendingApproval):
            phase.pending.append(out)
            return None
        phase.results[call.call_id] = out
        return ToolCallFinished(agent.name, call, out)

    async def pump(call: ToolCall) -> None:
        try:
            queue.put_nowait(await one(call, True))
        except BaseException as exc:  # surfaced to the loop below
            queue.put_nowait(exc)

    for call in work:
        yield ToolCallStarted(agent.name, call)
    if not stream:
        # Nobody watches live output: run the calls directly, no event queue.
        if len(work) == 1:
            finished: list[RunEvent | None] = [await one(work[0], False)]
        else:
            finished = await _gather_or_cancel([one(call, False) for call in work])
        for event in finished:
            if event is not None:
                yield event
    else:
        tasks = [asyncio.create_task(pump(call)) for call in work]
        remaining = len(tasks)
        try:
            while remaining:
                got = await queue.get()
                if isinstance(got, BaseException):
                    raise got
                if got is None or isinstance(got, ToolCallFinished):
                    remaining -= 1
                if got is not None:
                    yield got
        finally:
            for t in tasks:
                if not t.done():
                    t.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
    # Events for handoff calls, in call order, after real tools.
    for call in calls:
        if call.name in handoffs and call.name not in tools:
            yield ToolCallFinished(agent.name, call, phase.results[call.call_id])
