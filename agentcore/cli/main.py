"""The ``agentcore`` command line.

    agentcore run FILE [PROMPT]      one-shot (PROMPT, or stdin when it is not a terminal) or chat
    agentcore validate FILE          check a definition file; errors as file:line:col
    agentcore schema                 the JSON Schema of definition files
    agentcore trace list|show [ID]   traces from the local store, as a tree
    agentcore sessions list|show|delete [NAME]
    agentcore init [DIR] [--template T]  a runnable project: definition, tool, test, README
    agentcore completion bash|zsh|fish   shell completion
    agentcore sandboxes reap         remove sandboxes whose owning process is gone
    agentcore mcp list|serve FILE    a definition's MCP servers and their tools; its agents served over MCP
    agentcore ui [--host H] [--port P]  a local web page over traces and sessions (agentcore[ui])

Exit codes (also in ``docs/cli.md``): see :data:`EXIT_CODES`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError
from .common import (
    EXIT_CODES,
    EXIT_CONFIG,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    _color,
    _print_config_error,
)
from .completion import cmd_completion
from .init import add_init_parser, cmd_init
from .mcp import add_mcp_parser, cmd_mcp
from .sandboxes import add_sandboxes_parser, cmd_sandboxes
from .worker import add_worker_parser

# --------------------------------------------------------------------------- validate / schema


def cmd_validate(args: argparse.Namespace) -> int:
    from ..definitions import load

    color = _color(sys.stderr, args.color)
    try:
        definition = load(args.file, allow=args.allow)
    except ConfigError as exc:
        _print_config_error(exc, color)
        return EXIT_CONFIG
    spec = definition.spec
    agents = ", ".join(spec.agents)
    print(
        f"{args.file}: ok · {len(spec.agents)} agent{'s' if len(spec.agents) != 1 else ''} ({agents}) · "
        f"entry {definition.entry} · {len(spec.models)} models · {len(spec.sandboxes)} sandboxes"
    )
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from ..definitions.schema import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


# --------------------------------------------------------------------------- trace


STORE_HELP = "a directory or a postgresql:// DSN (default: $AGENTCORE_TRACE_STORE, else the local store)"


def cmd_trace(args: argparse.Namespace) -> int:
    from ..tracing import store as trace_store
    from ..tracing import view as trace_view

    if args.trace_command == "list":
        traces = trace_store.list_traces(args.store, limit=args.limit)
        if args.json:
            print(json.dumps([{**t.__dict__, "duration_s": t.duration_s} for t in traces], indent=2))
            return EXIT_OK
        if not traces:
            print(f"no traces in {trace_store.describe_location(args.store)}", file=sys.stderr)
            return EXIT_OK
        for t in traces:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t.start / 1e9))
            errors = f"  {t.errors} errors" if t.errors else ""
            shown = " ".join((t.input or "").split())
            shown = f"  {shown[:50]!r}" if shown else ""
            print(
                f"{t.trace_id[:12]}  {when}  {t.duration_s:7.2f}s  {t.spans:3d} spans  "
                f"{t.input_tokens + t.output_tokens:7d} tok  {t.name}{shown}{errors}"
            )
        return EXIT_OK
    found = trace_store.find_trace(args.id, args.store)
    if found is None:
        what = f"trace {args.id!r}" if args.id else "any trace"
        print(
            f"cannot find {what} in {trace_store.describe_location(args.store)} "
            "(ids are unique prefixes; see 'agentcore trace list')",
            file=sys.stderr,
        )
        return EXIT_ERROR
    trace_id, spans = found
    if args.json:
        print(json.dumps({"trace_id": trace_id, "spans": trace_view.to_json(spans)}, indent=2, default=str))
    else:
        print(f"trace {trace_id}")
        print(trace_view.render(spans, color=_color(sys.stdout, args.color)))
    return EXIT_OK


# --------------------------------------------------------------------------- sessions


def _describe_item(item: Any) -> str:
    from ..messages import AssistantMessage, Handoff, Reasoning, ToolCall, ToolResult, UserMessage

    if isinstance(item, UserMessage):
        return f"user: {item.text}"
    if isinstance(item, AssistantMessage):
        return f"{item.agent or 'assistant'}: {item.text}"
    if isinstance(item, ToolCall):
        return f"{item.agent or 'assistant'} → {item.name}({item.arguments})"
    if isinstance(item, ToolResult):
        flag = " (error)" if item.is_error else ""
        return f"  ← {item.name}{flag}: {item.output[:300]}"
    if isinstance(item, Handoff):
        return f"↪ handoff {item.from_agent} → {item.to_agent}"
    if isinstance(item, Reasoning):
        return f"  (reasoning) {item.summary[:200]}"
    return str(item)


def cmd_sessions(args: argparse.Namespace) -> int:
    from ..messages import dump_items
    from ..sessions.sqlite import delete_session, list_sessions, load_session

    if args.sessions_command == "list":
        infos = list_sessions()
        if args.json:
            print(json.dumps([i.__dict__ for i in infos], indent=2))
            return EXIT_OK
        if not infos:
            print("no sessions", file=sys.stderr)
        for info in infos:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.updated_at))
            print(f"{info.session_id}  {when}  {info.items:4d} items  agent {info.active_agent or '-'}")
        return EXIT_OK
    if args.sessions_command == "show":
        snapshot = load_session(args.name)
        if snapshot is None:
            print(f"no session {args.name!r}", file=sys.stderr)
            return EXIT_ERROR
        if args.json:
            print(
                json.dumps(
                    {
                        "session": args.name,
                        "active_agent": snapshot.active_agent,
                        "usage": snapshot.usage.model_dump(),
                        "items": dump_items(snapshot.items),
                    },
                    indent=2,
                )
            )
            return EXIT_OK
        print(
            f"session {args.name} · active agent {snapshot.active_agent or '-'} · "
            f"{snapshot.usage.total_tokens:,} tokens"
        )
        for item in snapshot.items:
            print(_describe_item(item))
        return EXIT_OK
    if not delete_session(args.name):
        print(f"no session {args.name!r}", file=sys.stderr)
        return EXIT_ERROR
    print(f"deleted session {args.name}", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    epilog = "exit codes:\n" + "\n".join(f"  {code:3d}  {text}" for code, text in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="agentcore",
        description="Run, check and inspect agentcore agents.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def color_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--color", dest="color", action="store_true", default=None, help="force colors")
        p.add_argument("--no-color", dest="color", action="store_false", help="no colors")

    run = sub.add_parser("run", help="run an agent definition (one-shot or chat)")
    run.add_argument("file", help="the YAML definition")
    run.add_argument("prompt", nargs="?", help="the input; '-' reads stdin; omit for an interactive chat")
    run.add_argument("--session", metavar="NAME", help="keep the conversation in the session NAME (SQLite)")
    run.add_argument("--agent", metavar="NAME", help="start with this agent instead of the entry agent")
    run.add_argument(
        "--model",
        metavar="MODEL",
        help="use this model for every agent: provider:model, or a bare NAME served at --base-url",
    )
    run.add_argument(
        "--base-url",
        metavar="URL",
        help="send model requests here (with a bare --model NAME: an OpenAI-compatible server; "
        "on this machine no vendor key is needed)",
    )
    run.add_argument("--max-turns", type=int, metavar="N", help="override max_turns")
    run.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="MODULE",
        help="allow tool/guardrail references into MODULE (repeatable)",
    )
    run.add_argument(
        "--upload",
        action="append",
        default=[],
        metavar="HOST[:SANDBOX]",
        help="copy a host file/directory into the entry agent's sandbox first (repeatable)",
    )
    run.add_argument(
        "--download",
        action="append",
        default=[],
        metavar="SANDBOX[:HOST]",
        help="copy a sandbox file/directory out when the run ends (repeatable)",
    )
    run.add_argument("--yes", action="store_true", help="approve every tool call that needs approval")
    run.add_argument("--json", action="store_true", help="print one JSON object (output + summary) on stdout")
    run.add_argument("--quiet", "-q", action="store_true", help="no live progress on stderr")
    run.add_argument("--no-trace", action="store_true", help="do not write the local trace store")
    color_flags(run)

    validate = sub.add_parser("validate", help="check a definition file")
    validate.add_argument("file")
    validate.add_argument("--allow", action="append", default=[], metavar="MODULE")
    color_flags(validate)

    sub.add_parser("schema", help="print the JSON Schema of definition files")

    trace = sub.add_parser("trace", help="inspect traces in the local store")
    tsub = trace.add_subparsers(dest="trace_command", required=True, metavar="list|show")
    tlist = tsub.add_parser("list", help="recent traces, newest first")
    tlist.add_argument("--limit", type=int, default=20)
    tlist.add_argument("--json", action="store_true")
    tlist.add_argument("--store", metavar="DIR|DSN", help=STORE_HELP)
    tshow = tsub.add_parser("show", help="one trace as a tree (the newest without ID)")
    tshow.add_argument("id", nargs="?", help="trace id prefix or run id")
    tshow.add_argument("--json", action="store_true")
    tshow.add_argument("--store", metavar="DIR|DSN", help=STORE_HELP)
    color_flags(tshow)

    sessions = sub.add_parser("sessions", help="list, show or delete stored sessions")
    ssub = sessions.add_subparsers(dest="sessions_command", required=True, metavar="list|show|delete")
    slist = ssub.add_parser("list")
    slist.add_argument("--json", action="store_true")
    sshow = ssub.add_parser("show")
    sshow.add_argument("name")
    sshow.add_argument("--json", action="store_true")
    sdel = ssub.add_parser("delete")
    sdel.add_argument("name")

    add_init_parser(sub)
    add_sandboxes_parser(sub)
    add_mcp_parser(sub)
    from ..ui import add_ui_parser

    add_ui_parser(sub)
    add_worker_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if args.version:
        from .. import __version__

        print(f"agentcore {__version__}")
        return EXIT_OK
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "run":
            from .run import cmd_run

            return cmd_run(args)
        if args.command == "ui":
            from ..ui import cmd_ui

            return cmd_ui(args)
        if args.command == "worker":
            from .worker import cmd_worker

            return cmd_worker(args)
        handlers = {
            "validate": cmd_validate,
            "schema": cmd_schema,
            "trace": cmd_trace,
            "sessions": cmd_sessions,
            "sandboxes": cmd_sandboxes,
            "init": cmd_init,
            "completion": lambda a: cmd_completion(a, parser),
            "mcp": cmd_mcp,
        }
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
