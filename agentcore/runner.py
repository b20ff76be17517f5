"""The runner: one loop drives an agent through model calls, tools, guardrails, handoffs and verifiers.

``Runner.run`` (async), ``Runner.run_sync`` and ``Runner.stream`` are the same loop
(:meth:`_Run.events`): ``run`` consumes the events itself, ``stream`` hands them to you.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any, ClassVar, TypeVar

from opentelemetry.trace import Span, SpanKind
from tenacity import AsyncRetrying, RetryCallState, stop_never

from . import tracing
from .agent import Agent, OutputValidationError
from .approvals import ApprovalLedger, RunState, call_digest
from .context import RunContext
from .errors import (
    ApprovalError,
    MaxTurnsExceeded,
    ModelBehaviorError,
    ModelCallFailed,
    ModelError,
    ModelStreamError,
    RetryBudgetExhausted,
    UserError,
    VerifierFailed,
)
from .events import (
    AgentStarted,
    FinalOutput,
    GuardrailFeedback,
    HandoffOccurred,
    ItemAdded,
    ReasoningDelta,
    RetryScheduled,
    RunCompleted,
    RunEvent,
    RunResult,
    TextDelta,
    TurnCompleted,
)
from .guardrails import Check
from .handoffs import Handoff
from .messages import Handoff as HandoffItem
from .messages import (
    Item,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
    dump_items,
    input_to_items,
    load_items,
    new_id,
)
from .model import Model, ModelReasoningDelta, ModelRequest, ModelResponse, ModelResponseDone, ModelTextDelta
from .registry import resolve_model
from .retry import RetryBudget, RetryPolicy, RetryWait, is_retryable
from .session import Session
from .toolexec import ToolPhase, apply_guardrails, run_tool_calls
from .tools import Tool

T = TypeVar("T")
DEFAULT_MAX_TURNS = 30
_META = "__agentcore__"


_shared_models: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Model]] = (
    weakref.WeakKeyDictionary()
)


def shared_model(spec: str) -> Model:
    """The adapter for a ``provider:model`` string, shared by every run on this event loop, so
    connection pools and encoding caches are reused instead of rebuilt per run."""
    models = _shared_models.setdefault(asyncio.get_running_loop(), {})
    model = models.get(spec)
    if model is None:
        model = models[spec] = resolve_model(spec)
    return model


def _default_tracing() -> None:
    from .trace_store import ensure_default

    ensure_default()


def _agents_reachable(entry: Agent[Any]) -> dict[str, Agent[Any]]:
    found: dict[str, Agent[Any]] = {}
    stack = [entry]
    while stack:
        agent = stack.pop()
        if agent.name in found:
            continue
        found[agent.name] = agent
        stack.extend(h.agent for h in agent.handoff_list)
    return found


class _Run:
    """The state of one run and its loop."""

    def __init__(
        self,
        agent: Agent[Any],
        input: Any,
        *,
        session: Session | None,
        deps: Any,
        max_turns: int | None,
        retry: RetryPolicy | None,
        user_streaming: bool,
        hold_output: bool,
    ) -> None:
        self.entry = agent
        self.agent = agent
        self.input = input
        self.session = session
        self.deps = deps
        self.max_turns = max_turns or agent.max_turns or DEFAULT_MAX_TURNS
        self.policy = retry or Runner.retry_policy
        self.budget = RetryBudget(self.policy.run_budget)
        self.user_streaming = user_streaming
        self.hold_output = hold_output
        self.run_id = new_id()
        self.agents = _agents_reachable(agent)
        self.items: list[Item] = []
        self.history_len = 0
        self.saved_len = 0
        self.usage = Usage()
        self.saved_usage = Usage()
        self.turns = 0
        self.corrections = 0
        self.verify_rounds = 0
        self.caches: dict[str, dict[str, Any]] = {}
        self.view: tuple[list[Item], int] | None = None
        self.models: dict[str, Model] = {}
        self.owned_sandboxes: list[Any] = []
        self.extra: dict[str, Any] = {"started_at": time.monotonic(), "sandbox_seconds": 0.0}
        self.resume: RunState | None = None
        self.result: RunResult[Any] | None = None
        self.trace_id: str | None = None
        self._held = ""
        self._activation = contextlib.ExitStack()
        self._held_parts: list[str] = []
        self._streamed = False
        self._captured: dict[str, int] = {}

    # ------------------------------------------------------------------ setup

    async def _prepare(self) -> list[Item]:
        if isinstance(self.input, RunState):
            state = self.input
            decisions = state.verify()
            ledger = ApprovalLedger()
            for call_id in decisions:
                if not await asyncio.to_thread(ledger.consume, state.run_id, call_id):
                    raise ApprovalError(f"the decision for call {call_id} was already used")
            self.resume = state
            self.run_id = state.run_id
            if state.agent not in self.agents:
                raise UserError(
                    f"paused run was on agent {state.agent!r}, which {self.entry.name!r} cannot reach"
                )
            self.agent = self.agents[state.agent]
            self.items = list(state.items)
            self.history_len = state.history_len
            self.saved_len = len(self.items)
            self.usage = state.usage.model_copy()
            self.saved_usage = self.usage.model_copy()
            self.turns = state.turn
            self.caches = state.caches
            self._restore_view(state.view)
            return []
        if self.session is not None:
            snap = await self.session.load()
            self.items = list(snap.items)
            self.caches = snap.caches
            if snap.active_agent and snap.active_agent in self.agents:
                self.agent = self.agents[snap.active_agent]
            self._restore_view(self.caches.get(_META, {}).get("view"))
        self.history_len = self.saved_len = len(self.items)
        new = input_to_items(self.input)
        if not new and not self.items:
            raise UserError("a run needs input (or a session with history to continue)")
        self.items.extend(new)
        if self.session is not None and new:
            await self.session.append(new, active_agent=self.agent.name)
            self.saved_len = len(self.items)
        return new

    def _restore_view(self, data: dict[str, Any] | None) -> None:
        if data and data.get("agent") == self.agent.name:
            self.view = (load_items(data["base"]), int(data["from_index"]))

    def _view_state(self) -> dict[str, Any] | None:
        """The active agent's filtered history (after a non-"full" handoff), as JSON for persistence."""
        if self.view is None:
            return None
        return {"agent": self.agent.name, "base": dump_items(self.view[0]), "from_index": self.view[1]}

    def _view_items(self) -> list[Item]:
        if self.view is None:
            return list(self.items)
        base, start = self.view
        return base + self.items[start:]

    def _model(self, agent: Agent[Any]) -> Model:
        model = self.models.get(agent.name)
        if model is None:
            if agent.model is None:
                raise UserError(f"agent {agent.name!r} has no model")
            spec = agent.model
            model = self.models[agent.name] = shared_model(spec) if isinstance(spec, str) else spec
        return model

    async def _tools(self, agent: Agent[Any]) -> tuple[dict[str, Tool], dict[str, Handoff]]:
        tools = {t.name: t for t in agent.function_tools}
        if agent.sandbox is not None:
            sandbox = agent.sandbox
            if not sandbox.started:
                await sandbox.start()
                self.owned_sandboxes.append(sandbox)
            for t in sandbox.tools():
                tools.setdefault(t.name, t)
        handoffs = {h.name: h for h in agent.handoff_list}
        return tools, handoffs

    def _ctx(self, agent: Agent[Any]) -> RunContext[Any]:
        return RunContext(
            deps=self.deps,
            agent=agent,
            run_id=self.run_id,
            usage=self.usage,
            items=self.items,
            session=self.session,
            sandbox=agent.sandbox,
            conversation_id=self._conversation_id,
            extra=self.extra,
        )

    @property
    def _conversation_id(self) -> str:
        return self.session.session_id if self.session is not None else self.run_id

    def _snapshot(self) -> list[Item]:
        return list(self.items)

    def _digest(self, call: ToolCall) -> str:
        return call_digest(self.run_id, call)

    def _append(self, item: Item) -> RunEvent:
        self.items.append(item)
        return ItemAdded(item)

    async def _save(self) -> None:
        if self.session is None:
            return
        view = self._view_state()
        self.caches[_META] = {"view": view} if view is not None else {}
        delta = self.usage.model_copy()
        for name in Usage.model_fields:
            setattr(delta, name, getattr(self.usage, name) - getattr(self.saved_usage, name))
        await self.session.append(
            self.items[self.saved_len :], active_agent=self.agent.name, caches=self.caches, usage=delta
        )
        self.saved_len = len(self.items)
        self.saved_usage = self.usage.model_copy()

    def _fail(self, exc_type: type[Any], message: str) -> Exception:
        err: Exception = exc_type(message, items=list(self.items), agent_name=self.agent.name)
        return err

    def _feedback(self, agent: Agent[Any], source: str, message: str) -> list[RunEvent]:
        self.corrections += 1
        if self.corrections > agent.max_corrections:
            raise ModelBehaviorError(
                f"agent {agent.name!r} needed more than {agent.max_corrections} corrections in a row; last: {message}",
                items=list(self.items),
                agent_name=agent.name,
            )
        item = UserMessage.of(f"[{source}] {message}", agent=agent.name)
        return [GuardrailFeedback(agent.name, source, message), self._append(item)]

    # ------------------------------------------------------------------ model calls

    def _chat_attributes(self, agent: Agent[Any], model: Model, request: ModelRequest) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": model.system,
            "gen_ai.request.model": model.model_name,
            "gen_ai.agent.name": agent.name,
            "gen_ai.conversation.id": self._conversation_id,
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
        self._held_parts = []
        with tracing.span(
            f"chat {model.model_name}", {**attrs, "agentcore.retry.attempt": number - 1}, kind=SpanKind.CLIENT
        ) as s:
            capture = s.is_recording() and tracing.capture_content()
            if capture:
                self._capture_input(s, agent, request)
            response: ModelResponse | None = None
            if not self.user_streaming:
                response = await model.respond(request)
            else:
                async for ev in model.stream(request):
                    if isinstance(ev, ModelTextDelta):
                        if self.hold_output or any(not t.done() for t in gate):
                            self._held_parts.append(ev.text)
                        else:
                            self._streamed = True
                            yield TextDelta(agent.name, ev.text)
                    elif isinstance(ev, ModelReasoningDelta):
                        self._streamed = True
                        yield ReasoningDelta(agent.name, ev.text)
                    elif isinstance(ev, ModelResponseDone):
                        response = ev.response
            if response is None:
                raise ModelStreamError("stream ended without a response", provider=model.provider)
            self._record_response(s, response)
            if capture:
                self._captured[agent.name] = len(request.items) + len(response.items)
        self._held = "".join(self._held_parts)
        yield response

    async def _call_model(
        self, agent: Agent[Any], model: Model, request: ModelRequest, gate: list[asyncio.Task[Any]]
    ) -> AsyncIterator[RunEvent | ModelResponse]:
        """Call the model under the retry policy. The first attempt runs without tenacity's machinery
        (the common case costs nothing); after a retryable failure tenacity takes over: its first
        attempt re-raises that failure so that it computes the wait (backoff or retry-after) and
        bounds the attempts, then each further attempt is a real call with its own span."""
        policy = agent.retry or self.policy
        attrs = self._chat_attributes(agent, model, request)
        self._streamed = False
        try:
            async for ev in self._attempt(agent, model, request, gate, attrs, 1):
                yield ev
            return
        except ModelError as exc:
            if not exc.retryable or self._streamed or policy.max_attempts <= 1:
                raise self._model_failure(agent, exc) from exc
            first_error = exc

        def decide(rs: RetryCallState) -> bool:
            if rs.outcome is None or not rs.outcome.failed:
                return False
            exc = rs.outcome.exception()
            if (
                exc is None
                or not is_retryable(exc)
                or self._streamed
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
            raise self._model_failure(agent, exc) from exc

    def _model_failure(self, agent: Agent[Any], exc: ModelError) -> Exception:
        if exc.retryable and not self._streamed:
            return RetryBudgetExhausted(exc, items=list(self.items), agent_name=agent.name)
        return ModelCallFailed(exc, items=list(self.items), agent_name=agent.name)

    def _capture_input(self, s: Span, agent: Agent[Any], request: ModelRequest) -> None:
        """Record the prompt. In delta mode (the local trace store) only the items the previous
        ``chat`` span of this agent did not already show, so a long run stores its transcript once."""
        if request.instructions:
            s.set_attribute("gen_ai.system_instructions", tracing.content(request.instructions))
        items = list(request.items)
        if tracing.content_delta():
            start = self._captured.get(agent.name, 0)
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

    # ------------------------------------------------------------------ the loop

    async def events(self) -> AsyncIterator[RunEvent]:
        lock = self.session.lock() if self.session is not None else contextlib.nullcontext()
        async with lock:
            try:
                async for event in self._loop():
                    yield event
            finally:
                for sandbox in self.owned_sandboxes:
                    if getattr(getattr(sandbox, "config", None), "lifetime", "run") == "run":
                        with contextlib.suppress(Exception):
                            await sandbox.close()

    async def _loop(self) -> AsyncIterator[RunEvent]:
        _default_tracing()
        new_input = await self._prepare()
        root_attrs = {**self._agent_attributes(self.agent), "agentcore.run.id": self.run_id}
        with (
            tracing.span(f"invoke_agent {self.agent.name}", root_attrs) as root,
            contextlib.ExitStack() as act,
        ):
            self.trace_id = tracing.trace_id_of(root)
            try:
                async for event in self._turns(new_input, act):
                    yield event
            finally:
                if root.is_recording():
                    tracing.set_usage(root, self.usage, prefix="agentcore.usage")
                    root.set_attribute("agentcore.turns", self.turns)

    def _agent_attributes(self, agent: Agent[Any]) -> dict[str, Any]:
        model = self._model(agent)
        attrs = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": agent.name,
            "gen_ai.provider.name": model.system,
            "gen_ai.request.model": model.model_name,
            "gen_ai.conversation.id": self._conversation_id,
        }
        if agent.description:
            attrs["gen_ai.agent.description"] = agent.description
        return attrs

    async def _turns(self, new_input: list[Item], act: contextlib.ExitStack) -> AsyncIterator[RunEvent]:
        self._activation = act
        yield AgentStarted(self.agent.name)
        gate: list[asyncio.Task[Any]] = []
        if new_input:
            gate = await self._input_guardrails(new_input)
        if self.resume is not None:
            async for event in self._resume_tools():
                yield event
            if self.result is not None:
                return
        while True:
            agent = self.agent
            model = self._model(agent)
            ctx = self._ctx(agent)
            self.extra["model_name"] = model.model_name
            await apply_guardrails(
                agent.guardrails, "turn", Check("turn", ctx), agent=agent, items=self._snapshot
            )
            if self.turns >= self.max_turns:
                raise self._fail(MaxTurnsExceeded, f"run exceeded max_turns={self.max_turns}")
            tools, handoffs = await self._tools(agent)
            self.extra["tools"] = list(tools.values())
            request = ModelRequest(
                instructions=await agent.resolve_instructions(ctx),
                items=self._view_items(),
                tools=[t.spec for t in tools.values()] + [h.spec for h in handoffs.values()],
                output_schema=agent.output_schema,
                settings=agent.model_settings,
                cache=self.caches.setdefault(f"{agent.name}|{model.cache_key}", {}),
                conversation_id=self._conversation_id,
                agent_name=agent.name,
            )
            self._held = ""
            response: ModelResponse | None = None
            async for ev in self._call_model(agent, model, request, gate):
                if isinstance(ev, ModelResponse):
                    response = ev
                else:
                    yield ev
            assert response is not None
            if gate:
                await self._await_gate(gate)
                gate = []
            self.turns += 1
            self.usage.add(response.usage)
            for item in response.items:
                yield self._append(item.model_copy(update={"agent": agent.name}))
            calls = [
                i for i in self.items[len(self.items) - len(response.items) :] if isinstance(i, ToolCall)
            ]
            if calls:
                if self._held:
                    yield TextDelta(agent.name, self._held)
                async for event in self._tool_turn(agent, calls, tools, handoffs, ctx):
                    yield event
                if self.result is not None:
                    return
                continue
            async for event in self._final_turn(agent, response, ctx):
                yield event
            if self.result is not None:
                return

    async def _input_guardrails(self, new_input: list[Item]) -> list[asyncio.Task[Any]]:
        agent = self.agent
        ctx = self._ctx(agent)
        text = "\n".join(i.text for i in new_input if isinstance(i, UserMessage))
        items = self._snapshot
        blocking = [g for g in agent.guardrails if g.applies("input") and g.blocking]
        background = [g for g in agent.guardrails if g.applies("input") and not g.blocking]
        if blocking:
            verdict = await apply_guardrails(
                blocking, "input", Check("input", ctx, text=text), agent=agent, items=items
            )
            if verdict.action == "retry":
                from .errors import GuardrailTripwire

                raise GuardrailTripwire(
                    "input", verdict.reason, stage="input", items=items(), agent_name=agent.name
                )
        return [
            asyncio.create_task(
                apply_guardrails([g], "input", Check("input", ctx, text=text), agent=agent, items=items)
            )
            for g in background
        ]

    async def _await_gate(self, gate: list[asyncio.Task[Any]]) -> None:
        try:
            await asyncio.gather(*gate)
        finally:
            for t in gate:
                t.cancel()

    async def _tool_turn(
        self,
        agent: Agent[Any],
        calls: list[ToolCall],
        tools: dict[str, Tool],
        handoffs: dict[str, Handoff],
        ctx: RunContext[Any],
        decisions: dict[str, bool] | None = None,
        phase: ToolPhase | None = None,
    ) -> AsyncIterator[RunEvent]:
        phase = phase or ToolPhase()
        todo = calls if decisions is None else [c for c in calls if c.call_id in decisions]
        async for event in run_tool_calls(
            todo,
            tools,
            handoffs,
            ctx,
            phase,
            digest=self._digest,
            items=self._snapshot,
            decisions=decisions,
            stream=self.user_streaming,
        ):
            yield event
        if phase.pending:
            if phase.handoff is not None:  # a handoff cannot wait for a human: the model asks again later
                h_call = phase.handoff[1]
                phase.results[h_call.call_id] = ToolResult(
                    call_id=h_call.call_id,
                    name=h_call.name,
                    is_error=True,
                    agent=agent.name,
                    output="handoff deferred: other calls of this turn await approval; request it again",
                )
            self._pause(agent, calls, phase)
            await self._save()
            return
        for call in calls:
            yield self._append(phase.results[call.call_id])
        if phase.mistakes:
            self.corrections += 1
            if self.corrections > agent.max_corrections:
                raise self._fail(ModelBehaviorError, f"agent {agent.name!r} kept calling tools wrongly")
        else:
            self.corrections = 0
        if phase.handoff is not None:
            handoff, call = phase.handoff
            yield self._handoff(agent, handoff, call)
            yield HandoffOccurred(agent.name, handoff.agent.name)
            yield AgentStarted(handoff.agent.name)
        await self._save()
        yield TurnCompleted(agent.name, self.turns, self.usage.model_copy())

    def _handoff(self, source: Agent[Any], handoff: Handoff, call: ToolCall) -> RunEvent:
        target = handoff.agent
        with tracing.span(
            f"execute_tool transfer_to_{target.name} {target.name}",
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": call.name,
                "gen_ai.tool.call.id": call.call_id,
                "gen_ai.agent.name": source.name,
                "gen_ai.transfer.mode": "pass_control",
                "gen_ai.transfer.target.name": target.name,
            },
        ) as transfer:
            event = self._append(
                HandoffItem(
                    from_agent=source.name, to_agent=target.name, call_id=call.call_id, agent=source.name
                )
            )
            if handoff.history != "full":
                self.view = (handoff.apply(self._view_items()), len(self.items))
            self.agent = target
        # The target's activation is its own invoke_agent span, under the transfer (as in the semconv).
        self._activation.close()
        self._activation.enter_context(
            tracing.span(f"invoke_agent {target.name}", self._agent_attributes(target), parent=transfer)
        )
        return event

    def _pause(self, agent: Agent[Any], calls: list[ToolCall], phase: ToolPhase) -> None:
        pending_ids = {p.call.call_id for p in phase.pending}
        state = RunState(
            run_id=self.run_id,
            agent=agent.name,
            items=list(self.items),
            history_len=self.history_len,
            usage=self.usage.model_copy(),
            turn=self.turns,
            caches=self.caches,
            pending=sorted(phase.pending, key=lambda p: [c.call_id for c in calls].index(p.call.call_id)),
            completed=[r for cid, r in phase.results.items() if cid not in pending_ids],
            view=self._view_state(),
            session_id=self.session.session_id if self.session else None,
        ).seal()
        self.result = self._result(None, state)

    def _result(self, output: Any, paused: RunState | None = None) -> RunResult[Any]:
        return RunResult(
            final_output=output,
            new_items=self.items[self.history_len :],
            items=list(self.items),
            usage=self.usage,
            last_agent=self.agent.name,
            run_id=self.run_id,
            trace_id=self.trace_id,
            turns=self.turns,
            interruptions=list(paused.pending) if paused is not None else [],
            state=paused,
        )

    async def _resume_tools(self) -> AsyncIterator[RunEvent]:
        state = self.resume
        assert state is not None
        agent = self.agent
        tools, handoffs = await self._tools(agent)
        decisions = {cid: d.approved for cid, d in state.decisions.items()}
        phase = ToolPhase(results={r.call_id: r for r in state.completed})
        turn_ids = set(decisions) | set(phase.results)
        calls = [i for i in self.items if isinstance(i, ToolCall) and i.call_id in turn_ids]
        async for event in self._tool_turn(agent, calls, tools, handoffs, self._ctx(agent), decisions, phase):
            yield event

    async def _final_turn(
        self, agent: Agent[Any], response: ModelResponse, ctx: RunContext[Any]
    ) -> AsyncIterator[RunEvent]:
        text = response.text
        try:
            output = agent.parse_output(text)
        except OutputValidationError as exc:
            for event in self._feedback(agent, "output_validation", str(exc)):
                yield event
            return
        verdict = await apply_guardrails(
            agent.guardrails,
            "output",
            Check("output", ctx, text=text, output=output),
            agent=agent,
            items=self._snapshot,
        )
        if verdict.action == "retry":
            for event in self._feedback(agent, "guardrail", verdict.reason):
                yield event
            return
        for verifier in agent.verifiers:
            with tracing.span(f"agentcore.verify {verifier.name}", {"gen_ai.agent.name": agent.name}) as s:
                outcome = await verifier.verify(ctx, output)
                if s.is_recording():
                    s.set_attribute("agentcore.verifier.passed", outcome.passed)
            if not outcome.passed:
                self.verify_rounds += 1
                if self.verify_rounds > agent.max_corrections:
                    raise VerifierFailed(
                        verifier.name, outcome.output, items=list(self.items), agent_name=agent.name
                    )
                yield GuardrailFeedback(agent.name, verifier.name, outcome.output)
                yield self._append(
                    UserMessage.of(
                        f"[verifier {verifier.name}] The task is not done yet; the check failed:\n{outcome.output}",
                        agent=agent.name,
                    )
                )
                return
        self.corrections = 0
        if self._held:
            yield TextDelta(agent.name, self._held)
        await self._save()
        self.result = self._result(output)
        yield FinalOutput(agent.name, output)
        yield RunCompleted(self.result)


class RunStream:
    """An async iterator of :data:`~agentcore.events.RunEvent`; ``result`` is set once it is exhausted.

    The loop runs in its own task so tracing context and cancellation stay contained; leaving the
    ``async for`` early (or ``await stream.aclose()``) cancels the run.
    """

    _END: ClassVar[object] = object()

    def __init__(self, run: _Run) -> None:
        self._run = run
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _pump(self) -> None:
        try:
            async for event in self._run.events():
                self._queue.put_nowait(event)
        except BaseException as exc:
            self._queue.put_nowait(exc)
        finally:
            self._queue.put_nowait(self._END)

    def __aiter__(self) -> RunStream:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._pump())
        return self

    async def __anext__(self) -> RunEvent:
        item = await self._queue.get()
        if item is self._END:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            await self._drain()
            raise item
        ev: RunEvent = item
        return ev

    async def _drain(self) -> None:
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await self._task

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await self._drain()

    async def __aenter__(self) -> RunStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def result(self) -> RunResult[Any]:
        if self._run.result is None:
            raise UserError("the stream has not finished (iterate it to the end first)")
        return self._run.result

    async def final(self) -> RunResult[Any]:
        """Consume the remaining events and return the result."""
        async for _ in self:
            pass
        return self.result


def _run_coroutine_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from inside a running loop (a notebook, an async framework): use a private thread.
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


class Runner:
    """Runs agents. All methods are static; ``Runner.retry_policy`` is the default retry policy."""

    retry_policy: ClassVar[RetryPolicy] = RetryPolicy()

    @staticmethod
    async def run(
        agent: Agent[T],
        input: str | Item | Sequence[Item] | RunState | None = None,
        *,
        session: Session | None = None,
        deps: Any = None,
        max_turns: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> RunResult[T]:
        """Run ``agent`` on ``input`` until it produces a final output (or pauses for approval)."""
        run = _Run(
            agent,
            input,
            session=session,
            deps=deps,
            max_turns=max_turns,
            retry=retry,
            user_streaming=False,
            hold_output=False,
        )
        async for _ in run.events():
            pass
        assert run.result is not None
        return run.result

    @staticmethod
    def run_sync(
        agent: Agent[T],
        input: str | Item | Sequence[Item] | RunState | None = None,
        *,
        session: Session | None = None,
        deps: Any = None,
        max_turns: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> RunResult[T]:
        """:meth:`run` for synchronous code."""
        return _run_coroutine_sync(
            Runner.run(agent, input, session=session, deps=deps, max_turns=max_turns, retry=retry)
        )

    @staticmethod
    def stream(
        agent: Agent[Any],
        input: str | Item | Sequence[Item] | RunState | None = None,
        *,
        session: Session | None = None,
        deps: Any = None,
        max_turns: int | None = None,
        retry: RetryPolicy | None = None,
        hold_output_until_checked: bool = False,
    ) -> RunStream:
        """Run ``agent`` and yield events as they happen. With ``hold_output_until_checked`` text is
        released only after output guardrails and verifiers passed, so blocked text never leaks."""
        return RunStream(
            _Run(
                agent,
                input,
                session=session,
                deps=deps,
                max_turns=max_turns,
                retry=retry,
                user_streaming=True,
                hold_output=hold_output_until_checked,
            )
        )
