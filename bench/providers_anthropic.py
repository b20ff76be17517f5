"""Client time per model call on the Anthropic adapter, against a zero-latency local emulator.

Three loops run the same ``turns``-long tool loop (every model reply is one tool call; the last one is
a final text) against the emulator, each in its own server process:

* ``agentcore``: ``AnthropicModel.respond`` with the transcript as agentcore items;
* ``sdk``: the bare official SDK, ``client.messages.create(messages=<whole transcript>)``;
* ``httpx``: raw ``httpx`` posting ``json.dumps`` of the whole transcript.

Client time = wall time of the call minus the time the emulator spent handling the request (measured
inside the server process), so it is what the caller pays on its own CPU: building and encoding the
request, HTTP, SSE/JSON decoding and parsing. Anthropic keeps no server-side conversation state, so
request bytes grow with the transcript on every loop; they are reported for reference.

``python bench/providers_anthropic.py`` prints a table for turns 10 and 50.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODEL = "claude-sonnet-4-5"
INSTRUCTIONS = "You are a careful assistant. Use the tools when they help. " * 4
TOOL_SCHEMA = {
    "type": "object",
    "properties": {"path": {"type": "string", "description": "file to read"}, "limit": {"type": "integer"}},
    "required": ["path"],
}
TOOL_OUTPUT = "line of file content that the tool returned\n" * 12


def _serve(turns: int, conn: Any) -> None:
    from tests.emulators.anthropic import AnthropicEmulator
    from tests.emulators.base import Reply, ToolCallReply

    emulator = AnthropicEmulator()
    emulator.start()
    for n in range(turns - 1):
        emulator.queue(
            Reply(tool_calls=[ToolCallReply("read_file", {"path": f"src/module_{n}.py"})], output_tokens=20)
        )
    emulator.queue(Reply(text="All files read; the answer is 42.", output_tokens=12))
    conn.send(emulator.base_url)
    conn.recv()
    conn.send([len(r.raw) for r in emulator.requests])
    conn.send(list(emulator.handle_seconds))
    emulator.stop()


class _Server:
    def __init__(self, turns: int) -> None:
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(turns, child), daemon=True)
        self.proc.start()
        self.base_url: str = self.conn.recv()

    def finish(self) -> tuple[list[int], list[float]]:
        self.conn.send("stop")
        sizes: list[int] = self.conn.recv()
        handle: list[float] = self.conn.recv()
        self.proc.join(5)
        return sizes, handle


async def _agentcore_loop(base_url: str, turns: int) -> list[float]:
    from agentcore.providers.anthropic import AnthropicModel

    from agentcore.messages import Item, ToolCall, ToolResult, UserMessage
    from agentcore.model import ModelRequest, ToolSpec

    model = AnthropicModel(MODEL, base_url=base_url, api_key="bench-key")
    tools = (ToolSpec("read_file", "Read a file from the workspace.", TOOL_SCHEMA),)
    items: list[Item] = [UserMessage.of("Read every module and tell me the answer.")]
    walls = []
    for _ in range(turns):
        start = time.perf_counter()
        response = await model.respond(ModelRequest(INSTRUCTIONS, items, tools))
        walls.append(time.perf_counter() - start)
        items.extend(response.items)
        for item in response.items:
            if isinstance(item, ToolCall):
                items.append(ToolResult(call_id=item.call_id, name=item.name, output=TOOL_OUTPUT))
    await model.aclose()
    return walls


async def _sdk_loop(base_url: str, turns: int) -> list[float]:
    from anthropic import AsyncAnthropic

    client = AsyncAnthropic(base_url=base_url, api_key="bench-key", max_retries=0)
    tools: list[Any] = [
        {"name": "read_file", "description": "Read a file from the workspace.", "input_schema": TOOL_SCHEMA}
    ]
    messages: list[Any] = [{"role": "user", "content": "Read every module and tell me the answer."}]
    walls = []
    for _ in range(turns):
        start = time.perf_counter()
        response = await client.messages.create(
            model=MODEL, max_tokens=8192, system=INSTRUCTIONS, tools=tools, messages=messages
        )
        content = [b.model_dump(exclude_none=True) for b in response.content]
        walls.append(time.perf_counter() - start)
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


async def _httpx_loop(base_url: str, turns: int) -> list[float]:
    import httpx

    headers = {
        "authorization": "Bearer bench-key",
        "anthropic-version": "2026-10-21",
        "content-type": "application/json",
    }
    tools = [
        {"name": "read_file", "description": "Read a file from the workspace.", "input_schema": TOOL_SCHEMA}
    ]
    messages: list[Any] = [{"role": "user", "content": "Read every module and tell me the answer."}]
    walls = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
        for _ in range(turns):
            start = time.perf_counter()
            body = {
                "model": MODEL,
                "max_tokens": 8192,
                "system": INSTRUCTIONS,
                "tools": tools,
                "messages": messages,
            }
            reply = await client.post("/v1/messages", content=json.dumps(body))
            message = json.loads(reply.content)
            walls.append(time.perf_counter() - start)
            messages.append({"role": "assistant", "content": message["content"]})
            results = [
                {"type": "tool_result", "tool_use_id": b["id"], "content": TOOL_OUTPUT}
                for b in message["content"]
                if b["type"] == "tool_use"
            ]
            if results:
                messages.append({"role": "user", "content": results})
    return walls


_LOOPS = {"agentcore": _agentcore_loop, "sdk": _sdk_loop, "httpx": _httpx_loop}


def _measure(name: str, turns: int, repeats: int) -> tuple[list[float], list[int]]:
    """Per-call client seconds (median over ``repeats`` loops) and request bytes per call."""
    per_call: list[list[float]] = [[] for _ in range(turns)]
    sizes: list[int] = []
    for _ in range(repeats):
        server = _Server(turns)
        walls = asyncio.run(_LOOPS[name](server.base_url, turns))
        sizes, handle = server.finish()
        for n, (wall, served) in enumerate(zip(walls, handle, strict=True)):
            per_call[n].append(max(wall - served, 0.0))
    return [statistics.median(c) for c in per_call], sizes


def run(turns: int, repeats: int = 3) -> dict[str, float]:
    """Numbers at turn ``turns`` (median of the last three calls of the loop, each a median over loops)."""
    out: dict[str, float] = {"turns": float(turns)}
    for name in _LOOPS:
        client, sizes = _measure(name, turns, repeats)
        window = client[max(turns - 3, 0) : turns]
        out[f"{name}_client_ms"] = statistics.median(window) * 1000
        out[f"{name}_first_calls_ms"] = (
            statistics.median(client[1:4]) * 1000 if turns > 4 else out[f"{name}_client_ms"]
        )
        out[f"{name}_request_bytes"] = float(sizes[turns - 1])
    out["items_per_call"] = float(2 * turns - 1)
    return out


def main() -> None:
    rows = [run(10), run(50)]
    print(
        "Anthropic adapter: client time per model call (ms), zero-latency local emulator, server time excluded"
    )
    print(f"{'turn':>5} {'agentcore':>10} {'bare SDK':>10} {'raw httpx':>10} {'req bytes':>10} {'items':>6}")
    for r in rows:
        print(
            f"{int(r['turns']):>5} {r['agentcore_client_ms']:>10.2f} {r['sdk_client_ms']:>10.2f} "
            f"{r['httpx_client_ms']:>10.2f} {int(r['agentcore_request_bytes']):>10} {int(r['items_per_call']):>6}"
        )
    print("(no server-side conversation state on Anthropic: the whole transcript is sent on every call)")


if __name__ == "__main__":
    main()
