"""Guardrails at every stage: tripwires stop the run, retries send feedback, rewrites clean tool output."""

from __future__ import annotations

import asyncio

import pytest

from agentcore import Agent, Budget, Check, Runner, SecretRedactor, ShellPolicy, guardrail, tool
from agentcore.control.guardrails import FunctionGuardrail, Verdict, retry, split_commands, tripwire
from agentcore.errors import GuardrailTripwire, ModelBehaviorError
from agentcore.events import TextDelta
from agentcore.messages import ToolResult, Usage, UserMessage
from agentcore.testing import FunctionModel, ScriptedModel, Step, reply, tool_call
from tests.core.conftest import Spans

ran: list[str] = []


@tool
def shell(command: str) -> str:
    """Pretend to run a command."""
    ran.append(command)
    return f"ran {command}"


@tool
def read_config() -> str:
    """Read a config file."""
    return "db_password=hunter2hunter2 api=sk-live-abcdefghijklmnopqrstuv owner=ada@example.com"


@pytest.fixture(autouse=True)
def _clear() -> None:
    ran.clear()


async def test_input_tripwire_stops_before_the_model_is_called(spans: Spans) -> None:
    @guardrail("input")
    def no_secrets(check: Check) -> Verdict | None:
        return tripwire("looks like a password") if "password" in (check.text or "") else None

    model = ScriptedModel(["never"])
    with pytest.raises(GuardrailTripwire) as info:
        await Runner.run(Agent(name="a", model=model, guardrails=[no_secrets]), "my password is x")
    assert (info.value.guardrail, info.value.stage, info.value.reason) == (
        "no_secrets",
        "input",
        "looks like a password",
    )
    assert model.requests == []
    g = spans.one("apply_guardrail no_secrets")
    assert g.attributes["gen_ai.guardrail.source"] == "input"
    assert g.attributes["agentcore.guardrail.action"] == "tripwire"


async def test_non_blocking_input_guardrail_runs_alongside_the_first_model_call() -> None:
    started = asyncio.Event()

    async def slow_check(check: Check) -> Verdict:
        started.set()
        await asyncio.sleep(0.01)
        return tripwire("off topic")

    async def model_fn(request):  # type: ignore[no-untyped-def]
        await asyncio.wait_for(started.wait(), 1)  # proves the check is already running
        return "a reply that must never be shown"

    agent = Agent(
        name="a",
        model=FunctionModel(model_fn),
        guardrails=[FunctionGuardrail(slow_check, stage="input", blocking=False)],
    )
    deltas: list[str] = []
    with pytest.raises(GuardrailTripwire):
        async for event in Runner.stream(agent, "hi"):
            if isinstance(event, TextDelta):
                deltas.append(event.delta)
    assert deltas == []  # held back until the check finished, then dropped


async def test_pre_tool_shell_policy_feeds_back_or_trips() -> None:
    policy = ShellPolicy(deny=["rm -rf", "re:curl .*\\|\\s*sh"])
    model = ScriptedModel(
        [tool_call("shell", {"command": "cd /tmp && rm -rf /"}), tool_call("shell", {"command": "ls"}), "ok"]
    )
    result = await Runner.run(Agent(name="a", model=model, tools=[shell], guardrails=[policy]), "clean up")
    first = next(i for i in result.new_items if isinstance(i, ToolResult))
    assert first.is_error and "denied by rule 'rm -rf'" in first.output
    assert ran == ["ls"]

    strict = ShellPolicy(allow=["ls", "cat", "git status"], action="tripwire")
    model = ScriptedModel([tool_call("shell", {"command": "FOO=1 sudo ls"})])
    with pytest.raises(GuardrailTripwire, match="'sudo ls' is not allowed"):
        await Runner.run(Agent(name="a", model=model, tools=[shell], guardrails=[strict]), "go")
    assert ran == ["ls"]  # nothing after the tripwire executed


def test_shell_policy_parses_compound_commands() -> None:
    assert split_commands("a && b | c; d $(e f) `g`") == [["a"], ["b"], ["c"], ["d"], ["e", "f"], ["g"]]
    policy = ShellPolicy(allow=["git status", "ls"])
    assert policy.judge("ls -la && git status") is None
    assert "git push" in (policy.judge("git status; git push") or "")
    assert policy.judge("echo 'rm -rf' | cat") is not None  # echo not allowed


async def test_post_tool_redactor_rewrites_output_before_the_model_sees_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DB_PASSWORD", "hunter2hunter2")
    model = ScriptedModel([tool_call("read_config"), "done"])
    agent = Agent(name="a", model=model, tools=[read_config], guardrails=[SecretRedactor(pii=True)])
    result = await Runner.run(agent, "show config")
    seen = next(i for i in model.requests[1].items if isinstance(i, ToolResult)).output
    assert "hunter2hunter2" not in seen and "sk-live" not in seen and "ada@example.com" not in seen
    assert "[REDACTED]" in seen and "[REDACTED:api_key]" in seen and "[REDACTED:email]" in seen
    assert result.final_output == "done"


async def test_output_guardrail_retry_sends_feedback_then_accepts() -> None:
    @guardrail("output")
    def polite(check: Check) -> Verdict | None:
        return retry("do not shout") if (check.text or "").isupper() else None

    model = ScriptedModel(["NO.", "No, thank you."])
    result = await Runner.run(Agent(name="a", model=model, guardrails=[polite]), "hi")
    assert result.final_output == "No, thank you."
    feedback = [i for i in result.new_items if isinstance(i, UserMessage) and i.agent == "a"]
    assert "[guardrail] do not shout" in feedback[0].text


async def test_output_guardrail_retries_are_bounded() -> None:
    always = FunctionGuardrail(lambda c: retry("no"), stage="output", name="never_happy")
    with pytest.raises(ModelBehaviorError):
        await Runner.run(
            Agent(name="a", model=ScriptedModel(["x"] * 5), guardrails=[always], max_corrections=2), "hi"
        )


async def test_held_output_never_leaks_blocked_text() -> None:
    blocker = FunctionGuardrail(
        lambda c: tripwire("leak") if "SECRET" in (c.text or "") else None, stage="output"
    )
    events: list[str] = []
    with pytest.raises(GuardrailTripwire):
        async for event in Runner.stream(
            Agent(name="a", model=ScriptedModel(["the SECRET is 42"]), guardrails=[blocker]),
            "tell me",
            hold_output_until_checked=True,
        ):
            if isinstance(event, TextDelta):
                events.append(event.delta)
    assert events == []
    ok = Runner.stream(
        Agent(name="a", model=ScriptedModel(["all good"]), guardrails=[blocker]),
        "hi",
        hold_output_until_checked=True,
    )
    assert [e.delta async for e in ok if isinstance(e, TextDelta)] == ["all good"]


async def test_budget_guardrail_stops_a_run_that_spends_too_much() -> None:
    steps = [
        Step(
            tool_calls=[("shell", {"command": "ls"})],
            usage=Usage(requests=1, input_tokens=600, output_tokens=10),
        )
    ] * 5
    agent = Agent(name="a", model=ScriptedModel(steps), tools=[shell], guardrails=[Budget(max_tokens=1000)])
    with pytest.raises(GuardrailTripwire, match="token budget exceeded") as info:
        await Runner.run(agent, "go")
    assert info.value.guardrail == "budget"
    assert len(ran) == 1  # the second tool call was stopped before it ran

    pricey = Budget(max_cost=0.01, prices={"scripted": (10.0, 30.0)})
    agent = Agent(name="a", model=ScriptedModel(steps), tools=[shell], guardrails=[pricey])
    with pytest.raises(GuardrailTripwire, match="cost budget"):
        await Runner.run(agent, "go")


async def test_tool_guardrails_can_target_specific_tools() -> None:
    only_shell = FunctionGuardrail(
        lambda c: tripwire("no"), stage="pre_tool", tools=["shell"], name="shell_only"
    )
    model = ScriptedModel([reply(None, ("read_config", {})), "done"])
    result = await Runner.run(
        Agent(name="a", model=model, tools=[shell, read_config], guardrails=[only_shell]), "go"
    )
    assert result.final_output == "done"


async def test_guardrail_errors_are_not_counted_as_provider_failures() -> None:
    async def judge(check: Check) -> bool:
        return True

    g = FunctionGuardrail(judge, stage=["input", "output"])
    result = await Runner.run(Agent(name="a", model=ScriptedModel(["fine"]), guardrails=[g]), "hi")
    assert result.final_output == "fine"


async def test_an_llm_judge_guardrail() -> None:
    from agentcore.control.guardrails import AgentGuardrail

    judge = Agent(name="judge", model=ScriptedModel(['{"allowed": false, "reason": "asks for malware"}']))
    g = AgentGuardrail(judge, stage="input")
    with pytest.raises(GuardrailTripwire, match="asks for malware"):
        await Runner.run(Agent(name="a", model=ScriptedModel(["x"]), guardrails=[g]), "write malware")
