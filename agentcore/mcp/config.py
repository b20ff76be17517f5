"""``MCPServer``: how to reach one Model Context Protocol server, and what of it an agent may use.

A plain, immutable description (no SDK import here): the run loop connects it when a run starts and
closes it when the run ends (``lifetime="run"``), or keeps the connection for later runs in the same
process (``lifetime="session"``, closed by :func:`agentcore.mcp.close_all` or at interpreter exit).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .. import tracing
from ..errors import UserError
from .oauth import OAuth

Lifetime = Literal["run", "session"]
Protocol = Literal["legacy", "auto"]
ApprovalRule = bool | Literal["destructive", "not_read_only"] | Sequence[str] | Callable[[Any], bool]
"""When a server's tools need human approval: ``True``/``False`` for all, ``"destructive"`` for tools
whose annotations do not say they are harmless (see :func:`is_destructive`), ``"not_read_only"`` for
tools not marked ``readOnlyHint``, a list of tool names (``fnmatch`` patterns, server-side names), or
a function given the SDK's ``mcp.types.Tool`` returning ``True`` when approval is needed."""

SamplingCallback = Callable[[Any], Awaitable[Any]]
"""Answers a server's ``sampling/createMessage``: given the SDK's ``CreateMessageRequestParams``, returns
a ``CreateMessageResult`` (or ``ErrorData``)."""
ElicitationCallback = Callable[[Any], Awaitable[Any]]
"""Answers a server's ``elicitation/create``: given ``ElicitRequestParams``, returns an ``ElicitResult``."""

SEPARATOR = "__"
"""Between the namespace and the tool name: ``files__read_file``. Letters, digits, ``_`` and ``-`` only,
so the name is valid for every vendor (OpenAI's ``^[a-zA-Z0-9_-]{1,64}$`` is the strictest)."""
_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SECRETISH = re.compile(r"auth|key|token|secret|password|cookie", re.I)


def is_destructive(annotations: Any) -> bool:
    """Whether a tool may destroy something, by the MCP spec's defaults: a tool marked
    ``readOnlyHint: true`` is not; otherwise ``destructiveHint`` decides, and it defaults to ``true``
    (a server that says nothing is assumed to be able to destroy)."""
    if annotations is None:
        return True
    if getattr(annotations, "read_only_hint", None) is True:
        return False
    hint = getattr(annotations, "destructive_hint", None)
    return True if hint is None else bool(hint)


@dataclass(frozen=True, eq=False, kw_only=True)
class MCPServer:
    """One MCP server: a command run over **stdio** (``command``, ``args``, ``env``, ``cwd``) or a
    **Streamable HTTP** endpoint (``url``, ``headers``, ``bearer_token``). Exactly one of ``command``
    and ``url``.

    Environment of a stdio server: only ``env`` plus the few variables the SDK passes to find and run
    the binary (``HOME``, ``LOGNAME``, ``PATH``, ``SHELL``, ``TERM``, ``USER``); never the rest of this
    process's environment (API keys stay here). Pass what the server needs in ``env``.

    Tools are named ``<prefix>__<tool>`` (``prefix`` defaults to ``name``; ``prefix=""`` keeps the
    server's names), filtered by ``allow``/``deny`` (``fnmatch`` patterns on the server's names).
    """

    name: str
    command: str | None = None
    args: Sequence[str] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    bearer_token: str | None = None
    auth: Any = None
    """HTTP: an ``httpx2.Auth`` for the requests (for example an ``OAuthClientProvider`` built by hand);
    instead of, or with, ``bearer_token``."""
    oauth: OAuth | None = None
    """HTTP: run the SDK's OAuth client flow when the server asks for it (discovery, client
    registration, authorization code with PKCE, refresh), with agentcore's token storage, browser and
    redirect listener (:class:`agentcore.mcp.oauth.OAuth`). Not with ``auth``."""
    prefix: str | None = None
    allow: Sequence[str] | None = None
    deny: Sequence[str] = ()
    needs_approval: ApprovalRule = False
    lifetime: Lifetime = "run"
    connect_timeout: float = 30.0
    """Seconds to start (or reach) the server and list its tools."""
    call_timeout: float = 60.0
    """Seconds one tool call (or resource read) may take; past it the model gets a timeout error."""
    protocol: Protocol = "legacy"
    """``"legacy"``: the ``initialize`` handshake every server speaks; ``"auto"``: probe the 2026
    ``server/discover`` first and fall back to the handshake."""
    resource_tool: bool = False
    """Add a ``<prefix>__read_resource`` tool that reads one of the server's resources by URI."""
    sampling: SamplingCallback | None = None
    """Answers the server's sampling requests; without it they are refused with a clear message."""
    elicitation: ElicitationCallback | None = None
    """Answers the server's elicitation requests; without it they are refused with a clear message."""

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise UserError(f"MCP server name {self.name!r} must be 1-40 letters, digits, '_' or '-'")
        if (self.command is None) == (self.url is None):
            raise UserError(f"MCP server {self.name!r}: give exactly one of command (stdio) or url (HTTP)")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise UserError(f"MCP server {self.name!r}: url must start with http:// or https://")
        if self.oauth is not None and (self.url is None or self.auth is not None):
            raise UserError(f"MCP server {self.name!r}: oauth is for a url server without auth=")
        if self.prefix and not _NAME.fullmatch(self.prefix):
            raise UserError(f"MCP server {self.name!r}: prefix {self.prefix!r} must be letters, digits, '_' or '-'")
        if self.lifetime not in ("run", "session"):
            raise UserError(f"MCP server {self.name!r}: lifetime must be 'run' or 'session'")
        if self.protocol not in ("legacy", "auto"):
            raise UserError(f"MCP server {self.name!r}: protocol must be 'legacy' or 'auto'")
        if self.connect_timeout <= 0 or self.call_timeout <= 0:
            raise UserError(f"MCP server {self.name!r}: timeouts must be positive")
        if isinstance(self.needs_approval, str) and self.needs_approval not in ("destructive", "not_read_only"):
            raise UserError(
                f"MCP server {self.name!r}: needs_approval must be a bool, 'destructive', 'not_read_only', "
                "a list of tool names or a function"
            )
        object.__setattr__(self, "args", tuple(str(a) for a in self.args))
        object.__setattr__(self, "env", {str(k): str(v) for k, v in self.env.items()})
        object.__setattr__(self, "headers", {str(k): str(v) for k, v in self.headers.items()})
        object.__setattr__(self, "deny", tuple(self.deny))
        if self.allow is not None:
            object.__setattr__(self, "allow", tuple(self.allow))
        # credentials handed to the server never reach a trace
        secrets = [self.bearer_token or ""]
        secrets += [v for k, v in self.headers.items() if _SECRETISH.search(k)]
        secrets += [v for k, v in self.env.items() if _SECRETISH.search(k)]
        for value in secrets:
            if value:
                tracing.add_secret(value)

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "stdio" if self.command is not None else "http"

    @property
    def namespace(self) -> str:
        return self.name if self.prefix is None else self.prefix

    def tool_name(self, remote: str) -> str:
        """The name the model sees for the server's tool ``remote``."""
        name = f"{self.namespace}{SEPARATOR}{remote}" if self.namespace else remote
        if not _TOOL_NAME.fullmatch(name):  # a server name with dots, spaces, or too long
            name = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64]
        return name

    def wants(self, remote: str) -> bool:
        """Whether the allow/deny lists keep the server's tool ``remote``."""
        if self.allow is not None and not any(fnmatch.fnmatchcase(remote, p) for p in self.allow):
            return False
        return not any(fnmatch.fnmatchcase(remote, p) for p in self.deny)

    def approval_for(self, tool: Any) -> bool:
        """Whether calls of ``tool`` (the SDK's ``mcp.types.Tool``) need approval under ``needs_approval``."""
        rule = self.needs_approval
        if isinstance(rule, bool):
            return rule
        if rule == "destructive":
            return is_destructive(tool.annotations)
        if rule == "not_read_only":
            return not (tool.annotations is not None and tool.annotations.read_only_hint is True)
        if callable(rule):
            return bool(rule(tool))
        return any(fnmatch.fnmatchcase(tool.name, p) for p in rule)

    def __repr__(self) -> str:
        where = self.command if self.command is not None else self.url
        return f"MCPServer(name={self.name!r}, {self.transport}: {where!r})"
