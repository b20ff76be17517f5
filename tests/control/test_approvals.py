"""Human approval: pause, decide, resume; approvals are bound, single-use and unforgeable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentcore import Agent, Runner, RunState, tool
from agentcore.errors import ApprovalError
from agentcore.messages import ToolResult
from agentcore.testing import ScriptedModel, reply
from tests.core.conftest import Spans

deployed: list[str] = []


@tool(needs_approval=True)
def deploy(env: str) -> str:
    """Deploy to an environment."""
    deployed.append(env)
    return f"deployed to {env}"


@tool
def status() -> str:
    """Current status."""
    return "green"


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTCORE_HOME", str(tmp_path))
    deployed.clear()


def _agent(*steps) -> Agent:  # type: ignore[no-untyped-def]
    return Agent(name="ops", model=ScriptedModel(list(steps)), tools=[deploy, status])


async def test_run_pauses_then_resumes_after_approval(spans: Spans) -> None:
    agent = _agent(reply(None, ("status", {}), ("deploy", {"env": "prod"})), "Deployed.")
    paused = await Runner.run(agent, "ship it")
    assert paused.paused and paused.final_output is None
    (pending,) = paused.interruptions
    assert pending.call.name == "deploy" and deployed == []
    state = RunState.from_json(paused.state.to_json())  # e.g. stored while a human decides
    state.approve(pending.call.call_id)
    done = await Runner.run(agent, state)
    assert done.final_output == "Deployed."
    assert deployed == ["prod"]
    outputs = [i.output for i in done.items if isinstance(i, ToolResult)]
    assert outputs == ["green", "deployed to prod"]
    assert {s.attributes.get("agentcore.approval") for s in spans.named("execute_tool deploy")} == {
        "pending",
        "approved",
    }


async def test_rejection_goes_back_to_the_model() -> None:
    agent = _agent(reply(None, ("deploy", {"env": "prod"})), "OK, not deploying.")
    paused = await Runner.run(agent, "ship it")
    state = paused.state
    state.reject(paused.interruptions[0].call.call_id, "freeze week")
    done = await Runner.run(agent, state)
    assert deployed == [] and done.final_output == "OK, not deploying."
    result = next(i for i in done.items if isinstance(i, ToolResult))
    assert result.is_error and "rejected" in result.output


async def test_approval_is_single_use() -> None:
    agent = _agent(reply(None, ("deploy", {"env": "prod"})), "Deployed.", "again")
    paused = await Runner.run(agent, "ship it")
    paused.state.approve_all()
    text = paused.state.to_json()
    await Runner.run(agent, RunState.from_json(text))
    with pytest.raises(ApprovalError, match="already used"):
        await Runner.run(agent, RunState.from_json(text))
    assert deployed == ["prod"]


async def test_editing_the_arguments_after_approval_is_detected() -> None:
    agent = _agent(reply(None, ("deploy", {"env": "staging"})), "Deployed.")
    paused = await Runner.run(agent, "ship to staging")
    paused.state.approve_all()
    data = json.loads(paused.state.to_json())
    data["pending"][0]["call"]["arguments"] = json.dumps({"env": "prod"})
    for item in data["items"]:
        if item.get("type") == "tool_call":
            item["arguments"] = json.dumps({"env": "prod"})
    with pytest.raises(ApprovalError):
        await Runner.run(agent, RunState.from_json(json.dumps(data)))
    assert deployed == []


async def test_a_forged_approval_is_refused() -> None:
    agent = _agent(reply(None, ("deploy", {"env": "prod"})), "Deployed.")
    paused = await Runner.run(agent, "ship it")
    data = json.loads(paused.state.to_json())
    call_id = data["pending"][0]["call"]["call_id"]
    data["decisions"] = {call_id: {"approved": True, "reason": "", "token": "0" * 64}}
    with pytest.raises(ApprovalError, match="forged"):
        await Runner.run(agent, RunState.from_json(json.dumps(data)))
    # and an approval made with another key does not verify either
    state = RunState.from_json(paused.state.to_json())
    state.approve(call_id, key=b"attacker-key")
    with pytest.raises(ApprovalError, match="forged"):
        await Runner.run(agent, state)
    assert deployed == []


async def test_missing_decision_and_schema_version() -> None:
    agent = _agent(reply(None, ("deploy", {"env": "prod"})))
    paused = await Runner.run(agent, "ship it")
    with pytest.raises(ApprovalError, match="no decision"):
        await Runner.run(agent, paused.state)
    data = json.loads(paused.state.to_json())
    data["schema_version"] = 99
    with pytest.raises(ApprovalError, match="schema version"):
        RunState.from_json(json.dumps(data))


async def test_approval_predicate_decides_per_call() -> None:
    @tool(needs_approval=lambda ctx, args: args["amount"] > 100)
    def pay(amount: int) -> str:
        """Pay."""
        return f"paid {amount}"

    agent = Agent(
        name="p", model=ScriptedModel([reply(None, ("pay", {"amount": 5})), "small ok"]), tools=[pay]
    )
    assert (await Runner.run(agent, "pay 5")).final_output == "small ok"
    agent = Agent(name="p", model=ScriptedModel([reply(None, ("pay", {"amount": 500}))]), tools=[pay])
    assert (await Runner.run(agent, "pay 500")).paused
