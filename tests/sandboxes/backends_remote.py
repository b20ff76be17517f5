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

import os
import shutil
import tempfile
from functools import cache

from agentcore.sandboxes.base import Sandbox, SandboxConfig

from .backends import Backend, register

DOCKER_TEST_IMAGE = os.environ.get("AGENTCORE_DOCKER_TEST_IMAGE", "agentcore-sandbox:test")


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
    from dataclasses import replace

    from agentcore.sandboxes.docker import DockerSandbox

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
