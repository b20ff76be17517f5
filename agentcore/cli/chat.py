"""``agentcore run FILE`` in a terminal: an interactive chat.

Line editing, history and multi-line input come from prompt_toolkit:

* Enter sends; Alt-Enter (or Esc then Enter) starts a new line, and so does a line ending in ``\\``;
  pasted text keeps its newlines;
* Up/Down and Ctrl-R recall earlier messages, kept per definition file in
  ``$AGENTCORE_HOME/history/`` across chats;
* Ctrl-C or Ctrl-D at an empty prompt leaves at once; Ctrl-C on a typed line clears it;
* Ctrl-C while the agent works cancels that message: the session keeps every turn that completed
  before it, and the prompt comes back.

Slash commands: see :data:`COMMANDS`.
"""

from __future__ import annotations

import asyncio
import hashlib
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .approve import ApprovalInterrupted
from .common import EXIT_OK
from .progress import BOLD, DIM, Progress
from .render import emit_output

COMMANDS: dict[str, str] = {
    "/help": "this list",
    "/agent [NAME]": "show the active agent and the others; with NAME, talk to NAME from now on",
    "/session": "the session's name, length, active agent and tokens",
    "/usage": "tokens and cost of this chat so far",
    "/trace": "the last message's trace as a tree",
    "/exit": "leave (Ctrl-D or Ctrl-C at an empty prompt too)",
}


def history_path(definition_file: str | Path) -> Path:
    """Where the prompt history of a definition file is kept (one file per definition)."""
    from ..paths import data_dir

    resolved = Path(definition_file).resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    folder = data_dir() / "history"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{resolved.stem}-{digest}.txt"


def prompt_session(history_file: Path, *, color: bool) -> Any:
    """A prompt_toolkit session: persistent history, Alt-Enter/``\\`` for new lines, Ctrl-C semantics."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory
    from prompt_toolkit.key_binding import KeyBindings

    keys = KeyBindings()

    @keys.add("enter")
    def _send(event: Any) -> None:
        buffer = event.current_buffer
        if buffer.document.text_before_cursor.endswith("\\"):  # a trailing backslash continues the line
            buffer.delete_before_cursor(1)
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @keys.add("escape", "enter")
    def _newline(event: Any) -> None:
        event.current_buffer.insert_text("\n")

    @keys.add("c-c")
    def _interrupt(event: Any) -> None:
        buffer = event.current_buffer
        if buffer.text:
            buffer.reset()  # Ctrl-C on a typed line clears it
        else:
            event.app.exit(exception=EOFError)  # at an empty prompt: leave

    return PromptSession(
        history=FileHistory(str(history_file)),
        key_bindings=keys,
        multiline=True,  # Enter is bound above; multiline lets the buffer hold newlines
        prompt_continuation=lambda width, line, soft: "... ".rjust(width),
        enable_history_search=False,
        color_depth=None if color else _mono(),
    )


def _mono() -> Any:
    from prompt_toolkit.output.color_depth import ColorDepth

    return ColorDepth.DEPTH_1_BIT


@dataclass
class Chat:
    """The state of one interactive chat."""

    definition: Any
    agent: Any
    session: Any
    session_name: str
    max_turns: int
    progress: Progress
    decide: Callable[[Any], Awaitable[tuple[bool, str]]]
    """Asks about a call that needs approval (:class:`.approve.Approver`)."""
    run: Callable[..., Any]
    """``run(agent, text, ...)``: one message's run (``run._one_run``)."""
    failed: Callable[[BaseException], int]
    traces: Any
    color: bool
    setup: Any = None
    last_trace: str | None = None
    tokens: int = 0
    cost: float = 0.0
    cost_known: bool = True
    messages: int = 0
    out: Any = field(default_factory=lambda: sys.stderr)

    def say(self, text: str, tint: str = "") -> None:
        print(f"{tint}{text}\033[0m" if tint and self.color else text, file=self.out, flush=True)

    async def loop(self, history_file: Path) -> int:
        prompt = prompt_session(history_file, color=self.color)
        self.say(
            f"chatting with {self.agent.name} · session {self.session_name} · /help for commands, "
            "Ctrl-D to leave",
            DIM,
        )
        warm_models(self.definition)
        code = EXIT_OK
        while True:
            try:
                text = await prompt.prompt_async(
                    [("bold", "you> ")] if self.color else "you> ",
                )
            except (EOFError, KeyboardInterrupt):
                break
            line = text.strip()
            if not line:
                continue
            if line.startswith("/"):
                if await self.command(line) == "exit":
                    break
                continue
            code = await self.message(text)
        self.say(
            f"session saved: agentcore run {self.definition.filename} --session {self.session_name}", DIM
        )
        return code

    async def message(self, text: str) -> int:
        """Run one message; Ctrl-C cancels it (the completed turns stay in the session)."""
        progress = self.progress
        progress.reset()
        progress.spent_before = (self.tokens, self.cost)
        task = asyncio.ensure_future(
            self.run(
                self.agent,
                text,
                session=self.session,
                max_turns=self.max_turns,
                progress=progress,
                decide=self.decide,
                setup=self.setup,
            )
        )
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, task.cancel)
        try:
            result, trace_id = await task
        except asyncio.CancelledError:
            progress.stop()
            progress.finish_text()
            self.last_trace = progress.trace_id
            self._count(progress)
            self.say("✗ cancelled: the turns completed before Ctrl-C are kept in the session", "\033[33m")
            return EXIT_OK  # the user's choice, not a failure: leaving the chat afterwards exits 0
        except ApprovalInterrupted:  # Ctrl-C at an approval prompt: the call rejected, the message stopped
            progress.stop()
            self.last_trace = progress.trace_id
            self._count(progress)
            return EXIT_OK
        except Exception as exc:
            progress.stop()
            self.last_trace = progress.trace_id
            self._count(progress)
            return self.failed(exc)
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            self.setup = None
        progress.stop()
        self.last_trace = trace_id
        emit_output(result, progress)
        progress.summary(
            status="done",
            ok=True,
            trace_id=trace_id,
            session=None,
            agent=result.last_agent,
            turns=result.turns,
            usage=result.usage,
        )
        self._count(progress)
        if result.last_agent in self.definition.agents:
            self.agent = self.definition.agents[result.last_agent]
        return EXIT_OK

    def _count(self, progress: Progress) -> None:
        self.messages += 1
        self.tokens += progress.usage.total_tokens
        self.cost += progress.cost
        self.cost_known = self.cost_known and progress.cost_known

    async def command(self, line: str) -> str | None:
        name, _, arg = line.partition(" ")
        arg = arg.strip()
        if name in ("/exit", "/quit"):
            return "exit"
        if name == "/help":
            width = max(len(c) for c in COMMANDS)
            for command, text in COMMANDS.items():
                self.say(f"  {command.ljust(width)}  {text}")
            self.say(
                "  Enter sends · Alt-Enter or a trailing \\ adds a line · Up/Ctrl-R recall · "
                "Ctrl-C cancels a running message",
                DIM,
            )
        elif name == "/agent":
            self.agent_command(arg)
            if arg and arg in self.definition.agents:
                await self.session.append([], active_agent=arg)
        elif name == "/session":
            snap = await self.session.load()
            self.say(
                f"session {self.session_name} · {len(snap.items)} items · active agent "
                f"{snap.active_agent or self.agent.name} · {snap.usage.total_tokens:,} tokens"
            )
            self.say(
                f"  continue later: agentcore run {self.definition.filename} --session {self.session_name}",
                DIM,
            )
        elif name == "/usage":
            cost = f" · ${self.cost:.4f}" if self.cost_known and self.progress.prices and self.tokens else ""
            self.say(f"{self.messages} messages · {self.tokens:,} tokens{cost} in this chat")
        elif name == "/trace":
            self.trace_command()
        else:
            self.say(f"unknown command {name}; /help lists them", "\033[31m")
        return None

    def agent_command(self, name: str) -> None:
        agents = self.definition.agents
        if not name:
            self.say(f"active agent: {self.agent.name}", BOLD)
            for other, agent in agents.items():
                mark = "*" if other == self.agent.name else " "
                about = f"  {agent.description}" if agent.description else ""
                self.say(f" {mark} {other}{about}")
            return
        if name not in agents:
            self.say(f"no agent {name!r}; defined: {', '.join(agents)}", "\033[31m")
            return
        self.agent = agents[name]
        self.say(f"now talking to {name}", BOLD)

    def trace_command(self) -> None:
        from ..tracing import store, view

        if self.last_trace is None:
            self.say("no trace yet: send a message first")
            return
        self.traces.flush()
        found = store.find_trace(self.last_trace)
        if found is None:
            self.say(f"trace {self.last_trace[:12]} is not in the local store (--no-trace?)")
            return
        trace_id, spans = found
        self.say(f"trace {trace_id}")
        self.say(view.render(spans, color=self.color))


def warm_models(definition: Any) -> None:
    """Import the SDKs of the definition's models in a background thread while the prompt waits, so the
    first message does not pay for them (a model is built only when an agent first calls it)."""
    from ..registry import LazyModel

    lazy = [m for a in definition.agents.values() for m in _models(a.model) if isinstance(m, LazyModel)]
    if not lazy:
        return
    import threading

    def warm() -> None:
        for model in lazy:
            try:
                model.warm()
            except Exception:  # the first call reports it properly
                pass

    threading.Thread(target=warm, name="agentcore-warm-sdks", daemon=True).start()


def _models(model: Any) -> list[Any]:
    inner = getattr(model, "models", None)  # a FallbackModel
    return list(inner) if isinstance(inner, list) else [model]
