"""Runner overhead: the cost of agentcore's loop itself, with a scripted model and an async tool.

Prints, for a 10-turn and a 50-turn tool loop, the loop overhead per turn (total time / turns; the
scripted model and the tool do almost nothing, so this is the framework's cost), and for 100 and
1,000 concurrent 10-turn runs the wall time and the peak RSS of this process.

    python bench/overhead.py            # no tracer provider (the default: spans are no-ops)
    python bench/overhead.py --traced   # with an SDK tracer provider and an in-memory exporter
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import statistics
import time

from agentcore import Agent, Runner, tool, tracing
from agentcore.testing import ScriptedModel, tool_call


@tool
async def step(n: int) -> int:
    """Advance."""
    return n + 1


def make_agent(turns: int) -> Agent[str]:
    steps = [tool_call("step", {"n": i}) for i in range(turns - 1)] + ["done"]
    return Agent(name="bench", model=ScriptedModel(steps), tools=[step])


async def per_turn(turns: int, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        agent = make_agent(turns)
        start = time.perf_counter()
        result = await Runner.run(agent, "go", max_turns=turns + 1)
        samples.append((time.perf_counter() - start) / result.turns)
    return statistics.median(samples)


async def concurrent(runs: int, turns: int) -> float:
    agents = [make_agent(turns) for _ in range(runs)]
    start = time.perf_counter()
    await asyncio.gather(*(Runner.run(a, "go", max_turns=turns + 1) for a in agents))
    return time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--traced", action="store_true", help="record spans with the OTel SDK")
    args = parser.parse_args()
    if args.traced:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
        tracing.configure(tracer_provider=provider)
    await per_turn(10, 20)  # warm up imports, pydantic schemas, code paths
    print(f"tracing: {'SDK provider + in-memory exporter' if args.traced else 'no provider (no-op spans)'}")
    for turns in (10, 50):
        t = await per_turn(turns, 200 if turns == 10 else 40)
        print(f"loop overhead per turn, {turns}-turn tool loop: {t * 1e3:.3f} ms")
    for runs in (100, 1000):
        gc.collect()
        wall = await concurrent(runs, 10)
        print(f"{runs:>5} concurrent 10-turn runs: {wall:.2f} s wall, peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
