"""The building blocks of the persistent shell and the tools, without any sandbox.

``ShellSession`` is exercised here over a plain host ``bash`` (a throwaway transport): what is being
tested is the framing protocol itself, the same code every backend uses.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Mapping, Sequence

import pytest

from agentcore.errors import PathEscapeError, UserError
from agentcore.sandboxes.base import SandboxConfig, resolve_path
from agentcore.sandboxes.shell import BoundedOutput, ShellProcess, ShellSession, ansi_c_quote
from agentcore.sandboxes.tools import clean_terminal_output


def test_ansi_c_quoting_survives_bash_byte_for_byte() -> None:
    samples = [b"plain", b"it's \\ quoted", b"tabs\tnew\nlines\r", bytes(range(1, 256)), "üñí €".encode()]
    for sample in samples:
        script = b"printf '%s' " + ansi_c_quote(sample)
        out = subprocess.run(
            [b"bash", b"--noprofile", b"--norc", b"-c", script],
            capture_output=True,
            env={"LC_ALL": "C"},
            check=True,
        ).stdout
        assert out == sample


def test_bounded_output_keeps_head_and_tail_and_marks_the_cut() -> None:
    out = BoundedOutput(10)
    for chunk in (b"abc", b"defgh", b"ijklmnop", b"qrstuvwxyz"):
        out.add(chunk)
    assert out.total == 26 and out.truncated
    assert out.getvalue() == b"abcde" + b"vwxyz"
    assert out.text() == "abcde\n[... 16 bytes of output omitted (total 26 bytes) ...]\nvwxyz"
    small = BoundedOutput(100)
    small.add(b"short")
    assert not small.truncated and small.text() == "short"


def test_resolve_path_confines_paths_to_the_workspace() -> None:
    assert resolve_path("/workspace", "a/./b/../c") == "/workspace/a/c"
    assert resolve_path("/workspace", "/workspace/x") == "/workspace/x"
    assert resolve_path("/workspace", ".") == "/workspace"
    for bad in ("..", "../x", "/etc/passwd", "/workspace2/x", "a/../../x", "nul\0byte"):
        with pytest.raises(PathEscapeError):
            resolve_path("/workspace", bad)


def test_config_defaults_are_the_safe_ones_and_bad_values_are_refused() -> None:
    config = SandboxConfig()
    assert config.network == "none" and config.read_only_root and config.uid != 0
    assert config.env == {} and config.lifetime == "run"
    assert "HOME" in config.shell_env() and os.environ.get("PATH") != config.shell_env().get("NOT_SET")
    for bad in ({"network": "bridge"}, {"memory_mb": 0}, {"workdir": "relative"}, {"env": {"A=B": "x"}}):
        with pytest.raises(UserError):
            SandboxConfig(**bad)  # type: ignore[arg-type]


def test_terminal_noise_is_cleaned_for_the_model() -> None:
    assert clean_terminal_output("\x1b[31mred\x1b[0m plain") == "red plain"
    assert clean_terminal_output("progress 10%\rprogress 100%\ndone") == "progress 100%\ndone"


class HostBash(ShellProcess):
    """A bash on the host as a transport (only for protocol tests)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    async def read(self) -> bytes:
        assert self.proc.stdout is not None
        return await self.proc.stdout.read(65536)

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()

    async def wait(self) -> int | None:
        return await self.proc.wait()


@pytest.fixture
async def session(tmp_path: object) -> AsyncIterator[ShellSession]:
    async def open_process(env: Mapping[str, str], cwd: str) -> ShellProcess:
        proc = await asyncio.create_subprocess_exec(
            "bash", "--noprofile", "--norc", stdin=-1, stdout=-1, stderr=-2, env=dict(env), cwd=cwd
        )
        return HostBash(proc)

    async def no_kill(pid: int, mode: str, keep: Sequence[int]) -> None:
        return None

    shell = ShellSession(
        "proto",
        open_process=open_process,
        kill_groups=no_kill,
        workdir=str(tmp_path),
        env={"PATH": "/usr/bin:/bin"},
    )
    yield shell
    await shell.close()


async def test_break_and_continue_in_a_command_do_not_lose_the_framing(session: ShellSession) -> None:
    assert (await session.run("echo a; break; echo b", timeout=5)).output == "a\n"
    assert (await session.run("continue; echo c", timeout=5)).output == ""
    assert (await session.run("echo still", timeout=5)).output == "still\n"


async def test_unterminated_quote_then_next_command(session: ShellSession) -> None:
    first = await session.run("echo 'oops", timeout=5)
    assert first.exit_code == 2 and "unexpected EOF" in first.output
    second = await session.run("echo fine", timeout=5)
    assert second.output == "fine\n" and not second.restarted


async def test_background_output_arriving_later_is_not_lost(session: ShellSession) -> None:
    await session.run("(sleep 0.2; echo from-background) &", timeout=5)
    await asyncio.sleep(0.5)
    later = await session.run("echo now", timeout=5)
    assert later.output == "from-background\nnow\n"
