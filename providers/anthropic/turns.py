"""One assistant turn over several calls: ``stop_reason: "pause_turn"``.

The API pauses a long server-tool turn (searches, code execution) and answers ``pause_turn``: the turn
is not over and its content is not a final answer. The adapter continues it, as the API asks: the same
conversation with the paused content as the last (assistant) message and no new user message, until
the turn ends or :data:`MAX_CONTINUATIONS` continuations were spent. The pieces are one assistant turn:
their content is decoded together (a result that came after the pause pairs with its use), usage is
summed, and every thinking block is bound to what preceded the turn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from agentcore import tracing
from agentcore.messages import HostedToolUse, Item, ToolCall, Usage
from agentcore.model import ModelRequest, ModelResponse

from .decode import BlockDecoder, usage_from
from .hosted import observe_containers, remember_container
from .server_blocks import STATE_KIND, UNFINISHED, is_use

MAX_CONTINUATIONS = 5
"""How many times one turn is continued after ``pause_turn`` before it is returned as it stands
(``finish_reason="pause_turn"``; a call it left without result reaches the next turn as text)."""


class Turn:
    """The pieces of one assistant turn. ``request`` is what the next call sends."""

    def __init__(self, request: ModelRequest, decoder: Callable[[str], BlockDecoder]) -> None:
        self.original = request
        self.request = request
        self._decoder = decoder
        self._bound: str | None = None
        self._content: list[Any] = []
        self._raw_inputs: dict[int, str] = {}
        self._hosted: dict[str, HostedToolUse] = {}
        self._usage = Usage()
        self._last: dict[str, Any] = {}
        self.continuations = 0

    def add(
        self,
        message: dict[str, Any],
        bound: str,
        raw_inputs: dict[int, str] | None = None,
        hosted: dict[str, HostedToolUse] | None = None,
    ) -> bool:
        """Take one piece; True when the turn goes on (``self.request`` is then the continuation)."""
        if not isinstance(message, dict):
            raise TypeError(f"the answer is not a message object: {message!r:.200}")
        content = message.get("content") or []
        if not isinstance(content, list):
            raise TypeError(f"message content is not a list: {content!r:.200}")
        if self._bound is None:
            self._bound = bound
        offset = len(self._content)
        self._content.extend(content)
        self._raw_inputs.update({offset + n: raw for n, raw in (raw_inputs or {}).items()})
        self._hosted.update(hosted or {})
        self._usage.add(usage_from(message.get("usage")))
        self._last = message
        remember_container(message, self.original.cache)
        observe_containers(self.original.hosted_tools, message)
        if message.get("stop_reason") != "pause_turn":
            return False
        if self.continuations >= MAX_CONTINUATIONS:
            tracing.note("anthropic.pause_turn_limit", continuations=self.continuations)
            return False
        self.continuations += 1
        tracing.note("anthropic.pause_turn", continuation=self.continuations)
        so_far = self._decode().items
        self.request = dataclasses.replace(self.original, items=[*self.original.items, *so_far])
        return True

    def _decode(self) -> ModelResponse:
        merged = {**self._last, "content": self._content}
        return self._decoder(self._bound or "").response(merged, self._raw_inputs, self._hosted)

    def response(self) -> ModelResponse:
        """The whole turn as one response (usage of every piece). A turn still paused keeps its
        unfinished server calls, but they go back as text: only a continuation may send a
        ``server_tool_use`` without its result, and the next request starts a new turn."""
        response = self._decode()
        response.usage = self._usage
        if response.finish_reason == "pause_turn" and not any(
            isinstance(i, ToolCall) for i in response.items
        ):
            response.items = [_unfinished(i) for i in response.items]
        return response


def _unfinished(item: Item) -> Item:
    if not isinstance(item, HostedToolUse) or item.status != "incomplete":
        return item
    if not all(is_use(s.payload["block"]) for s in item.state if s.kind == STATE_KIND):
        return item  # it also carries earlier calls' results (parallel calls): keep them paired
    state = tuple(
        s.model_copy(update={"kind": UNFINISHED}) if s.kind == STATE_KIND else s for s in item.state
    )
    return item.model_copy(update={"state": state})
