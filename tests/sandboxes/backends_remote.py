"""The remote backends of the sandbox suites: docker (real engine), e2b and modal (offline stand-ins).

Imported by ``tests/sandboxes/backends.py``. Each entry says how to build an unstarted sandbox for
a test config and why it may be unavailable here.

* ``docker``: the real Docker engine with the ``agentcore-sandbox:test`` image that
  ``.ci/docker-image.sh`` builds (debootstrap + ``docker import``; no registry). Required in CI, and
  the security suite runs against it.
* ``e2b``: the real ``e2b`` SDK in debug mode against ``fake_envd`` on 127.0.0.1 (processes run on
  this machine as ``nobody``: conformance only, never the security suite).
* ``modal``: the adapter over ``fake_modal`` (a narrow fake of the SDK objects backed by local
  processes): conformance only.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import tempfile
from dataclasses import replace
from functools import cache
from pathlib import Path

from agentcore.sandboxes.base import Sandbox, SandboxConfig

from .backends import Backend, register

DOCKER_TEST_IMAGE = os.environ.get("AGENTCORE_DOCKER_TEST_IMAGE", "agentcore-sandbox:test")


async def assert_no_internet_and_binary_safe_files(sb: Sandbox) -> None:
    """The checks every live remote test ends with: no route out, and file bytes round-trip exactly."""
    net = await sb.shell("timeout 5 bash -c 'echo > /dev/tcp/1.1.1.1/80' && echo open || echo blocked")
    assert net.output.strip().endswith("blocked")
    await sb.write_file("x.bin", b"\x00\xff")
    assert await sb.read_file("x.bin") == b"\x00\xff"


@cache
def docker_unavailable() -> str | None:
    """None when the engine answers and the test image exists, else why not."""
    try:
        import docker
    except ImportError:
        return "the docker package is not installed"
    try:
        client = docker.from_env(timeout=5)
    except Exception as exc:
        return f"no Docker engine: {exc}"
    try:
        client.ping()
        client.images.get(DOCKER_TEST_IMAGE)
    except docker.errors.ImageNotFound:
        return f"image {DOCKER_TEST_IMAGE} missing: run .ci/docker-image.sh"
    except Exception as exc:
        return f"Docker engine not answering: {exc}"
    finally:
        client.close()
    return None


async def docker_factory(config: SandboxConfig) -> Sandbox:
    from agentcore.sandboxes.docker.sandbox import DockerSandbox

    return DockerSandbox(replace(config, image=DOCKER_TEST_IMAGE))


register(
    Backend(
        name="docker",
        factory=docker_factory,
        unavailable=docker_unavailable,
        required_in_ci=True,
        security=True,
    )
)


# --------------------------------------------------------------------------- e2b (offline stand-in)


def e2b_unavailable() -> str | None:
    try:
        import e2b  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        return f"the e2b SDK or uvicorn is not installed ({exc.name})"
    return None


IN_OWN_PID_NAMESPACE = os.geteuid() == 0
"""The stand-ins' processes live in a private PID namespace (a ``FakeVM``) only as root; otherwise pid
1 is the host's init, and a timeout must not sweep what other processes re-parented to it."""


def fake_workspace() -> Path:
    """A fresh directory the stand-in's processes (``nobody`` when root) can write: the workspace."""
    path = Path(tempfile.mkdtemp(prefix="agentcore-remote-ws-"))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    return path


async def e2b_factory(config: SandboxConfig) -> Sandbox:
    """An :class:`E2BSandbox` in debug mode whose envd is a fresh ``FakeEnvd`` (its own "VM"),
    stopped and cleaned up when the sandbox closes."""
    from agentcore.sandboxes.remote.e2b import E2BSandbox

    from .fake_envd import FakeEnvd

    workspace = fake_workspace()

    class OfflineE2BSandbox(E2BSandbox):
        envd: FakeEnvd | None = None
        sweep_orphans = IN_OWN_PID_NAMESPACE

        async def _start(self) -> None:
            self.envd = await asyncio.to_thread(lambda: FakeEnvd(workspace).start())
            self._api["sandbox_url"] = self.envd.url
            await super()._start()

        async def _close(self) -> None:
            await super()._close()
            if self.envd is not None:
                await asyncio.to_thread(self.envd.stop)
            await asyncio.to_thread(shutil.rmtree, workspace, True)

    return OfflineE2BSandbox(
        replace(config, workdir=str(workspace)), debug=True, shell_state_dir=str(workspace)
    )


# The offline stand-in needs only packages CI installs (the e2b extra, uvicorn): missing means failing in CI.
register(Backend(name="e2b", factory=e2b_factory, unavailable=e2b_unavailable, required_in_ci=True))


# --------------------------------------------------------------------------- modal (narrow SDK stand-in)


def modal_unavailable() -> str | None:
    return None  # the stand-in needs nothing beyond this repository


async def modal_factory(config: SandboxConfig) -> Sandbox:
    """A :class:`ModalSandbox` driving ``FakeModal`` (local processes in their own PID namespace)."""
    from agentcore.sandboxes.remote.modal import ModalSandbox

    from .fake_modal import FakeModal

    workspace = fake_workspace()

    class OfflineModalSandbox(ModalSandbox):
        sweep_orphans = IN_OWN_PID_NAMESPACE

        async def _close(self) -> None:
            await super()._close()
            await asyncio.to_thread(shutil.rmtree, workspace, True)

    return OfflineModalSandbox(
        replace(config, workdir=str(workspace)), sdk=FakeModal(), shell_state_dir=str(workspace)
    )


register(Backend(name="modal", factory=modal_factory, unavailable=modal_unavailable))
