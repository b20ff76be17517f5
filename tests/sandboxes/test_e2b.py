"""E2B backend specifics. Offline: the real ``e2b`` SDK in debug mode against ``fake_envd`` on
127.0.0.1 (the shared suites run the whole contract the same way). Live: when ``E2B_API_KEY`` is set,
one real sandbox checks the same promises against E2B itself."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agentcore.errors import SandboxError
from agentcore.sandboxes.base import SandboxConfig
from agentcore.sandboxes.remote.e2b import E2BSandbox
from agentcore.testing import tool_call

from .backends import sandbox_config
from .backends_remote import assert_no_internet_and_binary_safe_files, e2b_factory, e2b_unavailable
from .run_sync import second_turn_output

pytestmark = pytest.mark.skipif(e2b_unavailable() is not None, reason=str(e2b_unavailable()))


@pytest.fixture
def create_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what the adapter asks ``AsyncSandbox.create`` for (then let the SDK do it)."""
    import e2b

    calls: list[dict[str, Any]] = []
    original = e2b.AsyncSandbox.create

    async def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return await original(*args, **kwargs)

    monkeypatch.setattr(e2b.AsyncSandbox, "create", recording)
    return calls


async def offline(config: SandboxConfig) -> AsyncIterator[E2BSandbox]:
    sb = await e2b_factory(config)
    assert isinstance(sb, E2BSandbox)
    async with sb:
        yield sb


async def test_sandboxes_start_without_internet_with_a_lifetime_and_labels(
    create_calls: list[dict[str, Any]],
) -> None:
    async for sb in offline(sandbox_config(session_id="chat-1")):
        assert (await sb.shell("echo ready")).output == "ready\n"
    (call,) = create_calls
    assert call["allow_internet_access"] is False
    assert call["timeout"] == 600 and call["template"] == "base"
    assert call["metadata"]["agentcore.sandbox"] == sb.id
    assert call["metadata"]["agentcore.backend"] == "e2b"
    assert call["metadata"]["agentcore.session"] == "chat-1"


async def test_open_network_is_an_explicit_choice(create_calls: list[dict[str, Any]]) -> None:
    async for _ in offline(sandbox_config(network="open", image="my-template")):
        pass
    assert create_calls[0]["allow_internet_access"] is True
    assert create_calls[0]["template"] == "my-template"


async def test_the_session_shell_is_one_long_lived_command_with_stdin() -> None:
    async for sb in offline(sandbox_config()):
        await sb.shell("cd /; export A=1")
        assert (await sb.shell("pwd; echo $A")).output == "/\n1\n"
        envd = sb.envd  # type: ignore[attr-defined]
        shells = [p for p in envd.process.started if "agentcore-shell" in " ".join(p.args)]
    assert len(shells) == 1  # two commands, one shell process
    (shell,) = shells
    assert shell.cmd == "/bin/bash" and shell.args[:2] == ["-l", "-c"]
    assert shell.stdin is True
    assert not shell.timeout_ms  # timeout=0: the session is not killed by envd after 60 s
    assert shell.args[2].startswith("env -i ")  # nothing from the template's login environment


async def test_file_contents_travel_as_bytes_through_the_files_api() -> None:
    payload = bytes(range(256)) * 64
    async for sb in offline(sandbox_config()):
        await sb.write_file("bin/data.bin", payload, mode=0o600)
        assert await sb.read_file("bin/data.bin") == payload
        info = await sb.stat("bin/data.bin")
        assert info is not None and info.size == len(payload) and info.mode == 0o600
        requests = sb.envd.requests  # type: ignore[attr-defined]
    assert ("POST", "/files") in requests and ("GET", "/files") in requests


async def test_a_missing_sdk_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "e2b", None)
    sb = E2BSandbox()
    with pytest.raises(SandboxError, match=r"pip install 'agentcore\[e2b\]'"):
        await sb.start()


@pytest.mark.live
@pytest.mark.skipif(not os.environ.get("E2B_API_KEY"), reason="E2B_API_KEY not set")
async def test_live_e2b_sandbox_keeps_state_and_has_no_internet() -> None:
    async with E2BSandbox(SandboxConfig(max_lifetime_s=300, workdir="/home/user/work")) as sb:
        await sb.shell("mkdir -p d && cd d && export X=1")
        after = await sb.shell("pwd; echo $X")
        assert after.output == "/home/user/work/d\n1\n"
        await assert_no_internet_and_binary_safe_files(sb)


def test_a_session_sandbox_survives_run_sync_calls() -> None:
    """Each ``Runner.run_sync`` call has its own event loop; the SDK's connections and the shell's
    stream live on the sandbox loop, so the shell carries over."""
    import asyncio

    sb = asyncio.run(e2b_factory(sandbox_config(lifetime="session")))
    output = second_turn_output(
        sb,
        tool_call("shell", {"command": "export SEEN=yes; mkdir -p d && cd d"}),
        tool_call("shell", {"command": "echo $SEEN; pwd"}),
    )
    assert output.startswith(f"yes\n{sb.config.workdir}/d\n")
