"""The step runner: the one injection point through which a durable engine records a run's effects.

The loop sends each effect through :func:`run_step` — a model call, a tool's execution, a guardrail
check, a verifier. With no runner installed (the default) that is a plain ``await``. A durable runner
(:mod:`agentcore.durable`) installs one for the run with :func:`use_step_runner`; it checkpoints each
step's outcome and, when the run is replayed after a crash, returns the recorded outcome instead of
doing the work again. Steps must therefore start in the same order on every replay, which the loop
guarantees: everything between steps is a deterministic function of the steps' outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Any, Protocol, TypeVar

from ..control.approvals import ApprovalLedger, Decision, RunState
from ..errors import ApprovalError

T = TypeVar("T")


class StepRunner(Protocol):
    """Runs ``fn`` as the step called ``name``: at most once, its outcome recorded, replayed after a crash.

    ``kind`` is ``"model"``, ``"tool"`` (may have effects: at most once), ``"idempotent_tool"`` (the
    tool's ``metadata["idempotent"]``: may run again after a crash), ``"guardrail"``, ``"verifier"``,
    ``"approval"`` (a decision used) or ``"session"`` (a durable run's session reads and writes).
    """

    async def __call__(self, kind: str, name: str, fn: Callable[[], Awaitable[Any]]) -> Any: ...


_runner: contextvars.ContextVar[StepRunner | None] = contextvars.ContextVar("agentcore_step_runner", default=None)


def current() -> StepRunner | None:
    """The step runner of the run in this context, or None (plain awaits)."""
    return _runner.get()


async def run_step(kind: str, name: str, fn: Callable[[], Awaitable[T]]) -> T:
    """Await ``fn()`` through the installed step runner (or directly when there is none)."""
    runner = _runner.get()
    if runner is None:
        return await fn()
    result: T = await runner(kind, name, fn)
    return result


@contextlib.contextmanager
def use_step_runner(runner: StepRunner | None) -> Iterator[None]:
    """Install ``runner`` for the code (and the tasks it starts) inside the ``with`` block."""
    token = _runner.set(runner)
    try:
        yield
    finally:
        _runner.reset(token)


async def consume_decisions(state: RunState) -> dict[str, Decision]:
    """Verify a paused run's decisions and use each once (the ledger, across processes). Using them is
    a step: a durable run replayed after a crash does not find its own earlier use and refuse."""
    decisions = state.verify()
    ledger = ApprovalLedger()
    for call_id in decisions:
        use = partial(asyncio.to_thread, ledger.consume, state.run_id, call_id)
        if not await run_step("approval", call_id, use):
            raise ApprovalError(f"the decision for call {call_id} was already used")
    return decisions
