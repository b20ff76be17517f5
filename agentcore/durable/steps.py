"""The DBOS step runner: each effect of a durable run is one DBOS step, checkpointed in Postgres.

Installed by the durable workflow around the run's loop (:func:`agentcore.run.steps.use_step_runner`).
DBOS identifies a step by its position in the workflow; the loop starts steps in the same order on
every replay, and DBOS checks each recorded step's name against the one replayed.

Outcomes are recorded as plain values: ``("ok", value)`` or ``("error", pickled exception, text)``. A
recorded failure is raised again on replay (the same exception when it unpickles, else
:class:`DurableStepError`), so a retried model call replays its failed attempts before the new one.

Tools are *at most once* by default: a marker step is recorded before the tool starts; when a crash
interrupts the tool (marker recorded, result not), the replay does not run it again and the model
reads an error result saying so. Tools whose ``metadata["idempotent"]`` is true come as kind
``"idempotent_tool"`` and run again instead (at least once).
"""

from __future__ import annotations

import pickle
from collections.abc import Awaitable, Callable
from typing import Any

from dbos import DBOS

from ..errors import AgentcoreError
from .limits import VendorLimits
from .sandboxes import noted

INTERRUPTED = (
    "the worker running this call stopped before the call finished; it was not run again because it "
    "may have had effects (it may have completed in part or in full)"
)


class DurableStepError(AgentcoreError):
    """A step failed in an earlier execution of the run, with an error that could not be restored."""


async def _record(name: str, fn: Callable[[], Awaitable[Any]]) -> tuple[Any, BaseException | None]:
    live: list[BaseException] = []

    async def body() -> tuple[Any, ...]:
        try:
            return ("ok", await fn())
        except Exception as exc:
            live.append(exc)
            try:
                blob = pickle.dumps(exc)
            except Exception:
                blob = b""
            return ("error", blob, f"{type(exc).__name__}: {exc}")

    out = await DBOS.run_step_async({"name": name}, body)
    if out[0] == "ok":
        return out[1], None
    if live:  # this execution's own failure: the original object, traceback and all
        return None, live[0]
    try:
        restored = pickle.loads(out[1]) if out[1] else None
    except Exception:
        restored = None
    if isinstance(restored, BaseException):
        return None, restored
    return None, DurableStepError(f"step {name} failed in an earlier execution: {out[2]}")


async def dbos_step(kind: str, name: str, fn: Callable[[], Awaitable[Any]]) -> Any:
    """:class:`agentcore.run.steps.StepRunner` over DBOS steps."""
    # (inside another step, a sub-run of an agent used as a tool, DBOS runs these as plain calls)
    label = f"{kind}:{name}"
    if kind in ("tool", "idempotent_tool"):
        fn = noted(name, fn)  # after a sandbox reset, the first sandbox call that runs says so
    if kind == "tool":
        fresh: list[bool] = []

        async def mark() -> bool:
            fresh.append(True)
            return True

        await DBOS.run_step_async({"name": f"start {label}"}, mark)
        if not fresh:  # the marker is from an earlier execution that died with the tool running

            async def interrupted() -> tuple[str, bool, str]:
                return INTERRUPTED, True, ""

            value, error = await _record(label, interrupted)  # a recorded result wins over this
        else:
            value, error = await _record(label, fn)
    elif kind == "model" and _limits:
        value, error = await _record(label, _limited(_limits[0], name.split(":", 1)[0], fn))
    else:
        value, error = await _record(label, fn)
    if error is not None:
        raise error
    return value


_limits: list[VendorLimits] = []


def set_vendor_limits(limits: VendorLimits | None) -> None:
    """The per-vendor limits model steps of this process obey (see :mod:`agentcore.durable.limits`)."""
    _limits[:] = [limits] if limits is not None else []


def _limited(
    limits: VendorLimits, vendor: str, fn: Callable[[], Awaitable[Any]]
) -> Callable[[], Awaitable[Any]]:
    async def call() -> Any:
        async with limits.slot(vendor):  # only a live call gets here: a replay never waits
            return await fn()

    return call
