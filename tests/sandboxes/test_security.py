"""What a hostile command inside a sandbox must NOT be able to do (backends with ``security=True``).

Every abuse is bounded (small limits from ``backends.TEST_CONFIG``, short timeouts) and talks only to
loopback. Each test states the attack, runs it, and checks that the host is unaffected.
"""

# ruff: noqa: ASYNC240  (host-side checks in tests may block briefly)
from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentcore.errors import PathEscapeError
from agentcore.sandboxes.base import Sandbox

from .conftest import MakeSandbox

PY = "python3 -c "


async def test_outbound_network_is_blocked(sandbox: Sandbox) -> None:
    probe = (
        "for target in 1.1.1.1/80 8.8.8.8/53 169.254.169.254/80; do "
        'timeout 3 bash -c ": > /dev/tcp/${target}" 2>/dev/null && echo CONNECTED $target || echo blocked; done'
    )
    result = await sandbox.shell(probe, timeout=20)
    assert result.output == "blocked\nblocked\nblocked\n"
    interfaces = await sandbox.shell("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
    assert interfaces.output.split() == ["lo"]


@pytest.fixture
def host_listener() -> Iterator[int]:
    """A TCP server on the host's loopback."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


async def test_host_loopback_services_are_unreachable(sandbox: Sandbox, host_listener: int) -> None:
    result = await sandbox.shell(
        f"timeout 3 bash -c ': > /dev/tcp/127.0.0.1/{host_listener}' 2>/dev/null && echo CONNECTED || echo blocked"
    )
    assert result.output == "blocked\n"


async def test_host_files_are_invisible(sandbox: Sandbox) -> None:
    marker = Path("/root") if os.geteuid() == 0 else Path.home()
    name = f"agentcore-marker-{secrets.token_hex(4)}"
    secret_file = marker / name
    secret_file.write_text("host secret\n")
    try:
        result = await sandbox.shell(
            f"cat {secret_file} 2>/dev/null || echo marker-unreadable; "
            "cat /etc/shadow 2>/dev/null || echo shadow-unreadable; "
            f"ls -d /root/{name} /home/*/{name} 2>/dev/null | wc -l"
        )
        assert result.output == "marker-unreadable\nshadow-unreadable\n0\n"
    finally:
        secret_file.unlink()


async def test_file_api_refuses_dotdot_and_symlink_escapes(sandbox: Sandbox) -> None:
    await sandbox.shell("ln -s /etc/hostname evil; ln -s /etc etcdir; ln -s ../../../.. up; mkdir -p sub")
    attempts = [
        "../etc/passwd",
        "/etc/passwd",
        "evil",
        "etcdir/passwd",
        "up/etc/passwd",
        "sub/../../etc/passwd",
    ]
    for path in attempts:
        with pytest.raises(PathEscapeError):
            await sandbox.read_file(path)
    for path in ("etcdir/planted", "up/tmp/planted", "evil"):
        with pytest.raises(PathEscapeError):
            await sandbox.write_file(path, b"pwned")
    with pytest.raises(PathEscapeError):
        await sandbox.list_dir("etcdir")
    assert not Path("/etc/planted").exists() and not Path("/tmp/planted").exists()


async def test_a_symlink_planted_by_the_sandbox_never_reads_host_files(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    host_file = tmp_path / "host-only.txt"
    host_file.write_text("HOST CONTENT\n")
    os.chmod(tmp_path, 0o755)
    await sandbox.shell(f"ln -s {host_file} planted")
    with pytest.raises(PathEscapeError):
        await sandbox.read_file("planted")
    await sandbox.download(".", tmp_path / "out")  # symlinks are skipped, never followed
    assert not (tmp_path / "out" / "planted").exists()


async def test_fork_bomb_is_contained(sandbox: Sandbox) -> None:
    bomb = (
        PY + '"import os, time\n'
        "n = 0\n"
        "for _ in range(2000):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(15); os._exit(0)\n"
        "    n += 1\n"
        "print('forked', n)\""
    )
    result = await sandbox.shell(bomb, timeout=30)
    forked = int(result.output.split()[-1])
    assert forked < sandbox.config.pids
    await sandbox.shell("pkill -9 -f 'import os, time' 2>/dev/null; true")
    assert (await sandbox.shell("echo alive")).output == "alive\n"


async def test_memory_bomb_is_contained(sandbox: Sandbox) -> None:
    over = sandbox.config.memory_mb * 2
    result = await sandbox.shell(
        PY
        + f"\"b = bytearray({over} * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); print('ALLOC' + 'ATED')\"",
        timeout=60,
    )
    assert "ALLOCATED" not in result.output
    assert result.exit_code != 0
    assert (await sandbox.shell("echo alive")).output == "alive\n"


async def test_disk_fill_is_stopped(sandbox: Sandbox) -> None:
    result = await sandbox.shell(
        f"head -c {(sandbox.config.disk_mb + 32) << 20} /dev/zero > big 2>&1; echo rc=$?; "
        f"head -c {(sandbox.config.tmp_mb + 32) << 20} /dev/zero > /tmp/big 2>&1; echo rc=$?; "
        "stat -c %s big /tmp/big",
        timeout=60,
    )
    lines = result.output.split()
    assert "rc=0" not in lines
    workspace_size, tmp_size = int(lines[-2]), int(lines[-1])
    assert workspace_size <= sandbox.config.disk_mb << 20
    assert tmp_size <= sandbox.config.tmp_mb << 20
    await sandbox.shell("rm -f big /tmp/big")


async def test_host_environment_and_secrets_are_absent(
    make_sandbox: MakeSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = "sk-test-" + secrets.token_hex(12)
    monkeypatch.setenv("AGENTCORE_FAKE_API_KEY", fake)
    sandbox = await make_sandbox()
    result = await sandbox.shell("env; cat /proc/1/environ /proc/self/environ 2>/dev/null | tr '\\0' '\\n'")
    assert fake not in result.output
    assert "AGENTCORE_FAKE_API_KEY" not in result.output
    assert os.environ.get("HOME", "/root") not in result.output.replace(sandbox.config.workdir, "")


async def test_the_docker_socket_is_unreachable(sandbox: Sandbox) -> None:
    probe = (
        PY + '"import socket\n'
        "for p in ('/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock'):\n"
        "    s = socket.socket(socket.AF_UNIX)\n"
        "    try:\n"
        "        s.connect(p); print('CONNECTED', p)\n"
        "    except OSError as e:\n"
        "        print('refused', p, e.errno)\n"
        '"'
    )
    result = await sandbox.shell(probe)
    assert "CONNECTED" not in result.output
    assert result.output.count("refused") == 3


async def test_runs_unprivileged_with_a_read_only_root(sandbox: Sandbox) -> None:
    result = await sandbox.shell(
        "id -u; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status | tr -s '\\t ' ' '; "
        "touch /usr/planted 2>/dev/null && echo WROTE-USR || echo usr-ro; "
        "touch /planted 2>/dev/null && echo WROTE-ROOT || echo root-ro"
    )
    uid = result.output.split("\n")[0]
    assert uid != "0"
    assert "CapEff: 0000000000000000" in result.output
    assert "WROTE" not in result.output


async def test_host_processes_are_invisible(sandbox: Sandbox) -> None:
    result = await sandbox.shell(
        "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null; echo; done"
    )
    assert "pytest" not in result.output
    assert str(os.getpid()) not in (await sandbox.shell("ls /proc | grep -x '[0-9]*'")).output.split()


async def test_closing_leaves_no_process_behind(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    await sandbox.shell("nohup sleep 600 >/dev/null 2>&1 & setsid sleep 600 >/dev/null 2>&1 &")
    await sandbox.close()
    await asyncio.sleep(0)
    leftovers = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if cmd == b"sleep\x00600\x00":
                leftovers.append(pid)
    assert leftovers == []
