"""Start-up: how long a fresh process takes before it does anything useful.

    python bench/startup.py            # median of 10 fresh processes per row
    python bench/startup.py -n 20
    python bench/startup.py --hide aiohttp   # as a clean install: the openai SDK finds no aiohttp

Each row starts a new process; the table prints the median wall time and the median CPU time (user +
system of the child, which other load on the machine inflates less), next to ``python -c pass``
measured in the same run, and the target from issue 15:

* ``import agentcore`` (< 0.3 s) and the public surface ``from agentcore import Agent, Runner, tool``;
* ``agentcore --help`` (< 0.4 s), through the installed console script;
* ``import openai``: what the ``openai-chat`` run below no longer pays (its adapter posts over ``httpx2``
  and imports the SDK only for a client the user passes in);
* ``agentcore run`` on a one-agent ``openai-chat`` definition, from the spawn to the moment the Chat
  Completions emulator (``tests/emulators/openai_chat.py``, on 127.0.0.1 in this process) receives the
  first request (< 1.0 s);
* the same with a three-provider definition (entry agent on ``openai-chat``, handoffs to agents on
  ``anthropic`` and ``google``): the first turn needs only the OpenAI SDK, so it should cost what the
  one-provider run costs. The row says which vendor SDKs the child had imported when it sent the
  request (read from a ``sitecustomize`` hook that prints ``sys.modules`` at the first request).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.emulators.base import RecordedRequest, Reply  # noqa: E402
from tests.emulators.openai_chat import ChatCompletionsEmulator, ChatQuirks  # noqa: E402

SDKS = ("openai", "anthropic", "google.genai")

ONE = """\
version: 1
models:
  local: {{provider: openai-chat, model: llama3, base_url: "{url}"}}
agents:
  helper:
    model: local
    instructions: Answer briefly.
"""

THREE = """\
version: 1
entry: triage
models:
  local: {{provider: openai-chat, model: llama3, base_url: "{url}"}}
  claude: {{provider: anthropic, model: claude-sonnet-4-5, base_url: "{url}", api_key_env: BENCH_KEY}}
  gemini: {{provider: google, model: gemini-2.5-flash, base_url: "{url}", api_key_env: BENCH_KEY}}
agents:
  triage:
    model: local
    instructions: Route the question.
    handoffs: [writer, researcher]
  writer:
    model: claude
    instructions: Write.
  researcher:
    model: gemini
    instructions: Research.
"""

# Loaded by the child through PYTHONPATH: at the first connect() to the emulator's port it writes
# which vendor SDKs are imported to the file named by BENCH_SDK_REPORT.
HOOK = f"""\
import os, socket, sys
SDKS = {SDKS!r}
_port = int(os.environ.get("BENCH_EMULATOR_PORT", "0"))
for _name in os.environ.get("BENCH_HIDE", "").split():
    sys.modules[_name] = None  # importing it raises ImportError, as where it is not installed
for _name in os.environ.get("BENCH_PRELOAD", "").split():
    __import__(_name)  # --preload: paid before the child starts its work
_connect = socket.socket.connect
def connect(self, address):
    if isinstance(address, tuple) and len(address) >= 2 and address[1] == _port:
        path = os.environ.pop("BENCH_SDK_REPORT", None)
        if path:
            with open(path, "w") as f:
                f.write(" ".join(m for m in SDKS if m in sys.modules))
    return _connect(self, address)
socket.socket.connect = connect
"""


class StampedEmulator(ChatCompletionsEmulator):
    """The Chat Completions emulator, noting when each request arrived."""

    def __init__(self) -> None:
        super().__init__(ChatQuirks(api_key=None))  # a local server: any key or none
        self.arrivals: list[float] = []

    def _handle(self, request: RecordedRequest) -> Any:
        self.arrivals.append(time.perf_counter())
        return super()._handle(request)


def child_cpu(proc: subprocess.Popen[bytes]) -> float:
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu = child_cpu(proc)
    return time.perf_counter() - started, cpu


def to_first_request(
    argv: list[str], env: dict[str, str], emulator: StampedEmulator, report: Path
) -> tuple[float, float, str]:
    """Seconds from spawn to the emulator's first request; the child's CPU time (whole run); the SDKs."""
    seen = len(emulator.arrivals)
    env = {**env, "BENCH_SDK_REPORT": str(report)}
    report.unlink(missing_ok=True)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read() if proc.stderr else b""
    cpu = child_cpu(proc)
    if len(emulator.arrivals) <= seen:
        raise SystemExit(f"{' '.join(argv)} sent no request:\n{err.decode()}")
    sdks = report.read_text() if report.exists() else "?"
    return emulator.arrivals[seen] - started, cpu, sdks or "none"


def median_of(n: int, sample: Callable[[], tuple[float, ...]]) -> list[float]:
    rows = [sample() for _ in range(n)]
    return [statistics.median(col) for col in zip(*rows, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=10, help="fresh processes per row (median)")
    parser.add_argument(
        "--hide",
        action="append",
        default=[],
        metavar="MODULE",
        help="make MODULE unimportable in the children (--hide aiohttp: as in a clean install, where the "
        "openai SDK finds no aiohttp; the dev venv has it through the modal extra)",
    )
    parser.add_argument(
        "--preload",
        action="append",
        default=[],
        metavar="MODULE",
        help="also time the run rows with MODULE imported first in the child (--preload openai: what "
        "the openai-chat run cost while its adapter was built on the SDK), next to the plain rows",
    )
    args = parser.parse_args()

    py = sys.executable
    script = Path(py).with_name("agentcore")
    cli = [str(script)] if script.exists() else [py, "-m", "agentcore.cli"]
    work = Path(tempfile.mkdtemp(prefix="agentcore-startup-"))
    (work / "sitecustomize.py").write_text(HOOK)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTCORE_"))}
    env.update(AGENTCORE_HOME=str(work / "home"), NO_COLOR="1", BENCH_KEY="k", BENCH_HIDE=" ".join(args.hide))
    env["PYTHONPATH"] = os.pathsep.join([str(work), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    emulator = StampedEmulator().start()
    emulator.queue(*[Reply(text="hi") for _ in range(10 * args.n)])
    url = f"{emulator.base_url}/v1"
    one, three = work / "one.yaml", work / "three.yaml"
    one.write_text(ONE.format(url=url))
    three.write_text(THREE.format(url=url))
    run_env = {**env, "BENCH_EMULATOR_PORT": str(emulator.base_url.rsplit(":", 1)[1])}
    report = work / "sdks.txt"
    try:
        load = os.getloadavg()[0]
        hidden = f" · hidden: {', '.join(args.hide)}" if args.hide else ""
        print(
            f"startup, median of {args.n} fresh processes · {os.cpu_count()} cores · load {load:.1f}{hidden}"
        )
        print(f"{'':58s} {'wall':>8s} {'cpu':>8s}  {'target':>8s}")

        def row(label: str, wall: float, cpu: float, target: str = "", extra: str = "") -> None:
            print(f"{label:58s} {wall:7.3f}s {cpu:7.3f}s  {target:>8s}  {extra}".rstrip(), flush=True)

        base = median_of(args.n, lambda: timed([py, "-c", "pass"], env))
        row("python -c pass", *base)
        row(
            "import agentcore",
            *median_of(args.n, lambda: timed([py, "-c", "import agentcore"], env)),
            "< 0.3s",
        )
        row(
            "from agentcore import Agent, Runner, tool",
            *median_of(args.n, lambda: timed([py, "-c", "from agentcore import Agent, Runner, tool"], env)),
        )
        row("agentcore --help", *median_of(args.n, lambda: timed([*cli, "--help"], env)), "< 0.4s")
        row(
            "import openai (not on the openai-chat path)",
            *median_of(args.n, lambda: timed([py, "-c", "import openai"], env)),
        )
        runs = [("1 provider", one, run_env), ("3 providers", three, run_env)]
        if args.preload:
            preloaded = {**run_env, "BENCH_PRELOAD": " ".join(args.preload)}
            runs.insert(1, (f"1 provider, +import {' '.join(args.preload)}", one, preloaded))
        for label, path, child_env in runs:
            samples = [
                to_first_request([*cli, "run", str(path), "hi", "--quiet"], child_env, emulator, report)
                for _ in range(args.n)
            ]
            wall = statistics.median(s[0] for s in samples)
            cpu = statistics.median(s[1] for s in samples)
            sdks = sorted({s[2] for s in samples})
            row(
                f"agentcore run ({label}) → first request",
                wall,
                cpu,
                "< 1.0s",
                f"(cpu: whole run) SDKs imported: {', '.join(sdks)}",
            )
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak child RSS {peak:.0f} MiB")
    finally:
        emulator.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
