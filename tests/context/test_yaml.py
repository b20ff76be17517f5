"""``context:`` in an agent definition: the policy built, checked, dumped back, and in the JSON Schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcore.contextwin import ContextPolicy
from agentcore.definitions import agent_from_yaml
from agentcore.definitions.dump import context_entry
from agentcore.definitions.schema import json_schema
from agentcore.errors import ConfigError


def _write(tmp_path: Path, context: str) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(
        "version: 1\n"
        "models:\n"
        "  cheap:\n"
        "    provider: openai\n"
        "    model: gpt-5-mini\n"
        "agents:\n"
        "  worker:\n"
        "    model: openai:gpt-5\n"
        f"    context:\n{context}"
    )
    return path


def test_context_policy_from_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    agent = agent_from_yaml(
        str(
            _write(
                tmp_path,
                "      trigger: 0.7\n      window: 50000\n      keep_tool_outputs: all\n"
                "      summarizer: cheap\n      native: true\n",
            )
        )
    )
    policy = agent.context
    assert isinstance(policy, ContextPolicy)
    assert (policy.trigger, policy.window, policy.keep_tool_outputs, policy.native) == (
        0.7,
        50000,
        None,
        True,
    )
    assert policy.summarizer is not None and not isinstance(policy.summarizer, str)
    assert policy.summarizer.model_name == "gpt-5-mini"
    assert context_entry(policy) == {
        "trigger": 0.7,
        "window": 50000,
        "keep_tool_outputs": "all",
        "summarizer": "openai:gpt-5-mini",
        "native": True,
    }


def test_bad_context_is_an_error_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        agent_from_yaml(str(_write(tmp_path, "      trigger: 0.5\n      target: 0.7\n")))
    assert "target must not exceed trigger" in str(info.value)
    assert "agent.yaml:" in str(info.value)
    with pytest.raises(ConfigError):
        agent_from_yaml(str(_write(tmp_path, "      trigger: 2\n")))


def test_the_json_schema_describes_context() -> None:
    spec = json_schema()["$defs"]["ContextSpec"]
    assert {"trigger", "window", "keep_tool_outputs", "summarizer", "native", "count", "recover"} <= set(
        spec["properties"]
    )
    assert spec["additionalProperties"] is False


def test_an_unknown_summarizer_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        agent_from_yaml(str(_write(tmp_path, "      summarizer: cheep\n")))
    assert "neither a name from `models` nor provider:model" in str(info.value)
