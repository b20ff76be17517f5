"""An agent with a sandbox, driven by the real runner and a scripted model: the workspace builds up
across tool calls and across runs exactly as it would at a terminal, and shell output streams live."""

from __future__ import annotations

from agentcore import Agent
from agentcore.events import ToolOutputDelta
from agentcore.messages import ToolResult
from agentcore.runner import Runner
from agentcore.sandboxes.base import Sandbox
from agentcore.testing import ScriptedModel, tool_call

from .backends import sandbox_config
from .conftest import MakeSandbox


async def test_an_agent_builds_a_workspace_across_tool_calls(sandbox: Sandbox) -> None:
    model = ScriptedModel(
        [
            tool_call("shell", {"command": "mkdir -p app && cd app && export MODE=dev"}),
            tool_call("write_file", {"path": "app/main.py", "content": "print('v1')\n"}),
            tool_call("edit_file", {"path": "app/main.py", "old": "v1", "new": "v2"}),
            tool_call("shell", {"command": "echo $MODE; python3 main.py || cat main.py"}),
            tool_call("edit_file", {"path": "app/main.py", "old": "missing", "new": "x"}),
            "done",
        ]
    )
    agent = Agent(name="builder", model=model, sandbox=sandbox)
    result = await Runner.run(agent, "build it")
    outputs = [item for item in result.new_items if isinstance(item, ToolResult)]
    assert [o.name for o in outputs] == ["shell", "write_file", "edit_file", "shell", "edit_file"]
    assert outputs[3].output.startswith("dev\nv2\n") or "print('v2')" in outputs[3].output
    assert f"cwd {sandbox.config.workdir}/app" in outputs[3].output
    assert outputs[4].is_error and "not found" in outputs[4].output
    assert result.final_output == "done"
    assert sandbox.started and not sandbox.closed  # the caller started it, so the caller closes it


async def test_shell_output_streams_as_tool_output_deltas(sandbox: Sandbox) -> None:
    model = ScriptedModel([tool_call("shell", {"command": "for i in 1 2 3; do echo tick$i; done"}), "ok"])
    agent = Agent(name="streamer", model=model, sandbox=sandbox)
    deltas: list[str] = []
    async for event in Runner.stream(agent, "go"):
        if isinstance(event, ToolOutputDelta):
            deltas.append(event.delta)
    assert "".join(deltas) == "tick1\ntick2\ntick3\n"


async def test_a_run_lifetime_sandbox_started_by_the_runner_is_closed_after_the_run(backend: object) -> None:
    from .backends import Backend

    assert isinstance(backend, Backend)
    sandbox = await backend.factory(sandbox_config(lifetime="run"))
    model = ScriptedModel([tool_call("shell", {"command": "echo hi"}), "bye"])
    result = await Runner.run(Agent(name="short", model=model, sandbox=sandbox), "hi")
    assert result.final_output == "bye"
    assert sandbox.closed


async def test_a_session_lifetime_sandbox_keeps_state_between_runs(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox(lifetime="session")
    first = ScriptedModel([tool_call("shell", {"command": "cd /tmp && export TURN=one"}), "ok"])
    await Runner.run(Agent(name="a", model=first, sandbox=sandbox), "turn 1")
    second = ScriptedModel([tool_call("shell", {"command": "echo $TURN; pwd"}), "ok"])
    result = await Runner.run(Agent(name="a", model=second, sandbox=sandbox), "turn 2")
    shell_out = next(i for i in result.new_items if isinstance(i, ToolResult)).output
    assert shell_out.startswith("one\n/tmp\n")
