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


class Citation(BaseModel):
    """A source an answer cites, the same shape whichever vendor produced it: an OpenAI ``url_citation`` /
    ``file_citation`` annotation, an Anthropic ``citations`` entry, a Gemini grounding chunk. ``start`` /
    ``end`` are character offsets into the text that cites it, when the vendor gives them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["web", "file", "document"] = "web"
    url: str | None = None
    title: str | None = None
    cited_text: str | None = None
    start: int | None = None
    end: int | None = None
    file_id: str | None = None
    filename: str | None = None


class AssistantMessage(_ItemBase):
    type: Literal["assistant"] = "assistant"
    text: str
    citations: tuple[Citation, ...] = ()
    """The sources this text cites (hosted web search, file search, web fetch, grounding)."""


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


HostedToolKind = Literal[
    "web_search", "web_fetch", "file_search", "code_execution", "shell", "image_generation", "mcp", "other"
]


class HostedToolUse(_ItemBase):
    """Tool work the model's vendor ran on its own servers (a hosted tool, :mod:`agentcore.hosted`): the
    call and, once the vendor reports it, its result. The vendor's exact blocks are in ``state`` (one
    entry per block, in order), so the same vendor gets them back byte-exact; another vendor gets the
    bounded text rendering of :meth:`render` and never the foreign blocks.

    ``kind`` is the neutral tool family, ``name`` the vendor's tool name (``web_search``,
    ``bash_code_execution``, ``code_interpreter``…). ``output`` is what the tool produced as text (code
    output, a fetched page's excerpt, an error), ``sources`` what it found, ``code`` the code it ran,
    ``files`` the ids of files it produced."""

    type: Literal["hosted_tool"] = "hosted_tool"
    kind: HostedToolKind
    name: str
    call_id: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    status: Literal["in_progress", "completed", "failed", "incomplete"] = "completed"
    output: str = ""
    sources: tuple[Citation, ...] = ()
    code: str | None = None
    files: tuple[str, ...] = ()
    is_error: bool = False

    def render(self, limit: int = 4000) -> str:
        """What happened, as bounded text for a vendor that cannot take this vendor's blocks."""
        head = f"[{self.kind.replace('_', ' ')} run by the model's vendor ({self.name})"
        query = self.input.get("query") or self.input.get("url") or self.input.get("queries")
        if query:
            head += f": {query if isinstance(query, str) else json.dumps(query)}"
        lines = [head + ("; failed]" if self.is_error else "]")]
        if self.code:
            lines.append("code:\n" + self.code[: limit // 2])
        if self.output:
            lines.append("output:\n" + self.output[: limit // 2])
        for src in self.sources[:20]:
            label = src.title or src.filename or src.url or src.file_id or "source"
            where = src.url or src.file_id or ""
            lines.append(f"- {label}" + (f" <{where}>" if where and where != label else ""))
        if self.files:
            lines.append("files: " + ", ".join(self.files[:20]))
        text = "\n".join(lines)
        return text if len(text) <= limit else text[: limit - 1] + "…"


class Handoff(_ItemBase):
    """Control passed from one agent to another."""

    type: Literal["handoff"] = "handoff"
    from_agent: str
    to_agent: str
    call_id: str | None = None


Item = Annotated[
    UserMessage | AssistantMessage | ToolCall | ToolResult | Reasoning | Handoff | HostedToolUse,
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
    server_tool_requests: dict[str, int] = Field(default_factory=dict)
    """Requests to hosted tools the vendor bills per use, by neutral kind (``{"web_search": 2}``)."""

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
        for kind, count in other.server_tool_requests.items():
            self.server_tool_requests[kind] = self.server_tool_requests.get(kind, 0) + count

    def minus(self, other: Usage) -> Usage:
        """What this usage has beyond ``other`` (a running total minus an earlier snapshot of it)."""
        tools = {k: n - other.server_tool_requests.get(k, 0) for k, n in self.server_tool_requests.items()}
        return Usage(
            requests=self.requests - other.requests,
            input_tokens=self.input_tokens - other.input_tokens,
            output_tokens=self.output_tokens - other.output_tokens,
            cached_input_tokens=self.cached_input_tokens - other.cached_input_tokens,
            cache_write_tokens=self.cache_write_tokens - other.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens - other.reasoning_tokens,
            server_tool_requests={k: n for k, n in tools.items() if n},
        )

    def __add__(self, other: Usage) -> Usage:
        out = self.model_copy(update={"server_tool_requests": dict(self.server_tool_requests)})
        out.add(other)
        return out
