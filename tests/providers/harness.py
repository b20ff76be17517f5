"""The provider contract suite's view of an adapter: an emulator plus a way to build the Model.

Each vendor emulator module in ``tests/emulators/`` exposes ``harness() -> Harness``. The fixtures in
``conftest.py`` parametrize the contract suite over every harness whose module exists.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentcore import RetryPolicy, tracing
from agentcore.model import Model, ToolSpec
from tests.emulators.base import Emulator

CASSETTES = Path(__file__).resolve().parents[2].parent / "shared" / "cassettes"
"""Real recorded exchanges with each vendor, one folder per vendor (see its PROVENANCE.md)."""

WEATHER = ToolSpec(
    "get_weather", "Weather for a city.", {"type": "object", "properties": {"city": {"type": "string"}}}
)
FAST = RetryPolicy(initial_delay=0.001, max_delay=0.01, jitter=0.0)  # retries without waiting
TIME = ToolSpec("get_time", "Current time.", {"type": "object", "properties": {}})

# registry name -> emulator module
HARNESS_MODULES: dict[str, str] = {
    "openai": "tests.emulators.openai_responses",
    "openai-chat": "tests.emulators.openai_chat",
    "anthropic": "tests.emulators.anthropic",
    "google": "tests.emulators.gemini",
    "google-interactions": "tests.emulators.gemini:interactions_harness",
}


@dataclass
class Harness:
    name: str
    """The provider's registry name (``openai``, ``openai-chat``, ``anthropic``, ``google``)."""
    emulator: Emulator
    make_model: Callable[..., Model]
    """``make_model(**options)`` builds the adapter pointed at the running emulator."""
    supports_reasoning: bool = True

    def model(self, **options: Any) -> Model:
        return self.make_model(**options)


def _factory(name: str) -> Callable[[], Harness] | None:
    module, _, attr = HARNESS_MODULES[name].partition(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError:
        return None
    factory: Callable[[], Harness] | None = getattr(mod, attr or "harness", None)
    return factory


def available() -> list[str]:
    return [name for name in HARNESS_MODULES if _factory(name) is not None]


def make(name: str) -> Harness:
    factory = _factory(name)
    assert factory is not None, f"no harness for {name}"
    return factory()


PROVIDERS = ["openai", "openai-chat", "anthropic", "google", "google-interactions"]


@contextlib.contextmanager
def started(name: str) -> Iterator[Harness]:
    """The harness of provider ``name`` with its emulator running on 127.0.0.1 (a test fails without one)."""
    if name not in available():
        pytest.fail(f"no emulator/harness for {name}")
    h = make(name)
    h.emulator.start()
    try:
        yield h
    finally:
        h.emulator.stop()


E = TypeVar("E", bound=Emulator)


def emulator_fixture(factory: Callable[[], E], name: str) -> Any:
    """A pytest fixture ``name`` that starts ``factory()`` for one test and stops it afterwards."""

    @pytest.fixture(name=name)
    def running() -> Iterator[E]:
        emulator = factory()
        emulator.start()
        try:
            yield emulator
        finally:
            emulator.stop()

    return running


def span_exporter_fixture() -> Any:
    """A pytest fixture ``spans``: agentcore's spans (and the adapters' notes on them) in memory for
    one test, as the bare exporter (``tests/spans.py`` has the richer ``Spans`` view)."""

    @pytest.fixture(name="spans")
    def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        monkeypatch.setattr(tracing, "_provider", provider)
        monkeypatch.setattr(tracing, "_tracer", None)
        yield exporter
        provider.shutdown()

    return spans


async def shell_runs_once_approved(model: Model) -> None:
    """A run whose model (scripted to ask for ``echo approved > flag; cat flag``, then to say "ran it")
    works in a local sandbox where ``shell`` needs approval: it pauses before the command runs, and
    runs it once approved."""
    from agentcore import Agent, Runner
    from tests.sandboxes.backends import local_sandbox

    sandbox = local_sandbox(approve_tools=("shell",), lifetime="session")
    agent = Agent(name="ops", model=model, sandbox=sandbox)
    try:
        paused = await Runner.run(agent, "do it")
        assert paused.paused and paused.interruptions[0].call.name == "shell"
        assert (await sandbox.exec(["test", "-f", "flag"])).exit_code != 0
        paused.state.approve_all()
        done = await Runner.run(agent, paused.state)
        assert done.final_output == "ran it"
    finally:
        await sandbox.close()


async def run_under_rm_policy(model: Model) -> None:
    """A run of ``model`` (scripted to ask for a shell command with ``rm`` in it, then to give up) in a
    local sandbox, under a ShellPolicy that denies ``rm`` and asks the model to retry."""
    from agentcore import Agent, Runner
    from agentcore.control.shell_policy import ShellPolicy
    from tests.sandboxes.backends import local_sandbox

    sandbox = local_sandbox()
    agent = Agent(
        name="coder", model=model, sandbox=sandbox, guardrails=[ShellPolicy(deny=["rm"], action="retry")]
    )
    try:
        await Runner.run(agent, "clean up")
    finally:
        await sandbox.close()
