"""What the first-hour tests share: a tmux pane to drive the chat in a real terminal, the Chat Completions
emulator as the model, and a definition with a slow tool that streams its output."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TOOLS = '''\
import asyncio

from agentcore import RunContext, tool


@tool
async def slow_count(ctx: RunContext, n: int, delay: float = 0.3) -> str:
    """Count to n slowly, printing each number."""
    for i in range(1, n + 1):
        ctx.emit_output(f"line {i}\\n")
        await asyncio.sleep(delay)
    return f"counted to {n}"
'''

DEFINITION = """\
version: 1
imports: [tools]
models:
  local: {{provider: openai-chat, model: llama3, base_url: "{url}"}}
agents:
  helper:
    description: answers and counts
    model: local
    instructions: Answer briefly.
    tools: ["tools:slow_count"]
    handoffs: [reporter]
  reporter:
    description: answers with a structured report
    model: local
    output_schema:
      type: object
      properties: {{title: {{type: string}}, score: {{type: integer}}}}
      required: [title, score]
entry: helper
"""


def write_definition(folder: Path, url: str) -> Path:
    (folder / "tools.py").write_text(TOOLS)
    path = folder / "agent.yaml"
    path.write_text(DEFINITION.format(url=url))
    return path


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTCORE_", "PYTEST"))}
    env.pop("NO_COLOR", None)
    env.update(AGENTCORE_HOME=str(home), PYTHONPATH=str(ROOT), **extra)
    return env


def needs_tmux(*programs: str) -> None:
    """Skip without tmux (and ``programs``) on a developer machine; fail under ``CI=true``."""
    missing = [p for p in ("tmux", *programs) if shutil.which(p) is None]
    if missing:
        message = f"{', '.join(missing)} not installed (.ci/run installs it)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


class Pane:
    """A tmux server of its own (socket under ``folder``) running one command in a 100x30 window."""

    def __init__(self, folder: Path, command: list[str], env: dict[str, str], *, cwd: Path) -> None:
        self.socket = str(folder / f"tmux-{os.urandom(4).hex()}.sock")  # a server per pane: no reuse race
        shell = " ".join(shlex.quote(c) for c in command)
        # keep the window after the command ends, to read its exit code
        script = f"{shell}; echo EXIT=$?; sleep 600"
        # a UTF-8 terminal whatever the caller's locale (the status line and summaries use · ✔ ⠋)
        env = {**env, "TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        self.tmux(
            "new-session", "-d", "-s", "t", "-x", "100", "-y", "30", "-c", str(cwd), "bash", "--norc", "-c", script,
            env=env,
        )

    def tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-u", "-S", self.socket, *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            timeout=30,
        )
        return done.stdout

    def send(self, *keys: str) -> None:
        """Keys in tmux's names (``Enter``, ``C-c``, ``Up``, ``M-Enter``)."""
        self.tmux("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "t", "-l", text)

    def screen(self) -> str:
        """The pane with its scrollback, joined lines, no colors."""
        return self.tmux("capture-pane", "-t", "t", "-p", "-J", "-S", "-2000")

    def wait_for(self, pattern: str, timeout: float = 90.0, *, after: int = 0) -> str:
        """Wait until ``pattern`` (a regex) shows in the pane (past the first ``after`` characters)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if re.search(pattern, screen[after:]):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} did not show in {timeout:.0f}s; the pane:\n{screen}")

    def wait_for_last_line(self, pattern: str, timeout: float = 90.0) -> str:
        """Wait until the last non-blank line of the pane matches ``pattern`` (the prompt being edited)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            lines = [line for line in self.screen().splitlines() if line.strip()]
            last = lines[-1] if lines else ""
            if re.search(pattern, last):
                return last
            time.sleep(0.1)
        raise AssertionError(f"the last line is {last!r}, not {pattern!r}, after {timeout:.0f}s:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=30)


def agentcore(*args: str) -> list[str]:
    return [sys.executable, "-m", "agentcore.cli", *args]
