"""``agentcore ui``: a local web page over the trace store and the sessions (the ``ui`` extra).

    agentcore ui [--host 127.0.0.1] [--port 4319] [--token TOKEN] [--open]

Runs list, a run page (waterfall of spans, the conversation, request/response bodies), token and cost
charts, live updates, and an OTLP/HTTP receiver at ``/v1/traces``. See docs/ui.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_ui_parser", "cmd_ui", "serve"]

DEFAULT_PORT = 4319


def add_ui_parser(sub: Any) -> None:
    ui = sub.add_parser("ui", help="a local web page over traces and sessions (needs agentcore[ui])")
    ui.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ui.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any)")
    ui.add_argument(
        "--token",
        default=os.environ.get("AGENTCORE_UI_TOKEN"),
        help="required from clients (AGENTCORE_UI_TOKEN); generated when binding beyond loopback without one",
    )
    ui.add_argument("--open", action="store_true", help="open the page in a browser")
    ui.add_argument(
        "--store",
        metavar="DIR|DSN",
        default=os.environ.get("AGENTCORE_TRACE_STORE") or None,
        help="the trace store to show: a directory or a postgresql:// DSN (default: $AGENTCORE_TRACE_STORE, "
        "else the local store)",
    )


def serve(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    token: str | None = None,
    home: Path | None = None,
    open_browser: bool = False,
    store: str | None = None,
) -> None:
    """Serve the UI until interrupted. Beyond loopback a token is required (one is generated)."""
    import uvicorn

    from .server import create_app, is_loopback

    loopback = is_loopback(host)
    if not loopback and not token:
        import secrets  # here: `agentcore --help` builds this parser and should not pay for it

        token = secrets.token_urlsafe(24)
    app = create_app(home=home, token=token, loopback=loopback, traces=store)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # the printed URL

    original = server.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets)
        bound = port
        for srv in server.servers:
            for sock in srv.sockets:
                bound = sock.getsockname()[1]
        url = f"http://{shown}:{bound}/" + (f"?token={token}" if token else "")
        print(f"agentcore ui: {url}  (OTLP/HTTP traces: http://{shown}:{bound}/v1/traces)", file=sys.stderr)
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    server.startup = startup  # type: ignore[method-assign]
    server.run()


def cmd_ui(args: argparse.Namespace) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        print("agentcore ui needs its extra: pip install 'agentcore[ui]'", file=sys.stderr)
        return 2
    serve(args.host, args.port, token=args.token, open_browser=args.open, store=args.store)
    return 0
