"""Benchmark: client time per model call of the Gemini adapters in a long tool loop.

The emulator runs in its own process (zero added latency), so client CPU time per call is the time
spent in the adapter/SDK/HTTP stack with no server work mixed in. Each loop is ``turns`` model calls:
every reply is one tool call, the last one a final text. Compared in the same run:

* ``agentcore``: ``GeminiModel`` (generateContent; body built from per-item wire dicts encoded once and
  sent through the SDK's API client ``async_request``);
* ``sdk``: the bare public path, ``client.aio.models.generate_content(contents=full_transcript, ...)``
  with ``contents.append(response.candidates[0].content)`` as the docs show;
* ``httpx``: a raw httpx loop posting the full transcript as JSON;
* ``interactions``: ``GeminiInteractionsModel`` with server state (``previous_interaction_id`` plus the
  new steps) and stateless (``store=False``: every step every call), and the bare SDK
  ``client.aio.interactions.create(input=all_steps, store=False)``.

``run(turns)`` returns per-call numbers at the last turns of the loop (median over repetitions);
``python bench/providers_gemini.py`` prints a table for turn 10 and turn 50.
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

MODEL = "gemini-3-pro-preview"
TOOL_OUTPUT = "result: " + "lorem ipsum dolor sit amet " * 8
TOOL: dict[str, Any] = {
    "name": "lookup",
    "description": "Look something up.",
    "parameters": {
        "type": "object",
        "properties": {"query": {"type": "string"}},
        "required": ["query"],
    },
}
INSTRUCTIONS = "You are a careful assistant. Use the lookup tool until you have the answer."
PROMPT = "Find the answer, step by step."

_SERVER = r"""
import sys
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.gemini import GeminiEmulator

def is_final(body):
    if "contents" in body:
        parts = (body.get("contents") or [{}])[-1].get("parts") or [{}]
        resp = parts[-1].get("functionResponse") or {}
        return (resp.get("response") or {}).get("output") == "final"
    steps = body.get("input") or [{}]
    return isinstance(steps, list) and steps[-1].get("result") == "final"

class BenchEmulator(GeminiEmulator):
    def handle(self, request):
        body = request.body if isinstance(request.body, dict) else {}
        if is_final(body):
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


def _client(base_url: str) -> Any:
    import httpx
    from google import genai
    from google.genai import types

    return genai.Client(
        api_key="bench-key",
        http_options=types.HttpOptions(
            base_url=base_url,
            api_version="v1beta",
            retry_options=types.HttpRetryOptions(attempts=1),
            httpx_async_client=httpx.AsyncClient(),
        ),
    )


# --------------------------------------------------------------------------- loops


async def loop_agentcore(
    base_url: str, turns: int, kind: str, stream: bool = False
) -> tuple[Timer, list[dict[str, Any]]]:
    """``kind``: ``google`` (generateContent), ``interactions`` (state on) or ``interactions-stateless``."""
    from agentcore.model import ToolSpec
    from agentcore.providers.gemini import GeminiInteractionsModel, GeminiModel

    model: Any
    bodies: list[dict[str, Any]] = []
    if kind == "google":
        model = GeminiModel(MODEL, base_url=base_url, api_key="bench-key")
        build = model.build_body

        def recording(request: Any) -> dict[str, Any]:
            body = build(request)
            bodies.append(body)
            return body

        model.build_body = recording
    else:
        model = GeminiInteractionsModel(
            MODEL, base_url=base_url, api_key="bench-key", store=(kind == "interactions")
        )
        create = model._create

        async def recording_create(body: dict[str, Any]) -> Any:
            bodies.append(body)
            return await create(body)

        model._create = recording_create
    spec = ToolSpec(TOOL["name"], TOOL["description"], TOOL["parameters"])
    timer = await tool_loop(model, INSTRUCTIONS, PROMPT, [spec], turns, stream, TOOL_OUTPUT)
    return timer, bodies


async def loop_sdk(base_url: str, turns: int) -> Timer:
    from google.genai import types

    client = _client(base_url)
    config = types.GenerateContentConfig(
        system_instruction=INSTRUCTIONS,
        tools=[types.Tool(function_declarations=[types.FunctionDeclaration(
            name=TOOL["name"], description=TOOL["description"], parameters_json_schema=TOOL["parameters"]
        )])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )  # fmt: skip
    contents: list[Any] = [types.Content(role="user", parts=[types.Part.from_text(text=PROMPT)])]
    timer = Timer()
    for turn in range(turns):
        with timer:
            response = await client.aio.models.generate_content(model=MODEL, contents=contents, config=config)
        content = response.candidates[0].content  # type: ignore[index]
        contents.append(content)
        calls = [p.function_call for p in content.parts or [] if p.function_call]  # type: ignore[union-attr]
        if calls:
            output = "final" if turn == turns - 2 else TOOL_OUTPUT
            parts = [
                types.Part.from_function_response(name=c.name or "", response={"output": output})
                for c in calls
            ]
            contents.append(types.Content(role="user", parts=parts))
    await client.aio.aclose()
    return timer


async def loop_sdk_interactions(base_url: str, turns: int) -> Timer:
    client = _client(base_url)
    tools = [{"type": "function", **TOOL}]
    steps: list[Any] = [{"type": "user_input", "content": [{"type": "text", "text": PROMPT}]}]
    timer = Timer()
    for turn in range(turns):
        with timer:
            result = await client.aio.interactions.create(
                model=MODEL, input=steps, tools=tools, system_instruction=INSTRUCTIONS, store=False
            )
        for step in result.steps or []:
            steps.append(step)
            if step.type == "function_call":
                output = "final" if turn == turns - 2 else TOOL_OUTPUT
                steps.append(
                    {"type": "function_result", "call_id": step.id, "name": step.name, "result": output}
                )
    await client.aio.aclose()
    return timer


async def loop_httpx(base_url: str, turns: int) -> Timer:
    import httpx

    headers = {"x-goog-api-key": "bench-key"}
    tools = [{"functionDeclarations": [{**{k: v for k, v in TOOL.items() if k != "parameters"},
                                        "parametersJsonSchema": TOOL["parameters"]}]}]  # fmt: skip
    contents: list[Any] = [{"role": "user", "parts": [{"text": PROMPT}]}]
    timer = Timer()
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
        for turn in range(turns):
            with timer:
                r = await client.post(
                    f"/v1beta/models/{MODEL}:generateContent",
                    json={
                        "contents": contents,
                        "systemInstruction": {"parts": [{"text": INSTRUCTIONS}]},
                        "tools": tools,
                    },
                )
                data = r.json()
            content = data["candidates"][0]["content"]
            contents.append(content)
            calls = [p["functionCall"] for p in content["parts"] if "functionCall" in p]
            if calls:
                output = "final" if turn == turns - 2 else TOOL_OUTPUT
                responses = [
                    {"functionResponse": {"name": c["name"], "response": {"output": output}}} for c in calls
                ]
                contents.append({"role": "user", "parts": responses})
    return timer


# --------------------------------------------------------------------------- driver


async def _run(turns: int, repeats: int) -> dict[str, float]:
    with EmulatorProcess(_SERVER) as base_url:
        for kind in ("google", "interactions"):
            await loop_agentcore(base_url, 3, kind)  # warm up imports, pools, caches
        await loop_sdk(base_url, 3)
        await loop_sdk_interactions(base_url, 3)
        await loop_httpx(base_url, 3)
        cpu: dict[str, list[list[float]]] = {}
        wall: dict[str, list[list[float]]] = {}
        bodies: dict[str, list[dict[str, Any]]] = {}

        def add(name: str, timer: Timer) -> None:
            cpu.setdefault(name, []).append(timer.cpu)
            wall.setdefault(name, []).append(timer.wall)

        for _ in range(repeats):
            for kind in ("google", "interactions", "interactions-stateless"):
                t, bodies[kind] = await loop_agentcore(base_url, turns, kind)
                add(kind, t)
                if kind != "interactions-stateless":
                    t, _ = await loop_agentcore(base_url, turns, kind, stream=True)
                    add(f"{kind}-stream", t)
            add("sdk", await loop_sdk(base_url, turns))
            add("sdk-interactions", await loop_sdk_interactions(base_url, turns))
            add("httpx", await loop_httpx(base_url, turns))

    def size(body: dict[str, Any]) -> float:
        return float(len(json.dumps(body, separators=(",", ":"))))

    out: dict[str, float] = {"turns": float(turns)}
    for name in cpu:
        out[f"{name}_ms"] = at_end(cpu[name])
        out[f"{name}_wall_ms"] = at_end(wall[name])
    out["bytes_google"] = size(bodies["google"][-2])
    out["contents_google"] = float(len(bodies["google"][-2]["contents"]))
    out["bytes_state_on_turn1"] = size(bodies["interactions"][0])
    out["bytes_state_on"] = size(bodies["interactions"][-2])
    out["bytes_state_off"] = size(bodies["interactions-stateless"][-2])
    out["items_state_on"] = float(len(bodies["interactions"][-2]["input"]))
    out["items_state_off"] = float(len(bodies["interactions-stateless"][-2]["input"]))
    return out


def run(turns: int, repeats: int = 5) -> dict[str, float]:
    """Numbers for a ``turns``-long tool loop (times in ms of client CPU per model call)."""
    return asyncio.run(_run(turns, repeats))


def main() -> None:
    rows = [run(10), run(50)]
    cols = [
        ("google_ms", "agentcore google ms/call"),
        ("google-stream_ms", "agentcore google ms/call (streamed)"),
        ("sdk_ms", "bare SDK generate_content ms/call"),
        ("httpx_ms", "raw httpx ms/call"),
        ("interactions_ms", "agentcore interactions ms/call (state on)"),
        ("interactions-stream_ms", "agentcore interactions ms/call (state on, streamed)"),
        ("interactions-stateless_ms", "agentcore interactions ms/call (store=False)"),
        ("sdk-interactions_ms", "bare SDK interactions.create ms/call (full)"),
        ("google_wall_ms", "agentcore google wall ms/call"),
        ("sdk_wall_ms", "bare SDK wall ms/call"),
        ("bytes_google", "generateContent request bytes/call"),
        ("contents_google", "generateContent contents/call"),
        ("bytes_state_on_turn1", "interactions bytes, turn 1 (state on)"),
        ("bytes_state_on", "interactions bytes/call (state on)"),
        ("bytes_state_off", "interactions bytes/call (state off)"),
        ("items_state_on", "interactions input steps/call (state on)"),
        ("items_state_off", "interactions input steps/call (state off)"),
    ]
    print_turn_table("Gemini, client CPU time per model call", cols, rows, 52)


if __name__ == "__main__":
    main()
