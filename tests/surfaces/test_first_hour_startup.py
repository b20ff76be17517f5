"""Start-up (issue 15): ``import agentcore`` and ``agentcore --help`` import almost nothing; a definition
naming several vendors imports only the SDK its first turn calls; set-up shows in the trace.

Timings are in ``bench/startup.py``; these tests check what the timings rest on (which modules a fresh
process has imported), which does not depend on the machine's load."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import agentcore
from agentcore.errors import MissingCredentialsError
from agentcore.registry import LazyModel, resolve_model
from tests.emulators.base import Reply
from tests.emulators.openai_chat import ChatCompletionsEmulator
from tests.surfaces.first_hour import ROOT, cli_env

SDKS = ("openai", "anthropic", "google.genai")

THREE = """\
version: 1
entry: triage
models:
  local: {{provider: openai-chat, model: llama3, base_url: "{url}"}}
  claude: {{provider: anthropic, model: claude-sonnet-4-5, base_url: "{url}", api_key_env: TEST_KEY}}
  gemini: {{provider: google, model: gemini-2.5-flash, base_url: "{url}", api_key_env: TEST_KEY}}
  chain: {{provider: openai, model: gpt-5, base_url: "{url}", fallback: [claude]}}
agents:
  triage: {{model: local, instructions: Route., handoffs: [writer, researcher, planner]}}
  writer: {{model: claude, instructions: Write.}}
  researcher: {{model: gemini, instructions: Research.}}
  planner: {{model: chain, instructions: Plan.}}
"""


def fresh(code: str, **env: str) -> dict[str, object]:
    """Run ``code`` in a new interpreter; it ends by printing one JSON line."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**cli_env(Path("/nonexistent")), **env},
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_import_agentcore_imports_no_pydantic_sdk_or_asyncio() -> None:
    loaded = fresh(
        "import sys, json; import agentcore; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    assert isinstance(loaded, list)
    for heavy in ("pydantic", "openai", "anthropic", "google", "asyncio", "opentelemetry", "yaml"):
        assert heavy not in loaded


def test_every_public_name_still_imports() -> None:
    for name in agentcore.__all__:
        assert getattr(agentcore, name) is not None
    from agentcore import Agent, HandoffItem, Runner, tool  # noqa: F401  # the lazy names, as users import them

    assert HandoffItem.__module__ == "agentcore.messages"
    assert agentcore.Handoff.__module__ == "agentcore.control.handoffs"
    with pytest.raises(AttributeError):
        agentcore.nothing_here  # noqa: B018
    assert set(agentcore.__all__) <= set(dir(agentcore))


def test_help_imports_no_pydantic_or_asyncio() -> None:
    loaded = fresh(
        "import sys, json, contextlib, io\n"
        "from agentcore.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    assert isinstance(loaded, list)
    for heavy in ("pydantic", "openai", "asyncio", "opentelemetry", "yaml", "sqlite3"):
        assert heavy not in loaded


def test_a_three_vendor_definition_imports_only_the_sdk_of_its_first_turn(
    emulator: ChatCompletionsEmulator, tmp_path: Path
) -> None:
    path = tmp_path / "three.yaml"
    path.write_text(THREE.format(url=emulator.base_url + "/v1"))
    emulator.queue(Reply(text="routed"))
    code = f"""
import asyncio, json, sys
from agentcore import Runner
from agentcore.definitions import load
SDKS = {SDKS!r}
def sdks():
    return [m for m in SDKS if m in sys.modules]
definition = load({str(path)!r})
entry = definition.build()
built = sdks()
models = {{n: repr(a.model) for n, a in definition.agents.items()}}
result = Runner.run_sync(entry, "hi")
print(json.dumps({{"after_build": built, "after_first_turn": sdks(), "models": models,
                  "output": result.final_output}}))
"""
    seen = fresh(code, TEST_KEY="k")
    assert seen["after_build"] == []
    assert seen["after_first_turn"] == []  # openai-chat posts over httpx2: no vendor SDK at all
    assert seen["output"] == "routed"
    models = seen["models"]
    assert isinstance(models, dict)
    assert "not built yet" in models["writer"] and "not built yet" in models["researcher"]


def test_a_missing_key_is_still_reported_when_the_definition_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentcore.definitions import loads

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    definition = loads(
        "version: 1\nmodels:\n  m: {provider: openai, model: gpt-5}\nagents:\n  a: {model: m}\n"
    )
    with pytest.raises(Exception) as info:
        definition.build()
    assert "OPENAI_API_KEY" in str(info.value)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with pytest.raises(MissingCredentialsError):
        resolve_model("anthropic:claude-sonnet-4-5", lazy=True)  # no key in sight: built now, and it fails


def test_lazy_models_are_built_on_first_use(emulator: ChatCompletionsEmulator) -> None:
    model = resolve_model(f"openai-chat:llama3@{emulator.base_url}/v1", lazy=True)
    assert isinstance(model, LazyModel) and not model.built
    assert (model.provider, model.model_name, model.cache_key) == (
        "openai-chat",
        "llama3",
        "openai-chat:llama3",
    )
    assert model.server_address == "127.0.0.1" and model.built
    assert type(model.build()).__name__ == "OpenAIChatModel"
    # options the registry cannot vouch for build the adapter at once
    eager = resolve_model(f"openai-chat:llama3@{emulator.base_url}/v1", lazy=True, client=None)
    assert not isinstance(eager, LazyModel)


@pytest.mark.parametrize("provider", ["openai", "openai-chat", "anthropic", "google", "google-interactions"])
def test_deferrable_options_are_constructor_parameters(provider: str) -> None:
    from agentcore.providers import anthropic, gemini, openai
    from agentcore.registry import _BUILTIN_PROVIDERS, _load

    allowed = {
        "openai": openai.DEFERRABLE_OPTIONS["openai"],
        "openai-chat": openai.DEFERRABLE_OPTIONS["openai-chat"],
        "anthropic": anthropic.DEFERRABLE_OPTIONS,
        "google": gemini.DEFERRABLE_OPTIONS["google"],
        "google-interactions": gemini.DEFERRABLE_OPTIONS["google-interactions"],
    }[provider]
    parameters = set(inspect.signature(_load(_BUILTIN_PROVIDERS[provider])).parameters)
    assert allowed <= parameters


def test_setup_is_a_span_of_the_first_run(
    emulator: ChatCompletionsEmulator, tmp_path: Path, home: Path
) -> None:
    path = tmp_path / "one.yaml"
    path.write_text(
        "version: 1\nmodels:\n  local: {provider: openai-chat, model: llama3, base_url: "
        f'"{emulator.base_url}/v1"}}\nagents:\n  helper: {{model: local}}\n'
    )
    emulator.queue(Reply(text="hello"))
    env = cli_env(home)
    done = subprocess.run(
        [sys.executable, "-m", "agentcore.cli", "run", str(path), "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    shown = subprocess.run(
        [sys.executable, "-m", "agentcore.cli", "trace", "show", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    tree = json.loads(shown.stdout)["spans"][0]
    names = [child["name"] for child in tree["children"]]
    assert names[:3] == ["agentcore setup", "agentcore setup model", "invoke_agent helper"], names
    setup = tree["children"][0]
    assert setup["attributes"]["agentcore.setup.agents"] == 1
