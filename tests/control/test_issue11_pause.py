"""A run paused for approval keeps what the approved call needs (issue 11, item 14).

The agent's sandbox is a real local (bubblewrap) sandbox that the run starts itself (run-owned). Before
the pause the model writes a file; the approved ``shell`` call reads it after the resume: in this
process (the sandbox was kept), in a fresh sandbox object and in a new process (the workspace travelled
with the serialized state).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentcore import Agent, Runner, RunState
from agentcore.control import paused
from agentcore.errors import ApprovalError, UserError
from agentcore.messages import ToolResult
from agentcore.sandboxes.base import SandboxConfig
from agentcore.sandboxes.local.sandbox import LocalSandbox, bwrap_path
from agentcore.testing import ScriptedModel, tool_call


@pytest.fixture(autouse=True)
def _bwrap_and_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if bwrap_path() is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("bubblewrap is required in CI")
        pytest.skip("bubblewrap is not installed")
    monkeypatch.setenv("AGENTCORE_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    yield
    for run_id in paused.parked_runs():  # nothing a test parked outlives it
        paused._expire(run_id)


def _sandbox() -> LocalSandbox:
    return LocalSandbox(SandboxConfig(approve_tools=("shell",)))


def _agent(sandbox: LocalSandbox, *steps: object) -> Agent[str]:
    return Agent(name="ops", model=ScriptedModel(list(steps)), sandbox=sandbox)  # type: ignore[arg-type]


PAUSING = (
    tool_call("write_file", {"path": "notes/plan.txt", "content": "ship on friday\n"}),
    tool_call("shell", {"command": "cat notes/plan.txt && echo exit-ok"}),
)


def _shell_output(items: list[object]) -> str:
    (result,) = [i for i in items if isinstance(i, ToolResult) and i.name == "shell"]
    return result.output


async def _pause(sandbox: LocalSandbox, *after: object) -> RunState:
    result = await Runner.run(_agent(sandbox, *PAUSING, *after), "plan it")
    assert result.paused and result.state is not None
    (pending,) = result.interruptions
    assert pending.call.name == "shell"
    return result.state


async def test_item14_in_process_resume_finds_the_kept_sandbox() -> None:
    sandbox = _sandbox()
    agent = _agent(sandbox, *PAUSING, "done")
    first = await Runner.run(agent, "plan it")
    assert first.paused and first.state is not None
    assert sandbox.started and not sandbox.closed  # kept, not closed by the pause
    state = first.state
    state.approve(first.interruptions[0].call.call_id)
    done = await Runner.run(agent, state)
    assert done.final_output == "done"
    output = _shell_output(done.items)  # type: ignore[arg-type]
    assert "ship on friday" in output and "exit-ok" in output and "closed" not in output
    assert sandbox.closed  # the resumed run finished: the run-owned sandbox is closed now
    assert state.run_id not in paused.parked_runs()


async def test_item14_a_fresh_sandbox_object_gets_the_workspace_from_the_json_state() -> None:
    old = _sandbox()
    text = (await _pause(old)).to_json()
    await RunState.from_json(text).discard()  # as if the pausing process had ended
    assert old.closed
    assert json.loads(text)["workspaces"]["ops"]["entries"]  # the workspace travels in the sealed state

    state = RunState.from_json(text)
    state.approve(state.pending[0].call.call_id)
    fresh = _sandbox()
    done = await Runner.run(_agent(fresh, "done"), state)
    output = _shell_output(done.items)  # type: ignore[arg-type]
    assert "ship on friday" in output and "exit-ok" in output
    assert fresh.closed


RESUME = textwrap.dedent("""
    import sys
    from agentcore import Agent, Runner, RunState
    from agentcore.messages import ToolResult
    from agentcore.sandboxes.base import SandboxConfig
    from agentcore.sandboxes.local.sandbox import LocalSandbox
    from agentcore.testing import ScriptedModel

    state = RunState.from_json(open(sys.argv[1]).read())
    state.approve(state.pending[0].call.call_id)
    sandbox = LocalSandbox(SandboxConfig(approve_tools=("shell",)))
    agent = Agent(name="ops", model=ScriptedModel(["done"]), sandbox=sandbox)
    result = Runner.run_sync(agent, state)
    print([i.output for i in result.items if isinstance(i, ToolResult) and i.name == "shell"][0])
""")


async def test_item14_a_new_process_resumes_with_the_workspace(tmp_path: Path) -> None:
    sandbox = _sandbox()
    state = await _pause(sandbox)
    (tmp_path / "state.json").write_text(state.to_json())
    await state.discard()
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", RESUME, str(tmp_path / "state.json")],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "ship on friday" in proc.stdout and "exit-ok" in proc.stdout


async def test_item14_the_kept_sandbox_is_closed_after_the_ttl_and_then_resume_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = _sandbox()
    monkeypatch.setattr(paused, "PAUSED_SANDBOX_TTL", 0.2)
    state = await _pause(sandbox)
    for _ in range(200):
        if sandbox.closed:
            break
        await asyncio.sleep(0.05)
    assert sandbox.closed and state.run_id not in paused.parked_runs()
    state.approve(state.pending[0].call.call_id)
    with pytest.raises(UserError, match="closed while the run was paused"):
        await Runner.run(_agent(sandbox, "done"), state)


async def test_item14_a_workspace_over_the_limit_resumes_here_but_cannot_leave_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(paused, "SNAPSHOT_MAX_BYTES", 4)
    sandbox = _sandbox()
    agent = _agent(sandbox, *PAUSING, "done")
    first = await Runner.run(agent, "plan it")
    state = first.state
    assert state is not None
    with pytest.raises(ApprovalError, match=r"cannot leave this process.*snapshot limit"):
        state.to_json()
    state.approve(state.pending[0].call.call_id)
    done = await Runner.run(agent, state)
    assert "ship on friday" in _shell_output(done.items)  # type: ignore[arg-type]
