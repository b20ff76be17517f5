"""Code references in YAML resolve only through the registry or an explicit allowlist."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agentcore.definitions import load, loads, register_tool
from agentcore.errors import ConfigError
from agentcore.tools import Tool

PKG = "tests.surfaces.fixtures_pkg"


def agent_with_tool(ref: str) -> str:
    return f"version: 1\nagents:\n  a:\n    model: openai:gpt-5\n    tools: ['{ref}']\n"


def error_of(text: str, **kw: object) -> str:
    with pytest.raises(ConfigError) as info:
        loads(text, filename="f.yaml", **kw)  # type: ignore[arg-type]
    [(_, line, col, msg)] = info.value.errors
    assert (line, col) == (5, 13)
    return msg


def test_own_code_is_refused_until_the_caller_allows_it() -> None:
    msg = error_of(agent_with_tool(f"{PKG}:lookup_order"))
    assert f"module '{PKG}' is not allowed" in msg and "--allow tests" in msg
    definition = loads(agent_with_tool(f"{PKG}:lookup_order"), allow=["tests.surfaces"])
    [tool] = definition.build().function_tools
    assert tool.name == "lookup_order" and "order_id" in tool.parameters["properties"]


def test_the_allowlist_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTCORE_ALLOW_MODULES", "tests.surfaces.fixtures_pkg")
    assert loads(agent_with_tool(f"{PKG}:lookup_order")).build().function_tools[0].name == "lookup_order"


@pytest.mark.parametrize(
    "ref",
    [
        "os:system",
        "subprocess:run",
        "builtins:eval",
        "yaml:unsafe_load",
        "importlib:import_module",
        "agentcore.config:load",
        "cProfile:run",
        "timeit:timeit",
    ],
)
def test_standard_library_yaml_and_agentcore_are_never_allowed(ref: str) -> None:
    root = ref.split(":")[0].split(".")[0]
    msg = error_of(agent_with_tool(ref), allow=[root])
    assert "cannot be referenced from YAML" in msg


def test_private_names_and_non_functions_are_refused() -> None:
    assert "private names" in error_of(agent_with_tool(f"{PKG}:_hidden"), allow=[PKG])
    assert "is a int, not a function" in error_of(agent_with_tool(f"{PKG}:NOT_A_FUNCTION"), allow=[PKG])
    assert "has no attribute 'missing'" in error_of(agent_with_tool(f"{PKG}:missing"), allow=[PKG])


def test_registered_tools_need_no_allowlist() -> None:
    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    register_tool(shout, name="shout_test")
    [tool] = loads(agent_with_tool("shout_test")).build().function_tools
    assert isinstance(tool, Tool) and tool.name == "shout_test"


def test_imports_cover_only_modules_next_to_the_file(write: Callable[..., Path]) -> None:
    write(
        "proj/mytools_local.py",
        '''
        def word_count(text: str) -> int:
            """Count words."""
            return len(text.split())
    ''',
    )
    path = write(
        "proj/agent.yaml",
        """
        version: 1
        imports: [mytools_local]
        agents:
          a:
            model: openai:gpt-5
            tools: ["mytools_local:word_count"]
    """,
    )
    [tool] = load(path).build().function_tools
    assert tool.name == "word_count"
    outside = write(
        "proj/other.yaml",
        """
        version: 1
        imports: [pytest]
        agents:
          a:
            model: openai:gpt-5
            tools: ["pytest:fail"]
    """,
    )
    with pytest.raises(ConfigError) as info:
        load(outside)
    assert (
        "outside" in info.value.errors[0][3]
        and "'imports:' only covers modules next to the definition" in info.value.errors[0][3]
    )


def test_guardrail_verifier_and_filter_refs_use_the_same_rules() -> None:
    text = f"""
version: 1
entry: a
agents:
  a:
    model: openai:gpt-5
    handoffs: [{{agent: b, filter: "{PKG}:keep_last_two"}}]
    guardrails: [{{type: function, ref: "{PKG}:no_refunds_over", stage: output}}]
  b:
    model: openai:gpt-5
"""
    with pytest.raises(ConfigError) as info:
        loads(text)
    assert len(info.value.errors) == 2
    agent = loads(text, allow=[PKG]).build()
    assert agent.guardrails[0].name == "no_refunds_over" and agent.guardrails[0].stages == ("output",)
    assert agent.handoffs[0].history.__name__ == "keep_last_two"
