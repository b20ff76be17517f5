"""Chat Completions wire encoding: transcript items to ``messages`` bytes, each item encoded once.

Chat Completions has no server-side state, so every turn resends the whole transcript. To keep the
request path flat, :class:`MessageEncoder` turns each (immutable) item into wire JSON bytes once and
keeps them in a bounded in-process cache keyed by item id; a request is then a join of cached bytes.

Grouping rules (items are not 1:1 with messages): consecutive assistant-side items of one model step
(own reasoning, text, tool calls) become one ``assistant`` message; a tool call is followed by one
``tool`` message per result. Foreign reasoning is dropped, handoffs render as nothing, tool-call ids
that the API would reject (empty, longer than 40 characters) are remapped deterministically.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from agentcore import tracing
from agentcore.messages import (
    AssistantMessage,
    FilePart,
    HostedToolUse,
    ImagePart,
    Item,
    ProviderState,
    Reasoning,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
)

from .._common import ItemCache, assistant_text, dumps, hashed_call_id

ReplayReasoning = Literal["auto", "always", "never"]

MAX_TOOL_CALL_ID = 40
"""OpenAI rejects longer ``tool_calls[].id`` values (``string_above_max_length``)."""

MISSING_RESULT = "(no result was recorded for this tool call)"
KIND_REASONING = "reasoning"
KIND_TOOL_CALL_EXTRA = "tool_call_extra"
KIND_MESSAGE_EXTRA = "message_extra"


def wire_call_id(call_id: str) -> str:
    """``call_id`` if the API accepts it, else a deterministic replacement (same input -> same output)."""
    if 0 < len(call_id) <= MAX_TOOL_CALL_ID:
        return call_id
    return hashed_call_id(call_id)


def synthesized_call_id(response_id: str | None, index: int) -> str:
    """A stable id for a tool call the server sent without one."""
    if response_id:
        digest = hashlib.sha256(f"{response_id}:{index}".encode()).hexdigest()[:24]
    else:
        import os

        digest = os.urandom(12).hex()
    return f"call_{digest}"


def _join_json_text(first: bytes, second: bytes) -> bytes:
    """Two JSON-encoded strings as one (rare: text that arrived after a step's tool calls)."""
    return dumps(json.loads(first) + "\n" + json.loads(second))


def _user_content(item: UserMessage) -> Any:
    parts = item.content
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    out: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            out.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            url = part.url or f"data:{part.media_type};base64,{part.data or ''}"
            out.append({"type": "image_url", "image_url": {"url": url}})
        elif isinstance(part, FilePart):
            file: dict[str, Any] = {"file_data": f"data:{part.media_type};base64,{part.data}"}
            file["filename"] = part.filename or "document"
            out.append({"type": "file", "file": file})
    return out


def result_images_message(item: ToolResult) -> bytes:
    """A tool result's images (a screenshot) as the user message that follows the step's tool messages:
    Chat Completions tool messages carry text only, so the image goes in ``image_url`` parts of a user
    message that says which call it belongs to."""
    content: list[dict[str, Any]] = [
        {"type": "text", "text": f"[images returned by {item.name} ({item.call_id})]"}
    ]
    for part in item.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            url = part.url or f"data:{part.media_type};base64,{part.data or ''}"
            content.append({"type": "image_url", "image_url": {"url": url}})
        else:
            file = {
                "file_data": f"data:{part.media_type};base64,{part.data}",
                "filename": part.filename or "document",
            }
            content.append({"type": "file", "file": file})
    return dumps({"role": "user", "content": content})


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    """Encoded messages for a transcript prefix, and the state needed to continue after it."""

    items: list[Item]
    out: list[bytes]
    turn_has_tool: bool
    open_calls: tuple[str, ...]
    bare_tool_turns: int


_SHARED_CACHES: dict[tuple[str, str, str], dict[str, tuple[Item, Any]]] = {}


class MessageEncoder:
    """Encodes transcripts for one adapter (one provider name and model); caches per item."""

    def __init__(
        self,
        provider: str,
        model: str,
        *,
        system_role: str = "system",
        replay_reasoning: ReplayReasoning = "auto",
        max_cached_items: int = 20_000,
    ) -> None:
        self.provider = provider
        self.model = model
        self.system_role = system_role
        self.replay_reasoning = replay_reasoning
        self.max_cached_items = max_cached_items
        # Shared by every adapter instance with the same encoding (runs resolve a fresh adapter each time).
        self._cached = ItemCache(
            lambda item: self._encode_item(item),  # looked up per miss: tests count the encodes
            max_cached_items,
            data=_SHARED_CACHES.setdefault((provider, model, system_role), {}),
        ).encoded
        self._instructions: tuple[str, bytes] | None = None
        self._checkpoints: dict[str, _Checkpoint] = {}  # by the first item's id (one per conversation)
        self.max_checkpoints = 64
        self.bare_tool_turns = 0
        """How many assistant ``tool_calls`` messages the last :meth:`encode` sent without reasoning."""

    # ------------------------------------------------------------------ per-item cache

    def _own(self, item: Item, kind: str) -> ProviderState | None:
        return item.state_for(self.provider, model=self.model, kind=kind)

    def _encode_item(self, item: Item) -> Any:
        if isinstance(item, UserMessage):
            return dumps({"role": "user", "content": _user_content(item)})
        if isinstance(item, HostedToolUse):  # a vendor's hosted tool work: as text, never its blocks
            return (dumps(item.render()), None)
        if isinstance(item, AssistantMessage):
            extra = self._own(item, KIND_MESSAGE_EXTRA)
            text = assistant_text(item, self.provider)  # another vendor's compaction: its summary
            return (dumps(text), dumps(extra.payload) if extra is not None else None)
        if isinstance(item, ToolCall):
            call: dict[str, Any] = {
                "id": wire_call_id(item.call_id),
                "type": "function",
                "function": {
                    "name": item.name,
                    "arguments": item.arguments if item.arguments.strip() else "{}",
                },
            }
            extra = self._own(item, KIND_TOOL_CALL_EXTRA)
            if extra is not None:
                call["extra_content"] = extra.payload
            message_extra = self._own(item, KIND_MESSAGE_EXTRA)
            return (
                dumps(call),
                wire_call_id(item.call_id),
                dumps(message_extra.payload) if message_extra else None,
            )
        if isinstance(item, ToolResult):
            cid = wire_call_id(item.call_id)
            return (dumps({"role": "tool", "tool_call_id": cid, "content": item.output}), cid)
        if isinstance(item, Reasoning):
            own = self._own(item, KIND_REASONING)
            if own is None or not item.summary:
                return None  # foreign or empty reasoning: never replayed, never turned into text
            field = own.payload.get("field", "reasoning_content") if isinstance(own.payload, dict) else None
            return (str(field or "reasoning_content"), dumps(item.summary))
        return None  # Handoff: rendered as nothing

    def _system(self, instructions: str) -> bytes:
        cached = self._instructions
        if cached is not None and cached[0] == instructions:
            return cached[1]
        data = dumps({"role": self.system_role, "content": instructions})
        self._instructions = (instructions, data)
        return data

    # ------------------------------------------------------------------ transcript

    @staticmethod
    def _turns_with_tool_calls(items: Sequence[Item], first: bool) -> list[bool]:
        """For each user turn (segment starting at a user message), whether it holds a tool call."""
        flags = [first]
        for item in items:
            if isinstance(item, UserMessage):
                flags.append(False)
            elif isinstance(item, ToolCall):
                flags[-1] = True
        return flags

    def _resume(self, items: Sequence[Item]) -> _Checkpoint | None:
        """The checkpoint of an earlier request whose transcript is a prefix of ``items`` (by identity)."""
        if not items:
            return None
        cp = self._checkpoints.get(items[0].id)
        if cp is None or len(cp.items) > len(items):
            return None
        if not all(map(operator.is_, cp.items, items)):
            return None  # something before the checkpoint changed (edit, filter, reload): start over
        return cp

    def encode(self, instructions: str | None, items: Sequence[Item]) -> tuple[bytes, int]:
        """The ``messages`` array as JSON bytes, and how many messages it holds.

        Work done per call is proportional to the items added since the previous call of the same
        conversation: messages up to the last stable point are reused from a checkpoint.
        """
        cp = self._resume(items)
        start = len(cp.items) if cp is not None else 0
        out: list[bytes] = list(cp.out) if cp is not None else []
        # ids of the last assistant message's calls still awaiting a tool message, in order
        open_calls: dict[str, None] = dict.fromkeys(cp.open_calls) if cp is not None else {}
        tail = items[start:]
        replay = self.replay_reasoning
        turn_flags = self._turns_with_tool_calls(tail, cp.turn_has_tool if cp else False)
        bare = (
            cp.bare_tool_turns if cp is not None else 0
        )  # assistant tool_calls messages sent without reasoning
        turn = 0
        mark: tuple[int, int, bool, tuple[str, ...], int] | None = None

        # the assistant message being built
        text: bytes | None = None
        reasoning: tuple[str, bytes] | None = None
        calls: list[bytes] = []
        call_ids: list[str] = []
        msg_extra: bytes | None = None
        dropped = missing = 0

        def settle() -> None:
            """Answer calls left without a result before anything else is sent (the API requires it)."""
            nonlocal open_calls, missing
            for cid in open_calls:
                out.append(dumps({"role": "tool", "tool_call_id": cid, "content": MISSING_RESULT}))
            missing += len(open_calls)
            open_calls = {}

        def flush() -> None:
            nonlocal text, reasoning, calls, call_ids, msg_extra, bare, open_calls
            if text is None and not calls and reasoning is None:
                return
            keep_reasoning = reasoning is not None and (
                replay == "always" or (replay == "auto" and turn_flags[turn])
            )
            if text is None and not calls and not keep_reasoning:
                reasoning = None
                return
            buf = bytearray(b'{"role":"assistant"')
            if text is not None:
                buf += b',"content":' + text
            elif not calls:
                buf += b',"content":""'
            if keep_reasoning and reasoning is not None:
                buf += b',"' + reasoning[0].encode() + b'":' + reasoning[1]
            if calls:
                buf += b',"tool_calls":[' + b",".join(calls) + b"]"
                bare += not keep_reasoning
            if msg_extra is not None:
                buf += b',"extra_content":' + msg_extra
            buf += b"}"
            settle()
            out.append(bytes(buf))
            open_calls = dict.fromkeys(call_ids)
            text, reasoning, calls, call_ids, msg_extra = None, None, [], [], None

        images: list[bytes] = []  # tool-result images, sent as a user message after the step's tool messages
        for n, item in enumerate(tail):
            if images and not isinstance(item, ToolResult):
                settle()
                out.extend(images)
                images.clear()
            if isinstance(item, UserMessage):
                flush()
                settle()
                turn += 1
                out.append(self._cached(item))
            elif isinstance(item, ToolResult):
                flush()
                data, cid = self._cached(item)
                if cid in open_calls:
                    del open_calls[cid]
                    out.append(data)
                    if item.parts and not item.is_error:
                        images.append(result_images_message(item))
                else:
                    dropped += 1  # a result whose call is not in the transcript (filtered history)
            elif isinstance(item, AssistantMessage | HostedToolUse):
                text_bytes, extra = self._cached(item)
                if calls:  # text after the step's tool calls stays in their message (results must follow it)
                    text = text_bytes if text is None else _join_json_text(text, text_bytes)
                else:
                    if text is not None:
                        flush()
                    text = text_bytes
                msg_extra = msg_extra or extra
                continue
            elif isinstance(item, ToolCall):
                data, cid, extra = self._cached(item)
                calls.append(data)
                call_ids.append(cid)
                msg_extra = msg_extra or extra
                continue
            elif isinstance(item, Reasoning):
                value = self._cached(item)
                if value is not None:
                    if calls:  # reasoning after the step's tool calls: same message, as for text
                        reasoning = (
                            value
                            if reasoning is None
                            else (value[0], _join_json_text(reasoning[1], value[1]))
                        )
                        continue
                    if text is not None or reasoning is not None:
                        flush()
                    reasoning = value
                    continue
            # No assistant message is open here. A later call may resume from this point unless a tool
            # call still to come in this turn could change how this turn's reasoning is rendered.
            idle = text is None and not calls and reasoning is None and not images
            if idle and (replay != "auto" or turn_flags[turn] or isinstance(item, UserMessage)):
                mark = (start + n + 1, len(out), turn_flags[turn], tuple(open_calls), bare)
        flush()
        settle()
        out.extend(images)
        if dropped:
            tracing.note("openai_chat.dropped_orphan_tool_results", count=dropped)
        if missing:
            tracing.note("openai_chat.answered_calls_without_results", count=missing)
        if mark is not None and mark[0] > start:
            self._remember(_Checkpoint(list(items[: mark[0]]), out[: mark[1]], mark[2], mark[3], mark[4]))
        self.bare_tool_turns = bare
        if instructions:
            out.insert(0, self._system(instructions))
        return b"[" + b",".join(out) + b"]", len(out)

    def _remember(self, cp: _Checkpoint) -> None:
        checkpoints = self._checkpoints
        key = cp.items[0].id
        checkpoints.pop(key, None)
        if len(checkpoints) >= self.max_checkpoints:
            checkpoints.pop(next(iter(checkpoints)), None)
        checkpoints[key] = cp
