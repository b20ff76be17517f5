from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.providers import harness as harness_mod
from tests.providers.harness import Harness

PROVIDERS = ["openai", "openai-chat", "anthropic", "google", "google-interactions"]


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """One harness per provider adapter, each with its emulator started on 127.0.0.1."""
    if request.param not in harness_mod.available():
        pytest.fail(f"no emulator/harness for {request.param}")
    h = harness_mod.make(request.param)
    h.emulator.start()
    try:
        yield h
    finally:
        h.emulator.stop()
