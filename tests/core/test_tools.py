"""Function tools: schema from the signature, description from the docstring, validated arguments."""

from __future__ import annotations

import asyncio
import threading
from typing import Literal

import pytest
from pydantic import BaseModel

from agentcore import RunContext, tool
from agentcore.errors import UserError
from agentcore.tools import ToolArgumentsError, format_tool_output, parse_docstring


class Point(BaseModel):
    x: float
    y: float


@tool
def move(point: Point, direction: Literal["up", "down"], steps: int = 1) -> Point:
    """Move a point.

    Args:
        point: Where to start.
        direction: Which way to go.
        steps: How far,
            in whole steps.
    """
    dy = steps if direction == "up" else -steps
    return Point(x=point.x, y=point.y + dy)


def test_schema_comes_from_the_signature_and_docstring() -> None:
    assert move.name == "move"
    assert move.description == "Move a point."
    params = move.parameters
    assert params["required"] == ["point", "direction"]
    assert params["additionalProperties"] is False
    props = params["properties"]
    assert props["direction"]["enum"] == ["up", "down"]
    assert props["steps"]["default"] == 1
    assert props["steps"]["description"] == "How far, in whole steps."
    assert "$defs" in params and "Point" in params["$defs"]


def test_arguments_are_validated_into_python_objects() -> None:
    args = move.parse_arguments('{"point": {"x": 1, "y": 2}, "direction": "up"}')
    assert args == {"point": Point(x=1, y=2), "direction": "up", "steps": 1}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{oops", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"point": {"x": 1, "y": 2}, "direction": "left"}', "direction"),
        ('{"point": {"x": 1, "y": 2}}', "direction: Field required"),
        ('{"point": {"x": 1, "y": 2}, "direction": "up", "speed": 3}', "speed"),
    ],
)
def test_invalid_arguments_become_a_message_for_the_model(raw: str, message: str) -> None:
    with pytest.raises(ToolArgumentsError, match=message):
        move.parse_arguments(raw)


def test_run_context_is_injected_and_hidden_from_the_schema() -> None:
    @tool
    def whoami(ctx: RunContext[str], greeting: str) -> str:
        """Say who runs."""
        return f"{greeting} from {ctx.agent.name} with {ctx.deps}"

    assert whoami.context_param == "ctx"
    assert list(whoami.parameters["properties"]) == ["greeting"]


async def test_sync_tools_run_off_the_event_loop() -> None:
    seen: list[str] = []

    @tool
    def where() -> str:
        """Report the thread."""
        seen.append(threading.current_thread().name)
        return "ok"

    await where.invoke(None, {})  # type: ignore[arg-type]
    assert seen and seen[0] != threading.main_thread().name


async def test_async_tools_are_awaited() -> None:
    @tool
    async def slow(n: int) -> int:
        """Wait a moment."""
        await asyncio.sleep(0)
        return n * 2

    assert await slow.invoke(None, {"n": 4}) == 8  # type: ignore[arg-type]


def test_decorator_options_and_bad_definitions() -> None:
    @tool(name="rm-rf", description="Delete things.", needs_approval=True)
    def delete(path: str) -> None:
        pass

    assert (delete.name, delete.description, delete.needs_approval) == ("rm-rf", "Delete things.", True)
    with pytest.raises(UserError, match="args"):

        @tool
        def bad(*paths: str) -> None:
            pass

    with pytest.raises(UserError, match="tool name"):
        tool(name="has space")(lambda: None)


def test_tool_output_formatting() -> None:
    assert format_tool_output("text") == "text"
    assert format_tool_output(Point(x=1, y=2)) == '{"x":1.0,"y":2.0}'
    assert format_tool_output({"a": 1}) == '{"a": 1}'
    assert format_tool_output(None) == ""


def test_sphinx_docstrings() -> None:
    summary, params = parse_docstring("Do it.\n\n:param int a: first\n:param b: second\n:returns: x")
    assert summary == "Do it."
    assert params == {"a": "first", "b": "second"}
