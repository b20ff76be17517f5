"""The bubblewrap command line of a local sandbox: its isolation options, the host-side privilege drop
when agentcore runs as root, and the mounts (see the security model in :mod:`.sandbox`)."""

from __future__ import annotations

import os
from pathlib import Path

from ..base import SandboxConfig
from . import pid1
from .state import state_root

__all__ = ["CTL", "ISOLATION", "bwrap_options", "host_prefix"]

CTL = "/run/agentcore"

ISOLATION = (
    "--as-pid-1",
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--die-with-parent",
    "--new-session",
    "--clearenv",
)
"""bwrap options on its command line (the rest comes through ``--args``, see :mod:`._local_launch`)."""


def host_prefix(host_uid: int, host_gid: int) -> list[str]:
    """What runs between the launcher and bwrap: setpriv down to the host uid when we are root."""
    if os.geteuid() != 0:
        return []
    # The launcher runs as root just long enough to join the cgroups, then setpriv drops to the
    # sandbox's host uid for good. (Popen(user=...) would do the same but forces a full fork() of
    # this process instead of vfork(): ~10 ms more in a process the size of an app.)
    return [
        "setpriv",
        f"--reuid={host_uid}",
        f"--regid={host_gid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


def bwrap_options(cfg: SandboxConfig, ctl: Path, workspace_dir: Path | None) -> list[str]:
    """bwrap's options (everything before the command), handed over through ``--args``."""
    args: list[str] = ["--share-net"] if cfg.network == "open" else []  # after ISOLATION's unshare
    args += ["--uid", str(cfg.uid), "--gid", str(cfg.uid), "--hostname", "sandbox"]
    for key, value in cfg.shell_env().items():
        args += ["--setenv", key, value]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / top
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{top}"]
        elif host.is_dir():
            args += ["--ro-bind", str(host), f"/{top}"]
    etc = ["/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime"]
    if cfg.network == "open":
        etc += [
            "/etc/resolv.conf",
            "/etc/hosts",
            "/etc/ssl",
            "/etc/ca-certificates",
            "/etc/nsswitch.conf",
        ]
    for path in etc:
        args += ["--ro-bind-try", path, path]
    args += [
        "--ro-bind",
        str(ctl / "passwd"),
        "/etc/passwd",
        "--ro-bind",
        str(ctl / "group"),
        "/etc/group",
    ]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(cfg.tmp_mb << 20), "--perms", "1777", "--tmpfs", "/tmp"]
    if workspace_dir is not None:
        args += ["--bind", str(workspace_dir), cfg.workdir]
    else:
        args += ["--size", str(cfg.disk_mb << 20), "--perms", "0755", "--tmpfs", cfg.workdir]
    args += ["--ro-bind", str(ctl), CTL]
    init = pid1.execute_only_bash(state_root())  # pid 1 not dumpable: /proc/1 out of the agent's reach
    if init is not None:
        args += ["--ro-bind", str(init), pid1.INSIDE]
    if cfg.read_only_root:
        args += ["--remount-ro", "/"]
    args += ["--chdir", cfg.workdir]
    return args
