"""How an answer reaches stdout: raw text as it streams (pipes, ``NO_COLOR``, ``--no-color``), or Markdown
rendered in the terminal with ``rich`` (code blocks highlighted), block by block as the model writes.

Rendering waits for a block to be complete (a blank line outside a code fence, or the end of the
answer) so a half-written table or code block is never drawn and then redrawn; what is still being
written shows in the live status line as "writing".
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..events import RunResult
    from .progress import Progress

_FENCE = re.compile(r"^\s{0,3}(```|~~~)", re.MULTILINE)


def split_blocks(text: str) -> tuple[str, str]:
    """``(complete, rest)``: the Markdown blocks of ``text`` that are finished, and what may still grow.

    A block ends at a blank line that is not inside a fenced code block."""
    cut = 0
    pos = 0
    inside = False
    for line in text.splitlines(keepends=True):
        pos += len(line)
        if not line.endswith("\n"):
            break  # the last line is still being written
        if _FENCE.match(line):
            inside = not inside
            if not inside:
                cut = pos  # a closed fence ends its block
            continue
        if not inside and not line.strip():
            cut = pos
    return text[:cut], text[cut:]


class Answer:
    """The assistant's text on its way to ``out``: streamed raw, or rendered as Markdown."""

    def __init__(self, out: TextIO | None = None, *, markdown: bool = False) -> None:
        self.out = out or sys.stdout
        self.markdown = markdown
        self.pending = ""
        """Markdown not rendered yet (an unfinished block)."""
        self._open_line = False
        self._console: Any = None

    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.out, force_terminal=True, highlight=False, soft_wrap=False)
        return self._console

    def feed(self, delta: str) -> None:
        if not delta:
            return
        if not self.markdown:
            self.out.write(delta)
            self.out.flush()
            self._open_line = not delta.endswith("\n")
            return
        self.pending += delta
        done, self.pending = split_blocks(self.pending)
        if done.strip():
            self._render(done)

    def finish(self) -> None:
        """The answer is complete: render what is left, end the line."""
        if self.markdown:
            rest, self.pending = self.pending, ""
            if rest.strip():
                self._render(rest)
        elif self._open_line:
            self.out.write("\n")
            self.out.flush()
        self._open_line = False

    def _render(self, text: str) -> None:
        from rich.markdown import Markdown

        self.console().print(Markdown(text, code_theme="monokai"))
        self.out.flush()

    def structured(self, value: Any) -> None:
        """A structured final output, printed once as JSON."""
        text = json.dumps(value, indent=2, ensure_ascii=False)
        if self.markdown:
            from rich.json import JSON

            self.console().print(JSON(text))
        else:
            print(text, file=self.out)
        self.out.flush()

    def text(self, value: str) -> None:
        """A final answer that was not streamed (the model's adapter does not stream)."""
        self.feed(value if value.endswith("\n") or not value else value + "\n")
        self.finish()


def jsonable(value: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def emit_output(result: RunResult[Any], progress: Progress) -> None:
    """The final answer on stdout, once: streamed text is not printed again, a structured output is
    printed (as JSON) here and only here."""
    output = result.final_output
    progress.finish_text()
    answer = progress.answer or Answer(sys.stdout)
    if isinstance(output, str):
        if progress.text_streamed and (progress.answer is not None or progress.text_out is not None):
            return
        answer.text(output)
    else:
        answer.structured(jsonable(output))
    sys.stdout.flush()
