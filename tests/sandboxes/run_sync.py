"""Two agent turns through ``Runner.run_sync`` on one session-lifetime sandbox, for every backend.

``Runner.run_sync`` runs each call in a fresh event loop; a sandbox with ``lifetime="session"`` must
carry its workspace and its shell from one call to the next. Each backend's test builds the sandbox,
passes the first and the second turn's tool call, and asserts on what the second one printed.
"""

from __future__ import annotations

import asyncio

from agentcore import Agent
from agentcore.messages import ToolResult
from agentcore.run.runner import Runner
from agentcore.sandboxes.base import Sandbox
from agentcore.testing import ScriptedModel, Step


def second_turn_output(sb: Sandbox, first: Step, second: Step) -> str:
    """Run ``first`` in one ``run_sync`` call and ``second`` in the next, close ``sb``, and return
    the output of the second call's tool."""
    try:
        Runner.run_sync(Agent(name="a", model=ScriptedModel([first, "ok"]), sandbox=sb), "one")
        result = Runner.run_sync(Agent(name="a", model=ScriptedModel([second, "ok"]), sandbox=sb), "two")
        return next(i for i in result.new_items if isinstance(i, ToolResult)).output
    finally:
        asyncio.run(sb.close())
