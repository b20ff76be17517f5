"""``openai-chat`` sends its bytes over ``httpx2`` (no SDK import) unless the user passes an
``openai.AsyncOpenAI`` client; both transports must behave the same. Each case runs against the Chat
Completions emulator twice, once per transport, and compares what the adapter returns or raises.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from agentcore import errors
from agentcore.messages import UserMessage
from agentcore.model import ModelRequest, ModelResponseDone, ModelTextDelta
from agentcore.providers.openai.chat import OpenAIChatModel
from agentcore.providers.openai.chat_transport import HTTPTransport, SDKTransport
from tests.emulators.base import Reply
from tests.emulators.openai_chat import ChatCompletionsEmulator, ChatQuirks

TRANSPORTS = ["httpx2", "sdk"]


@pytest.fixture(scope="module", name="emulator")
def emulator_fixture() -> Iterator[ChatCompletionsEmulator]:
    emu = ChatCompletionsEmulator(ChatQuirks.openai()).start()
    yield emu
    emu.stop()


def build(transport: str, base_url: str, **options: Any) -> OpenAIChatModel:
    if transport == "sdk":
        client = openai.AsyncOpenAI(api_key="test-key", base_url=base_url, max_retries=3, **options)
        return OpenAIChatModel("gpt-4o-mini", client=client)
    return OpenAIChatModel("gpt-4o-mini", base_url=base_url, api_key="test-key", **options)


@pytest.fixture(name="model")
def model_fixture(emulator: ChatCompletionsEmulator) -> Callable[[str], OpenAIChatModel]:
    emulator.requests.clear()
    emulator.replies.clear()
    return lambda transport: build(transport, emulator.base_url + "/v1")


def hi() -> ModelRequest:
    return ModelRequest(items=[UserMessage.of("Hi")], instructions="Be brief.")


def test_the_default_transport_needs_no_sdk() -> None:
    code = (
        "import sys\nfrom agentcore.providers.openai.chat import OpenAIChatModel\n"
        "m = OpenAIChatModel('llama3', base_url='http://127.0.0.1:1/v1')\n"
        "print('openai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    model = OpenAIChatModel("llama3", base_url="http://127.0.0.1:1/v1")
    assert isinstance(model._transport, HTTPTransport)
    assert isinstance(OpenAIChatModel("m", client=model.client)._transport, SDKTransport)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_same_request_and_answer(model, emulator, transport: str) -> None:
    emulator.queue(Reply(text="Hello there"), Reply(text="Streamed"))
    m = model(transport)
    resp = await m.respond(hi())
    events = [e async for e in m.stream(hi())]
    assert resp.text == "Hello there"
    assert [e for e in events if isinstance(e, ModelTextDelta)] and isinstance(events[-1], ModelResponseDone)
    assert events[-1].response.text == "Streamed"
    first, second = emulator.requests[-2:]
    assert first.path.endswith("/v1/chat/completions") and second.path == first.path
    assert first.headers["authorization"] == "Bearer test-key"
    assert first.headers["content-type"] == "application/json"
    await m.aclose()


def outcome(exc: errors.ModelError) -> tuple[Any, ...]:
    return (type(exc), str(exc), exc.status_code, exc.retry_after, exc.body, exc.retryable)


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize(
    ("status", "headers"),
    [(429, {"retry-after": "2"}), (500, {}), (503, {}), (400, {}), (401, {}), (404, {})],
)
async def test_http_errors_map_the_same(model, emulator, status, headers, streaming: bool) -> None:
    seen = []
    for transport in TRANSPORTS:
        emulator.queue(Reply(error=(status, "This model's maximum context length is 10"), headers=headers))
        m = model(transport)
        with pytest.raises(errors.ModelError) as info:
            if streaming:
                [e async for e in m.stream(hi())]
            else:
                await m.respond(hi())
        seen.append(outcome(info.value))
        await m.aclose()
    assert seen[0] == seen[1]


async def test_an_error_inside_the_stream_maps_the_same(model, emulator) -> None:
    seen = []
    for transport in TRANSPORTS:
        emulator.queue(Reply(text="Partial answer here", stream_error=True))
        m = model(transport)
        deltas: list[Any] = []
        with pytest.raises(errors.ModelStreamError) as info:
            async for event in m.stream(hi()):
                deltas.append(event)
        seen.append((outcome(info.value), deltas))
        await m.aclose()
    assert seen[0] == seen[1]
    assert [type(e) for e in seen[0][1]] == [ModelTextDelta]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_refused_and_silent_servers(transport: str) -> None:
    refused = build(transport, "http://127.0.0.1:9/v1")
    with pytest.raises(errors.TransportError, match="connection failed"):
        await refused.respond(hi())
    await refused.aclose()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)  # reads the request, never answers
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    m = build(transport, f"http://127.0.0.1:{port}/v1", timeout=0.2)
    for call in (m.respond(hi()), anext(m.stream(hi()))):
        with pytest.raises(errors.ModelTimeoutError) as info:
            await call
        assert info.value.retryable
    await m.aclose()
    server.close()


async def test_a_malformed_line_maps_the_same() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
        writer.write(b"data: {not json\n\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    seen = []
    for transport in TRANSPORTS:
        m = build(transport, f"http://127.0.0.1:{port}/v1")
        with pytest.raises(errors.ModelStreamError) as info:
            [e async for e in m.stream(hi())]
        seen.append((type(info.value), info.value.retryable, str(info.value).split("(")[0]))
        await m.aclose()
    server.close()
    assert seen[0] == seen[1]
