"""MCP tools through every provider adapter, against the strict vendor emulators: the servers' names
(``server__tool``, hyphens included) and input schemas are accepted by each vendor's rules, and a call
the emulated model makes reaches the real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentcore import Agent, Runner
from agentcore.messages import ToolResult
from tests.emulators.base import Reply, ToolCallReply
from tests.providers import harness as harness_mod
from tests.providers.harness import Harness

from .conftest import everything, filesystem


@pytest.fixture(params=harness_mod.PROVIDERS)
def provider(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with harness_mod.started(request.param) as h:
        yield h


async def test_mcp_tools_through_each_adapter(provider: Harness, tmp_path: Path) -> None:
    target = tmp_path / "from-the-model.txt"
    provider.emulator.queue(
        Reply(tool_calls=[ToolCallReply("files__write_file", {"path": str(target), "content": "hi"})]),
        Reply(tool_calls=[ToolCallReply("everything__get-sum", {"a": 20, "b": 22})]),
        Reply(text="done"),
    )
    agent = Agent(name="t", model=provider.model(), mcp_servers=[filesystem(tmp_path), everything()])
    result = await Runner.run(agent, "go")
    assert result.final_output == "done"
    assert target.read_text() == "hi"
    wrote, summed = [i for i in result.new_items if isinstance(i, ToolResult)]
    assert not wrote.is_error and not summed.is_error and "42" in summed.output
    assert len(provider.emulator.requests) == 3


async def test_an_mcp_image_result_reaches_each_vendor_as_an_image(provider: Harness) -> None:
    """``everything``'s ``get-tiny-image`` answers with an image block: it becomes an image part of the
    tool result, and each adapter sends it in its vendor's documented form (not only as text)."""
    provider.emulator.queue(
        Reply(tool_calls=[ToolCallReply("everything__get-tiny-image", {})]), Reply(text="a tiny image")
    )
    agent = Agent(name="t", model=provider.model(), mcp_servers=[everything()])
    result = await Runner.run(agent, "show me")
    assert result.final_output == "a tiny image"
    (image,) = [i for i in result.new_items if isinstance(i, ToolResult)]
    assert not image.is_error and [p.type for p in image.parts].count("image") == 1
    data = image.parts[[p.type for p in image.parts].index("image")].data  # type: ignore[union-attr]
    assert data and data in json.dumps(provider.emulator.requests[-1].body)
