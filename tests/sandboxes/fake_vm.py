"""A stand-in for a remote sandbox's machine, shared by the E2B and Modal stand-ins.

When the tests run as root, a :class:`FakeVM` is a private PID and mount namespace (``unshare``) whose
processes run as ``nobody``; :meth:`FakeVM.argv` prefixes a command so that it starts inside
(``nsenter`` + ``setpriv``). Inside, /proc shows only the VM's processes and ``kill -9 -1`` reaches
nothing else, as in a real E2B microVM or Modal container. Without root, commands run as plain local
processes of the current user (enough for most adapter tests, not for /proc-based ones).

This is not a security boundary; it keeps the stand-ins honest about what a sandbox sees.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from pathlib import Path


class FakeVM:
    def __init__(self) -> None:
        self.uid: int | None = None
        self.gid: int | None = None
        self.init_pid: int | None = None
        self._unshare: subprocess.Popen[bytes] | None = None
        self.stopped = False
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
            self._start()

    def _start(self) -> None:
        self._unshare = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "--", "sleep", "infinity"],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        pid = self._unshare.pid
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                if children:
                    self.init_pid = int(children[0])
                    return
            time.sleep(0.005)
        raise RuntimeError("could not start the fake VM's PID namespace")

    def give(self, path: Path) -> None:
        """Make ``path`` belong to the VM's user."""
        if self.uid is not None:
            os.chown(path, self.uid, self.gid or 0)

    def argv(self, cwd: str) -> list[str]:
        """Prefix that runs a command inside the VM, as its user, in ``cwd`` (entering a mount
        namespace resets the working directory: ``--wd`` sets it again)."""
        if self.init_pid is None:
            return []
        return [
            *("nsenter", "-t", str(self.init_pid), "--pid", "--mount", f"--wd={cwd}", "--"),
            *("setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--"),
        ]

    def stop(self) -> None:
        """Kill the namespace's init: the kernel then kills every process inside."""
        self.stopped = True
        if self._unshare is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._unshare.pid, signal.SIGKILL)
            self._unshare.wait()
            self._unshare = None
