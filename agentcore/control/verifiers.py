"""Verifiers: checks that run after the agent claims it is done.

``Agent(verify=[CommandVerifier("pytest -q")])`` runs the command in the agent's sandbox once the model
gives a final answer. A failure goes back to the agent as feedback (the command's output), up to
``Agent.max_corrections`` times in a row; then the run ends with
:class:`~agentcore.errors.VerifierFailed`, which carries the last verifier output.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..context import RunContext
from ..errors import UserError


@dataclass(frozen=True, slots=True)
class VerifierResult:
    passed: bool
    output: str = ""


class Verifier:
    name: str = "verifier"

    async def verify(self, ctx: RunContext[Any], output: Any) -> VerifierResult:  # pragma: no cover
        raise NotImplementedError


class CommandVerifier(Verifier):
    """Passes when ``command`` exits 0 in the agent's sandbox (run in a fresh, separate shell session)."""

    def __init__(
        self, command: str, *, timeout: float = 300.0, name: str | None = None, tail_chars: int = 4000
    ):
        self.command = command
        self.timeout = timeout
        self.name = name or command
        self.tail_chars = tail_chars

    async def verify(self, ctx: RunContext[Any], output: Any) -> VerifierResult:
        sandbox = ctx.sandbox
        if sandbox is None:
            raise UserError(
                f"verifier {self.name!r} runs a command but agent {ctx.agent.name!r} has no sandbox"
            )
        result = await sandbox.shell(self.command, timeout=self.timeout, session="verifier")
        text = str(getattr(result, "output", ""))
        code = getattr(result, "exit_code", 1)
        if getattr(result, "timed_out", False):
            text += f"\n[timed out after {self.timeout}s]"
        return VerifierResult(
            passed=code == 0, output=f"$ {self.command}\n[exit {code}]\n{text[-self.tail_chars :]}"
        )


VerifyFn = Callable[
    [RunContext[Any], Any], "bool | str | VerifierResult | Awaitable[bool | str | VerifierResult]"
]


class FunctionVerifier(Verifier):
    """A verifier from a function: ``True`` passes; ``False`` or a string (the feedback) fails."""

    def __init__(self, fn: VerifyFn, *, name: str | None = None) -> None:
        self.fn = fn
        self.name = name or str(getattr(fn, "__name__", "verifier"))

    async def verify(self, ctx: RunContext[Any], output: Any) -> VerifierResult:
        value = self.fn(ctx, output)
        if inspect.isawaitable(value):
            value = await value
        if isinstance(value, VerifierResult):
            return value
        if value is True or value is None:
            return VerifierResult(True)
        return VerifierResult(False, "verification failed" if value is False else str(value))


def as_verifier(value: Verifier | VerifyFn | str) -> Verifier:
    """A command string, a function or a Verifier."""
    if isinstance(value, Verifier):
        return value
    if isinstance(value, str):
        return CommandVerifier(value)
    return FunctionVerifier(value)
