"""Live progress of a run on stderr, and the summary printed when it ends.

On a terminal (``live``) the bottom of stderr holds a status line that a ticker redraws ten times a
second: a spinner, what is happening (``thinking`` while the model works, the tool's name while a tool
runs, ``writing`` while a Markdown block is being written), the seconds it has taken, a running tool's
reported progress (an MCP server's progress notifications: a bar with the percentage when the total is
known, and the tool's message), and the tokens or cost so far; under it, while a tool runs, the last
lines of the tool's streamed output. Everything else
(tool calls, results, turns, the summary) is printed above it as plain lines, so a log of the terminal
reads like the non-terminal output.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from ..events import (
    AgentStarted,
    ContextCompacted,
    GuardrailFeedback,
    HandoffOccurred,
    ModelCorrection,
    RetryScheduled,
    RunEvent,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolOutputDelta,
    ToolProgress,
    TurnCompleted,
)
from ..messages import Usage

if TYPE_CHECKING:
    from .render import Answer

BOLD, DIM, RED, GREEN, YELLOW, CYAN, RESET = (
    "\033[1m",
    "\033[2m",
    "\033[31m",
    "\033[32m",
    "\033[33m",
    "\033[36m",
    "\033[0m",
)
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
TAIL_LINES = 4
"""Lines of a running tool's output shown under the status line."""


BAR_CELLS = 10


def progress_text(ev: ToolProgress) -> str:
    """``███░░░░░░░ 30% · indexing docs`` (a known total), ``12 · indexing docs`` (no total)."""
    if ev.total:
        done = min(max(ev.progress / ev.total, 0.0), 1.0)
        cells = round(done * BAR_CELLS)
        text = f"{'█' * cells}{'░' * (BAR_CELLS - cells)} {done:.0%}"
    else:
        text = f"{ev.progress:g}"
    return f"{text} · {_short(ev.message, 80)}" if ev.message else text


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Progress:
    """Prints run events as they happen; collects what the summary needs.

    ``prices`` maps agent names to USD per million (input, output) tokens; the cost is shown only
    when every turn's agent has a price.
    """

    out: TextIO = field(default_factory=lambda: sys.stderr)
    color: bool = False
    quiet: bool = False
    echo_text: bool = True
    text_out: TextIO | None = None
    """Where assistant text streams (chat mode: stdout); ``None``: progress stream, dimmed."""
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    usage: Usage = field(default_factory=Usage)
    turns: int = 0
    cost: float = 0.0
    cost_known: bool = True
    agent: str | None = None
    trace_id: str | None = None
    live: bool = False
    """Draw the status line and the tool-output tail (stderr is a terminal)."""
    answer: Answer | None = None
    """Where assistant text goes when it goes to stdout (takes precedence over ``text_out``)."""
    structured: frozenset[str] = frozenset()
    """Agents whose final output is structured: their text is not streamed, the value is printed once."""
    spent_before: tuple[int, float] = (0, 0.0)
    """Tokens and cost of the chat's earlier messages (the status line shows the total so far)."""
    _activity: str = "starting"
    _since: float = field(default_factory=time.monotonic)
    _tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    _drawn: int = 0
    _frame: int = 0
    _ticker: asyncio.Task[None] | None = None
    _partial: dict[str, str] = field(default_factory=dict)
    """Streamed tool output not yet ended by a newline, by call id."""
    _progress: dict[str, ToolProgress] = field(default_factory=dict)
    """The last progress each running tool reported, by call id (the newest is shown)."""
    _progress_shown: str = ""
    _line_open: bool = False
    _text_streamed: bool = False
    _corrected: str | None = None
    """The message of the last correction shown (its GuardrailFeedback twin is not shown again)."""

    def paint(self, text: str, tint: str) -> str:
        return f"{tint}{text}{RESET}" if self.color else text

    def say(self, text: str, tint: str = "") -> None:
        if self.quiet:
            return
        self._close_line()
        self._clear_live()
        print(self.paint(text, tint) if tint else text, file=self.out, flush=True)
        if self._ticker is not None:
            self.draw()

    def _close_line(self) -> None:
        if self._line_open:
            if self.answer is not None:
                self.answer.finish()  # ends the streamed line (only if it is open)
            else:
                print(file=self.text_out or self.out, flush=True)
            self._line_open = False

    # ------------------------------------------------------------------ the live status

    def doing(self, activity: str) -> None:
        """Say what the status line shows from now on (its clock starts again)."""
        self._activity = activity
        self._since = time.monotonic()
        self._tail.clear()
        self.draw()

    def _clear_live(self) -> None:
        if self._drawn:
            up = f"\033[{self._drawn - 1}A" if self._drawn > 1 else ""
            self.out.write(f"\r{up}\033[J")
            self.out.flush()
            self._drawn = 0

    def status_text(self) -> str:
        """``⠋ thinking 2.3s · 1,234 tokens · $0.0012``: what the status line says now."""
        elapsed = time.monotonic() - self._since
        tokens = self.spent_before[0] + self.usage.total_tokens
        parts = [f"{SPINNER[self._frame % len(SPINNER)]} {self._activity} {elapsed:.1f}s"]
        if self._progress:
            parts.append(progress_text(next(reversed(self._progress.values()))))
        if tokens:
            parts.append(f"{tokens:,} tokens")
        if self.cost_known and self.prices and tokens:
            parts.append(f"${self.spent_before[1] + self.cost:.4f}")
        return " · ".join(parts)

    def draw(self) -> None:
        """Redraw the status line (and the tool-output tail) at the bottom of the terminal."""
        if not self.live or self.quiet or self._activity == "" or self._line_open:
            return
        import shutil

        width = max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
        lines = [self.paint(self.status_text()[:width], CYAN)]
        lines += [self.paint(f"  │ {line}"[:width], DIM) for line in self._tail]
        self._clear_live()
        self.out.write("\n".join(lines))
        self.out.flush()
        self._drawn = len(lines)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            self._frame += 1
            self.draw()

    def start(self) -> None:
        """Start the ticker that keeps the status line moving (``live`` only; call inside the loop)."""
        self.doing("thinking")
        if self.live and not self.quiet and self._ticker is None:
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def stop(self) -> None:
        """Stop the ticker and erase the status line."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self._activity = ""
        self._clear_live()

    # ------------------------------------------------------------------ events

    def event(self, ev: RunEvent) -> None:
        if isinstance(ev, AgentStarted):
            self.agent = ev.agent
            self.say(f"▶ agent {ev.agent}", BOLD)
            self.doing("thinking")
        elif isinstance(ev, TextDelta):
            self._text(ev)
        elif isinstance(ev, ToolCallStarted):
            self.say(self._describe_call(ev), CYAN)
            self.doing(f"{ev.call.name}")
        elif isinstance(ev, ToolOutputDelta):
            if self.quiet:
                return
            self._close_line()
            pending = self._partial.get(ev.call_id, "") + ev.delta
            *lines, rest = pending.split("\n")
            self._partial[ev.call_id] = rest
            if self.live:  # the tail under the status line, not a line per output line
                self._tail.extend(lines)
                self.draw()
                return
            for line in lines:
                print(self.paint(f"  │ {line}", DIM), file=self.out, flush=True)
        elif isinstance(ev, ToolProgress):
            self._tool_progress(ev)
        elif isinstance(ev, ToolCallFinished):
            self._progress.pop(ev.call.call_id, None)
            rest = self._partial.pop(ev.call.call_id, "")
            if rest and not self.quiet and not self.live:
                print(self.paint(f"  │ {rest}", DIM), file=self.out, flush=True)
            self._activity = "thinking"
            self._tail.clear()
            if ev.result.is_error:
                self.say(f"  ✗ {ev.call.name}: {_short(ev.result.output)}", RED)
            else:
                self.say(f"  ✓ {ev.call.name} → {_short(ev.result.output, 100)}", DIM)
            self.doing("thinking")
        elif isinstance(ev, HandoffOccurred):
            self.say(f"↪ handoff {ev.from_agent} → {ev.to_agent}", CYAN)
        elif isinstance(ev, TurnCompleted):
            self._account(ev)
            self.say(
                f"· turn {ev.turn} · tokens {self.usage.input_tokens:,} in / {self.usage.output_tokens:,} out",
                DIM,
            )
            self.doing("thinking")
        elif isinstance(ev, RetryScheduled):
            self.say(f"↻ retry #{ev.attempt} in {ev.delay:.1f}s: {_short(ev.error, 120)}", YELLOW)
        elif isinstance(ev, ContextCompacted):
            how = ", ".join(ev.strategy)
            self.say(f"⇲ context compacted ({how}): ~{ev.tokens_before:,} → ~{ev.tokens_after:,} tokens", DIM)
        elif isinstance(ev, ModelCorrection):
            self._corrected = ev.message
            self.say(f"↺ correction {ev.count}/{ev.limit} ({ev.source}): {_short(ev.message)}", YELLOW)
        elif isinstance(ev, GuardrailFeedback):
            if ev.message != self._corrected:
                self.say(f"⚠ {ev.name}: {_short(ev.message)}", YELLOW)
            self._corrected = None

    def _tool_progress(self, ev: ToolProgress) -> None:
        """Live: the status line shows it. Otherwise a line, when what it says changed."""
        self._progress.pop(ev.call_id, None)
        self._progress[ev.call_id] = ev  # the newest last
        if self.quiet:
            return
        if self.live:
            self.draw()
            return
        text = f"  ⋯ {progress_text(ev)}"
        if text != self._progress_shown:
            self._progress_shown = text
            self._close_line()
            print(self.paint(text, DIM), file=self.out, flush=True)

    def _text(self, ev: TextDelta) -> None:
        if not self.echo_text or ev.agent in self.structured:
            return  # a structured answer is printed once, at the end
        if self.answer is not None:
            self._clear_live()
            self.answer.feed(ev.delta)
            self._text_streamed = True
            if self.answer.markdown:  # the unfinished block is held back: say so
                if self._activity != "writing":
                    self.doing("writing")
                else:
                    self.draw()
            else:
                self._line_open = True  # raw text on the terminal: no status line until it is done
            return
        if self.quiet and self.text_out is None:
            return
        self._clear_live()
        target = self.text_out or self.out
        text = ev.delta if self.text_out is not None else self.paint(ev.delta, DIM)
        target.write(text)
        target.flush()
        self._line_open = True
        self._text_streamed = True

    def _describe_call(self, ev: ToolCallStarted) -> str:
        try:
            args: Any = json.loads(ev.call.arguments or "{}")
        except ValueError:
            args = ev.call.arguments
        if ev.call.name == "shell" and isinstance(args, dict) and "command" in args:
            return f"⚙ shell $ {_short(str(args['command']), 200)}"
        shown = json.dumps(args) if not isinstance(args, str) else args
        return f"⚙ {ev.call.name} {_short(shown, 160)}"

    def _account(self, ev: TurnCompleted) -> None:
        self._charge(ev.agent, ev.usage)
        self.turns = ev.turn

    def _charge(self, agent: str, usage: Usage) -> None:
        """Add the cost of the tokens used since the last event to ``agent``'s model price."""
        delta_in = usage.input_tokens - self.usage.input_tokens
        delta_out = usage.output_tokens - self.usage.output_tokens
        if delta_in <= 0 and delta_out <= 0:
            return
        price = self.prices.get(agent)
        if price is None:
            self.cost_known = False
        else:
            self.cost += (max(delta_in, 0) * price[0] + max(delta_out, 0) * price[1]) / 1e6
        self.usage = usage.model_copy(deep=True)

    def settle(self, usage: Usage, agent: str) -> None:
        """Charge tokens the turn events did not cover (the final turn) to ``agent``."""
        self._charge(agent, usage)

    def reset(self) -> None:
        """Start counting afresh (each message of a chat gets its own summary)."""
        self.usage = Usage()
        self.started = time.monotonic()
        self.turns = 0
        self.cost, self.cost_known = 0.0, True
        self.trace_id = None
        self._text_streamed = False
        self._partial.clear()
        self._progress.clear()

    def finish_text(self) -> None:
        self._clear_live()
        if self.answer is not None:
            self.answer.finish()
        self._close_line()

    @property
    def text_streamed(self) -> bool:
        return self._text_streamed

    def summary(
        self,
        *,
        status: str,
        ok: bool,
        trace_id: str | None,
        session: str | None,
        agent: str | None,
        turns: int | None = None,
        usage: Usage | None = None,
    ) -> dict[str, Any]:
        """Print the summary line(s) and return them as a dict (for ``--json``)."""
        usage = usage or self.usage
        elapsed = time.monotonic() - self.started
        info: dict[str, Any] = {
            "status": status,
            "agent": agent or self.agent,
            "turns": turns if turns is not None else self.turns,
            "usage": usage.model_dump(),
            "cost_usd": round(self.cost, 6) if self.cost_known and usage.total_tokens else None,
            "seconds": round(elapsed, 3),
            "trace_id": trace_id,
            "session": session,
        }
        parts = [
            status,
            f"agent {info['agent']}",
            f"{info['turns']} turn{'s' if info['turns'] != 1 else ''}",
            f"{usage.total_tokens:,} tokens ({usage.input_tokens:,} in / {usage.output_tokens:,} out)",
        ]
        if info["cost_usd"] is not None:
            cost = info["cost_usd"]
            parts.append(f"${cost:.4f}" if cost >= 0.01 else f"${cost:.6f}")
        parts.append(f"{elapsed:.1f}s")
        if trace_id:
            parts.append(f"trace {trace_id[:12]}")
        self.say(("✔ " if ok else "✗ ") + " · ".join(parts), GREEN if ok else RED)
        if trace_id:
            self.say(f"  view: agentcore trace show {trace_id[:12]}", DIM)
        if session:
            self.say(f"  continue: --session {session}", DIM)
        return info
