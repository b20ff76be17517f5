"""``agentcore ui`` in a real browser (Debian's chromium, headless, through Selenium).

Every assertion is on the rendered page: runs produced by real agentcore runs with the scripted model,
the run page's waterfall and conversation, a run that updates live while it is in progress, OTLP
posts (JSON, and protobuf from the OpenTelemetry SDK's own exporter), and a 10,000-run store that
pages. Screenshots go to docs/img/ (linked from docs/ui.md) when AGENTCORE_REGENERATE_DOCS=1, else to the temp dir.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

try:
    from selenium.webdriver.common.by import By
except ImportError:  # the browser fixture skips, or fails under CI=true
    By = None

from agentcore import tracing
from agentcore.agent import Agent
from agentcore.control.guardrails import ShellPolicy
from agentcore.errors import MaxTurnsExceeded
from agentcore.run.runner import Runner
from agentcore.sessions import SQLiteSession
from agentcore.testing import ScriptedModel, tool_call
from agentcore.tools import tool
from agentcore.tracing import store as trace_store

from .conftest import ROOT, wait_until
from .store_gen import write_runs

# The screenshots docs/ui.md shows: rewritten only on request, so a test run leaves the tree clean.
IMG = ROOT / "docs" / "img" if os.environ.get("AGENTCORE_REGENERATE_DOCS") else Path(tempfile.gettempdir())
DASH = "\N{EN DASH}"  # the pager says 1, en dash, 50 of N


@tool
def shell(command: str) -> str:
    """Pretend to run a command."""
    return f"ran {command}"


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def lookup(key: str) -> str:
    """Look a key up (this one always fails)."""
    raise KeyError(key)


def demo_run(session: SQLiteSession) -> str:
    """A run with a failing tool, a guardrail, a handoff and a tool call; returns its trace id."""
    specialist = Agent(
        name="math",
        model=ScriptedModel([tool_call("add", {"a": 2, "b": 3}), "It is 5."], model_name="scripted-math"),
        tools=[add],
    )
    triage = Agent(
        name="triage",
        model=ScriptedModel(
            [
                tool_call("lookup", {"key": "pricing"}),
                tool_call("shell", {"command": "rm -rf /"}),
                tool_call("transfer_to_math"),
            ],
            model_name="scripted-triage",
        ),
        tools=[shell, lookup],
        handoffs=[specialist],
        guardrails=[ShellPolicy(deny=["rm"])],
    )
    result = Runner.run_sync(triage, "What is 2+3?", session=session)
    assert result.final_output == "It is 5." and result.trace_id
    return result.trace_id


def text(driver: Any, css: str) -> str:
    return "\n".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, css))


def test_runs_list_and_run_page_show_a_real_run(home: Path, serve: Any, browser: Any) -> None:
    traces = trace_store.setup(local=True)
    tracing.set_price("scripted-triage", 3.0, 15.0)  # USD per million tokens: chat spans carry a cost
    trace_id = demo_run(SQLiteSession("support-demo", home / "sessions.db"))
    failing = Agent(name="looper", model=ScriptedModel([tool_call("add", {"a": 1, "b": 1})] * 3), tools=[add])
    try:
        Runner.run_sync(failing, "Loop forever", max_turns=1)
    except MaxTurnsExceeded:
        pass
    traces.flush()
    ui = serve()

    browser.get(ui.url + "/")
    row = wait_until(
        lambda: browser.find_elements(By.CSS_SELECTOR, f'tr[data-trace="{trace_id}"]'), what="the run's row"
    )[0]
    assert "triage" in row.text and "scripted-triage" in row.text and "scripted-math" in row.text
    assert "What is 2+3?" in row.text and "ok" in row.text and "$" in row.text  # status, input, cost
    failed = wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "tr.run.error"), what="the failed run")
    assert "looper" in failed[0].text and "error" in failed[0].text

    browser.find_element(By.ID, "q").send_keys("loop forever")  # search
    wait_until(lambda: len(browser.find_elements(By.CSS_SELECTOR, "tr.run")) == 1, what="search narrows")
    assert "looper" in text(browser, "tr.run")

    browser.get(ui.url + f"/runs/{trace_id}")
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".wf-row"), what="the waterfall")
    names = text(browser, ".wf-name")
    for expected in (
        "invoke_agent triage",
        "chat scripted-triage",
        "execute_tool lookup",
        "apply_guardrail",
        "execute_tool transfer_to_math",
        "invoke_agent math",
        "execute_tool add",
    ):
        assert expected in names, names
    kinds = {e.get_attribute("data-type") for e in browser.find_elements(By.CSS_SELECTOR, ".wf-row")}
    assert {"agent", "model", "tool", "guardrail", "handoff"} <= kinds
    errors = text(browser, ".wf-row.error .wf-name")
    assert "execute_tool lookup" in errors  # the failing tool is highlighted
    assert "session\nsupport-demo" in text(browser, "#summary").lower()  # the session it belongs to

    conversation = text(browser, ".msg")
    assert "What is 2+3?" in conversation and "It is 5." in conversation
    assert text(browser, ".msg .tool-call b").split() == ["lookup", "shell", "transfer_to_math", "add"]
    assert '"a": 2' in text(browser, ".msg .tool-call pre")  # the call's arguments
    results = text(browser, ".msg.tool")
    assert "5" in results and "KeyError" in results  # tool results, the failure too

    # A model call's request and response bodies (content capture was on).
    browser.find_element(By.CSS_SELECTOR, '.wf-row[data-type="model"]').click()
    details = wait_until(lambda: text(browser, "#details"), what="the span details")
    assert "Request" in details and "gen_ai.input.messages" in details and "What is 2+3?" in details
    assert "Response" in details and "gen_ai.output.messages" in details
    IMG.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(IMG / "ui-run.png"))

    browser.find_element(By.LINK_TEXT, "support-demo (11 items)").click()  # the session's runs
    wait_until(
        lambda: browser.find_element(By.ID, "range").text == f"1{DASH}1 of 1", what="the session's runs"
    )
    assert browser.find_element(By.CSS_SELECTOR, "tr.run").get_attribute("data-trace") == trace_id


def test_a_run_in_progress_updates_live(home: Path, serve: Any, browser: Any) -> None:
    traces = trace_store.setup(local=True)
    ui = serve()
    browser.get(ui.url + "/")
    wait_until(lambda: browser.execute_script("return document.body.dataset.loaded"), what="the empty list")
    entered, release = threading.Event(), threading.Event()

    @tool
    def slow_step(step: str) -> str:
        """A step that waits for the test."""
        entered.set()
        release.wait(120)
        return f"{step} done"

    agent = Agent(
        name="builder",
        model=ScriptedModel([tool_call("slow_step", {"step": "compile"}), "Built."]),
        tools=[slow_step],
    )
    outcome: list[Any] = []
    runner = threading.Thread(target=lambda: outcome.append(Runner.run_sync(agent, "Build it")), daemon=True)
    runner.start()
    try:
        assert entered.wait(120)
        traces.flush()  # the first model call has ended: its span reaches the store, the root has not
        row = wait_until(
            lambda: browser.find_elements(By.CSS_SELECTOR, "tr.run.running"), what="a running run"
        )
        assert "builder" in row[0].text and "running" in row[0].text
    finally:
        release.set()
    runner.join(120)
    traces.flush()
    done = wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "tr.run.ok"), what="the run finished")
    assert "builder" in done[0].text and not browser.find_elements(By.CSS_SELECTOR, "tr.run.running")


DEFINITION = """\
version: 1
models:
  m:
    provider: scripted
    model: scripted-cli
    options: {steps: ["Paris is the capital of France."]}
    pricing: {input_per_mtok: 1.0, output_per_mtok: 2.0}
agents:
  geo:
    model: m
    instructions: Answer briefly.
"""


def test_an_agentcore_run_appears_without_a_reload(
    home: Path, serve: Any, browser: Any, tmp_path: Path
) -> None:
    ui = serve()
    browser.get(ui.url + "/")
    wait_until(lambda: browser.execute_script("return document.body.dataset.loaded"), what="the empty list")
    assert browser.find_element(By.ID, "range").text == "0 runs"
    definition = tmp_path / "agent.yaml"
    definition.write_text(DEFINITION)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentcore.cli",
            "run",
            str(definition),
            "What is the capital of France?",
            "--session",
            "geo-demo",
        ],
        env={**os.environ, "AGENTCORE_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    row = wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "tr.run"), what="the CLI's run")[0]
    assert "geo" in row.text and "scripted-cli" in row.text and "What is the capital of France?" in row.text
    assert "$0.0000" in row.text  # priced in the definition: the chat span carries the cost
    row.click()
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".msg"), what="the conversation")
    assert text(browser, ".msg.system").endswith("Answer briefly.")
    assert "What is the capital of France?" in text(browser, ".msg.user")
    assert "Paris is the capital of France." in text(browser, ".msg.assistant")
    assert "geo-demo" in text(browser, "#summary")


def _otlp_json() -> dict[str, Any]:
    now = time.time_ns()
    trace = "5b8efff798038103d269b633813fc60c"

    def attr(key: str, value: Any) -> dict[str, Any]:
        if isinstance(value, int):
            return {"key": key, "value": {"intValue": str(value)}}
        return {"key": key, "value": {"stringValue": value}}

    messages = [{"role": "user", "parts": [{"type": "text", "content": "Summarise the ticket"}]}]
    answer = [{"role": "assistant", "parts": [{"type": "text", "content": "The printer is on fire."}]}]
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [attr("service.name", "helpdesk-app")]},
                "scopeSpans": [
                    {
                        "scope": {"name": "their.instrumentation"},
                        "spans": [
                            {
                                "traceId": trace,
                                "spanId": "eee19b7ec3c1b174",
                                "name": "invoke_agent summariser",
                                "kind": 1,
                                "startTimeUnixNano": str(now - 2_000_000_000),
                                "endTimeUnixNano": str(now),
                                "status": {"code": 1},
                                "attributes": [
                                    attr("gen_ai.operation.name", "invoke_agent"),
                                    attr("gen_ai.agent.name", "summariser"),
                                ],
                            },
                            {
                                "traceId": trace,
                                "spanId": "eee19b7ec3c1b176",
                                "parentSpanId": "eee19b7ec3c1b174",
                                "name": "agentcore.sandbox.exec docker",
                                "startTimeUnixNano": str(now - 90_000_000),
                                "endTimeUnixNano": str(now - 10_000_000),
                                "attributes": [
                                    attr("process.command_line", "make test"),
                                    attr("process.exit.code", 2),
                                ],
                            },
                            {
                                "traceId": trace,
                                "spanId": "eee19b7ec3c1b175",
                                "parentSpanId": "eee19b7ec3c1b174",
                                "name": "chat gpt-4o-mini",
                                "kind": "SPAN_KIND_CLIENT",
                                "startTimeUnixNano": str(now - 1_900_000_000),
                                "endTimeUnixNano": str(now - 100_000_000),
                                "attributes": [
                                    attr("gen_ai.operation.name", "chat"),
                                    attr("gen_ai.request.model", "gpt-4o-mini"),
                                    attr("gen_ai.usage.input_tokens", 1200),
                                    attr("gen_ai.usage.output_tokens", 80),
                                    attr("gen_ai.input.messages", json.dumps(messages)),
                                    attr("gen_ai.output.messages", json.dumps(answer)),
                                ],
                            },
                        ],
                    }
                ],
            }
        ]
    }


def test_otlp_posts_show_up(home: Path, serve: Any, browser: Any) -> None:
    ui = serve()
    request = urllib.request.Request(
        ui.url + "/v1/traces", json.dumps(_otlp_json()).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200

    # protobuf, from the OpenTelemetry SDK's own OTLP/HTTP exporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-app"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=ui.url + "/v1/traces")))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span(
        "invoke_agent researcher",
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher"},
    ):
        with tracer.start_as_current_span(
            "chat claude-sonnet",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "claude-sonnet",
                "gen_ai.usage.input_tokens": 50,
                "gen_ai.usage.output_tokens": 7,
            },
        ):
            pass
    provider.shutdown()

    browser.get(ui.url + "/")
    rows = wait_until(
        lambda: (
            len(browser.find_elements(By.CSS_SELECTOR, "tr.run")) == 2
            and browser.find_elements(By.CSS_SELECTOR, "tr.run")
        ),
        what="both OTLP runs",
    )
    listed = "\n".join(r.text for r in rows)
    assert "summariser" in listed and "gpt-4o-mini" in listed and "1,200 / 80" in listed
    assert "researcher" in listed and "claude-sonnet" in listed and "50 / 7" in listed
    browser.get(ui.url + "/runs/5b8efff798038103d269b633813fc60c")
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".msg"), what="the OTLP conversation")
    assert "Summarise the ticket" in text(browser, ".msg.user")
    assert "The printer is on fire." in text(browser, ".msg.assistant")
    assert "helpdesk-app" in text(browser, "#summary")
    sandbox = browser.find_element(By.CSS_SELECTOR, '.wf-row[data-type="sandbox"]')
    assert "exit=2" in sandbox.text and "error" in sandbox.get_attribute("class")  # a failed command is red


def test_ten_thousand_runs_page(home: Path, serve: Any, browser: Any) -> None:
    write_runs(home / "traces", 10_000)
    ui = serve()
    wait_until(
        lambda: json.load(urllib.request.urlopen(ui.url + "/api/version", timeout=30))["ready"],
        what="the index is built",
        limit=3000,
    )
    started = time.perf_counter()
    browser.get(ui.url + "/")
    wait_until(lambda: "of 10,000" in browser.find_element(By.ID, "range").text, what="the first page")
    loaded = time.perf_counter() - started
    assert browser.find_element(By.ID, "range").text == f"1{DASH}50 of 10,000"
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.run")) == 50
    first = browser.find_element(By.CSS_SELECTOR, "tr.run").get_attribute("data-trace")
    IMG.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(IMG / "ui-runs.png"))

    browser.find_element(By.ID, "next").click()
    wait_until(lambda: browser.find_element(By.ID, "range").text == f"51{DASH}100 of 10,000", what="page 2")
    assert browser.find_element(By.CSS_SELECTOR, "tr.run").get_attribute("data-trace") != first
    browser.find_element(By.ID, "status").send_keys("error")
    wait_until(
        lambda: browser.find_element(By.ID, "range").text.startswith(f"1{DASH}50 of 1,000"), what="errors"
    )
    assert all("error" in r.text for r in browser.find_elements(By.CSS_SELECTOR, "tr.run"))
    started = time.perf_counter()
    browser.get(ui.url + "/?q=ticket-9999")
    wait_until(lambda: browser.find_element(By.ID, "range").text == f"1{DASH}1 of 1", what="search")
    searched = time.perf_counter() - started
    print(
        f"\n10,000 runs: first page {loaded * 1000:.0f} ms, search {searched * 1000:.0f} ms (load included)"
    )
