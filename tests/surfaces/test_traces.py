"""The local trace store, the tree view, and OTLP export to a real OTLP/HTTP receiver."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agentcore.agent import Agent
from agentcore.control.guardrails import ShellPolicy
from agentcore.errors import GuardrailTripwire
from agentcore.run.runner import Runner
from agentcore.testing import ScriptedModel, tool_call
from agentcore.tools import tool
from agentcore.tracing import store as trace_store
from agentcore.tracing import view as trace_view


@tool
def shell(command: str) -> str:
    """Pretend to run a command."""
    return f"ran {command}"


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def run_demo() -> str | None:
    """A run with a tool call, a handoff and a guardrail feedback; returns its trace id."""
    specialist = Agent(
        name="math", model=ScriptedModel([tool_call("add", {"a": 2, "b": 3}), "It is 5."]), tools=[add]
    )
    triage = Agent(
        name="triage",
        model=ScriptedModel([tool_call("shell", {"command": "rm -rf /"}), tool_call("transfer_to_math")]),
        tools=[shell],
        handoffs=[specialist],
        guardrails=[ShellPolicy(deny=["rm"])],
    )
    result = Runner.run_sync(triage, "What is 2+3?")
    assert result.final_output == "It is 5."
    return result.trace_id


def test_spans_go_to_the_local_store_with_content(home: Path) -> None:
    setup = trace_store.setup()
    trace_id = run_demo()
    setup.flush()
    files = list((home / "traces").glob("*.jsonl"))
    assert len(files) == 1
    found = trace_store.find_trace(trace_id)
    assert found is not None
    spans = found[1]
    tool_span = next(s for s in spans if s["name"] == "execute_tool add")
    assert tool_span["attributes"]["gen_ai.tool.call.arguments"] == '{"a": 2, "b": 3}'
    assert tool_span["attributes"]["gen_ai.tool.call.result"] == "5"
    [summary] = trace_store.list_traces()
    assert summary.trace_id == trace_id and summary.input_tokens > 0 and summary.spans == len(spans)
    assert trace_store.find_trace(trace_id[:8]) == found  # a unique prefix is enough
    assert trace_store.find_trace(summary.run_id) == found  # so is the run id


def test_the_tree_shows_agents_model_calls_tools_guardrails_and_handoffs(home: Path) -> None:
    setup = trace_store.setup()
    trace_id = run_demo()
    setup.flush()
    found = trace_store.find_trace(trace_id)
    assert found is not None
    text = re.sub(r"\[\d+ms\]", "[Nms]", trace_view.render(found[1]))
    text = re.sub(r"id=call_[\w]+", "id=ID", text)
    lines = text.splitlines()
    assert lines[0].startswith("invoke_agent triage  [Nms]  tokens in=")
    assert any(
        re.match(r"├─ chat scripted  \[Nms\]  in=\d+ out=\d+  agentcore.scripted  finish=tool_calls", ln)
        for ln in lines
    )
    guard = next(ln for ln in lines if "apply_guardrail shell_policy" in ln)
    assert "pre_tool  retry  command 'rm -rf /' is denied by rule 'rm'" in guard
    handoff = next(ln for ln in lines if "execute_tool transfer_to_math" in ln)
    assert "→ math" in handoff
    # the handoff target's activation nests under the transfer, with its own model and tool calls
    assert "   └─ invoke_agent math  [Nms]" in lines
    assert any("execute_tool add" in ln and 'id=ID  args={"a": 2, "b": 3}  result=5' in ln for ln in lines)
    assert lines[-1].startswith("      └─ chat scripted  [Nms]")


def span(name: str, sid: str, parent: str | None, start: int, end: int, **attrs: Any) -> dict[str, Any]:
    status = attrs.pop("status", "UNSET")
    return {
        "trace_id": "t" * 32,
        "span_id": sid,
        "parent_id": parent,
        "name": name,
        "start": start * 1_000_000,
        "end": end * 1_000_000,
        "status": status,
        "status_message": attrs.pop("message", None),
        "attributes": attrs,
        "events": [],
    }


GOLDEN_SPANS = [
    span(
        "invoke_agent coder",
        "a",
        None,
        0,
        900,
        **{
            "gen_ai.operation.name": "invoke_agent",
            "agentcore.usage.input_tokens": 300,
            "agentcore.usage.output_tokens": 40,
            "agentcore.turns": 2,
        },
    ),
    span(
        "chat gpt-5",
        "b",
        "a",
        10,
        300,
        **{
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": 120,
            "gen_ai.usage.output_tokens": 18,
            "gen_ai.provider.name": "openai",
            "gen_ai.response.finish_reasons": ["tool_calls"],
        },
    ),
    span(
        "execute_tool shell",
        "c",
        "a",
        310,
        500,
        **{
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.call.id": "call_1",
            "gen_ai.tool.call.arguments": '{"command": "pytest -q"}',
            "agentcore.tool.is_error": True,
            "status": "ERROR",
            "error.type": "ToolError",
            "message": "exit 1",
        },
    ),
    span(
        "agentcore.sandbox.exec docker",
        "d",
        "c",
        320,
        490,
        **{
            "process.command_line": "pytest -q",
            "process.exit.code": 1,
            "agentcore.sandbox.backend": "docker",
        },
    ),
    span(
        "chat gpt-5",
        "e",
        "a",
        510,
        880,
        **{
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": 180,
            "gen_ai.usage.output_tokens": 22,
            "agentcore.retry.attempt": 1,
        },
    ),
]
GOLDEN_TREE = """\
invoke_agent coder  [900ms]  tokens in=300 out=40  turns=2
├─ chat gpt-5  [290ms]  in=120 out=18  openai  finish=tool_calls
├─ execute_tool shell  [190ms]  id=call_1  args={"command": "pytest -q"}  ERROR ToolError: exit 1
│  └─ agentcore.sandbox.exec docker  [170ms]  $ pytest -q  exit=1  docker
└─ chat gpt-5  [370ms]  in=180 out=22  retry #1"""


def test_golden_tree_and_colors() -> None:
    assert trace_view.render(GOLDEN_SPANS) == GOLDEN_TREE
    colored = trace_view.render(GOLDEN_SPANS, color=True).splitlines()
    assert colored[2].startswith("├─ \033[31mexecute_tool shell")  # errors in red
    assert colored[4].startswith("└─ \033[33mchat gpt-5")  # retries in yellow
    nested = trace_view.to_json(GOLDEN_SPANS)
    assert [c["name"] for c in nested[0]["children"]] == ["chat gpt-5", "execute_tool shell", "chat gpt-5"]


class _Receiver(BaseHTTPRequestHandler):
    requests: list[ExportTraceServiceRequest] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces" and self.headers["Content-Type"] == "application/x-protobuf":
            message = ExportTraceServiceRequest()
            message.ParseFromString(body)
            type(self).requests.append(message)
            self.send_response(200)
        else:
            self.send_response(404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def otlp_receiver() -> Iterator[tuple[str, list[ExportTraceServiceRequest]]]:
    """A real OTLP/HTTP (protobuf) receiver on 127.0.0.1."""
    _Receiver.requests = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Receiver.requests
    server.shutdown()
    server.server_close()


def exported(requests: list[ExportTraceServiceRequest]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for request in requests:
        for resource_spans in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}[
                "service.name"
            ]
            for scope in resource_spans.scope_spans:
                for s in scope.spans:
                    attrs = {a.key: a.value for a in s.attributes}
                    out[s.name] = {"attributes": attrs, "service": service, "trace_id": s.trace_id.hex()}
    return out


def test_otlp_export_without_content(
    otlp_receiver: tuple[str, list[Any]], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, requests = otlp_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "support-bot")
    setup = trace_store.setup()
    assert setup.otlp and setup.local is not None
    trace_id = run_demo()
    setup.flush()
    spans = exported(requests)
    assert {"invoke_agent triage", "execute_tool add", "apply_guardrail shell_policy"} <= set(spans)
    tool_span = spans["execute_tool add"]
    assert tool_span["service"] == "support-bot" and tool_span["trace_id"] == trace_id
    assert tool_span["attributes"]["gen_ai.tool.name"].string_value == "add"
    chat = next(v for k, v in spans.items() if k.startswith("chat"))
    assert chat["attributes"]["gen_ai.usage.input_tokens"].int_value > 0
    for s in spans.values():  # content never leaves the machine by default...
        assert not set(s["attributes"]) & trace_store.CONTENT_KEYS
    local = trace_store.find_trace(trace_id)  # ...but the local store has it
    assert local is not None
    assert any("gen_ai.tool.call.arguments" in s["attributes"] for s in local[1])


def test_otlp_export_with_content_when_the_user_opts_in(
    otlp_receiver: tuple[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, requests = otlp_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{url}/v1/traces")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    setup = trace_store.setup(local=False)
    run_demo()
    setup.flush()
    spans = exported(requests)
    assert (
        spans["execute_tool add"]["attributes"]["gen_ai.tool.call.arguments"].string_value
        == '{"a": 2, "b": 3}'
    )


USER_PROVIDER = """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
from agentcore import trace_store
from agentcore.agent import Agent
from agentcore.runner import Runner
from agentcore.testing import ScriptedModel
setup = trace_store.setup()
assert setup.provider is None, setup
Runner.run_sync(Agent(name="a", model=ScriptedModel(["hi"])), "hello")
print(sorted(s.name for s in exporter.get_finished_spans()))
"""


def test_a_user_installed_provider_is_never_replaced(home: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", USER_PROVIDER],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "AGENTCORE_HOME": str(home)},
    )
    assert out.returncode == 0, out.stderr
    assert "invoke_agent a" in out.stdout
    assert not (home / "traces").exists() or not list((home / "traces").glob("*.jsonl"))


def test_the_local_store_can_be_switched_off(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTCORE_TRACES", "off")
    setup = trace_store.setup()
    assert setup.local is None and not setup.otlp
    run_demo()
    setup.flush()
    assert trace_store.list_traces() == []


def test_guardrail_tripwire_is_red_in_the_tree(home: Path) -> None:
    setup = trace_store.setup()
    agent = Agent(
        name="ops",
        model=ScriptedModel([tool_call("shell", {"command": "sudo reboot"})]),
        tools=[shell],
        guardrails=[ShellPolicy(deny=["sudo"], action="tripwire")],
    )
    with pytest.raises(GuardrailTripwire):
        Runner.run_sync(agent, "reboot")
    setup.flush()
    found = trace_store.find_trace(None)
    assert found is not None
    colored = trace_view.render(found[1], color=True)
    assert "\033[31mapply_guardrail shell_policy" in colored and "tripwire" in colored


def test_shell_calls_show_the_command_and_its_exit_code() -> None:
    spans = [
        span(
            "execute_tool shell",
            "a",
            None,
            0,
            40,
            **{
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "shell",
                "gen_ai.tool.call.arguments": '{"command": "python3 -m unittest -q"}',
                "gen_ai.tool.call.result": "FAILED (failures=1)\n[exit code 1; cwd /workspace]",
            },
        ),
        span(
            "execute_tool shell",
            "b",
            None,
            50,
            60,
            **{
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "shell",
                "gen_ai.tool.call.arguments": '{"command": "ls"}',
                "gen_ai.tool.call.result": "a.py\n[exit code 0; cwd /workspace]",
            },
        ),
    ]
    assert trace_view.render(spans).splitlines() == [
        "execute_tool shell  [40ms]  $ python3 -m unittest -q  exit=1  output=FAILED (failures=1)",
        "execute_tool shell  [10ms]  $ ls  exit=0  output=a.py",
    ]
    assert trace_view.render(spans, color=True).startswith("\033[31m")


def test_an_unavailable_otlp_protocol_is_a_note_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    setup = trace_store.setup()
    assert setup.local is not None
    if importlib.util.find_spec("opentelemetry.exporter.otlp.proto.grpc") is None:
        assert not setup.otlp and "opentelemetry-exporter-otlp-proto-grpc" in setup.notes[0]
    else:
        assert setup.otlp


def test_the_cli_exports_its_runs_over_otlp_without_content(
    otlp_receiver: tuple[str, list[Any]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from agentcore.cli.main import main

    url, requests = otlp_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    path = tmp_path / "a.yaml"
    path.write_text(
        "version: 1\nmodels:\n  m: {provider: scripted, model: s1, options: {steps: ['Hi there']}}\n"
        "agents:\n  greeter: {model: m, instructions: Greet.}\n"
    )
    assert main(["run", str(path), "my secret plan", "--quiet"]) == 0
    assert capsys.readouterr().out == "Hi there\n"
    spans = exported(requests)
    assert {"agentcore run greeter", "invoke_agent greeter", "chat s1"} <= set(spans)
    assert "agentcore.input" not in spans["agentcore run greeter"]["attributes"]
    local = trace_store.find_trace(None)
    assert local is not None
    root = next(s for s in local[1] if s["name"] == "agentcore run greeter")
    assert root["attributes"]["agentcore.input"] == "my secret plan"
