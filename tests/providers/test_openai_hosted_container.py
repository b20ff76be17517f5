"""OpenAI's hosted container as an agent's sandbox (issue 13 §4): files go in and out through the
containers API of the real SDK, the agent's shell runs in the container (server-side, in the emulator),
and the result comes back as a HostedToolUse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest

from agentcore import Agent, Runner
from agentcore.errors import SandboxError
from agentcore.hosted import UnsupportedHostedToolError
from agentcore.messages import HostedToolUse, UserMessage
from agentcore.model import ModelRequest
from agentcore.providers.openai.container import OpenAIContainer, hosted_container
from agentcore.providers.openai.responses import OpenAIResponsesModel
from tests.emulators.base import Reply
from tests.emulators.openai_responses import OpenAIResponsesEmulator
from tests.providers.harness import emulator_fixture

emu = emulator_fixture(OpenAIResponsesEmulator, "emu")


def _model(emu: OpenAIResponsesEmulator, **kw: Any) -> OpenAIResponsesModel:
    return OpenAIResponsesModel("gpt-5.1", base_url=emu.base_url + "/v1", api_key="test-key", **kw)


@pytest.fixture
async def client(emu: OpenAIResponsesEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    c = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="test-key")
    yield c
    await c.close()


@pytest.mark.parametrize("store", [True, False])
async def test_an_agent_runs_its_shell_in_the_openai_container(
    emu: OpenAIResponsesEmulator, client: openai.AsyncOpenAI, tmp_path: Path, store: bool
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a\nb\nc\n")
    async with OpenAIContainer(client=client, name="analysis") as box:
        assert await box.upload(data) == "/mnt/data/data.csv"
        cid = box.container_id
        assert cid is not None and emu.hosted.containers[cid].name == "analysis"
        emu.script_items(
            {"type": "shell_call", "action": {"commands": ["wc -l < data.csv > count.txt", "cat count.txt"]}}
        )
        emu.queue(Reply(text="data.csv has 3 lines."), Reply(text="Still 3."))
        agent = Agent(name="data", model=_model(emu, store=store), sandbox=box)
        result = await Runner.run(agent, "count the lines of data.csv")
        assert result.final_output == "data.csv has 3 lines."
        sent = emu.requests[-1].body
        assert sent["tools"] == [
            {"type": "shell", "environment": {"type": "container_reference", "container_id": cid}}
        ]
        [run] = [i for i in result.items if isinstance(i, HostedToolUse)]
        assert run.kind == "shell" and run.input["commands"][0] == "wc -l < data.csv > count.txt"
        assert run.output.endswith("$ cat count.txt\n3\n[exit 0]") and run.input["container_id"] == cid
        # the next turn carries the server's shell call and output back as they came (or by chaining)
        again = await Runner.run(agent, [*result.items, UserMessage.of("and now?")])
        assert again.final_output == "Still 3."
        if not store:
            kinds = [i.get("type") for i in emu.requests[-1].body["input"]]
            assert kinds[1:3] == ["shell_call", "shell_call_output"]
        produced = await box.download("count.txt", tmp_path)
        assert produced.read_text() == "3\n"
        assert set(await box.files()) == {"/mnt/data/data.csv", "/mnt/data/count.txt"}
    assert emu.hosted.containers[cid].deleted  # close() deletes the container it created


async def test_a_container_the_run_starts_lives_for_the_run(
    emu: OpenAIResponsesEmulator, client: openai.AsyncOpenAI
) -> None:
    box = hosted_container("openai", client=client)
    emu.script_items({"type": "shell_call", "action": {"commands": ["echo hi > /mnt/data/out.txt"]}})
    emu.queue(Reply(text="done"))
    result = await Runner.run(Agent(name="c", model=_model(emu), sandbox=box), "write a file")
    assert result.final_output == "done"
    cid = box.container_id
    assert cid is not None and box.closed and emu.hosted.containers[cid].deleted
    assert [r.method for r in emu.requests if r.path.startswith("/v1/containers")] == ["POST", "DELETE"]


async def test_a_reused_container_is_not_deleted(
    emu: OpenAIResponsesEmulator, client: openai.AsyncOpenAI
) -> None:
    made = await client.containers.create(name="kept")
    box = OpenAIContainer(client=client, container_id=made.id)
    emu.queue(Reply(text="ok"))
    await Runner.run(Agent(name="c", model=_model(emu), sandbox=box), "hi")
    assert box.closed and not emu.hosted.containers[made.id].deleted


async def test_approvals_are_refused_for_hosted_execution() -> None:
    with pytest.raises(UnsupportedHostedToolError, match="approvals cannot apply"):
        OpenAIContainer(api_key="k", approve_tools=("shell",))


async def test_a_model_without_the_shell_tool_is_refused_before_sending(
    emu: OpenAIResponsesEmulator, client: openai.AsyncOpenAI
) -> None:
    async with OpenAIContainer(client=client) as box:
        model = OpenAIResponsesModel("gpt-4.1", base_url=emu.base_url + "/v1", api_key="k")
        request = ModelRequest(instructions=None, items=[UserMessage.of("hi")], hosted_tools=(box,))
        with pytest.raises(UnsupportedHostedToolError, match="no shell tool"):
            await model.respond(request)
    assert not [r for r in emu.requests if r.path.endswith("/responses")]


async def test_a_missing_file_is_a_typed_error(
    emu: OpenAIResponsesEmulator, client: openai.AsyncOpenAI
) -> None:
    from agentcore.errors import SandboxError

    async with OpenAIContainer(client=client) as box:
        with pytest.raises(SandboxError, match=r"no file '/mnt/data/nope\.txt'"):
            await box.read_file("nope.txt")


async def test_a_streamed_container_command_is_started_then_finished_with_its_output(
    emu: OpenAIResponsesEmulator, client: openai.AsyncOpenAI
) -> None:
    from agentcore.model import ModelHostedToolEvent

    async with OpenAIContainer(client=client) as box:
        emu.script_items({"type": "shell_call", "action": {"commands": ["echo streamed"]}})
        emu.queue(Reply(text="ok"))
        request = ModelRequest(instructions=None, items=[UserMessage.of("go")], hosted_tools=(box,))
        events = [e async for e in _model(emu).stream(request) if isinstance(e, ModelHostedToolEvent)]
    assert [(e.phase, e.kind) for e in events] == [("started", "shell"), ("finished", "shell")]
    done = events[1].item
    assert isinstance(done, HostedToolUse) and done.output == "$ echo streamed\nstreamed\n[exit 0]"
    assert events[0].call_id == done.call_id


async def test_a_command_verifier_is_refused_with_a_typed_error(
    emu: OpenAIResponsesEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.queue(Reply(text="done"))
    agent = Agent(name="c", model=_model(emu), sandbox=OpenAIContainer(client=client), verify=["pytest -q"])
    with pytest.raises(UnsupportedHostedToolError, match="only through the model's shell tool"):
        await Runner.run(agent, "work")


async def test_container_auto_is_asked_for_then_the_container_openai_made_is_reused(
    emu: OpenAIResponsesEmulator, client: openai.AsyncOpenAI, tmp_path: Path
) -> None:
    box = OpenAIContainer(client=client, auto=True, memory_limit="4g")
    emu.script_items({"type": "shell_call", "action": {"commands": ["echo one > one.txt"]}})
    emu.queue(Reply(text="first"))
    emu.script_items({"type": "shell_call", "action": {"commands": ["cat one.txt"]}})
    emu.queue(Reply(text="second"))
    async with box:
        with pytest.raises(SandboxError, match="exists once the model first runs a command"):
            await box.upload(tmp_path)
        agent = Agent(name="c", model=_model(emu), sandbox=box)
        first = await Runner.run(agent, "write")
        tools = [r.body["tools"] for r in emu.requests if r.path.endswith("/responses")]
        assert tools[0] == [
            {"type": "shell", "environment": {"type": "container_auto", "memory_limit": "4g"}}
        ]
        cid = box.container_id
        assert cid is not None and cid in emu.hosted.containers
        second = await Runner.run(agent, [*first.items, UserMessage.of("read it")])
        tools = [r.body["tools"] for r in emu.requests if r.path.endswith("/responses")]
        assert tools[1] == [
            {"type": "shell", "environment": {"type": "container_reference", "container_id": cid}}
        ]
        [_, read] = [i for i in second.items if isinstance(i, HostedToolUse)]
        assert read.output == "$ cat one.txt\none\n[exit 0]"
        assert (await box.read_file("one.txt")) == b"one\n"
    assert emu.hosted.containers[cid].deleted


async def test_write_and_read_a_file(emu: OpenAIResponsesEmulator, client: openai.AsyncOpenAI) -> None:
    async with OpenAIContainer(client=client) as box:
        assert await box.write_file("notes.txt", "hello") == "/mnt/data/notes.txt"
        assert await box.read_file("/mnt/data/notes.txt") == b"hello"
        with pytest.raises(SandboxError, match="max_bytes"):
            await box.read_file("notes.txt", max_bytes=2)
        with pytest.raises(SandboxError, match="directly under /mnt/data"):
            await box.write_file("sub/notes.txt", "x")
