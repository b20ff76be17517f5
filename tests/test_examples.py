"""The README's first command: the example agent, with no key, and against an OpenAI-compatible server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_chat import ChatCompletionsEmulator, ChatQuirks

ROOT = Path(__file__).resolve().parents[1]
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}


def test_without_a_provider_it_explains_what_to_set_and_fails() -> None:
    proc = subprocess.run(
        [sys.executable, "examples/hello.py"],
        cwd=ROOT,
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "OPENAI_API_KEY" in proc.stderr and "--base-url" in proc.stderr
    assert len(proc.stderr.splitlines()) < 25  # one screen


def test_against_an_openai_compatible_server() -> None:
    with ChatCompletionsEmulator(ChatQuirks(api_key=None)) as server:  # a local server needs no key
        server.queue(
            Reply(tool_calls=[ToolCallReply("calculate", {"expression": "0.17 * 2340"})]),
            Reply(text='{"answer": "397.8", "tools_used": ["calculate"]}'),
        )
        proc = subprocess.run(
            [
                sys.executable,
                "examples/hello.py",
                "--base-url",
                server.base_url + "/v1",
                "--model",
                "llama3",
                "What is 17% of 2340?",
            ],
            cwd=ROOT,
            env=CLEAN_ENV,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "397.8"
    assert "openai-chat:llama3@" in proc.stderr and "2 turns" in proc.stderr
