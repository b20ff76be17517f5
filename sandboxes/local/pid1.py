"""An execute-only copy of bash for the local sandbox's pid 1, when agentcore runs as root.

The supervisor (:mod:`.supervisor`) runs as the same uid as the agent's processes (bubblewrap maps one
uid). Being the pid namespace's init puts it out of reach of signals, but not of ``/proc/1``: a process
of the same uid may open ``/proc/1/fd/*`` (write fake notices, read the host's requests),
``/proc/1/environ``, ``/proc/1/mem`` or ptrace it, as long as it is *dumpable*. A process that executes
a binary it cannot read is not dumpable (the kernel's ``would_dump``): so pid 1 runs a root-owned copy
of bash with mode ``0111``, bound read-only at :data:`INSIDE`. The copy is made once per host (in the
root-owned state directory) and checked before every use; a host where agentcore is not root runs
``/bin/bash`` (the copy would belong to the sandbox user, who could read it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
from pathlib import Path

from .supervisor import SUPERVISOR

__all__ = ["COMMAND", "INSIDE", "execute_only_bash"]

INSIDE = "/run/agentcore-init"
"""Where the copy appears inside the sandbox."""
COMMAND = (INSIDE, "--noprofile", "--norc", "-c", SUPERVISOR)
"""What bwrap runs as pid 1 when the copy is available."""


def _usable(path: Path) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == 0 and stat.S_IMODE(info.st_mode) == 0o111


def execute_only_bash(root: Path) -> Path | None:
    """The execute-only copy of bash under ``root`` (made if missing); None unless we are root and
    ``root`` is a directory only root can write."""
    if os.geteuid() != 0:
        return None
    bash = shutil.which("bash", path="/usr/bin:/bin")
    if bash is None:
        return None
    try:
        source = os.stat(bash)
        root.mkdir(mode=0o711, exist_ok=True)
        owner = root.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(owner.st_mode) or owner.st_uid != 0 or owner.st_mode & 0o022:
        return None
    target = root / f"init-{source.st_ino:x}-{source.st_size:x}-{source.st_mtime_ns:x}"
    if _usable(target):
        return target
    tmp = root / f".{target.name}.{secrets.token_hex(4)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o100)
        with os.fdopen(fd, "wb") as out, open(bash, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
            os.fchmod(out.fileno(), 0o111)
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return None
    return target if _usable(target) else None
