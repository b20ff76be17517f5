"""Errors for people (issue 15): the offending source line with a caret, the closest known name, why a
reference is refused, and YAML syntax errors in our words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentcore.cli.common import source_excerpt
from agentcore.definitions import loads
from agentcore.errors import ConfigError
from tests.surfaces.first_hour import cli_env


def validate(home: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentcore.cli", "validate", str(path)],
        capture_output=True, text=True, timeout=120, env=cli_env(home, NO_COLOR="1"),
    )


def messages(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        loads(text, filename="a.yaml")
    return [msg for _, _, _, msg in info.value.errors]


def test_validate_shows_the_line_with_a_caret_and_the_closest_tool(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(
        "version: 1\nagents:\n  helper:\n    model: openai:gpt-5\n    tools: [shel, read_file]\n"
    )
    done = validate(home, path)
    assert done.returncode == 3
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"{path}:5:13: error: agents.helper.tools[0]: unknown tool 'shel'; did you mean 'shell'?")
    assert lines[1] == "    5 |     tools: [shel, read_file]"
    assert lines[2] == "      |             ^"


def test_a_refused_reference_says_why(tmp_path: Path) -> None:
    for ref in ("subprocess:run", "subprocess.run"):
        [msg] = messages(f"version: 1\nagents:\n  a:\n    model: openai:gpt-5\n    tools: ['{ref}']\n")
        assert "module 'subprocess' cannot be referenced from YAML: it is part of Python's standard library" in msg
        assert "Write a function in your own module" in msg and "tools: [shell]" in msg
    [msg] = messages("version: 1\nagents:\n  a:\n    model: openai:gpt-5\n    tools: ['agentcore.tools:tool']\n")
    assert "it is agentcore itself" in msg


def test_a_misspelled_function_suggests_the_closest(tmp_path: Path) -> None:
    (tmp_path / "mytools.py").write_text("def slow_count(n: int) -> int:\n    '''Count.'''\n    return n\n")
    with pytest.raises(ConfigError) as info:
        loads(
            "version: 1\nimports: [mytools]\nagents:\n  a:\n    model: openai:gpt-5\n    tools: ['mytools:slow_cont']\n",
            base_dir=tmp_path,
        )
    [(_, _, _, msg)] = info.value.errors
    assert "has no attribute 'slow_cont'; did you mean mytools:slow_count?" in msg


@pytest.mark.parametrize(
    ("text", "line", "ours"),
    [
        ('version: 1\nagents:\n  a:\n    instructions: "Help\n', 4, "a quoted string is not closed (it opens at line 4"),
        ("version: 1\nagents:\n  a:\n    tools: [shell\n    model: x\n", 5, "a [list] is not closed (it opens at line 4"),
        ("version: 1\nagents:\n  a:\n    model: x\n   instructions: y\n", 5, "not indented like the keys before it"),
        ("version: 1\nagents:\n\ta: {}\n", 3, "a tab character: YAML is indented with spaces only"),
        ("version: 1\nagents:\n  a:\n    instructions: Note: be brief\n", 4, "put the value in quotes"),
    ],
)
def test_yaml_syntax_errors_in_our_words(text: str, line: int, ours: str) -> None:
    with pytest.raises(ConfigError) as info:
        loads(text, filename="a.yaml")
    [(_, at_line, _, msg)] = info.value.errors
    assert msg.startswith("YAML syntax error: ") and ours in msg and "(PyYAML: " in msg
    assert at_line == line


def test_source_excerpt() -> None:
    lines = ["version: 1", "\tbad: [x"]
    assert source_excerpt(lines, 2, 3) == "    2 | \tbad: [x\n      | \t ^"  # tabs kept, so the caret lines up
    assert source_excerpt(lines, 1, 1) == ""  # problems of the whole file have no line to show
    assert source_excerpt(None, 2, 1) == "" and source_excerpt(lines, 9, 1) == ""
