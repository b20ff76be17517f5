"""Context windows and context policies: how much a model can read, and what a run does about it.

* :data:`WINDOWS` is the maintained table of context windows (tokens) per model family of the three
  vendors; :func:`window_for` looks a model name up (longest matching prefix). ``Model.context_window``
  or ``ContextPolicy(window=...)`` override it.
* :class:`TokenEstimate` is the fast local count used between calls: about four characters of an item's
  JSON per token, cached per item, times a ratio calibrated from each response's reported input tokens
  (what the vendor counted for what was sent, over what the estimate said).
* :class:`ContextPolicy` is what an agent does when its transcript grows towards the window
  (``Agent(context=ContextPolicy(...))``); the runner applies it as a *view* of the transcript
  (:mod:`agentcore.run.compaction`), the session keeps every item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .errors import UserError
from .messages import Item

if TYPE_CHECKING:
    from .model import Model, ToolSpec

__all__ = ["WINDOWS", "ContextPolicy", "TokenEstimate", "window_for"]

WINDOWS: dict[str, int] = {
    # OpenAI (platform model pages: "context window")
    "gpt-5-chat": 128_000,
    "gpt-5": 400_000,  # gpt-5, -mini, -nano, -codex, gpt-5.1, gpt-5.2 …
    "gpt-4.1": 1_047_576,
    "gpt-4o": 128_000,
    "gpt-4-turbo": 128_000,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 16_385,
    "o1-mini": 128_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "codex-mini": 200_000,
    # Anthropic (200k for every current model; 1M for some with a beta header, not assumed)
    "claude-": 200_000,
    # Google Gemini
    "gemini-1.5-pro": 2_097_152,
    "gemini-1.5-flash": 1_048_576,
    "gemini-2.0-flash": 1_048_576,
    "gemini-2.5": 1_048_576,
    "gemini-3": 1_048_576,
}
"""Context windows in tokens by model-name prefix (the longest matching prefix wins)."""


def window_for(model_name: str) -> int | None:
    """The context window of ``model_name`` from :data:`WINDOWS` (a ``models/`` prefix and a
    ``provider:`` prefix are ignored), or ``None`` when the family is unknown."""
    name = model_name.rsplit(":", 1)[-1].removeprefix("models/").lower()
    best = ""
    for prefix in WINDOWS:
        if name.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return WINDOWS[best] if best else None


@dataclass(frozen=True, kw_only=True)
class ContextPolicy:
    """What a run does when the agent's transcript nears the model's context window.

    Triggered when the estimated request passes ``trigger`` x the window (before the vendor would
    refuse it), and as a recovery when the vendor answers "context too long" (one compaction, one
    retry, then :class:`~agentcore.errors.ContextWindowExceeded`). A compaction, in order, until the
    request is under ``target`` x the window:

    1. ``keep_tool_outputs=N``: tool outputs older than the last N are cut to ``tool_output_chars``
       characters (``None``: never).
    2. ``summarize``: the oldest turns become one summary item written by ``summarizer`` (a
       ``provider:model`` string or a :class:`~agentcore.model.Model`; ``None``: a model-free digest),
       keeping the newest turns verbatim (about ``keep_recent`` x the window). The next compaction
       summarises the previous summary plus the turns that aged out since, never from scratch.

    ``native=True`` also asks the vendor's own mechanism where the adapter has one (OpenAI
    ``context_management`` compaction, Anthropic server-side compaction or context editing). ``count``
    chooses how requests are measured: ``"auto"`` (the local estimate, and the vendor's counting
    endpoint when no response has calibrated the estimate yet and it is near the trigger),
    ``"estimate"`` or ``"vendor"`` (the endpoint before every call near the trigger). ``window``
    overrides the model's window.
    """

    trigger: float = 0.8
    target: float = 0.6
    window: int | None = None
    keep_tool_outputs: int | None = 5
    tool_output_chars: int = 200
    summarize: bool = True
    summarizer: str | Model | None = None
    summary_instructions: str | None = None
    keep_recent: float = 0.3
    native: bool = False
    count: Literal["auto", "estimate", "vendor"] = "auto"
    recover: bool = True

    def __post_init__(self) -> None:
        for name in ("trigger", "target", "keep_recent"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise UserError(f"context policy: {name} must be a fraction in (0, 1], not {value!r}")
        if self.target > self.trigger:
            raise UserError("context policy: target must not exceed trigger")
        if self.keep_recent >= self.target:
            raise UserError("context policy: keep_recent must be below target")
        if self.window is not None and self.window < 256:
            raise UserError(f"context policy: window {self.window} is too small to hold a conversation")
        if self.keep_tool_outputs is not None and self.keep_tool_outputs < 0:
            raise UserError("context policy: keep_tool_outputs must be >= 0")
        if self.count not in ("auto", "estimate", "vendor"):
            raise UserError(f"context policy: count must be auto, estimate or vendor, not {self.count!r}")

    @classmethod
    def of(cls, value: ContextPolicy | dict[str, Any] | None) -> ContextPolicy | None:
        """``Agent(context=...)`` accepts a policy, its fields as a dict, or ``None`` (no policy)."""
        if value is None or isinstance(value, ContextPolicy):
            return value
        if isinstance(value, dict):
            return cls(**value)
        raise UserError(
            f"context must be a ContextPolicy or a dict of its fields, not {type(value).__name__}"
        )


def _chars(item: Item) -> int:
    return len(item.model_dump_json())


def grew(items: Sequence[Item], prev: Sequence[Item]) -> bool:
    """Whether ``items`` is ``prev`` plus items appended after it, known in O(1): both are views of the
    run's append-only transcript with the same head and start (``TranscriptView.extends``), or the same
    object. Anything else (a copy, a compacted list) is measured again."""
    if items is prev:
        return True
    extends = getattr(items, "extends", None)
    return bool(extends is not None and extends(prev))


class TokenEstimate:
    """The local token count: about four characters of JSON per token, per item (cached by item id),
    times ``ratio``, which :meth:`calibrate` moves towards what the vendor reported."""

    CHARS_PER_TOKEN = 4.0

    def __init__(self, limit: int = 16384) -> None:
        self.ratio = 1.0
        self.calibrated = False
        self._items: dict[str, tuple[Item, int]] = {}
        self._limit = limit
        self._last: tuple[Sequence[Item] | None, int] = (None, 0)

    def raw(self, items: Sequence[Item], extra_chars: int = 0) -> int:
        """The uncalibrated estimate of ``items`` plus ``extra_chars`` (instructions, tools).

        A transcript that only grew since the last call (see :func:`grew`) is measured from where that
        call stopped, so a turn costs what it added, not the history's length.
        """
        n = len(items)
        prev, total = self._last
        if prev is not None and grew(items, prev):
            start = len(prev)
        else:
            start, total = 0, 0
        cache = self._items
        for index in range(start, n):
            item = items[index]
            hit = cache.get(item.id)
            if hit is None or hit[0] is not item:
                if len(cache) >= self._limit:
                    for key in list(cache)[: self._limit // 4]:
                        del cache[key]
                hit = cache[item.id] = (item, _chars(item))
            total += hit[1]
        self._last = (items, total)
        return int((total + extra_chars) / self.CHARS_PER_TOKEN)

    def tokens(self, items: Sequence[Item], extra_chars: int = 0) -> int:
        return int(self.raw(items, extra_chars) * self.ratio)

    def calibrate(self, reported: int, raw: int) -> None:
        """Move ``ratio`` towards ``reported / raw`` (the vendor's count of what the estimate measured)."""
        if reported <= 0 or raw <= 0:
            return
        sample = min(max(reported / raw, 0.2), 5.0)
        self.ratio = sample if not self.calibrated else 0.5 * self.ratio + 0.5 * sample
        self.calibrated = True


def fixed_chars(instructions: str | None, tools: Sequence[ToolSpec]) -> int:
    """Characters of a request outside its items: instructions and tool declarations."""
    total = len(instructions or "")
    for tool in tools:
        total += len(tool.name) + len(tool.description) + len(str(tool.parameters))
    return total
