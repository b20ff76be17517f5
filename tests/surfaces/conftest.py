"""Shared fixtures: a private data directory per test, and a helper to write definition files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agentcore.tracing import store as trace_store
from tests.emulators.openai_chat import ChatCompletionsEmulator, ChatQuirks


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Sessions, traces and approval keys of each test live in its own directory."""
    path = tmp_path / "home"
    monkeypatch.setenv("AGENTCORE_HOME", str(path))
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_TRACES_EXPORTER",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "AGENTCORE_ALLOW_MODULES",
        "OTEL_SDK_DISABLED",
        "AGENTCORE_TRACES",  # the suite turns the local store off; these tests see the user's default
    ):
        monkeypatch.delenv(name, raising=False)
    trace_store.reset()
    yield path
    trace_store.reset()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """``write("agent.yaml", text)``: a dedented file in the test's directory."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def emulator() -> Iterator[ChatCompletionsEmulator]:
    """A local Chat Completions server (it asks for no key), stopped after the test."""
    emu = ChatCompletionsEmulator(ChatQuirks(api_key=None)).start()
    yield emu
    emu.stop()
