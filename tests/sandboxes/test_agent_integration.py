"""An agent with a sandbox, driven by the real runner and a scripted model: the workspace builds up
across tool calls and across runs exactly as it would at a terminal, and shell output streams live."""

from __future__ import annotations

import re

from agentcore import Agent
from agentcore.events import ToolOutputDelta
from agentcore.messages import ToolResult
from agentcore.run.runner import Runner
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


async def _kill_from_outside(sandbox: Sandbox) -> None:
    """The whole sandbox dies under the run: bwrap's init killed, or the container killed."""
    import asyncio
    import os

    from agentcore.sandboxes.docker.sandbox import DockerSandbox
    from agentcore.sandboxes.local.sandbox import LocalSandbox

    if isinstance(sandbox, LocalSandbox):
        assert sandbox._init_pid is not None
        os.kill(sandbox._init_pid, 9)
    elif isinstance(sandbox, DockerSandbox):
        import docker

        await asyncio.to_thread(docker.from_env().api.kill, sandbox.container_id)
    elif getattr(sandbox, "envd", None) is not None:  # the E2B stand-in: its VM and daemon vanish
        await asyncio.to_thread(sandbox.envd.stop)  # type: ignore[attr-defined]
    else:  # the Modal stand-in: the sandbox's VM is killed
        await asyncio.to_thread(sandbox._sb.vm.stop)  # type: ignore[attr-defined]
    await asyncio.sleep(0.3)


async def test_a_sandbox_that_dies_mid_run_is_reported_and_the_history_survives(sandbox: Sandbox) -> None:
    from agentcore.model import ModelRequest
    from agentcore.sessions.base import InMemorySession
    from agentcore.testing import FunctionModel, Step

    async def model_turn(request: ModelRequest) -> Step | str:
        done = [i for i in request.items if isinstance(i, ToolResult)]
        if not done:
            return tool_call("shell", {"command": "echo before > notes.txt && cat notes.txt"})
        if len(done) == 1:
            await _kill_from_outside(sandbox)  # dies while the model is thinking
            return tool_call("shell", {"command": "cat notes.txt"})
        return "the sandbox is gone; here is what I had"

    agent = Agent(name="survivor", model=FunctionModel(model_turn), sandbox=sandbox)
    session = InMemorySession()
    result = await Runner.run(agent, "work", session=session)
    assert result.final_output == "the sandbox is gone; here is what I had"
    snapshot = await session.load()
    results = [i for i in snapshot.items if isinstance(i, ToolResult)]
    assert [r.is_error for r in results] == [False, True]
    assert results[0].output.startswith("before\n")
    assert re.search(r"died|stopped|gone|ended", results[1].output), results[1].output


async def test_a_sandbox_the_run_starts_starts_while_the_model_thinks(local_backend: object) -> None:
    import asyncio

    from agentcore.model import ModelRequest
    from agentcore.sandboxes.local.sandbox import LocalSandbox
    from agentcore.testing import FunctionModel, Step

    sandbox = LocalSandbox(sandbox_config(lifetime="run"))
    seen: list[tuple[str, bool]] = []

    async def model_turn(request: ModelRequest) -> Step | str:
        seen.append(("enter", sandbox.started))
        await asyncio.sleep(0.3)  # the model thinking: the sandbox starts meanwhile
        seen.append(("leave", sandbox.started))
        default = sandbox._sessions.get("default")
        seen.append(("shell up", default is not None and default.shell_pid is not None))
        if not any(isinstance(i, ToolResult) for i in request.items):
            return tool_call("shell", {"command": "echo ready"})
        return "done"

    result = await Runner.run(Agent(name="overlap", model=FunctionModel(model_turn), sandbox=sandbox), "go")
    assert seen[:3] == [("enter", False), ("leave", True), ("shell up", True)]
    assert next(i for i in result.new_items if isinstance(i, ToolResult)).output.startswith("ready\n")
    assert sandbox.closed


async def test_a_sandbox_that_cannot_start_fails_the_run_before_any_tool_runs(
    local_backend: object, tmp_path: object
) -> None:
    from pathlib import Path

    import pytest

    from agentcore.errors import SandboxError
    from agentcore.sandboxes.local.sandbox import LocalSandbox

    not_a_dir = Path(str(tmp_path)) / "file"
    not_a_dir.write_text("x")
    sandbox = LocalSandbox(sandbox_config(lifetime="run"), workspace_dir=not_a_dir)
    model = ScriptedModel([tool_call("shell", {"command": "echo never"}), "done"])
    with pytest.raises(SandboxError, match="not a directory"):
        await Runner.run(Agent(name="broken", model=model, sandbox=sandbox), "go")
    assert sandbox.closed or not sandbox.started
