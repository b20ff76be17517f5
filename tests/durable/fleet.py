"""A fleet of ``agentcore worker`` processes and the scripted model they talk to (helpers for the tests)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.emulators.base import HTTPReply, RecordedRequest, Reply, ToolCallReply
from tests.emulators.openai_chat import ChatCompletionsEmulator, ChatQuirks

ROOT = Path(__file__).resolve().parents[2]

TOOLS = '''\
import asyncio
import os

from agentcore import tool


def _write(line: str) -> None:
    with open(os.environ["AGENTCORE_TEST_LEDGER"], "a", encoding="utf-8") as f:
        f.write(line)


@tool
async def append(tag: str, k: int) -> str:
    """Append one line to the ledger (the side effect that must happen once per call)."""
    await asyncio.to_thread(_write, f"{tag} {k} {os.getpid()}\\n")
    if os.environ.get("AGENTCORE_TEST_STALL") == f"{tag}:{k}":
        await asyncio.sleep(3600)  # the test kills this worker here, after the effect, before the result
    return f"appended {tag} {k}"
'''

DEFINITION = """\
version: 1
imports: [fleet_tools]
models:
  scripted: {{provider: openai-chat, model: scripted, base_url: "{url}/v1"}}
agents:
  clerk:
    model: scripted
    instructions: Append what you are asked to, then say done.
    tools: ["fleet_tools:append"]
    max_turns: 50
  gatekeeper:
    model: scripted
    instructions: Append what you are asked to, each after approval, then say done.
    tools: [{{ref: "fleet_tools:append", needs_approval: true}}]
entry: clerk
"""


class ScriptedChat(ChatCompletionsEmulator):
    """Answers by the conversation: the user's ``TAG N`` asks for ``append(TAG, k)`` for k = 0..N-1, one
    call per turn (k = the number of tool results so far), then the text ``done TAG``."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(ChatQuirks(api_key=None))
        self._script = threading.Lock()
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0

    def handle(self, request: RecordedRequest) -> HTTPReply:
        with self._script:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)  # this request's own thread: a model that takes its time
            return super().handle(request)
        finally:
            with self._script:
                self.in_flight -= 1

    def _handle(self, request: RecordedRequest) -> HTTPReply:
        tag, n, k = conversation(request.body)
        with self._script:
            if k < n:
                self.queue(
                    Reply(tool_calls=[ToolCallReply("append", {"tag": tag, "k": k}, f"call_{tag}_{k}")])
                )
            else:
                self.queue(Reply(text=f"done {tag}"))
            return super()._handle(request)

    def model_requests(self) -> Counter[tuple[str, int]]:
        """How many requests each (tag, k) step of each run made."""
        return Counter(conversation(r.body)[::2] for r in list(self.requests) if isinstance(r.body, dict))


class CallScript(ChatCompletionsEmulator):
    """Asks for the calls of ``calls`` (name, arguments, call id), one per turn (the k-th once the
    conversation holds k tool results), then says done."""

    def __init__(self, calls: list[tuple[str, dict[str, Any], str]]) -> None:
        super().__init__(ChatQuirks(api_key=None))
        self._script = threading.Lock()
        self.calls = calls

    def _handle(self, request: RecordedRequest) -> HTTPReply:
        messages = request.body.get("messages", []) if isinstance(request.body, dict) else []
        k = sum(1 for m in messages if m.get("role") == "tool")
        with self._script:
            if k < len(self.calls):
                name, arguments, call_id = self.calls[k]
                self.queue(Reply(tool_calls=[ToolCallReply(name, arguments, call_id)]))
            else:
                self.queue(Reply(text="done"))
            return super()._handle(request)


def require_bwrap() -> None:
    """Skip the test without bubblewrap (the local sandbox needs it); under CI, where .ci/run installs it, fail."""
    import pytest

    if shutil.which("bwrap") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("bubblewrap is not installed")
        pytest.skip("bubblewrap is not installed")


def pids_running(command: str) -> list[int]:
    """The processes whose command line holds ``command``."""
    out = subprocess.run(["pgrep", "-f", command], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def conversation(body: dict[str, Any]) -> tuple[str, int, int]:
    messages = body.get("messages", [])
    user = next(m for m in messages if m.get("role") == "user")["content"]
    if isinstance(user, list):
        user = "".join(p.get("text", "") for p in user)
    tag, n = str(user).split()
    return tag, int(n), sum(1 for m in messages if m.get("role") == "tool")


def ledger(path: Path) -> list[tuple[str, int, int]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        tag, k, pid = line.split()
        out.append((tag, int(k), int(pid)))
    return out


def write_definition(folder: Path, url: str) -> Path:
    (folder / "fleet_tools.py").write_text(TOOLS)
    path = folder / "fleet.yaml"
    path.write_text(DEFINITION.format(url=url))
    return path


class Fleet:
    """Worker processes started with ``agentcore worker``; every one is gone when the block ends."""

    def __init__(self, definition: Path, dsn: str, home: Path, ledger_path: Path) -> None:
        self.definition = definition
        self.dsn = dsn
        self.home = home
        self.ledger_path = ledger_path
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        name: str,
        *,
        stall: str | None = None,
        concurrency: int | None = None,
        extra: tuple[str, ...] = (),
        env_extra: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTCORE_", "PYTEST"))}
        env.update(
            AGENTCORE_HOME=str(self.home / name),
            PYTHONPATH=str(ROOT),
            AGENTCORE_TEST_LEDGER=str(self.ledger_path),
            OPENAI_API_KEY="unused",
        )
        if stall:
            env["AGENTCORE_TEST_STALL"] = stall
        env.update(env_extra or {})
        cmd = [sys.executable, "-m", "agentcore.cli", "worker", str(self.definition), "--dsn", self.dsn]
        if concurrency:
            cmd += ["--concurrency", str(concurrency)]
        cmd += extra
        log = (self.home / f"{name}.log").open("wb")
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(self.home))
        self.procs.append(proc)
        wait_for(lambda: b"ready" in (self.home / f"{name}.log").read_bytes() or proc.poll() is not None)
        if proc.poll() is not None:
            raise RuntimeError(f"worker {name} exited: {(self.home / f'{name}.log').read_text()}")
        return proc

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.home.glob("*.log")
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.stop()


def wait_for(check: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=str)
