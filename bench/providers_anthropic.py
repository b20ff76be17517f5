"""Client time per model call on the Anthropic adapter, against a zero-latency local emulator.

Three loops run the same ``turns``-long tool loop (every model reply is one tool call; the last one is
a final text) against the emulator, each in its own server process:

* ``agentcore``: ``AnthropicModel.respond`` with the transcript as agentcore items;
* ``sdk``: the bare official SDK, ``client.messages.create(messages=<whole transcript>)``;
* ``httpx``: raw ``httpx`` posting ``json.dumps`` of the whole transcript.

Client time = wall time of the call minus the time the emulator spent serving the request (measured
inside the server process, from the parsed request line to the last byte of the reply), so it is what
the caller pays: building and encoding the request, HTTP, JSON decoding and parsing. Each loop runs
``repeats`` times, interleaved; per call the minimum is kept (the machine is shared and noisy). Anthropic keeps no server-side conversation state, so
request bytes grow with the transcript on every loop; they are reported for reference.

``python bench/providers_anthropic.py`` prints a table for turns 10 and 50.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[1]) not in sys.path:
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

MODEL = "claude-sonnet-5-5"
INSTRUCTIONS = READ_FILE_INSTRUCTIONS
TOOL_SCHEMA = READ_FILE_SCHEMA
TOOL_OUTPUT = READ_FILE_OUTPUT


def _serve(turns: int, conn: Any) -> None:
    from tests.emulators.anthropic import AnthropicEmulator

    emulator = AnthropicEmulator()
    emulator.start()
    serve_seconds: list[float] = []
    handler = emulator._server.RequestHandlerClass  # type: ignore[union-attr]
    serve = handler.do_POST  # type: ignore[attr-defined]

    def timed_serve(self: Any) -> None:
        # server time = from the parsed request line to the last byte of the reply written
        # (reading and decoding the body, validating, rendering), measured in the server process
        started = time.perf_counter()
        try:
            serve(self)
        finally:
            serve_seconds.append(time.perf_counter() - started)

    handler.do_POST = timed_serve  # type: ignore[attr-defined]
    queue_read_file_loop(emulator, turns)
    conn.send(emulator.base_url)
    conn.recv()
    deadline = time.monotonic() + 5
    while len(serve_seconds) < len(emulator.requests) and time.monotonic() < deadline:
        time.sleep(0.001)  # the last reply's timer stops just after its bytes went out
    conn.send([len(r.raw) for r in emulator.requests])
    conn.send(serve_seconds)
    emulator.stop()


async def _agentcore_loop(base_url: str, turns: int, stream: bool = False) -> list[tuple[float, float]]:
    from agentcore.messages import Item, UserMessage
    from agentcore.model import ModelRequest, ToolSpec
    from agentcore.providers.anthropic.model import AnthropicModel

    model = AnthropicModel(MODEL, base_url=base_url, api_key="bench-key")
    tools = (ToolSpec("read_file", "Read a file from the workspace.", TOOL_SCHEMA),)
    items: list[Item] = [UserMessage.of(READ_FILE_QUESTION)]
    walls: list[tuple[float, float]] = []
    for _ in range(turns):
        start, cpu = time.perf_counter(), time.process_time()
        request = ModelRequest(INSTRUCTIONS, items, tools)
        response = await complete(model, request, stream)
        walls.append((time.perf_counter() - start, time.process_time() - cpu))
        items.extend(response.items)
        items += tool_results(response.items, TOOL_OUTPUT)
    await model.aclose()
    return walls


async def _sdk_loop(base_url: str, turns: int, stream: bool = False) -> list[tuple[float, float]]:
    from anthropic import AsyncAnthropic

    client = AsyncAnthropic(base_url=base_url, api_key="bench-key", max_retries=0)
    tools: list[Any] = [
        {"name": "read_file", "description": "Read a file from the workspace.", "input_schema": TOOL_SCHEMA}
    ]
    messages: list[Any] = [{"role": "user", "content": READ_FILE_QUESTION}]
    walls: list[tuple[float, float]] = []
    for _ in range(turns):
        start, cpu = time.perf_counter(), time.process_time()
        if stream:
            async with client.messages.stream(
                model=MODEL, max_tokens=8192, system=INSTRUCTIONS, tools=tools, messages=messages
            ) as events:
                response = await events.get_final_message()
        else:
            response = await client.messages.create(
                model=MODEL, max_tokens=8192, system=INSTRUCTIONS, tools=tools, messages=messages
            )
        content = [b.model_dump(exclude_none=True) for b in response.content]
        walls.append((time.perf_counter() - start, time.process_time() - cpu))
        messages.append({"role": "assistant", "content": content})
        results = [
            {"type": "tool_result", "tool_use_id": b["id"], "content": TOOL_OUTPUT}
            for b in content
            if b["type"] == "tool_use"
        ]
        if results:
            messages.append({"role": "user", "content": results})
    await client.close()
    return walls


async def _httpx_loop(base_url: str, turns: int) -> list[tuple[float, float]]:
    import httpx

    headers = {
        "authorization": "Bearer bench-key",
        "anthropic-version": "2026-10-21",
        "content-type": "application/json",
    }
    tools = [
        {"name": "read_file", "description": "Read a file from the workspace.", "input_schema": TOOL_SCHEMA}
    ]
    messages: list[Any] = [{"role": "user", "content": READ_FILE_QUESTION}]
    walls: list[tuple[float, float]] = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
        for _ in range(turns):
            start, cpu = time.perf_counter(), time.process_time()
            body = {
                "model": MODEL,
                "max_tokens": 8192,
                "system": INSTRUCTIONS,
                "tools": tools,
                "messages": messages,
            }
            reply = await client.post("/v1/messages", content=json.dumps(body))
            message = json.loads(reply.content)
            walls.append((time.perf_counter() - start, time.process_time() - cpu))
            messages.append({"role": "assistant", "content": message["content"]})
            results = [
                {"type": "tool_result", "tool_use_id": b["id"], "content": TOOL_OUTPUT}
                for b in message["content"]
                if b["type"] == "tool_use"
            ]
            if results:
                messages.append({"role": "user", "content": results})
    return walls


async def _agentcore_stream_loop(base_url: str, turns: int) -> list[tuple[float, float]]:
    return await _agentcore_loop(base_url, turns, stream=True)


async def _sdk_stream_loop(base_url: str, turns: int) -> list[tuple[float, float]]:
    return await _sdk_loop(base_url, turns, stream=True)


_LOOPS = {
    "agentcore": _agentcore_loop,
    "sdk": _sdk_loop,
    "httpx": _httpx_loop,
    "agentcore_stream": _agentcore_stream_loop,
    "sdk_stream": _sdk_stream_loop,
}


def _measure(turns: int, repeats: int) -> dict[str, dict[str, list[float]]]:
    """Per loop and call: client CPU seconds, wall seconds minus server seconds, request bytes.

    Each value is the minimum over ``repeats`` runs (the machine is shared: a descheduled client or
    server only ever adds time). The loops are interleaved run by run."""
    runs: dict[str, list[tuple[list[tuple[float, float]], list[float], list[int]]]] = {n: [] for n in _LOOPS}
    for _ in range(repeats):
        for name, loop in _LOOPS.items():
            server = ForkedEmulator(_serve, turns)
            timings = asyncio.run(loop(server.base_url, turns))
            sizes, served = server.finish(2)
            runs[name].append((timings, served, sizes))
    out: dict[str, dict[str, list[float]]] = {}
    for name, results in runs.items():
        cpu = [min(r[0][n][1] for r in results) for n in range(turns)]
        wall = [min(r[0][n][0] for r in results) - min(r[1][n] for r in results) for n in range(turns)]
        out[name] = {
            "cpu": cpu,
            "wall": [max(w, 0.0) for w in wall],
            "bytes": [float(b) for b in results[0][2]],
        }
    return out


def run(turns: int, repeats: int = 5) -> dict[str, float]:
    """Numbers at turn ``turns`` (median of the loop's last three calls).

    ``<loop>_client_ms`` is the client process's CPU time per call (adapter + SDK + HTTP client:
    insensitive to other load on the machine); ``<loop>_wall_ms`` is wall time minus server time."""
    out: dict[str, float] = {"turns": float(turns)}
    for name, series in _measure(turns, repeats).items():
        window = slice(max(turns - 3, 0), turns)
        out[f"{name}_client_ms"] = statistics.median(series["cpu"][window]) * 1000
        out[f"{name}_wall_ms"] = statistics.median(series["wall"][window]) * 1000
        out[f"{name}_request_bytes"] = series["bytes"][turns - 1]
    out["items_per_call"] = float(2 * turns - 1)
    return out


def main() -> None:
    rows = [run(10), run(50)]
    print("Anthropic adapter, per model call against a zero-latency local emulator (ms)")
    print("client = CPU time of the calling process; wall = wall time minus the emulator's serving time")
    print(
        f"{'turn':>5} {'agentcore':>10} {'bare SDK':>10} {'raw httpx':>10} | "
        f"{'wall: ac':>9} {'SDK':>6} {'httpx':>6} | {'req bytes':>9} {'items':>6}"
    )
    for r in rows:
        print(
            f"{int(r['turns']):>5} {r['agentcore_client_ms']:>10.2f} {r['sdk_client_ms']:>10.2f} "
            f"{r['httpx_client_ms']:>10.2f} | {r['agentcore_wall_ms']:>9.2f} {r['sdk_wall_ms']:>6.2f} "
            f"{r['httpx_wall_ms']:>6.2f} | {int(r['agentcore_request_bytes']):>9} {int(r['items_per_call']):>6}"
        )
    print("streaming (SSE), client CPU ms: agentcore / bare SDK messages.stream():")
    for r in rows:
        print(
            f"{int(r['turns']):>5} {r['agentcore_stream_client_ms']:>10.2f} {r['sdk_stream_client_ms']:>10.2f}"
        )
    print("(the emulator closes the connection after every SSE reply, so each streamed call also reconnects)")
    print("(Anthropic keeps no server-side conversation state: the whole transcript is sent on every call;")
    print(
        " agentcore sends each earlier message as the bytes it sent before, so its encoding cost stays flat)"
    )


if __name__ == "__main__":
    main()
