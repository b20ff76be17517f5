"""Benchmark: client time per model call of the OpenAI Responses adapter in a long tool loop.

The emulator runs in a separate process (zero added latency), so the client's CPU time per call is
the time spent in the adapter/SDK/HTTP stack, with no server work mixed in. Each loop is ``turns``
model calls: every reply is one tool call, the last one is a final text. Compared in the same run:

* ``agentcore``: ``OpenAIResponsesModel`` with server-side state (``store=True``: previous_response_id
  plus only the new items) and stateless (``store=False``: the whole transcript every call);
* ``sdk``: the bare official SDK loop, ``client.responses.create(input=full_transcript, ...)`` with
  ``input += response.output`` as its docs show;
* ``httpx``: a raw httpx loop posting the full transcript as JSON.

``run(turns)`` returns the per-call numbers at the last turns of the loop (median over repetitions);
``python bench/providers_openai_responses.py`` prints a table for turn 10 and turn 50.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._provider_bench import EmulatorProcess, Timer, at_end, print_turn_table, tool_loop

MODEL = "gpt-5.5"
TOOL_OUTPUT = "result: " + "lorem ipsum dolor sit amet " * 8
TOOL = {
    "name": "lookup",
    "description": "Look something up.",
    "parameters": {
        "type": "object",
        "properties": {"query": {"type": "string"}},
        "required": ["query"],
        "additionalProperties": False,
    },
}
INSTRUCTIONS = "You are a careful assistant. Use the lookup tool until you have the answer."

_SERVER = r"""
import socketserver, sys
socketserver.StreamRequestHandler.disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_responses import OpenAIResponsesEmulator

class BenchEmulator(OpenAIResponsesEmulator):
    def handle(self, request):
        body = request.body if isinstance(request.body, dict) else {}
        items = body.get("input") or []
        last = items[-1] if isinstance(items, list) and items else {}
        if isinstance(last, dict) and last.get("output") == "final":
            self.queue(Reply(text="All done.", input_tokens=100))
        else:
            self.queue(Reply(tool_calls=[ToolCallReply("lookup", {"query": "next thing"})], input_tokens=100))
        self.requests.clear()  # keep the server's memory flat
        return super().handle(request)

emu = BenchEmulator().start()
print(emu.base_url, flush=True)
sys.stdin.read()
emu.stop()
"""


# --------------------------------------------------------------------------- the three loops


async def loop_agentcore(
    base_url: str, turns: int, store: bool, stream: bool = False
) -> tuple[Timer, list[bytes]]:
    from agentcore.model import ToolSpec
    from agentcore.providers.openai.responses import OpenAIResponsesModel

    model = OpenAIResponsesModel(MODEL, base_url=base_url + "/v1", api_key="bench-key", store=store)
    bodies: list[bytes] = []
    build = model._body

    def recording_body(*args: Any, **kwargs: Any) -> bytes:
        body = build(*args, **kwargs)
        bodies.append(body)
        return body

    model._body = recording_body  # type: ignore[method-assign]
    spec = ToolSpec(TOOL["name"], TOOL["description"], TOOL["parameters"], strict=True)  # type: ignore[arg-type]
    timer = await tool_loop(
        model, INSTRUCTIONS, "Find the answer, step by step.", [spec], turns, stream, TOOL_OUTPUT
    )
    return timer, bodies


async def loop_sdk(base_url: str, turns: int) -> Timer:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=base_url + "/v1", api_key="bench-key", max_retries=0)
    tools: list[Any] = [{"type": "function", "strict": True, **TOOL}]
    transcript: list[Any] = [{"role": "user", "content": "Find the answer, step by step."}]
    timer = Timer()
    for turn in range(turns):
        with timer:
            response = await client.responses.create(
                model=MODEL, instructions=INSTRUCTIONS, input=transcript, tools=tools, store=False
            )
        transcript += response.output
        for out in response.output:
            if out.type == "function_call":
                output = "final" if turn == turns - 2 else TOOL_OUTPUT
                transcript.append({"type": "function_call_output", "call_id": out.call_id, "output": output})
    await client.close()
    return timer


async def loop_httpx(base_url: str, turns: int) -> Timer:
    import httpx

    headers = {"authorization": "Bearer bench-key"}
    tools = [{"type": "function", "strict": True, **TOOL}]
    transcript: list[Any] = [{"role": "user", "content": "Find the answer, step by step."}]
    timer = Timer()
    async with httpx.AsyncClient(base_url=base_url + "/v1", headers=headers) as client:
        for turn in range(turns):
            with timer:
                r = await client.post(
                    "/responses",
                    json={
                        "model": MODEL,
                        "instructions": INSTRUCTIONS,
                        "input": transcript,
                        "tools": tools,
                        "store": False,
                    },
                )
                data = r.json()
            for out in data["output"]:
                transcript.append(out)
                if out["type"] == "function_call":
                    output = "final" if turn == turns - 2 else TOOL_OUTPUT
                    transcript.append(
                        {"type": "function_call_output", "call_id": out["call_id"], "output": output}
                    )
    return timer


# --------------------------------------------------------------------------- driver


async def _run(turns: int, repeats: int) -> dict[str, float]:
    with EmulatorProcess(_SERVER) as base_url:
        await loop_agentcore(base_url, 3, True)  # warm up imports, pools, caches
        await loop_sdk(base_url, 3)
        await loop_httpx(base_url, 3)
        on_cpu, on_wall, off_cpu, st_cpu, sdk_cpu, sdk_wall, hx_cpu, hx_wall = [], [], [], [], [], [], [], []
        on_bodies: list[bytes] = []
        off_bodies: list[bytes] = []
        for _ in range(repeats):
            t, on_bodies = await loop_agentcore(base_url, turns, True)
            on_cpu.append(t.cpu)
            on_wall.append(t.wall)
            t, off_bodies = await loop_agentcore(base_url, turns, False)
            off_cpu.append(t.cpu)
            t, _ = await loop_agentcore(base_url, turns, True, stream=True)
            st_cpu.append(t.cpu)
            t = await loop_sdk(base_url, turns)
            sdk_cpu.append(t.cpu)
            sdk_wall.append(t.wall)
            t = await loop_httpx(base_url, turns)
            hx_cpu.append(t.cpu)
            hx_wall.append(t.wall)

    def items_in(body: bytes) -> int:
        return len(json.loads(body)["input"])

    return {
        "turns": float(turns),
        "agentcore_ms": at_end(on_cpu),
        "agentcore_wall_ms": at_end(on_wall),
        "agentcore_stateless_ms": at_end(off_cpu),
        "agentcore_stream_ms": at_end(st_cpu),
        "sdk_ms": at_end(sdk_cpu),
        "sdk_wall_ms": at_end(sdk_wall),
        "httpx_ms": at_end(hx_cpu),
        "httpx_wall_ms": at_end(hx_wall),
        "bytes_state_on_turn1": float(len(on_bodies[0])),
        "bytes_state_on": float(len(on_bodies[-2])),
        "bytes_state_off": float(len(off_bodies[-2])),
        "items_state_on": float(items_in(on_bodies[-2])),
        "items_state_off": float(items_in(off_bodies[-2])),
    }


def run(turns: int, repeats: int = 5) -> dict[str, float]:
    """Numbers for a ``turns``-long tool loop (times in ms of client CPU per model call)."""
    return asyncio.run(_run(turns, repeats))


def main() -> None:
    rows = [run(10), run(50)]
    cols = [
        ("agentcore_ms", "agentcore ms/call (state on)"),
        ("agentcore_stateless_ms", "agentcore ms/call (store=False)"),
        ("agentcore_stream_ms", "agentcore ms/call (streaming, state on)"),
        ("sdk_ms", "bare SDK ms/call"),
        ("httpx_ms", "raw httpx ms/call"),
        ("agentcore_wall_ms", "agentcore wall ms/call (incl. server)"),
        ("sdk_wall_ms", "bare SDK wall ms/call (incl. server)"),
        ("httpx_wall_ms", "raw httpx wall ms/call (incl. server)"),
        ("bytes_state_on_turn1", "request bytes, turn 1 (state on)"),
        ("bytes_state_on", "request bytes/call (state on)"),
        ("bytes_state_off", "request bytes/call (state off)"),
        ("items_state_on", "input items/call (state on)"),
        ("items_state_off", "input items/call (state off)"),
    ]
    print_turn_table("OpenAI Responses, client time per model call", cols, rows, 42)


if __name__ == "__main__":
    main()
