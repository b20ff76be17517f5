"""The runner loop, driven by the scripted model: what a user sees of a run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel

from agentcore import Agent, InMemorySession, RunContext, Runner, tool
from agentcore.errors import MaxTurnsExceeded, ModelBehaviorError, ToolError, UserError
from agentcore.events import (
    FinalOutput,
    RunCompleted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCompleted,
)
from agentcore.messages import AssistantMessage, ToolCall, ToolResult, UserMessage
from agentcore.model import ModelRequest
from agentcore.testing import FunctionModel, ScriptedModel, reply, tool_call


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
async def lookup(city: str) -> str:
    """Look up the weather."""
    return f"sunny in {city}"


class Report(BaseModel):
    city: str
    total: int


async def test_plain_text_answer() -> None:
    result = await Runner.run(Agent(name="echo", model=ScriptedModel(["hello"])), "hi")
    assert result.final_output == "hello"
    assert result.turns == 1
    assert [type(i) for i in result.new_items] == [UserMessage, AssistantMessage]
    assert result.usage.requests == 1


async def test_two_tools_and_a_pydantic_output() -> None:
    model = ScriptedModel(
        [
            reply(None, ("add", {"a": 2, "b": 3}), ("lookup", {"city": "Oslo"})),
            '{"city": "Oslo", "total": 5}',
        ]
    )
    agent = Agent(name="reporter", model=model, tools=[add, lookup], output_type=Report)
    result = await Runner.run(agent, "report")
    assert result.final_output == Report(city="Oslo", total=5)
    results = [i for i in result.new_items if isinstance(i, ToolResult)]
    assert [r.output for r in results] == ["5", "sunny in Oslo"]
    # The model saw both tools and the output schema.
    first = model.requests[0]
    assert {t.name for t in first.tools} == {"add", "lookup"}
    assert first.output_schema is not None and first.output_schema.schema["required"] == ["city", "total"]
    # and on its second call, the results of its calls in call order.
    assert [type(i).__name__ for i in model.requests[1].items] == [
        "UserMessage",
        "ToolCall",
        "ToolCall",
        "ToolResult",
        "ToolResult",
    ]
    assert result.usage.requests == 2


async def test_non_object_output_types_are_wrapped() -> None:
    model = ScriptedModel(['{"response": [1, 2, 3]}'])
    result = await Runner.run(Agent(name="n", model=model, output_type=list[int]), "numbers")
    assert result.final_output == [1, 2, 3]
    assert model.requests[0].output_schema.schema["required"] == ["response"]  # type: ignore[union-attr]


async def test_invalid_output_is_fed_back_and_corrected() -> None:
    model = ScriptedModel(['{"city": "Oslo"}', "not json at all", '{"city": "Oslo", "total": 1}'])
    result = await Runner.run(Agent(name="r", model=model, output_type=Report), "go")
    assert result.final_output == Report(city="Oslo", total=1)
    feedback = [i.text for i in result.new_items if isinstance(i, UserMessage)][1:]
    assert "total: Field required" in feedback[0]
    assert "not valid JSON" in feedback[1]


async def test_model_mistakes_go_back_as_tool_errors() -> None:
    model = ScriptedModel(
        [
            tool_call("add", "{broken"),
            tool_call("add", {"a": "seven", "b": 1}),
            tool_call("subtract", {"a": 1}),
            tool_call("add", {"a": 1, "b": 1}),
            "2",
        ]
    )
    result = await Runner.run(Agent(name="m", model=model, tools=[add], max_corrections=3), "1+1")
    errors = [i.output for i in result.new_items if isinstance(i, ToolResult) and i.is_error]
    assert "not valid JSON" in errors[0]
    assert "a: Input should be a valid integer" in errors[1]
    assert "unknown tool 'subtract'" in errors[2] and "add" in errors[2]
    assert result.final_output == "2"


async def test_the_mistake_budget_ends_a_run_that_never_learns() -> None:
    model = ScriptedModel([tool_call("nope")] * 5)
    with pytest.raises(ModelBehaviorError) as info:
        await Runner.run(Agent(name="m", model=model, tools=[add], max_corrections=2), "go")
    assert any(isinstance(i, ToolResult) for i in info.value.items)


async def test_tool_exceptions_are_reported_to_the_model_not_raised() -> None:
    @tool
    def explode(kind: str) -> str:
        """Fail."""
        if kind == "tool":
            raise ToolError("disk is full, try a smaller file")
        raise RuntimeError("bug")

    model = ScriptedModel([reply(None, ("explode", {"kind": "tool"}), ("explode", {"kind": "bug"})), "sorry"])
    result = await Runner.run(Agent(name="e", model=model, tools=[explode]), "go")
    outputs = [i.output for i in result.new_items if isinstance(i, ToolResult)]
    assert outputs == ["disk is full, try a smaller file", "RuntimeError: bug"]


async def test_max_turns_raises_with_the_partial_transcript() -> None:
    model = ScriptedModel([tool_call("add", {"a": 1, "b": 1})] * 10)
    with pytest.raises(MaxTurnsExceeded) as info:
        await Runner.run(Agent(name="loop", model=model, tools=[add]), "go", max_turns=3)
    assert len([i for i in info.value.items if isinstance(i, ToolResult)]) == 3
    assert info.value.agent_name == "loop"


async def test_parallel_tool_calls_run_concurrently_and_bounded() -> None:
    running = 0
    peak = 0

    @tool
    async def work(n: int) -> int:
        """Do some work."""
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return n

    calls = [("work", {"n": i}) for i in range(6)]
    model = ScriptedModel([reply(None, *calls), "done"])
    result = await Runner.run(Agent(name="p", model=model, tools=[work], max_parallel_tools=3), "go")
    assert peak == 3
    assert [i.output for i in result.new_items if isinstance(i, ToolResult)] == [str(i) for i in range(6)]


async def test_instructions_may_be_a_function_of_the_context() -> None:
    def instructions(ctx: RunContext[dict[str, str]]) -> str:
        return f"You help {ctx.deps['user']}."

    model = ScriptedModel(["ok"])
    await Runner.run(Agent(name="i", model=model, instructions=instructions), "hi", deps={"user": "Ada"})
    assert model.requests[0].instructions == "You help Ada."


async def test_tools_receive_the_run_context() -> None:
    @tool
    def whoami(ctx: RunContext[str]) -> str:
        """Report."""
        return f"{ctx.agent.name}/{ctx.deps}/{ctx.tool_call.call_id if ctx.tool_call else None}"

    model = ScriptedModel([tool_call("whoami"), "ok"])
    result = await Runner.run(Agent(name="ctxy", model=model, tools=[whoami]), "go", deps="D")
    out = next(i for i in result.new_items if isinstance(i, ToolResult)).output
    assert out.startswith("ctxy/D/call_")


async def test_stream_yields_typed_events_in_order() -> None:
    model = ScriptedModel([tool_call("add", {"a": 1, "b": 2}), "three it is"])
    stream = Runner.stream(Agent(name="s", model=model, tools=[add]), "go")
    kinds = []
    text = ""
    async for event in stream:
        kinds.append(event.kind)
        if isinstance(event, TextDelta):
            text += event.delta
    assert text == "three it is"
    assert kinds.index("tool_call_started") < kinds.index("tool_call_finished") < kinds.index("text_delta")
    assert kinds[-2:] == ["final_output", "run_completed"]
    assert stream.result.final_output == "three it is"


async def test_stream_and_run_produce_the_same_transcript() -> None:
    def script() -> ScriptedModel:
        return ScriptedModel([tool_call("add", {"a": 1, "b": 2}), "3"])

    ran = await Runner.run(Agent(name="x", model=script(), tools=[add]), "go")
    streamed = await Runner.stream(Agent(name="x", model=script(), tools=[add]), "go").final()
    strip = lambda items: [(type(i).__name__, getattr(i, "text", getattr(i, "output", ""))) for i in items]  # noqa: E731
    assert strip(ran.new_items) == strip(streamed.new_items)


async def test_stream_surfaces_errors_to_the_consumer() -> None:
    stream = Runner.stream(
        Agent(name="x", model=ScriptedModel([tool_call("add", {"a": 1, "b": 1})] * 3), tools=[add]),
        "go",
        max_turns=1,
    )
    events: list[Any] = []
    with pytest.raises(MaxTurnsExceeded):
        async for event in stream:
            events.append(event)
    assert any(isinstance(e, ToolCallStarted) for e in events)
    assert any(isinstance(e, ToolCallFinished) for e in events)
    assert any(isinstance(e, TurnCompleted) for e in events)
    assert not any(isinstance(e, (FinalOutput, RunCompleted)) for e in events)


def test_run_sync_works_outside_and_inside_an_event_loop() -> None:
    agent = Agent(name="sync", model=ScriptedModel(["a", "b"]))
    assert Runner.run_sync(agent, "x").final_output == "a"

    async def inside() -> str:
        return str(Runner.run_sync(agent, "y").final_output)

    assert asyncio.run(inside()) == "b"


async def test_function_model_decides_from_the_request() -> None:
    def decide(request: ModelRequest) -> str:
        last = request.items[-1]
        return f"you said {getattr(last, 'text', '?')}"

    result = await Runner.run(Agent(name="f", model=FunctionModel(decide)), "ping")
    assert result.final_output == "you said ping"


async def test_session_continues_a_conversation() -> None:
    session = InMemorySession()
    model = ScriptedModel(["first", "second"])
    agent = Agent(name="chat", model=model)
    await Runner.run(agent, "one", session=session)
    second = await Runner.run(agent, "two", session=session)
    assert [getattr(i, "text", None) for i in model.requests[1].items] == ["one", "first", "two"]
    assert [getattr(i, "text", None) for i in second.new_items] == ["two", "second"]
    snap = await session.load()
    assert len(snap.items) == 4 and snap.usage.requests == 2 and snap.active_agent == "chat"


async def test_a_crashed_run_resumes_from_its_last_completed_turn() -> None:
    session = InMemorySession()

    @tool
    def step(n: int) -> int:
        """Step."""
        return n

    crashing = ScriptedModel([tool_call("step", {"n": 1}), tool_call("step", {"n": 2})])  # then runs dry
    with pytest.raises(UserError):
        await Runner.run(Agent(name="w", model=crashing, tools=[step]), "work", session=session)
    saved = (await session.load()).items
    assert [type(i).__name__ for i in saved] == [
        "UserMessage",
        "ToolCall",
        "ToolResult",
        "ToolCall",
        "ToolResult",
    ]
    resumed_model = ScriptedModel(["finished"])
    result = await Runner.run(Agent(name="w", model=resumed_model, tools=[step]), None, session=session)
    assert result.final_output == "finished"
    assert len(resumed_model.requests[0].items) == 5


async def test_a_run_needs_input() -> None:
    with pytest.raises(UserError, match="needs input"):
        await Runner.run(Agent(name="x", model=ScriptedModel(["a"])), None)


async def test_model_strings_resolve_through_the_registry() -> None:
    agent = Agent(name="reg", model="scripted:demo")
    with pytest.raises(UserError, match="ran out of steps"):
        await Runner.run(agent, "hi")


def test_agents_validate_their_definition() -> None:
    with pytest.raises(UserError, match="agent name"):
        Agent(name="has space")
    with pytest.raises(UserError, match="duplicate tool"):
        Agent(name="dup", tools=[add, add])


async def test_a_thousand_concurrent_runs_do_not_interfere() -> None:
    async def one(i: int) -> Any:
        model = ScriptedModel([tool_call("add", {"a": i, "b": 1}), f"{i + 1}"])
        return (await Runner.run(Agent(name="c", model=model, tools=[add]), str(i))).final_output

    outputs = await asyncio.gather(*(one(i) for i in range(1000)))
    assert outputs == [str(i + 1) for i in range(1000)]


async def test_tool_calls_are_stamped_with_the_agent_name() -> None:
    model = ScriptedModel([tool_call("add", {"a": 1, "b": 1}), "2"])
    result = await Runner.run(Agent(name="stamp", model=model, tools=[add]), "go")
    assert all(
        i.agent == "stamp"
        for i in result.new_items
        if isinstance(i, (ToolCall, ToolResult, AssistantMessage))
    )


async def test_an_agent_can_carry_its_own_max_turns() -> None:
    model = ScriptedModel([tool_call("add", {"a": 1, "b": 1})] * 10)
    with pytest.raises(MaxTurnsExceeded, match="max_turns=2"):
        await Runner.run(Agent(name="loop", model=model, tools=[add], max_turns=2), "go")
