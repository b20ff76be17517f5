"""The shipped examples run end to end: real adapters against the Chat Completions emulator, real sandboxes.

Each example is run with ``--model``/``--base-url`` pointing at the emulator, which plays the model.
The sandbox examples use the local (bubblewrap) backend; in CI a missing bubblewrap fails them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentcore.cli.main import main
from agentcore.sessions.sqlite import load_session
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_chat import ChatCompletionsEmulator, ChatQuirks

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def llm() -> Iterator[ChatCompletionsEmulator]:
    with ChatCompletionsEmulator(ChatQuirks(api_key=None)) as server:
        yield server  # type: ignore[misc]


def needs_bwrap() -> None:
    if shutil.which("bwrap") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("bubblewrap is required in CI")
        pytest.skip("bubblewrap is not installed")


def run(
    capsys: pytest.CaptureFixture[str], llm: ChatCompletionsEmulator, example: str, *argv: str
) -> tuple[int, str, str]:
    code = main(
        [
            "run",
            str(EXAMPLES / example),
            *argv,
            "--model",
            "openai-chat:llama3",
            "--base-url",
            f"{llm.base_url}/v1",
            "--no-color",
        ]
    )
    out, err = capsys.readouterr()
    return code, out, err


def call(name: str, **arguments: object) -> Reply:
    return Reply(tool_calls=[ToolCallReply(name, dict(arguments))])


PROGRAM_BUGGY = "def top_words(text, n=3):\n    return sorted(text.split())[:n]\n"
PROGRAM_FIXED = (
    "from collections import Counter\n\n\n"
    "def top_words(text, n=3):\n    return [w for w, _ in Counter(text.lower().split()).most_common(n)]\n"
)
TESTS = (
    "import unittest\nfrom wordfreq import top_words\n\n\n"
    "class T(unittest.TestCase):\n    def test_top(self):\n"
    "        self.assertEqual(top_words('b a b c b a'), ['b', 'a', 'c'])\n"
)


def test_coding_agent_builds_tests_and_is_verified_in_the_sandbox(
    capsys: pytest.CaptureFixture[str], llm: ChatCompletionsEmulator
) -> None:
    needs_bwrap()
    llm.queue(
        call("write_file", path="wordfreq.py", content=PROGRAM_BUGGY),
        call("write_file", path="test_wordfreq.py", content=TESTS),
        Reply(text="Done: wordfreq.py and its tests."),  # claims success; the verifier disagrees
        call("edit_file", path="wordfreq.py", old=PROGRAM_BUGGY, new=PROGRAM_FIXED),
        call("shell", command="python3 -m unittest -q"),
        Reply(text="Fixed: tests pass."),
    )
    code, out, err = run(capsys, llm, "coding/agent.yaml", "Write wordfreq.py with tests")
    assert code == 0, err
    assert out == "Fixed: tests pass.\n"
    assert "⚠ python3 -m unittest -q: $ python3 -m unittest -q [exit 1]" in err  # the verifier's feedback
    assert "⚙ shell $ python3 -m unittest -q" in err and "│ OK" in err  # live shell output
    feedback = json.dumps(llm.requests[3].body["messages"])
    assert "FAILED" in feedback or "AssertionError" in feedback


def test_triage_hands_off_and_the_session_remembers_the_specialist(
    capsys: pytest.CaptureFixture[str], llm: ChatCompletionsEmulator
) -> None:
    llm.queue(call("transfer_to_billing", reason="refund"), Reply(text="Your refund of 120 USD is approved."))
    code, out, err = run(
        capsys, llm, "triage/agent.yaml", "I want a refund of 120 USD", "--session", "cust-1"
    )
    assert code == 0, err
    assert "↪ handoff triage → billing" in err and out == "Your refund of 120 USD is approved.\n"
    assert "Refunds up to 500 USD" in llm.last_body["messages"][0]["content"]  # ${REFUND_LIMIT:-500}
    snapshot = load_session("cust-1")
    assert snapshot is not None and snapshot.active_agent == "billing"
    llm.queue(Reply(text="It will arrive in 3 days."))
    code, out, err = run(capsys, llm, "triage/agent.yaml", "When will I get it?", "--session", "cust-1")
    assert code == 0 and "▶ agent billing" in err and "▶ agent triage" not in err


def test_data_analysis_uploads_the_csv_and_returns_the_report(
    capsys: pytest.CaptureFixture[str],
    llm: ChatCompletionsEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    needs_bwrap()
    monkeypatch.chdir(tmp_path)
    script = (
        "import csv\nrows = list(csv.DictReader(open('sales.csv')))\n"
        "first = {r['region']: float(r['revenue']) for r in rows if r['month'] == '2026-01'}\n"
        "last = {r['region']: float(r['revenue']) for r in rows if r['month'] == '2026-03'}\n"
        "g = {k: round(100 * (last[k] / first[k] - 1), 1) for k in first}\n"
        "best = max(g, key=g.get)\n"
        "open('report.md', 'w').write(f'# Growth\\n\\n| region | growth |\\n|---|---|\\n'"
        " + ''.join(f'| {k} | {v}% |\\n' for k, v in g.items()))\n"
        "print(len(rows), best, g[best])\n"
    )
    llm.queue(
        call("write_file", path="analyse.py", content=script),
        call("shell", command="python3 analyse.py"),
        Reply(
            text=json.dumps(
                {
                    "rows": 9,
                    "fastest_growing_region": "west",
                    "growth_percent": 50.0,
                    "report_file": "report.md",
                }
            )
        ),
    )
    code, out, err = run(capsys, llm, "data_analysis/agent.yaml", "Which region grew fastest?", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["output"] == {
        "rows": 9,
        "fastest_growing_region": "west",
        "growth_percent": 50.0,
        "report_file": "report.md",
    }
    assert "⇡ uploaded" in err and "│ 9 west 50.0" in err and "⇣ downloaded /workspace/report.md" in err
    assert "| west | 50.0% |" in (tmp_path / "report.md").read_text()


def test_quickstart_py_runs_against_the_openai_responses_emulator(home: Path) -> None:
    import subprocess
    import sys

    from tests.emulators.openai_responses import OpenAIResponsesEmulator

    with OpenAIResponsesEmulator() as server:
        server.queue(
            Reply(tool_calls=[ToolCallReply("add", {"a": 3, "b": 4})]),
            Reply(tool_calls=[ToolCallReply("multiply", {"a": 7, "b": 6})]),
            Reply(text='{"value": 42, "explanation": "(3 + 4) * 6"}'),
        )
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")} | {
            "OPENAI_BASE_URL": f"{server.base_url}/v1",
            "OPENAI_API_KEY": "test-key",
            "AGENTCORE_HOME": str(home),
        }
        proc = subprocess.run(
            [sys.executable, str(EXAMPLES / "quickstart.py")],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "value=42.0 explanation='(3 + 4) * 6'"
