"""Asking the person at the terminal whether a tool call may run.

When a tool that needs approval is called, the run pauses and ``agentcore run`` shows the call (the
agent, the tool, each argument on its own line) and asks on a prompt_toolkit prompt with the chat's line
editing:

* ``y`` (or ``yes``) runs it; ``n`` (or Enter) rejects it, and ``n <reason>`` tells the model why;
* ``a`` (``always``) runs it and every later call of the same tool in this chat (or run) without asking;
* Ctrl-C rejects it and stops the message: the chat is back at its prompt (a one-shot run ends as
  interrupted, exit code 130); Ctrl-D is a plain no.

``--yes`` approves everything without asking; without a terminal (or with ``--json``) nobody is there
to ask and every call is rejected with a reason the model reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .progress import BOLD, DIM, GREEN, RED, YELLOW, Progress

ARGUMENT_LIMIT = 1500
"""Characters of one argument shown before the rest is cut (the count of what was cut is shown)."""
ANSWERS = {"y": "yes", "yes": "yes", "n": "no", "no": "no", "": "no", "a": "always", "always": "always"}


class ApprovalInterrupted(Exception):
    """Ctrl-C at an approval prompt: the call was rejected and the message stops there."""


def describe_arguments(arguments: str) -> list[str]:
    """The lines that show a call's arguments: ``name: value`` per top-level key (strings as written,
    their newlines kept and indented; other values as compact JSON), long values cut."""
    try:
        data = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return [_cut(arguments)]
    if not isinstance(data, dict):
        return [_cut(json.dumps(data, ensure_ascii=False))]
    if not data:
        return ["(no arguments)"]
    lines = []
    for key, value in data.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        text = _cut(text)
        first, *rest = text.split("\n")
        lines.append(f"{key}: {first}")
        lines += [f"{' ' * (len(str(key)) + 2)}{line}" for line in rest]
    return lines


def _cut(text: str) -> str:
    if len(text) <= ARGUMENT_LIMIT:
        return text
    return f"{text[:ARGUMENT_LIMIT]}… ({len(text) - ARGUMENT_LIMIT:,} more characters)"


def parse_answer(text: str) -> tuple[str, str] | None:
    """``(answer, reason)`` for what was typed (``answer`` is yes, no or always), or ``None``."""
    head, _, reason = text.strip().partition(" ")
    answer = ANSWERS.get(head.lower().rstrip(":,"))
    if answer is None:
        return None
    if reason.strip() and answer != "no":
        return None  # only a rejection carries a reason
    return answer, reason.strip()


@dataclass
class Approver:
    """``await approver(pending)`` → ``(approved, reason)`` for one call waiting for approval."""

    progress: Progress
    yes: bool = False
    interactive: bool = True
    always: set[str] = field(default_factory=set)
    """Tools the user answered ``always`` for."""
    _session: Any = None

    async def __call__(self, pending: Any) -> tuple[bool, str]:
        call = pending.call
        label = f"{call.name}({call.arguments})"
        if self.yes:
            self.progress.say(f"✓ approved {label} (--yes)", GREEN)
            return True, ""
        if call.name in self.always:
            self.progress.say(f"✓ approved {label} (always {call.name})", GREEN)
            return True, ""
        if not self.interactive:
            self.progress.say(f"✗ rejected {label}: nobody to ask (run in a terminal or pass --yes)", RED)
            return False, "nobody was there to approve it"
        self.progress.finish_text()
        agent = getattr(pending, "agent", "") or self.progress.agent or "the agent"
        self.show(f"⚠ {agent} wants to run {call.name}", BOLD + YELLOW)
        for line in describe_arguments(call.arguments):
            self.show(f"    {line}")
        try:
            answer, reason = await self.ask(call.name)
        except KeyboardInterrupt:
            self.show(f"✗ rejected {call.name} (Ctrl-C): message stopped", RED)
            raise ApprovalInterrupted(f"the user rejected {call.name} with Ctrl-C") from None
        if answer == "no":
            why = f": {reason}" if reason else ""
            self.show(f"✗ rejected {call.name}{why}", RED)
            return False, reason
        if answer == "always":
            self.always.add(call.name)
            self.show(f"✓ approved {call.name}, and every later {call.name} call", GREEN)
        else:
            self.show(f"✓ approved {call.name}", GREEN)
        return True, ""

    def show(self, text: str, tint: str = "") -> None:
        """A line of the question: printed even with ``--quiet`` (the user must see what they approve)."""
        print(self.progress.paint(text, tint) if tint else text, file=self.progress.out, flush=True)

    async def ask(self, tool: str) -> tuple[str, str]:
        """Read an answer on a prompt_toolkit prompt (Ctrl-C raises ``KeyboardInterrupt``; Ctrl-D is no)."""
        from prompt_toolkit import PromptSession
        from prompt_toolkit.validation import Validator

        if self._session is None:
            self._session = PromptSession()
        message: Any = [("bold", f"approve {tool}? "), ("", "[y]es [n]o [a]lways: ")]
        if not self.progress.color:
            message = f"approve {tool}? [y]es [n]o [a]lways: "
        valid = Validator.from_callable(
            lambda text: parse_answer(text) is not None,
            error_message="answer y, n (optionally n and a reason) or a",
            move_cursor_to_end=True,
        )
        self.show("Enter = no · n <reason> tells the model why · Ctrl-C rejects and stops", DIM)
        try:
            text = await self._session.prompt_async(message, validator=valid, validate_while_typing=False)
        except EOFError:
            return "no", ""
        parsed = parse_answer(text)
        assert parsed is not None  # the validator accepted it
        return parsed
