"""${ENV} interpolation: one syntax, positions in errors, and prompts' braces never touched."""

from __future__ import annotations

import pytest

from agentcore.definitions import loads
from agentcore.errors import ConfigError

BASE = "version: 1\nagents:\n  a:\n    model: openai:gpt-5\n"


def instructions(text: str, env: dict[str, str]) -> str | None:
    return loads(BASE + f"    instructions: {text}\n", env=env).spec.agents["a"].instructions


def test_set_default_and_required_forms() -> None:
    assert instructions("Limit ${LIMIT} USD", {"LIMIT": "300"}) == "Limit 300 USD"
    assert instructions("Limit ${LIMIT:-500} USD", {}) == "Limit 500 USD"
    assert instructions("Limit ${LIMIT:-500} USD", {"LIMIT": ""}) == "Limit 500 USD"
    assert instructions("Limit ${LIMIT:?set it} USD", {"LIMIT": "7"}) == "Limit 7 USD"


def test_braces_templates_and_dollars_in_prompts_are_left_alone() -> None:
    text = '|\n      Reply as JSON {"answer": "..."}; use {{ user.name }} and {topic}; costs $5 or $HOME.\n'
    assert (
        instructions(text, {})
        == 'Reply as JSON {"answer": "..."}; use {{ user.name }} and {topic}; costs $5 or $HOME.\n'
    )


def test_double_dollar_escapes_interpolation() -> None:
    assert instructions("literal $${HOME} stays", {"HOME": "/root"}) == "literal ${HOME} stays"


def test_an_unset_variable_is_an_error_at_its_exact_column() -> None:
    with pytest.raises(ConfigError) as info:
        loads(BASE + "    instructions: Refunds under ${REFUND_LIMIT} USD\n", filename="f.yaml", env={})
    assert info.value.errors == [
        (
            "f.yaml",
            5,
            33,
            "environment variable REFUND_LIMIT is not set (use ${REFUND_LIMIT:-default} to make it optional)",
        )
    ]


def test_the_required_form_reports_its_message_inside_a_block_scalar() -> None:
    text = BASE + "    instructions: |\n      line one\n      then ${TOKEN:?export TOKEN first} here\n"
    with pytest.raises(ConfigError) as info:
        loads(text, filename="f.yaml", env={})
    assert info.value.errors == [("f.yaml", 7, 12, "environment variable TOKEN: export TOKEN first")]


def test_malformed_references_are_errors() -> None:
    with pytest.raises(ConfigError) as info:
        loads(BASE + "    instructions: x ${1BAD} ${OK:+alt}\n", filename="f.yaml", env={"OK": "1"})
    messages = [m for *_, m in info.value.errors]
    assert "invalid environment reference ${1BAD}" in messages[0]
    assert "after the name expected '}', ':-default}' or ':?message}'" in messages[1]


def test_unquoted_values_become_numbers_but_never_structure() -> None:
    text = BASE + "    max_turns: ${TURNS:-12}\n    description: ${DESC}\n"
    spec = loads(text, env={"DESC": "{a: 1}"}).spec.agents["a"]
    assert spec.max_turns == 12
    assert spec.description == "{a: 1}"


def test_quoted_values_stay_strings() -> None:
    with pytest.raises(ConfigError) as info:
        loads(BASE + '    max_turns: "${TURNS:-12}"\n', filename="f.yaml", env={})
    assert "valid integer" in info.value.errors[0][3]


def test_interpolation_applies_to_every_string_value_but_not_keys() -> None:
    text = (
        "version: 1\nmodels:\n  local: {provider: openai-chat, model: llama3, base_url: '${LLM_URL:-http://127.0.0.1:8000/v1}'}\n"
        "agents:\n  a: {model: local}\n"
    )
    assert loads(text, env={}).spec.models["local"].base_url == "http://127.0.0.1:8000/v1"
    assert (
        loads(text, env={"LLM_URL": "http://10.0.0.2/v1"}).spec.models["local"].base_url
        == "http://10.0.0.2/v1"
    )
