"""The chat in a real terminal (issue 15): tmux runs ``agentcore run FILE``, the test types into the pane
and reads it back. The model is the Chat Completions emulator on 127.0.0.1; a tool that streams its
output slowly (``slow_count``) makes a long-running step to watch and to interrupt."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_chat import ChatCompletionsEmulator
from tests.surfaces.first_hour import Pane, agentcore, cli_env, needs_tmux, write_definition

MARKDOWN = "# Plan\n\nSome **bold** words.\n\n```python\nprint('hi')\n```\n\nDone.\n"


@pytest.fixture
def definition(tmp_path: Path, emulator: ChatCompletionsEmulator) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return write_definition(folder, emulator.base_url + "/v1")


@pytest.fixture
def pane_for(tmp_path: Path, home: Path) -> Iterator[object]:
    needs_tmux()
    panes: list[Pane] = []

    def start(*args: str, **env: str) -> Pane:
        pane = Pane(tmp_path, agentcore(*args), cli_env(home, **env), cwd=tmp_path)
        panes.append(pane)
        return pane

    yield start
    for pane in panes:
        pane.close()


def _user_texts(body: dict[str, object]) -> list[str]:
    messages = body["messages"]
    assert isinstance(messages, list)
    return [str(m.get("content")) for m in messages if m.get("role") in ("user", "assistant")]


def test_markdown_answer_history_recall_and_exit(pane_for, definition, emulator) -> None:  # type: ignore[no-untyped-def]
    emulator.queue(Reply(text=MARKDOWN))
    pane = pane_for("run", str(definition))
    pane.wait_for(r"you> $|you>\s*$")
    pane.type("hello there")
    pane.send("Enter")
    screen = pane.wait_for(r"done · agent helper")
    answer = screen[screen.index("hello there") :]
    assert "print('hi')" in answer and "Plan" in answer
    assert "```" not in answer and "# Plan" not in answer and "**bold**" not in answer  # rendered
    assert answer.count("Done.") == 1
    # multi-line input: Alt-Enter and a trailing backslash start new lines; Enter sends
    emulator.queue(Reply(text="got three lines"))
    pane.type("line one")
    pane.send("Escape", "Enter")
    pane.type("line two\\")
    pane.send("Enter")
    pane.type("line three")
    pane.send("Enter")
    pane.wait_for(r"got three lines")
    assert _user_texts(emulator.requests[-1].body)[-1] == "line one\nline two\nline three"
    pane.wait_for(r"done · agent helper[^\n]*\n[^\n]*\n(.|\n)*done · agent helper")
    # slash commands
    pane.type("/trace")
    pane.send("Enter")
    pane.wait_for(r"agentcore run helper\s+\[\d+ms\](.|\n)*└─ invoke_agent helper")
    pane.type("/usage")
    pane.send("Enter")
    pane.wait_for(r"2 messages · \d[\d,]* tokens in this chat")
    pane.type("/agent")
    pane.send("Enter")
    pane.wait_for(r"\* helper  answers and counts")
    # Up recalls the last line; Ctrl-C clears a typed line; Ctrl-D at an empty prompt leaves
    pane.wait_for_last_line(r"^you>\s*$")
    pane.send("Up")
    pane.wait_for_last_line(r"^you> /agent$")
    pane.send("Up", "Up", "Up")  # /usage, /trace, then the three-line message (Up moves inside it)
    pane.wait_for_last_line(r"^ \.\.\. line three$")
    pane.send("Up", "Up", "Up")
    pane.wait_for_last_line(r"^you> hello there$")
    pane.send("C-c")
    pane.wait_for_last_line(r"^you>\s*$")
    pane.send("C-d")
    pane.wait_for(r"EXIT=0")
    pane.close()

    # the history is kept per definition: a new chat recalls it
    pane = pane_for("run", str(definition))
    pane.wait_for(r"you>")
    pane.send("Up")
    pane.wait_for_last_line(r"^you> /agent$")
    pane.send("C-c")  # clears the recalled line
    pane.wait_for_last_line(r"^you>\s*$")
    pane.send("C-c")  # empty prompt: leaves at once
    pane.wait_for(r"EXIT=0")


def test_ctrl_c_mid_tool_cancels_the_message_and_keeps_the_session(pane_for, definition, emulator) -> None:  # type: ignore[no-untyped-def]
    emulator.queue(
        Reply(text="first answer"),
        Reply(tool_calls=[ToolCallReply("slow_count", {"n": 200, "delay": 0.2})]),
        Reply(text="after the interruption"),
    )
    pane = pane_for("run", str(definition), "--session", "s1")
    pane.wait_for(r"you>")
    pane.type("hi")
    pane.send("Enter")
    pane.wait_for(r"first answer")
    pane.wait_for(r"done · agent helper")
    pane.type("count slowly")
    pane.send("Enter")
    # the live status: spinner, the tool's name, its elapsed time; the tail of its output under it
    screen = pane.wait_for(r"line 4")
    assert re.search(r"slow_count \d+\.\ds", screen), screen
    pane.send("C-c")
    screen = pane.wait_for(r"cancelled: the turns completed before Ctrl-C are kept")
    pane.wait_for(r"you>\s*$")
    requests = len(emulator.requests)
    pane.type("and now?")
    pane.send("Enter")
    pane.wait_for(r"after the interruption")
    assert len(emulator.requests) == requests + 1
    sent = _user_texts(emulator.requests[-1].body)
    assert sent[:2] == ["hi", "first answer"], sent  # the completed message is kept
    assert sent[-1] == "and now?"
    pane.type("/session")
    pane.send("Enter")
    pane.wait_for(r"session s1 · \d+ items · active agent helper")
    pane.send("C-d")
    pane.wait_for(r"EXIT=")


def test_structured_answer_printed_once(pane_for, definition, emulator) -> None:  # type: ignore[no-untyped-def]
    report = {"title": "weekly", "score": 7}
    emulator.queue(Reply(text=json.dumps(report)))
    pane = pane_for("run", str(definition), "--agent", "reporter")
    pane.wait_for(r"you>")
    pane.type("report please")
    pane.send("Enter")
    screen = pane.wait_for(r"done · agent reporter")
    answer = screen[screen.index("report please") :]
    assert answer.count('"weekly"') == 1, answer
    pane.send("C-d")
    pane.wait_for(r"EXIT=0")


def test_structured_answer_printed_once_through_a_pipe(definition, emulator, home: Path) -> None:  # type: ignore[no-untyped-def]
    emulator.queue(Reply(text=json.dumps({"title": "weekly", "score": 7})))
    done = subprocess.run(
        [sys.executable, "-m", "agentcore.cli", "run", str(definition), "report", "--agent", "reporter"],
        capture_output=True,
        text=True,
        env=cli_env(home),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"title": "weekly", "score": 7}
    assert "\x1b[" not in done.stdout  # plain for pipes


def test_plain_text_through_a_pipe_and_no_color(definition, emulator, home: Path) -> None:  # type: ignore[no-untyped-def]
    emulator.queue(Reply(text=MARKDOWN))
    done = subprocess.run(
        [sys.executable, "-m", "agentcore.cli", "run", str(definition), "hello"],
        capture_output=True,
        text=True,
        env=cli_env(home, NO_COLOR="1"),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == MARKDOWN  # the Markdown source, exactly once


def test_no_color_in_a_terminal_streams_the_markdown_source(pane_for, definition, emulator) -> None:  # type: ignore[no-untyped-def]
    emulator.queue(Reply(text=MARKDOWN))
    pane = pane_for("run", str(definition), "hello", NO_COLOR="1")
    screen = pane.wait_for(r"EXIT=0")
    assert "```python" in screen and "# Plan" in screen  # plain: the text as the model wrote it
    assert screen.count("Done.") == 1


def test_the_status_line_waits_while_raw_text_streams() -> None:
    import io

    from agentcore.cli.progress import Progress
    from agentcore.cli.render import Answer
    from agentcore.events import TextDelta

    err, out = io.StringIO(), io.StringIO()
    progress = Progress(out=err, live=True, answer=Answer(out), text_out=out, echo_text=True)
    progress.doing("thinking")
    assert "thinking 0.0s" in err.getvalue()
    progress.event(TextDelta("a", "hello "))
    drawn = err.getvalue()
    progress.draw()  # what the ticker does: nothing while the answer's line is open
    assert err.getvalue() == drawn
    progress.event(TextDelta("a", "world"))
    progress.finish_text()
    assert out.getvalue() == "hello world\n"


def test_markdown_blocks_wait_for_their_end() -> None:
    from agentcore.cli.render import split_blocks

    assert split_blocks("# Title\n\nSome text") == ("# Title\n\n", "Some text")
    assert split_blocks("```python\nx = 1\n\ny = 2\n") == ("", "```python\nx = 1\n\ny = 2\n")  # open fence
    assert split_blocks("```python\nx = 1\n```\nmore") == ("```python\nx = 1\n```\n", "more")
    assert split_blocks("| a | b |\n|---|---|\n| 1 | 2 |") == ("", "| a | b |\n|---|---|\n| 1 | 2 |")
