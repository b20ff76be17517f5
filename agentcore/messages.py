"""The normalized protocol: the items a transcript is made of, and token usage.

A transcript is an append-only list of :data:`Item`. Items are immutable and JSON-round-trippable.
Each may carry :class:`ProviderState` tagged with its origin (provider, model, kind): an OpenAI
reasoning item's ``encrypted_content``, an Anthropic thinking ``signature``, a Gemini
``thought_signature``. Adapters replay only state that their own vendor produced and drop the rest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


def new_id() -> str:
    """A short random identifier for items and runs."""
    return os.urandom(8).hex()


class ProviderState(BaseModel):
    """Opaque vendor state attached to an item, tagged with where it came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    model: str | None = None
    kind: str
    payload: Any = None


# --------------------------------------------------------------------------- content parts


class TextPart(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["text"] = "text"
    text: str


class ImagePart(BaseModel):
    """An image, by URL or inline base64 ``data`` with its ``media_type``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["image"] = "image"
    url: str | None = None
    data: str | None = None
    media_type: str = "image/png"


class FilePart(BaseModel):
    """A document (PDF, text…) as inline base64 ``data``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["file"] = "file"
    data: str
    media_type: str
    filename: str | None = None


Part = Annotated[TextPart | ImagePart | FilePart, Field(discriminator="type")]


# --------------------------------------------------------------------------- items


class _ItemBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id)
    agent: str | None = None
    """Name of the agent whose turn produced the item (``None`` for user input)."""
    state: tuple[ProviderState, ...] = ()

    def state_for(
        self, provider: str, *, model: str | None = None, kind: str | None = None
    ) -> ProviderState | None:
        """The first state entry from ``provider`` (and ``model``/``kind`` when given), else ``None``."""
        for s in self.state:
            if s.provider != provider:
                continue
            if model is not None and s.model != model:
                continue
            if kind is not None and s.kind != kind:
                continue
            return s
        return None


class UserMessage(_ItemBase):
    type: Literal["user"] = "user"
    content: tuple[Part, ...]

    @classmethod
    def of(cls, text: str, **kw: Any) -> UserMessage:
        return cls(content=(TextPart(text=text),), **kw)

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, TextPart))


class AssistantMessage(_ItemBase):
    type: Literal["assistant"] = "assistant"
    text: str


class ToolCall(_ItemBase):
    """The model asked to call ``name``. ``arguments`` is the raw JSON string the model wrote."""

    type: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    arguments: str = "{}"

    @property
    def parsed_arguments(self) -> Any:
        """The arguments parsed as JSON; raises ``ValueError`` when the model wrote invalid JSON."""
        return json.loads(self.arguments) if self.arguments.strip() else {}


class ToolResult(_ItemBase):
    type: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str
    output: str
    is_error: bool = False
    parts: tuple[Part, ...] = ()
    """Content shown to the model after ``output`` (a screenshot of the ``computer`` tool), from a
    tool that returns a :class:`~agentcore.tools.ToolOutput`. Adapters that cannot send images in a
    tool result leave them out."""


class Reasoning(_ItemBase):
    """Model reasoning. ``summary`` is human-readable; the vendor's opaque form lives in ``state``."""

    type: Literal["reasoning"] = "reasoning"
    summary: str = ""


class Handoff(_ItemBase):
    """Control passed from one agent to another."""

    type: Literal["handoff"] = "handoff"
    from_agent: str
    to_agent: str
    call_id: str | None = None


Item = Annotated[
    UserMessage | AssistantMessage | ToolCall | ToolResult | Reasoning | Handoff,
    Field(discriminator="type"),
]
_items_adapter: TypeAdapter[list[Item]] = TypeAdapter(list[Item])
_item_adapter: TypeAdapter[Item] = TypeAdapter(Item)


IMAGE_PLACEHOLDER = "[older screenshot omitted]"


def keep_last_images(items: Sequence[Item], keep: int | None) -> Sequence[Item]:
    """``items`` with only the last ``keep`` images of tool results (``ToolResult.parts``) left; older
    ones become a text placeholder (the items get a derived id, so no adapter cache serves the old
    form). None returns ``items`` itself. The transcript is not changed."""
    if keep is None:
        return items
    out = list(items)
    seen = 0
    for index in range(len(out) - 1, -1, -1):
        item = out[index]
        if not isinstance(item, ToolResult) or not item.parts:
            continue
        images = sum(isinstance(p, ImagePart) for p in item.parts)
        if seen + images <= keep:
            seen += images
            continue
        parts: list[Part] = []
        for part in reversed(item.parts):
            if isinstance(part, ImagePart):
                if seen < keep:
                    seen += 1
                else:
                    part = TextPart(text=IMAGE_PLACEHOLDER)
            parts.append(part)
        out[index] = item.model_copy(update={"parts": tuple(reversed(parts)), "id": item.id + ".t"})
    return out


def dump_items(items: Iterable[Item]) -> list[dict[str, Any]]:
    """Items as JSON-ready dicts."""
    return [i.model_dump(mode="json", exclude_defaults=False) for i in items]


def load_items(data: Sequence[Any]) -> list[Item]:
    """The inverse of :func:`dump_items`."""
    return _items_adapter.validate_python(list(data))


def load_item(data: Any) -> Item:
    return _item_adapter.validate_python(data)


def items_json(items: Iterable[Item]) -> str:
    return json.dumps(dump_items(items))


def input_to_items(value: str | Item | Sequence[Item] | None) -> list[Item]:
    """Normalize what users pass as run input."""
    if value is None:
        return []
    if isinstance(value, str):
        return [UserMessage.of(value)]
    if isinstance(value, _ItemBase):
        return [value]  # type: ignore[list-item]
    return list(value)


# --------------------------------------------------------------------------- usage


class Usage(BaseModel):
    """Token usage. ``input_tokens`` always includes cached input (normalized across vendors)."""

    model_config = ConfigDict(extra="forbid")

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, other: Usage) -> None:
        """Add ``other`` into this object in place."""
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cached_input_tokens += other.cached_input_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.reasoning_tokens += other.reasoning_tokens

    def __add__(self, other: Usage) -> Usage:
        out = self.model_copy()
        out.add(other)
        return out
