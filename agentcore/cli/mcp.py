"""``agentcore mcp list FILE``: each MCP server of a definition and its tools.
``agentcore mcp serve FILE [--agent NAME]… [--http HOST:PORT]``: the definition's agents as an MCP server
(stdio by default; stdout then carries the protocol, so nothing else is printed there)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ..errors import AgentcoreError, ConfigError
from .common import EXIT_CONFIG, EXIT_ERROR, EXIT_OK, EXIT_USAGE, _color, _print_config_error


def add_mcp_parser(sub: Any) -> None:
    mcp = sub.add_parser("mcp", help="list a definition's MCP servers, or serve its agents over MCP")
    msub = mcp.add_subparsers(dest="mcp_command", required=True, metavar="list|serve")
    mlist = msub.add_parser("list", help="connect each MCP server of a definition and print its tools")
    mlist.add_argument("file", help="the YAML definition")
    mlist.add_argument("--json", action="store_true", help="one JSON object on stdout")
    mlist.add_argument("--allow", action="append", default=[], metavar="MODULE")
    serve = msub.add_parser("serve", help="serve the definition's agents as an MCP server")
    serve.add_argument("file", help="the YAML definition")
    serve.add_argument(
        "--agent", action="append", default=[], metavar="NAME", help="expose this agent (repeatable; default: entry)"
    )
    serve.add_argument("--http", metavar="HOST:PORT", help="Streamable HTTP on HOST:PORT instead of stdio")
    serve.add_argument("--path", default="/mcp", help="the HTTP endpoint path (default /mcp)")
    serve.add_argument(
        "--token-env", metavar="VAR", help="HTTP: require 'Authorization: Bearer $VAR' on every request"
    )
    serve.add_argument("--model", metavar="PROVIDER:MODEL", help="use this model for every agent")
    serve.add_argument("--max-turns", type=int, metavar="N", help="override max_turns")
    serve.add_argument("--allow", action="append", default=[], metavar="MODULE")


def _load(args: argparse.Namespace) -> Any:
    from ..definitions import load

    definition = load(args.file, allow=args.allow)
    definition.build(model=getattr(args, "model", None))
    return definition


def cmd_mcp(args: argparse.Namespace) -> int:
    try:
        definition = _load(args)
    except ConfigError as exc:
        _print_config_error(exc, _color(sys.stderr, None))
        return EXIT_CONFIG
    if args.mcp_command == "list":
        import asyncio  # here: `agentcore --help` does not pay for it

        return asyncio.run(_list(definition, as_json=args.json))
    names = args.agent or [definition.entry]
    unknown = [n for n in names if n not in definition.agents]
    if unknown:
        print(f"unknown agent {unknown[0]!r}; defined: {', '.join(definition.agents)}", file=sys.stderr)
        return EXIT_USAGE
    http = None
    if args.http:
        host, _, port = args.http.rpartition(":")
        if not host or not port.isdigit():
            print("--http takes HOST:PORT (for example 127.0.0.1:8765)", file=sys.stderr)
            return EXIT_USAGE
        http = (host, int(port))
    token = None
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            print(f"--token-env: the variable {args.token_env} is not set", file=sys.stderr)
            return EXIT_USAGE
    from ..mcp.server import agent_server, serve

    server = agent_server([definition.agents[n] for n in names], max_turns=args.max_turns)
    if http is not None:
        print(f"serving {', '.join(names)} over MCP at http://{http[0]}:{http[1]}{args.path}", file=sys.stderr)
    import asyncio  # here: `agentcore --help` does not pay for it

    asyncio.run(serve(server, http=http, path=args.path, token=token))
    return EXIT_OK


async def _list(definition: Any, *, as_json: bool) -> int:
    from ..mcp import connected
    from ..mcp.runtime import ToolCache

    servers: dict[str, Any] = {}
    for agent in definition.agents.values():
        for server in agent.mcp_servers:
            servers.setdefault(server.name, server)
    if not servers:
        print(f"{definition.filename}: no MCP servers", file=sys.stderr)
        return EXIT_OK
    report: dict[str, Any] = {}
    failed = False
    for name, server in servers.items():
        try:
            async with connected(server) as conn:
                tools = await ToolCache(server, conn).tools()
        except AgentcoreError as exc:
            failed = True
            report[name] = {"error": str(exc)}
            continue
        report[name] = {
            "tools": [
                {
                    "name": t.name,
                    "description": t.description,
                    "read_only": t.metadata["mcp"].get("read_only", False),
                    "destructive": t.metadata["mcp"].get("destructive", True),
                    "needs_approval": t.needs_approval is True,
                }
                for t in tools
            ]
        }
    if as_json:
        print(json.dumps(report, indent=2))
        return EXIT_ERROR if failed else EXIT_OK
    for name, entry in report.items():
        if "error" in entry:
            print(f"{name}: {entry['error']}")
            continue
        print(f"{name}: {len(entry['tools'])} tools")
        for t in entry["tools"]:
            flags = "read-only" if t["read_only"] else ("destructive" if t["destructive"] else "writes")
            approval = ", needs approval" if t["needs_approval"] else ""
            summary = (t["description"] or "").strip().splitlines()[0:1]
            print(f"  {t['name']}  [{flags}{approval}]  {summary[0] if summary else ''}")
    return EXIT_ERROR if failed else EXIT_OK
