"""Docker backend specifics, against the real engine (the shared suites cover the contract).

Needs a Docker engine and the ``agentcore-sandbox:test`` image (``.ci/start-dockerd.sh`` then
``.ci/docker-image.sh``). Missing Docker skips these tests on a laptop and FAILS them under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from agentcore.errors import SandboxError
from agentcore.sandboxes import janitor
from agentcore.sandboxes.base import SandboxConfig
from agentcore.sandboxes.docker.sandbox import DockerSandbox
from agentcore.testing import tool_call

from .backends import sandbox_config
from .backends_remote import DOCKER_TEST_IMAGE, docker_unavailable
from .run_sync import second_turn_output


@pytest.fixture
def docker_client() -> Any:
    reason = docker_unavailable()
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"Docker is required in CI: {reason}")
        pytest.skip(reason)
    import docker

    client = docker.from_env()
    yield client
    client.close()


def _config(**overrides: Any) -> SandboxConfig:
    return replace(sandbox_config(**overrides), image=DOCKER_TEST_IMAGE)


@pytest.fixture
async def sandbox(docker_client: Any) -> AsyncIterator[DockerSandbox]:
    async with DockerSandbox(_config(session_id="s-test")) as sb:
        yield sb


async def test_the_container_is_hardened(sandbox: DockerSandbox, docker_client: Any) -> None:
    attrs = docker_client.api.inspect_container(sandbox.container_id)
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["ReadonlyRootfs"] is True
    assert host["Init"] is True
    assert host["PidsLimit"] == 64
    # memory_mb for processes plus the tmpfs mounts (workspace 64, /tmp 32, /dev/shm 16): issue 12 item 1
    assert host["Memory"] == host["MemorySwap"] == (256 + 64 + 32 + 16) * 1024 * 1024
    assert host["ShmSize"] == 16 * 1024 * 1024
    assert host["NanoCpus"] == 1_000_000_000
    assert "size=64m" in host["Tmpfs"][sandbox.config.workdir] and "size=32m" in host["Tmpfs"]["/tmp"]
    assert host["Privileged"] is False and not host["Binds"]
    labels = attrs["Config"]["Labels"]
    assert labels["agentcore.sandbox"] == sandbox.id
    assert labels["agentcore.backend"] == "docker"
    assert labels["agentcore.session"] == "s-test"
    assert labels["agentcore.test"] == "sandboxes"


async def test_commands_run_as_the_sandbox_user_which_is_not_pid_1s(sandbox: DockerSandbox) -> None:
    me = await sandbox.shell("id -u; stat -c %u /proc/1; stat -c %U .")
    uid, pid1_uid, owner = me.output.split()
    assert uid == str(sandbox.config.uid) and pid1_uid != uid
    assert owner == "sandbox"  # the workspace belongs to the agent
    # the agent cannot take the container down: `kill -9 -1` reaches only its own processes
    await sandbox.shell("sleep 300 & kill -9 -1", timeout=5)
    after = await sandbox.shell("ps -e -o user= -o comm=")
    processes = {tuple(line.split()) for line in after.output.splitlines()}
    assert ("nobody", "cat") in processes  # PID 1's child, the container's watchdog, survived
    assert ("sandbox", "sleep") not in processes  # the agent's own job did not


async def test_nothing_from_the_host_environment_reaches_the_container(
    docker_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTCORE_HOST_SECRET", "s3cr3t")
    async with DockerSandbox(_config(env={"GIVEN": "yes"})) as sb:
        env = (await sb.exec(["env"])).text
        attrs = docker_client.api.inspect_container(sb.container_id)
    assert "GIVEN=yes" in env and "s3cr3t" not in env
    assert not any("s3cr3t" in e for e in attrs["Config"]["Env"] or [])


async def test_close_removes_the_container(docker_client: Any) -> None:
    import docker

    sb = DockerSandbox(_config())
    await sb.start()
    cid = sb.container_id
    await sb.shell("sleep 300 &")
    await sb.close()
    await sb.close()  # idempotent
    with pytest.raises(docker.errors.NotFound):
        docker_client.api.inspect_container(cid)


async def test_the_janitor_removes_containers_whose_owner_died(docker_client: Any) -> None:
    dead = await asyncio.create_subprocess_exec("true")
    await dead.wait()
    tag = uuid.uuid4().hex

    class CrashedOwner(DockerSandbox):
        def _container_options(self) -> dict[str, Any]:
            options = super()._container_options()
            options["labels"]["agentcore.owner_pid"] = str(dead.pid)  # a process that no longer exists
            return options

    leaked = CrashedOwner(_config(labels={"agentcore.test": tag}))
    alive = DockerSandbox(_config(labels={"agentcore.test": tag}))
    await leaked.start()
    await alive.start()
    try:
        removed = await janitor.reap({"agentcore.test": tag}, backends=["docker"])
        assert removed == {"docker": [leaked.container_id]}
        assert (await alive.shell("echo still here")).output == "still here\n"
    finally:
        await alive.close()
        await leaked.close()


async def test_a_missing_image_is_a_clear_error(docker_client: Any) -> None:
    sb = DockerSandbox(_config(), image="agentcore-no-such-image:never")
    with pytest.raises(SandboxError, match="agentcore-no-such-image"):
        await sb.start()
    await sb.close()


async def test_directories_travel_as_tar_and_only_files_and_dirs_come_back(
    sandbox: DockerSandbox, tmp_path: Any
) -> None:
    src = tmp_path / "src"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "data.bin").write_bytes(bytes(range(256)) * 10)
    (src / "top.txt").write_text("top\n")
    (src / "link").symlink_to("/etc/passwd")  # host symlinks are not uploaded
    await sandbox.upload(src, "in")
    listing = await sandbox.shell("cd in && find . | sort && stat -c %U a/b/data.bin")
    assert listing.output.split() == [".", "./a", "./a/b", "./a/b/data.bin", "./top.txt", "sandbox"]

    await sandbox.shell("mkfifo in/fifo; ln -s /etc/shadow in/shadow; ln -s / in/root")
    out = tmp_path / "out"
    await sandbox.download("in", out)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["a", "a/b", "a/b/data.bin", "top.txt"]
    assert (out / "a" / "b" / "data.bin").read_bytes() == bytes(range(256)) * 10


def test_a_session_sandbox_survives_run_sync_calls(docker_client: Any) -> None:
    """``Runner.run_sync`` runs each call on a fresh event loop: the sandbox's sockets and shell
    reader live on the sandbox loop, so the workspace and the shell carry over."""
    output = second_turn_output(
        DockerSandbox(_config(lifetime="session")),
        tool_call("shell", {"command": "echo one > notes.txt; export SEEN=yes"}),
        tool_call("shell", {"command": "cat notes.txt; echo $SEEN"}),
    )
    assert output.startswith("one\nyes\n")
