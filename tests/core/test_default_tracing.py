"""What a library run writes by default (issue 11, item 19): nothing, unless the user opts in.

Each test runs a fresh interpreter (the default is decided once per process) with its own data
directory, a prompt and a tool result that must never reach the disk unless content capture was asked for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SECRET_PROMPT = "prompt-7f3a9 please"
SECRET_TOOL_OUTPUT = "tool-output-c81d2"

_CODE = textwrap.dedent(f"""
    from agentcore import Agent, Runner, tool
    from agentcore.testing import ScriptedModel, tool_call
    from agentcore.tracing import store

    @tool
    def lookup() -> str:
        \"\"\"Look it up.\"\"\"
        return {SECRET_TOOL_OUTPUT!r}

    agent = Agent(name="quiet", model=ScriptedModel([tool_call("lookup"), "hi"]), tools=[lookup])
    r = Runner.run_sync(agent, {SECRET_PROMPT!r})
    installed = store._state.get("setup")
    if installed is not None:
        installed.flush()
    print(r.trace_id)
""")


def _run(home: Path, code: str = _CODE, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") and k != "AGENTCORE_TRACES"}
    environ.update({"AGENTCORE_HOME": str(home), **env})
    return subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=120
    )


def _everything_on_disk(home: Path) -> str:
    out = []
    for path in home.rglob("*"):
        if path.is_file():
            out.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def test_item19_library_default_writes_no_trace_and_no_content(tmp_path: Path) -> None:
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "None"  # no tracer provider was installed: no-op spans
    assert not (tmp_path / "traces").exists() or not list((tmp_path / "traces").glob("*.jsonl"))
    on_disk = _everything_on_disk(tmp_path)
    assert SECRET_PROMPT not in on_disk and SECRET_TOOL_OUTPUT not in on_disk


def test_item19_traces_on_writes_the_local_store_without_content(tmp_path: Path) -> None:
    proc = _run(tmp_path, AGENTCORE_TRACES="on")
    assert proc.returncode == 0, proc.stderr
    trace_id = proc.stdout.strip()
    assert len(trace_id) == 32
    stored = "".join(p.read_text() for p in (tmp_path / "traces").glob("*.jsonl"))
    assert trace_id in stored and "invoke_agent quiet" in stored and "execute_tool lookup" in stored
    assert SECRET_PROMPT not in stored and SECRET_TOOL_OUTPUT not in stored
    assert "gen_ai.input.messages" not in stored and "gen_ai.tool.call.result" not in stored


def test_item19_content_is_written_only_when_opted_in(tmp_path: Path) -> None:
    proc = _run(tmp_path, AGENTCORE_TRACES="content")
    assert proc.returncode == 0, proc.stderr
    stored = "".join(p.read_text() for p in (tmp_path / "traces").glob("*.jsonl"))
    assert SECRET_PROMPT in stored and SECRET_TOOL_OUTPUT in stored


def test_item19_an_explicit_setup_is_the_opt_in_the_cli_uses(tmp_path: Path) -> None:
    """``store.setup()`` (what ``agentcore run`` calls) records content; ``capture_content=False`` does not."""
    for capture, expect in ((True, True), (False, False)):
        home = tmp_path / str(capture)
        code = _CODE.replace(
            "agent = Agent(", f"setup = store.setup(capture_content={capture})\nagent = Agent(", 1
        )
        proc = _run(home, code)
        assert proc.returncode == 0, proc.stderr
        stored = "".join(p.read_text() for p in (home / "traces").glob("*.jsonl"))
        assert "invoke_agent quiet" in stored
        assert (SECRET_PROMPT in stored) is expect and (SECRET_TOOL_OUTPUT in stored) is expect


def test_the_local_store_can_be_turned_off(tmp_path: Path) -> None:
    proc = _run(tmp_path, AGENTCORE_TRACES="off")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "None"
    assert not (tmp_path / "traces").exists() or not list((tmp_path / "traces").glob("*.jsonl"))
