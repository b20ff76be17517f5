"""examples/durable: the fleet script against a local OpenAI-compatible server and a real Postgres."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

from tests.durable.fleet import ROOT
from tests.emulators.base import HTTPReply, RecordedRequest, Reply, ToolCallReply
from tests.emulators.openai_chat import ChatCompletionsEmulator, ChatQuirks


class Clerk(ChatCompletionsEmulator):
    """Files the conversation's ticket, then says so."""

    def __init__(self) -> None:
        super().__init__(ChatQuirks(api_key=None))
        self._script = threading.Lock()

    def _handle(self, request: RecordedRequest) -> HTTPReply:
        messages = request.body.get("messages", []) if isinstance(request.body, dict) else []
        user = " ".join(str(m.get("content")) for m in messages if m.get("role") == "user")
        found = re.search(r"Ticket (\d+)", user)
        number = int(found.group(1)) if found else -1
        with self._script:
            if any(m.get("role") == "tool" for m in messages):
                self.queue(Reply(text=f"filed {number}"))
            else:
                self.queue(
                    Reply(tool_calls=[ToolCallReply("file_ticket", {"ticket": number, "summary": "jammed"})])
                )
            return super()._handle(request)


def test_run_fleet_files_every_ticket_once(pg_dsn: str, tmp_path: Path) -> None:
    tickets = tmp_path / "tickets.jsonl"
    with Clerk() as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTCORE_", "OTEL_"))}
        env.update(AGENTCORE_HOME=str(tmp_path / "home"), TICKETS_FILE=str(tickets), PYTHONPATH=str(ROOT))
        args = ["--dsn", pg_dsn, "--base-url", server.base_url + "/v1", "--workers", "2", "--runs", "10"]
        proc = subprocess.run(
            [sys.executable, "examples/durable/run_fleet.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    answers = sorted(int(line.split()[2]) for line in proc.stdout.splitlines() if line.split()[1] == "filed")
    assert answers == list(range(10)), proc.stdout
    filed = sorted(json.loads(line)["ticket"] for line in tickets.read_text().splitlines())
    assert filed == list(range(10))
