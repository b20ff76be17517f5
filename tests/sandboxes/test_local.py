"""The local (bubblewrap) backend's own promises, beyond the shared contract."""

# ruff: noqa: ASYNC240  (host-side checks in tests may block briefly)
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agentcore.errors import PathEscapeError, SandboxError, UserError
from agentcore.sandboxes import janitor
from agentcore.sandboxes._loop import sandbox_loop as _sandbox_loop
from agentcore.sandboxes.local import launch as _local_launch
from agentcore.sandboxes.local.limits import PIDS_RESERVE, PREFIX, create_limits
from agentcore.sandboxes.local.sandbox import DEFAULT_HOST_UID, LocalSandbox, bwrap_path, state_root
from agentcore.testing import tool_call

from .backends import sandbox_config
from .run_sync import second_turn_output

IS_ROOT = os.geteuid() == 0
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

if bwrap_path() is None:
    if IN_CI:
        pytest.fail("bubblewrap is required in CI", pytrace=False)
    pytest.skip("bubblewrap is not installed", allow_module_level=True)

root_only = pytest.mark.skipif(not IS_ROOT, reason="needs a root host process")


@pytest.fixture
async def local() -> AsyncIterator[LocalSandbox]:
    sb = LocalSandbox(sandbox_config())
    await sb.start()
    yield sb
    await sb.close()


def _status(pid: int) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


@root_only
async def test_root_host_launches_bwrap_as_the_dedicated_unprivileged_uid(local: LocalSandbox) -> None:
    assert local._init_pid is not None
    status = _status(local._init_pid)
    assert status["Uid"].split() == [str(DEFAULT_HOST_UID)] * 4
    assert status["CapEff"] == "0000000000000000" and status["NoNewPrivs"] == "1"
    inside = await local.shell("id -u; id -un")
    assert inside.output == f"{local.config.uid}\n{local.config.user}\n"


def test_bwrap_as_host_root_is_refused() -> None:
    with pytest.raises(UserError, match="root"):
        LocalSandbox(host_uid=0) if IS_ROOT else LocalSandbox(host_uid=0, host_gid=0)


def test_the_local_backend_takes_no_image() -> None:
    with pytest.raises(UserError, match="image"):
        LocalSandbox(image="debian:12")


@root_only
async def test_cgroups_carry_the_configured_limits(local: LocalSandbox) -> None:
    assert local.limits_mechanism in ("cgroup-v1", "cgroup-v2")
    assert local._limits is not None
    values = {}
    for d in local._limits.dirs:
        for name in ("memory.limit_in_bytes", "memory.max", "pids.max"):
            if (d / name).exists():
                values[name] = (d / name).read_text().strip()
    # processes' memory plus the tmpfs workspace and /tmp; the agent's pids plus the supervisor's reserve
    assert values.get("memory.limit_in_bytes", values.get("memory.max")) == str(
        local.config.memory_limit_mb << 20
    )
    assert values["pids.max"] == str(local.config.pids + PIDS_RESERVE)
    assert local._init_pid in local._limits.pids()


async def _parked(key: object) -> _local_launch.Launcher:
    """The launcher parked for ``key`` (parking happens on the sandbox loop, just after a start)."""
    for _ in range(500):
        launcher = _local_launch._parked.get(key)  # type: ignore[call-overload]
        if launcher is not None:
            return launcher
        await asyncio.sleep(0.01)
    raise AssertionError("no warm launcher was parked")


def _limit_values(dirs: list[Path]) -> dict[str, str]:
    values = {}
    for d in dirs:
        for name in ("memory.limit_in_bytes", "memory.max", "pids.max", "cpu.cfs_quota_us", "cpu.max"):
            if (d / name).exists():
                values[name] = (d / name).read_text().strip()
    return values


@root_only
async def test_the_next_start_takes_a_warm_launcher_with_its_own_limits() -> None:
    async with LocalSandbox(sandbox_config()) as first:
        key = first.launch_key()
    parked = await _parked(key)
    warm_dirs = list(parked.limits.dirs)
    assert all(d.name.startswith(PREFIX + "warm-") for d in warm_dirs)
    assert parked.proc.pid in parked.limits.pids()  # placed in its cgroup before anyone asked

    config = sandbox_config(memory_mb=96, pids=77, cpu=0.5)
    async with LocalSandbox(config) as sb:
        assert sb._proc is not None and sb._proc.pid == parked.proc.pid
        assert sb._limits is not None
        assert [d.name for d in sb._limits.dirs] == [PREFIX + sb.id] * len(warm_dirs)
        assert not any(d.exists() for d in warm_dirs)
        values = _limit_values(sb._limits.dirs)
        assert values.get("memory.limit_in_bytes", values.get("memory.max")) == str(
            config.memory_limit_mb << 20
        )
        assert values["pids.max"] == str(77 + PIDS_RESERVE)
        assert values.get("cpu.cfs_quota_us", values.get("cpu.max", "").split(" ")[0]) == "50000"
        assert sb._init_pid in sb._limits.pids()
        assert (await sb.shell("echo up")).output == "up\n"
        # the pids limit bites in the warm path too
        result = await sb.shell("for i in $(seq 100); do sleep 5 & done 2>&1 | tail -n 1; kill $(jobs -p)")
        assert "fork" in result.output or "resource" in result.output.lower()
    # and a new one is parked for the start after
    assert (await _parked(key)).proc.pid != parked.proc.pid


@root_only
async def test_prewarm_false_never_takes_a_parked_launcher() -> None:
    assert await LocalSandbox.prewarm(config=sandbox_config())
    parked = await _parked(LocalSandbox(sandbox_config()).launch_key())
    async with LocalSandbox(sandbox_config(), prewarm=False) as sb:
        assert sb.launch_key() is None
        assert sb._proc is not None and sb._proc.pid != parked.proc.pid
        assert sb._init_pid in sb._limits.pids()  # type: ignore[union-attr]
    assert _local_launch._parked.get(LocalSandbox(sandbox_config()).launch_key()) is parked  # type: ignore[call-overload]


@root_only
async def test_a_parked_launcher_woken_with_no_options_runs_nothing() -> None:
    """Its owner crashed: the options pipe closes empty. bwrap is isolated from its command line alone,
    finds no shell in its empty root and exits; the supervisor never says ready."""
    assert await LocalSandbox.prewarm(config=sandbox_config())
    launcher = _local_launch.take_warm(LocalSandbox(sandbox_config()).launch_key())  # type: ignore[arg-type]
    assert launcher is not None
    os.close(launcher.args_fd)
    launcher.args_fd = -1
    proc = launcher.proc
    assert proc.stdout is not None and proc.stderr is not None
    out, err = await asyncio.wait_for(
        asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_communicate(proc), _sandbox_loop())), 10
    )
    assert b"ready" not in out and proc.returncode not in (0, None)
    assert b"execvp" in err or b"No such file" in err
    launcher.discard()


async def _communicate(proc: asyncio.subprocess.Process) -> tuple[bytes, bytes]:
    assert proc.stdout is not None and proc.stderr is not None
    out, err = await asyncio.gather(proc.stdout.read(), proc.stderr.read())
    await proc.wait()
    return out, err


@root_only
def test_destroy_only_kills_processes_still_in_the_cgroup() -> None:
    """A pid read from cgroup.procs may be reused by an unrelated process before the kill."""
    limits = create_limits("test-kill-" + os.urandom(4).hex(), sandbox_config())
    dirs = list(limits.dirs)
    assert dirs
    outsider = subprocess.Popen(["sleep", "60"])
    try:
        limits._kill_member(outsider.pid, {"/" + d.name for d in dirs})  # as if read from our cgroup.procs
        assert outsider.poll() is None
        for d in limits.dirs:
            (d / "cgroup.procs").write_text(str(outsider.pid))
        limits.destroy()
        assert outsider.wait(5) == -9
        assert not any(d.exists() for d in dirs)
    finally:
        outsider.kill()
        outsider.wait()


@root_only
async def test_a_forked_child_never_touches_the_parents_parked_launcher() -> None:
    assert await LocalSandbox.prewarm(config=sandbox_config())
    key = LocalSandbox(sandbox_config()).launch_key()
    parked = await _parked(key)
    pid = os.fork()
    if pid == 0:  # the child: nothing parked, and its exit hook must not kill the parent's launcher
        clean = not _local_launch._parked
        _local_launch._discard_all()
        os._exit(0 if clean else 1)
    _, status = await asyncio.to_thread(os.waitpid, pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    await asyncio.sleep(0.05)
    assert parked.proc.returncode is None and _local_launch._parked.get(key) is parked  # type: ignore[call-overload]


@root_only
def test_a_parked_launcher_and_its_cgroup_go_away_with_the_process() -> None:
    script = textwrap.dedent(
        """
        import asyncio, json
        from agentcore.sandboxes.local import launch as _local_launch
        from agentcore.sandboxes.local import LocalSandbox

        async def main():
            async with LocalSandbox() as sb:
                await sb.shell("true")
                key = sb.launch_key()
            for _ in range(500):
                if key in _local_launch._parked:
                    break
                await asyncio.sleep(0.01)
            launcher = _local_launch._parked[key]
            print(json.dumps({"pid": launcher.proc.pid, "dirs": [str(d) for d in launcher.limits.dirs]}))

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    parked = json.loads(done.stdout)
    assert parked["dirs"]
    assert not Path(f"/proc/{parked['pid']}").exists() or "Z" in _status(parked["pid"])["State"]
    assert not any(Path(d).exists() for d in parked["dirs"])


async def test_rlimits_are_the_fallback_without_cgroups() -> None:
    async with LocalSandbox(sandbox_config(), use_cgroups=False) as sb:
        assert sb.limits_mechanism == "rlimit"
        result = await sb.shell("ulimit -u; ulimit -v")
        assert result.output == f"{sb.config.pids}\n{sb.config.memory_mb << 10}\n"


async def test_workspace_and_tmp_are_size_limited_tmpfs(local: LocalSandbox) -> None:
    result = await local.shell("df -k --output=size /workspace /tmp | tail -n 2")
    workspace_kb, tmp_kb = (int(x) for x in result.output.split())
    assert workspace_kb == local.config.disk_mb << 10
    assert tmp_kb == local.config.tmp_mb << 10


async def test_files_written_through_the_api_belong_to_the_sandbox_user(local: LocalSandbox) -> None:
    await local.write_file("made/by/api.txt", "x")
    result = await local.shell(
        "stat -c '%u %a' made/by/api.txt made/by; echo more >> made/by/api.txt && echo ok"
    )
    assert result.output == f"{local.config.uid} 644\n{local.config.uid} 755\nok\n"


async def test_special_files_are_refused_without_hanging(local: LocalSandbox) -> None:
    await local.shell("mkfifo pipe; ln -s /dev/zero zeros")
    with pytest.raises(SandboxError, match="regular file"):
        await asyncio.wait_for(local.read_file("pipe"), 10)
    with pytest.raises(SandboxError):
        await asyncio.wait_for(local.write_file("pipe", b"x"), 10)
    with pytest.raises(PathEscapeError):
        await local.read_file("zeros")


async def test_a_symlink_swapped_in_for_a_directory_is_not_followed(local: LocalSandbox) -> None:
    await local.shell("mkdir -p real && echo inside > real/f && mv real real.bak && ln -s /etc real")
    with pytest.raises(PathEscapeError):
        await local.read_file("real/hostname")
    await local.shell("rm real && mv real.bak real")
    assert await local.read_file("real/f") == b"inside\n"


async def test_exec_reports_missing_programs(local: LocalSandbox) -> None:
    result = await local.exec(["definitely-not-a-program"])
    assert result.exit_code == 127 and b"not found" in result.stderr


async def test_close_removes_processes_cgroups_and_control_files(local: LocalSandbox) -> None:
    await local.shell("setsid sleep 600 >/dev/null 2>&1 & sleep 600 >/dev/null 2>&1 &")
    init, ctl = local._init_pid, local._ctl
    cgroups = list(local._limits.dirs) if local._limits else []
    assert init is not None and ctl is not None and ctl.exists()
    await local.close()
    assert not ctl.exists()
    assert all(not d.exists() for d in cgroups)
    assert not Path(f"/proc/{init}").exists() or _status(init).get("State", "").startswith("Z")


async def test_lifetime_expiry_closes_the_sandbox() -> None:
    sb = LocalSandbox(sandbox_config(max_lifetime_s=0.5))
    await sb.start()
    try:
        for _ in range(100):
            if sb.closed:
                break
            await asyncio.sleep(0.05)
        assert sb.closed
    finally:
        await sb.close()


async def test_missing_bubblewrap_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import agentcore.sandboxes.local.sandbox as local_module

    monkeypatch.setattr(local_module, "bwrap_path", lambda: None)
    with pytest.raises(SandboxError, match="bubblewrap is not installed"):
        await LocalSandbox(sandbox_config()).start()


async def test_janitor_removes_what_a_crashed_process_left(tmp_path: Path) -> None:
    crash = textwrap.dedent(
        """
        import asyncio, json, os, sys
        from agentcore.sandboxes.local import LocalSandbox
        async def main():
            sb = LocalSandbox(labels={"agentcore.test": "janitor"})
            await sb.start()
            await sb.shell("sleep 600 >/dev/null 2>&1 &")
            print(json.dumps({"id": sb.id}), flush=True)
            os._exit(1)  # crash: no close()
        asyncio.run(main())
        """
    )
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", crash, stdout=subprocess.PIPE)
    out, _ = await proc.communicate()
    leaked = json.loads(out.decode().strip().splitlines()[-1])["id"]
    assert (state_root() / leaked).exists()
    removed = await janitor.reap({"agentcore.test": "janitor"}, backends=["local"])
    assert leaked in removed["local"]
    assert not (state_root() / leaked).exists()


@root_only
async def test_janitor_removes_the_empty_cgroup_of_a_dead_parked_launcher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with LocalSandbox(sandbox_config()) as sb:
        key = sb.launch_key()
    parked = await _parked(key)
    # kill the launcher behind the pool's back, as a crash of its owner would
    parked.proc.kill()
    await asyncio.sleep(0.05)
    assert parked.limits.dirs and not parked.limits.pids()
    name = parked.limits.dirs[0].name[len(PREFIX) :]
    assert name not in (await janitor.reap({"agentcore.test": "janitor"}, backends=["local"]))["local"]
    monkeypatch.setattr(janitor, "WARM_GRACE_S", 0.0)
    assert name in (await janitor.reap({"agentcore.test": "janitor"}, backends=["local"]))["local"]
    assert not any(d.exists() for d in parked.limits.dirs)
    assert _local_launch.take_warm(key) is None  # type: ignore[arg-type]  # the pool notices it died


async def test_janitor_leaves_live_sandboxes_alone(local: LocalSandbox) -> None:
    removed = await janitor.reap(backends=["local"])
    assert local.id not in removed["local"]
    assert (await local.shell("echo alive")).output == "alive\n"


async def test_a_host_workspace_directory_can_be_bound_and_outlives_the_sandbox() -> None:
    parent = Path(tempfile.mkdtemp(prefix="agentcore-ws-test-"))
    os.chmod(parent, 0o755)  # the sandbox's host user must be able to reach it
    host_ws = parent / "ws"
    try:
        await _use_host_workspace(host_ws)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


async def _use_host_workspace(host_ws: Path) -> None:
    async with LocalSandbox(sandbox_config(), workspace_dir=host_ws) as sb:
        await sb.shell("echo from-shell > out.txt; ln -s /etc/passwd planted")
        await sb.write_file("api.txt", "from-api\n")
        with pytest.raises(PathEscapeError):
            await sb.read_file("planted")
    assert (host_ws / "out.txt").read_text() == "from-shell\n"
    assert (host_ws / "api.txt").read_text() == "from-api\n"
    assert (host_ws / "out.txt").stat().st_uid == sb.host_uid


def test_a_foreign_host_workspace_directory_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    sb = LocalSandbox(sandbox_config(), workspace_dir=foreign)
    if sb.host_uid == os.getuid() and not IS_ROOT:
        pytest.skip("the directory belongs to the sandbox user already")
    with pytest.raises(SandboxError, match="must belong"):
        sb._prepare_workspace_dir(foreign)


def test_a_session_sandbox_survives_event_loops_and_threads_that_end() -> None:
    """Runner.run_sync uses a fresh asyncio.run per call (in a throwaway thread inside notebooks)."""
    import threading

    sb = LocalSandbox(sandbox_config(lifetime="session"))

    async def first() -> None:
        await sb.start()
        await sb.shell("cd /tmp && export TURN=one")

    async def second() -> str:
        return (await sb.shell("echo $TURN; pwd")).output

    thread = threading.Thread(target=lambda: asyncio.run(first()))
    thread.start()
    thread.join()
    try:
        assert asyncio.run(second()) == "one\n/tmp\n"
    finally:
        asyncio.run(sb.close())


def test_run_sync_twice_with_a_session_sandbox_keeps_the_workspace() -> None:
    output = second_turn_output(
        LocalSandbox(sandbox_config(lifetime="session")),
        tool_call("write_file", {"path": "notes.txt", "content": "turn one\n"}),
        tool_call("shell", {"command": "cat notes.txt"}),
    )
    assert output.startswith("turn one\n")


async def test_expiry_in_the_middle_of_a_command_ends_it_promptly() -> None:
    sb = LocalSandbox(sandbox_config(max_lifetime_s=1.0))
    await sb.start()
    try:
        result = await asyncio.wait_for(sb.shell("sleep 120", timeout=100), 30)
        assert result.restarted and result.exit_code in (None, 137) and not result.timed_out
        assert sb.closed
    finally:
        await sb.close()
