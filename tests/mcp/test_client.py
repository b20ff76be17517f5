"""MCP client: an agent driven by a scripted model calls real third-party MCP servers (installed by
.ci/run) and the tests check what the servers really did. Behaviours no third-party server shows on
demand (a crash, a hang, a tool list that changes) use tests/mcp/toy_server.py, written with the SDK."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentcore import Agent, Runner
from agentcore.errors import UserError
from agentcore.events import ToolProgress
from agentcore.mcp import MCPConnectError, MCPServer, MCPTool, close_all, connected
from agentcore.messages import ToolResult
from agentcore.testing import ScriptedModel, reply, tool_call
from tests.providers.harness import span_exporter_fixture

from .conftest import NODE_PKGS, _need, everything, filesystem, git_server, time_server, toy


def results(result: Any) -> list[ToolResult]:
    return [i for i in result.new_items if isinstance(i, ToolResult)]


async def run(servers: list[MCPServer], *steps: Any, input: str = "go") -> Any:
    model = ScriptedModel(list(steps))
    agent = Agent(name="a", model=model, mcp_servers=servers)
    result = await Runner.run(agent, input)
    result.model = model  # the requests the model received
    return result


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ")[1].startswith("Z"))


# ---------------------------------------------------------------------------------- real servers


async def test_filesystem_server_writes_a_file_in_the_temp_dir(tmp_path: Path) -> None:
    target = tmp_path / "notes" / "hello.txt"
    result = await run(
        [filesystem(tmp_path)],
        tool_call("files__create_directory", {"path": str(tmp_path / "notes")}),
        tool_call("files__write_file", {"path": str(target), "content": "written by an MCP server\n"}),
        tool_call("files__read_text_file", {"path": str(target)}),
        "done",
    )
    assert target.read_text() == "written by an MCP server\n"
    outs = results(result)
    assert [r.is_error for r in outs] == [False, False, False]
    assert "written by an MCP server" in outs[2].output
    assert result.final_output == "done"


async def test_filesystem_error_goes_back_to_the_model_and_the_run_goes_on(tmp_path: Path) -> None:
    result = await run(
        [filesystem(tmp_path)],
        tool_call("files__read_text_file", {"path": str(tmp_path / "missing.txt")}),
        "recovered",
    )
    (out,) = results(result)
    assert out.is_error and "missing.txt" in out.output
    assert result.final_output == "recovered"


async def test_filesystem_outside_its_root_is_refused_by_the_server(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    result = await run(
        [filesystem(root)],
        tool_call("files__write_file", {"path": str(tmp_path / "escape.txt"), "content": "x"}),
        "ok",
    )
    (out,) = results(result)
    assert out.is_error
    assert not (tmp_path / "escape.txt").exists()


def _make_repo(repo: Path) -> None:
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    (repo / "a.txt").write_text("a\n")
    subprocess.run(["git", "-C", str(repo), "add", "a.txt"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "first commit by the test"], check=True, env=env)
    (repo / "b.txt").write_text("b\n")


async def test_git_server_reads_the_log_of_a_temp_repo(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    await asyncio.to_thread(_make_repo, repo)
    result = await run(
        [git_server(repo)],
        tool_call("git__git_log", {"repo_path": str(repo)}),
        tool_call("git__git_status", {"repo_path": str(repo)}),
        "ok",
    )
    log, status = results(result)
    assert not log.is_error and "first commit by the test" in log.output
    assert not status.is_error and "b.txt" in status.output


async def test_time_server_answers_with_its_structured_result() -> None:
    result = await run(
        [time_server()],
        tool_call("time__convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}),
        "ok",
    )
    (out,) = results(result)
    assert not out.is_error
    assert "Asia/Tokyo" in out.output and "21:00" in out.output


async def test_tools_are_namespaced_with_the_input_schema_passed_through() -> None:
    server = everything()
    async with connected(server) as conn:
        specs = {t.name: t for t in await conn.list_tools()}
    result = await run([server], "hi")
    request = result.model.requests[0]
    sent = {t.name: t for t in request.tools}
    assert "everything__get-sum" in sent and "everything__echo" in sent
    assert all(n.startswith("everything__") for n in sent)
    assert sent["everything__get-sum"].parameters == specs["get-sum"].input_schema
    assert sent["everything__echo"].description == specs["echo"].description


async def test_annotations_on_the_tool_and_one_line_approval_of_destructive_tools(tmp_path: Path) -> None:
    server = filesystem(tmp_path, needs_approval="destructive")
    model = ScriptedModel(
        [
            reply(
                None,
                ("files__list_directory", {"path": str(tmp_path)}),
                ("files__write_file", {"path": str(tmp_path / "x.txt"), "content": "x"}),
            ),
            "done",
        ]
    )
    agent = Agent(name="a", model=model, mcp_servers=[server])
    result = await Runner.run(agent, "go")
    assert result.paused
    assert [p.call.name for p in result.interruptions] == ["files__write_file"]
    assert not (tmp_path / "x.txt").exists()
    state = result.state
    state.approve_all()
    result = await Runner.run(agent, state)
    assert (tmp_path / "x.txt").read_text() == "x"
    assert result.final_output == "done"
    async with connected(server) as conn:
        from agentcore.mcp.runtime import ToolCache

        tools = {t.name: t for t in await ToolCache(server, conn).tools()}
    write, listing = tools["files__write_file"], tools["files__list_directory"]
    assert isinstance(write, MCPTool)
    assert write.metadata["mcp"]["destructive"] is True and write.metadata["mcp"]["read_only"] is False
    assert listing.metadata["mcp"]["read_only"] is True and listing.needs_approval is False


async def test_allow_and_deny_filter_the_tools(tmp_path: Path) -> None:
    server = filesystem(tmp_path, allow=["read_*", "list_directory"], deny=["read_media_file"])
    result = await run([server], "hi")
    names = {t.name for t in result.model.requests[0].tools}
    assert names == {"files__read_file", "files__read_text_file", "files__read_multiple_files",
                     "files__list_directory"}


async def test_images_and_resources_become_tool_output() -> None:
    result = await run(
        [everything()],
        tool_call("everything__get-tiny-image"),
        tool_call("everything__get-resource-reference", {"resourceType": "Text", "resourceId": 1}),
        "ok",
    )
    image, resource = results(result)
    assert not image.is_error and "[image image/png," in image.output
    assert not resource.is_error and "[resource demo://resource/dynamic/text/1]\nResource 1: This is a plaintext" in resource.output


async def test_streamable_http_server(tmp_path: Path) -> None:
    js = _need(NODE_PKGS / "server-everything" / "dist" / "index.js", "@modelcontextprotocol/server-everything")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        "node", str(js), "streamableHttp", env={"PATH": os.environ["PATH"], "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(200):  # bounded wait for the port
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        server = MCPServer(name="web", url=f"http://127.0.0.1:{port}/mcp", bearer_token="test-token-123")
        result = await run([server], tool_call("web__get-sum", {"a": 2, "b": 40}), "ok")
        (out,) = results(result)
        assert not out.is_error and "42" in out.output
    finally:
        proc.terminate()
        await proc.wait()


# ---------------------------------------------------------------------------------- failures


async def test_two_servers_with_the_same_tool_name() -> None:
    result = await run(
        [toy("a"), toy("b")],
        reply(None, ("a__echo", {"text": "from a"}), ("b__echo", {"text": "from b"})),
        "ok",
    )
    a, b = results(result)
    assert (a.output, b.output) == ("from a", "from b")
    with pytest.raises(UserError, match="both have a tool named 'echo'"):
        await run([toy("a", prefix=""), toy("b", prefix="")], "hi")


async def test_a_tool_that_errors_is_a_tool_error() -> None:
    result = await run([toy()], tool_call("toy__fail", {"reason": "testing"}), "ok")
    (out,) = results(result)
    assert out.is_error and "fail" in out.output
    assert result.final_output == "ok"


async def test_structured_content_that_breaks_the_output_schema_is_a_tool_error() -> None:
    result = await run([toy()], tool_call("toy__liar"), tool_call("toy__echo", {"text": "fine"}), "ok")
    liar, echo = results(result)
    assert liar.is_error and "Invalid structured content returned by tool liar" in liar.output
    assert not echo.is_error and echo.output == "fine"


async def test_a_crashing_server_is_a_tool_error_and_the_run_goes_on() -> None:
    result = await run(
        [toy()],
        tool_call("toy__crash"),
        tool_call("toy__echo", {"text": "still here"}),
        "ok",
    )
    crashed, after = results(result)
    assert crashed.is_error and "went away" in crashed.output and "crashing now" in crashed.output
    assert not after.is_error and after.output == "still here"  # reconnected
    assert result.final_output == "ok"


async def test_a_hanging_server_times_out() -> None:
    result = await run([toy(call_timeout=0.5)], tool_call("toy__hang"), "ok")
    (out,) = results(result)
    assert out.is_error and "did not answer" in out.output
    assert result.final_output == "ok"


async def test_a_server_that_cannot_start_fails_the_run() -> None:
    server = MCPServer(name="nope", command="/nonexistent/mcp-server")
    with pytest.raises(MCPConnectError, match="nope"):
        await run([server], "hi")


async def test_tool_list_changed_is_picked_up_on_the_next_turn() -> None:
    result = await run(
        [toy()],
        tool_call("toy__grow"),
        tool_call("toy__extra"),
        "ok",
    )
    first, second = result.model.requests[0], result.model.requests[1]
    assert "toy__extra" not in {t.name for t in first.tools}
    assert "toy__extra" in {t.name for t in second.tools}
    _grown, extra = results(result)
    assert extra.output == "extra ran" and not extra.is_error


async def test_tools_are_listed_once_per_run() -> None:
    server = toy()
    result = await run(
        [server],
        tool_call("toy__echo", {"text": "1"}),
        tool_call("toy__echo", {"text": "2"}),
        "ok",
    )
    assert len(result.model.requests) == 3
    # three turns, one listing: the cache is reused until the server says the list changed
    from agentcore.mcp.connection import MCPConnection

    calls = 0
    original = MCPConnection.list_tools

    async def counting(self: MCPConnection) -> Any:
        nonlocal calls
        before = self.listings
        out = await original(self)
        calls += self.listings - before
        return out

    MCPConnection.list_tools = counting  # type: ignore[method-assign]
    try:
        await run([server], tool_call("toy__echo", {"text": "1"}), tool_call("toy__echo", {"text": "2"}), "ok")
    finally:
        MCPConnection.list_tools = original  # type: ignore[method-assign]
    assert calls == 1


async def test_the_server_gets_only_the_env_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret-value")
    result = await run(
        [toy(env={"GIVEN": "yes"})],
        reply(None, ("toy__env", {"name": "OPENAI_API_KEY"}), ("toy__env", {"name": "GIVEN"})),
        "ok",
    )
    host, given = results(result)
    assert host.output == "<unset>"
    assert given.output == "yes"


async def test_no_server_process_is_left_after_the_run() -> None:
    result = await run([toy()], tool_call("toy__pid"), "ok")
    pid = int(results(result)[0].output)
    assert not _alive(pid)


async def test_a_session_lifetime_server_is_shared_by_runs_until_closed() -> None:
    server = toy(lifetime="session")
    first = await run([server], tool_call("toy__pid"), "ok")
    second = await run([server], tool_call("toy__pid"), "ok")
    pid = int(results(first)[0].output)
    assert int(results(second)[0].output) == pid
    assert _alive(pid)
    await close_all()
    assert not _alive(pid)


async def test_progress_notifications_are_stream_events() -> None:
    model = ScriptedModel([tool_call("toy__slow_steps", {"steps": 3}), "ok"])
    agent = Agent(name="a", model=model, mcp_servers=[toy()])
    stream = Runner.stream(agent, "go")
    events = [e async for e in stream if isinstance(e, ToolProgress)]
    assert [(e.progress, e.total, e.message) for e in events] == [
        (1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")
    ]
    assert len({e.call_id for e in events}) == 1


def test_config_is_validated() -> None:
    with pytest.raises(UserError):
        MCPServer(name="x")
    with pytest.raises(UserError):
        MCPServer(name="x", command="a", url="http://127.0.0.1")
    with pytest.raises(UserError):
        MCPServer(name="bad name", command="a")
    with pytest.raises(UserError):
        MCPServer(name="x", command="a", needs_approval="sometimes")  # type: ignore[arg-type]
    s = MCPServer(name="srv", command="a")
    assert s.tool_name("read.file") == "srv__read_file"
    assert MCPServer(name="srv", command="a", prefix="").tool_name("t") == "t"
    assert sys.executable  # keep the import for toy()


spans = span_exporter_fixture()


async def test_execute_tool_spans_name_the_mcp_server(spans: Any) -> None:
    await run([toy("helper")], tool_call("helper__echo", {"text": "traced"}), "ok")
    (span,) = [s for s in spans.get_finished_spans() if s.name == "execute_tool helper__echo"]
    assert span.attributes["agentcore.mcp.server"] == "helper"
    assert span.attributes["agentcore.mcp.tool"] == "echo"
