"""Client time per model call on the ``openai-chat`` adapter, against a zero-latency local emulator.

The same ``turns``-long tool loop (every model reply is one tool call, the last one a final text) runs
against the Chat Completions emulator, which lives in its own process so it does not compete for the
GIL:

* ``agentcore``: ``OpenAIChatModel.respond`` (and ``.stream``) with the transcript as agentcore items;
* ``sdk``: the bare official SDK, ``client.chat.completions.create(messages=<whole transcript>)``;
* ``httpx``: raw ``httpx`` posting ``json.dumps`` of the whole transcript.

Client time = wall time of the call minus the time the emulator spent inside its handler (measured
in the server process): what the caller pays on its own CPU for building and encoding the request,
HTTP, and decoding the answer. Chat Completions has no server-side state, so every call resends the
transcript: request bytes and messages per call grow with the turn on every loop (reported).

``python bench/providers_openai_chat.py`` prints a table for turns 10 and 50.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._provider_bench import (
    READ_FILE_INSTRUCTIONS,
    READ_FILE_OUTPUT,
    READ_FILE_QUESTION,
    READ_FILE_SCHEMA,
    ForkedEmulator,
    complete,
    queue_read_file_loop,
    tool_results,
)

MODEL = "llama3"
INSTRUCTIONS = READ_FILE_INSTRUCTIONS
TOOL_SCHEMA = READ_FILE_SCHEMA
TOOL_OUTPUT = READ_FILE_OUTPUT
QUESTION = READ_FILE_QUESTION
BUILD_SECONDS: list[float] = []
"""Time to assemble a request body from already-encoded items, per call of the agentcore loops."""


def _serve(turns: int, conn: Any) -> None:
    from tests.emulators.openai_chat import ChatCompletionsEmulator

    emulator = ChatCompletionsEmulator()
    emulator.start()
    queue_read_file_loop(emulator, turns)
    conn.send(emulator.base_url + "/v1")
    conn.recv()
    conn.send([len(r.raw) for r in emulator.requests])
    conn.send([len(r.body["messages"]) for r in emulator.requests])
    conn.send(list(emulator.handle_seconds))
    emulator.stop()


async def _agentcore_loop(base_url: str, turns: int, *, streaming: bool = False) -> list[float]:
    from agentcore.messages import Item, UserMessage
    from agentcore.model import ModelRequest, ToolSpec
    from agentcore.providers.openai.chat import OpenAIChatModel

    model = OpenAIChatModel(MODEL, base_url=base_url, api_key="test-key")
    tools = (ToolSpec("read_file", "Read a file from the workspace.", TOOL_SCHEMA),)
    items: list[Item] = [UserMessage.of(QUESTION)]
    walls = []
    for _ in range(turns):
        request = ModelRequest(INSTRUCTIONS, items, tools)
        start = time.perf_counter()
        response = await complete(model, request, streaming)
        walls.append(time.perf_counter() - start)
        start = time.perf_counter()
        model.build_body(request, stream=streaming)  # the same body again: all items already encoded
        BUILD_SECONDS.append(time.perf_counter() - start)
        items.extend(response.items)
        items += tool_results(response.items, TOOL_OUTPUT)
    await model.aclose()
    return walls


async def _agentcore_stream_loop(base_url: str, turns: int) -> list[float]:
    return await _agentcore_loop(base_url, turns, streaming=True)


def _tools_wire() -> list[Any]:
    fn = {"name": "read_file", "description": "Read a file from the workspace.", "parameters": TOOL_SCHEMA}
    return [{"type": "function", "function": fn}]


def _next_messages(message: dict[str, Any]) -> list[Any]:
    out: list[Any] = [message]
    for call in message.get("tool_calls") or []:
        out.append({"role": "tool", "tool_call_id": call["id"], "content": TOOL_OUTPUT})
    return out


async def _sdk_loop(base_url: str, turns: int) -> list[float]:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=base_url, api_key="test-key", max_retries=0)
    messages: list[Any] = [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": QUESTION}]
    walls = []
    for _ in range(turns):
        start = time.perf_counter()
        completion = await client.chat.completions.create(model=MODEL, messages=messages, tools=_tools_wire())
        message = completion.choices[0].message.model_dump(exclude_none=True, exclude={"annotations"})
        walls.append(time.perf_counter() - start)
        messages += _next_messages(message)
    await client.close()
    return walls


async def _httpx_loop(base_url: str, turns: int) -> list[float]:
    import httpx

    headers = {"authorization": "Bearer test-key", "content-type": "application/json"}
    messages: list[Any] = [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": QUESTION}]
    tools = _tools_wire()
    walls = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
        for _ in range(turns):
            start = time.perf_counter()
            body = {"model": MODEL, "messages": messages, "tools": tools}
            reply = await client.post("/chat/completions", content=json.dumps(body))
            message = json.loads(reply.content)["choices"][0]["message"]
            walls.append(time.perf_counter() - start)
            message = {k: v for k, v in message.items() if k in ("role", "content", "tool_calls")}
            messages += _next_messages(message)
    return walls


async def _httpx_stream_loop(base_url: str, turns: int) -> list[float]:
    """Raw httpx with ``stream: true``: SSE lines decoded by hand, tool calls assembled by index."""
    import httpx

    headers = {"authorization": "Bearer test-key", "content-type": "application/json"}
    messages: list[Any] = [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": QUESTION}]
    tools = _tools_wire()
    walls = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
        for _ in range(turns):
            start = time.perf_counter()
            body = {"model": MODEL, "messages": messages, "tools": tools, "stream": True}
            text: list[str] = []
            calls: dict[int, dict[str, Any]] = {}
            async with client.stream("POST", "/chat/completions", content=json.dumps(body)) as reply:
                async for line in reply.aiter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    for choice in json.loads(line[6:]).get("choices") or []:
                        delta = choice.get("delta") or {}
                        text.append(delta.get("content") or "")
                        for tc in delta.get("tool_calls") or []:
                            call = calls.setdefault(
                                tc["index"], {"id": tc.get("id"), "type": "function", "function": {}}
                            )
                            fn = tc.get("function") or {}
                            call["function"].setdefault("name", fn.get("name"))
                            call["function"]["arguments"] = call["function"].get("arguments", "") + (
                                fn.get("arguments") or ""
                            )
            walls.append(time.perf_counter() - start)
            message: dict[str, Any] = {"role": "assistant", "content": "".join(text) or None}
            if calls:
                message["tool_calls"] = [calls[i] for i in sorted(calls)]
            messages += _next_messages(message)
    return walls


_LOOPS: dict[str, Callable[[str, int], Awaitable[list[float]]]] = {
    "agentcore": _agentcore_loop,
    "agentcore_stream": _agentcore_stream_loop,
    "sdk": _sdk_loop,
    "httpx": _httpx_loop,
    "httpx_stream": _httpx_stream_loop,
}


def _measure(name: str, turns: int, repeats: int) -> tuple[list[float], list[int], list[int]]:
    """Per-call client seconds (median over ``repeats`` loops), request bytes and messages per call."""
    per_call: list[list[float]] = [[] for _ in range(turns)]
    sizes: list[int] = []
    messages: list[int] = []
    builds: list[float] = []
    for _ in range(repeats):
        BUILD_SECONDS.clear()
        server = ForkedEmulator(_serve, turns)
        walls = asyncio.run(_LOOPS[name](server.base_url, turns))
        sizes, messages, handle = server.finish(3)
        if BUILD_SECONDS:
            builds.append(BUILD_SECONDS[turns - 1])
        for n, (wall, served) in enumerate(zip(walls, handle, strict=True)):
            per_call[n].append(max(wall - served, 0.0))
    BUILD_SECONDS[:] = [statistics.median(builds)] * turns if builds else []
    return [statistics.median(c) for c in per_call], sizes, messages


def run(turns: int, repeats: int = 3) -> dict[str, float]:
    """Numbers at turn ``turns``: median of the last three calls of the loop, each a median over loops."""
    out: dict[str, float] = {"turns": float(turns)}
    for name in _LOOPS:
        client, sizes, messages = _measure(name, turns, repeats)
        window = client[max(turns - 3, 0) : turns]
        out[f"{name}_client_ms"] = statistics.median(window) * 1000
        out[f"{name}_first_calls_ms"] = (
            statistics.median(client[1:4]) * 1000 if turns > 4 else out[f"{name}_client_ms"]
        )
        out[f"{name}_request_bytes"] = float(sizes[turns - 1])
        out[f"{name}_first_request_bytes"] = float(sizes[0])
        if name == "agentcore":
            out["messages_per_call"] = float(messages[turns - 1])
            out["agentcore_body_build_us"] = BUILD_SECONDS[turns - 1] * 1e6
    return out


def main() -> None:
    rows = [run(10), run(50)]
    print(
        "openai-chat adapter: client time per model call (ms), zero-latency local emulator, server time excluded"
    )
    print(
        f"{'turn':>5} {'agentcore':>10} {'bare SDK':>10} {'raw httpx':>10} {'ac stream':>10} {'httpx strm':>10} "
        f"{'req bytes':>10} {'messages':>9} {'body µs':>8}"
    )
    for r in rows:
        print(
            f"{int(r['turns']):>5} {r['agentcore_client_ms']:>10.2f} {r['sdk_client_ms']:>10.2f} "
            f"{r['httpx_client_ms']:>10.2f} {r['agentcore_stream_client_ms']:>10.2f} "
            f"{r['httpx_stream_client_ms']:>10.2f} "
            f"{int(r['agentcore_request_bytes']):>10} {int(r['messages_per_call']):>9} "
            f"{r['agentcore_body_build_us']:>8.1f}"
        )
    first = rows[0]
    print(
        f"calls 2-4 of the loop: agentcore {first['agentcore_first_calls_ms']:.2f} ms, "
        f"bare SDK {first['sdk_first_calls_ms']:.2f} ms, raw httpx {first['httpx_first_calls_ms']:.2f} ms; "
        f"first request {int(first['agentcore_first_request_bytes'])} bytes"
    )
    print("(Chat Completions keeps no server-side state: the whole transcript is sent on every call)")


if __name__ == "__main__":
    main()
