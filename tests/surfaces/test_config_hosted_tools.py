"""``hosted_tools:`` and ``native_tools:`` in agent definitions: built into the agent's declarations, in the
JSON Schema, and wrong entries reported with file:line:column — including a tool the agent's vendor cannot
serve, which names the vendors that can (issue 13 §2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agentcore.definitions import load
from agentcore.definitions.schema import json_schema
from agentcore.errors import ConfigError
from agentcore.hosted import CodeExecution, FileSearch, HostedMCP, UserLocation, WebFetch, WebSearch


def problems(path: Path) -> list[tuple[int, int, str]]:
    with pytest.raises(ConfigError) as info:
        load(path)
    return [(line, col, msg) for _, line, col, msg in info.value.errors]


def test_hosted_tools_build_into_declarations(
    write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("DEEPWIKI_TOKEN", "tok-123")
    path = write(
        "a.yaml",
        """
        version: 1
        entry: researcher
        agents:
          researcher:
            model: anthropic:claude-sonnet-4-5
            native_tools: "off"
            hosted_tools:
              - web_search
              - type: web_search
                blocked_domains: [spam.example]
                user_location: {country: FR, timezone: Europe/Paris}
                max_uses: 3
              - {type: web_fetch, allowed_domains: [docs.python.org], max_uses: 2}
              - {type: code_execution}
          librarian:
            model: openai:gpt-5.1
            hosted_tools:
              - {type: file_search, vector_store_ids: [vs_1], max_results: 4}
              - {type: code_execution, memory_limit: 4g}
              - type: mcp
                server_label: deepwiki
                server_url: https://mcp.deepwiki.com/mcp
                require_approval: [ask_question]
                authorization: ${DEEPWIKI_TOKEN}
    """,
    )
    definition = load(path)
    definition.build()
    agents = definition.agents
    researcher, librarian = agents["researcher"], agents["librarian"]
    assert researcher.native_tools == "off" and librarian.native_tools == "auto"
    assert researcher.hosted_tools == (
        WebSearch(),
        WebSearch((), ("spam.example",), UserLocation(country="FR", timezone="Europe/Paris"), 3),
        WebFetch(("docs.python.org",), (), 2),
        CodeExecution(),
    )
    assert librarian.hosted_tools == (
        FileSearch(("vs_1",), 4),
        CodeExecution(memory_limit="4g"),
        HostedMCP(
            "deepwiki",
            "https://mcp.deepwiki.com/mcp",
            require_approval=("ask_question",),
            authorization="tok-123",
        ),
    )


def test_bad_entries_are_reported_at_their_line(write: Callable[..., Path]) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        agents:
          a:
            model: anthropic:claude-sonnet-4-5
            hosted_tools:
              - web_serch
              - {type: web_search, max_use: 3}
              - {type: file_search}
              - {allowed_domains: [x.com]}
    """,
    )
    found = problems(path)
    by_line = {line: msg for line, _, msg in found}
    assert "unknown type 'web_serch'" in by_line[6] and "did you mean 'web_search'?" in by_line[6]
    assert "unknown field 'max_use'" in by_line[7] and "did you mean 'max_uses'?" in by_line[7]
    assert "missing required field 'vector_store_ids'" in by_line[8]
    assert "missing 'type'" in by_line[9]


def test_a_tool_the_vendor_cannot_serve_is_an_error_at_the_entry_naming_who_can(
    write: Callable[..., Path],
) -> None:
    path = write(
        "a.yaml",
        """
        version: 1
        models:
          fast: {provider: openai, model: gpt-5.1}
        defaults:
          model: fast
        agents:
          a:
            hosted_tools:
              - web_search
              - {type: web_fetch, max_uses: 2}
    """,
    )
    [(line, col, msg)] = problems(path)
    assert (line, col) == (10, 9)
    assert msg.startswith("agents.a.hosted_tools[1]: openai:gpt-5.1 cannot serve hosted tool 'web_fetch'")
    assert "served by: anthropic" in msg


def test_the_json_schema_describes_hosted_tools() -> None:
    agent = json_schema()["$defs"]["AgentSpec"]["properties"]
    assert agent["native_tools"]["enum"] == ["auto", "off"]
    entry = agent["hosted_tools"]["items"]
    kinds = {ref["$ref"].rsplit("/", 1)[-1] for ref in entry["anyOf"][1]["oneOf"]}
    assert kinds == {"WebSearchSpec", "WebFetchSpec", "FileSearchSpec", "CodeExecutionSpec", "MCPSpec"}
    assert entry["anyOf"][0]["enum"] == ["web_search", "web_fetch", "code_execution"]


def test_hosted_and_native_tools_are_dumped_back_without_the_secret(
    write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentcore import Agent
    from agentcore.definitions import loads, to_yaml
    from agentcore.hosted import hosted_mcp, web_fetch, web_search

    agent = Agent(
        name="researcher",
        model="anthropic:claude-sonnet-4-5",
        native_tools="off",
        hosted_tools=[
            web_search(),
            web_fetch(allowed_domains=["docs.python.org"], max_uses=2),
            hosted_mcp(
                "deep-wiki", "https://mcp.example.com/mcp", require_approval="never", authorization="s3cret"
            ),
        ],
    )
    text = to_yaml(agent)
    assert "s3cret" not in text and "${DEEP_WIKI_TOKEN}" in text
    monkeypatch.setenv("DEEP_WIKI_TOKEN", "s3cret")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    definition = loads(text)
    back = definition.build()
    assert back.native_tools == "off" and back.hosted_tools == agent.hosted_tools
