"""Fixtures of the sandbox suites: ``sandbox`` (started, closed after the test) and ``make_sandbox``,
parametrized over every backend in ``tests/sandboxes/backends.py``.

A backend that cannot run here is skipped, except under ``CI=true`` when it is required there
(local, docker): then the test fails, so CI never silently skips isolation tests.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from agentcore.sandboxes.base import Sandbox

from .backends import BACKENDS, Backend, sandbox_config

MakeSandbox = Callable[..., Awaitable[Sandbox]]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    security_only = metafunc.module.__name__.endswith("test_security")
    only = getattr(metafunc.module, "BACKEND_NAMES", None)
    names = [
        name
        for name, b in BACKENDS.items()
        if (b.security or not security_only) and (only is None or name in only)
    ]
    metafunc.parametrize("backend", names, indirect=True)


def require(name: str) -> Backend:
    """The backend, or skip (fail under CI when CI requires it)."""
    b = BACKENDS[name]
    reason = b.unavailable()
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes") and b.required_in_ci:
            pytest.fail(f"{b.name} backend is required in CI but unavailable: {reason}")
        pytest.skip(f"{b.name} backend unavailable: {reason}")
    return b


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Backend:
    return require(request.param)


@pytest.fixture
def local_backend() -> Backend:
    """For tests about the local backend only."""
    return require("local")


@pytest.fixture
async def make_sandbox(backend: Backend) -> AsyncIterator[MakeSandbox]:
    """``await make_sandbox(memory_mb=128, ...)`` → a started sandbox, closed after the test."""
    made: list[Sandbox] = []

    async def make(**overrides: Any) -> Sandbox:
        sb = await backend.factory(sandbox_config(**overrides))
        made.append(sb)
        await sb.start()
        return sb

    yield make
    for sb in made:
        await sb.close()


@pytest.fixture
async def sandbox(make_sandbox: MakeSandbox) -> Sandbox:
    return await make_sandbox()
