"""What a run sets up before its first turn: the models it shares with other runs on the event loop,
the agents it can reach, the images a model is shown, the sandboxes it starts, the default trace store."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Iterable
from typing import Any

from ..agent import Agent
from ..model import Model
from ..registry import resolve_model
from ..tools import Tool

_shared_models: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Model]] = (
    weakref.WeakKeyDictionary()
)


def shared_model(spec: str) -> Model:
    """The adapter for a ``provider:model`` string, shared by every run on this event loop, so
    connection pools and encoding caches are reused instead of rebuilt per run."""
    models = _shared_models.setdefault(asyncio.get_running_loop(), {})
    model = models.get(spec)
    if model is None:
        model = models[spec] = resolve_model(spec)
    return model


def images_kept(tools: Iterable[Tool]) -> int | None:
    """How many tool-result images the model is shown: the smallest ``keep_images`` of the tools
    (the ``computer`` tool sets it), None (all) when no tool asks."""
    return min((int(t.metadata["keep_images"]) for t in tools if "keep_images" in t.metadata), default=None)


def default_tracing() -> None:
    from ..tracing.store import ensure_default

    ensure_default()


def agents_reachable(entry: Agent[Any]) -> dict[str, Agent[Any]]:
    found: dict[str, Agent[Any]] = {}
    stack = [entry]
    while stack:
        agent = stack.pop()
        if agent.name in found:
            continue
        found[agent.name] = agent
        stack.extend(h.agent for h in agent.handoff_list)
    return found


async def start_for_run(sandbox: Any) -> None:
    """Start a sandbox and its default shell (the first ``shell`` call then finds it up)."""
    await sandbox.start()
    opener = getattr(sandbox, "open_shell", None)
    if opener is not None:
        with contextlib.suppress(Exception):  # the first shell command retries and reports
            await opener()
