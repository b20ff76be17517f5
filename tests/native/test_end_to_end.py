"""End to end: a scripted model builds and fixes a small Python project in a real local sandbox and runs its
tests — through the native tools' function-tool fallbacks, as native calls (``execute_native``), and per
vendor through its adapter and emulator (OpenAI Responses: ``shell`` + ``apply_patch``; Anthropic: ``bash`` +
the text editor; Gemini and Chat Completions take the function tools) — and ``native_tools="off"`` leaves the
same workspace."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentcore import Agent
from agentcore.messages import ToolResult
from agentcore.run.runner import Runner
from agentcore.sandboxes.base import Sandbox
from agentcore.sandboxes.native import FUNCTION_NAMES, NativeToolKind, execute_native, native_function_tools
from agentcore.testing import ScriptedModel, tool_call

from .conftest import require
from .test_apply_patch_table import CALC

TESTS = """\
import unittest

from calc import add, sub


class CalcTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 3), 5)

    def test_sub(self):
        self.assertEqual(sub(5, 3), 2)


if __name__ == "__main__":
    unittest.main()
"""


def _plus(text: str) -> str:
    return "".join(f"+{line}\n" for line in text.splitlines())


CALLS: list[tuple[NativeToolKind, dict[str, Any]]] = [
    ("apply_patch", {"type": "create_file", "path": "calc/calc.py", "diff": _plus(CALC)}),
    ("apply_patch", {"type": "create_file", "path": "calc/test_calc.py", "diff": _plus(TESTS)}),
    ("shell", {"commands": ["cd calc", "python3 -m unittest -q"], "timeout_ms": 60_000}),
    # a patch whose context is wrong: it fails and changes nothing
    ("apply_patch", {"type": "update_file", "path": "calc/calc.py", "diff": "@@\n def add(a, b):\n-    return a + c\n+    return a + b\n"}),
    ("text_editor", {"command": "view", "path": "calc/calc.py", "view_range": [1, 2]}),
    ("apply_patch", {"type": "update_file", "path": "calc/calc.py", "diff": "@@ def add(a, b):\n-    return a - b\n+    return a + b\n"}),
    ("text_editor", {"command": "insert", "path": "calc/calc.py", "insert_line": 0, "insert_text": '"""A tiny calculator."""\n\n\n'}),
    ("apply_patch", {"type": "update_file", "path": "calc/test_calc.py", "diff": (
        "@@\n-from calc import add, sub\n+from calc import add, mul, sub\n"
        "@@     def test_sub(self):\n         self.assertEqual(sub(5, 3), 2)\n+\n+    def test_mul(self):\n+        self.assertEqual(mul(4, 3), 12)\n"
    )}),
    ("bash", {"command": "cd /workspace/calc && python3 -m unittest -v 2>&1 | tail -4"}),
    ("shell", {"commands": ["python3 -m unittest -q 2>&1 | tail -1"]}),
]  # fmt: skip


async def snapshot(sandbox: Sandbox, path: str = ".") -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for entry in await sandbox.list_dir(path):
        rel = entry.name if path == "." else f"{path}/{entry.name}"
        if entry.type == "dir":
            files.update(await snapshot(sandbox, rel))
        elif entry.type == "file":
            files[rel] = await sandbox.read_file(rel)
    return files


async def test_a_scripted_model_builds_and_fixes_a_project_with_the_fallback_tools(sandbox: Sandbox) -> None:
    tools = native_function_tools(sandbox, ("shell", "apply_patch", "text_editor", "bash"))
    assert [t.name for t in tools] == ["shell", "apply_patch", "str_replace_based_edit_tool", "bash"]
    model = ScriptedModel([*(tool_call(FUNCTION_NAMES[k], a) for k, a in CALLS), "done"])
    agent = Agent(name="coder", model=model, tools=tools)
    result = await Runner.run(agent, "build a calculator and make its tests pass")
    assert result.final_output == "done"
    outs = [item for item in result.new_items if isinstance(item, ToolResult)]
    assert len(outs) == len(CALLS)
    first_run = outs[2]
    assert not first_run.is_error and "$ python3 -m unittest -q" in first_run.output
    assert "FAILED (failures=1)" in first_run.output and "[exit code 1]" in first_run.output
    failed_patch = outs[3]
    assert (
        failed_patch.is_error
        and "did not apply" in failed_patch.output
        and "Nothing was changed." in failed_patch.output
    )
    assert outs[4].output == "1: def add(a, b):\n2:     return a - b"
    assert not any(o.is_error for o in outs[5:])
    assert outs[7].output == "Updated calc/test_calc.py (2 hunks)"
    assert "Ran 3 tests" in outs[8].output and outs[8].output.rstrip().endswith("OK")
    # the shell and bash share the persistent shell: the last call runs where `cd` left it
    assert outs[9].output.startswith("$ python3 -m unittest -q 2>&1 | tail -1\nOK\n")

    calc = (await sandbox.read_file("calc/calc.py")).decode()
    assert calc.startswith('"""A tiny calculator."""\n\n\ndef add(a, b):\n    return a + b\n')


async def test_the_fixed_project_passes_and_native_calls_leave_the_same_workspace(sandbox: Sandbox) -> None:
    fix = ("apply_patch", {"type": "update_file", "path": "calc/calc.py", "diff": (
        "@@ def mul(a, b):\n     return a * b\n+\n+\n+def div(a, b):\n+    return a / b\n*** End of File\n"
    )})  # fmt: skip
    run_tests: tuple[NativeToolKind, dict[str, Any]] = (
        "shell",
        {"commands": ["cd /workspace/calc && python3 -m unittest -q"], "timeout_ms": 60_000},
    )
    calls = [*CALLS, fix, run_tests]
    model = ScriptedModel([*(tool_call(FUNCTION_NAMES[k], a) for k, a in calls), "done"])
    tools = native_function_tools(sandbox, ("shell", "apply_patch", "text_editor", "bash"))
    result = await Runner.run(Agent(name="coder", model=model, tools=tools), "go")
    outs = [item for item in result.new_items if isinstance(item, ToolResult)]
    last = outs[-1]
    assert "Ran 3 tests" in last.output and "OK" in last.output and "[exit code 0]" in last.output
    via_functions = await snapshot(sandbox)

    other = await require("local").factory(sandbox.config)
    await other.start()
    try:
        native = [await execute_native(kind, other, data) for kind, data in calls]
        assert native[-1].payload["output"][-1]["outcome"] == {"type": "exit", "exit_code": 0}
        assert [r.is_error for r in native] == [o.is_error for o in outs]
        via_native = await snapshot(other)
    finally:
        await other.close()
    assert via_native == via_functions
    assert set(via_functions) == {"calc/calc.py", "calc/test_calc.py"}


async def test_a_dead_sandbox_is_a_tool_error_not_a_crash(sandbox: Sandbox) -> None:
    tools = native_function_tools(sandbox, ("shell", "text_editor"))
    model = ScriptedModel(
        [
            tool_call("shell", {"commands": ["echo hi"]}),
            tool_call("str_replace_based_edit_tool", {"command": "view", "path": "."}),
            "done",
        ]
    )
    await sandbox.close()
    result = await Runner.run(Agent(name="coder", model=model, tools=tools), "go")
    outs = [item for item in result.new_items if isinstance(item, ToolResult)]
    assert [o.is_error for o in outs] == [True, True]
    assert outs[0].output.startswith("shell failed:")
    assert result.final_output == "done"


# --------------------------------------------------------------------------- per vendor, through its adapter

PROJECT_TEST = TESTS
BUGGY = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"
RUN_TESTS = "cd /workspace && python3 -m unittest -q 2>&1 | tail -1"


def _openai_script(emu: Any, native: bool) -> None:
    from tests.emulators.base import Reply, ToolCallReply

    if native:  # shell_call / apply_patch_call items, as gpt-5.x sends them
        emu.script_items(
            {
                "type": "apply_patch_call",
                "operation": {"type": "create_file", "path": "calc.py", "diff": _plus(BUGGY)},
            }
        )
        emu.script_items(
            {
                "type": "apply_patch_call",
                "operation": {"type": "create_file", "path": "test_calc.py", "diff": _plus(PROJECT_TEST)},
            }
        )
        emu.script_items({"type": "shell_call", "action": {"commands": [RUN_TESTS]}})
        emu.script_items(
            {
                "type": "apply_patch_call",
                "operation": {
                    "type": "update_file",
                    "path": "calc.py",
                    "diff": "@@ def add(a, b):\n-    return a - b\n+    return a + b\n",
                },
            }
        )
        emu.script_items({"type": "shell_call", "action": {"commands": [RUN_TESTS]}})
        emu.queue(*(Reply() for _ in range(5)), Reply(text="fixed"))
        return
    emu.queue(
        Reply(tool_calls=[ToolCallReply("write_file", {"path": "calc.py", "content": BUGGY}, "call_1")]),
        Reply(
            tool_calls=[
                ToolCallReply("write_file", {"path": "test_calc.py", "content": PROJECT_TEST}, "call_2")
            ]
        ),
        Reply(tool_calls=[ToolCallReply("shell", {"command": RUN_TESTS}, "call_3")]),
        Reply(
            tool_calls=[
                ToolCallReply(
                    "edit_file",
                    {
                        "path": "calc.py",
                        "old": "return a - b\n\n\ndef sub",
                        "new": "return a + b\n\n\ndef sub",
                    },
                    "call_4",
                )
            ]
        ),
        Reply(tool_calls=[ToolCallReply("shell", {"command": RUN_TESTS}, "call_5")]),
        Reply(text="fixed"),
    )


def _anthropic_script(emu: Any, native: bool) -> None:
    from tests.emulators.anthropic import AnthropicReply
    from tests.emulators.base import Reply

    if not native:
        _openai_script(emu, native)
        return

    def use(name: str, data: dict[str, Any], n: int) -> AnthropicReply:
        return AnthropicReply(content=[{"type": "tool_use", "id": f"toolu_{n}", "name": name, "input": data}])

    editor = "str_replace_based_edit_tool"
    emu.queue(
        use(editor, {"command": "create", "path": "calc.py", "file_text": BUGGY}, 1),
        use(editor, {"command": "create", "path": "test_calc.py", "file_text": PROJECT_TEST}, 2),
        use("bash", {"command": RUN_TESTS}, 3),
        use(editor, {"command": "str_replace", "path": "calc.py", "old_str": "return a - b\n\n\ndef sub", "new_str": "return a + b\n\n\ndef sub"}, 4),
        use("bash", {"command": RUN_TESTS}, 5),
        Reply(text="fixed"),
    )  # fmt: skip


async def _vendor_run(
    vendor: str, native_tools: str
) -> tuple[dict[str, bytes], list[ToolResult], list[dict[str, Any]]]:
    from agentcore.providers.anthropic.model import AnthropicModel
    from agentcore.providers.gemini.generate_content import GeminiModel
    from agentcore.providers.openai.chat import OpenAIChatModel
    from agentcore.providers.openai.responses import OpenAIResponsesModel
    from tests.emulators.anthropic import AnthropicEmulator
    from tests.emulators.gemini import MODEL as GEMINI
    from tests.emulators.gemini import GeminiEmulator
    from tests.emulators.openai_chat import ChatCompletionsEmulator
    from tests.emulators.openai_responses import OpenAIResponsesEmulator
    from tests.sandboxes.backends import sandbox_config

    sandbox = await require("local").factory(sandbox_config(labels={"agentcore.test": "native"}))
    emu: Any = {
        "openai": OpenAIResponsesEmulator,
        "anthropic": AnthropicEmulator,
        "google": GeminiEmulator,
        "openai-chat": ChatCompletionsEmulator,
    }[vendor]()
    with emu:
        if vendor == "openai":
            _openai_script(emu, native_tools == "auto")
            model: Any = OpenAIResponsesModel("gpt-5.2", base_url=emu.base_url + "/v1", api_key="test-key")
        elif vendor == "anthropic":
            _anthropic_script(emu, native_tools == "auto")
            model = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="test-key")
        else:  # no native tools: the function tools either way
            _openai_script(emu, False)
            model = (
                GeminiModel(GEMINI, base_url=emu.base_url, api_key="test-key")
                if vendor == "google"
                else OpenAIChatModel("llama3", base_url=emu.base_url + "/v1", api_key="test-key")
            )
        await sandbox.start()
        try:
            agent = Agent(name="coder", model=model, sandbox=sandbox, native_tools=native_tools)  # type: ignore[arg-type]
            result = await Runner.run(agent, "write calc.py and its tests, make them pass")
            assert result.final_output == "fixed"
            files = {k: v for k, v in (await snapshot(sandbox)).items() if "__pycache__" not in k}
        finally:
            await sandbox.close()
        tools: list[dict[str, Any]] = emu.requests[0].body.get("tools") or []
    outs = [i for i in result.new_items if isinstance(i, ToolResult)]
    return files, outs, tools


@pytest.mark.parametrize("vendor", ["openai", "anthropic", "google", "openai-chat"])
async def test_a_vendor_model_builds_and_fixes_a_project_with_native_tools_and_without(vendor: str) -> None:
    native, native_outs, native_decl = await _vendor_run(vendor, "auto")
    plain, plain_outs, plain_decl = await _vendor_run(vendor, "off")
    # the model saw its native tools, or only function tools
    if vendor in ("openai", "anthropic"):
        kinds = {t.get("type", "function") for t in native_decl}
        wanted = {"shell", "apply_patch"} if vendor == "openai" else {"bash_20250124", "text_editor_20250728"}
        assert kinds >= wanted
        assert all(t.get("type", "function") == "function" for t in plain_decl)
    else:  # Gemini and Chat Completions: the function tools whatever native_tools says
        assert native_decl == plain_decl and "shell" in json.dumps(native_decl)
    # the tests failed before the fix and pass after it, either way
    for outs in (native_outs, plain_outs):
        assert "FAILED (failures=1)" in outs[2].output and "OK" in outs[4].output
        assert not any(o.is_error for o in outs)
    assert native == plain  # the same workspace
    assert native["calc.py"].decode().startswith("def add(a, b):\n    return a + b\n")
    assert set(native) == {"calc.py", "test_calc.py"}
