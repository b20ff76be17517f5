from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.providers import harness as harness_mod
from tests.providers.harness import Harness

PROVIDERS = harness_mod.PROVIDERS


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """One harness per provider adapter, each with its emulator started on 127.0.0.1."""
    with harness_mod.started(request.param) as h:
        yield h
