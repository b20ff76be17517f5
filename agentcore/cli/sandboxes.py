"""``agentcore sandboxes reap``: remove what crashed processes left behind (containers, cgroups, control
directories, remote sandboxes), through :mod:`agentcore.sandboxes.janitor`."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from .common import EXIT_OK, EXIT_USAGE

DEFAULT_OLDER_THAN_S = 3600.0


def add_sandboxes_parser(sub: Any) -> None:
    sandboxes = sub.add_parser(
        "sandboxes", help="manage sandbox resources (reap what crashed processes left)"
    )
    ssub = sandboxes.add_subparsers(dest="sandboxes_command", required=True, metavar="reap")
    reap = ssub.add_parser(
        "reap",
        help="remove sandboxes whose owning process is gone",
        description=(
            "Remove sandbox resources whose owner process on this machine is gone (checked by pid and "
            "start time). Resources whose owner cannot be checked from here (another host, e2b, modal) "
            "are removed only when older than --older-than."
        ),
    )
    reap.add_argument(
        "--backend",
        action="append",
        default=[],
        metavar="NAME",
        help="only this backend (repeatable; default: all: local, docker, e2b, modal)",
    )
    reap.add_argument(
        "--label", action="append", default=[], metavar="KEY=VALUE", help="only resources with this label"
    )
    reap.add_argument(
        "--older-than",
        type=float,
        default=DEFAULT_OLDER_THAN_S,
        metavar="SECONDS",
        help=f"age for resources whose owner cannot be checked (default {DEFAULT_OLDER_THAN_S:g})",
    )
    reap.add_argument("--json", action="store_true", help="print {backend: [removed ids]} as JSON")


def cmd_sandboxes(args: argparse.Namespace) -> int:
    # by name, like the registry: agentcore.sandboxes is mapped onto the top-level sandboxes/ package
    janitor: Any = importlib.import_module("agentcore.sandboxes.janitor")

    labels: dict[str, str] = {}
    for item in args.label:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"--label wants KEY=VALUE, not {item!r}", file=sys.stderr)
            return EXIT_USAGE
        labels[key] = value
    import asyncio  # here: `agentcore --help` does not pay for it

    removed = asyncio.run(janitor.reap(labels, older_than_s=args.older_than, backends=args.backend or None))
    if args.json:
        print(json.dumps(removed, indent=2))
        return EXIT_OK
    for backend, ids in sorted(removed.items()):
        print(f"{backend}: {len(ids)} removed")
        for ident in ids:
            print(f"  {ident}")
    return EXIT_OK
