"""The public coroutines of every backend, hopping onto the shared sandbox loop (``_local_loop``).

Pipes, sockets, SDK clients and the shell's reader tasks are bound to the loop that created them, while
callers change loops (``Runner.run_sync`` runs each call in a fresh ``asyncio.run``). So the local and
the remote backends run all their I/O on one long-lived loop thread: the public methods below hop onto
it, live output hops back to the caller in order, and a sandbox with ``lifetime="session"`` survives
from one ``run_sync`` to the next. A backend implements :meth:`LoopSandbox._exec`, which receives one
:class:`ExecCall` and runs on the sandbox loop already.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._loop import on_sandbox_loop, to_caller_loop
from .base import ExecResult, OutputCallback, Sandbox, ShellResult, register_env_secrets


@dataclass(frozen=True)
class ExecCall:
    """The arguments of one :meth:`Sandbox.exec` call, as the caller passed them."""

    argv: Sequence[str]
    cwd: str | None = None
    env: Mapping[str, str] | None = None
    stdin: bytes | None = None
    timeout: float | None = None
    max_output_bytes: int | None = None


class LoopSandbox(Sandbox):
    """A :class:`Sandbox` whose public coroutines run on the shared sandbox loop."""

    async def start(self) -> None:
        await on_sandbox_loop(super().start())

    async def close(self) -> None:
        await on_sandbox_loop(super().close())

    async def attach(self, handle: Mapping[str, Any]) -> bool:
        return await on_sandbox_loop(super().attach(handle))

    async def shell(
        self,
        command: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        session: str = "default",
        on_output: OutputCallback | None = None,
        max_output_bytes: int | None = None,
    ) -> ShellResult:
        return await on_sandbox_loop(
            super().shell(
                command,
                timeout=timeout,
                session=session,
                on_output=to_caller_loop(on_output),
                max_output_bytes=max_output_bytes,
            )
        )

    async def open_shell(self, session: str = "default") -> None:
        await on_sandbox_loop(super().open_shell(session))

    async def interrupt(self, session: str = "default") -> None:
        await on_sandbox_loop(super().interrupt(session))

    async def reset_shell(self, session: str = "default") -> None:
        await on_sandbox_loop(super().reset_shell(session))

    async def exec(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        max_output_bytes: int | None = None,
    ) -> ExecResult:
        if env:
            register_env_secrets(env)  # values handed to a sandbox never reach a trace
        call = ExecCall(argv, cwd, env, stdin, timeout, max_output_bytes)
        return await on_sandbox_loop(self._exec(call))

    @abstractmethod
    async def _exec(self, call: ExecCall) -> ExecResult:
        """Backend: :meth:`Sandbox.exec`, already on the sandbox loop."""
