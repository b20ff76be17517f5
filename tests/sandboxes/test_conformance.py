"""The sandbox contract, run against every backend available (see backends.py).

Each test is one promise of ``agentcore.sandboxes.base.Sandbox``: what an agent at a "terminal" can rely on.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import pytest

from agentcore.context import RunContext
from agentcore.errors import PathEscapeError, SandboxDied, SandboxError, ToolError
from agentcore.messages import Usage
from agentcore.sandboxes.base import Sandbox, SandboxFileNotFound
from agentcore.tools import Tool

from .conftest import MakeSandbox

# --------------------------------------------------------------------------- persistent shell


async def test_cwd_variables_and_functions_persist_between_commands(sandbox: Sandbox) -> None:
    await sandbox.shell('mkdir -p sub/dir && cd sub/dir && export GREETING=hello && shout() { echo "$1!"; }')
    result = await sandbox.shell("pwd; echo $GREETING; shout hey")
    assert result.output == f"{sandbox.config.workdir}/sub/dir\nhello\nhey!\n"
    assert result.cwd == f"{sandbox.config.workdir}/sub/dir"
    assert result.exit_code == 0 and not result.restarted


async def test_exit_code_is_that_of_the_whole_command(sandbox: Sandbox) -> None:
    assert (await sandbox.shell("(exit 3)")).exit_code == 3
    assert (await sandbox.shell("false | true")).exit_code == 0
    assert (await sandbox.shell("set -o pipefail; false | true")).exit_code == 1


async def test_stdin_readers_see_end_of_input(sandbox: Sandbox) -> None:
    result = await sandbox.shell("cat; read -r line; echo read-status=$?", timeout=10)
    assert result.output == "read-status=1\n"
    assert not result.timed_out


async def test_syntax_errors_and_unbalanced_quotes_do_not_wedge_the_session(sandbox: Sandbox) -> None:
    broken = await sandbox.shell("echo 'unterminated")
    assert broken.exit_code == 2
    assert (await sandbox.shell("echo still-alive")).output == "still-alive\n"


async def test_output_that_looks_like_framing_is_just_output(sandbox: Sandbox) -> None:
    text = "__AC0000S_0:/tmp_0000M__ __AC0000E__"
    result = await sandbox.shell(f"printf '%s' '{text}'")
    assert result.output == text
    assert result.exit_code == 0


async def test_background_jobs_do_not_block_the_shell(sandbox: Sandbox) -> None:
    result = await sandbox.shell("sleep 300 >/dev/null 2>&1 & echo started", timeout=10)
    assert result.output == "started\n" and not result.timed_out
    assert (await sandbox.shell("jobs -p | wc -l")).output.strip() == "1"


async def test_huge_output_is_bounded_keeping_head_and_tail(sandbox: Sandbox) -> None:
    cap = sandbox.config.max_output_bytes
    result = await sandbox.shell("echo FIRST; head -c 50000000 /dev/zero | tr '\\0' x; echo; echo LAST")
    assert result.truncated
    assert result.total_bytes == len("FIRST\n") + 50_000_000 + len("\nLAST\n")
    assert result.output.startswith("FIRST\nxxx") and result.output.endswith("xxx\nLAST\n")
    assert "bytes of output omitted" in result.output
    assert len(result.output) < cap + 200


async def test_binary_and_invalid_utf8_output_is_decoded_safely(sandbox: Sandbox) -> None:
    result = await sandbox.shell("printf 'a\\x80\\xff\\x00b\\n'")
    assert result.exit_code == 0
    assert result.output.startswith("a\ufffd\ufffd") and result.output.endswith("b\n")


async def test_output_without_trailing_newline_is_exact(sandbox: Sandbox) -> None:
    assert (await sandbox.shell("printf abc")).output == "abc"


async def test_timeout_kills_the_process_group_and_keeps_the_session(sandbox: Sandbox) -> None:
    n = 3000 + secrets.randbelow(6000)  # unique durations: some stand-ins share the host's process table
    await sandbox.shell(f"export KEPT=yes; mkdir -p t && cd t; sleep {n}2 >/dev/null 2>&1 &")
    result = await sandbox.shell(f"sleep {n}1 | sleep {n}1; sleep {n}3", timeout=1)
    assert result.timed_out and not result.restarted
    assert result.exit_code == 137
    after = await sandbox.shell(
        "echo $KEPT; pwd; for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null; echo; done"
        f" | grep -c '^sleep {n}[123]'"
    )
    kept, cwd, sleepers = after.output.split()
    assert kept == "yes" and cwd.endswith("/t")
    assert sleepers == "1"  # the background job survived; the pipeline and the next command were killed


async def test_busy_loop_in_the_shell_itself_restarts_the_session_with_state(sandbox: Sandbox) -> None:
    await sandbox.shell("export KEPT=yes; mkdir -p loop && cd loop")
    result = await sandbox.shell("while :; do :; done", timeout=1)
    assert result.timed_out and result.restarted and result.exit_code is None
    after = await sandbox.shell("echo $KEPT; pwd")
    assert after.output == f"yes\n{sandbox.config.workdir}/loop\n"
    assert not after.restarted


async def test_exit_restarts_the_shell_with_cwd_and_exports_restored(sandbox: Sandbox) -> None:
    await sandbox.shell("export KEPT=yes; NOT_EXPORTED=gone; mkdir -p d && cd d")
    died = await sandbox.shell("echo bye; exit 7")
    assert died.exit_code == 7 and died.restarted and died.output == "bye\n"
    after = await sandbox.shell("echo ${KEPT:-}/${NOT_EXPORTED:-}; pwd")
    assert after.output == f"yes/\n{sandbox.config.workdir}/d\n"


async def test_a_shell_killed_while_idle_is_restarted_with_state(sandbox: Sandbox) -> None:
    await sandbox.shell(
        "export KEPT=yes; mkdir -p idle && cd idle; (sleep 0.2; kill -9 $$) >/dev/null 2>&1 &"
    )
    await asyncio.sleep(1.0)
    after = await sandbox.shell("echo $KEPT; pwd")
    assert after.restarted
    assert after.output == f"yes\n{sandbox.config.workdir}/idle\n"


async def test_a_cancelled_command_does_not_desynchronize_the_session(sandbox: Sandbox) -> None:
    await sandbox.shell("export KEPT=yes")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sandbox.shell("sleep 600; echo late"), 0.5)
    after = await sandbox.shell("echo $KEPT")
    assert after.output == "yes\n" and after.restarted


async def test_a_failing_output_callback_does_not_break_the_command(sandbox: Sandbox) -> None:
    def broken(_: str) -> None:
        raise RuntimeError("callback bug")

    result = await sandbox.shell("echo one; echo two", on_output=broken)
    assert result.output == "one\ntwo\n" and result.exit_code == 0


async def test_interrupt_kills_the_running_command_and_keeps_the_shell(sandbox: Sandbox) -> None:
    await sandbox.shell("export KEPT=yes")
    marker = f"sleep {6000 + secrets.randbelow(3000)}"
    running = asyncio.ensure_future(sandbox.shell(f"echo started; {marker}", timeout=120))
    probe = ["sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"]
    for _ in range(400):  # wait until the command is really running
        if marker.encode() in (await sandbox.exec(probe)).stdout:
            break
        await asyncio.sleep(0.05)
    await sandbox.interrupt()
    result = await asyncio.wait_for(running, 60)
    assert result.output.startswith("started\n") and not result.timed_out and result.exit_code == 137
    assert (await sandbox.shell("echo $KEPT")).output == "yes\n"


async def test_commands_in_one_session_run_one_at_a_time(sandbox: Sandbox) -> None:
    cmd = "echo start-{0}; sleep 0.2; echo end-{0}"
    a, b = await asyncio.gather(sandbox.shell(cmd.format("a")), sandbox.shell(cmd.format("b")))
    assert a.output == "start-a\nend-a\n"
    assert b.output == "start-b\nend-b\n"


async def test_sessions_and_exec_run_in_parallel(sandbox: Sandbox) -> None:
    wait_for_flag = (
        "for i in $(seq 200); do [ -e /tmp/{0} ] && break; sleep 0.05; done; [ -e /tmp/{0} ] && echo saw"
    )
    waiter = sandbox.shell(wait_for_flag.format("flag1"), session="waiter", timeout=20)
    setter = sandbox.shell("touch /tmp/flag1", session="setter")
    waited, _ = await asyncio.gather(waiter, setter)
    assert waited.output == "saw\n"  # only possible if the two sessions overlapped
    exec_waiter = sandbox.exec(["bash", "-c", wait_for_flag.format("flag2")], timeout=20)
    exec_setter = sandbox.exec(["touch", "/tmp/flag2"])
    exec_waited, _ = await asyncio.gather(exec_waiter, exec_setter)
    assert exec_waited.stdout == b"saw\n"


async def test_live_output_reaches_the_callback_in_order(sandbox: Sandbox) -> None:
    chunks: list[str] = []
    result = await sandbox.shell("for i in 1 2 3; do echo line$i; sleep 0.05; done", on_output=chunks.append)
    assert "".join(chunks) == result.output == "line1\nline2\nline3\n"


async def test_environment_is_non_interactive_and_only_what_was_passed(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox(env={"PROJECT": "demo"})
    result = await sandbox.shell("echo $PROJECT $TERM $PAGER $GIT_PAGER $NO_COLOR")
    assert result.output == "demo dumb cat cat 1\n"
    exec_result = await sandbox.exec(["sh", "-c", "echo $PROJECT $EXTRA"], env={"EXTRA": "x"})
    assert exec_result.stdout == b"demo x\n"


# --------------------------------------------------------------------------- exec


async def test_exec_separates_streams_and_passes_stdin(sandbox: Sandbox) -> None:
    result = await sandbox.exec(["sh", "-c", "cat; echo err >&2; exit 4"], stdin=b"from stdin\n")
    assert (result.stdout, result.stderr, result.exit_code) == (b"from stdin\n", b"err\n", 4)


async def test_exec_timeout_kills_it(sandbox: Sandbox) -> None:
    result = await sandbox.exec(["sh", "-c", "sleep 300; echo never"], timeout=1)
    assert result.timed_out and b"never" not in result.stdout
    assert (await sandbox.exec(["true"])).exit_code == 0


async def test_exec_is_stateless(sandbox: Sandbox) -> None:
    await sandbox.shell("cd /tmp; export ONLY_IN_SHELL=1")
    result = await sandbox.exec(["sh", "-c", "pwd; echo ${ONLY_IN_SHELL:-unset}"])
    assert result.stdout == f"{sandbox.config.workdir}\nunset\n".encode()


# --------------------------------------------------------------------------- files


async def test_files_round_trip_bytes_exactly(sandbox: Sandbox) -> None:
    payload = bytes(range(256)) * 1000
    await sandbox.write_file("data/blob.bin", payload)
    assert await sandbox.read_file("data/blob.bin") == payload
    seen = await sandbox.shell("md5sum < data/blob.bin | cut -c1-32")
    import hashlib

    assert seen.output.strip() == hashlib.md5(payload).hexdigest()
    info = await sandbox.stat("data/blob.bin")
    assert info is not None and info.type == "file" and info.size == len(payload)


async def test_files_written_by_the_shell_are_readable_and_listed(sandbox: Sandbox) -> None:
    await sandbox.shell("mkdir -p proj/src && printf 'x = 1\\n' > proj/src/a.py && ln -s src/a.py proj/link")
    assert await sandbox.read_file(f"{sandbox.config.workdir}/proj/src/a.py") == b"x = 1\n"
    assert await sandbox.read_file("proj/link") == b"x = 1\n"  # a link inside the workspace is fine
    entries = {e.name: e for e in await sandbox.list_dir("proj")}
    assert entries["src"].type == "dir" and entries["link"].type == "symlink"


async def test_missing_files_and_directories_are_typed_errors(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxFileNotFound):
        await sandbox.read_file("nope.txt")
    assert await sandbox.stat("nope.txt") is None
    with pytest.raises(SandboxFileNotFound):
        await sandbox.remove("nope.txt")
    await sandbox.mkdir("dir/inner")
    with pytest.raises(SandboxError):
        await sandbox.read_file("dir")
    with pytest.raises(SandboxError):
        await sandbox.remove("dir")  # not empty
    await sandbox.remove("dir", recursive=True)
    assert await sandbox.stat("dir") is None


async def test_paths_outside_the_workspace_are_refused(sandbox: Sandbox) -> None:
    for path in ("../etc/passwd", "/etc/passwd", "a/../../x"):
        with pytest.raises(PathEscapeError):
            await sandbox.read_file(path)
        with pytest.raises(PathEscapeError):
            await sandbox.write_file(path, b"x")


async def test_upload_and_download_a_directory(sandbox: Sandbox, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "pkg" / "deep").mkdir(parents=True)
    (src / "README").write_text("hello\n")
    (src / "pkg" / "deep" / "data.bin").write_bytes(b"\x00\x01binary")
    await sandbox.upload(src, "inputs")
    listing = await sandbox.shell("(cd inputs && find . -type f | sort)")
    assert listing.output == "./README\n./pkg/deep/data.bin\n"
    await sandbox.shell("echo result > inputs/pkg/out.txt")
    dest = tmp_path / "back"
    await sandbox.download("inputs", dest)
    assert (dest / "README").read_text() == "hello\n"
    assert (dest / "pkg" / "deep" / "data.bin").read_bytes() == b"\x00\x01binary"
    assert (dest / "pkg" / "out.txt").read_text() == "result\n"


# --------------------------------------------------------------------------- agent tools


def _ctx(sandbox: Sandbox, streamed: list[str] | None = None) -> RunContext[Any]:
    return RunContext(
        deps=None,
        agent=None,  # type: ignore[arg-type]
        run_id="test",
        usage=Usage(),
        items=[],
        sandbox=sandbox,
        on_output=streamed.append if streamed is not None else None,
    )


def _tools(sandbox: Sandbox) -> dict[str, Tool]:
    return {t.name: t for t in sandbox.tools()}


async def test_the_agent_tools_are_the_five_documented_ones(sandbox: Sandbox) -> None:
    tools = _tools(sandbox)
    assert sorted(tools) == ["edit_file", "list_files", "read_file", "shell", "write_file"]
    assert tools["shell"].parameters["required"] == ["command"]


async def test_shell_tool_streams_output_and_reports_status(sandbox: Sandbox) -> None:
    streamed: list[str] = []
    shell = _tools(sandbox)["shell"]
    text = await shell.invoke(_ctx(sandbox, streamed), {"command": "echo one; echo two >&2; exit 3"})
    assert "".join(streamed) == "one\ntwo\n"
    assert text.startswith("one\ntwo\n") and "exit code 3" in text


async def test_read_file_tool_returns_line_ranges(sandbox: Sandbox) -> None:
    tools = _tools(sandbox)
    ctx = _ctx(sandbox)
    await tools["write_file"].invoke(ctx, {"path": "notes.txt", "content": "l1\nl2\nl3\nl4\n"})
    assert (
        await tools["read_file"].invoke(ctx, {"path": "notes.txt", "start_line": 2, "end_line": 3})
        == "l2\nl3\n"
    )
    assert await tools["read_file"].invoke(ctx, {"path": "notes.txt", "start_line": 4}) == "l4\n"
    assert await tools["read_file"].invoke(ctx, {"path": "notes.txt"}) == "l1\nl2\nl3\nl4\n"
    with pytest.raises(ToolError, match="no such file"):
        await tools["read_file"].invoke(ctx, {"path": "missing.txt"})


async def test_edit_file_tool_replaces_exactly_one_occurrence(sandbox: Sandbox) -> None:
    tools = _tools(sandbox)
    ctx = _ctx(sandbox)
    await sandbox.write_file("app.py", "a = 1\nb = 1\nc = 2\n")
    await tools["edit_file"].invoke(ctx, {"path": "app.py", "old": "c = 2", "new": "c = 3"})
    assert await sandbox.read_file("app.py") == b"a = 1\nb = 1\nc = 3\n"
    with pytest.raises(ToolError, match="not found"):
        await tools["edit_file"].invoke(ctx, {"path": "app.py", "old": "d = 4", "new": "x"})
    with pytest.raises(ToolError, match="occurs 2 times"):
        await tools["edit_file"].invoke(ctx, {"path": "app.py", "old": " = 1", "new": " = 9"})
    assert await sandbox.read_file("app.py") == b"a = 1\nb = 1\nc = 3\n"  # failed edits change nothing


async def test_list_files_tool_and_path_errors_go_back_to_the_model(sandbox: Sandbox) -> None:
    tools = _tools(sandbox)
    ctx = _ctx(sandbox)
    await sandbox.shell("mkdir -p pkg && printf 'abc' > pkg/f.txt")
    assert await tools["list_files"].invoke(ctx, {"path": "pkg"}) == "f.txt  (3 bytes)"
    with pytest.raises(ToolError, match="outside the workspace"):
        await tools["write_file"].invoke(ctx, {"path": "/etc/evil", "content": "x"})


# --------------------------------------------------------------------------- lifecycle


async def test_close_is_idempotent_and_ends_everything(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    await sandbox.shell("echo hi")
    await sandbox.close()
    await sandbox.close()
    assert sandbox.closed
    with pytest.raises(SandboxDied):
        await sandbox.shell("echo again")
    with pytest.raises(SandboxError):
        await sandbox.start()


async def test_async_context_manager_starts_and_closes(backend: Any) -> None:
    from .backends import sandbox_config

    sandbox = await backend.factory(sandbox_config())
    async with sandbox as sb:
        assert sb.started
        assert (await sb.shell("echo ok")).output == "ok\n"
    assert sandbox.closed
