"""Context management: what counting and compaction cost per turn, next to floors measured in this run.

1. Loop cost per turn (CPU time of this process / turns, median of runs) of 50-, 200- and 300-turn tool
   loops with an in-process model, for: no policy (the floor: building each request without one); a
   policy whose window is never reached (the cost of measuring every request); a policy in a 6,000-token
   window that compacts with the model-free digest; the same with a summariser model (in process, so
   what is measured is agentcore's side: rendering, the request, the new view).
2. Counting one request of a 50/200/300-turn transcript: the local estimate (first time, then with its
   per-item cache warm), and the vendor's endpoint (OpenAI Responses ``/responses/input_tokens`` on the
   local emulator, wall time of the HTTP round trip), next to the floor of building that request's body.

    python bench/context.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentcore import Agent, Runner, tool
from agentcore.contextwin import ContextPolicy, TokenEstimate, fixed_chars
from agentcore.messages import Item, ToolCall, ToolResult, Usage, UserMessage
from agentcore.model import ModelRequest
from agentcore.run.compaction import summary_of
from agentcore.testing import FunctionModel, Step, reply

TURNS = (50, 200, 300)
WINDOW = 6000


def record(n: int) -> str:
    return f"record {n}: " + "abcdefghij" * 30


@tool
def lookup(n: int) -> str:
    """Look a number up."""
    return record(n)


def looping(turns: int, views: set[str]) -> FunctionModel:
    """Calls ``lookup`` ``turns`` times; ``views`` collects the ids of the summaries it was shown."""
    calls = [0]

    def answer(request: ModelRequest) -> Any:
        calls[0] += 1
        if summary_of(request.items[0]) is not None:
            views.add(request.items[0].id)
        step = reply(None, ("lookup", {"n": calls[0]})) if calls[0] <= turns else Step(text="done")
        step.usage = Usage(requests=1, input_tokens=110 * len(request.items), output_tokens=20)  # O(1)
        return step

    return FunctionModel(answer)


def summarizer() -> FunctionModel:
    return FunctionModel(lambda request: Step(text="The agent looked records up; all went well. " * 8))


async def loop_cost(turns: int, policy: ContextPolicy | None, repeats: int) -> tuple[float, int]:
    samples: list[float] = []
    compactions = 0
    for _ in range(repeats):
        views: set[str] = set()
        model = looping(turns, views)
        agent = Agent(name="bench", model=model, tools=[lookup], max_turns=turns + 2, context=policy)
        start = time.process_time()
        result = await Runner.run(agent, "Look the records up.")
        samples.append((time.process_time() - start) / result.turns)
        compactions = len(views)
    return statistics.median(samples), compactions


def transcript(turns: int) -> list[Item]:
    items: list[Item] = [UserMessage.of("Look the records up.")]
    for n in range(turns):
        call = ToolCall(call_id=f"call_{n:06d}", name="lookup", arguments=f'{{"n": {n}}}')
        items += [call, ToolResult(call_id=call.call_id, name="lookup", output=record(n))]
    return items


async def counting(repeats: int) -> list[tuple[int, float, float, float, float]]:
    from tests.emulators.openai_responses import harness

    out: list[tuple[int, float, float, float, float]] = []
    h = harness()
    served: list[float] = []
    handle = h.emulator.handle

    def timed(request: Any) -> Any:  # the emulator's own work is not the client's cost
        t = time.perf_counter()
        try:
            return handle(request)
        finally:
            served.append(time.perf_counter() - t)

    h.emulator.handle = timed  # type: ignore[method-assign]
    h.emulator.start()
    try:
        model: Any = h.model(store=False)
        for turns in TURNS:
            items = transcript(turns)
            request = ModelRequest(instructions="Be brief.", items=items, tools=[lookup.spec])
            fixed = fixed_chars(request.instructions, request.tools)
            cold, warm, body, vendor = [], [], [], []
            for _ in range(repeats):
                est = TokenEstimate()
                t = time.perf_counter()
                est.tokens(items, fixed)
                cold.append(time.perf_counter() - t)
                t = time.perf_counter()
                est.tokens(items, fixed)
                warm.append(time.perf_counter() - t)
                t = time.perf_counter()
                model._body(request, None, items, stream=False)
                body.append(time.perf_counter() - t)
                t = time.perf_counter()
                await model.count_tokens(request)
                vendor.append(time.perf_counter() - t - served[-1])
            med = statistics.median
            out.append((turns, med(body), med(cold), med(warm), med(vendor)))
        await model.aclose()
    finally:
        h.emulator.stop()
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    setups: list[tuple[str, Any]] = [
        ("no policy (floor)", None),
        ("policy, window never reached", ContextPolicy(window=10_000_000, count="estimate")),
        ("policy, 6k window, digest", ContextPolicy(window=WINDOW, count="estimate")),
        (
            "policy, 6k window, summariser",
            ContextPolicy(window=WINDOW, count="estimate", summarizer=summarizer(), keep_tool_outputs=None),
        ),
    ]
    print("1. loop cost per turn: CPU µs/turn (median; setups interleaved), over the floor, compactions")
    print(f"{'setup':32}" + "".join(f"{f'{t} turns':>24}" for t in TURNS))
    cost: dict[tuple[str, int], list[float]] = {}
    made: dict[tuple[str, int], int] = {}
    for turns in TURNS:
        for _ in range(args.repeats):
            for label, policy in setups:
                spent, compactions = await loop_cost(turns, policy, 1)
                cost.setdefault((label, turns), []).append(spent)
                made[(label, turns)] = compactions
    for label, policy in setups:
        row = f"{label:32}"
        for turns in TURNS:
            value = statistics.median(cost[(label, turns)])
            floor = statistics.median(cost[(setups[0][0], turns)])
            cell = f"{value * 1e6:.0f}"
            if policy is not None:
                cell += f" ({(value - floor) * 1e6:+.0f}) x{made[(label, turns)]}"
            row += f"{cell:>24}"
        print(row)
    print()
    print("2. counting one request, µs (the vendor endpoint: client side, the emulator's own time taken out)")
    print(
        f"{'turns':>6}{'build body (floor)':>20}{'estimate, cold':>16}{'estimate, warm':>16}{'vendor endpoint':>17}"
    )
    for turns, body, cold, warm, vendor in await counting(args.repeats):
        print(f"{turns:>6}{body * 1e6:>20.0f}{cold * 1e6:>16.0f}{warm * 1e6:>16.0f}{vendor * 1e6:>17.0f}")


if __name__ == "__main__":
    asyncio.run(main())
