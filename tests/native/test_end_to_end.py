"""End to end: a scripted model builds and fixes a small Python project in a real local sandbox through the
native tools' function-tool fallbacks, and runs its tests. The same calls sent as native calls
(``execute_native``, what the adapters will do) leave the same workspace."""

from __future__ import annotations

from typing import Any

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
