"""Resource limits for the local backend: cgroups (v1 or v2) when writable, rlimits otherwise.

bubblewrap sets no limits itself (SANDBOX.md §6.1). Preferred: one cgroup per sandbox, created below
the host process's own cgroup, with ``memory`` (hard limit, swap included on v1), ``pids`` and ``cpu``
quotas. The launcher writes its own pid into the cgroup *before* it execs bwrap, so every sandbox
process is inside from its first instruction. When no cgroup can be created (an unprivileged host
user without delegation) the launcher sets rlimits instead — weaker: ``RLIMIT_AS`` (address space per
process, not total memory) and ``RLIMIT_NPROC`` (per host uid, so shared by all sandboxes of that uid);
no CPU quota. The disk limit is independent: the workspace and ``/tmp`` are size-limited tmpfs.

Sizes (issue 12, items 1 and 7). The tmpfs pages of the workspace and ``/tmp`` are charged to the
sandbox's memory cgroup, so the cgroup's limit is ``memory_mb + disk_mb + tmp_mb``
(:attr:`SandboxConfig.memory_limit_mb`): a full workspace fails with ENOSPC, never with an OOM kill, and
processes always have ``memory_mb``. The cgroup's pids limit is ``pids`` plus :data:`PIDS_RESERVE`,
while the agent's shells and execs run with ``RLIMIT_NPROC = pids`` (counted per user namespace, i.e.
per sandbox): a fork bomb stops at ``pids`` and the supervisor (pid 1) can still start what it takes
to clean up. Forking at the cgroup's limit would make it give up after 15 s and exit.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..base import SandboxConfig

CGROUP_ROOT = Path("/sys/fs/cgroup")
PREFIX = "agentcore-"
PIDS_RESERVE = 8
"""Processes the cgroup allows beyond the agent's ``pids`` (its RLIMIT_NPROC): the supervisor's own."""

Mechanism = Literal["cgroup-v1", "cgroup-v2", "rlimit"]


@dataclass
class Limits:
    """The limits of one sandbox and how they are enforced."""

    mechanism: Mechanism
    dirs: list[Path] = field(default_factory=list)
    rlimits: dict[str, int] = field(default_factory=dict)

    def launcher_snippet(self) -> str:
        """POSIX sh lines run by the launcher before ``exec bwrap``."""
        lines = [f"echo $$ > {shlex.quote(str(d / 'cgroup.procs'))} || exit 97" for d in self.dirs]
        for flag, value in self.rlimits.items():
            lines.append(f"ulimit -{flag} {value} || exit 98")
        return "\n".join(lines)

    def apply(self, config: SandboxConfig) -> None:
        """Write ``config``'s memory, pids and CPU quotas into the cgroups (raises OSError)."""
        memory, quota = str(config.memory_limit_mb << 20), max(1000, int(config.cpu * 100000))
        pids = str(config.pids + PIDS_RESERVE)
        for d in self.dirs:
            if self.mechanism == "cgroup-v2":
                _write(d / "memory.max", memory)
                with contextlib.suppress(OSError):
                    _write(d / "memory.swap.max", "0")
                _write(d / "pids.max", pids)
                _write(d / "cpu.max", f"{quota} 100000")
            elif (d / "memory.limit_in_bytes").exists():
                order = ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
                if not (d / order[1]).exists():
                    order.pop()
                try:
                    for name in order:
                        _write(d / name, memory)
                except OSError:  # raising the limit: memory+swap must never be below memory
                    for name in reversed(order):
                        _write(d / name, memory)
            elif (d / "pids.max").exists():
                _write(d / "pids.max", pids)
            elif (d / "cpu.cfs_quota_us").exists():
                _write(d / "cpu.cfs_period_us", "100000")
                _write(d / "cpu.cfs_quota_us", str(quota))

    def rename(self, name: str) -> None:
        """Give the cgroups a new name (same parents); processes inside stay put."""
        renamed = []
        for d in self.dirs:
            target = d.with_name(name)
            d.rename(target)
            renamed.append(target)
        self.dirs = renamed

    def pids(self) -> list[int]:
        out: list[int] = []
        for d in self.dirs:
            with contextlib.suppress(OSError):
                out += [int(p) for p in (d / "cgroup.procs").read_text().split()]
        return out

    def pids_current(self) -> int | None:
        """Tasks in the sandbox's cgroup now (``pids.current``); None without a pids cgroup."""
        for d in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                return int((d / "pids.current").read_text())
        return None

    def memory_events(self) -> dict[str, int]:
        """OOM counters (v1 ``memory.oom_control``'s ``oom_kill`` / v2 ``memory.events``)."""
        out: dict[str, int] = {}
        for d in self.dirs:
            for name in ("memory.events", "memory.oom_control"):
                with contextlib.suppress(OSError):
                    for line in (d / name).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if value.strip().isdigit():
                            out[key] = int(value)
        return out

    def _kill_v2(self) -> bool:
        """cgroup v2 ``cgroup.kill`` (Linux 5.14+): the whole cgroup at once, no pid to race with."""
        try:
            for d in self.dirs:
                _write(d / "cgroup.kill", "1")
        except OSError:
            return False
        return True

    def _kill_member(self, pid: int, names: set[str]) -> None:
        """SIGKILL ``pid`` if it still is in one of our cgroups (``names``: ``/<cgroup dir name>``). A pid read from ``cgroup.procs`` may
        exit and be reused by an unrelated new process (pid_max is often 32768) before the kill: the
        pidfd pins the process, then its membership is checked, then it is signalled."""
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:  # gone (or no pidfd: then the membership check below narrows the race)
            pidfd = -1
        try:
            try:
                lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
            except OSError:
                return
            if not any(line.endswith(name) for line in lines for name in names):
                return
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if pidfd >= 0:
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
        finally:
            if pidfd >= 0:
                os.close(pidfd)

    def destroy(self) -> None:
        """Kill whatever is left in the cgroups and remove them."""
        for _ in range(200):
            pids = self.pids()
            if not pids:
                break
            if self.mechanism == "cgroup-v2" and self._kill_v2():
                pids = []
            names = {"/" + d.name for d in self.dirs}
            for pid in pids:
                self._kill_member(pid, names)
            time.sleep(0.005)
        for d in self.dirs:
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.005)
        self.dirs = []


def _own_v1_paths() -> dict[str, str]:
    out: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for c in controllers.split(","):
                if c:
                    out[c] = path
    return out


def _is_v2() -> bool:
    return (CGROUP_ROOT / "cgroup.controllers").exists()


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _try_v1(name: str, config: SandboxConfig) -> Limits | None:
    own = _own_v1_paths()
    dirs: list[Path] = []
    try:
        for ctrl in ("memory", "pids", "cpu"):
            base = CGROUP_ROOT / ctrl
            if not (base / "cgroup.procs").exists():
                _undo(dirs)
                return None
            d = base / own.get(ctrl, "/").lstrip("/") / name
            d.mkdir()
            dirs.append(d)
        limits = Limits("cgroup-v1", dirs)
        limits.apply(config)
    except OSError:
        _undo(dirs)
        return None
    return limits


def _try_v2(name: str, config: SandboxConfig) -> Limits | None:
    own = "/"
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                own = line[3:]
    d = CGROUP_ROOT / own.lstrip("/") / name
    try:
        d.mkdir()
        limits = Limits("cgroup-v2", [d])
        limits.apply(config)
    except OSError:
        _undo([d] if d.exists() else [])
        return None
    return limits


def _undo(dirs: list[Path]) -> None:
    for d in reversed(dirs):
        with contextlib.suppress(OSError):
            d.rmdir()
    return None


def create_limits(sandbox_id: str, config: SandboxConfig, *, use_cgroups: bool = True) -> Limits:
    """Create the cgroups of a sandbox, or describe the rlimit fallback."""
    name = PREFIX + sandbox_id
    if use_cgroups:
        limits = _try_v2(name, config) if _is_v2() else _try_v1(name, config)
        if limits is not None:
            return limits
    return Limits("rlimit", rlimits={"v": config.memory_mb << 10, "u": config.pids + PIDS_RESERVE})


def leaked_cgroups() -> list[Path]:
    """Cgroup directories made by this module (for the janitor)."""
    found: list[Path] = []
    if not CGROUP_ROOT.exists():
        return found
    roots = [CGROUP_ROOT] if _is_v2() else [CGROUP_ROOT / c for c in ("memory", "pids", "cpu")]
    for root in roots:
        with contextlib.suppress(OSError):
            found += [p for p in root.rglob(PREFIX + "*") if p.is_dir()]
    return found
