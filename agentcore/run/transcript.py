"""The transcript a model request carries, without copying it every turn.

``ModelRequest.items`` used to be a fresh ``list`` of the whole history each turn: O(history) per turn,
and O(history²) memory for anything that keeps requests (``ScriptedModel.requests``, retries).
:class:`TranscriptView` is O(1) to make: the active agent's filtered history after a handoff (``head``,
fixed at the handoff) followed by ``items[start:stop]`` of the run's transcript list, with ``stop``
fixed when the view is made. The run only appends to that list past every view's ``stop`` (an output
guardrail's rewrite touches only the items of the response after the request), so a view never changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

from ..messages import Item, dump_items, load_items


class TranscriptView(Sequence[Item]):
    """A read-only, fixed-length view: ``head`` then ``items[start:stop]``. Compares equal to a list
    with the same items; slicing returns a list."""

    __slots__ = ("_head", "_items", "_start", "_stop")

    def __init__(self, items: list[Item], *, head: Sequence[Item] = (), start: int = 0) -> None:
        self._head = head
        self._items = items
        self._start = start
        self._stop = len(items)

    def __len__(self) -> int:
        return len(self._head) + self._stop - self._start

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> list[Item]: ...

    def __getitem__(self, index: int | slice) -> Item | list[Item]:
        if isinstance(index, slice):
            begin, end, step = index.indices(len(self))
            if step == 1 and not self._head:
                return self._items[self._start + begin : self._start + max(begin, end)]
            return [self[i] for i in range(begin, end, step)]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("transcript index out of range")
        head = len(self._head)
        return self._head[index] if index < head else self._items[self._start + index - head]

    def extends(self, other: object) -> bool:
        """Whether this view is ``other`` with items appended: the same transcript list, head and start,
        and a stop at or past ``other``'s (the run only appends past a view's stop, so ``other``'s items
        are this view's first ones, unchanged)."""
        return (
            isinstance(other, TranscriptView)
            and other._items is self._items
            and other._head is self._head
            and other._start == self._start
            and other._stop <= self._stop
        )

    def __iter__(self) -> Iterator[Item]:
        yield from self._head
        for index in range(self._start, self._stop):
            yield self._items[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TranscriptView | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TranscriptView({list(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))  # pickles / deep-copies as a plain list


View = tuple[list[Item], int]
"""The active agent's view of the transcript when it is not the whole of it: ``(head, start)``, the
request carries ``head + items[start:]``. A non-"full" handoff makes one (the filtered history) and so
does a context policy's compaction (:mod:`.compaction`)."""


def dump_view(view: View | None, agent: str) -> dict[str, Any] | None:
    """``view`` as JSON for the session and a paused run's state (``None``: the whole transcript)."""
    if view is None:
        return None
    return {"agent": agent, "base": dump_items(view[0]), "from_index": view[1]}


def load_view(data: dict[str, Any] | None, agent: str) -> View | None:
    """The inverse of :func:`dump_view`, for the agent that is active (another agent's view is not it)."""
    if data and data.get("agent") == agent:
        return (load_items(data["base"]), int(data["from_index"]))
    return None
