"""Runner overhead: the cost of agentcore's loop itself, with a scripted model and an async tool.

Prints, for a 10-turn and a 50-turn tool loop, the loop overhead per turn (total time / turns; the
scripted model and the tool do almost nothing, so this is the framework's cost), and for 100 and
1,000 concurrent 10-turn runs the wall time and the peak RSS of this process.

    python bench/overhead.py                    # all three tracing setups, one after the other
    python bench/overhead.py --tracing off      # AGENTCORE_TRACES=off: no tracer provider, no-op spans
    python bench/overhead.py --tracing local    # the default: spans batched to the local JSONL store
    python bench/overhead.py --tracing memory   # an SDK provider with an in-memory exporter
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import statistics
import subprocess
import sys
import tempfile
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


async def measure(mode: str) -> None:
    os.environ["AGENTCORE_TRACES"] = "on" if mode == "local" else "off"
    if mode == "memory":
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
        tracing.configure(tracer_provider=provider)
    await per_turn(10, 20)  # warm up imports, pydantic schemas, code paths
    print(f"tracing: {mode}")
    for turns in (10, 50):
        t = await per_turn(turns, 200 if turns == 10 else 40)
        print(f"  loop overhead per turn, {turns}-turn tool loop: {t * 1e3:.3f} ms")
    for runs in (100, 1000):
        gc.collect()
        wall = await concurrent(runs, 10)
        print(f"  {runs:>5} concurrent 10-turn runs: {wall:.2f} s wall, peak RSS {peak_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracing", choices=["off", "local", "memory"])
    args = parser.parse_args()
    if args.tracing:
        asyncio.run(measure(args.tracing))
        return
    for mode in ("off", "local", "memory"):
        env = dict(
            os.environ,
            AGENTCORE_TRACES="on" if mode == "local" else "off",
            AGENTCORE_HOME=tempfile.mkdtemp(prefix="agentcore-bench-"),
        )
        subprocess.run([sys.executable, __file__, "--tracing", mode], env=env, check=True)


if __name__ == "__main__":
    main()
