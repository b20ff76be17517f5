"""OpenAI ``shell`` and ``local_shell`` actions in real sandboxes: local (bubblewrap) and docker, and the
shell tests also over the e2b and modal stand-ins of ``tests/sandboxes/backends_remote.py``."""

from __future__ import annotations

import json

from agentcore.sandboxes.base import Sandbox
from agentcore.sandboxes.native import execute_native
from agentcore.sandboxes.native.shell import run_shell_action, truncate_middle

NATIVE_BACKENDS = ("local", "docker", "e2b", "modal")


async def test_commands_report_stdout_stderr_and_exit_separately(any_sandbox: Sandbox) -> None:
    result = await execute_native(
        "shell",
        any_sandbox,
        {"commands": ["echo out; echo err >&2", "ls /definitely-missing", "true"], "timeout_ms": 20_000},
    )
    assert not result.is_error
    out = result.payload["output"]
    assert out[0] == {"stdout": "out\n", "stderr": "err\n", "outcome": {"type": "exit", "exit_code": 0}}
    assert out[1]["stdout"] == "" and "definitely-missing" in out[1]["stderr"]
    assert out[1]["outcome"]["type"] == "exit" and out[1]["outcome"]["exit_code"] != 0
    assert out[2] == {"stdout": "", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}}
    assert result.payload["max_output_length"] is None
    assert "$ ls /definitely-missing\n[stderr]\n" in result.output


async def test_state_persists_across_commands_and_calls(any_sandbox: Sandbox) -> None:
    await execute_native(
        "shell", any_sandbox, {"commands": ["mkdir -p proj && cd proj", "export GREETING=hi"]}
    )
    second = await execute_native("shell", any_sandbox, {"action": {"commands": ["pwd; echo $GREETING"]}})
    assert second.payload["output"][0]["stdout"] == f"{any_sandbox.config.workdir}/proj\nhi\n"
    # the persistent shell is the sandbox's default session: the plain shell tool sees the same state
    plain = await any_sandbox.shell("pwd")
    assert plain.output.strip() == f"{any_sandbox.config.workdir}/proj"


async def test_a_timeout_is_an_outcome_and_the_next_command_still_runs(any_sandbox: Sandbox) -> None:
    result = await execute_native(
        "shell", any_sandbox, {"commands": ["echo before; sleep 30", "echo after"], "timeout_ms": 1500}
    )
    first, second = result.payload["output"]
    assert first["outcome"] == {"type": "timeout"}
    assert first["stdout"].startswith("before")
    assert second == {"stdout": "after\n", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}}
    assert "[timed out after 1.5s" in result.output


async def test_max_output_length_caps_stdout_and_stderr_together(any_sandbox: Sandbox) -> None:
    command = "python3 -c \"import sys; print('o' * 5000); print('e' * 3000, file=sys.stderr)\""
    result = await execute_native("shell", any_sandbox, {"commands": [command], "max_output_length": 1000})
    out = result.payload["output"][0]
    assert len(out["stdout"]) + len(out["stderr"]) <= 1000
    assert "characters truncated" in out["stdout"] and "characters truncated" in out["stderr"]
    assert set(out["stdout"].split("\n")[0]) == {"o"} and set(out["stderr"].split("\n")[0]) == {"e"}
    assert result.payload["max_output_length"] == 1000


async def test_a_command_that_exits_the_shell(any_sandbox: Sandbox) -> None:
    result = await execute_native("shell", any_sandbox, {"commands": ["echo bye; exit 7", "echo back"]})
    first, second = result.payload["output"]
    assert first["stdout"] == "bye\n" and first["outcome"] == {"type": "exit", "exit_code": 7}
    assert second["stdout"] == "back\n"


async def test_output_streams_without_the_stderr_section(sandbox: Sandbox) -> None:
    seen: list[str] = []
    action = {"commands": ["for i in 1 2 3; do echo line$i; done; echo oops >&2"]}
    result = await run_shell_action(sandbox, action, on_output=seen.append)
    assert "".join(seen) == "line1\nline2\nline3\n"
    assert result.outputs[0].stderr == "oops\n"


async def test_malformed_actions_are_error_results(sandbox: Sandbox) -> None:
    for action in ({}, {"commands": []}, {"commands": [""]}, {"commands": [1]}):
        result = await execute_native("shell", sandbox, action)
        assert result.is_error and result.output.startswith("Error:")


async def test_local_shell_exec(sandbox: Sandbox) -> None:
    await sandbox.mkdir("sub")
    await sandbox.write_file("sub/f.txt", "x")
    result = await execute_native(
        "local_shell",
        sandbox,
        {
            "type": "exec",
            "command": ["bash", "-c", "ls; echo $NAME; echo warn >&2; exit 3"],
            "env": {"NAME": "agent"},
            "working_directory": "sub",
        },
    )
    doc = json.loads(result.payload["output"])
    assert doc["output"].startswith("f.txt\nagent\nwarn")
    assert doc["metadata"]["exit_code"] == 3
    assert "[exit code 3]" in result.output


async def test_local_shell_outside_the_workspace_runs_in_it(sandbox: Sandbox) -> None:
    # the recorded call asks for /root (openai-local-shell-tool.1.json)
    result = await execute_native(
        "local_shell",
        sandbox,
        {"action": {"type": "exec", "command": ["pwd"], "env": {}, "working_directory": "/root"}},
    )
    doc = json.loads(result.payload["output"])
    assert "outside the sandbox workspace" in doc["output"]
    assert doc["output"].rstrip().endswith(sandbox.config.workdir)


def test_truncate_middle() -> None:
    assert truncate_middle("abc", 10) == "abc"
    cut = truncate_middle("x" * 500 + "y" * 500, 200)
    assert len(cut) == 200 and cut.startswith("x") and cut.endswith("y") and "truncated" in cut
    assert truncate_middle("abcdef" * 10, 20) == ("abcdef" * 10)[:20]


def test_native_commands_are_what_a_shell_policy_judges() -> None:
    from agentcore.sandboxes.native import native_commands

    assert native_commands("shell", {"commands": ["ls", "pwd"]}) == ["ls", "pwd"]
    assert native_commands("shell", {"action": {"commands": ["make"]}}) == ["make"]
    assert native_commands("bash", {"command": "rm -rf x"}) == ["rm -rf x"]
    assert native_commands("bash", {"restart": True}) == []
    argv = {"type": "exec", "command": ["bash", "-lc", "echo 'a b'"]}
    assert native_commands("local_shell", argv) == ["bash -lc 'echo '\"'\"'a b'\"'\"''"]
    assert native_commands("apply_patch", {"type": "delete_file", "path": "x"}) == []


async def test_a_huge_max_output_length_is_bounded_by_the_sandbox(sandbox: Sandbox) -> None:
    command = "head -c 300000 /dev/zero | tr '\\0' a"
    result = await execute_native("shell", sandbox, {"commands": [command], "max_output_length": 10**9})
    out = result.payload["output"][0]
    assert out["outcome"] == {"type": "exit", "exit_code": 0}
    assert len(out["stdout"]) < 300_000  # the sandbox's own cap (max_output_bytes) still holds
    assert result.payload["max_output_length"] == 10**9
