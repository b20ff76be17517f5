"""Hosted tools: tools the model's vendor runs on its own servers, declared once for every vendor.

``Agent(hosted_tools=[web_search(...), file_search(vector_store_ids=[...]), code_execution()])``: each
declaration is a plain value; each provider adapter maps the ones its vendor serves to the vendor's tool
entries and raises :class:`UnsupportedHostedToolError` (when the request is built, before anything is
sent) for a declaration or an option its vendor cannot serve. Nothing here imports a vendor SDK.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .errors import UserError

__all__ = [
    "APPROVAL_MARK",
    "CodeExecution",
    "FileSearch",
    "HostedMCP",
    "HostedTool",
    "UnsupportedHostedToolError",
    "UserLocation",
    "WebFetch",
    "WebSearch",
    "check_agent",
    "check_hosted",
    "code_execution",
    "file_search",
    "hosted_mcp",
    "register_hosted",
    "serves",
    "serving_vendors",
    "web_fetch",
    "web_search",
]


APPROVAL_MARK = "hosted_approval"
"""``ProviderState.provider`` of the marker an adapter puts on a tool call that stands for a vendor's
request for approval (OpenAI's ``mcp_approval_request``): the run pauses on it like a tool needing
approval and runs nothing locally; the decision goes back on the result (``kind="decision"``,
``payload={"approve": bool, "reason": str}``) for the adapter to send to its vendor."""


class UnsupportedHostedToolError(UserError):
    """A hosted tool declaration (or one of its options) the model's vendor cannot serve."""

    def __init__(self, provider: str, tool: str, message: str, *, supported_by: Sequence[str] = ()) -> None:
        self.provider = provider
        self.tool = tool
        self.supported_by = tuple(supported_by)
        self.reason = message
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


# --------------------------------------------------------------------------- who serves what

HOSTED_ENTRIES: dict[str, str | None] = {
    "openai": "agentcore.providers.openai.responses_tools:hosted_entry",
    "anthropic": "agentcore.providers.anthropic.hosted:hosted_entry",
    "google": "agentcore.providers.gemini.hosted:hosted_entry",
    "google-interactions": "agentcore.providers.gemini.hosted:interactions_entry",
    "openai-chat": None,
}
"""Built-in provider -> the adapter function mapping one declaration to its vendor's tool entry
(``hosted_entry(tool, model="")``, raising :class:`UnsupportedHostedToolError`), imported when first
needed; ``None``: the provider serves no hosted tool. Providers not listed are not checked."""
VENDORS = ("openai", "anthropic", "google")
"""The providers named as able to serve a declaration, in this order."""
_entries: dict[str, Callable[..., Any] | None] = {}
_checked: dict[tuple[str, str, tuple[Any, ...]], UnsupportedHostedToolError | None] = {}


def register_hosted(provider: str, entry: Callable[..., Any] | None) -> None:
    """Check declarations for ``provider`` with ``entry(tool, model="")`` (a third-party adapter's own
    mapping; ``None``: it serves none)."""
    _entries[provider] = entry
    _checked.clear()


def _entry(provider: str) -> Callable[..., Any] | Literal[False] | None:
    """The provider's mapping, ``None`` when it serves nothing, ``False`` when it cannot be checked."""
    if provider in _entries:
        return _entries[provider]
    if provider not in HOSTED_ENTRIES:
        return False
    path = HOSTED_ENTRIES[provider]
    if path is None:
        return None
    module, _, attr = path.partition(":")
    try:
        found = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):  # an adapter without hosted tools (yet): nothing to check against
        return False
    takes_model = "model" in inspect.signature(found).parameters
    entry = found if takes_model else (lambda tool, model="": found(tool))
    _entries[provider] = entry
    return entry


def serves(provider: str, tool: Any, model: str = "") -> bool | None:
    """Whether ``provider`` (``model``, when it matters) serves the declaration ``tool`` with its options;
    ``None`` when this process cannot tell (a provider it does not know, an adapter that has none)."""
    entry = _entry(provider)
    if entry is False:
        return None
    if entry is None:
        return False
    try:
        entry(tool, model=model)
    except UnsupportedHostedToolError:
        return False
    return True


def serving_vendors(tool: Any) -> list[str]:
    """The built-in vendors that serve ``tool`` (with its options) for their current models."""
    return [v for v in VENDORS if serves(v, tool)]


def check_hosted(provider: str, model: str, tools: Sequence[Any], *, agent: str = "", via: str = "") -> None:
    """Raise :class:`UnsupportedHostedToolError`, naming the vendors that can, when ``provider``'s
    ``model`` cannot serve one of the hosted tool declarations ``tools``. Other objects and providers
    this process cannot check are let through, except a vendor-hosted container (``hosted_vendor``) under
    another built-in provider: only its vendor's models run commands in it."""
    for box in tools:
        vendor = getattr(box, "hosted_vendor", None)
        if isinstance(vendor, str) and vendor != provider and provider in HOSTED_ENTRIES:
            who = f"; agent {agent!r} has it as its sandbox" if agent else ""
            raise UnsupportedHostedToolError(
                provider,
                "hosted_container",
                f"the sandbox is {vendor}'s hosted container, which only {vendor} models can run commands "
                f"in (give the agent a {vendor} model, or a sandbox of ours){who}",
                supported_by=[vendor],
            )
    declared = tuple(
        t for t in tools if isinstance(t, WebSearch | WebFetch | FileSearch | CodeExecution | HostedMCP)
    )
    if not declared:
        return
    key = (provider, model, declared)
    if key not in _checked:
        _checked[key] = _first_problem(provider, model, declared)
        if len(_checked) > 512:
            _checked.pop(next(iter(_checked)))
    problem = _checked[key]
    if problem is None:
        return
    if not agent:
        raise problem
    who = f"agent {agent!r}" + (f" (a handoff from {via!r} targets it)" if via else "")
    raise UnsupportedHostedToolError(
        problem.provider,
        problem.tool,
        f"{problem.reason}; {who} declares it",
        supported_by=problem.supported_by,
    )


def check_agent(agent: Any, *, via: Any = None) -> None:
    """:func:`check_hosted` for an agent's model and hosted tools (a model this process cannot place is
    let through: the adapter checks again when it builds the request). With ``via``, the agent is the
    target of a handoff from ``via``: checked when the conversation changes vendor there."""
    if not agent.hosted_tools:
        return
    vendor = model_vendor(agent.model)
    if vendor is None:
        return
    if via is not None and model_vendor(via.model) == vendor:
        return  # same vendor and model: checked when the target was built
    check_hosted(vendor[0], vendor[1], agent.hosted_tools, agent=agent.name, via=via.name if via else "")


def _first_problem(provider: str, model: str, tools: tuple[Any, ...]) -> UnsupportedHostedToolError | None:
    entry = _entry(provider)
    if entry is False:
        return None
    for tool in tools:
        if entry is None:
            reason = "this provider has no hosted tools"
        else:
            try:
                entry(tool, model=model)
                continue
            except UnsupportedHostedToolError as exc:
                reason = exc.reason
        others = [v for v in serving_vendors(tool) if v != provider]
        where = f"{provider}:{model}" if model else provider
        return UnsupportedHostedToolError(where, tool.kind, reason, supported_by=others)
    return None


def model_vendor(model: Any) -> tuple[str, str] | None:
    """``(provider, model name)`` of a ``provider:model`` string or a model object, else ``None``."""
    if isinstance(model, str):
        from .registry import parse_model_string

        try:
            provider, name, _ = parse_model_string(model)
        except UserError:
            return None
        return provider, name
    vendor = getattr(model, "provider", None)
    if not isinstance(vendor, str):
        return None
    return vendor, str(getattr(model, "model_name", "") or "")
