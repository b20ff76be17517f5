"""One durable run is one DBOS workflow (id = the run id) on the ``agentcore-runs`` queue.

The workflow function builds the run's :class:`~agentcore.run.loop.RunLoop` for an agent registered
in this process (:func:`register_agents`, done by :class:`~agentcore.durable.worker.Worker`) and drives
it with the DBOS step runner installed; everything the loop does between steps is a deterministic
function of the steps' recorded outcomes, so a replay after a crash rebuilds the same state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOS

from ..agent import Agent
from ..errors import UserError
from ..messages import dump_items
from ..run.loop import RunLoop
from ..run.runner import Runner
from ..run.steps import use_step_runner
from .steps import dbos_step

APP_NAME = "agentcore"
QUEUE = "agentcore-runs"
WORKFLOW = "agentcore.durable.run"

_agents: dict[str, Agent[Any]] = {}


def register_agents(agents: dict[str, Agent[Any]]) -> None:
    """Make these agents runnable by durable workflows in this process (by name)."""
    _agents.update(agents)


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
async def durable_run(agent_name: str, input: str, max_turns: int | None = None) -> dict[str, Any]:
    """The workflow: one agent run whose model calls, tool calls, guardrails and verifiers are steps."""
    run_id = DBOS.workflow_id
    assert run_id is not None
    agent = _agents.get(agent_name)
    if agent is None:
        raise UserError(f"no agent {agent_name!r} on this worker (registered: {sorted(_agents)})")
    loop = RunLoop(
        agent,
        input,
        session=None,
        deps=None,
        max_turns=max_turns,
        retry=Runner.retry_policy,
        user_streaming=False,
        hold_output=False,
    )
    loop.run_id = run_id
    with use_step_runner(dbos_step):
        async for _ in loop.events():
            pass
    result = loop.result
    assert result is not None
    if result.state is not None:
        raise UserError("durable runs cannot pause for approval yet (approvals across workers)")
    return {
        "run_id": run_id,
        "final_output": _jsonable(result.final_output),
        "last_agent": result.last_agent,
        "turns": result.turns,
        "usage": result.usage.model_dump(mode="json"),
        "new_items": dump_items(result.new_items),
    }
