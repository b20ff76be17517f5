"""Hosted tools: tools the model's vendor runs on its own servers, declared once for every vendor.

``Agent(hosted_tools=[web_search(...), file_search(vector_store_ids=[...]), code_execution()])``: each
declaration is a plain value; each provider adapter maps the ones its vendor serves to the vendor's tool
entries and raises :class:`UnsupportedHostedToolError` (when the request is built, before anything is
sent) for a declaration or an option its vendor cannot serve. Nothing here imports a vendor SDK.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from .errors import UserError

__all__ = [
    "CodeExecution",
    "FileSearch",
    "HostedMCP",
    "HostedTool",
    "UnsupportedHostedToolError",
    "UserLocation",
    "WebFetch",
    "WebSearch",
    "code_execution",
    "file_search",
    "hosted_mcp",
    "web_fetch",
    "web_search",
]


class UnsupportedHostedToolError(UserError):
    """A hosted tool declaration (or one of its options) the model's vendor cannot serve."""

    def __init__(self, provider: str, tool: str, message: str, *, supported_by: Sequence[str] = ()) -> None:
        self.provider = provider
        self.tool = tool
        self.supported_by = tuple(supported_by)
        where = f" (served by: {', '.join(self.supported_by)})" if self.supported_by else ""
        super().__init__(f"{provider} cannot serve hosted tool {tool!r}: {message}{where}")


@dataclass(frozen=True, slots=True)
class UserLocation:
    """An approximate location for search results."""

    country: str | None = None
    """Two-letter ISO country code, e.g. ``"US"``."""
    city: str | None = None
    region: str | None = None
    timezone: str | None = None
    """IANA time zone, e.g. ``"Europe/Paris"``."""


@dataclass(frozen=True, slots=True)
class WebSearch:
    """Search the web; answers cite their sources."""

    allowed_domains: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()
    user_location: UserLocation | None = None
    max_uses: int | None = None
    context_size: Literal["low", "medium", "high"] | None = None

    kind = "web_search"


@dataclass(frozen=True, slots=True)
class WebFetch:
    """Fetch the pages (URLs) the conversation names."""

    allowed_domains: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()
    max_uses: int | None = None

    kind = "web_fetch"


@dataclass(frozen=True, slots=True)
class FileSearch:
    """Search the vendor-side vector stores (files uploaded to the vendor)."""

    vector_store_ids: tuple[str, ...]
    max_results: int | None = None

    kind = "file_search"

    def __post_init__(self) -> None:
        if not self.vector_store_ids:
            raise UserError("file_search needs at least one vector store id")


@dataclass(frozen=True, slots=True)
class CodeExecution:
    """Run code in the vendor's container. ``container``: an existing container's id to reuse (else
    the vendor creates one); ``file_ids``: vendor files made available to the code."""

    container: str | None = None
    file_ids: tuple[str, ...] = ()
    memory_limit: Literal["1g", "4g", "16g", "64g"] | None = None

    kind = "code_execution"


@dataclass(frozen=True, slots=True)
class HostedMCP:
    """A remote MCP server the model's vendor connects to itself (OpenAI's ``mcp`` tool, Anthropic's MCP
    connector): its tools run between the vendor and the server, never through this process. For servers
    the agent should reach itself, use :class:`agentcore.mcp.MCPServer` instead.

    ``require_approval``: ``"always"`` pauses the run on each call the vendor proposes (the vendor's
    approval request becomes a run interruption, decided like any tool approval), ``"never"`` lets the
    vendor call freely, or a tuple of tool names that need approval. ``authorization``: a bearer token
    the vendor presents to the server (kept out of traces)."""

    server_label: str
    server_url: str
    allowed_tools: tuple[str, ...] = ()
    require_approval: Literal["always", "never"] | tuple[str, ...] = "always"
    authorization: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    description: str | None = None

    kind = "mcp"

    def __post_init__(self) -> None:
        if not self.server_label or not self.server_url.startswith(("http://", "https://")):
            raise UserError("hosted MCP needs a server_label and an http(s) server_url")


HostedTool = WebSearch | WebFetch | FileSearch | CodeExecution | HostedMCP


def web_search(
    *,
    allowed_domains: Iterable[str] = (),
    blocked_domains: Iterable[str] = (),
    user_location: UserLocation | None = None,
    max_uses: int | None = None,
    context_size: Literal["low", "medium", "high"] | None = None,
) -> WebSearch:
    return WebSearch(tuple(allowed_domains), tuple(blocked_domains), user_location, max_uses, context_size)


def web_fetch(
    *, allowed_domains: Iterable[str] = (), blocked_domains: Iterable[str] = (), max_uses: int | None = None
) -> WebFetch:
    return WebFetch(tuple(allowed_domains), tuple(blocked_domains), max_uses)


def file_search(*, vector_store_ids: Iterable[str], max_results: int | None = None) -> FileSearch:
    return FileSearch(tuple(vector_store_ids), max_results)


def hosted_mcp(
    server_label: str,
    server_url: str,
    *,
    allowed_tools: Iterable[str] = (),
    require_approval: Literal["always", "never"] | Iterable[str] = "always",
    authorization: str | None = None,
    headers: dict[str, str] | None = None,
    description: str | None = None,
) -> HostedMCP:
    approval = require_approval if isinstance(require_approval, str) else tuple(require_approval)
    return HostedMCP(
        server_label,
        server_url,
        tuple(allowed_tools),
        approval,  # type: ignore[arg-type]
        authorization,
        tuple((headers or {}).items()),
        description,
    )


def code_execution(
    *,
    container: str | None = None,
    file_ids: Iterable[str] = (),
    memory_limit: Literal["1g", "4g", "16g", "64g"] | None = None,
) -> CodeExecution:
    return CodeExecution(container, tuple(file_ids), memory_limit)
