"""Modal backend specifics. Offline: the adapter against ``fake_modal`` (the narrowest stand-in for
the SDK objects it touches; the shared suites run the whole contract over it). Live: when Modal
credentials exist, one real sandbox checks the same promises against Modal itself."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentcore.errors import SandboxError
from agentcore.sandboxes.base import SandboxConfig
from agentcore.sandboxes.remote.modal import ModalSandbox
from agentcore.testing import tool_call

from .backends import sandbox_config
from .backends_remote import assert_no_internet_and_binary_safe_files, fake_workspace
from .fake_modal import FakeModal
from .run_sync import second_turn_output

_workspaces: list[Path] = []


@pytest.fixture(autouse=True)
def _remove_workspaces() -> Iterator[None]:
    yield
    while _workspaces:
        shutil.rmtree(_workspaces.pop(), ignore_errors=True)


def offline(fake: FakeModal, **overrides: Any) -> ModalSandbox:
    """A sandbox over ``fake`` whose workspace is a fresh local directory (removed after the test)."""
    workspace = fake_workspace()
    _workspaces.append(workspace)
    config = sandbox_config(workdir=str(workspace), **overrides)
    return ModalSandbox(config, sdk=fake, shell_state_dir=str(workspace))


async def test_sandboxes_are_created_with_a_blocked_network_hard_limits_and_tags() -> None:
    fake = FakeModal()
    async with offline(fake, session_id="chat-1") as sb:
        assert (await sb.shell("echo ready")).output == "ready\n"
        assert sb.object_id is not None and sb.object_id.startswith("sb-fake")
    (call,) = fake.created
    assert call["block_network"] is True
    assert call["cpu"] == (1.0, 1.0) and call["memory"] == (256, 256)  # request = limit: OOM at the limit
    assert call["timeout"] == 600
    assert call["app"].name == "agentcore-sandboxes" and call["image"].ref == "debian_slim"
    assert call["tags"]["agentcore.sandbox"] == sb.id and call["tags"]["agentcore.session"] == "chat-1"
    assert fake.sandboxes == []  # terminated on close


async def test_open_network_and_registry_images_are_explicit_choices() -> None:
    fake = FakeModal()
    async with offline(fake, network="open", image="python:3.12-slim"):
        pass
    assert fake.created[0]["block_network"] is False
    assert fake.created[0]["image"].ref == "python:3.12-slim"


async def test_binary_files_round_trip_through_the_sandbox_filesystem() -> None:
    payload = bytes(range(256)) * 64
    async with offline(FakeModal()) as sb:
        await sb.write_file("d/data.bin", payload, mode=0o640)
        assert await sb.read_file("d/data.bin") == payload
        info = await sb.stat("d/data.bin")
        assert info is not None and info.mode == 0o640
        # the agent can change what the file API wrote
        assert (await sb.shell("echo more >> d/data.bin && echo ok")).output == "ok\n"


async def test_the_janitor_terminates_tagged_sandboxes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import agentcore.sandboxes.remote.modal as modal_backend

    fake = FakeModal()
    monkeypatch.setattr(modal_backend, "_modal", lambda: fake)
    monkeypatch.setattr(modal_backend, "_has_credentials", lambda: True)
    leaked = offline(fake, labels={"agentcore.test": "janitor"})
    await leaked.start()
    other = offline(fake)
    await other.start()
    try:
        removed = await modal_backend.reap_modal({"agentcore.test": "janitor"}, 0.0)
        assert removed == [leaked.object_id]
        assert [s.object_id for s in fake.sandboxes] == [other.object_id]
    finally:
        await other.close()
        await leaked.close()


async def test_a_missing_sdk_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "modal", None)
    sb = ModalSandbox()
    with pytest.raises(SandboxError, match=r"pip install 'agentcore\[modal\]'"):
        await sb.start()


def _modal_credentials() -> bool:
    from agentcore.sandboxes.remote.modal import _has_credentials

    return _has_credentials()


@pytest.mark.live
@pytest.mark.skipif(not _modal_credentials(), reason="no Modal credentials")
async def test_live_modal_sandbox_keeps_state_and_has_no_network() -> None:
    async with ModalSandbox(SandboxConfig(max_lifetime_s=300)) as sb:
        await sb.shell("mkdir -p d && cd d && export X=1")
        after = await sb.shell("pwd; echo $X; id -u")
        assert after.output == "/workspace/d\n1\n1000\n"
        await assert_no_internet_and_binary_safe_files(sb)


def test_a_session_sandbox_survives_run_sync_calls() -> None:
    """Each ``Runner.run_sync`` call has its own event loop; the sandbox's processes and reader tasks
    live on the sandbox loop, so the shell carries over."""

    sb = offline(FakeModal(), lifetime="session")
    output = second_turn_output(
        sb,
        tool_call("shell", {"command": "export SEEN=yes; mkdir -p d && cd d"}),
        tool_call("shell", {"command": "echo $SEEN; pwd"}),
    )
    assert output.startswith(f"yes\n{sb.config.workdir}/d\n")
