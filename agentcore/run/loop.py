"""The loop behind ``Runner``: one run's state and the turns that drive it.

One turn: guardrails (``turn``) → a model call (``ModelCaller``: retries, spans, held output) → tool calls
(``toolexec``: validation, guardrails, approvals, concurrency) → a handoff, or the final output
(validation, output guardrails, verifiers). ``Runner.run`` consumes :meth:`RunLoop.events` itself,
``Runner.stream`` hands the same events to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from .. import tracing
from ..agent import Agent, OutputValidationError
from ..context import RunContext
from ..control import paused as parking
from ..control.approvals import Decision, RunState, call_digest
from ..control.guardrails import Check
from ..control.handoffs import Handoff
from ..errors import AgentcoreError, MaxTurnsExceeded, UserError, VerifierFailed
from ..events import (
    AgentStarted,
    FinalOutput,
    GuardrailFeedback,
    HandoffOccurred,
    ItemAdded,
    RunCompleted,
    RunEvent,
    RunResult,
    TextDelta,
    TurnCompleted,
)
from ..messages import Handoff as HandoffItem
from ..messages import (
    Item,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
    input_to_items,
    keep_last_images,
    new_id,
)
from ..model import Model, ModelRequest, ModelResponse
from ..sessions.base import Session
from ..tools import Tool
from .checks import Gate, await_gate, check_input, refuse_unsupported, rewrite_output, run_verifier
from .compaction import ContextKeeper
from .corrections import Corrections
from .modelcall import ModelCaller
from .retry import RetryPolicy
from .setup import agents_reachable, default_tracing, images_kept, shared_model, start_for_run
from .steps import consume_decisions
from .toolexec import ToolPhase, apply_guardrails, native_tool_kinds, run_tool_calls
from .transcript import TranscriptView, dump_view, load_view

DEFAULT_MAX_TURNS = 30
_META = "__agentcore__"


class RunLoop:
    """The state of one run and its loop."""

    def __init__(
        self,
        agent: Agent[Any],
        input: Any,
        *,
        session: Session | None,
        deps: Any,
        max_turns: int | None,
        retry: RetryPolicy,
        user_streaming: bool,
        hold_output: bool,
    ) -> None:
        self.entry = agent
        self.agent = agent
        self.input = input
        self.session = session
        self.deps = deps
        self.max_turns = max_turns or agent.max_turns or DEFAULT_MAX_TURNS
        self.user_streaming = user_streaming
        self.hold_output = hold_output
        self.run_id = new_id()
        self.agents = agents_reachable(agent)
        self.items: list[Item] = []
        self.history_len = 0
        self.saved_len = 0
        self.usage = Usage()
        self.saved_usage = Usage()
        self.turns = 0
        self.corrections = Corrections()
        self.verify_rounds = 0
        self.caches: dict[str, dict[str, Any]] = {}
        self.view: tuple[list[Item], int] | None = None
        self.models: dict[str, Model] = {}
        self.owned_sandboxes: list[Any] = []
        self.sandbox_starts: list[asyncio.Task[None]] = []
        self.mcp: Any = None  # agentcore.mcp.runtime.RunServers, when an agent of the run has MCP servers
        self.extra: dict[str, Any] = {"started_at": time.monotonic(), "sandbox_seconds": 0.0}
        self.resume: RunState | None = None
        self.result: RunResult[Any] | None = None
        self.trace_id: str | None = None
        self._activation = contextlib.ExitStack()
        self.retry = retry
        self.context = ContextKeeper(self)
        self.caller = ModelCaller(
            policy=retry,
            user_streaming=user_streaming,
            hold_output=hold_output,
            conversation_id=session.session_id if session is not None else self.run_id,
            transcript=self._snapshot,
        )

    # ------------------------------------------------------------------ setup

    async def _prepare(self) -> list[Item]:
        if isinstance(self.input, RunState):
            state = self.input
            await consume_decisions(state)
            self.resume = state
            self.owned_sandboxes.extend(parking.claim(state.run_id))  # kept since the pause, this process
            self.run_id = state.run_id
            if state.agent not in self.agents:
                raise UserError(
                    f"paused run was on agent {state.agent!r}, which {self.entry.name!r} cannot reach"
                )
            self.agent = self.agents[state.agent]
            self.items = list(state.items)
            self.history_len = state.history_len
            self.saved_len = len(self.items)
            self.usage = state.usage.model_copy(deep=True)
            self.saved_usage = self.usage.model_copy(deep=True)
            self.turns = state.turn
            self.caches = state.caches
            self.view = load_view(state.view, self.agent.name)
            return []
        if self.session is not None:
            snap = await self.session.load()
            self.items = list(snap.items)
            self.caches = snap.caches
            if snap.active_agent and snap.active_agent in self.agents:
                self.agent = self.agents[snap.active_agent]
            self.view = load_view(self.caches.get(_META, {}).get("view"), self.agent.name)
        self.history_len = self.saved_len = len(self.items)
        new = input_to_items(self.input)
        if not new and not self.items:
            raise UserError("a run needs input (or a session with history to continue)")
        self.items.extend(new)
        return new

    def _view_items(self) -> list[Item]:
        if self.view is None:
            return list(self.items)
        base, start = self.view
        return base + self.items[start:]

    def _transcript(self) -> TranscriptView:
        """What a request carries: O(1) per turn, whatever the history's length (see .transcript)."""
        base, start = self.view if self.view is not None else ((), 0)
        return TranscriptView(self.items, head=base, start=start)

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
            if not sandbox.started and sandbox not in self.owned_sandboxes:
                # starts while the model thinks; awaited before anything can use it (_sandboxes_ready)
                self.sandbox_starts.append(asyncio.ensure_future(start_for_run(sandbox)))
                self.owned_sandboxes.append(sandbox)
            for t in sandbox.tools():
                tools.setdefault(t.name, t)
        if agent.mcp_servers:  # the agent's servers connect at once; their tools are listed once, cached
            from ..mcp.runtime import RunServers

            self.mcp = self.mcp or RunServers()
            for t in await self.mcp.tools(agent.name, agent.mcp_servers):
                tools.setdefault(t.name, t)
        handoffs = {h.name: h for h in agent.handoff_list}
        return tools, handoffs

    async def _sandboxes_ready(self) -> None:
        """Wait for the sandboxes this run is starting (a failed start raises here)."""
        starts, self.sandbox_starts = self.sandbox_starts, []
        for task in starts:
            await task

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
            run_agent=self.run_agent,
        )

    async def run_agent(
        self, agent: Agent[Any], input: str, *, deps: Any, max_turns: int | None = None
    ) -> RunResult[Any]:
        """Run another agent to completion inside this run (agents as tools, LLM judges), with this
        run's retry policy; the caller adds its usage where it should count."""
        sub = RunLoop(
            agent,
            input,
            session=None,
            deps=deps,
            max_turns=max_turns,
            retry=self.retry,
            user_streaming=False,
            hold_output=False,
        )
        async for _ in sub.events():
            pass
        assert sub.result is not None
        return sub.result

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
        view = dump_view(self.view, self.agent.name)
        self.caches[_META] = {"view": view} if view is not None else {}
        delta = self.usage.minus(self.saved_usage)
        await self.session.append(
            self.items[self.saved_len :], active_agent=self.agent.name, caches=self.caches, usage=delta
        )
        self.saved_len = len(self.items)
        self.saved_usage = self.usage.model_copy(deep=True)

    def _fail(self, exc_type: type[Any], message: str) -> Exception:
        err: Exception = exc_type(message, items=list(self.items), agent_name=self.agent.name)
        return err

    def _feedback(self, agent: Agent[Any], source: str, message: str) -> list[RunEvent]:
        events = self.corrections.add(agent, [(source, message)], self._snapshot)
        item = UserMessage.of(f"[{source}] {message}", agent=agent.name)
        return [*events, GuardrailFeedback(agent.name, source, message), self._append(item)]

    # ------------------------------------------------------------------ the loop

    async def events(self) -> AsyncIterator[RunEvent]:
        lock = self.session.lock() if self.session is not None else contextlib.nullcontext()
        async with lock:
            try:
                async for event in self._loop():
                    yield event
            finally:
                for task in self.sandbox_starts:  # a run that ended before it needed them
                    with contextlib.suppress(BaseException):
                        await task
                owned = [
                    s
                    for s in self.owned_sandboxes
                    if getattr(getattr(s, "config", None), "lifetime", "run") == "run"
                ]
                if self.result is not None and self.result.state is not None:
                    parking.park(self.run_id, owned)  # a pause is not an end: kept until resume/discard/TTL
                    owned = []
                for sandbox in owned:
                    with contextlib.suppress(Exception):
                        await sandbox.close()
                if self.mcp is not None:  # lifetime="run" servers stop here (a paused run reconnects)
                    await asyncio.gather(self.mcp.close(), return_exceptions=True)

    async def _loop(self) -> AsyncIterator[RunEvent]:
        default_tracing()
        new_input = await self._prepare()
        self.caller.conversation_id = self._conversation_id  # a resumed run keeps its first run id
        root_attrs = {**self._agent_attributes(self.agent), "agentcore.run.id": self.run_id}
        with (
            tracing.span(f"invoke_agent {self.agent.name}", root_attrs) as root,
            contextlib.ExitStack() as act,
        ):
            self.trace_id = tracing.trace_id_of(root)
            try:
                async for event in self._turns(new_input, act):
                    yield event
            except AgentcoreError as exc:  # what the run spent goes with the error that ended it
                exc.usage, exc.turns = self.usage.model_copy(deep=True), self.turns
                raise
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
        gate: Gate = []
        if new_input:
            gate = await self._input_guardrails(new_input)
            if self.session is not None:  # saved as the guardrails left it (a rewrite replaces it)
                await self.session.append(self.items[self.saved_len :], active_agent=self.agent.name)
                self.saved_len = len(self.items)
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
            verdict = await apply_guardrails(
                agent.guardrails, "turn", Check("turn", ctx), agent=agent, items=self._snapshot
            )
            if verdict.action == "retry":  # feedback the model reads in this turn's request
                for event in self._feedback(agent, "guardrail", verdict.reason):
                    yield event
            if self.turns >= self.max_turns:
                raise self._fail(MaxTurnsExceeded, f"run exceeded max_turns={self.max_turns}")
            tools, handoffs = await self._tools(agent)
            self.extra["tools"] = list(tools.values())
            request = ModelRequest(
                instructions=await agent.resolve_instructions(ctx),
                items=keep_last_images(self._transcript(), kept := images_kept(tools.values())),
                tools=[t.spec for t in tools.values()] + [h.spec for h in handoffs.values()],
                output_schema=agent.output_schema,
                settings=agent.model_settings,
                cache=self.caches.setdefault(f"{agent.name}|{model.cache_key}", {}),
                conversation_id=self._conversation_id,
                agent_name=agent.name,
                native_tools=native_tool_kinds(agent),
                hosted_tools=tuple(agent.hosted_tools),
            )
            response: ModelResponse | None = None
            async for ev in self.context.call(agent, model, request, gate, kept):
                if isinstance(ev, ModelResponse):
                    response = ev
                else:
                    yield ev
            assert response is not None
            await self._sandboxes_ready()
            if gate:
                await await_gate(gate, agent, self._snapshot)
                gate = []
            self.turns += 1
            self.usage.add(response.usage)
            for item in response.items:
                yield self._append(item.model_copy(update={"agent": agent.name}))
            calls = [
                i for i in self.items[len(self.items) - len(response.items) :] if isinstance(i, ToolCall)
            ]
            if calls:
                if self.caller.held:
                    yield TextDelta(agent.name, self.caller.held)
                async for event in self._tool_turn(agent, calls, tools, handoffs, ctx):
                    yield event
                if self.result is not None:
                    return
                continue
            async for event in self._final_turn(agent, response, ctx):
                yield event
            if self.result is not None:
                return

    async def _input_guardrails(self, new_input: list[Item]) -> Gate:
        rewritten, gate = await check_input(self.agent, self._ctx(self.agent), new_input, self._snapshot)
        if rewritten is not None:
            self.items[len(self.items) - len(new_input) :] = rewritten
        return gate

    async def _tool_turn(
        self,
        agent: Agent[Any],
        calls: list[ToolCall],
        tools: dict[str, Tool],
        handoffs: dict[str, Handoff],
        ctx: RunContext[Any],
        decisions: dict[str, Decision] | None = None,
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
            # saved first: _save updates self.caches, which the paused state carries under its seal
            await self._save()
            self._pause(agent, calls, phase, await parking.save_workspaces(self.agents, self.owned_sandboxes))
            return
        for call in calls:
            yield self._append(phase.results[call.call_id])
        if phase.corrections:
            for event in self.corrections.add(agent, phase.corrections, self._snapshot):
                yield event
        else:
            self.corrections.reset()
        if phase.handoff is not None:
            handoff, call = phase.handoff
            yield self._handoff(agent, handoff, call)
            yield HandoffOccurred(agent.name, handoff.agent.name)
            yield AgentStarted(handoff.agent.name)
        await self._save()
        yield TurnCompleted(agent.name, self.turns, self.usage.model_copy(deep=True))

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

    def _pause(self, agent: Agent[Any], calls: list[ToolCall], phase: ToolPhase, workspaces: Any) -> None:
        pending_ids = {p.call.call_id for p in phase.pending}
        state = RunState(
            run_id=self.run_id,
            agent=agent.name,
            items=list(self.items),
            history_len=self.history_len,
            usage=self.usage.model_copy(deep=True),
            turn=self.turns,
            caches=self.caches,
            pending=sorted(phase.pending, key=lambda p: [c.call_id for c in calls].index(p.call.call_id)),
            completed=[r for cid, r in phase.results.items() if cid not in pending_ids],
            view=dump_view(self.view, self.agent.name),
            session_id=self.session.session_id if self.session else None,
            workspaces=workspaces,
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
        kept = list(self.owned_sandboxes)
        tools, handoffs = await self._tools(agent)
        await self._sandboxes_ready()
        fresh = [s for s in self.owned_sandboxes if all(s is not k for k in kept)]
        await parking.restore_workspaces(state.workspaces, agent, self.agents, fresh)
        decisions = dict(state.decisions)
        phase = ToolPhase(results={r.call_id: r for r in state.completed})
        turn_ids = set(decisions) | set(phase.results)
        calls = [i for i in self.items if isinstance(i, ToolCall) and i.call_id in turn_ids]
        async for event in self._tool_turn(agent, calls, tools, handoffs, self._ctx(agent), decisions, phase):
            yield event

    async def _final_turn(
        self, agent: Agent[Any], response: ModelResponse, ctx: RunContext[Any]
    ) -> AsyncIterator[RunEvent]:
        text = response.text
        refuse_unsupported(agent, response, self._snapshot)
        problem = None
        try:
            output = agent.parse_output(text)
        except OutputValidationError as exc:
            problem = str(exc)
        if problem is not None:  # outside the except: a ModelBehaviorError is not chained to it
            for event in self._feedback(agent, "output_validation", problem):
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
        if verdict.action == "rewrite":  # the answer in the transcript, the result and held text
            start = len(self.items) - len(response.items)
            output = rewrite_output(agent, verdict, self.items, start, self._snapshot)
            self.caller.held = (verdict.replacement or "") if self.caller.held else ""
        for verifier in agent.verifiers:
            outcome = await run_verifier(agent, verifier, ctx, output)
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
        self.corrections.reset()
        if self.caller.held:
            yield TextDelta(agent.name, self.caller.held)
        await self._save()
        self.result = self._result(output)
        yield FinalOutput(agent.name, output)
        yield RunCompleted(self.result)

