"""Anthropic's code execution container as an agent's sandbox (issue 13 §4): files go in through the Files
API of the real SDK and reach the container as ``container_upload`` blocks, the agent's shell runs there
(server-side, in the emulator, on the uploaded file), the result comes back as a HostedToolUse listing the
file the code produced, and that file downloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from agentcore import Agent, Runner
from agentcore.errors import SandboxError
from agentcore.hosted import UnsupportedHostedToolError, code_execution
from agentcore.messages import HostedToolUse, UserMessage
from agentcore.model import ModelRequest
from agentcore.providers.anthropic.container import AnthropicContainer, hosted_container
from agentcore.providers.anthropic.model import AnthropicModel
from tests.emulators.anthropic import AnthropicEmulator, AnthropicReply
from tests.emulators.anthropic_files import files_state, run_blocks
from tests.emulators.base import Reply
from tests.providers.harness import emulator_fixture

emu = emulator_fixture(AnthropicEmulator, "emu")


def _model(emu: AnthropicEmulator) -> AnthropicModel:
    return AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="test-key")


@pytest.fixture
async def client(emu: AnthropicEmulator) -> AsyncIterator[anthropic.AsyncAnthropic]:
    c = anthropic.AsyncAnthropic(base_url=emu.base_url, api_key="test-key")
    yield c
    await c.close()


def _messages(emu: AnthropicEmulator) -> list[dict[str, Any]]:
    return [r.body for r in emu.requests if r.path == "/v1/messages"]


def _uploads(body: dict[str, Any]) -> list[tuple[int, str]]:
    return [
        (n, b["file_id"])
        for n, m in enumerate(body["messages"])
        for b in m["content"]
        if isinstance(m["content"], list) and b["type"] == "container_upload"
    ]


async def test_an_agent_runs_its_shell_in_the_anthropic_container(
    emu: AnthropicEmulator, client: anthropic.AsyncAnthropic, tmp_path: Path
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a\nb\nc\n")
    async with AnthropicContainer(client=client) as box:
        fid = await box.upload(data)
        assert files_state(emu.state).files[fid].filename == "data.csv"
        emu.queue(
            AnthropicReply(
                content=[
                    *run_blocks("wc -l < data.csv > count.txt && cat count.txt"),
                    {"type": "text", "text": "data.csv has 3 lines."},
                ]
            ),
            Reply(text="Still 3."),
        )
        agent = Agent(name="data", model=_model(emu), sandbox=box)
        result = await Runner.run(agent, "count the lines of data.csv")
        assert result.final_output == "data.csv has 3 lines."
        first = _messages(emu)[-1]
        tools = [{k: v for k, v in t.items() if k != "cache_control"} for t in first["tools"]]
        assert tools == [{"type": "code_execution_20250825", "name": "code_execution"}]
        assert "container" not in first  # the first answer makes the container
        assert _uploads(first) == [(0, fid)]
        betas = emu.requests[-1].headers["anthropic-beta"].split(",")
        assert set(betas) == {"code-execution-2025-08-25", "files-api-2025-04-14"}
        cid = box.container_id
        assert cid is not None and files_state(emu.state).placed[cid] == [fid]

        [run] = [i for i in result.items if isinstance(i, HostedToolUse)]
        assert run.kind == "code_execution" and run.output.startswith("3")
        [produced] = run.files
        assert produced in box.produced

        # the second turn reuses the container; the upload stays where it was first sent
        again = await Runner.run(agent, [*result.items, UserMessage.of("and now?")])
        assert again.final_output == "Still 3."
        second = _messages(emu)[-1]
        assert second["container"] == cid
        assert _uploads(second) == [(0, fid)]

        assert await box.files() == {"count.txt": produced}
        got = await box.download("count.txt", tmp_path)
        assert got == tmp_path / "count.txt" and got.read_text() == "3\n"
        assert await box.read_file(produced) == b"3\n"
        with pytest.raises(SandboxError, match="not downloadable"):
            await box.read_file(fid)  # an upload is not downloadable, as on the API
    assert fid in files_state(emu.state).deleted  # close() deletes what the run uploaded


async def test_a_container_the_run_starts_lives_for_the_run(
    emu: AnthropicEmulator, client: anthropic.AsyncAnthropic
) -> None:
    box = hosted_container("anthropic", client=client)
    fid = await box.upload(b"print(6 * 7)\n", "calc.py")
    emu.queue(AnthropicReply(content=[*run_blocks("python3 calc.py"), {"type": "text", "text": "42"}]))
    result = await Runner.run(Agent(name="c", model=_model(emu), sandbox=box), "run calc.py")
    assert result.final_output == "42"
    [run] = [i for i in result.items if isinstance(i, HostedToolUse)]
    assert run.output.startswith("42")
    assert box.closed and files_state(emu.state).deleted == [fid]


async def test_kept_files_and_given_file_ids_are_not_deleted(
    emu: AnthropicEmulator, client: anthropic.AsyncAnthropic
) -> None:
    mine = await client.beta.files.upload(file=("in.txt", b"x", "text/plain"), betas=["files-api-2025-04-14"])
    box = AnthropicContainer(client=client, file_ids=(mine.id,), keep_files=True)
    kept = await box.upload(b"y", "kept.txt")
    emu.queue(AnthropicReply(content=[*run_blocks("cat in.txt kept.txt"), {"type": "text", "text": "xy"}]))
    result = await Runner.run(Agent(name="c", model=_model(emu), sandbox=box), "cat them")
    [run] = [i for i in result.items if isinstance(i, HostedToolUse)]
    assert run.output.startswith("xy")
    assert _uploads(_messages(emu)[-1]) == [(0, mine.id), (0, kept)]
    assert files_state(emu.state).deleted == []


async def test_files_uploaded_later_go_with_the_next_user_message(
    emu: AnthropicEmulator, client: anthropic.AsyncAnthropic
) -> None:
    async with AnthropicContainer(client=client) as box:
        first = await box.upload(b"1", "one.txt")
        emu.queue(Reply(text="ok"), Reply(text="ok again"))
        agent = Agent(name="c", model=_model(emu), sandbox=box)
        result = await Runner.run(agent, "hi")
        second = await box.upload(b"2", "two.txt")
        await Runner.run(agent, [*result.items, UserMessage.of("one more file")])
        assert _uploads(_messages(emu)[-1]) == [(0, first), (2, second)]


def test_approvals_are_refused_for_hosted_execution() -> None:
    for name in ("shell", "bash", "code_execution", "*"):
        with pytest.raises(UnsupportedHostedToolError, match="approvals cannot apply") as caught:
            AnthropicContainer(api_key="k", approve_tools=(name,))
        assert caught.value.provider == "anthropic"


async def test_a_command_verifier_is_refused_with_a_typed_error(
    emu: AnthropicEmulator, client: anthropic.AsyncAnthropic
) -> None:
    emu.queue(Reply(text="done"))
    box = AnthropicContainer(client=client)
    agent = Agent(name="c", model=_model(emu), sandbox=box, verify=["pytest -q"])
    with pytest.raises(UnsupportedHostedToolError, match="only through the model's code execution tool"):
        await Runner.run(agent, "work")


async def test_code_execution_file_ids_become_container_upload_blocks(
    emu: AnthropicEmulator, client: anthropic.AsyncAnthropic
) -> None:
    made = await client.beta.files.upload(
        file=("n.txt", b"5\n", "text/plain"), betas=["files-api-2025-04-14"]
    )
    emu.queue(AnthropicReply(content=[*run_blocks("cat n.txt"), {"type": "text", "text": "5"}]))
    model = _model(emu)
    items = [UserMessage.of("what is in n.txt?")]
    response = await model.respond(
        ModelRequest(None, items, hosted_tools=(code_execution(file_ids=[made.id]),))
    )
    [run] = [i for i in response.items if isinstance(i, HostedToolUse)]
    assert run.output.startswith("5")
    sent = _messages(emu)[-1]
    assert _uploads(sent) == [(0, made.id)]
    assert "files-api-2025-04-14" in emu.requests[-1].headers["anthropic-beta"]
    await model.aclose()


async def test_the_emulator_is_as_strict_as_the_api_about_files(
    emu: AnthropicEmulator, client: anthropic.AsyncAnthropic
) -> None:
    with pytest.raises(anthropic.BadRequestError, match="files-api-2025-04-14"):
        await client.beta.files.upload(file=("a.txt", b"a", "text/plain"))
    with pytest.raises(anthropic.NotFoundError):
        await client.beta.files.retrieve_metadata("file_nope", betas=["files-api-2025-04-14"])
    base = {"model": "claude-sonnet-4-5", "max_tokens": 10}
    upload = {
        "role": "user",
        "content": [{"type": "text", "text": "hi"}, {"type": "container_upload", "file_id": "file_x"}],
    }
    tools = [{"type": "code_execution_20250825", "name": "code_execution"}]
    betas = ["code-execution-2025-08-25", "files-api-2025-04-14"]
    with pytest.raises(anthropic.BadRequestError, match="require the code execution tool"):
        await client.beta.messages.create(**base, messages=[upload], betas=betas)  # type: ignore[call-overload]
    with pytest.raises(anthropic.NotFoundError, match="file_x"):
        await client.beta.messages.create(**base, messages=[upload], tools=tools, betas=betas)  # type: ignore[call-overload]
    with pytest.raises(anthropic.BadRequestError, match="files-api-2025-04-14"):
        await client.beta.messages.create(  # type: ignore[call-overload]
            **base, messages=[upload], tools=tools, betas=["code-execution-2025-08-25"]
        )


def test_hosted_container_names_its_vendor() -> None:
    with pytest.raises(Exception, match="try 'anthropic'"):
        hosted_container("openai", api_key="k")


async def test_a_streamed_run_is_started_then_finished_with_the_produced_file(
    emu: AnthropicEmulator, client: anthropic.AsyncAnthropic
) -> None:
    from agentcore.model import ModelHostedToolEvent

    async with AnthropicContainer(client=client) as box:
        emu.queue(AnthropicReply(content=[*run_blocks("echo hi > out.txt"), {"type": "text", "text": "ok"}]))
        request = ModelRequest(None, [UserMessage.of("go")], hosted_tools=(box,))
        events = [e async for e in _model(emu).stream(request) if isinstance(e, ModelHostedToolEvent)]
        assert [(e.phase, e.kind) for e in events] == [
            ("started", "code_execution"),
            ("finished", "code_execution"),
        ]
        done = events[1].item
        assert isinstance(done, HostedToolUse) and done.files and box.container_id is not None
        assert await box.read_file("out.txt") == b"hi\n"


async def test_an_expired_container_is_not_sent_again(
    emu: AnthropicEmulator, client: anthropic.AsyncAnthropic
) -> None:
    async with AnthropicContainer(client=client) as box:
        box.observe(
            {"container": {"id": "container_011Cold", "expires_at": "2020-01-01T00:00:00Z"}, "content": []}
        )
        assert box.container_id is None
        emu.queue(Reply(text="ok"))
        await _model(emu).respond(ModelRequest(None, [UserMessage.of("hi")], hosted_tools=(box,)))
        assert "container" not in _messages(emu)[-1]


@pytest.mark.parametrize("model", ["openai:gpt-5.2", "google:gemini-2.5-pro"])
def test_another_vendors_agent_refuses_the_container_when_built(model: str) -> None:
    with pytest.raises(UnsupportedHostedToolError, match="anthropic's hosted container") as caught:
        Agent(name="c", model=model, sandbox=AnthropicContainer(api_key="k"))
    assert caught.value.supported_by == ("anthropic",)


def test_an_anthropic_agent_refuses_openais_container_when_built() -> None:
    from agentcore.providers.openai.container import OpenAIContainer

    with pytest.raises(UnsupportedHostedToolError, match="openai's hosted container"):
        Agent(name="c", model="anthropic:claude-sonnet-4-5", sandbox=OpenAIContainer(api_key="k"))


async def test_what_the_emulator_answers_parses_with_the_sdk(
    emu: AnthropicEmulator, client: anthropic.AsyncAnthropic
) -> None:
    from anthropic.types.beta import BetaBashCodeExecutionToolResultBlock, BetaFileMetadata

    betas: list[Any] = ["code-execution-2025-08-25", "files-api-2025-04-14"]
    made = await client.beta.files.upload(file=("n.txt", b"7\n", "text/plain"), betas=betas[1:])
    assert isinstance(made, BetaFileMetadata) and made.downloadable is False and made.size_bytes == 2
    listed = [f.id async for f in client.beta.files.list(betas=betas[1:])]
    assert listed == [made.id]
    emu.queue(AnthropicReply(content=[*run_blocks("cp n.txt m.txt"), {"type": "text", "text": "copied"}]))
    message = await client.beta.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "copy"},
                    {"type": "container_upload", "file_id": made.id},
                ],
            }
        ],
        tools=[{"type": "code_execution_20250825", "name": "code_execution"}],
        betas=betas,
    )
    assert message.container is not None and message.container.id.startswith("container_")
    result = message.content[1]
    assert isinstance(result, BetaBashCodeExecutionToolResultBlock)
    assert result.content.type == "bash_code_execution_result"
    [out] = result.content.content
    meta = await client.beta.files.retrieve_metadata(out.file_id, betas=betas[1:])
    assert meta.filename == "m.txt" and meta.downloadable
    assert await (await client.beta.files.download(out.file_id, betas=betas[1:])).read() == b"7\n"
    deleted = await client.beta.files.delete(made.id, betas=betas[1:])
    assert deleted.type == "file_deleted"
