"""Every run emits OpenTelemetry spans that follow the GenAI semantic conventions."""

from __future__ import annotations

import pytest

from agentcore import Agent, InMemorySession, Runner, tool, tracing
from agentcore.messages import Usage
from agentcore.testing import ScriptedModel, Step, tool_call
from tests.core.conftest import Spans


@tool
def lookup(city: str) -> str:
    """Weather."""
    return f"sunny in {city}, token sk-test-1234567890abcdef"


def _model() -> ScriptedModel:
    return ScriptedModel(
        [
            Step(
                tool_calls=[("lookup", {"city": "Oslo"})],
                usage=Usage(requests=1, input_tokens=100, output_tokens=10, cached_input_tokens=40),
            ),
            Step(
                text="It is sunny.",
                usage=Usage(requests=1, input_tokens=130, output_tokens=5, reasoning_tokens=2),
            ),
        ]
    )


async def test_span_tree_and_attributes(spans: Spans) -> None:
    session = InMemorySession("conv-1")
    result = await Runner.run(Agent(name="weather", model=_model(), tools=[lookup]), "Oslo?", session=session)
    root = spans.one("invoke_agent weather")
    chats = spans.named("chat scripted")
    tool_span = spans.one("execute_tool lookup")
    assert len(chats) == 2
    assert all(spans.parent_of(s) is root for s in [*chats, tool_span])
    assert root.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert root.attributes["gen_ai.agent.name"] == "weather"
    assert root.attributes["gen_ai.conversation.id"] == "conv-1"
    assert root.attributes["agentcore.usage.input_tokens"] == 230
    assert "gen_ai.usage.input_tokens" not in root.attributes  # never double counted on the parent
    first = chats[0].attributes
    assert first["gen_ai.operation.name"] == "chat"
    assert first["gen_ai.provider.name"] == "agentcore.scripted"
    assert first["gen_ai.request.model"] == "scripted"
    assert first["gen_ai.usage.input_tokens"] == 100
    assert first["gen_ai.usage.cache_read.input_tokens"] == 40
    assert first["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert chats[1].attributes["gen_ai.usage.reasoning.output_tokens"] == 2
    assert tool_span.attributes["gen_ai.tool.name"] == "lookup"
    assert tool_span.attributes["gen_ai.tool.call.id"].startswith("call_")
    assert result.trace_id == format(root.context.trace_id, "032x")


async def test_content_is_not_recorded_by_default(spans: Spans) -> None:
    await Runner.run(Agent(name="w", model=_model(), tools=[lookup], instructions="be brief"), "Oslo?")
    for span in spans.all:
        keys = set(span.attributes or {})
        assert not keys & {
            "gen_ai.input.messages",
            "gen_ai.output.messages",
            "gen_ai.system_instructions",
            "gen_ai.tool.call.arguments",
            "gen_ai.tool.call.result",
        }


async def test_content_capture_is_opt_in_and_redacts_secrets(
    spans: Spans, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    monkeypatch.setenv("MY_SERVICE_API_KEY", "sk-test-1234567890abcdef")
    monkeypatch.setattr(tracing, "_secret_values", None)
    await Runner.run(Agent(name="w", model=_model(), tools=[lookup], instructions="be brief"), "Oslo?")
    chat = spans.named("chat")[0]
    assert "Oslo?" in chat.attributes["gen_ai.input.messages"]
    assert chat.attributes["gen_ai.system_instructions"] == "be brief"
    result = spans.one("execute_tool lookup").attributes["gen_ai.tool.call.result"]
    assert "sunny in Oslo" in result
    assert "sk-test-1234567890abcdef" not in result and "[REDACTED]" in result


async def test_failed_runs_mark_spans_as_errors(spans: Spans) -> None:
    with pytest.raises(Exception):  # noqa: B017
        await Runner.run(
            Agent(name="w", model=ScriptedModel([tool_call("lookup", {"city": "x"})] * 3), tools=[lookup]),
            "go",
            max_turns=1,
        )
    root = spans.one("invoke_agent w")
    assert root.status.status_code.name == "ERROR"
    assert root.attributes["error.type"] == "MaxTurnsExceeded"


async def test_no_tracer_provider_means_no_spans_and_no_errors() -> None:
    # The default global provider is a no-op: runs work and report no trace id.
    result = await Runner.run(Agent(name="quiet", model=ScriptedModel(["ok"])), "hi")
    assert result.final_output == "ok"
