"""Which sandbox backends the sandbox suites run against.

``BACKENDS`` maps a backend name to a :class:`Backend`. ``local`` is always here. Other backends are
added by ``tests/sandboxes/backends_remote.py`` (owned by the docker/e2b/modal engineer): that module
calls :func:`register` at import time, and it is imported at the end of this file when it exists.

A backend entry says how to build a sandbox for a test config, whether it can run on this machine
(``unavailable()`` returns a reason or None), whether a missing backend must FAIL under ``CI=true``
(local and docker) rather than skip, and whether the security suite applies to it.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from agentcore.sandboxes.base import Sandbox, SandboxConfig

SandboxFactory = Callable[[SandboxConfig], Awaitable[Sandbox]]
"""Builds a *not yet started* sandbox for ``config`` (the fixture starts and closes it)."""


@dataclass(frozen=True)
class Backend:
    name: str
    factory: SandboxFactory
    unavailable: Callable[[], str | None]
    """None when the backend can run here, else the reason it cannot."""
    required_in_ci: bool = False
    """Missing in CI (``CI=true``) is a failure, not a skip."""
    security: bool = False
    """Run ``test_security.py`` against it (real isolation, not a stand-in)."""
    python3: bool = True
    """The sandbox has ``python3`` (some security probes use it)."""


TEST_CONFIG = SandboxConfig(
    memory_mb=256,
    pids=64,
    disk_mb=64,
    tmp_mb=32,
    timeout_s=30.0,
    kill_grace_s=1.0,
    max_lifetime_s=600.0,
    labels={"agentcore.test": "sandboxes"},
)
"""Small limits so abuse tests stay cheap on a shared machine."""


def sandbox_config(**overrides: object) -> SandboxConfig:
    return replace(TEST_CONFIG, **overrides)  # type: ignore[arg-type]


def local_sandbox(**overrides: object) -> Sandbox:
    """A local (bubblewrap) sandbox with the test limits and ``overrides``, not started; the test skips
    without bubblewrap."""
    import pytest

    from agentcore.sandboxes.local.sandbox import LocalSandbox, bwrap_path

    if bwrap_path() is None:
        pytest.skip("bubblewrap is not installed")
    return LocalSandbox(sandbox_config(**overrides))


BACKENDS: dict[str, Backend] = {}


def register(backend: Backend) -> None:
    BACKENDS[backend.name] = backend


# --------------------------------------------------------------------------- local (bubblewrap)


def _local_unavailable() -> str | None:
    from agentcore.sandboxes.local.sandbox import bwrap_path

    if bwrap_path() is None:
        return "bubblewrap (bwrap) is not installed"
    return None


async def _local_factory(config: SandboxConfig) -> Sandbox:
    from agentcore.sandboxes.local.sandbox import LocalSandbox

    return LocalSandbox(config)


register(
    Backend(
        name="local",
        factory=_local_factory,
        unavailable=_local_unavailable,
        required_in_ci=True,
        security=True,
    )
)

with contextlib.suppress(ModuleNotFoundError):
    importlib.import_module("tests.sandboxes.backends_remote")
