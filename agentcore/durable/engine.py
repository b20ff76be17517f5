"""One durable run is one DBOS workflow (id = the run id) on the ``agentcore-runs`` queue.

The workflow function builds the run's :class:`~agentcore.run.loop.RunLoop` for an agent registered
in this process (:func:`register_agents`, done by :class:`~agentcore.durable.worker.Worker`) and drives
it with the DBOS step runner installed; everything the loop does between steps is a deterministic
function of the steps' recorded outcomes, so a replay after a crash rebuilds the same state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from dbos import DBOS

from ..agent import Agent
from ..control import paused as parking
from ..control.approvals import RunState
from ..errors import UserError
from ..events import (
    AgentStarted,
    HandoffOccurred,
    ItemAdded,
    RunResult,
    ToolCallFinished,
    ToolCallStarted,
    TurnCompleted,
)
from ..messages import Item, Usage, dump_items
from ..run.loop import RunLoop
from ..run.runner import Runner
from ..run.steps import run_step, use_step_runner
from ..sessions.base import Session, SessionSnapshot
from . import sandboxes
from .steps import dbos_step

APP_NAME = "agentcore"
QUEUE = "agentcore-runs"
WORKFLOW = "agentcore.durable.run"
PENDING_EVENT = "agentcore.pending"
DECISIONS_TOPIC = "agentcore.decisions"
EVENTS_STREAM = "agentcore.events"
STREAMED = (AgentStarted, ItemAdded, ToolCallStarted, ToolCallFinished, HandoffOccurred, TurnCompleted)
"""The events a run submitted with ``stream=True`` publishes (deltas are not: a durable run does not
stream the model's text)."""

_agents: dict[str, Agent[Any]] = {}
_database: dict[str, str] = {}


def register_agents(agents: dict[str, Agent[Any]], *, dsn: str | None = None) -> None:
    """Make these agents runnable by durable workflows in this process (by name); ``dsn`` is where
    runs with a ``session_id`` keep their :class:`~agentcore.sessions.postgres.PostgresSession`."""
    _agents.update(agents)
    if dsn is not None:
        _database["dsn"] = dsn


class RecordedSession(Session):
    """A session whose reads and writes are steps of the run: a replay continues from the history the
    run loaded the first time (not from what it has written since), and does not write again the turns
    it already wrote (a crash between a write and its record writes that turn again: at least once)."""

    def __init__(self, inner: Session) -> None:
        self.inner = inner
        self.session_id = inner.session_id

    async def load(self) -> SessionSnapshot:
        return await run_step("session", "load", self.inner.load)

    async def append(
        self,
        items: Sequence[Item],
        *,
        active_agent: str | None = None,
        caches: dict[str, dict[str, Any]] | None = None,
        usage: Usage | None = None,
    ) -> None:
        write = partial(self.inner.append, list(items), active_agent=active_agent, caches=caches, usage=usage)
        await run_step("session", "append", write)

    def lock(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self.inner.lock()


@dataclass
class DurableResult:
    """What a finished durable run returns (JSON-able, so any process can read it)."""

    run_id: str
    final_output: Any
    last_agent: str
    turns: int
    usage: dict[str, Any] = field(default_factory=dict)
    new_items: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DurableResult:
        return cls(**data)


def event_json(event: Any) -> dict[str, Any]:
    """A run event as JSON: ``{"type": "ToolCallFinished", "agent": ..., "call": {...}, ...}``."""
    out: dict[str, Any] = {"type": type(event).__name__}
    for f in dataclasses.fields(event):
        out[f.name] = _jsonable(getattr(event, f.name))
    return out


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


@DBOS.workflow(name=WORKFLOW)
async def durable_run(
    agent_name: str,
    input: str,
    max_turns: int | None = None,
    session_id: str | None = None,
    stream: bool = False,
) -> dict[str, Any]:
    """The workflow: one agent run whose model calls, tool calls, guardrails and verifiers are steps;
    a pause for approval waits inside it for the decisions (:func:`_await_decisions`)."""
    run_id = DBOS.workflow_id
    assert run_id is not None
    agent = _agents.get(agent_name)
    if agent is None:
        raise UserError(f"no agent {agent_name!r} on this worker (registered: {sorted(_agents)})")
    session: Session | None = None
    if session_id is not None:
        from ..sessions.postgres import PostgresSession

        if "dsn" not in _database:
            raise UserError("this worker has no database for sessions (register_agents(..., dsn=...))")
        session = RecordedSession(PostgresSession(session_id, _database["dsn"]))
    current: Any = input or None
    new_items: list[Item] = []
    readied: list[Any] = []  # the sandboxes this execution started or reattached (see .sandboxes)
    try:
        result = await _drive(run_id, agent, current, session, max_turns, stream, new_items, readied)
    except Exception:
        await sandboxes.release(run_id, readied, finished=True)
        raise
    await sandboxes.release(run_id, readied, finished=True)
    if stream:
        await DBOS.close_stream_async(EVENTS_STREAM)
    return {
        "run_id": run_id,
        "final_output": _jsonable(result.final_output),
        "last_agent": result.last_agent,
        "turns": result.turns,
        "usage": result.usage.model_dump(mode="json"),
        "new_items": dump_items(new_items),
    }


async def _drive(
    run_id: str,
    agent: Agent[Any],
    current: Any,
    session: Session | None,
    max_turns: int | None,
    stream: bool,
    new_items: list[Item],
    readied: list[Any],
) -> RunResult[Any]:
    """The run's loops: the first, and one more after each pause for approval."""
    first = True
    while True:
        loop = RunLoop(
            agent,
            current,
            session=session,
            deps=None,
            max_turns=max_turns,
            retry=Runner.retry_policy,
            user_streaming=False,
            hold_output=False,
        )
        loop.run_id = run_id
        if first:  # before the first step: start or reattach the run's sandboxes
            readied += await sandboxes.ready(run_id, loop.agents, loop.owned_sandboxes)
            first = False
        with use_step_runner(dbos_step):
            async for event in loop.events():
                if stream and isinstance(event, STREAMED):  # a write per event, recorded: no repeats
                    await DBOS.write_stream_async(EVENTS_STREAM, event_json(event))
        result = loop.result
        assert result is not None
        new_items += result.new_items
        if result.state is None:
            break
        # the run keeps its parked sandboxes for as long as it waits (a plain run's pause TTL does not
        # apply: the wait is part of the workflow); the next loop claims them back
        kept = parking.claim(run_id)
        try:
            current = await _await_decisions(result.state)
        finally:
            parking.park(run_id, kept)
    return result


async def _await_decisions(state: RunState) -> RunState:
    """A pause for approval: publish the pending calls (the ``agentcore.pending`` event), wait for the
    decisions (a ``agentcore.decisions`` message, see :meth:`DurableRunner.decide`), apply them. The
    wait is part of the workflow: a worker that dies while it waits hands the run to another, which
    waits in its place, and a decision sent before that is not lost."""
    pending = [
        {"call_id": p.call.call_id, "name": p.call.name, "arguments": p.call.arguments, "agent": p.agent}
        for p in state.pending
    ]
    await DBOS.set_event_async(PENDING_EVENT, pending)
    decisions: dict[str, Any] | None = None
    while decisions is None:
        decisions = await DBOS.recv_async(DECISIONS_TOPIC, timeout_seconds=3600)
    await DBOS.set_event_async(PENDING_EVENT, [])
    for call in pending:
        decision = decisions.get(call["call_id"])
        if decision is None:
            raise UserError(f"no decision for call {call['call_id']} of run {state.run_id}")
        if decision.get("approved"):
            state.approve(call["call_id"])
        else:
            state.reject(call["call_id"], str(decision.get("reason", "")))
    return state
