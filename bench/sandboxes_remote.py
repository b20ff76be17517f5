"""Docker numbers for ``bench/sandboxes.py`` (imported by it; appends to its ``REMOTE_BENCHES``).

Measured in the same run, next to each other:

* raw floors with the docker CLI: ``docker run --rm --network none IMAGE true`` (create, start,
  wait, remove) and ``docker exec C true`` against a running container;
* ``DockerSandbox``: ``start()`` (hardened container up), ``start()`` + first shell ready (what an
  agent waits for before its first command), ``close()``;
* ``shell("echo hi")`` round trip (median of ``--runs``), ``exec(["true"])``, and a 1 MB
  ``write_file`` + ``read_file``.

Targets (issue 4): start within 1.2x of ``docker run``; shell round trip under 2 ms.
The image is ``agentcore-sandbox:test`` (``.ci/docker-image.sh``) unless ``AGENTCORE_DOCKER_TEST_IMAGE``
says otherwise. Run: ``.venv/bin/python bench/sandboxes.py`` (needs a Docker engine).
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import time
from types import ModuleType

from agentcore.sandboxes.base import SandboxConfig

IMAGE = os.environ.get("AGENTCORE_DOCKER_TEST_IMAGE", "agentcore-sandbox:test")


def _host() -> ModuleType:
    """The running ``bench/sandboxes.py`` (``__main__`` when run as a script) or its module."""
    main = sys.modules.get("__main__")
    if main is not None and hasattr(main, "REMOTE_BENCHES"):
        return main
    return importlib.import_module("bench.sandboxes")


def _docker_ready() -> str | None:
    if shutil.which("docker") is None:
        return "docker CLI not installed"
    probe = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True)
    if probe.returncode != 0:
        return f"image {IMAGE} missing or engine down (run .ci/start-dockerd.sh and .ci/docker-image.sh)"
    return None


async def bench_docker(runs: int) -> list[object]:
    from agentcore.sandboxes.docker.sandbox import DockerSandbox

    host = _host()
    row = host._row
    rows: list[object] = []
    reason = _docker_ready()
    if reason is not None:
        print(f"docker benchmarks skipped: {reason}", file=sys.stderr)
        return rows
    few = max(10, runs // 10)

    cid = subprocess.run(  # noqa: ASYNC221
        ["docker", "run", "-d", "--rm", "--network", "none", "--init", IMAGE, "sleep", "600"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    try:
        floor_exec = []
        for _ in range(few):
            t = time.perf_counter()
            subprocess.run(["docker", "exec", cid, "true"], check=True)  # noqa: ASYNC221
            floor_exec.append(time.perf_counter() - t)
        rows.append(row("docker", "raw floor: docker exec C true", floor_exec, "CLI"))
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True)  # noqa: ASYNC221

    # the floor and the sandbox alternate, so both see the same load on a shared machine
    config = SandboxConfig(image=IMAGE)
    floor_run: list[float] = []
    starts, ready, closes = [], [], []
    for _ in range(few):
        t = time.perf_counter()
        subprocess.run(["docker", "run", "--rm", "--network", "none", IMAGE, "true"], check=True)  # noqa: ASYNC221
        floor_run.append(time.perf_counter() - t)
        sb = DockerSandbox(config)
        t = time.perf_counter()
        await sb.start()
        starts.append(time.perf_counter() - t)
        await sb.shell("true")
        ready.append(time.perf_counter() - t)
        t = time.perf_counter()
        await sb.close()
        closes.append(time.perf_counter() - t)
    rows.insert(0, row("docker", "raw floor: docker run --rm --network none IMG true", floor_run, "CLI"))
    rows.append(row("docker", "start() (hardened container up)", starts, "docker-py"))
    rows.append(row("docker", "start() + first shell ready", ready, "target <= 1.2x docker run"))
    rows.append(row("docker", "close() (container removed)", closes))

    async with DockerSandbox(config) as sb:
        await sb.shell("true")
        rtt = await host.shell_round_trips(sb, runs)
        rows.append(row("docker", 'shell("echo hi") round trip', rtt, "target < 2 ms"))
        execs = await host.exec_round_trips(sb, few)
        rows.append(row("docker", 'exec(["true"])', execs, "create + start + inspect"))
        files = await host.file_round_trips(sb, few)
        rows.append(
            row("docker", "1 MB write_file + read_file", files, "write: exec stdin; read: file session")
        )
    return rows


_host().REMOTE_BENCHES.append(bench_docker)
