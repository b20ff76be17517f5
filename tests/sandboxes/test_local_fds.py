"""A local shell's stdin FIFO is closed once: killing a shell twice (a restart, then the sandbox's close)
must not close the file that has taken its descriptor number since — that was once another sandbox's
supervisor pipe, whose supervisor then saw EOF and ended (``died (exit status 0)``)."""

from __future__ import annotations

import os

from sandboxes._loop import on_sandbox_loop
from tests.sandboxes.backends import local_sandbox


async def test_killing_a_shell_twice_closes_its_descriptor_once() -> None:
    sandbox = local_sandbox()
    await sandbox.start()
    try:
        assert (await sandbox.shell("echo ready")).output.strip() == "ready"
        proc = sandbox._sessions["default"]._proc  # the LocalShell under the default session
        assert proc is not None

        async def scenario() -> bool:
            number = proc.in_fd  # type: ignore[attr-defined]
            await proc.kill()
            read_end, write_end = os.pipe()  # the lowest free numbers: the FIFO's number comes back
            try:
                reused = number in (read_end, write_end)
                await proc.kill()
                os.fstat(read_end)
                os.fstat(write_end)  # both still open
                return reused
            finally:
                os.close(read_end)
                os.close(write_end)

        assert await on_sandbox_loop(scenario())  # the test did exercise a reused number
        assert (await sandbox.exec(["echo", "alive"])).stdout.strip() == b"alive"
    finally:
        await sandbox.close()
