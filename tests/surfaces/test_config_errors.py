"""Every way a definition file can be wrong is reported with file:line:column and what was expected.

Loading reports all problems at once, so a newcomer fixes their file in one pass.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agentcore.definitions import load, loads
from agentcore.errors import ConfigError


def problems(path: Path, **kw: object) -> list[tuple[int, int, str]]:
    with pytest.raises(ConfigError) as info:
        load(path, **kw)  # type: ignore[arg-type]
    assert all(f == str(path) for f, _, _, _ in info.value.errors)
    return [(line, col, msg) for _, line, col, msg in info.value.errors]


def test_a_typo_in_a_field_name_is_reported_with_its_line_and_a_suggestion(
    write: Callable[..., Path],
) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          helper:
            model: openai:gpt-5
            max_turn: 3
    """,
    )
    [(line, col, msg)] = problems(path)
    assert (line, col) == (5, 5)
    assert "unknown field 'max_turn'" in msg and "did you mean 'max_turns'?" in msg
    assert "expected one of:" in msg and "instructions" in msg


def test_references_are_checked_even_when_other_fields_are_wrong(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        entry: triage
        models:
          smart: {provider: anthropic, model: claude-sonnet-4-5}
        sandboxes:
          py: {backend: docker}
        agents:
          triage:
            model: smrt
            handoffs: [refunds]
            sandbox: pyy
            max_turn: 3
          refund:
            model: smart
    """,
    )
    found = problems(path)
    assert (9, 12) in [(line, col) for line, col, _ in found]
    by_line = {line: (col, msg) for line, col, msg in found}
    assert by_line[9] == (
        12,
        "agents.triage.model: unknown model 'smrt' (did you mean 'smart'?); use a name "
        "from 'models' (smart) or provider:model",
    )
    assert (
        by_line[10][0] == 16
        and "handoff to unknown agent 'refunds' (did you mean 'refund'?)" in by_line[10][1]
    )
    assert by_line[11][0] == 14 and "unknown sandbox 'pyy' (did you mean 'py'?)" in by_line[11][1]
    assert by_line[12][0] == 5 and "unknown field 'max_turn'" in by_line[12][1]


def test_unknown_entry_agent(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        entry: triag
        agents:
          triage: {model: openai:gpt-5}
    """,
    )
    assert problems(path) == [
        (2, 8, "entry: unknown agent 'triag' (did you mean 'triage'?); defined: triage")
    ]


def test_several_agents_need_an_entry(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          a: {model: openai:gpt-5}
          b: {model: openai:gpt-5}
    """,
    )
    [(line, col, msg)] = problems(path)
    assert (line, col) == (2, 1) and "say which one starts with 'entry: <name>'" in msg


def test_unknown_provider_and_sandbox_backend_are_named_with_the_alternatives(
    write: Callable[..., Path],
) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        models:
          smart: {provider: antropic, model: claude-sonnet-4-5}
        sandboxes:
          py:
            backend: dockr
        agents:
          a: {model: smart}
    """,
    )
    found = problems(path)
    assert found[0][:2] == (3, 21)
    assert "unknown provider 'antropic' (did you mean 'anthropic'?)" in found[0][2]
    assert found[1][:2] == (6, 14)
    assert (
        "unknown backend 'dockr' (did you mean 'docker'?); expected one of: 'local', 'docker'" in found[1][2]
    )


def test_inline_model_with_an_unknown_provider(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          a: {model: "opnai:gpt-5"}
    """,
    )
    [(line, col, msg)] = problems(path)
    assert (line, col) == (3, 14) and "unknown provider 'opnai' (did you mean 'openai'?)" in msg


def test_an_agent_without_any_model(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          lonely:
            instructions: hi
    """,
    )
    assert problems(path) == [(3, 3, "agents.lonely: no model; set agents.lonely.model or defaults.model")]


def test_module_dot_function_gets_a_colon_hint(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          a:
            model: openai:gpt-5
            tools: [myapp.tools.lookup_order]
    """,
    )
    [(line, col, msg)] = problems(path)
    assert (line, col) == (5, 13)
    assert "write myapp.tools:lookup_order, with a colon" in msg


def test_unknown_tool_name_lists_the_known_ones(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        sandboxes: {box: {backend: local}}
        agents:
          a:
            model: openai:gpt-5
            sandbox: box
            tools: [shel]
    """,
    )
    [(line, col, msg)] = problems(path)
    assert (line, col) == (7, 13)
    assert "unknown tool 'shel'; did you mean 'shell'?" in msg and "package.module:function" in msg


def test_sandbox_tools_and_command_verifiers_need_a_sandbox(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          a:
            model: openai:gpt-5
            tools: [shell]
            verify:
              - {type: command, command: pytest -q}
    """,
    )
    found = problems(path)
    assert found[0] == (5, 13, "agents.a.tools[0]: 'shell' is a sandbox tool; set agents.a.sandbox")
    assert found[1][:2] == (7, 9) and "a command verifier runs in the agent's sandbox" in found[1][2]


def test_wrong_types_and_yaml_1_1_surprises(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          a:
            model: openai:gpt-5
            description: no
            max_turns: many
    """,
    )
    found = problems(path)
    assert found[0][:2] == (5, 18) and "Input should be a valid string (got False)" in found[0][2]
    assert found[1][:2] == (6, 16) and "valid integer" in found[1][2]


def test_an_unknown_guardrail_type(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          a:
            model: openai:gpt-5
            guardrails:
              - type: budgt
                max_tokens: 10
    """,
    )
    [(line, col, msg)] = problems(path)
    assert (line, col) == (6, 15)
    assert "unknown type 'budgt' (did you mean 'budget'?)" in msg and "'shell_policy'" in msg


def test_a_missing_required_field(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        models:
          m: {provider: openai}
        agents:
          a: {model: m}
    """,
    )
    [(line, col, msg)] = problems(path)
    assert (line, col) == (3, 3) and msg == "models.m: missing required field 'model'"


def test_wrong_version(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 2
        agents:
          a: {model: openai:gpt-5}
    """,
    )
    [(line, col, msg)] = problems(path)
    assert (line, col) == (1, 10) and "version: expected 1 (got 2)" in msg


def test_duplicate_keys_are_errors_not_silently_overwritten(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          a:
            model: openai:gpt-5
            model: openai:gpt-4.1
    """,
    )
    assert problems(path) == [(5, 5, "duplicate key 'model' (first defined at line 4)")]


def test_yaml_syntax_errors_point_at_the_problem(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          a:
            instructions: [unclosed
    """,
    )
    [(line, _col, msg)] = problems(path)
    assert line == 5 and msg.startswith("YAML syntax error:")


def test_handoff_cycles_are_fine_but_self_handoffs_and_fallback_loops_are_not(
    write: Callable[..., Path],
) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        entry: a
        models:
          m1: {provider: openai, model: x, fallback: [m2]}
          m2: {provider: openai, model: y, fallback: [m1]}
        agents:
          a: {model: m1, handoffs: [b]}
          b: {model: m1, handoffs: [a, b]}
    """,
    )
    found = problems(path)
    messages = [msg for _, _, msg in found]
    assert any("cycle m1 -> m2 -> m1" in m for m in messages)
    assert any("cycle m2 -> m1 -> m2" in m for m in messages)
    assert (8, 32, "agents.b.handoffs[1]: an agent cannot hand off to itself") in found


def test_invalid_output_schema_points_into_the_schema(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          a:
            model: openai:gpt-5
            output_schema:
              type: object
              properties:
                score: {type: integer, multipleOf: 5}
    """,
    )
    [(line, col, msg)] = problems(path)
    assert (line, col) == (8, 32) and "unsupported JSON Schema keyword 'multipleOf'" in msg


def test_missing_instructions_file(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          a: {model: openai:gpt-5, instructions_file: prompts/a.md}
    """,
    )
    [(line, col, msg)] = problems(path)
    assert (line, col) == (3, 47) and "cannot read 'prompts/a.md'" in msg


def test_missing_file_and_empty_file(tmp_path: Path, write: Callable[..., Path]) -> None:
    assert problems(tmp_path / "nope.yaml")[0][:2] == (1, 1)
    empty = write("empty.yaml", "")
    assert problems(empty) == [(1, 1, "the file is empty; expected a mapping with 'version: 1'")]


def test_errors_come_sorted_and_the_message_is_one_line_each() -> None:
    text = "version: 1\nagents:\n  b: {model: nope}\n  a: {modl: x}\nentry: b\n"
    with pytest.raises(ConfigError) as info:
        loads(text, filename="inline.yaml")
    lines = str(info.value).splitlines()
    assert lines == [
        "inline.yaml:3:14: agents.b.model: unknown model 'nope'; use a name from 'models' (none defined) "
        "or provider:model",
        "inline.yaml:4:3: agents.a: no model; set agents.a.model or defaults.model",
        "inline.yaml:4:7: agents.a.modl: unknown field 'modl' (did you mean 'model'?); expected one of: "
        "description, instructions, instructions_file, model, settings, tools, sandbox, mcp_servers, native_tools, "
        "hosted_tools, output_schema, handoffs, "
        "guardrails, verify, retry, context, max_turns, max_corrections, max_parallel_tools",
    ]


def test_libyaml_and_the_pure_python_parser_report_the_same_positions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import yaml

    from agentcore.definitions import loader as config_yaml

    text = (
        "version: 1\nentry: a\nagents:\n  a:\n    model: nope\n    instructions: 'héllo ${MISSING}'\n"
        "    max_turns: ${T:-x}\n    handoffs: [zz]\n  a: {}\n"
    )
    results = []
    for loader in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        monkeypatch.setattr(config_yaml, "_LOADER", loader)
        with pytest.raises(ConfigError) as info:
            loads(text, filename="p.yaml", env={})
        results.append(info.value.errors)
    assert results[0] == results[1]
    assert (
        "p.yaml",
        6,
        26,
        "environment variable MISSING is not set (use ${MISSING:-default} to make it optional)",
    ) in results[0]


def test_files_outside_the_definitions_directory_are_refused(write: Callable[..., Path]) -> None:
    write("secret.txt", "do not read")
    path = write(
        "proj/a.yaml",
        """
        version: 1
        sandboxes:
          box:
            backend: local
            upload: {../secret.txt: /workspace/s.txt, missing.csv: /workspace/m.csv}
            download: {/workspace/out: /etc/cron.d/x, /workspace/up: ../up.txt}
        agents:
          a: {model: 'openai:gpt-5', sandbox: box, instructions_file: ../secret.txt}
    """,
    )
    found = problems(path)
    messages = [m for *_, m in found]
    assert "sandboxes.box.upload: '../secret.txt' is outside this file's directory" in messages
    assert "sandboxes.box.upload: 'missing.csv' does not exist" in messages
    assert sum("must be a relative path without '..'" in m for m in messages) == 2
    assert "agents.a.instructions_file: '../secret.txt' is outside this file's directory" in messages
    assert (5, 14) in [(line, col) for line, col, _ in found]
