"""Sessions: where a conversation lives between runs.

A session is an append-only log. The runner appends the user's input when a run starts and each
turn's items when the turn completes, with the active agent, the adapters' caches (server-side
response ids and their watermarks) and the usage. Loading folds the log into a
:class:`SessionSnapshot`. A crashed run therefore resumes from its last completed turn:
``Runner.run(agent, None, session=s)`` continues the transcript as it was saved.

Implementations: :class:`InMemorySession` here; ``agentcore.sqlite_session.SQLiteSession`` (the
default store of the CLI). A new store implements :meth:`Session.load` and :meth:`Session.append`.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..messages import Item, Usage, new_id


@dataclass
class SessionSnapshot:
    items: list[Item] = field(default_factory=list)
    active_agent: str | None = None
    caches: dict[str, dict[str, Any]] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    metadata: dict[str, Any] = field(default_factory=dict)


class Session(abc.ABC):
    """A conversation store. One run at a time per session; different sessions may run concurrently."""

    session_id: str

    @abc.abstractmethod
    async def load(self) -> SessionSnapshot:
        """The conversation as it stands."""

    @abc.abstractmethod
    async def append(
        self,
        items: Sequence[Item],
        *,
        active_agent: str | None = None,
        caches: dict[str, dict[str, Any]] | None = None,
        usage: Usage | None = None,
    ) -> None:
        """Record new items; ``active_agent``/``caches`` replace the previous values when given;
        ``usage`` is added to the total."""

    async def clear(self) -> None:
        raise NotImplementedError

    def lock(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """A per-session lock the runner holds for the duration of a run (this one: within this process;
        :class:`~agentcore.sessions.SQLiteSession` locks across processes)."""
        lock: asyncio.Lock | None = getattr(self, "_run_lock", None)
        if lock is None:
            lock = asyncio.Lock()
            self._run_lock = lock
        return lock


class InMemorySession(Session):
    """A session kept in this process only."""

    def __init__(self, session_id: str | None = None) -> None:
        self.session_id = session_id or new_id()
        self._snapshot = SessionSnapshot()

    async def load(self) -> SessionSnapshot:
        s = self._snapshot
        return SessionSnapshot(
            items=list(s.items),
            active_agent=s.active_agent,
            caches=copy.deepcopy(s.caches),
            usage=s.usage.model_copy(deep=True),
            metadata=dict(s.metadata),
        )

    async def append(
        self,
        items: Sequence[Item],
        *,
        active_agent: str | None = None,
        caches: dict[str, dict[str, Any]] | None = None,
        usage: Usage | None = None,
    ) -> None:
        self._snapshot.items.extend(items)
        if active_agent is not None:
            self._snapshot.active_agent = active_agent
        if caches is not None:
            self._snapshot.caches = copy.deepcopy(caches)
        if usage is not None:
            self._snapshot.usage.add(usage)

    async def clear(self) -> None:
        self._snapshot = SessionSnapshot()
