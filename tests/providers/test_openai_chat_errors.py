"""``openai-chat`` failures: HTTP errors as typed agentcore errors, mid-stream errors, timeouts, cut
streams, refused connections; and a live round trip that runs only with credentials.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentcore import errors
from agentcore.messages import ToolCall, UserMessage
from agentcore.model import ModelSettings, ModelTextDelta
from agentcore.providers.openai.chat import OpenAIChatModel
from tests.emulators.base import Reply
from tests.emulators.openai_chat import ChatQuirks
from tests.providers import test_openai_chat as chat
from tests.providers.test_openai_chat import WEATHER, answer_calls, collect, request

# The emulator fixtures of test_openai_chat (named ``serve`` and ``emulators``).
serve_fixture = chat.serve_fixture
emulators_fixture = chat.emulators_fixture


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "headers", "cls", "retry_after"),
    [
        (429, {"retry-after": "3"}, errors.RateLimitError, 3.0),
        (429, {"retry-after-ms": "1500"}, errors.RateLimitError, 1.5),
        (500, {}, errors.ServerError, None),
        (503, {}, errors.OverloadedError, None),
        (400, {}, errors.InvalidRequestError, None),
        (404, {}, errors.InvalidRequestError, None),
        (401, {}, errors.AuthenticationError, None),
    ],
)
@pytest.mark.parametrize("streaming", [False, True])
async def test_http_errors_are_typed(serve, status, headers, cls, retry_after, streaming: bool) -> None:
    emulator, model = serve()
    emulator.queue(Reply(error=(status, "nope"), headers=headers))
    req = request([UserMessage.of("Hi")])
    with pytest.raises(cls) as info:
        if streaming:
            await collect(model.stream(req))
        else:
            await model.respond(req)
    assert type(info.value) is cls
    assert (info.value.status_code, info.value.retry_after, info.value.provider) == (
        status,
        retry_after,
        "openai-chat",
    )


async def test_context_too_long_and_wrong_key(serve) -> None:
    emulator, model = serve()
    emulator.queue(
        Reply(error=(400, "This model's maximum context length is 8192 tokens. However, you requested 9000."))
    )
    with pytest.raises(errors.ContextTooLongError):
        await model.respond(request([UserMessage.of("Hi")]))
    _, bad_key = serve(api_key="wrong")
    with pytest.raises(errors.AuthenticationError):
        await bad_key.respond(request([UserMessage.of("Hi")]))


async def test_mid_stream_error_is_retryable(serve) -> None:
    emulator, model = serve()
    emulator.queue(Reply(text="Partial answer here", stream_error=True))
    seen: list[Any] = []
    with pytest.raises(errors.ModelStreamError) as info:
        async for event in model.stream(request([UserMessage.of("Hi")])):
            seen.append(event)
    assert info.value.retryable
    assert [type(e) for e in seen] == [ModelTextDelta]


async def test_connection_refused_is_transport_error() -> None:
    model = OpenAIChatModel("m", base_url="http://127.0.0.1:9/v1")  # nothing listens on the discard port
    with pytest.raises(errors.TransportError):
        await model.respond(request([UserMessage.of("Hi")]))


async def test_unknown_fields_are_rejected_by_the_emulator(serve) -> None:
    _, model = serve(ChatQuirks.openai())
    with pytest.raises(errors.InvalidRequestError, match="Unrecognized request argument supplied: bogus"):
        await model.respond(request([UserMessage.of("Hi")], settings=ModelSettings(extra={"bogus": 1})))


def test_error_body_in_a_200_answer_is_mapped() -> None:
    from agentcore.providers.openai.chat import _raise_body_error

    with pytest.raises(errors.RateLimitError):
        _raise_body_error({"error": {"message": "Rate limit exceeded", "code": 429}}, "openai-chat")


# --------------------------------------------------------------------------- transport failures


async def test_a_server_that_never_answers_times_out() -> None:
    import socket

    with socket.socket() as listener:  # accepts connections (kernel backlog) but never reads or answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        model = OpenAIChatModel("m", base_url=f"http://127.0.0.1:{port}/v1", timeout=0.2)
        with pytest.raises(errors.ModelTimeoutError) as info:
            await model.respond(request([UserMessage.of("Hi")]))
        assert info.value.retryable
        await model.aclose()


async def test_a_stream_cut_before_finish_reason_is_a_stream_error() -> None:
    import asyncio

    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": "Hal"}, "finish_reason": None}]}  # fmt: skip

    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
        writer.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        await writer.drain()
        writer.close()  # no finish_reason, no [DONE]

    server = await asyncio.start_server(cut, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    model = OpenAIChatModel("m", base_url=f"http://127.0.0.1:{port}/v1")
    seen: list[Any] = []
    with pytest.raises(errors.ModelStreamError, match="finish_reason"):
        async for event in model.stream(request([UserMessage.of("Hi")])):
            seen.append(event)
    assert seen == [ModelTextDelta("Hal")]
    server.close()
    await model.aclose()


def test_instructions_as_a_user_message_for_models_without_system_role() -> None:
    model = OpenAIChatModel("o1-mini", base_url="http://127.0.0.1:1/v1", system_role="user")
    body = json.loads(model.build_body(request([UserMessage.of("Hi")]), stream=False))
    assert body["messages"] == [{"role": "user", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


# --------------------------------------------------------------------------- live (only with credentials)

LIVE_KEY = "OPENAI_API_KEY"


@pytest.mark.live
@pytest.mark.skipif(not __import__("os").environ.get(LIVE_KEY), reason=f"{LIVE_KEY} not set")
async def test_live_tool_loop() -> None:
    """Against a real server: OpenAI by default, or OPENAI_CHAT_BASE_URL / OPENAI_CHAT_MODEL."""
    import os

    model = OpenAIChatModel(
        os.environ.get("OPENAI_CHAT_MODEL", "gpt-4o-mini"),
        base_url=os.environ.get("OPENAI_CHAT_BASE_URL"),
        api_key=os.environ[LIVE_KEY],
    )
    settings = ModelSettings(tool_choice="get_weather")
    resp = await model.respond(
        request([UserMessage.of("Weather in Paris?")], tools=[WEATHER], settings=settings)
    )
    calls = [i for i in resp.items if isinstance(i, ToolCall)]
    assert calls and calls[0].name == "get_weather"
    items = [UserMessage.of("Weather in Paris?"), *resp.items, *answer_calls(resp.items)]
    _, final = await collect(model.stream(request(items, tools=[WEATHER])))
    assert final.text and final.usage.input_tokens > 0
    await model.aclose()
