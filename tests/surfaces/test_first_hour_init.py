"""Getting started (issue 15): ``agentcore init`` writes a project whose test passes and whose definition
validates; ``--model NAME --base-url URL`` means one thing in ``agentcore run`` and the quickstart; shell
completion for bash, zsh and fish."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentcore.errors import UnknownModelError
from agentcore.registry import NO_KEY, LazyModel, model_address
from tests.emulators.base import Reply
from tests.emulators.openai_chat import ChatCompletionsEmulator, ChatQuirks
from tests.surfaces.first_hour import ROOT, cli_env

KEYLESS = {"OPENAI_API_KEY": "", "ANTHROPIC_API_KEY": "", "GEMINI_API_KEY": "", "GOOGLE_API_KEY": ""}


def cli(home: Path, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentcore.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        env=cli_env(home, **env),
    )


@pytest.mark.parametrize("template", ["chat", "coding", "data", "mcp"])
def test_init_writes_a_project_that_validates_and_whose_test_passes(
    template: str, tmp_path: Path, home: Path
) -> None:
    target = tmp_path / f"my-{template}"
    done = cli(home, "init", str(target), "--template", template, **KEYLESS)
    assert done.returncode == 0, done.stderr
    names = {p.name for p in target.iterdir()}
    assert {"agent.yaml", "tools.py", "test_agent.py", "README.md"} <= names
    assert "agentcore run agent.yaml" in done.stderr and "python -m pytest test_agent.py" in done.stderr
    valid = cli(home, "validate", "agent.yaml", cwd=target)
    assert valid.returncode == 0, valid.stderr + valid.stdout
    assert "ok" in valid.stdout
    test = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_agent.py"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=target,
        env={**cli_env(home), "PYTHONPATH": str(ROOT)},
    )
    assert test.returncode == 0, test.stdout + test.stderr
    assert "1 passed" in test.stdout


def test_init_does_not_overwrite_without_force(tmp_path: Path, home: Path) -> None:
    assert cli(home, "init", str(tmp_path / "p")).returncode == 0
    (tmp_path / "p" / "tools.py").write_text("# mine\n")
    again = cli(home, "init", str(tmp_path / "p"))
    assert again.returncode == 1 and "already exist" in again.stderr
    assert (tmp_path / "p" / "tools.py").read_text() == "# mine\n"
    assert cli(home, "init", str(tmp_path / "p"), "--force").returncode == 0
    assert "glossary" in (tmp_path / "p" / "tools.py").read_text()


def test_init_picks_the_model_of_the_key_in_sight(tmp_path: Path, home: Path) -> None:
    env = {**KEYLESS, "ANTHROPIC_API_KEY": "k"}
    assert cli(home, "init", str(tmp_path / "p"), **env).returncode == 0
    assert "${AGENTCORE_MODEL:-anthropic:claude-sonnet-4-5}" in (tmp_path / "p" / "agent.yaml").read_text()


def test_the_generated_project_runs_against_a_local_server_without_a_key(tmp_path: Path, home: Path) -> None:
    assert cli(home, "init", str(tmp_path / "p"), **KEYLESS).returncode == 0
    with ChatCompletionsEmulator(ChatQuirks(api_key=None)) as server:
        server.queue(Reply(text="RAG is retrieval-augmented generation."))
        done = cli(
            home, "run", "agent.yaml", "What is RAG?", "--model", "llama3.2:1b", "--base-url",
            server.base_url + "/v1", cwd=tmp_path / "p", **KEYLESS,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "RAG is retrieval-augmented generation."
        assert server.requests[-1].body["model"] == "llama3.2:1b"
        assert server.requests[-1].headers["authorization"] == f"Bearer {NO_KEY}"


def test_model_addresses() -> None:
    url = "http://127.0.0.1:11434/v1"
    assert model_address("llama3.2", url) == f"openai-chat:llama3.2@{url}"
    assert model_address("llama3.2:1b", url) == f"openai-chat:llama3.2:1b@{url}"  # Ollama's tags
    assert model_address("anthropic:claude-sonnet-4-5", url) == f"anthropic:claude-sonnet-4-5@{url}"
    assert model_address("openai:gpt-5") == "openai:gpt-5"
    assert model_address(f"openai-chat:x@{url}", "http://elsewhere") == f"openai-chat:x@{url}"
    with pytest.raises(UnknownModelError, match="names no provider"):
        model_address("llama3.2")


def test_a_loopback_base_url_never_demands_a_vendor_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentcore.definitions import loads

    for key in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    text = (
        "version: 1\nentry: a\nmodels:\n  c: {provider: anthropic, model: claude-sonnet-4-5, api_key_env: MY_KEY}\n"
        "agents:\n  a: {model: c, handoffs: [b]}\n  b: {model: 'google:gemini-2.5-flash'}\n"
    )
    definition = loads(text)
    definition.build(base_url="http://localhost:8080")
    for agent in definition.agents.values():
        assert isinstance(agent.model, LazyModel)
        assert agent.model._options["api_key"] == NO_KEY
    with pytest.raises(Exception, match="MY_KEY"):  # elsewhere, the key is still demanded
        loads(text).build(base_url="https://proxy.example.com")


def test_the_quickstart_reads_model_and_base_url_as_run_does(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("hello_example", ROOT / "examples" / "hello.py")
    assert spec is not None and spec.loader is not None
    hello = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hello)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    local = hello.choose_model("anthropic:claude-sonnet-4-5", "http://127.0.0.1:4000")
    assert isinstance(local, LazyModel) and local.provider == "anthropic"  # not openai-chat
    assert hello.choose_model("llama3", "https://h.example/v1") == "openai-chat:llama3@https://h.example/v1"
    script = (ROOT / "examples" / "quickstart.sh").read_text()
    assert "quickstart: " in script and "--model NAME --base-url URL" in script


def test_bash_completion(tmp_path: Path, home: Path) -> None:
    script = tmp_path / "agentcore.bash"
    done = cli(home, "completion", "bash")
    assert done.returncode == 0
    script.write_text(done.stdout)
    probe = (
        f"source {script}\n"
        't() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _agentcore; echo "${COMPREPLY[*]}"; }\n'
        "t agentcore ru\nt agentcore run --ba\nt agentcore trace ''\nt agentcore init --template ''\n"
        "t agentcore completion z\n"
    )
    out = subprocess.run(["bash", "--norc", "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["run", "--base-url", "list show --help", "chat coding data mcp", "zsh"]


def test_zsh_and_fish_completion(home: Path) -> None:
    zsh = cli(home, "completion", "zsh").stdout
    assert zsh.startswith("autoload -U +X bashcompinit && bashcompinit") and "compdef _agentcore_zsh" in zsh
    fish = cli(home, "completion", "fish").stdout
    assert "complete -c agentcore -n '__fish_use_subcommand' -a run" in fish
    assert "complete -c agentcore -n '__fish_seen_subcommand_from run' -l session" in fish
    for shell, text in (("zsh", zsh), ("fish", fish)):
        if shutil.which(shell):
            check = subprocess.run([shell, "-n"], input=text, capture_output=True, text=True, timeout=60)
            assert check.returncode == 0, check.stderr
    assert os.environ.get("AGENTCORE_HOME")  # the autouse fixture kept this test away from the user's data


def test_the_readme_streaming_snippet_runs_as_pasted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    from agentcore import registry
    from agentcore.testing import ScriptedModel, tool_call

    readme = (ROOT / "README.md").read_text()
    [snippet] = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "Runner.stream" in b]
    scripted = ScriptedModel([tool_call("get_weather", {"city": "Oslo"}), "It is 18°C and sunny in Oslo."])
    monkeypatch.setitem(registry._providers, "openai", lambda name, **kw: scripted)
    exec(compile(snippet, "README.md", "exec"), {"__name__": "__main__"})  # as pasted: imports, agent, run
    assert capsys.readouterr().out == "\n[calling get_weather]\nIt is 18°C and sunny in Oslo.\n"


def test_the_readme_names_the_fast_subset_and_no_needless_sudo() -> None:
    readme = (ROOT / "README.md").read_text()
    assert ".venv/bin/python -m pytest tests/core tests/surfaces" in readme
    assert "sudo bash .ci/run" not in readme
