"""Fixtures of the native tool suites: real sandboxes from ``tests/sandboxes/backends.py``.

``sandbox``: a started local (bubblewrap) sandbox. ``any_sandbox``: the same over local and docker (a module
chooses with ``NATIVE_BACKENDS``). A backend that cannot run here is skipped, except under ``CI=true`` when
CI requires it (local, docker): then the test fails.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agentcore.sandboxes.base import Sandbox
from tests.sandboxes.backends import BACKENDS, Backend, sandbox_config


def require(name: str) -> Backend:
    backend = BACKENDS.get(name)
    if backend is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{name} backend is not registered in tests/sandboxes/backends.py")
        pytest.skip(f"{name} backend is not registered")
    reason = backend.unavailable()
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes") and backend.required_in_ci:
            pytest.fail(f"{name} backend is required in CI but unavailable: {reason}")
        pytest.skip(f"{name} backend unavailable: {reason}")
    return backend


async def _started(name: str, **overrides: Any) -> Sandbox:
    sb = await require(name).factory(sandbox_config(**overrides))
    await sb.start()
    return sb


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = await _started("local", labels={"agentcore.test": "native"})
    try:
        yield sb
    finally:
        await sb.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "any_sandbox" in metafunc.fixturenames:
        names = getattr(metafunc.module, "NATIVE_BACKENDS", ("local",))
        metafunc.parametrize("any_sandbox", names, indirect=True)


@pytest.fixture
async def any_sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    sb = await _started(request.param, labels={"agentcore.test": "native"})
    try:
        yield sb
    finally:
        await sb.close()
