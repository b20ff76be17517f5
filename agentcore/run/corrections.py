"""The model's corrections: every mistake it was told about, bounded by ``Agent.max_corrections``.

A *round* is one turn with at least one correction (several bad tool calls of one turn are one
round); a turn without a mistake ends the streak. Each correction is a :class:`ModelCorrection` event;
when the streak outgrows the budget the run ends with :class:`ModelBehaviorError` listing them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ModelBehaviorError
from ..events import ModelCorrection, RunEvent
from ..messages import Item

if TYPE_CHECKING:
    from ..agent import Agent


class Corrections:
    """The current streak of corrections of one run."""

    __slots__ = ("log", "rounds")

    def __init__(self) -> None:
        self.rounds = 0
        self.log: list[tuple[str, str]] = []

    def reset(self) -> None:
        if self.rounds:
            self.rounds = 0
            self.log = []

    def add(
        self, agent: Agent[Any], notes: Sequence[tuple[str, str]], items: Callable[[], list[Item]]
    ) -> list[RunEvent]:
        """Count one round of ``notes`` (``(source, message)``); their events, or ModelBehaviorError
        when the round is one too many."""
        self.rounds += 1
        self.log.extend(notes)
        limit = agent.max_corrections
        if self.rounds > limit:
            raise ModelBehaviorError(
                f"agent {agent.name!r} needed more than {limit} correction{'s' if limit != 1 else ''} in a row",
                items=items(),
                agent_name=agent.name,
                corrections=self.log,
            )
        return [ModelCorrection(agent.name, source, message, self.rounds, limit) for source, message in notes]
