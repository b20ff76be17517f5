"""examples/mcp: the Python example with a scripted model, and the YAML example through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import HOME, _need

ROOT = Path(__file__).resolve().parents[2]


def _servers() -> dict[str, str]:
    files = _need(HOME / "node_modules" / ".bin" / "mcp-server-filesystem", "@modelcontextprotocol/server-filesystem")
    clock = _need(HOME / "venv" / "bin" / "mcp-server-time", "mcp-server-time")
    return {"MCP_FILESYSTEM": str(files), "MCP_TIME": str(clock)}


def test_python_example_writes_its_note(tmp_path: Path) -> None:
    _servers()
    proc = subprocess.run(
        [sys.executable, "examples/mcp/agent.py", str(tmp_path), "--scripted", "--yes"],
        cwd=ROOT, env={**os.environ, "AGENTCORE_MCP_SERVERS": str(HOME)},
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "note.txt").read_text() == "Written by an agentcore agent through MCP.\n"
    assert proc.stdout.strip() == "I wrote note.txt."


def test_yaml_example_lists_its_servers_tools() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "agentcore.cli", "mcp", "list", "examples/mcp/agent.yaml", "--json"],
        cwd=ROOT, env={**os.environ, **_servers()}, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    files = {t["name"]: t for t in report["files"]["tools"]}
    assert files["files__write_file"]["needs_approval"] and not files["files__read_text_file"]["needs_approval"]
    assert {t["name"] for t in report["time"]["tools"]} == {"time__get_current_time", "time__convert_time"}
