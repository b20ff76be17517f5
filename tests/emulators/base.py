"""A tiny HTTP server on 127.0.0.1 that vendor emulators build on.

Each vendor emulator subclasses :class:`Emulator` and implements :meth:`Emulator.handle`, turning a
recorded request into a JSON or SSE :class:`HTTPReply`. Tests script what the "model" says next with
:meth:`Emulator.queue` using vendor-neutral :class:`Reply` objects; every request is recorded in
``emulator.requests`` so tests can check the wire shape the adapter sent.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ToolCallReply:
    name: str
    arguments: dict[str, Any] | str
    call_id: str | None = None

    @property
    def arguments_json(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass
class Reply:
    """What the emulated model answers next, in vendor-neutral terms.

    ``error=(status, message)`` makes the emulator answer with that HTTP status in the vendor's error
    shape; ``headers`` are added to the reply (``retry-after`` …). ``reasoning`` makes the model emit a
    reasoning/thinking block (with an opaque signature/encrypted content) before its answer.
    ``stream_error`` breaks an SSE stream after the first text chunk with the vendor's error event.
    ``malformed`` injects a fault no vendor error shape covers: ``"body"`` answers 200 with a body that
    is not JSON; ``"stream"`` puts a line that is not JSON into the SSE stream after its first event
    (emulators that support it say so).
    """

    text: str | None = None
    tool_calls: list[ToolCallReply] = field(default_factory=list)
    reasoning: str | None = None
    error: tuple[int, str] | None = None
    error_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    input_tokens: int | None = None
    output_tokens: int = 7
    cached_tokens: int = 0
    stream_error: bool = False
    malformed: str | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes


@dataclass
class HTTPReply:
    status: int = 200
    body: Any = None
    """A JSON-able object, or ``None`` when ``sse`` is set."""
    sse: Iterable[tuple[str | None, Any]] | None = None
    """(event name or None, JSON-able data) pairs, sent as ``text/event-stream``. ``bytes`` data is sent
    verbatim after ``data: `` (fault injection: a line that is not JSON)."""
    headers: dict[str, str] = field(default_factory=dict)
    sse_done_marker: bool = False
    """Send ``data: [DONE]`` at the end (OpenAI Chat Completions)."""
    raw: bytes | None = None
    """Sent verbatim as the body instead of ``body`` as JSON (fault injection)."""


class Emulator:
    """Base class: an HTTP server with a queue of scripted replies and a log of requests."""

    vendor = "base"
    context_window: int | None = None
    """Input tokens a request may hold (set per test); past it the emulator answers with its vendor's
    context-length error (see ``context_window.py``)."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[RecordedRequest] = []
        self.state: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ scripting

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def next_reply(self) -> Reply:
        with self._lock:
            return self.replies.popleft() if self.replies else Reply(text="ok")

    @property
    def last_body(self) -> Any:
        return self.requests[-1].body

    # ------------------------------------------------------------------ vendor hook

    def handle(self, request: RecordedRequest) -> HTTPReply:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ server

    @property
    def base_url(self) -> str:
        assert self._server is not None, "emulator not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate sends: without TCP_NODELAY a keep-alive client
            # waits for a delayed ACK (~40 ms) on every request.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                rec = RecordedRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, raw
                )
                with emulator._lock:
                    emulator.requests.append(rec)
                try:
                    reply = emulator.handle(rec)
                except Exception as exc:  # a bug in the emulator: say so loudly
                    reply = HTTPReply(500, {"error": {"message": f"emulator crashed: {exc!r}"}})
                if reply.sse is None:
                    data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_response(reply.status)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                # Chunked, so the connection stays open for the next request as with the real APIs.
                self.send_header("transfer-encoding", "chunked")
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()

                def chunk(data: bytes) -> None:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()

                for event, data in reply.sse:
                    head = f"event: {event}\n" if event else ""
                    if isinstance(data, bytes):
                        chunk(head.encode() + b"data: " + data + b"\n\n")
                        continue
                    chunk((head + f"data: {json.dumps(data)}\n\n").encode())
                if reply.sse_done_marker:
                    chunk(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            do_POST = _serve
            do_GET = _serve
            do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TimedEmulator(Emulator):
    """An emulator that times its own work: subclasses implement ``_handle``, and ``handle_seconds``
    holds the time spent in it per request (benchmarks subtract it from the client's wall time)."""

    def __init__(self) -> None:
        super().__init__()
        self.handle_seconds: list[float] = []

    def handle(self, request: RecordedRequest) -> HTTPReply:
        started = time.perf_counter()
        try:
            return self._handle(request)
        finally:
            self.handle_seconds.append(time.perf_counter() - started)

    def _handle(self, request: RecordedRequest) -> HTTPReply:  # pragma: no cover - abstract
        raise NotImplementedError


def sse_lines(events: Iterable[tuple[str | None, Any]]) -> Iterator[str]:
    for event, data in events:
        yield (f"event: {event}\n" if event else "") + f"data: {json.dumps(data)}\n\n"


def multipart_fields(request: RecordedRequest) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a multipart/form-data body: name -> (filename, bytes); ``_mime``: the type of the
    ``file`` field (empty without a multipart body)."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        return {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"content-type: " + ctype.encode() + b"\r\n\r\n" + request.raw
    )
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str):
            fields[name] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
            if name == "file":
                fields["_mime"] = (None, part.get_content_type().encode())
    return fields
