"""The ``agentcore`` command: validate, schema, run (progress, summary, --json, sessions), trace, exit codes.

Runs go to real provider adapters over HTTP: the Chat Completions emulator on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agentcore.cli.main import EXIT_CODES, main
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_chat import ChatCompletionsEmulator, ChatQuirks

ROOT = Path(__file__).resolve().parents[2]
PKG = "tests.surfaces.fixtures_pkg"


@pytest.fixture
def llm() -> Iterator[ChatCompletionsEmulator]:
    with ChatCompletionsEmulator(ChatQuirks(api_key=None)) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def agent_file(write: Callable[..., Path], llm: ChatCompletionsEmulator) -> Path:
    return write(
        "support.yaml",
        f"""
        version: 1
        defaults:
          retry: {{max_attempts: 1}}
        models:
          local:
            provider: openai-chat
            model: llama3
            base_url: {llm.base_url}/v1
            pricing: {{input_per_mtok: 2.0, output_per_mtok: 8.0}}
        agents:
          support:
            model: local
            instructions: 'Answer briefly. Use JSON like {{"id": 1}} when asked.'
            tools: ["{PKG}:lookup_order", {{ref: "{PKG}:lookup_order", name: cancel_order, needs_approval: true}}]
            guardrails:
              - {{type: function, ref: "{PKG}:block_secrets", stage: input}}
    """,
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_ok_and_with_a_typo(capsys: pytest.CaptureFixture[str], write: Callable[..., Path]) -> None:
    good = write("good.yaml", "version: 1\nagents:\n  a: {model: 'openai:gpt-5'}\n")
    code, out, _ = run(capsys, "validate", str(good))
    assert code == 0 and "ok · 1 agent (a) · entry a" in out
    bad = write("bad.yaml", "version: 1\nagents:\n  a:\n    model: 'openai:gpt-5'\n    max_turn: 3\n")
    code, out, err = run(capsys, "validate", str(bad), "--no-color")
    assert code == 3 and out == ""
    assert f"{bad}:5:5: error: agents.a.max_turn: unknown field 'max_turn' (did you mean 'max_turns'?)" in err
    assert err.rstrip().endswith("1 error")


def test_schema_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    schema = json.loads(out)
    assert code == 0 and schema["title"] == "agentcore agent definition" and "AgentSpec" in schema["$defs"]


def test_run_shows_progress_output_and_a_summary(
    capsys: pytest.CaptureFixture[str], agent_file: Path, llm: ChatCompletionsEmulator
) -> None:
    llm.queue(
        Reply(
            tool_calls=[ToolCallReply("lookup_order", {"order_id": "A1"})], input_tokens=100, output_tokens=10
        ),
        Reply(text="Order A1 has shipped.", input_tokens=150, output_tokens=20),
    )
    code, out, err = run(capsys, "run", str(agent_file), "Where is A1?", "--allow", PKG, "--no-color")
    assert code == 0
    assert out == "Order A1 has shipped.\n"
    assert "▶ agent support" in err
    assert '⚙ lookup_order {"order_id": "A1"}' in err and "✓ lookup_order → order A1: shipped" in err
    assert "· turn 1 · tokens 100 in / 10 out" in err
    summary = next(line for line in err.splitlines() if line.startswith("✔ done"))
    assert "agent support · 2 turns · 280 tokens (250 in / 30 out) · $0.000740 ·" in summary
    assert "trace " in summary


def test_run_json_for_scripts(
    capsys: pytest.CaptureFixture[str], agent_file: Path, llm: ChatCompletionsEmulator
) -> None:
    llm.queue(Reply(text="Hi!", input_tokens=10, output_tokens=2))
    code, out, _ = run(capsys, "run", str(agent_file), "hello", "--json", "--allow", PKG)
    data = json.loads(out)
    assert code == 0 and data["exit_code"] == 0 and data["output"] == "Hi!" and data["error"] is None
    assert data["status"] == "done" and data["turns"] == 1 and data["usage"]["input_tokens"] == 10
    assert len(data["trace_id"]) == 32 and data["cost_usd"] == pytest.approx(0.000036)


def test_a_session_continues_the_conversation(
    capsys: pytest.CaptureFixture[str], agent_file: Path, llm: ChatCompletionsEmulator
) -> None:
    llm.queue(Reply(text="Nice to meet you, Ada."), Reply(text="Your name is Ada."))
    assert run(capsys, "run", str(agent_file), "I am Ada", "--session", "s1", "--allow", PKG)[0] == 0
    code, out, err = run(capsys, "run", str(agent_file), "Who am I?", "--session", "s1", "--allow", PKG)
    assert code == 0 and out == "Your name is Ada.\n" and "continue: --session s1" in err
    sent = [m.get("content") for m in llm.last_body["messages"]]
    assert "I am Ada" in sent and "Nice to meet you, Ada." in sent and sent[-1] == "Who am I?"
    code, out, _ = run(capsys, "sessions", "list")
    assert code == 0 and out.startswith("s1 ") and "4 items" in out
    code, out, _ = run(capsys, "sessions", "show", "s1")
    assert "user: I am Ada" in out and "support: Your name is Ada." in out
    assert json.loads(run(capsys, "sessions", "show", "s1", "--json")[1])["active_agent"] == "support"
    assert run(capsys, "sessions", "delete", "s1")[0] == 0
    assert run(capsys, "sessions", "show", "s1")[0] == 1


def test_trace_list_and_show_after_a_run(
    capsys: pytest.CaptureFixture[str], agent_file: Path, llm: ChatCompletionsEmulator
) -> None:
    llm.queue(Reply(tool_calls=[ToolCallReply("lookup_order", {"order_id": "B2"})]), Reply(text="Shipped."))
    _, out, _ = run(capsys, "run", str(agent_file), "Where is B2?", "--json", "--allow", PKG)
    trace_id = json.loads(out)["trace_id"]
    code, out, _ = run(capsys, "trace", "list")
    assert code == 0 and out.startswith(trace_id[:12]) and "agentcore run support  'Where is B2?'" in out
    code, out, _ = run(capsys, "trace", "show", trace_id[:10], "--no-color")
    assert code == 0 and out.startswith(f"trace {trace_id}\nagentcore run support")
    assert "invoke_agent support" in out and "chat llama3" in out and "execute_tool lookup_order" in out
    assert 'args={"order_id": "B2"}  result=order B2: shipped' in out
    assert run(capsys, "trace", "show", "ffff")[0] == 1


def test_approvals_are_rejected_without_a_human_and_granted_with_yes(
    capsys: pytest.CaptureFixture[str], agent_file: Path, llm: ChatCompletionsEmulator
) -> None:
    llm.queue(
        Reply(tool_calls=[ToolCallReply("cancel_order", {"order_id": "C3"})]), Reply(text="Not cancelled.")
    )
    code, _, err = run(capsys, "run", str(agent_file), "cancel C3", "--allow", PKG, "--no-color")
    assert code == 0 and "✗ rejected cancel_order" in err
    sent = json.dumps(llm.last_body["messages"])
    assert "the user rejected this call: nobody was there to approve it" in sent
    llm.queue(Reply(tool_calls=[ToolCallReply("cancel_order", {"order_id": "C3"})]), Reply(text="Cancelled."))
    code, out, err = run(capsys, "run", str(agent_file), "cancel C3", "--allow", PKG, "--yes", "--no-color")
    assert code == 0 and "✓ approved cancel_order" in err and out == "Cancelled.\n"
    assert "order C3: shipped" in json.dumps(llm.last_body["messages"])


def test_exit_codes_distinguish_how_a_run_ended(
    capsys: pytest.CaptureFixture[str],
    write: Callable[..., Path],
    agent_file: Path,
    llm: ChatCompletionsEmulator,
) -> None:
    # guardrail tripwire
    code, out, _ = run(capsys, "run", str(agent_file), "my password is hunter2", "--json", "--allow", PKG)
    assert code == 4 and json.loads(out)["error"]["type"] == "GuardrailTripwire"
    # max turns
    llm.queue(*[Reply(tool_calls=[ToolCallReply("lookup_order", {"order_id": "X"})]) for _ in range(3)])
    code, out, _ = run(capsys, "run", str(agent_file), "loop", "--max-turns", "2", "--json", "--allow", PKG)
    assert code == 6 and json.loads(out)["error"]["type"] == "MaxTurnsExceeded"
    # model/provider failure
    llm.queue(Reply(error=(400, "the request is malformed")))
    code, out, _ = run(capsys, "run", str(agent_file), "hi", "--json", "--allow", PKG)
    assert code == 7 and json.loads(out)["status"] == "failed"
    # verifier failure
    verified = write(
        "verified.yaml",
        f"""
        version: 1
        agents:
          a:
            model: openai-chat:llama3@{llm.base_url}/v1
            verify: [{{type: function, ref: "{PKG}:never_satisfied"}}]
            max_corrections: 1
    """,
    )
    llm.queue(Reply(text="done"), Reply(text="done again"), Reply(text="and again"))
    code, out, _ = run(capsys, "run", str(verified), "build it", "--json", "--allow", PKG)
    assert code == 5 and "tests failed" in json.loads(out)["error"]["message"]
    # configuration error: the module is not allowed
    code, _, err = run(capsys, "run", str(agent_file), "hi")
    assert code == 3 and "is not allowed" in err
    assert set(EXIT_CODES) >= {0, 3, 4, 5, 6, 7}


def test_model_override_and_base_url(
    capsys: pytest.CaptureFixture[str], write: Callable[..., Path], llm: ChatCompletionsEmulator
) -> None:
    path = write("o.yaml", "version: 1\nagents:\n  a: {model: 'anthropic:claude-sonnet-4-5'}\n")
    llm.queue(Reply(text="from the local server"))
    code, out, _ = run(
        capsys, "run", str(path), "hi", "--model", "openai-chat:qwen3", "--base-url", f"{llm.base_url}/v1"
    )
    assert code == 0 and out == "from the local server\n" and llm.last_body["model"] == "qwen3"


def test_the_console_script_in_a_subprocess(tmp_path: Path, llm: ChatCompletionsEmulator, home: Path) -> None:
    path = tmp_path / "hello.yaml"
    path.write_text(f"version: 1\nagents:\n  hello: {{model: 'openai-chat:llama3@{llm.base_url}/v1'}}\n")
    llm.queue(Reply(text="Hello from a subprocess."))
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")} | {"AGENTCORE_HOME": str(home)}
    agentcore = Path(sys.executable).parent / "agentcore"
    proc = subprocess.run(
        [str(agentcore), "run", str(path), "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello from a subprocess.\n" and "✔ done" in proc.stderr
    proc = subprocess.run(
        [str(agentcore), "trace", "show", "--no-color"], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0 and "invoke_agent hello" in proc.stdout


def test_interactive_chat_in_a_terminal(tmp_path: Path, llm: ChatCompletionsEmulator, home: Path) -> None:
    import pty

    path = tmp_path / "chat.yaml"
    path.write_text(f"version: 1\nagents:\n  buddy: {{model: 'openai-chat:llama3@{llm.base_url}/v1'}}\n")
    llm.queue(Reply(text="Hi Ada!"), Reply(text="You are Ada."))
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")} | {
        "AGENTCORE_HOME": str(home),
        "NO_COLOR": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentcore.cli", "run", str(path), "--session", "chat1"],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    os.close(secondary)
    os.write(primary, b"I am Ada\nWho am I?\n/exit\n")
    out, err = proc.communicate(timeout=60)
    os.close(primary)
    assert proc.returncode == 0, err.decode()
    assert out.decode().count("Hi Ada!") == 1 and "You are Ada." in out.decode()
    assert "session saved: agentcore run" in err.decode()
    sent = [m.get("content") for m in llm.last_body["messages"]]
    assert sent[-3:] == ["I am Ada", "Hi Ada!", "Who am I?"]


def test_no_input_is_a_usage_error_but_a_session_resumes(
    capsys: pytest.CaptureFixture[str],
    agent_file: Path,
    llm: ChatCompletionsEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run(capsys, "run", str(agent_file), "--allow", PKG)
    assert code == 2 and "no input" in err
    llm.queue(Reply(error=(500, "overloaded")))
    monkeypatch.setattr("sys.stdin", io.StringIO("Where is A1?"))
    code, _, _ = run(capsys, "run", str(agent_file), "--session", "r1", "--allow", PKG, "--quiet")
    assert code == 7  # the provider kept failing; the input was saved
    llm.queue(Reply(text="A1 has shipped."))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, _ = run(capsys, "run", str(agent_file), "--session", "r1", "--allow", PKG)
    assert code == 0 and out == "A1 has shipped.\n"
    assert [m.get("content") for m in llm.last_body["messages"]][-1] == "Where is A1?"
