"""An MCP server's progress notifications in ``agentcore run``: on a terminal (tmux) the status line shows
the running tool with a bar, its percentage and the server's message; piped, each change is a line.
The server is the SDK-built toy server (``slow_steps`` reports ``i of n`` with ``step i``)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentcore.cli.progress import progress_text
from agentcore.events import ToolProgress
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_chat import ChatCompletionsEmulator, ChatQuirks
from tests.surfaces.first_hour import Pane, agentcore, cli_env, needs_tmux

from .conftest import TOY

DEFINITION = """\
version: 1
mcp_servers:
  toy: {{command: {python}, args: [{toy}]}}
models:
  local: {{provider: openai-chat, model: llama3, base_url: "{url}"}}
agents:
  indexer:
    model: local
    mcp_servers: [toy]
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The CLI's data directory (sessions, traces) for this test."""
    return tmp_path / "home"


@pytest.fixture
def emulator() -> Iterator[ChatCompletionsEmulator]:
    emu = ChatCompletionsEmulator(ChatQuirks(api_key=None)).start()
    yield emu
    emu.stop()


@pytest.fixture
def definition(tmp_path: Path, emulator: ChatCompletionsEmulator) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(DEFINITION.format(python=sys.executable, toy=TOY, url=emulator.base_url + "/v1"))
    return path


def steps(n: int, delay: float) -> Reply:
    return Reply(tool_calls=[ToolCallReply("toy__slow_steps", {"steps": n, "delay": delay})])


def test_progress_text() -> None:
    assert progress_text(ToolProgress("a", "c", 3, 10, "indexing docs")) == "███░░░░░░░ 30% · indexing docs"
    assert progress_text(ToolProgress("a", "c", 12, None, None)) == "12"
    assert progress_text(ToolProgress("a", "c", 2.5, None, "MB read")) == "2.5 · MB read"
    assert progress_text(ToolProgress("a", "c", 7, 5)) == "██████████ 100%"  # a server overshooting


def test_the_status_line_shows_the_tools_progress(
    tmp_path: Path, home: Path, definition: Path, emulator
) -> None:  # type: ignore[no-untyped-def]
    needs_tmux()
    emulator.queue(steps(4, 1.5), Reply(text="Indexed everything."))
    pane = Pane(tmp_path, agentcore("run", str(definition), "index it"), cli_env(home), cwd=tmp_path)
    try:
        seen = pane.wait_for(r"toy__slow_steps [\d.]+s · █+░* \d+% · step \d", timeout=60)
        line = next(x for x in seen.splitlines() if "toy__slow_steps" in x and "%" in x)
        assert line.lstrip().startswith(tuple("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"))  # the live status line, not a printed line
        later = pane.wait_for(r"toy__slow_steps [\d.]+s · █+░* (75|100)% · step [34]", timeout=60)
        assert "step 3" in later or "step 4" in later
        done = pane.wait_for(r"EXIT=0", timeout=60)
        assert "Indexed everything." in done and "✓ toy__slow_steps → 4 steps done" in done
        assert "%" not in done.split("✓ toy__slow_steps")[1]  # the status line is gone with the tool
    finally:
        pane.close()


def test_piped_output_has_a_line_per_change(tmp_path: Path, home: Path, definition: Path, emulator) -> None:  # type: ignore[no-untyped-def]
    emulator.queue(steps(3, 0), Reply(text="Done."))
    done = subprocess.run(
        agentcore("run", str(definition), "index it", "--no-color"),
        capture_output=True,
        text=True,
        env=cli_env(home),
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = [x for x in done.stderr.splitlines() if x.startswith("  ⋯ ")]
    assert lines == [
        "  ⋯ ███░░░░░░░ 33% · step 1",
        "  ⋯ ███████░░░ 67% · step 2",
        "  ⋯ ██████████ 100% · step 3",
    ]
    assert done.stdout == "Done.\n"
