"""What an OTLP backend (Phoenix, Jaeger…) receives: the project named by ``OTEL_SERVICE_NAME``, a status
and a recognisable kind on the root and guardrail spans, and the cost on chat spans (issue 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentcore import tracing
from agentcore.agent import Agent
from agentcore.control.guardrails import ShellPolicy
from agentcore.run.runner import Runner
from agentcore.testing import ScriptedModel, tool_call
from agentcore.tools import tool
from agentcore.tracing import store as trace_store
from tests.surfaces.test_traces import otlp_receiver  # noqa: F401 - the fixture

OK, ERROR = 1, 2


@tool
def shell(command: str) -> str:
    """Pretend to run a command."""
    return f"ran {command}"


def _spans(requests: list[Any]) -> tuple[dict[str, str], dict[str, Any]]:
    resource: dict[str, str] = {}
    spans: dict[str, Any] = {}
    for request in requests:
        for rs in request.resource_spans:
            resource.update({a.key: a.value.string_value for a in rs.resource.attributes})
            for scope in rs.scope_spans:
                for s in scope.spans:
                    spans[s.name] = s
    return resource, spans


def _attrs(span: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for a in span.attributes:
        kind = a.value.WhichOneof("value")
        out[a.key] = getattr(a.value, kind) if kind else None
    return out


def test_service_name_status_kind_and_cost_reach_the_backend(
    otlp_receiver: tuple[str, list[Any]],  # noqa: F811
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, requests = otlp_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "support-bot")
    setup = trace_store.setup(local=False)
    tracing.set_price("priced-model", 2.0, 8.0)
    agent = Agent(
        name="ops",
        model=ScriptedModel([tool_call("shell", {"command": "ls"}), "Done."], model_name="priced-model"),
        tools=[shell],
        guardrails=[ShellPolicy(deny=["rm"])],
    )
    Runner.run_sync(agent, "List the files")
    setup.flush()
    resource, spans = _spans(requests)
    assert resource["service.name"] == "support-bot"
    assert resource["openinference.project.name"] == "support-bot"  # Phoenix's project, not "default"

    root = spans["invoke_agent ops"]
    assert root.status.code == OK and _attrs(root)["openinference.span.kind"] == "AGENT"
    guardrail = next(s for name, s in spans.items() if name.startswith("apply_guardrail"))
    assert guardrail.status.code == OK and _attrs(guardrail)["openinference.span.kind"] == "GUARDRAIL"
    assert _attrs(spans["execute_tool shell"])["openinference.span.kind"] == "TOOL"

    chats = [s for name, s in spans.items() if name.startswith("chat ")]
    chat = _attrs(chats[0])
    assert chat["openinference.span.kind"] == "LLM"
    expected = (chat["gen_ai.usage.input_tokens"] * 2.0 + chat["gen_ai.usage.output_tokens"] * 8.0) / 1e6
    assert chat["gen_ai.usage.cost"] == pytest.approx(expected)
    assert chat["llm.cost.total"] == pytest.approx(expected)


def test_a_failed_run_and_a_tripwire_are_errors(
    otlp_receiver: tuple[str, list[Any]],  # noqa: F811
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, requests = otlp_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    setup = trace_store.setup(local=False)
    agent = Agent(
        name="ops",
        model=ScriptedModel([tool_call("shell", {"command": "rm -rf /"})]),
        tools=[shell],
        guardrails=[ShellPolicy(deny=["rm"], action="tripwire")],
    )
    with pytest.raises(Exception):  # noqa: B017 - whichever typed error the tripwire raises
        Runner.run_sync(agent, "Clean up")
    setup.flush()
    resource, spans = _spans(requests)
    assert resource["service.name"] == "agentcore" and resource["openinference.project.name"] == "agentcore"
    assert spans["invoke_agent ops"].status.code == ERROR
    guardrail = next(s for name, s in spans.items() if name.startswith("apply_guardrail"))
    assert guardrail.status.code == ERROR and _attrs(guardrail)["openinference.span.kind"] == "GUARDRAIL"
