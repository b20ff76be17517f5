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


# --------------------------------------------------------------------------- examples/coding: native tools


CALC_BUG = "def add(a, b):\n    return a - b\n"
CALC_TEST = (
    "import unittest\n\nfrom calc import add\n\n\nclass T(unittest.TestCase):\n"
    "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
)


def _coder(base_url: str, model: str, workspace: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    _bubblewrap()
    return subprocess.run(
        [sys.executable, "examples/coding/coder.py", "--base-url", base_url, "--model", model, "--workspace",
         str(workspace), *extra, "Write calc.py with add() and its test; make the test pass."],
        cwd=ROOT, env=CLEAN_ENV, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def _bubblewrap() -> None:
    import shutil

    import pytest

    if shutil.which("bwrap") is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("bubblewrap is required in CI (the coding example's local sandbox)")
        pytest.skip("bubblewrap is not installed")


def test_the_coding_agent_uses_bash_and_the_text_editor_on_claude(tmp_path: Path) -> None:
    from tests.emulators.anthropic import AnthropicEmulator, AnthropicReply

    def use(name: str, data: dict[str, object], n: int) -> dict[str, object]:
        return {"type": "tool_use", "id": f"toolu_{n}", "name": name, "input": data}

    editor = "str_replace_based_edit_tool"
    with AnthropicEmulator() as server:
        server.queue(
            AnthropicReply(content=[
                use(editor, {"command": "create", "path": "calc.py", "file_text": CALC_BUG}, 1),
                use(editor, {"command": "create", "path": "test_calc.py", "file_text": CALC_TEST}, 2),
            ]),
            AnthropicReply(content=[use("bash", {"command": "python3 -m unittest -q"}, 3)]),
            AnthropicReply(content=[
                use(editor, {"command": "str_replace", "path": "calc.py", "old_str": "a - b", "new_str": "a + b"}, 4),
            ]),
            AnthropicReply(content=[use("bash", {"command": "python3 -m unittest -q 2>&1 | tail -1"}, 5)]),
            Reply(text="calc.py adds; its test passes."),
        )  # fmt: skip
        proc = _coder(server.base_url, "anthropic:claude-sonnet-4-5", tmp_path)
        tools = server.requests[0].body["tools"]
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "calc.py adds; its test passes."
    assert {"type": "bash_20250124", "name": "bash"} in [
        {k: v for k, v in t.items() if k != "cache_control"} for t in tools
    ]
    assert "native bash" in proc.stderr and "native text_editor" in proc.stderr
    assert (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"


def test_the_coding_agent_uses_shell_and_apply_patch_on_gpt(tmp_path: Path) -> None:
    from tests.emulators.openai_responses import OpenAIResponsesEmulator

    (tmp_path / "calc.py").write_text(CALC_BUG)  # an existing project, copied in with --workspace
    with OpenAIResponsesEmulator() as server:
        test_file = "".join(f"+{line}\n" for line in CALC_TEST.splitlines())
        server.script_items(
            {
                "type": "apply_patch_call",
                "operation": {"type": "create_file", "path": "test_calc.py", "diff": test_file},
            }
        )
        server.script_items({"type": "shell_call", "action": {"commands": ["python3 -m unittest -q"]}})
        server.script_items(
            {
                "type": "apply_patch_call",
                "operation": {
                    "type": "update_file",
                    "path": "calc.py",
                    "diff": "@@ def add(a, b):\n-    return a - b\n+    return a + b\n",
                },
            }
        )
        server.queue(Reply(), Reply(), Reply(), Reply(text="Fixed add()."))
        proc = _coder(server.base_url + "/v1", "openai:gpt-5.2", tmp_path)
        tools = server.requests[0].body["tools"]
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Fixed add()."
    assert {"type": "apply_patch"} in tools and not any(t.get("name") == "shell" for t in tools)
    assert "native apply_patch" in proc.stderr and "native shell" in proc.stderr
    assert (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert (tmp_path / "test_calc.py").read_text() == CALC_TEST
