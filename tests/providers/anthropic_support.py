"""Shared fixtures and helpers of the Anthropic adapter tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentcore import tracing
from agentcore.messages import (
    Item,
    ToolCall,
    ToolResult,
)
from agentcore.model import (
    ModelRequest,
    ModelResponse,
    ToolSpec,
)
from agentcore.providers.anthropic.model import AnthropicModel
from tests.emulators.anthropic import AnthropicEmulator
from tests.emulators.base import Reply
from tests.providers.harness import emulator_fixture

WEATHER = ToolSpec(
    "get_weather", "Weather for a city.", {"type": "object", "properties": {"city": {"type": "string"}}}
)
TIME = ToolSpec(
    "get_time", "Local time in a city.", {"type": "object", "properties": {"city": {"type": "string"}}}
)


emu = emulator_fixture(lambda: AnthropicEmulator(min_cacheable_tokens=50), "emu")


@pytest.fixture
async def model(emu: AnthropicEmulator) -> AsyncIterator[AnthropicModel]:
    m = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="test-key")
    yield m
    await m.aclose()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    old = tracing._provider
    tracing.configure(tracer_provider=provider)
    try:
        yield exporter
    finally:
        tracing._provider = old
        tracing._tracer = None


def req(items: list[Item], tools: tuple[ToolSpec, ...] = (WEATHER,), **kw: Any) -> ModelRequest:
    return ModelRequest("You are terse.", list(items), tools, **kw)


def wire(emu: AnthropicEmulator, n: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = emu.requests[n].body
    return body


def strip_cache(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_cache(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [strip_cache(v) for v in value]
    return value


async def tool_turn(
    model: AnthropicModel, emu: AnthropicEmulator, items: list[Item], reply: Reply
) -> ModelResponse:
    """One model call; every tool call it makes gets a result appended to ``items``."""
    emu.queue(reply)
    response = await model.respond(req(items))
    items.extend(response.items)
    for item in response.items:
        if isinstance(item, ToolCall):
            items.append(
                ToolResult(call_id=item.call_id, name=item.name, output=f"result of {item.arguments}")
            )
    return response


class CannedServer:
    """An HTTP server on 127.0.0.1 that answers each POST with the next canned ``(status,
    content_type, body bytes)`` (the last one repeats): bodies no emulator would send, such as a
    proxy's HTML page or a garbled SSE line. ``hits`` counts the requests."""

    def __init__(self, *answers: tuple[int, str, bytes]) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.answers = list(answers)
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                status, kind, body = server.answers[min(server.hits, len(server.answers) - 1)]
                server.hits += 1
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> CannedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def sse(*events: dict[str, Any] | str) -> bytes:
    """SSE text: each dict as ``event: <type>`` + its JSON, each str as a raw ``data:`` line."""
    import json

    out = []
    for e in events:
        if isinstance(e, str):
            out.append(f"data: {e}\n\n")
        else:
            out.append(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n")
    return "".join(out).encode()
