"""Approval prompts in the chat, in a real terminal (tmux): the call is shown (agent, tool, one line per
argument), the answer is typed on a prompt_toolkit prompt (y, n with a reason, always), a wrong answer
is refused with a hint, and Ctrl-C rejects the call and brings the chat back to its prompt."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_chat import ChatCompletionsEmulator
from tests.surfaces.first_hour import Pane, agentcore, cli_env, needs_tmux

TOOLS = '''\
from pathlib import Path

from agentcore import tool


@tool
def delete_note(path: str, why: str) -> str:
    """Delete a note."""
    with Path("deleted.txt").open("a") as log:
        log.write(path + "\\n")
    return f"deleted {path}"
'''

DEFINITION = """\
version: 1
imports: [tools]
models:
  local: {{provider: openai-chat, model: llama3, base_url: "{url}"}}
agents:
  helper:
    model: local
    instructions: Tidy notes.
    tools: [{{ref: "tools:delete_note", needs_approval: true}}]
"""


@pytest.fixture
def chat(tmp_path: Path, home: Path, emulator: ChatCompletionsEmulator) -> Iterator[Pane]:
    needs_tmux()
    (tmp_path / "tools.py").write_text(TOOLS)
    path = tmp_path / "agent.yaml"
    path.write_text(DEFINITION.format(url=emulator.base_url + "/v1"))
    pane = Pane(tmp_path, agentcore("run", str(path)), cli_env(home), cwd=tmp_path)
    try:
        pane.wait_for(r"(?m)^you> *$")
        yield pane
    finally:
        pane.close()


def delete(path: str, why: str = "old") -> Reply:
    return Reply(tool_calls=[ToolCallReply("delete_note", {"path": path, "why": why})])


def send(pane: Pane, text: str) -> int:
    """Type a message and send it; returns where the pane's new output starts."""
    start = len(pane.screen().rstrip())
    pane.type(text)
    pane.send("Enter")
    return start


def tool_results(emulator: ChatCompletionsEmulator) -> list[str]:
    messages = emulator.requests[-1].body["messages"]
    return [str(m["content"]) for m in messages if m.get("role") == "tool"]


def test_yes_no_with_a_reason_and_a_wrong_answer(chat: Pane, emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    emulator.queue(delete("notes/a.txt", "two lines:\nstale and empty"), Reply(text="Deleted a."))
    start = send(chat, "tidy a")
    screen = chat.wait_for(r"(?m)approve delete_note\? \[y\]es \[n\]o \[a\]lways: *$", after=start)
    shown = screen[start:]
    assert "⚠ helper wants to run delete_note" in shown
    assert "    path: notes/a.txt" in shown
    assert (
        "    why: two lines:\n         stale and empty" in shown
    )  # a multi-line value, indented under its key
    chat.type("maybe")
    chat.send("Enter")
    chat.wait_for(r"answer y, n \(optionally n and a reason\) or a", after=start)
    chat.send("C-u")  # the prompt's line editing: clear the line, answer again
    chat.type("y")
    chat.send("Enter")
    chat.wait_for(r"(?m)Deleted a\.(.|\n)*^you> *$", after=start)
    assert "✓ approved delete_note" in chat.screen()[start:]
    assert (tmp_path / "deleted.txt").read_text() == "notes/a.txt\n"
    assert tool_results(emulator) == ["deleted notes/a.txt"]

    emulator.queue(delete("notes/b.txt"), Reply(text="Kept b."))
    start = send(chat, "tidy b")
    chat.wait_for(r"approve delete_note\?", after=start)
    chat.type("n it is still in use")
    chat.send("Enter")
    chat.wait_for(r"(?m)Kept b\.(.|\n)*^you> *$", after=start)
    assert "✗ rejected delete_note: it is still in use" in chat.screen()[start:]
    assert "the user rejected this call: it is still in use" in json.dumps(tool_results(emulator))
    assert (tmp_path / "deleted.txt").read_text() == "notes/a.txt\n"


def test_always_then_ctrl_c_rejects_and_returns_to_the_prompt(chat: Pane, emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    emulator.queue(delete("notes/a.txt"), delete("notes/b.txt"), Reply(text="Both gone."))
    start = send(chat, "tidy everything")
    chat.wait_for(r"approve delete_note\?", after=start)
    chat.type("a")
    chat.send("Enter")
    screen = chat.wait_for(r"(?m)Both gone\.(.|\n)*^you> *$", after=start)[start:]
    assert "✓ approved delete_note, and every later delete_note call" in screen
    assert "(always delete_note)" in screen  # the second call was not asked about
    assert screen.count("approve delete_note?") == 1
    assert (tmp_path / "deleted.txt").read_text() == "notes/a.txt\nnotes/b.txt\n"


def test_ctrl_c_at_the_prompt_rejects_and_the_chat_goes_on(chat: Pane, emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    emulator.queue(delete("notes/c.txt"))
    start = send(chat, "tidy c")
    chat.wait_for(r"approve delete_note\?", after=start)
    chat.type("y")  # typed but not sent: Ctrl-C wins
    chat.send("C-c")
    screen = chat.wait_for(r"(?m)message stopped(.|\n)*^you> *$", after=start)[start:]
    assert "✗ rejected delete_note (Ctrl-C): message stopped" in screen
    assert not (tmp_path / "deleted.txt").exists()
    requests = len(emulator.requests)
    emulator.queue(Reply(text="Still here."))
    start = send(chat, "are you there?")
    chat.wait_for(r"(?m)Still here\.(.|\n)*^you> *$", after=start)
    assert len(emulator.requests) == requests + 1
    chat.send("C-d")
    chat.wait_for(r"EXIT=0")


def test_a_one_shot_run_asks_too_and_ctrl_c_ends_it_as_interrupted(
    tmp_path: Path, home: Path, emulator: ChatCompletionsEmulator
) -> None:
    needs_tmux()
    (tmp_path / "tools.py").write_text(TOOLS)
    path = tmp_path / "agent.yaml"
    path.write_text(DEFINITION.format(url=emulator.base_url + "/v1"))
    emulator.queue(delete("notes/d.txt"))
    pane = Pane(tmp_path, agentcore("run", str(path), "tidy d"), cli_env(home), cwd=tmp_path)
    try:
        pane.wait_for(r"approve delete_note\?")
        pane.send("C-c")
        screen = pane.wait_for(r"EXIT=\d+")
        assert "EXIT=130" in screen and "✗ rejected delete_note (Ctrl-C): message stopped" in screen
        assert not (tmp_path / "deleted.txt").exists()
    finally:
        pane.close()
