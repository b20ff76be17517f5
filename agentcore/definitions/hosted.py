"""``hosted_tools:`` of an agent definition: the vendor-run tools of :mod:`agentcore.hosted`, in YAML.

.. code-block:: yaml

    agents:
      researcher:
        model: anthropic:claude-sonnet-4-5
        hosted_tools:
          - web_search                    # a name alone: the tool with its defaults
          - type: web_fetch
            allowed_domains: [docs.python.org]
            max_uses: 5
          - type: mcp
            server_label: deepwiki
            server_url: https://mcp.deepwiki.com/mcp
            authorization: ${DEEPWIKI_TOKEN}   # from the environment, never written in the file

Each entry is checked like the rest of the file (unknown fields, wrong types, a missing ``type``:
``file:line:col`` errors), and against the agent's model: an entry its vendor cannot serve is an error at
the entry, naming the vendors that can (:func:`agentcore.hosted.check_hosted`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from ..hosted import (
    CodeExecution,
    FileSearch,
    HostedMCP,
    HostedTool,
    UnsupportedHostedToolError,
    UserLocation,
    WebFetch,
    WebSearch,
    check_hosted,
)

__all__ = ["HostedToolEntry", "check_agent_hosted", "declaration"]

HOSTED_NAMES = ("web_search", "web_fetch", "file_search", "code_execution", "mcp")


class Strict(BaseModel):  # as schema.Strict (which imports this module)
    model_config = ConfigDict(extra="forbid", strict=True)


class UserLocationSpec(Strict):
    """An approximate location for search results."""

    country: str | None = Field(None, description="Two-letter ISO country code, e.g. US.")
    city: str | None = None
    region: str | None = None
    timezone: str | None = Field(None, description="IANA time zone, e.g. Europe/Paris.")


class WebSearchSpec(Strict):
    """Search the web (OpenAI, Anthropic, Google); answers cite their sources."""

    type: Literal["web_search"]
    allowed_domains: list[str] = Field(default_factory=list)
    blocked_domains: list[str] = Field(default_factory=list, description="Anthropic only.")
    user_location: UserLocationSpec | None = None
    max_uses: int | None = Field(None, ge=1, description="Searches per request (Anthropic only).")
    context_size: Literal["low", "medium", "high"] | None = Field(None, description="OpenAI only.")


class WebFetchSpec(Strict):
    """Fetch the pages the conversation names (Anthropic, Google)."""

    type: Literal["web_fetch"]
    allowed_domains: list[str] = Field(default_factory=list)
    blocked_domains: list[str] = Field(default_factory=list)
    max_uses: int | None = Field(None, ge=1)


class FileSearchSpec(Strict):
    """Search vector stores of files uploaded to the vendor (OpenAI)."""

    type: Literal["file_search"]
    vector_store_ids: list[str] = Field(min_length=1)
    max_results: int | None = Field(None, ge=1)


class CodeExecutionSpec(Strict):
    """Run code in the vendor's container (OpenAI, Anthropic, Google)."""

    type: Literal["code_execution"]
    container: str | None = Field(None, description="An existing container's id to reuse.")
    file_ids: list[str] = Field(default_factory=list, description="Vendor file ids made available.")
    memory_limit: Literal["1g", "4g", "16g", "64g"] | None = None


class MCPSpec(Strict):
    """A remote MCP server the vendor connects to itself (OpenAI's mcp tool, Anthropic's MCP connector)."""

    type: Literal["mcp"]
    server_label: str = Field(min_length=1)
    server_url: str = Field(pattern=r"^https?://", description="The server's http(s) URL.")
    allowed_tools: list[str] = Field(default_factory=list)
    require_approval: Literal["always", "never"] | list[str] = Field(
        "always", description="always, never, or the tool names that pause the run for approval."
    )
    authorization: str | None = Field(None, description="Bearer token the vendor presents; use ${VAR}.")
    headers: dict[str, str] = Field(default_factory=dict)
    description: str | None = None


HostedToolSpec = Annotated[
    WebSearchSpec | WebFetchSpec | FileSearchSpec | CodeExecutionSpec | MCPSpec, Field(discriminator="type")
]


def _shorthand(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


HostedToolEntry = Annotated[
    HostedToolSpec,
    BeforeValidator(
        _shorthand,
        json_schema_input_type=Literal["web_search", "web_fetch", "code_execution"] | HostedToolSpec,
    ),
]


def declaration(spec: Any) -> HostedTool:
    """A validated entry as the declaration an :class:`~agentcore.agent.Agent` takes."""
    if isinstance(spec, WebSearchSpec):
        loc = spec.user_location
        where = UserLocation(loc.country, loc.city, loc.region, loc.timezone) if loc is not None else None
        return WebSearch(
            tuple(spec.allowed_domains), tuple(spec.blocked_domains), where, spec.max_uses, spec.context_size
        )
    if isinstance(spec, WebFetchSpec):
        return WebFetch(tuple(spec.allowed_domains), tuple(spec.blocked_domains), spec.max_uses)
    if isinstance(spec, FileSearchSpec):
        return FileSearch(tuple(spec.vector_store_ids), spec.max_results)
    if isinstance(spec, CodeExecutionSpec):
        return CodeExecution(spec.container, tuple(spec.file_ids), spec.memory_limit)
    approval: Any = spec.require_approval  # "always", "never" or the tool names
    if isinstance(approval, list):
        approval = tuple(approval)
    return HostedMCP(
        spec.server_label,
        spec.server_url,
        tuple(spec.allowed_tools),
        approval,
        spec.authorization,
        tuple(spec.headers.items()),
        spec.description,
    )


def _model_of(data: dict[str, Any], agent: dict[str, Any]) -> tuple[str, str] | None:
    """``(provider, model)`` the agent's model resolves to (a ``models`` name or ``provider:model``)."""
    ref = agent.get("model")
    if not isinstance(ref, str):
        defaults = data.get("defaults")
        ref = defaults.get("model") if isinstance(defaults, dict) else None
    models = data.get("models") if isinstance(data.get("models"), dict) else {}
    spec = models.get(ref) if isinstance(ref, str) and isinstance(models, dict) else None
    if isinstance(spec, str):
        ref = spec
    elif isinstance(spec, dict):
        provider, model = spec.get("provider"), spec.get("model")
        return (provider, model) if isinstance(provider, str) and isinstance(model, str) else None
    if not isinstance(ref, str) or ":" not in ref:
        return None
    provider, _, rest = ref.partition(":")
    return provider, rest.partition("@")[0]


def check_agent_hosted(
    data: dict[str, Any],
    name: str,
    agent: dict[str, Any],
    report: Callable[[tuple[Any, ...], str], None],
) -> None:
    """Report each ``hosted_tools`` entry of agent ``name`` that its model's vendor cannot serve (entries
    with structural errors are reported by the schema pass)."""
    from pydantic import TypeAdapter

    entries = agent.get("hosted_tools")
    vendor = _model_of(data, agent)
    if not isinstance(entries, list) or vendor is None:
        return
    adapter: TypeAdapter[Any] = TypeAdapter(HostedToolEntry)
    for i, raw in enumerate(entries):
        try:
            tool = declaration(adapter.validate_python(raw))
        except (ValidationError, ValueError):
            continue
        try:
            check_hosted(vendor[0], vendor[1], [tool])
        except UnsupportedHostedToolError as exc:
            report(("agents", name, "hosted_tools", i), f"agents.{name}.hosted_tools[{i}]: {exc}")


def entry_of(tool: Any, secret: Callable[[str], str]) -> Any:
    """A declaration as its ``hosted_tools`` entry (what :func:`declaration` reads back): a bare name when
    every option is at its default, else the fields off their default; the MCP authorization and
    secret-looking headers become ``secret(<LABEL>_TOKEN)`` (a ``${VAR}`` reference). ``None`` for an object
    that is not a declaration (a vendor-hosted container comes with the agent's sandbox)."""
    import dataclasses
    import re

    if not isinstance(tool, WebSearch | WebFetch | FileSearch | CodeExecution | HostedMCP):
        return None
    defaults: dict[str, Any] = {
        f.name: f.default for f in dataclasses.fields(tool) if f.default is not dataclasses.MISSING
    }
    out: dict[str, Any] = {"type": tool.kind}
    for f in dataclasses.fields(tool):
        value = getattr(tool, f.name)
        if f.name in defaults and value == defaults[f.name]:
            continue
        if isinstance(value, UserLocation):
            value = {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
        elif isinstance(value, tuple) and f.name == "headers":
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    if isinstance(tool, HostedMCP):
        token = re.sub(r"[^A-Za-z0-9_]", "_", tool.server_label).upper() + "_TOKEN"
        if tool.authorization:
            out["authorization"] = secret(token)
        if "headers" in out:
            out["headers"] = {
                k: (secret(token) if re.search(r"(key|token|secret|auth|password)", k, re.I) else v)
                for k, v in out["headers"].items()
            }
    return (
        out["type"] if len(out) == 1 and tool.kind in ("web_search", "web_fetch", "code_execution") else out
    )
