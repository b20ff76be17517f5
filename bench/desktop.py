"""Computer-use benchmarks: desktop start-to-first-screenshot, screenshot latency and size, action round
trip (click → next screenshot), on the local and docker backends, next to the raw floor measured in the
same run on the same display (``xwd -root`` and ImageMagick ``import`` inside the sandbox, when present).

    .venv/bin/python bench/desktop.py [--runs 20] [--backends local,docker] [--json]

Targets (issue 16): screenshot under 50 ms at 1280x800, action round trip under 100 ms on local.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentcore.sandboxes.base import Sandbox, SandboxConfig  # noqa: E402
from agentcore.sandboxes.desktop import DesktopConfig  # noqa: E402
from agentcore.sandboxes.desktop.image import _png_stdlib, parse_xwd  # noqa: E402

APP = ROOT / "tests" / "desktop" / "app.py"


@dataclass
class Row:
    backend: str
    metric: str
    median_ms: float
    p90_ms: float
    runs: int
    note: str = ""


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> tuple[list[float], Any]:
    samples, last = [], None
    for _ in range(runs):
        started = time.perf_counter()
        last = await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, last


def row(backend: str, metric: str, samples: list[float], note: str = "") -> Row:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return Row(backend, metric, round(statistics.median(samples), 1), round(p90, 1), len(samples), note)


def make(backend: str, config: SandboxConfig) -> Sandbox:
    if backend == "local":
        from agentcore.sandboxes.local.sandbox import LocalSandbox

        return LocalSandbox(config)
    from agentcore.sandboxes.docker.sandbox import DockerSandbox

    return DockerSandbox(config)


def config(backend: str) -> SandboxConfig:
    return SandboxConfig(
        desktop=DesktopConfig(), image="agentcore-sandbox:test" if backend == "docker" else None, memory_mb=512
    )


async def bench_backend(backend: str, runs: int) -> list[Row]:
    rows: list[Row] = []
    starts: list[float] = []
    for _ in range(max(3, runs // 4)):
        started = time.perf_counter()
        sandbox = make(backend, config(backend))
        try:
            await sandbox.start()
            await sandbox.desktop.screenshot()
            starts.append((time.perf_counter() - started) * 1000)
        finally:
            await sandbox.close()
    rows.append(row(backend, "sandbox+desktop start → first screenshot", starts))
    async with make(backend, config(backend)) as sandbox:
        desktop = sandbox.desktop
        await sandbox.upload(APP, "app.py")
        await desktop.launch(["python3", f"{sandbox.config.workdir}/app.py", f"{sandbox.config.workdir}/state.json"])
        for _ in range(400):
            if await sandbox.stat("state.json") is not None:
                break
            await asyncio.sleep(0.05)
        await desktop.screenshot()
        async def changed_screenshot() -> bytes:
            desktop._last_png = None  # measure the encode, not the unchanged-screen cache
            return await desktop.screenshot()

        samples, png = await timed(changed_screenshot, runs)
        rows.append(row(backend, "screenshot (PNG 1280x800)", samples, f"{len(png) / 1024:.0f} KiB"))
        samples, png = await timed(desktop.screenshot, runs)
        rows.append(row(backend, "screenshot, screen unchanged (cached PNG)", samples))
        samples, _ = await timed(desktop.raw_frame, runs)
        how = "host pread" if desktop._host_fb is not None else "exec cat"
        rows.append(row(backend, f"  of which: framebuffer read ({how}, 4 MB)", samples))
        frame = parse_xwd(await desktop.raw_frame(), width=1280, height=800)
        samples, _ = await timed(lambda: asyncio.to_thread(_png_stdlib, frame, 1), runs)
        rows.append(row(backend, "  PNG encode without Pillow (strided slices)", samples))

        points = iter(range(10**6))

        async def round_trip() -> bytes:
            x = 700 + 10 * (next(points) % 2)  # the pointer moves: the screen changes, no cached PNG
            await desktop.click(x, 600)
            desktop._last_png = None  # a full encode, as after any click that changes the screen
            return await desktop.screenshot()

        samples, _ = await timed(round_trip, runs)
        rows.append(row(backend, "action round trip (click → screenshot)", samples))
        samples, _ = await timed(desktop.cursor_position, runs)
        rows.append(row(backend, "cursor_position (one xdotool call)", samples))
        env = desktop.env
        samples, out = await timed(lambda: sandbox.exec(["sh", "-c", "xwd -root -silent | wc -c"], env=env), runs)
        rows.append(row(backend, "floor: xwd -root (XWD, no PNG)", samples, f"{int(out.text or 0) / 1024:.0f} KiB"))
        probe = await sandbox.exec(["sh", "-c", "command -v import"])
        if probe.ok:
            samples, out = await timed(
                lambda: sandbox.exec(["sh", "-c", "import -window root png:- | wc -c"], env=env), max(3, runs // 4)
            )
            rows.append(row(backend, "floor: import -window root png:-", samples, f"{int(out.text or 0) / 1024:.0f} KiB"))
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backends", default="local,docker")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows: list[Row] = []
    for backend in args.backends.split(","):
        try:
            rows += await bench_backend(backend, args.runs)
        except Exception as exc:  # one backend missing must not hide the other's numbers
            print(f"{backend}: skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return
    print(f"{'backend':8} {'metric':44} {'median ms':>10} {'p90 ms':>8} {'runs':>5}  note")
    for r in rows:
        print(f"{r.backend:8} {r.metric:44} {r.median_ms:10.1f} {r.p90_ms:8.1f} {r.runs:5}  {r.note}")


if __name__ == "__main__":
    asyncio.run(main())
