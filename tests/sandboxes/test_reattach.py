"""Reattaching to a running sandbox from another owner (``Sandbox.handle`` / ``Sandbox.attach``), what a
durable run recovered by another worker does (docs/durable.md). Docker on the real engine; E2B and Modal
against their offline stand-ins; local (bubblewrap) cannot be reattached and says so."""

from __future__ import annotations

import os
import shutil

import pytest

from agentcore.sandboxes.base import SandboxConfig

from .backends import sandbox_config
from .backends_remote import DOCKER_TEST_IMAGE, IN_OWN_PID_NAMESPACE, docker_unavailable, fake_workspace


def _need(problem: str | None) -> None:
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)


async def test_a_docker_sandbox_is_reattached_by_container_id_with_files_and_shell_state() -> None:
    _need(docker_unavailable())
    from agentcore.sandboxes.docker.sandbox import DockerSandbox

    config = sandbox_config(image=DOCKER_TEST_IMAGE)
    first = DockerSandbox(config)
    first.outlive_owner("run-reattach")
    await first.start()
    second = DockerSandbox(config)
    try:
        await first.write_file("work/kept.txt", "from the first owner\n")
        await first.shell("mkdir -p deep && cd deep && export KEPT=yes")
        handle = first.handle()
        assert handle["reattachable"] and handle["container_id"] == first.container_id
        assert first.labels["agentcore.durable_run"] == "run-reattach"

        assert await second.attach(handle)
        assert second.started and second.id == first.id and second.container_id == first.container_id
        assert await second.read_file("work/kept.txt") == b"from the first owner\n"
        shell = await second.shell("pwd; echo $KEPT")  # a new shell, cwd and exports restored
        assert shell.output.split() == [f"{config.workdir}/deep", "yes"]
        assert not await second.attach(handle)  # already started: nothing changes
    finally:
        await second.close()
        await first.close()  # the container is already gone: closing the first owner does not fail


async def test_a_docker_sandbox_that_is_gone_or_tied_to_its_owner_is_not_attached() -> None:
    _need(docker_unavailable())
    from agentcore.sandboxes.docker.sandbox import DockerSandbox

    config = sandbox_config(image=DOCKER_TEST_IMAGE)
    async with DockerSandbox(config) as tied:  # no outlive_owner: it dies with its owner, no handle
        assert not tied.handle()["reattachable"]
    durable = DockerSandbox(config)
    durable.outlive_owner("run-gone")
    await durable.start()
    handle = durable.handle()
    await durable.close()
    late = DockerSandbox(config)
    own_id = late.id
    assert not await late.attach(handle)
    assert not late.started and late.id == own_id  # nothing changed: it can start a fresh one
    async with late:
        assert (await late.shell("echo fresh")).output == "fresh\n"


async def test_an_e2b_sandbox_is_reattached_by_id() -> None:
    from .backends_remote import e2b_factory, e2b_unavailable

    _need(e2b_unavailable())
    from agentcore.sandboxes.remote.e2b import E2BSandbox

    first = await e2b_factory(sandbox_config())
    assert isinstance(first, E2BSandbox)
    async with first:
        await first.write_file("kept.txt", "e2b\n")
        handle = first.handle()
        assert handle["reattachable"] and handle["e2b_id"] == first.sandbox_id
        envd = first.envd  # type: ignore[attr-defined]
        second = E2BSandbox(
            first.config, debug=True, sandbox_url=envd.url, shell_state_dir=first.config.workdir
        )
        assert await second.attach(handle)
        assert await second.read_file("kept.txt") == b"e2b\n"
        assert (await second.shell("cat kept.txt")).output == "e2b\n"
        await second.close()


async def test_a_modal_sandbox_is_reattached_by_object_id() -> None:
    if not IN_OWN_PID_NAMESPACE:  # the stand-in's VM has its own PID namespace only as root
        pytest.skip("the Modal stand-in needs root for a PID namespace of its own")
    from agentcore.sandboxes.remote.modal import ModalSandbox

    from .fake_modal import FakeModal

    fake = FakeModal()
    workspace = fake_workspace()
    config: SandboxConfig = sandbox_config(workdir=str(workspace))
    first = ModalSandbox(config, sdk=fake, shell_state_dir=str(workspace))
    try:
        async with first:
            await first.write_file("kept.txt", "modal\n")
            await first.shell("sleep 3599.5 &")  # a job of the first owner's shell
            handle = first.handle()
            assert handle["reattachable"] and handle["modal_id"] == first.object_id
            second = ModalSandbox(config, sdk=fake, shell_state_dir=str(workspace))
            assert await second.attach(handle)
            assert await second.read_file("kept.txt") == b"modal\n"
            ps = await second.shell("ps -eo args | grep -c '^sleep 3599.5' || true")
            assert ps.output.strip() == "0"  # the first owner's shell and its job were ended
            await second.close()
        assert fake.sandboxes == []
        unknown = ModalSandbox(config, sdk=fake)
        assert not await unknown.attach({**handle, "modal_id": "sb-missing"})
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


async def test_a_local_sandbox_cannot_be_reattached() -> None:
    from agentcore.sandboxes.local.sandbox import LocalSandbox, bwrap_path

    _need(None if bwrap_path() else "bubblewrap is not installed")
    async with LocalSandbox(sandbox_config()) as sb:
        handle = sb.handle()
        assert handle["backend"] == "local" and handle["reattachable"] is False
        assert not await LocalSandbox(sandbox_config()).attach({**handle, "reattachable": True})
