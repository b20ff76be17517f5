"""``agentcore run``: one-shot runs and interactive chats of a definition file."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError, RunError
from ..events import RunResult
from .common import (
    EXIT_CONFIG,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    _color,
    _print_config_error,
    exit_code_for,
)
from .progress import Progress
from .render import Answer, emit_output, jsonable


def _prices(definition: Any, model_override: str | None) -> dict[str, tuple[float, float]]:
    """USD per million tokens by agent name, for agents whose named model has ``pricing``."""
    if model_override is not None:
        return {}
    spec = definition.spec
    out: dict[str, tuple[float, float]] = {}
    for name, agent in spec.agents.items():
        ref = agent.model or spec.defaults.model
        model = spec.models.get(ref) if ref else None
        if model is not None and model.pricing is not None:
            out[name] = (model.pricing.input_per_mtok, model.pricing.output_per_mtok)
    return out


class _Transfers:
    """Files copied into the entry agent's sandbox before a run and out of it afterwards."""

    def __init__(self, definition: Any, args: argparse.Namespace, agents: dict[str, Any], entry: Any) -> None:
        self.uploads: list[tuple[Any, Path, str]] = []
        self.downloads: list[tuple[Any, str, Path]] = []
        self.started: list[Any] = []
        for name, spec in definition.spec.sandboxes.items():
            sandbox = next(
                (
                    a.sandbox
                    for a in agents.values()
                    if a.sandbox is not None and getattr(a.sandbox, "_agentcore_spec", ("",))[0] == name
                ),
                None,
            )
            if sandbox is None:
                continue
            for host, remote in spec.upload.items():
                self.uploads.append((sandbox, definition.base_dir / host, remote))
            for remote, host in spec.download.items():
                self.downloads.append((sandbox, remote, Path(host)))
        if (args.upload or args.download) and entry.sandbox is None:
            raise ConfigError(
                [
                    (
                        definition.filename,
                        1,
                        1,
                        f"--upload/--download need a sandbox, and agent {entry.name!r} has none",
                    )
                ]
            )
        for value in args.upload:
            host, _, remote = value.partition(":")
            self.uploads.append((entry.sandbox, Path(host), remote or Path(host).name))
        for value in args.download:
            remote, _, host = value.partition(":")
            self.downloads.append((entry.sandbox, remote, Path(host or Path(remote).name)))

    async def before(self, progress: Progress) -> None:
        for sandbox, host, remote in self.uploads:
            if not sandbox.started:
                await sandbox.start()
                self.started.append(sandbox)
            await sandbox.upload(host, remote)
            progress.say(f"⇡ uploaded {host} → {remote}")
        for sandbox, _remote, _host in self.downloads:
            if not sandbox.started:
                await sandbox.start()
                self.started.append(sandbox)

    async def after(self, progress: Progress) -> None:
        for sandbox, remote, host in self.downloads:
            try:
                await sandbox.download(remote, host)
                progress.say(f"⇣ downloaded {remote} → {host}")
            except Exception as exc:
                progress.say(f"✗ cannot download {remote}: {exc}")

    async def close(self) -> None:
        for sandbox in self.started:
            await sandbox.close()


def _approver(args: argparse.Namespace, progress: Progress) -> Any:
    from .approve import Approver

    return Approver(progress, yes=args.yes, interactive=sys.stdin.isatty() and not args.json)


class SetUp:
    """When the command loaded the definition and built its agents: recorded as an ``agentcore setup``
    span in the first run's trace (the providers' SDKs show as ``agentcore setup model`` spans where they
    are first used)."""

    def __init__(self) -> None:
        self.start_ns = time.time_ns()
        self.end_ns: int | None = None
        self.attributes: dict[str, Any] = {}

    def done(self, **attributes: Any) -> None:
        self.end_ns = time.time_ns()
        self.attributes.update({f"agentcore.setup.{k}": v for k, v in attributes.items()})

    def record(self, parent: Any) -> None:
        """Emit the span once, under ``parent`` (the first run's root)."""
        if self.end_ns is None:
            return
        from opentelemetry import trace

        from .. import tracing

        s = tracing.tracer().start_span(
            "agentcore setup",
            context=trace.set_span_in_context(parent),
            attributes=self.attributes,
            start_time=self.start_ns,
        )
        s.end(end_time=self.end_ns)
        self.end_ns = None


async def _one_run(
    agent: Any,
    prompt: str | None,
    *,
    session: Any,
    max_turns: int,
    progress: Progress,
    decide: Any,
    setup: SetUp | None = None,
) -> tuple[RunResult[Any], str | None]:
    from .. import tracing
    from ..run.runner import Runner

    run_input: Any = prompt
    attrs: dict[str, Any] = {"agentcore.agent": agent.name}
    if prompt and tracing.capture_content():
        attrs["agentcore.input"] = tracing.content(prompt[:500])
    with tracing.span(f"agentcore run {agent.name}", attrs) as root:
        trace_id = tracing.trace_id_of(root)
        progress.trace_id = trace_id
        if setup is not None:
            setup.record(root)
        progress.start()
        try:
            while True:
                # closing the stream cancels the run: Ctrl-C in a chat ends the message, not the chat
                async with Runner.stream(agent, run_input, session=session, max_turns=max_turns) as stream:
                    async for event in stream:
                        progress.event(event)
                result = stream.result
                progress.settle(result.usage, result.last_agent)
                if not result.paused:
                    return result, trace_id
                state = result.state
                progress.stop()
                for pending in result.interruptions:
                    approved, reason = await decide(pending)
                    if approved:
                        state.approve(pending.call.call_id)
                    else:
                        state.reject(pending.call.call_id, reason)
                progress.start()
                run_input = state
        finally:
            progress.stop()


async def _main(args: argparse.Namespace) -> int:
    from ..definitions import load
    from ..tracing import store as trace_store

    color = _color(sys.stderr, args.color)
    setup = SetUp()
    try:
        definition = load(args.file, allow=args.allow)
        entry = definition.build(model=args.model, base_url=args.base_url)
    except ConfigError as exc:
        _print_config_error(exc, color)
        return EXIT_CONFIG
    setup.done(file=str(args.file), agents=len(definition.agents), models=len(definition.spec.models))
    agent = definition.agents.get(args.agent) if args.agent else entry
    if agent is None:
        print(
            f"no agent {args.agent!r} in {args.file}; defined: {', '.join(definition.agents)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    max_turns = args.max_turns or definition.max_turns(agent.name) or 30
    prompt: str | None = args.prompt
    chat = prompt is None and sys.stdin.isatty()
    if chat and args.json:
        print("--json needs a PROMPT (or one on stdin); it is for one-shot runs", file=sys.stderr)
        return EXIT_USAGE
    if prompt == "-" or (prompt is None and not chat):
        prompt = sys.stdin.read()
    if not chat and not (prompt or "").strip():
        if args.session is None:
            print("no input: pass a PROMPT, pipe one on stdin, or run in a terminal to chat", file=sys.stderr)
            return EXIT_USAGE
        prompt = None  # continue the session where it stopped (a crashed run resumes from its last turn)
    session: Any = None
    session_name = args.session
    if chat and session_name is None:
        session_name = time.strftime("chat-%Y%m%d-%H%M%S")
    if session_name is not None:
        from ..sessions.sqlite import SQLiteSession

        session = SQLiteSession(session_name)
    traces = trace_store.setup(local=not args.no_trace)
    for note in traces.notes:
        if note.startswith("OTLP"):
            print(f"warning: {note}", file=sys.stderr)
    live_text = chat or (sys.stdout.isatty() and not args.json)
    progress = Progress(
        color=color,
        quiet=args.quiet,
        prices=_prices(definition, args.model),
        text_out=sys.stdout if live_text else None,
        echo_text=live_text,
        live=sys.stderr.isatty(),
        answer=Answer(sys.stdout, markdown=_color(sys.stdout, args.color)) if live_text else None,
        structured=frozenset(n for n, a in definition.agents.items() if a.output_type is not None),
    )
    try:
        transfers = _Transfers(definition, args, definition.agents, agent)
    except ConfigError as exc:
        _print_config_error(exc, color)
        return EXIT_CONFIG
    progress.agent = agent.name  # until the run says otherwise (a failure before it starts names it too)
    decide = _approver(args, progress)
    code = EXIT_OK
    try:
        await transfers.before(progress)
        if chat:
            from .chat import Chat, history_path

            assert session_name is not None
            code = await Chat(
                definition=definition,
                agent=agent,
                session=session,
                session_name=session_name,
                max_turns=max_turns,
                progress=progress,
                decide=decide,
                run=_one_run,
                failed=lambda exc: _failed(exc, progress, session_name, args),
                traces=traces,
                color=color,
                setup=setup,
            ).loop(history_path(args.file))
            await transfers.after(progress)
        else:
            code = await _single(
                agent, prompt, session, session_name, max_turns, progress, decide, args, transfers, setup
            )
    finally:
        await transfers.close()
        await _close_resources(definition)
        traces.flush()
    return code


async def _close_resources(definition: Any) -> None:
    """Close sandboxes still open (``lifetime: session``) and the models' HTTP clients."""
    from ..model import Model

    seen: set[int] = set()
    for agent in definition.agents.values():
        for resource in (agent.sandbox, agent.model):
            if resource is None or id(resource) in seen:
                continue
            seen.add(id(resource))
            try:
                if isinstance(resource, Model):
                    await resource.aclose()
                elif getattr(resource, "started", False) and not getattr(resource, "closed", True):
                    await resource.close()
            except Exception as exc:  # closing must not hide the run's outcome
                print(f"warning: could not close {resource!r}: {exc}", file=sys.stderr)


async def _single(
    agent: Any,
    prompt: str | None,
    session: Any,
    session_name: str | None,
    max_turns: int,
    progress: Progress,
    decide: Any,
    args: argparse.Namespace,
    transfers: _Transfers,
    setup: SetUp,
) -> int:
    try:
        result, trace_id = await _one_run(
            agent, prompt, session=session, max_turns=max_turns, progress=progress, decide=decide, setup=setup
        )
    except (Exception, KeyboardInterrupt) as exc:
        await transfers.after(progress)
        return _failed(exc, progress, session_name, args)
    await transfers.after(progress)
    if not args.json:
        emit_output(result, progress)
    info = progress.summary(
        status="done",
        ok=True,
        trace_id=trace_id,
        session=session_name,
        agent=result.last_agent,
        turns=result.turns,
        usage=result.usage,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "output": jsonable(result.final_output),
                    "exit_code": EXIT_OK,
                    "error": None,
                    "run_id": result.run_id,
                    **info,
                },
                indent=2,
            )
        )
    return EXIT_OK


def _failed(
    exc: BaseException, progress: Progress, session_name: str | None, args: argparse.Namespace
) -> int:
    code = exit_code_for(exc)
    if isinstance(exc, ConfigError):
        _print_config_error(exc, progress.color)
    else:
        progress.quiet = progress.quiet and args.json
        progress.say(f"✗ {type(exc).__name__}: {exc}", "\033[31m")
    agent = getattr(exc, "agent_name", None)
    usage = getattr(exc, "usage", None)  # what the failed run spent (set by the runner)
    if usage is not None:
        progress.settle(usage, agent or progress.agent or "")
    info = progress.summary(
        status="failed" if code != EXIT_INTERRUPTED else "interrupted",
        ok=False,
        trace_id=progress.trace_id,
        session=session_name,
        agent=agent,
        turns=getattr(exc, "turns", None),
        usage=usage,
    )
    if args.json:
        error = {"type": type(exc).__name__, "message": str(exc)}
        if isinstance(exc, RunError):
            error["agent"] = exc.agent_name or ""
        print(json.dumps({"output": None, "exit_code": code, "error": error, **info}, indent=2))
    return code


def cmd_run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
