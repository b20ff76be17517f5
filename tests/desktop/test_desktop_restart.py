"""The display comes back after its X server is killed inside the sandbox (issue 16): the next action
of the ``computer`` tool restarts it and the run goes on."""

from __future__ import annotations

from agentcore import Agent
from agentcore.messages import ImagePart, ToolResult
from agentcore.run.runner import Runner
from agentcore.sandboxes.base import Sandbox
from agentcore.testing import ScriptedModel, tool_call

from .conftest import open_app
from .test_desktop import BUTTON


async def test_a_killed_display_is_restarted_by_the_next_action(desktop_sandbox: Sandbox) -> None:
    sb = desktop_sandbox
    await open_app(sb)
    assert await sb.desktop.alive()
    await sb.exec(["sh", "-c", "kill -9 -1"], timeout=10)  # every process of the sandbox user
    assert not await sb.desktop.alive()
    model = ScriptedModel(
        [
            tool_call("computer", {"action": "screenshot"}),
            tool_call("computer", {"action": "click", "x": BUTTON[0], "y": BUTTON[1]}),
            "the screen is back",
        ]
    )
    result = await Runner.run(Agent(name="desk", model=model, sandbox=sb), "look")
    assert result.final_output == "the screen is back"
    shot, click = [i for i in result.items if isinstance(i, ToolResult)]
    assert not shot.is_error and "restarted" in shot.output and isinstance(shot.parts[0], ImagePart)
    assert not click.is_error and "restarted" not in click.output
    assert sb.desktop.restarts == 1 and await sb.desktop.alive()
    assert await sb.desktop.cursor_position() == BUTTON  # xdotool works on the new display


async def test_an_action_on_a_dead_display_restarts_it_too(desktop_sandbox: Sandbox) -> None:
    sb = desktop_sandbox
    await sb.exec(["sh", "-c", "kill -9 -1"], timeout=10)
    model = ScriptedModel([tool_call("computer", {"action": "move", "x": 300, "y": 200}), "moved"])
    result = await Runner.run(Agent(name="desk", model=model, sandbox=sb), "move")
    (moved,) = [i for i in result.items if isinstance(i, ToolResult)]
    assert not moved.is_error and "restarted" in moved.output
    assert await sb.desktop.cursor_position() == (300, 200)
