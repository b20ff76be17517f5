"""The web app of ``agentcore ui``: pages, a JSON API over the trace index, and an OTLP/HTTP receiver.

Starlette routes, served by uvicorn (:func:`serve`). Every disk access (the index, the sessions, the
OTLP files) runs in a worker thread; a background task refreshes the index every ``refresh_s`` seconds
and the pages poll ``/api/version`` to update while a run is in progress.

Access: bound to a loopback address, the app answers requests whose ``Host`` is a loopback name (a
web page elsewhere cannot reach it through DNS rebinding). Bound to any other address it needs a token
(``--token`` or ``AGENTCORE_UI_TOKEN``; one is generated when none is given): ``Authorization: Bearer
TOKEN``, or ``?token=TOKEN`` once in the browser (a cookie keeps it).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import hmac
import ipaddress
import json
import os
import time
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import AgentcoreError
from ..paths import data_dir
from ..tracing.pgstore import is_dsn
from .conversation import conversation
from .index import TraceIndex
from .otlp import OTLPDecodeError, empty_response, spans_from_json, spans_from_protobuf

COOKIE = "agentcore_ui_token"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
MAX_OTLP_BYTES = 32 * 1024 * 1024
KEEP_OTLP_FILES = 30


class UIError(AgentcoreError):
    """``agentcore ui`` cannot start as asked (an address other than loopback without a token…)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def static_dir() -> Path:
    return Path(str(resources.files("agentcore.ui") / "static"))


class TokenGate:
    """Requests must carry the token (header, cookie, or ``?token=`` which sets the cookie)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
        query = request.query_params.get("token")
        if query is not None and hmac.compare_digest(query.encode(), self.token.encode()):
            response: Response = RedirectResponse(request.url.remove_query_params("token"), 303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
        elif hmac.compare_digest(given.encode(), self.token.encode()):
            await self.app(scope, receive, send)
            return
        else:
            response = PlainTextResponse("a token is needed: open the URL agentcore ui printed", 401)
        await response(scope, receive, send)


class UIState:
    """What the routes share: the index and where things are."""

    def __init__(
        self, traces: Path | str, otlp: Path, index_path: Path, sessions: Path | None, refresh_s: float
    ) -> None:
        self.traces, self.otlp, self.sessions, self.refresh_s = traces, otlp, sessions, refresh_s
        self.otlp.mkdir(parents=True, exist_ok=True)
        self.index = TraceIndex(index_path, [traces, otlp])
        self.ready = False
        self._refreshing = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._refreshing:
            await asyncio.to_thread(self.index.refresh)
            self.ready = True

    async def keep_fresh(self) -> None:
        while True:
            with contextlib.suppress(OSError, ValueError):
                await self.refresh()
            await asyncio.sleep(self.refresh_s)

    def append_otlp(self, spans: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(s, default=str) + "\n" for s in spans).encode()
        path = self.otlp / time.strftime("%Y-%m-%d.jsonl", time.gmtime())
        if not path.exists():  # a new day: keep the last KEEP_OTLP_FILES days, as the trace store does
            for old in sorted(self.otlp.glob("*.jsonl"))[: -KEEP_OTLP_FILES + 1]:
                old.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, data)
        finally:
            os.close(fd)


def _state(request: Request) -> UIState:
    state: UIState = request.app.state.ui
    return state


def _int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


async def page_runs(request: Request) -> Response:
    return FileResponse(static_dir() / "runs.html")


async def page_run(request: Request) -> Response:
    return FileResponse(static_dir() / "run.html")


async def api_runs(request: Request) -> Response:
    state = _state(request)
    q = request.query_params
    limit = _int(request, "limit", 50)
    total, rows = await asyncio.to_thread(
        state.index.runs,
        offset=_int(request, "offset", 0),
        limit=limit,
        query=q.get("q", "").strip(),
        status=q.get("status", ""),
        agent=q.get("agent", ""),
    )
    return JSONResponse(
        {
            "total": total,
            "runs": [r.to_json() for r in rows],
            "generation": state.index.generation,
            "ready": state.ready,
        }
    )


async def api_run(request: Request) -> Response:
    state = _state(request)
    found = await asyncio.to_thread(state.index.run, request.path_params["ident"])
    if found is None:
        return JSONResponse({"error": "no such run"}, 404)
    row, spans = found
    session = None
    if row.conversation_id and state.sessions is not None and state.sessions.exists():
        session = await asyncio.to_thread(_session, state.sessions, row.conversation_id)
    generation = state.index.generation

    def body() -> bytes:  # a long run's spans and messages: built off the event loop
        payload = {
            "run": row.to_json(),
            "spans": spans,
            "conversation": conversation(spans),
            "session": session,
            "generation": generation,
        }
        return json.dumps(payload, default=str).encode()

    return Response(await asyncio.to_thread(body), media_type="application/json")


def _session(path: Path, session_id: str) -> dict[str, Any] | None:
    from ..sessions.sqlite import load_session
    from ..tracing import messages_for_span

    snapshot = load_session(session_id, path)
    if snapshot is None:
        return None
    return {
        "id": session_id,
        "items": len(snapshot.items),
        "active_agent": snapshot.active_agent,
        "messages": messages_for_span(snapshot.items[-200:]),
    }


async def api_meta(request: Request) -> Response:
    state = _state(request)
    agents = await asyncio.to_thread(state.index.agents)
    return JSONResponse({"agents": agents, "generation": state.index.generation, "ready": state.ready})


async def api_version(request: Request) -> Response:
    state = _state(request)
    return JSONResponse({"generation": state.index.generation, "ready": state.ready})


async def api_usage(request: Request) -> Response:
    state = _state(request)
    bucket = {"hour": 3600, "day": 86400, "minute": 60}.get(request.query_params.get("bucket", "hour"), 3600)
    data = await asyncio.to_thread(state.index.usage_over_time, bucket_s=bucket, buckets=48)
    return JSONResponse({"bucket_s": bucket, "buckets": data})


async def otlp_traces(request: Request) -> Response:
    """OTLP/HTTP trace export (``application/json`` or ``application/x-protobuf``)."""
    state = _state(request)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    protobuf = kind in ("application/x-protobuf", "application/protobuf")
    if request.headers.get("content-encoding", "").lower() not in ("", "identity"):
        body = await request.body()
        import gzip

        try:
            body = await asyncio.to_thread(gzip.decompress, body)
        except OSError:
            return PlainTextResponse("the body is not gzip", 400)
    else:
        body = await request.body()
    if len(body) > MAX_OTLP_BYTES:
        return PlainTextResponse("request too large", 413)
    try:
        if protobuf:
            spans = spans_from_protobuf(body)
        elif kind == "application/json":
            try:
                spans = spans_from_json(json.loads(body))
            except ValueError as exc:
                raise OTLPDecodeError(f"the body is not JSON: {exc}") from exc
        else:
            return PlainTextResponse("use application/json or application/x-protobuf", 415)
    except OTLPDecodeError as exc:
        return PlainTextResponse(str(exc), 400)
    if spans:
        await asyncio.to_thread(state.append_otlp, spans)
        await state.refresh()
    payload, media = empty_response(protobuf)
    return Response(payload, media_type=media)


def create_app(
    *,
    home: Path | None = None,
    traces: Path | str | None = None,
    index_path: Path | None = None,
    sessions: Path | None = None,
    token: str | None = None,
    loopback: bool = True,
    refresh_s: float = 1.0,
) -> Starlette:
    """The app over the trace store under ``home`` (the agentcore data directory by default), or the
    one ``traces`` names: a directory, or a ``postgresql://`` DSN (:mod:`agentcore.tracing.pgstore`)."""
    base = home if home is not None else data_dir()
    if index_path is None and is_dsn(traces):  # an index of its own per database
        digest = hashlib.sha256(str(traces).encode()).hexdigest()[:12]
        index_path = base / "ui" / f"index-pg-{digest}.db"
    state = UIState(
        traces if traces is not None else base / "traces",
        base / "ui" / "otlp",
        index_path if index_path is not None else base / "ui" / "index.db",
        sessions if sessions is not None else base / "sessions.db",
        refresh_s,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(state.keep_fresh())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            state.index.close()

    middleware = []
    if token:
        middleware.append(Middleware(TokenGate, token=token))
    elif loopback:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_HOSTS))
    else:
        raise UIError("serving beyond the loopback interface needs a token")
    app = Starlette(
        routes=[
            Route("/", page_runs),
            Route("/runs/{ident}", page_run),
            Route("/api/runs", api_runs),
            Route("/api/runs/{ident}", api_run),
            Route("/api/meta", api_meta),
            Route("/api/version", api_version),
            Route("/api/usage", api_usage),
            Route("/v1/traces", otlp_traces, methods=["POST"]),
            Mount("/static", StaticFiles(directory=static_dir()), name="static"),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.ui = state
    return app
