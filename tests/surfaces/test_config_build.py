"""A definition builds the same objects the Python API does; agents round-trip through YAML."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from agentcore import registry
from agentcore.agent import Agent
from agentcore.control.guardrails import (
    AgentGuardrail,
    Budget,
    FunctionGuardrail,
    SecretRedactor,
    ShellPolicy,
)
from agentcore.control.handoffs import Handoff
from agentcore.control.verifiers import CommandVerifier, FunctionVerifier
from agentcore.definitions import agent_from_yaml, load, loads, to_yaml
from agentcore.definitions.build import FallbackModel
from agentcore.definitions.schema import json_schema
from agentcore.errors import ConfigError, RateLimitError, UserError
from agentcore.messages import UserMessage
from agentcore.model import ModelRequest
from agentcore.testing import ScriptedModel, fail
from tests.surfaces import fixtures_pkg

PKG = "tests.surfaces.fixtures_pkg"


class RecordingSandbox:
    """Stands in for a sandbox backend: records the config it was created with."""

    backend = "local"

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.started = False


@pytest.fixture
def fake_local_sandbox() -> Iterator[None]:
    saved = registry._sandboxes.get("local")
    registry.register_sandbox("local", RecordingSandbox)
    yield
    if saved is None:
        registry._sandboxes.pop("local", None)
    else:
        registry._sandboxes["local"] = saved


FULL = f"""
version: 1
entry: triage
defaults:
  settings: {{temperature: 0.5}}
  retry: {{max_attempts: 5, initial_delay: 0.1}}
  max_turns: 20
models:
  fast:
    provider: scripted
    model: fast-1
    settings: {{max_tokens: 100, temperature: 0.2}}
    fallback: [backup]
    pricing: {{input_per_mtok: 1.0, output_per_mtok: 4.0}}
  backup: "scripted:backup-1"
sandboxes:
  box:
    backend: local
    network: none
    env: {{LANG: C.UTF-8}}
    limits: {{memory_mb: 512, cpu: 0.5, timeout_s: 30}}
agents:
  triage:
    description: Routes requests
    model: fast
    settings: {{temperature: 0.0}}
    instructions: 'Route. Answer as {{"route": "..."}}.'
    tools: ["{PKG}:lookup_order", {{ref: "{PKG}:lookup_order", name: find_order, needs_approval: true}}]
    handoffs: [coder, {{agent: judge, history: summary, description: Second opinion}}]
    guardrails:
      - {{type: budget, max_tokens: 5000, max_cost: 0.5}}
      - {{type: judge, agent: judge, stage: output, on_fail: retry}}
  coder:
    model: scripted:coder-1
    instructions: Build it.
    sandbox: box
    tools: [shell, read_file]
    guardrails:
      - {{type: shell_policy, deny: [rm, "git push"], action: tripwire}}
      - {{type: secret_redactor, pii: true}}
      - {{type: function, ref: "{PKG}:no_refunds_over", stage: [output], name: refund_cap}}
    verify:
      - {{type: command, command: pytest -q, timeout_s: 60}}
    retry: {{max_attempts: 2}}
    max_turns: 8
    output_schema:
      title: BuildReport
      type: object
      properties:
        passed: {{type: boolean}}
        files: {{type: array, items: {{type: string}}}}
      required: [passed]
      additionalProperties: false
  judge:
    model: fast
    instructions: Judge.
    handoffs: [triage]
"""


@pytest.fixture
def definition(fake_local_sandbox: None) -> Any:
    return loads(FULL, filename="full.yaml", allow=[PKG])


def test_models_settings_and_fallback_chain(definition: Any) -> None:
    triage = definition.build()
    assert isinstance(triage.model, FallbackModel)
    assert [m.model_name for m in triage.model.models] == ["fast-1", "backup-1"]
    # defaults < the named model < the agent
    assert triage.model_settings.temperature == 0.0 and triage.model_settings.max_tokens == 100
    assert definition.agents["coder"].model == "scripted:coder-1"
    assert definition.agents["coder"].model_settings.temperature == 0.5
    assert definition.agents["judge"].model is triage.model  # named models are shared


def test_tools_handoffs_guardrails_verifiers_retry_and_output(definition: Any) -> None:
    triage = definition.build()
    coder, judge = definition.agents["coder"], definition.agents["judge"]
    assert [t.name for t in triage.function_tools] == ["lookup_order", "find_order"]
    assert triage.function_tools[1].needs_approval is True
    assert [(h.agent, h.history) for h in triage.handoffs] == [(coder, "full"), (judge, "summary")]
    assert isinstance(judge.handoffs[0], Handoff) and judge.handoffs[0].agent is triage  # hand-back cycle
    budget, judge_guard = triage.guardrails
    assert isinstance(budget, Budget) and budget.prices == {"fast-1": (1.0, 4.0)}
    assert isinstance(judge_guard, AgentGuardrail) and judge_guard.on_fail == "retry"
    policy, redactor, fn = coder.guardrails
    assert isinstance(policy, ShellPolicy) and policy.judge("git push origin") is not None
    assert isinstance(redactor, SecretRedactor) and "email" in redactor.patterns
    assert (
        isinstance(fn, FunctionGuardrail)
        and fn.name == "refund_cap"
        and fn.fn is fixtures_pkg.no_refunds_over
    )
    [verifier] = coder.verify
    assert (
        isinstance(verifier, CommandVerifier) and verifier.command == "pytest -q" and verifier.timeout == 60
    )
    assert coder.retry is not None and (coder.retry.max_attempts, coder.retry.initial_delay) == (2, 0.1)
    assert triage.retry is not None and triage.retry.max_attempts == 5
    assert definition.max_turns("coder") == 8 and definition.max_turns("triage") == 20
    report = coder.parse_output('{"passed": true, "files": ["a.py"]}')
    assert report.passed is True and type(report).__name__ == "BuildReport"


def test_sandbox_config_is_passed_to_the_backend(definition: Any) -> None:
    definition.build()
    sandbox = definition.agents["coder"].sandbox
    assert isinstance(sandbox, RecordingSandbox)
    assert sandbox.config == {
        "network": "none",
        "lifetime": "run",
        "env": {"LANG": "C.UTF-8"},
        "memory_mb": 512,
        "cpu": 0.5,
        "timeout_s": 30,
    }
    assert definition.agents["coder"].metadata["sandbox_tools"] == ["shell", "read_file"]


def test_model_override_and_base_url(definition: Any) -> None:
    triage = definition.build(model="openai-chat:llama3", base_url="http://127.0.0.1:9/v1")
    assert triage.model == "openai-chat:llama3@http://127.0.0.1:9/v1"
    assert definition.agents["coder"].model == "openai-chat:llama3@http://127.0.0.1:9/v1"


def test_a_missing_api_key_variable_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    text = "version: 1\nmodels:\n  m: {provider: scripted, model: x, api_key_env: NO_SUCH_KEY}\nagents:\n  a: {model: m}\n"
    with pytest.raises(ConfigError) as info:
        loads(text, filename="k.yaml").build()
    assert info.value.errors == [
        ("k.yaml", 3, 50, "models.m.api_key_env: environment variable NO_SUCH_KEY is not set")
    ]


async def test_fallback_model_hands_over_on_provider_errors_only() -> None:
    first = ScriptedModel([fail(RateLimitError("slow down", provider="scripted"))], model_name="a")
    second = ScriptedModel(["from b"], model_name="b")
    model = FallbackModel([first, second])
    request = ModelRequest(instructions=None, items=[UserMessage.of("hi")])
    response = await model.respond(request)
    assert response.text == "from b"
    assert set(request.cache) == {"fallback:scripted:a", "fallback:scripted:b"}
    third = ScriptedModel([fail(ValueError("bug"))], model_name="c")
    with pytest.raises(ValueError):
        await FallbackModel([third, ScriptedModel(["x"])]).respond(request)


def test_round_trip_keeps_every_field(definition: Any) -> None:
    first = to_yaml(definition.build())
    again = loads(first, allow=[PKG])
    second = to_yaml(again.build())
    assert first == second
    # `defaults` are folded into each agent when written, so compare what was built: every field.
    assert again.spec.models == definition.spec.models and again.spec.sandboxes == definition.spec.sandboxes
    a, b = definition.agents, again.agents
    assert set(a) == set(b)
    for name in a:
        x, y = a[name], b[name]
        assert (x.description, x.instructions, x.model_settings, x.retry) == (
            y.description,
            y.instructions,
            y.model_settings,
            y.retry,
        )
        assert [(t.name, t.description, t.needs_approval, t.parameters) for t in x.function_tools] == [
            (t.name, t.description, t.needs_approval, t.parameters) for t in y.function_tools
        ]
        assert [(h.agent.name, h.history) for h in x.handoffs] == [
            (h.agent.name, h.history) for h in y.handoffs
        ]
        assert [type(g).__name__ for g in x.guardrails] == [type(g).__name__ for g in y.guardrails]
        assert [vars(v) for v in x.verify] == [vars(v) for v in y.verify]
        assert x.output_schema == y.output_schema
        assert (x.max_turns, x.metadata["sandbox_tools"]) == (y.max_turns, y.metadata["sandbox_tools"])
        assert (x.max_corrections, x.max_parallel_tools) == (y.max_corrections, y.max_parallel_tools)


class Answer(BaseModel):
    city: str
    temperature_c: float | None = None


def test_a_python_agent_from_declarative_parts_writes_valid_yaml() -> None:
    helper = Agent(name="helper", model="anthropic:claude-sonnet-4-5", instructions="Help.\nKeep ${x} as is.")
    agent = Agent(
        name="weather",
        model="openai:gpt-5",
        instructions="Answer with the weather.",
        tools=[fixtures_pkg.lookup_order],
        output_type=Answer,
        handoffs=[Handoff(agent=helper, history="summary")],
        guardrails=[
            ShellPolicy(deny=["rm"]),
            FunctionGuardrail(fixtures_pkg.no_refunds_over, stage="output"),
        ],
        verify=[FunctionVerifier(fixtures_pkg.lookup_order)],
    )
    text = to_yaml(agent)
    rebuilt = loads(text, allow=[PKG]).build()
    assert rebuilt.name == "weather" and rebuilt.model == "openai:gpt-5"
    assert rebuilt.parse_output('{"city": "Oslo"}').city == "Oslo"
    assert rebuilt.handoffs[0].agent.instructions == "Help.\nKeep ${x} as is."
    assert [type(g).__name__ for g in rebuilt.guardrails] == ["ShellPolicy", "FunctionGuardrail"]


def test_non_declarative_agents_are_refused_clearly() -> None:
    with pytest.raises(UserError, match="dynamic instructions"):
        to_yaml(Agent(name="a", model="openai:gpt-5", instructions=lambda ctx: "hi"))

    def local_tool(x: int) -> int:
        return x

    with pytest.raises(UserError, match="not a module-level function"):
        to_yaml(Agent(name="a", model="openai:gpt-5", tools=[local_tool]))


def test_agent_from_yaml(write: Callable[..., Path]) -> None:
    path = write("one.yaml", "version: 1\nagents:\n  solo: {model: 'openai:gpt-5', instructions: Hi}\n")
    agent = agent_from_yaml(path)
    assert agent.name == "solo" and agent.instructions == "Hi"


def test_published_json_schema_matches_the_models() -> None:
    published = json.loads((Path(__file__).parents[2] / "agentcore" / "schema.json").read_text())
    assert published == json_schema(), "regenerate with: agentcore schema > agentcore/schema.json"
    agent_props = published["$defs"]["AgentSpec"]["properties"]
    assert {"model", "tools", "handoffs", "guardrails", "verify", "output_schema", "max_turns"} <= set(
        agent_props
    )
    assert published["$defs"]["AgentSpec"]["additionalProperties"] is False


def test_examples_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    examples = Path(__file__).parents[2] / "examples"
    files = sorted(examples.rglob("*.yaml"))
    assert len(files) >= 3
    for path in files:
        load(path)


def test_agent_from_yaml_is_attached_to_agent(write: Callable[..., Path]) -> None:
    path = write(
        "two.yaml",
        """
        version: 1
        entry: a
        agents:
          a: {model: 'openai:gpt-5', handoffs: [b]}
          b: {model: 'openai:gpt-5', instructions: I am b}
    """,
    )
    assert Agent.from_yaml(str(path)).name == "a"
    assert Agent.from_yaml(str(path), agent="b").instructions == "I am b"


def test_instructions_file_and_defaults_model(write: Callable[..., Path]) -> None:
    write("prompts/helper.md", 'You help.\nJSON: {"ok": true} and ${NOT_INTERPOLATED}\n')
    path = write(
        "agent.yaml",
        """
        version: 1
        defaults: {model: 'openai:gpt-5', max_turns: 7}
        agents:
          helper: {instructions_file: prompts/helper.md}
    """,
    )
    definition = load(path)
    agent = definition.build()
    assert (
        agent.instructions == 'You help.\nJSON: {"ok": true} and ${NOT_INTERPOLATED}\n'
    )  # prompt files are verbatim
    assert agent.model == "openai:gpt-5" and definition.max_turns() == 7


def test_a_typo_inside_model_settings_lists_the_settings() -> None:
    with pytest.raises(ConfigError) as info:
        loads(
            "version: 1\nagents:\n  a:\n    model: 'openai:gpt-5'\n    settings: {temprature: 0.2}\n",
            filename="s.yaml",
        )
    [(_, line, col, msg)] = info.value.errors
    assert (line, col) == (5, 16) and "unknown field 'temprature' (did you mean 'temperature'?)" in msg
    assert "reasoning_effort" in msg


def test_a_python_sandbox_round_trips() -> None:
    from agentcore.sandboxes.local.sandbox import LocalSandbox

    agent = Agent(name="builder", model="openai:gpt-5", sandbox=LocalSandbox(memory_mb=512, network="open"))
    text = to_yaml(agent)
    assert "backend: local" in text and "memory_mb: 512" in text and "network: open" in text
    rebuilt = loads(text).build()
    assert isinstance(rebuilt.sandbox, LocalSandbox)
    assert (rebuilt.sandbox.config.memory_mb, rebuilt.sandbox.config.network) == (512, "open")


def test_secrets_are_never_written_into_the_file(
    fake_local_sandbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", "tok-123456789")
    text = (
        "version: 1\nsandboxes:\n  box: {backend: local, env: {DEPLOY_TOKEN: '${DEPLOY_TOKEN}', MODE: '$${literal}'}}\n"
        "agents:\n  a: {model: 'openai:gpt-5', sandbox: box}\n"
    )
    agent = loads(text).build()
    dumped = to_yaml(agent)
    assert "tok-123456789" not in dumped and "DEPLOY_TOKEN: ${DEPLOY_TOKEN}" in dumped
    assert "MODE: $${literal}" in dumped
    assert loads(dumped).spec.sandboxes["box"].env == {"DEPLOY_TOKEN": "tok-123456789", "MODE": "${literal}"}
    with pytest.raises(ConfigError) as info:
        loads(
            "version: 1\nmodels:\n  m: {provider: openai, model: x, options: {api_key: sk-1}}\nagents:\n  a: {model: m}\n"
        )
    assert "do not put credentials in the file" in info.value.errors[0][3]


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    with pytest.raises(ConfigError) as info:
        loads("\n".join(lines) + "\nversion: 1\n")
    assert "more than 200,000 values" in info.value.errors[0][3]


def test_sub_agents_as_tools(write: Callable[..., Path]) -> None:
    from agentcore.control.handoffs import AgentTool

    text = f"""
version: 1
entry: lead
agents:
  lead:
    model: 'openai:gpt-5'
    tools: ["{PKG}:lookup_order", {{agent: researcher, max_turns: 5}}, {{agent: writer, name: draft}}]
  researcher: {{model: 'openai:gpt-5', description: Finds facts}}
  writer: {{model: 'openai:gpt-5', tools: [{{agent: researcher}}]}}
"""
    definition = loads(text, allow=[PKG])
    lead = definition.build()
    names = [t.name for t in lead.function_tools]
    assert names == ["lookup_order", "researcher", "draft"]
    researcher_tool = lead.function_tools[1]
    assert isinstance(researcher_tool, AgentTool) and researcher_tool.agent is definition.agents["researcher"]
    assert researcher_tool.max_turns == 5 and researcher_tool.description == "Finds facts"
    again = to_yaml(lead)
    assert to_yaml(loads(again, allow=[PKG]).build()) == again
    with pytest.raises(ConfigError) as info:
        loads(
            "version: 1\nagents:\n  a: {model: 'openai:gpt-5', tools: [{agent: b}, {agent: a}, {ref: x, agent: a}]}\n"
        )
    messages = [m for *_, m in info.value.errors]
    assert any("unknown agent 'b'" in m for m in messages)
    assert any("cannot call itself as a tool" in m for m in messages)
    assert any("either 'ref' (a function) or 'agent'" in m for m in messages)
