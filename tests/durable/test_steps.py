"""The step-runner contract the durable engine relies on, with a recording runner (no database): a
replay re-creates the run from the steps' records alone — no model call, no tool call, same state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from agentcore import Agent, tool
from agentcore.model import ModelRequest
from agentcore.run.loop import RunLoop
from agentcore.run.runner import Runner
from agentcore.run.steps import use_step_runner
from agentcore.testing import FunctionModel, Step, tool_call

effects: list[int] = []


@tool
async def bump(n: int) -> str:
    """Count."""
    effects.append(n)
    return f"bumped {n}"


class Recorder:
    """Records each step's outcome; with ``replay`` set, answers from the records instead."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str, Any]] = []
        self.replay: list[tuple[str, str, Any]] | None = None

    async def __call__(self, kind: str, name: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        if self.replay is not None:
            recorded_kind, recorded_name, value = self.replay.pop(0)
            assert (recorded_kind, recorded_name) == (kind, name)
            return value
        value = await fn()
        self.records.append((kind, name, value))
        return value


def script(request: ModelRequest) -> Step | str:
    done = sum(1 for i in request.items if getattr(i, "type", "") == "tool_result")
    request.cache["server_state"] = f"response-{done}"  # what an adapter with server-side state keeps
    return tool_call("bump", {"n": done}) if done < 3 else "done"


async def run(agent: Agent[Any], recorder: Recorder) -> RunLoop:
    loop = RunLoop(
        agent,
        "go",
        session=None,
        deps=None,
        max_turns=None,
        retry=Runner.retry_policy,
        user_streaming=False,
        hold_output=False,
    )
    loop.run_id = "run-1"
    with use_step_runner(recorder):
        async for _ in loop.events():
            pass
    return loop


async def test_a_replay_makes_no_call_and_rebuilds_the_same_run() -> None:
    model = FunctionModel(script)
    agent = Agent(name="counter", model=model, tools=[bump])
    recorder = Recorder()
    first = await run(agent, recorder)
    assert effects == [0, 1, 2] and len(model.requests) == 4
    assert [k for k, _, _ in recorder.records] == ["model", "tool"] * 3 + ["model"]
    recorder.replay = list(recorder.records)
    second = await run(agent, recorder)
    assert effects == [0, 1, 2] and len(model.requests) == 4  # nothing ran again
    assert recorder.replay == []
    assert first.result is not None and second.result is not None
    assert second.result.final_output == first.result.final_output == "done"
    assert [i.model_dump(exclude={"id"}) for i in second.items] == [
        i.model_dump(exclude={"id"}) for i in first.items
    ]
    assert second.caches == first.caches  # the adapter's server-side state, restored from the records
    assert next(iter(second.caches.values()))["server_state"] == "response-3"
