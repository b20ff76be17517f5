"""``mcp_servers:`` in definition files, ``agentcore mcp list`` and ``agentcore mcp serve``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import mcp
import pytest

from agentcore import Runner
from agentcore.cli.main import main
from agentcore.definitions import agent_from_yaml, load
from agentcore.errors import ConfigError
from agentcore.messages import ToolResult
from agentcore.testing import ScriptedModel, tool_call

from .conftest import TOY

ROOT = str(Path(__file__).resolve().parents[2])

DEFINITION = f"""\
version: 1
entry: clerk
mcp_servers:
  toy:
    command: {sys.executable}
    args: [{TOY}]
    env: {{TOKEN: "${{TOY_TOKEN}}"}}
    needs_approval: [crash]
    deny: [hang]
    call_timeout: 5
  other:
    url: http://127.0.0.1:9/mcp
    bearer_token: ${{TOY_TOKEN}}
    prefix: o
agents:
  clerk:
    model: scripted:clerk
    description: Does small jobs.
    mcp_servers: [toy]
"""


@pytest.fixture
def definition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TOY_TOKEN", "tok-123456")
    path = tmp_path / "agents.yaml"
    path.write_text(DEFINITION)
    return path


async def test_mcp_servers_in_yaml_build_the_agent(definition: Path) -> None:
    agent = agent_from_yaml(str(definition))
    (server,) = agent.mcp_servers
    assert server.name == "toy" and server.command == sys.executable and server.env == {"TOKEN": "tok-123456"}
    assert server.deny == ("hang",) and server.call_timeout == 5
    model = ScriptedModel([tool_call("toy__env", {"name": "TOKEN"}), "ok"])
    result: Any = await Runner.run(agent.clone(model=model), "go")
    (out,) = [i for i in result.new_items if isinstance(i, ToolResult)]
    assert out.output == "tok-123456"
    names = {t.name for t in model.requests[0].tools}
    assert "toy__hang" not in names and "toy__echo" in names
    assert next(t for t in model.requests[0].tools if t.name == "toy__crash")
    definition_ = load(str(definition))
    definition_.build()
    other = definition_.spec.mcp_servers["other"]
    assert other.url == "http://127.0.0.1:9/mcp" and other.prefix == "o"


def test_unknown_server_and_bad_spec_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "version: 1\nmcp_servers:\n  a: {command: x, url: http://127.0.0.1:1}\n"
        "agents:\n  x: {model: scripted:x, mcp_servers: [tyo]}\n"
    )
    with pytest.raises(ConfigError) as info:
        load(str(path))
    text = str(info.value)
    assert "exactly one of 'command'" in text
    assert "unknown MCP server 'tyo'" in text


def test_cli_mcp_list(definition: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    only_toy = tmp_path / "toy.yaml"
    only_toy.write_text(definition.read_text().split("  other:")[0] + DEFINITION.split("prefix: o\n")[1])
    assert main(["mcp", "list", str(only_toy), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    tools = {t["name"]: t for t in report["toy"]["tools"]}
    assert "toy__echo" in tools and "toy__hang" not in tools
    assert tools["toy__crash"]["needs_approval"] is True
    assert main(["mcp", "list", str(only_toy)]) == 0
    assert "toy__echo  [" in capsys.readouterr().out


async def test_cli_mcp_serve_over_stdio(tmp_path: Path) -> None:
    path = tmp_path / "served.yaml"
    path.write_text(
        "version: 1\nagents:\n  greeter:\n    model: scripted:greeter\n    description: Greets.\n"
    )
    params = mcp.StdioServerParameters(
        command=sys.executable, args=["-m", "agentcore.cli", "mcp", "serve", str(path)],
        cwd=ROOT,
    )
    async with mcp.Client(params, mode="legacy") as client:
        tools = (await client.list_tools()).tools
        assert [(t.name, t.description) for t in tools] == [("greeter", "Greets.")]
        result = await client.call_tool("greeter", {"input": "hi"})
        # the scripted model has no steps: the run fails and the client gets a tool error
        assert result.is_error


def test_an_agent_with_mcp_servers_round_trips_through_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentcore import Agent
    from agentcore.definitions import to_yaml
    from agentcore.mcp import MCPServer

    files = MCPServer(name="files", command="mcp-server-filesystem", args=["/srv"], needs_approval="destructive",
                      env={"API_KEY": "sk-secret-never-written", "MODE": "fast"}, call_timeout=9)
    web = MCPServer(name="web", url="http://127.0.0.1:9/mcp", bearer_token="tok-never-written", allow=["get_*"])
    agent = Agent(name="clerk", model="openai:gpt-5-mini", mcp_servers=[files, web])
    text = to_yaml(agent)
    assert "never-written" not in text and "${API_KEY}" in text and "${WEB_TOKEN}" in text
    monkeypatch.setenv("API_KEY", "sk-from-env")
    monkeypatch.setenv("WEB_TOKEN", "tok-from-env")
    path = tmp_path / "dumped.yaml"
    path.write_text(text)
    back = agent_from_yaml(str(path))
    f, w = back.mcp_servers
    assert (f.command, f.args, f.needs_approval, f.call_timeout) == ("mcp-server-filesystem", ("/srv",), "destructive", 9)
    assert f.env == {"API_KEY": "sk-from-env", "MODE": "fast"}
    assert (w.url, w.bearer_token, w.allow) == ("http://127.0.0.1:9/mcp", "tok-from-env", ("get_*",))
