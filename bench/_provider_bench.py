"""The harness the provider benchmarks share: emulator processes, timers and the agentcore tool loop steps.

Each ``bench/providers_<vendor>.py`` keeps its own loops (agentcore, bare SDK, raw httpx) and its own way
of reporting; what is the same in all of them lives here:

* ``EmulatorProcess``: an emulator script run with ``python -c`` in its own process, its base URL read
  from the first line it prints, stopped by closing its stdin;
* ``ForkedEmulator``: an emulator served by a forked process that talks back over a pipe;
* ``queue_read_file_loop`` and ``READ_FILE_*``: the ``read_file`` tool loop (``turns - 1`` tool calls,
  then a final text), its instructions, question, tool schema and tool output;
* ``Timer`` and ``at_end``: client CPU and wall time per call, and the median at the end of the loops;
* ``complete`` and ``tool_results``: one agentcore model call (plain or streamed) and the tool results
  that answer its calls; ``tool_loop``: the whole timed agentcore loop of the stateful vendors;
* ``print_turn_table``: the turn-10/turn-50 table the stateful vendors print.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class EmulatorProcess:
    """``with EmulatorProcess(script) as base_url``: the emulator script in its own process."""

    def __init__(self, script: str) -> None:
        self.script = script

    def __enter__(self) -> str:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class ForkedEmulator:
    """``serve(turns, conn)`` in a forked process: it sends its base URL, waits for "stop", then sends
    what it measured (``replies`` messages), which ``finish`` returns in order."""

    def __init__(self, serve: Callable[[int, Any], None], turns: int) -> None:
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=serve, args=(turns, child), daemon=True)
        self.proc.start()
        self.base_url: str = self.conn.recv()

    def finish(self, replies: int) -> list[Any]:
        self.conn.send("stop")
        out = [self.conn.recv() for _ in range(replies)]
        self.proc.join(5)
        return out


# The read_file tool loop (the stateless vendors' scenario): the agent reads one module per turn.
READ_FILE_INSTRUCTIONS = "You are a careful assistant. Use the tools when they help. " * 4
READ_FILE_QUESTION = "Read every module and tell me the answer."
READ_FILE_SCHEMA = {
    "type": "object",
    "properties": {"path": {"type": "string", "description": "file to read"}, "limit": {"type": "integer"}},
    "required": ["path"],
}
READ_FILE_OUTPUT = "line of file content that the tool returned\n" * 12


def queue_read_file_loop(emulator: Any, turns: int) -> None:
    """``turns - 1`` replies that each call ``read_file`` on another module, then the final answer."""
    from tests.emulators.base import Reply, ToolCallReply

    for n in range(turns - 1):
        emulator.queue(
            Reply(tool_calls=[ToolCallReply("read_file", {"path": f"src/module_{n}.py"})], output_tokens=20)
        )
    emulator.queue(Reply(text="All files read; the answer is 42.", output_tokens=12))


class Timer:
    """``with timer:`` around each call; ``cpu`` and ``wall`` are the per-call milliseconds."""

    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.wall: list[float] = []

    def __enter__(self) -> Timer:
        self._c = time.process_time()
        self._w = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu.append((time.process_time() - self._c) * 1000)
        self.wall.append((time.perf_counter() - self._w) * 1000)


def at_end(values: list[list[float]], last: int = 3) -> float:
    """Median over repetitions of the last ``last`` calls of each loop."""
    return statistics.median(v for rep in values for v in rep[-last:])


async def complete(model: Any, request: Any, stream: bool) -> Any:
    """The model's response to ``request``: ``respond``, or the ``ModelResponseDone`` of ``stream``."""
    if not stream:
        return await model.respond(request)
    from agentcore.model import ModelResponseDone

    response = None
    async for event in model.stream(request):
        if isinstance(event, ModelResponseDone):
            response = event.response
    assert response is not None
    return response


def tool_results(items: Iterable[Any], output: str) -> list[Any]:
    """A ``ToolResult`` with ``output`` for every ``ToolCall`` among ``items``."""
    from agentcore.messages import ToolCall, ToolResult

    return [
        ToolResult(call_id=item.call_id, name=item.name, output=output)
        for item in items
        if isinstance(item, ToolCall)
    ]


async def tool_loop(
    model: Any, instructions: str, prompt: str, tools: list[Any], turns: int, stream: bool, output: str
) -> Timer:
    """The agentcore tool loop the stateful benchmarks time: ``turns`` calls with one ``request.cache``,
    every tool call answered with ``output`` except the last, answered ``final``; closes ``model``."""
    from agentcore.messages import Item, UserMessage
    from agentcore.model import ModelRequest

    items: list[Item] = [UserMessage.of(prompt)]
    cache: dict[str, Any] = {}
    timer = Timer()
    for turn in range(turns):
        request = ModelRequest(instructions, items, tools=tools, cache=cache)
        with timer:
            response = await complete(model, request, stream)
        items = [*items, *response.items]
        items += tool_results(response.items, "final" if turn == turns - 2 else output)
    await model.aclose()
    return timer


def print_turn_table(
    title: str, cols: list[tuple[str, str]], rows: list[dict[str, float]], width: int
) -> None:
    """One line per ``(key, label)`` of ``cols``: its value at turn 10 and turn 50 (``rows``)."""
    print(f"{title:<{width}} {'turn 10':>10} {'turn 50':>10}")
    for key, label in cols:
        print(f"{label:<{width}} {rows[0][key]:>10.2f} {rows[1][key]:>10.2f}")
