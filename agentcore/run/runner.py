"""The runner: one loop drives an agent through model calls, tools, guardrails, handoffs and verifiers.

``Runner.run`` (async), ``Runner.run_sync`` and ``Runner.stream`` are the same loop
(:meth:`agentcore.run_loop.RunLoop.events`): ``run`` consumes the events itself, ``stream`` hands them
to you.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, ClassVar, TypeVar

from ..agent import Agent
from ..control.approvals import RunState
from ..errors import UserError
from ..events import RunEvent, RunResult
from ..messages import Item
from ..sessions.base import Session
from .loop import DEFAULT_MAX_TURNS, RunLoop
from .retry import RetryPolicy
from .setup import shared_model

__all__ = ["DEFAULT_MAX_TURNS", "RunStream", "Runner", "shared_model"]

T = TypeVar("T")


class RunStream:
    """An async iterator of :data:`~agentcore.events.RunEvent`; ``result`` is set once it is exhausted.

    The loop runs in its own task so tracing context and cancellation stay contained; leaving the
    ``async for`` early (or ``await stream.aclose()``) cancels the run.
    """

    _END: ClassVar[object] = object()

    def __init__(self, run: RunLoop) -> None:
        self._run = run
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _pump(self) -> None:
        try:
            async for event in self._run.events():
                self._queue.put_nowait(event)
        except BaseException as exc:
            self._queue.put_nowait(exc)
        finally:
            self._queue.put_nowait(self._END)

    def __aiter__(self) -> RunStream:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._pump())
        return self

    async def __anext__(self) -> RunEvent:
        item = await self._queue.get()
        if item is self._END:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            await self._drain()
            raise item
        ev: RunEvent = item
        return ev

    async def _drain(self) -> None:
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await self._task

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await self._drain()

    async def __aenter__(self) -> RunStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def result(self) -> RunResult[Any]:
        if self._run.result is None:
            raise UserError("the stream has not finished (iterate it to the end first)")
        return self._run.result

    async def final(self) -> RunResult[Any]:
        """Consume the remaining events and return the result."""
        async for _ in self:
            pass
        return self.result


def _run_coroutine_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        running = False
    else:
        running = True
    if not running:
        # Outside the ``except`` block, so a run's error is not chained to "no running event loop".
        return asyncio.run(coro)
    # Called from inside a running loop (a notebook, an async framework): use a private thread.
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


class Runner:
    """Runs agents. All methods are static; ``Runner.retry_policy`` is the default retry policy."""

    retry_policy: ClassVar[RetryPolicy] = RetryPolicy()

    @staticmethod
    async def run(
        agent: Agent[T],
        input: str | Item | Sequence[Item] | RunState | None = None,
        *,
        session: Session | None = None,
        deps: Any = None,
        max_turns: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> RunResult[T]:
        """Run ``agent`` on ``input`` until it produces a final output (or pauses for approval)."""
        run = RunLoop(
            agent,
            input,
            session=session,
            deps=deps,
            max_turns=max_turns,
            retry=retry or Runner.retry_policy,
            user_streaming=False,
            hold_output=False,
        )
        async for _ in run.events():
            pass
        assert run.result is not None
        return run.result

    @staticmethod
    def run_sync(
        agent: Agent[T],
        input: str | Item | Sequence[Item] | RunState | None = None,
        *,
        session: Session | None = None,
        deps: Any = None,
        max_turns: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> RunResult[T]:
        """:meth:`run` for synchronous code."""
        return _run_coroutine_sync(
            Runner.run(agent, input, session=session, deps=deps, max_turns=max_turns, retry=retry)
        )

    @staticmethod
    def stream(
        agent: Agent[Any],
        input: str | Item | Sequence[Item] | RunState | None = None,
        *,
        session: Session | None = None,
        deps: Any = None,
        max_turns: int | None = None,
        retry: RetryPolicy | None = None,
        hold_output_until_checked: bool = False,
    ) -> RunStream:
        """Run ``agent`` and yield events as they happen. With ``hold_output_until_checked`` text is
        released only after output guardrails and verifiers passed, so blocked text never leaks."""
        return RunStream(
            RunLoop(
                agent,
                input,
                session=session,
                deps=deps,
                max_turns=max_turns,
                retry=retry or Runner.retry_policy,
                user_streaming=True,
                hold_output=hold_output_until_checked,
            )
        )
