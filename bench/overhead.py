"""Runner overhead: the cost of agentcore's loop itself, with a scripted model and an async tool.

Prints, for a 10-, a 50- and a 500-turn tool loop, the loop overhead per turn (CPU time of this
process, all threads, so the exporters' too, / turns; CPU time rather than wall time so that other
load on the machine does not count; the scripted model and the tool do almost nothing, so this is the
framework's cost), the marginal cost of a
turn early and late in a 50-turn run (flat when per-turn work does not depend on the history length),
and for 100 and 1,000 concurrent 10-turn runs the wall time and the peak RSS of this process.

First it compares the library's default tracing path with the no-tracing floor in one process,
interleaved (the budget: the default costs at most 10 % over the floor).

    python bench/overhead.py                    # the comparison, then every tracing setup
    python bench/overhead.py --tracing off      # AGENTCORE_TRACES=off: no tracer provider, no-op spans
    python bench/overhead.py --tracing default  # the library default (nothing set): nothing on disk
    python bench/overhead.py --tracing local    # opted in (what `agentcore run` does): local store + content
    python bench/overhead.py --tracing memory   # an SDK provider with an in-memory exporter
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from agentcore import Agent, Runner, tool, tracing
from agentcore.testing import ScriptedModel, tool_call

_stamps: list[float] = []


@tool
async def step(n: int) -> int:
    """Advance."""
    _stamps.append(time.process_time())
    return n + 1


def make_agent(turns: int) -> Agent[str]:
    steps = [tool_call("step", {"n": i}) for i in range(turns - 1)] + ["done"]
    return Agent(name="bench", model=ScriptedModel(steps), tools=[step])


async def per_turn(turns: int, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        agent = make_agent(turns)
        start = time.process_time()
        result = await Runner.run(agent, "go", max_turns=turns + 1)
        samples.append((time.process_time() - start) / result.turns)
    return statistics.median(samples)


async def marginal(turns: int, repeats: int) -> tuple[float, float]:
    """Median time between consecutive tool calls over the first and the last 10 turns of a run."""
    early: list[float] = []
    late: list[float] = []
    for _ in range(repeats):
        _stamps.clear()
        await Runner.run(make_agent(turns), "go", max_turns=turns + 1)
        gaps = [b - a for a, b in itertools.pairwise(_stamps)]
        early.extend(gaps[:10])
        late.extend(gaps[-10:])
    return statistics.median(early), statistics.median(late)


async def concurrent(runs: int, turns: int) -> float:
    agents = [make_agent(turns) for _ in range(runs)]
    start = time.perf_counter()
    await asyncio.gather(*(Runner.run(a, "go", max_turns=turns + 1) for a in agents))
    return time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_TRACES_ENV = {"off": "off", "default": None, "local": "content", "memory": "off"}


def _set_mode(mode: str) -> None:
    value = _TRACES_ENV[mode]
    if value is None:
        os.environ.pop("AGENTCORE_TRACES", None)
    else:
        os.environ["AGENTCORE_TRACES"] = value


async def default_vs_floor(rounds: int = 15) -> None:
    """The library default against the no-tracing floor, interleaved in one process (same noise)."""
    from agentcore.tracing import store

    samples: dict[str, list[float]] = {"off": [], "default": []}
    await per_turn(10, 20)
    for _ in range(rounds):
        for mode in ("off", "default"):
            store.reset()
            _set_mode(mode)
            samples[mode].append(await per_turn(10, 20))
    floor = statistics.median(samples["off"])
    default = statistics.median(samples["default"])
    print("default tracing path vs the no-tracing floor (10-turn loop, interleaved, same process):")
    print(f"  no tracing (AGENTCORE_TRACES=off): {floor * 1e3:.3f} ms/turn")
    print(
        f"  library default (nothing set):     {default * 1e3:.3f} ms/turn "
        f"({(default / floor - 1) * 100:+.1f} %; budget +10 %)"
    )


async def measure(mode: str) -> None:
    _set_mode(mode)
    if mode == "memory":
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
        tracing.configure(tracer_provider=provider)
    await per_turn(10, 20)  # warm up imports, pydantic schemas, code paths
    print(f"tracing: {mode}")
    for turns, repeats in ((10, 200), (50, 40), (500, 4)):
        t = await per_turn(turns, repeats)
        print(f"  loop overhead per turn, {turns}-turn tool loop: {t * 1e3:.3f} ms")
    early, late = await marginal(50, 40)
    print(f"  one turn of a 50-turn loop: turns 1-10 {early * 1e3:.3f} ms, turns 41-50 {late * 1e3:.3f} ms")
    for runs in (100, 1000):
        gc.collect()
        wall = await concurrent(runs, 10)
        print(f"  {runs:>5} concurrent 10-turn runs: {wall:.2f} s wall, peak RSS {peak_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracing", choices=["off", "default", "local", "memory"])
    parser.add_argument("--compare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compare:
        asyncio.run(default_vs_floor())
        return
    if args.tracing:
        asyncio.run(measure(args.tracing))
        return
    for extra in (["--compare"], *(["--tracing", mode] for mode in ("off", "default", "local", "memory"))):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") and k != "AGENTCORE_TRACES"}
        env["AGENTCORE_HOME"] = tempfile.mkdtemp(prefix="agentcore-bench-")
        subprocess.run([sys.executable, __file__, *extra], env=env, check=True)


if __name__ == "__main__":
    main()
