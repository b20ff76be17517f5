"""Without any setup, a library run's spans land in the local trace store (readable by `agentcore trace`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def _run(home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent("""
        from agentcore import Agent, Runner
        from agentcore.testing import ScriptedModel
        r = Runner.run_sync(Agent(name="quiet", model=ScriptedModel(["hi"])), "hello")
        from agentcore import trace_store
        trace_store.setup().flush()
        print(r.trace_id)
    """)
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    environ.update({"AGENTCORE_HOME": str(home), **env})
    environ.pop("AGENTCORE_TRACES", None)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60
    )


def test_spans_go_to_the_local_store_by_default(tmp_path: Path) -> None:
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    trace_id = proc.stdout.strip()
    assert len(trace_id) == 32
    stored = "".join(p.read_text() for p in (tmp_path / "traces").glob("*.jsonl"))
    assert trace_id in stored and "invoke_agent quiet" in stored
    assert '"hello"' in stored or "hello" in stored  # content is captured locally (never for exporters)


def test_the_local_store_can_be_turned_off(tmp_path: Path) -> None:
    proc = _run(tmp_path, AGENTCORE_TRACES="off")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "None"
    assert not list((tmp_path / "traces").glob("*.jsonl")) if (tmp_path / "traces").exists() else True
