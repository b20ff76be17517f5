"""Anthropic text editor and bash, and apply_patch operations, against real sandboxes (local and docker)."""

from __future__ import annotations

import pytest

from agentcore.sandboxes.base import Sandbox
from agentcore.sandboxes.native import execute_native
from agentcore.sandboxes.native.text_editor import NO_MATCH, REPLACED, multiple_matches

NATIVE_BACKENDS = ("local", "docker")


@pytest.fixture
def sandbox(any_sandbox: Sandbox) -> Sandbox:
    return any_sandbox


PRIMES = "def is_prime(n):\n    for i in range(2, n)\n        if n % i == 0:\n            return False\n    return True\n"


async def edit(sandbox: Sandbox, **data: object) -> tuple[str, bool]:
    result = await execute_native("text_editor", sandbox, data)
    return result.output, result.is_error


# --------------------------------------------------------------------------- text editor


async def test_view_a_file_with_line_numbers_and_ranges(sandbox: Sandbox) -> None:
    await sandbox.write_file("primes.py", PRIMES)
    out, err = await edit(sandbox, command="view", path="primes.py")
    assert not err and out.splitlines()[:2] == ["1: def is_prime(n):", "2:     for i in range(2, n)"]
    out, _ = await edit(sandbox, command="view", path="/workspace/primes.py", view_range=[2, 3])
    assert out.splitlines() == ["2:     for i in range(2, n)", "3:         if n % i == 0:"]
    data = {"command": "view", "path": "primes.py", "view_range": [4, -1]}
    result = await execute_native("text_editor", sandbox, data)
    assert result.output.splitlines() == ["4:             return False", "5:     return True"]
    assert result.payload == {
        "command": "view",
        "path": "primes.py",
        "file_type": "text",
        "start_line": 4,
        "num_lines": 2,
        "total_lines": 5,
    }
    out, err = await edit(sandbox, command="view", path="primes.py", view_range=[9, 10])
    assert err and out.startswith("Error: Invalid view_range")


async def test_view_respects_max_characters(sandbox: Sandbox) -> None:
    await sandbox.write_file("big.txt", "".join(f"line {i}\n" for i in range(1, 2001)))
    result = await execute_native(
        "text_editor", sandbox, {"command": "view", "path": "big.txt"}, max_characters=200
    )
    assert result.payload["num_lines"] == result.output.count("\n") and result.payload["total_lines"] == 2000
    body, _, note = result.output.rpartition("\n")
    assert len(body) <= 200 and body.startswith("1: line 1")
    assert "truncated" in note and "of 2000 shown" in note and "view_range" in note


async def test_view_a_directory_two_levels_without_hidden_entries(sandbox: Sandbox) -> None:
    for path in ("pkg/a.py", "pkg/sub/b.py", "pkg/sub/deep/c.py", ".git/config", "pkg/.hidden", "top.txt"):
        await sandbox.write_file(path, "x")
    out, err = await edit(sandbox, command="view", path=".")
    assert not err
    listed = out.splitlines()[1:]
    assert listed == ["pkg/", "pkg/a.py", "pkg/sub/", "top.txt"]


async def test_create_str_replace_and_insert_with_the_documented_texts(sandbox: Sandbox) -> None:
    out, err = await edit(sandbox, command="create", path="src/primes.py", file_text=PRIMES)
    assert not err and "created" in out
    assert (await sandbox.read_file("src/primes.py")).decode() == PRIMES
    out, err = await edit(
        sandbox,
        command="str_replace",
        path="src/primes.py",
        old_str="    for i in range(2, n)",
        new_str="    for i in range(2, n):",
    )
    assert (out, err) == (REPLACED, False)
    out, err = await edit(sandbox, command="str_replace", path="src/primes.py", old_str="absent", new_str="x")
    assert (out, err) == (NO_MATCH, True)
    assert NO_MATCH == "Error: No match found for replacement. Please check your text and try again."
    out, err = await edit(sandbox, command="str_replace", path="src/primes.py", old_str="return", new_str="r")
    assert (out, err) == (multiple_matches(2), True)
    out, err = await edit(
        sandbox, command="insert", path="src/primes.py", insert_line=0, insert_text="import math\n"
    )
    assert not err
    out, err = await edit(sandbox, command="insert", path="src/primes.py", insert_line=99, insert_text="x")
    assert err and "Invalid insert_line 99" in out
    text = (await sandbox.read_file("src/primes.py")).decode()
    assert text.startswith("import math\ndef is_prime(n):\n    for i in range(2, n):\n")
    out, err = await edit(sandbox, command="create", path="src/primes.py", file_text="x = 1\n")
    assert not err and "overwrote" in out


async def test_text_editor_errors(sandbox: Sandbox) -> None:
    assert await edit(sandbox, command="view", path="missing.py") == ("Error: File not found", True)
    assert await edit(sandbox, command="str_replace", path="missing.py", old_str="a") == (
        "Error: File not found",
        True,
    )
    out, err = await edit(sandbox, command="view", path="/etc/passwd")
    assert err and out.startswith("Error: Permission denied.")
    out, err = await edit(sandbox, command="undo_edit", path="a.py")
    assert err and "undo_edit" in out
    await sandbox.mkdir("d")
    out, err = await edit(sandbox, command="str_replace", path="d", old_str="a", new_str="b")
    assert err and "directory" in out
    await sandbox.write_file("bin.dat", b"\x00\x01\x02")
    out, err = await edit(sandbox, command="view", path="bin.dat")
    assert err and "binary" in out


# --------------------------------------------------------------------------- bash


async def test_bash_runs_in_the_persistent_shell_and_restarts(sandbox: Sandbox) -> None:
    result = await execute_native("bash", sandbox, {"command": "mkdir -p w && cd w && export X=1 && echo ok"})
    assert (result.output, result.is_error) == ("ok\n", False)
    result = await execute_native("bash", sandbox, {"command": "pwd; echo $X; ls nope"})
    assert result.output.startswith(f"{sandbox.config.workdir}/w\n1\n")
    assert "nope" in result.output and result.output.rstrip().endswith("[exit code 2]")
    assert not result.is_error
    restarted = await execute_native("bash", sandbox, {"restart": True})
    assert "restarted" in restarted.output
    fresh = await execute_native("bash", sandbox, {"command": 'pwd; echo "[$X]"'})
    assert fresh.output == f"{sandbox.config.workdir}\n[]\n"


async def test_bash_timeout_is_an_error_and_the_shell_survives(sandbox: Sandbox) -> None:
    from agentcore.sandboxes.native.text_editor import run_bash

    result = await run_bash(sandbox, {"command": "sleep 30"}, timeout=1.0)
    assert result.is_error and "Error: Command timed out after 1 seconds" in result.output
    again = await execute_native("bash", sandbox, {"command": "echo alive"})
    assert again.output == "alive\n"
    empty = await execute_native("bash", sandbox, {})
    assert empty.is_error


# --------------------------------------------------------------------------- apply_patch in the sandbox


async def patch(sandbox: Sandbox, **operation: object) -> tuple[str, str]:
    result = await execute_native("apply_patch", sandbox, operation)
    return result.payload["status"], result.payload["output"]


async def test_apply_patch_create_update_delete(sandbox: Sandbox) -> None:
    # the recorded create (openai-apply-patch-tool.1.json)
    diff = (
        "+## Shopping Checklist\n+\n+- [ ] Milk\n+- [ ] Bread\n+- [ ] Eggs\n+- [ ] Apples\n+- [ ] Coffee\n+\n"
    )
    status, log = await patch(sandbox, type="create_file", path="shopping-checklist.md", diff=diff)
    assert status == "completed" and "Created shopping-checklist.md" in log
    body = (await sandbox.read_file("shopping-checklist.md")).decode()
    assert (
        body == "## Shopping Checklist\n\n- [ ] Milk\n- [ ] Bread\n- [ ] Eggs\n- [ ] Apples\n- [ ] Coffee\n"
    )
    status, _ = await patch(
        sandbox, type="update_file", path="shopping-checklist.md", diff="@@\n-- [ ] Bread\n+- [x] Bread\n"
    )
    assert status == "completed"
    assert "- [x] Bread\n" in (await sandbox.read_file("shopping-checklist.md")).decode()
    status, log = await patch(sandbox, type="delete_file", path="shopping-checklist.md")
    assert status == "completed" and await sandbox.stat("shopping-checklist.md") is None


async def test_a_failed_hunk_changes_nothing(sandbox: Sandbox) -> None:
    original = "a = 1\nb = 2\nc = 3\n"
    await sandbox.write_file("m.py", original)
    diff = "@@\n-a = 1\n+a = 10\n@@\n-c = 4\n+c = 40\n"
    status, log = await patch(sandbox, type="update_file", path="m.py", diff=diff)
    assert status == "failed"
    assert "hunk 2 of 2 did not apply" in log and "Nothing was changed." in log
    assert "  |c = 4" in log and "3 |c = 3" in log  # expected vs found
    assert (await sandbox.read_file("m.py")).decode() == original


@pytest.mark.parametrize(
    ("operation", "fragment"),
    [
        ({"type": "update_file", "path": "nope.py", "diff": "@@\n-a\n+b\n"}, "no such file"),
        ({"type": "delete_file", "path": "nope.py"}, "no such file"),
        (
            {"type": "update_file", "path": "../../etc/passwd", "diff": "@@\n-a\n+b\n"},
            "escapes the workspace",
        ),
        ({"type": "rename_file", "path": "x"}, "unknown operation type"),
        ({"type": "create_file", "path": "x.py", "diff": "no plus\n"}, "does not start with '+'"),
    ],
)
async def test_apply_patch_failures(sandbox: Sandbox, operation: dict[str, object], fragment: str) -> None:
    result = await execute_native("apply_patch", sandbox, {"operation": operation})
    assert result.is_error and result.payload["status"] == "failed"
    assert fragment in result.output


async def test_apply_patch_moves_a_file(sandbox: Sandbox) -> None:
    await sandbox.write_file("old/name.py", "x = 1\n")
    diff = "*** Move to: new/name.py\n@@\n-x = 1\n+x = 2\n"
    status, log = await patch(sandbox, type="update_file", path="old/name.py", diff=diff)
    assert status == "completed" and "moved it to new/name.py" in log
    assert await sandbox.stat("old/name.py") is None
    assert (await sandbox.read_file("new/name.py")).decode() == "x = 2\n"


async def test_apply_patch_keeps_crlf(sandbox: Sandbox) -> None:
    await sandbox.write_file("w.txt", b"one\r\ntwo\r\n")
    status, _ = await patch(sandbox, type="update_file", path="w.txt", diff=" one\n-two\n+2\n")
    assert status == "completed"
    assert await sandbox.read_file("w.txt") == b"one\r\n2\r\n"
