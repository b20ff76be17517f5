"""The UI server without a browser: access rules, the OTLP receiver's answers, the incremental index,
the conversation rebuilt from full transcripts, and the ``agentcore ui`` command itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from agentcore.ui.conversation import conversation
from agentcore.ui.index import TraceIndex
from agentcore.ui.otlp import OTLPDecodeError, spans_from_protobuf
from agentcore.ui.server import UIError, create_app

from .conftest import ROOT


def fetch(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data, headers or {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, Answer(response.headers, response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, Answer(exc.headers, exc.read())


class Answer:
    def __init__(self, headers: Any, body: bytes) -> None:
        self.headers, self.body = headers, body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def test_beyond_loopback_a_token_is_required(home: Path, serve: Any) -> None:
    with pytest.raises(UIError):
        create_app(home=home, loopback=False)
    ui = serve(token="s3cret-token", loopback=False)
    assert fetch(ui.url + "/api/runs")[0] == 401
    assert fetch(ui.url + "/", headers={"Authorization": "Bearer wrong"})[0] == 401
    assert fetch(ui.url + "/api/runs", headers={"Authorization": "Bearer s3cret-token"})[0] == 200
    status, response = fetch(ui.url + "/?token=s3cret-token")
    assert status == 303 and "agentcore_ui_token=s3cret-token" in response.headers["set-cookie"]
    assert fetch(ui.url + "/api/runs", headers={"Cookie": "agentcore_ui_token=s3cret-token"})[0] == 200
    body = json.dumps({"resourceSpans": []}).encode()
    headers = {"Content-Type": "application/json"}
    assert fetch(ui.url + "/v1/traces", data=body, headers=headers)[0] == 401
    headers["Authorization"] = "Bearer s3cret-token"
    assert fetch(ui.url + "/v1/traces", data=body, headers=headers)[0] == 200


def test_on_loopback_other_host_names_are_refused(serve: Any) -> None:
    ui = serve()
    assert fetch(ui.url + "/api/runs")[0] == 200
    assert fetch(ui.url + "/api/runs", headers={"Host": "attacker.example"})[0] == 400  # DNS rebinding


def test_the_otlp_receiver_refuses_what_it_cannot_read(serve: Any) -> None:
    ui = serve()
    url = ui.url + "/v1/traces"
    assert fetch(url, data=b"\xff\xff\xff", headers={"Content-Type": "application/x-protobuf"})[0] == 400
    assert fetch(url, data=b"{not json", headers={"Content-Type": "application/json"})[0] == 400
    bad_ids = {"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x", "traceId": "zz"}]}]}]}
    assert (
        fetch(url, data=json.dumps(bad_ids).encode(), headers={"Content-Type": "application/json"})[0] == 400
    )
    assert fetch(url, data=b"x", headers={"Content-Type": "text/plain"})[0] == 415
    with pytest.raises(OTLPDecodeError):
        spans_from_protobuf(b"\x0a\xff")


def _line(span_id: str, parent: str | None, name: str, start: int, **attrs: Any) -> str:
    return json.dumps(
        {
            "trace_id": "ab" * 16,
            "span_id": span_id,
            "parent_id": parent,
            "name": name,
            "start": start,
            "end": start + 10,
            "status": "UNSET",
            "attributes": attrs,
        }
    )


def test_the_index_reads_only_what_was_appended(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    file = traces / "2026-01-01.jsonl"
    chat = _line(
        "1" * 16, "2" * 16, "chat m", 5, **{"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 7}
    )
    root = _line(
        "2" * 16,
        None,
        "invoke_agent a",
        1,
        **{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "a"},
    )
    file.write_text(chat + "\n" + root[:20])  # a writer is in the middle of the root's line
    index = TraceIndex(tmp_path / "index.db", [traces])
    assert index.refresh() == 1
    total, [run] = index.runs()
    assert total == 1 and run.status == "running" and run.input_tokens == 7  # no root yet
    with file.open("a") as fh:
        fh.write(root[20:] + "\n")
    assert index.refresh() == 1 and index.refresh() == 0
    _, [run] = index.runs()
    assert run.status == "ok" and run.agent == "a" and run.spans == 2
    index.close()
    again = TraceIndex(tmp_path / "index.db", [traces])  # reopened: nothing is read twice
    assert again.refresh() == 0 and again.runs()[0] == 1
    file.unlink()  # the store pruned the day's file: its runs leave the index
    again.refresh()
    assert again.runs()[0] == 0 and again.run("ab" * 16) is None
    again.close()


def test_a_conversation_of_full_transcripts_is_shown_once() -> None:
    user = {"role": "user", "parts": [{"type": "text", "content": "hi"}]}
    call = {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "f", "arguments": {}}]}
    result = {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "42"}]}
    answer = {"role": "assistant", "parts": [{"type": "text", "content": "42 it is"}]}

    def chat(start: int, inputs: list[Any], outputs: list[Any]) -> dict[str, Any]:
        return {
            "span_id": str(start),
            "start": start,
            "attributes": {
                "gen_ai.operation.name": "chat",
                "gen_ai.input.messages": json.dumps(inputs),
                "gen_ai.output.messages": json.dumps(outputs),
                "gen_ai.system_instructions": "Be brief.",
            },
        }

    messages = conversation([chat(2, [user, call, result], [answer]), chat(1, [user], [call])])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert messages[-1]["parts"][0]["content"] == "42 it is"


def test_the_agentcore_ui_command_serves(home: Path) -> None:
    env = {**os.environ, "AGENTCORE_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "agentcore.cli", "ui", "--port", "0"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith("agentcore ui: http://127.0.0.1:"), line
        url = line.split()[2]
        status, response = fetch(url)
        assert status == 200 and "<title>agentcore" in response.body.decode()
        assert fetch(url + "api/runs")[0] == 200
    finally:
        process.terminate()
        process.wait(30)
