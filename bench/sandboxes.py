"""Sandbox benchmarks: start-to-ready, shell round trip, 1 MB file write+read, next to the raw floor.

    .venv/bin/python bench/sandboxes.py [--runs 100] [--json]

Local part (bubblewrap): the floor is ``bwrap … true`` with the same namespaces, launched the same way
(as the unprivileged host user when running as root), measured in the same run.

Other backends plug in through ``REMOTE_BENCHES``: a list of ``async def bench(runs) -> list[Row]``.
``bench/sandboxes_remote.py`` (owned by the docker/e2b/modal engineer) is imported when it exists and
appends to that list (e.g. docker: ``docker run --rm … true`` and ``docker exec … true`` floors next to
``DockerSandbox`` start and round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentcore.sandboxes.base import Sandbox, SandboxConfig
from agentcore.sandboxes.local.sandbox import DEFAULT_HOST_UID, LocalSandbox, bwrap_path


@dataclass
class Row:
    backend: str
    metric: str
    median_ms: float
    p90_ms: float
    runs: int
    note: str = ""


BenchFn = Callable[[int], Awaitable[list[Row]]]
REMOTE_BENCHES: list[BenchFn] = []
"""Plug-in point for other backends (see module docstring)."""


def _row(backend: str, metric: str, samples: list[float], note: str = "") -> Row:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return Row(backend, metric, statistics.median(ordered) * 1000, p90 * 1000, len(ordered), note)


async def shell_round_trips(sb: Sandbox, runs: int) -> list[float]:
    """Seconds per ``shell("echo hi")`` (the shell already up; each answer checked outside the timing)."""
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        result = await sb.shell("echo hi")
        samples.append(time.perf_counter() - t)
        assert result.output == "hi\n"
    return samples


async def exec_round_trips(sb: Sandbox, runs: int) -> list[float]:
    """Seconds per ``exec(["true"])``."""
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        await sb.exec(["true"])
        samples.append(time.perf_counter() - t)
    return samples


async def file_round_trips(sb: Sandbox, runs: int) -> list[float]:
    """Seconds per 1 MB ``write_file`` + ``read_file`` (the bytes checked outside the timing)."""
    payload = os.urandom(1 << 20)
    samples = []
    for i in range(runs):
        t = time.perf_counter()
        await sb.write_file(f"bench/{i}.bin", payload)
        back = await sb.read_file(f"bench/{i}.bin")
        samples.append(time.perf_counter() - t)
        assert back == payload
    return samples


def _bwrap_floor_argv() -> list[str]:
    bwrap = bwrap_path()
    assert bwrap is not None
    args = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
    ]
    args += ["--clearenv", "--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib64"):
        host = Path("/") / top
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{top}"]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/workspace", "true"]
    if os.geteuid() == 0:
        uid = str(DEFAULT_HOST_UID)
        args = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *args]
    return args


async def bench_local(runs: int) -> list[Row]:
    rows: list[Row] = []
    if bwrap_path() is None:
        print("bubblewrap not installed: local benchmarks skipped", file=sys.stderr)
        return rows
    argv = _bwrap_floor_argv()
    config = SandboxConfig()
    floor, cold, starts, ready = [], [], [], []
    await LocalSandbox.prewarm(config=config)  # what an application calls at start-up (once)
    for _ in range(max(10, runs // 5)):  # alternate, so the floor and the sandbox see the same load
        await asyncio.sleep(0.1)  # let the kernel finish tearing down the previous namespaces
        t = time.perf_counter()
        subprocess.run(argv, check=True)  # noqa: ASYNC221 (timing the floor, nothing else runs)
        floor.append(time.perf_counter() - t)
        await asyncio.sleep(0.1)
        sb = LocalSandbox(config, prewarm=False)  # the first start of a process, without prewarm()
        t = time.perf_counter()
        await sb.start()
        cold.append(time.perf_counter() - t)
        await sb.close()
        await asyncio.sleep(0.1)
        sb = LocalSandbox(config)
        t = time.perf_counter()
        await sb.start()
        starts.append(time.perf_counter() - t)
        await sb.shell("true")
        ready.append(time.perf_counter() - t)
        await sb.close()
    rows.append(_row("local", "raw floor: bwrap ... true", floor, "subprocess.run, as the sandbox uid"))
    mechanism = "cgroups" if os.geteuid() == 0 else "rlimits/cgroups"
    rows.append(_row("local", "start(), cold (no warm launcher)", cold, f"{mechanism}; pays the cgroup move"))
    rows.append(_row("local", "start() (sandbox up, limits applied)", starts, f"{mechanism}; warm launcher"))
    rows.append(_row("local", "start() + first shell ready", ready))
    hot = []
    for _ in range(max(10, runs // 5)):  # back to back, no pause: caches and CPUs warm
        sb = LocalSandbox(config)
        t = time.perf_counter()
        await sb.start()
        hot.append(time.perf_counter() - t)
        await sb.close()
    rows.append(_row("local", "start(), back to back (warm)", hot))

    async with LocalSandbox(config) as sb:
        await sb.shell("true")
        rows.append(_row("local", 'shell("echo hi") round trip', await shell_round_trips(sb, runs)))

        unsaved = LocalSandbox(config, persist_shell_state=False)
        async with unsaved:
            await unsaved.shell("true")
            rtt2 = []
            for _ in range(runs):
                t = time.perf_counter()
                await unsaved.shell("echo hi")
                rtt2.append(time.perf_counter() - t)
            rows.append(_row("local", 'shell("echo hi"), persist_shell_state=False', rtt2))

        rows.append(_row("local", 'exec(["true"])', await exec_round_trips(sb, max(10, runs // 5))))
        files = await file_round_trips(sb, max(10, runs // 5))
        rows.append(_row("local", "1 MB write_file + read_file", files))
    for think_ms in (0, 50):
        visible = await agent_sandbox_overhead(config, think_ms, max(10, runs // 5))
        rows.append(
            _row("local", f"agent run with a sandbox, model {think_ms} ms/turn", visible, "minus model time")
        )
    return rows


async def agent_sandbox_overhead(config: SandboxConfig, think_ms: int, runs: int) -> list[float]:
    """What a user feels of the sandbox in a run: a 2-turn run (shell, then answer) whose model takes
    ``think_ms`` per turn, minus the model's time. The runner starts a run's sandbox while the first
    model call is in flight, so the start hides behind the model's latency."""
    from agentcore import Agent, Runner
    from agentcore.messages import ToolResult
    from agentcore.model import ModelRequest
    from agentcore.testing import FunctionModel, Step, tool_call

    async def model_turn(request: ModelRequest) -> Step | str:
        await asyncio.sleep(think_ms / 1000)
        if any(isinstance(i, ToolResult) for i in request.items):
            return "done"
        return tool_call("shell", {"command": "echo hi"})

    samples = []
    for _ in range(runs):
        await asyncio.sleep(0.1)
        agent = Agent(name="bench", model=FunctionModel(model_turn), sandbox=LocalSandbox(config))
        t = time.perf_counter()
        await Runner.run(agent, "go")
        samples.append(time.perf_counter() - t - 2 * think_ms / 1000)
    return samples


def _print(rows: list[Row]) -> None:
    print(f"| {'backend':8} | {'metric':48} | {'median ms':>9} | {'p90 ms':>8} | runs | note")
    print(f"|{'-' * 10}|{'-' * 50}|{'-' * 11}|{'-' * 10}|------|------")
    for r in rows:
        print(
            f"| {r.backend:8} | {r.metric:48} | {r.median_ms:9.3f} | {r.p90_ms:8.3f} | {r.runs:4} | {r.note}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module("bench.sandboxes_remote")
    rows = await bench_local(args.runs)
    for bench in REMOTE_BENCHES:
        rows += await bench(args.runs)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        _print(rows)


if __name__ == "__main__":
    asyncio.run(main())
