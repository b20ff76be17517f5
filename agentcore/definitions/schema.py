"""The YAML format, version 1, as pydantic models.

Every model forbids unknown fields (so ``max_turn`` is an error, not a silently ignored typo) and
uses strict types (so YAML 1.1's ``no`` is not quietly turned into ``False`` where a string is
expected). ``agentcore schema`` prints the JSON Schema generated from these models; editors use it
through a ``# yaml-language-server: $schema=…`` first line.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from ..model import ModelSettings
from .hosted import HostedToolEntry

NAME_PATTERN = r"^[A-Za-z0-9_-]+$"
REF_PATTERN = (
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
)
TOOL_PATTERN = r"^([A-Za-z0-9_-]+|" + REF_PATTERN[1:-1] + r")$"

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Ref = Annotated[
    str,
    StringConstraints(pattern=REF_PATTERN),
    Field(description="A Python object as `package.module:attribute` (registered or allowed modules only)."),
]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
PositiveInt = Annotated[int, Field(ge=1)]
PositiveFloat = Annotated[float, Field(gt=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _model_shorthand(value: Any) -> Any:
    """``"anthropic:claude-sonnet-4-5"`` -> ``{provider, model}``; ``@url`` sets ``base_url``."""
    if isinstance(value, str):
        provider, sep, rest = value.partition(":")
        if not sep:
            return {"provider": value, "model": ""}
        model, at, base_url = rest.partition("@")
        out: dict[str, Any] = {"provider": provider, "model": model}
        if at:
            out["base_url"] = base_url
        return out
    return value


class Pricing(Strict):
    """USD per million tokens; used for the cost line of the CLI summary and for budget guardrails."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


class ModelSpec(Strict):
    """A named model: a provider adapter bound to one model, with settings and a fallback chain."""

    provider: str = Field(
        description="Provider registry name: openai, openai-chat, anthropic, google, google-interactions, "
        "scripted, or a plug-in's name.",
        json_schema_extra={"examples": ["openai", "anthropic", "google", "openai-chat"]},
    )
    model: str = Field(min_length=1, description="The vendor's model name, e.g. gpt-5 or claude-sonnet-4-5.")
    base_url: str | None = Field(None, description="Endpoint of an OpenAI-compatible or self-hosted server.")
    api_key_env: EnvName | None = Field(
        None, description="Name of the environment variable holding the API key (never the key itself)."
    )
    settings: ModelSettings | None = Field(None, description="Sampling settings sent with every request.")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra constructor options of the provider adapter (timeout, organization…).",
    )
    fallback: list[Name] = Field(
        default_factory=list,
        description="Named models tried in order when this one fails (outage, 5xx, 429).",
    )
    pricing: Pricing | None = None


ModelEntry = Annotated[ModelSpec, BeforeValidator(_model_shorthand, json_schema_input_type=str | ModelSpec)]


# --------------------------------------------------------------------------- sandboxes


class Limits(Strict):
    """Resource limits. Unset fields keep the backend's safe defaults (1 CPU, 1 GiB, 256 pids…)."""

    cpu: PositiveFloat | None = Field(None, description="CPU cores.")
    memory_mb: PositiveInt | None = None
    pids: PositiveInt | None = Field(None, description="Maximum processes (fork-bomb cap).")
    disk_mb: PositiveInt | None = Field(None, description="Size of the writable workspace.")
    tmp_mb: PositiveInt | None = None
    timeout_s: PositiveFloat | None = Field(None, description="Default timeout of one command.")
    max_lifetime_s: PositiveFloat | None = Field(
        None, description="The sandbox is destroyed after this long."
    )
    max_output_bytes: PositiveInt | None = Field(None, description="Output kept per command (head and tail).")


class _SandboxBase(Strict):
    image: str | None = Field(None, description="Image (docker, modal) or template (e2b).")
    workdir: str | None = Field(None, description="Absolute path of the workspace (default /workspace).")
    limits: Limits = Field(default_factory=lambda: Limits.model_validate({}))
    network: Literal["none", "open"] = Field("none", description="'open' allows outbound network access.")
    env: dict[EnvName, str] = Field(
        default_factory=dict, description="Environment inside the sandbox (the host's is never passed)."
    )
    lifetime: Literal["run", "session"] = Field(
        "run", description="Close the sandbox when the run ends, or keep it for the whole chat session."
    )
    read_only_root: bool | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    upload: dict[str, str] = Field(
        default_factory=dict,
        description="Host path (relative to this file) -> sandbox path, copied in before the run.",
    )
    download: dict[str, str] = Field(
        default_factory=dict,
        description="Sandbox path -> host path (relative to the working directory), copied out after the run.",
    )
    options: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Backend-specific constructor options."
    )


class LocalSandboxSpec(_SandboxBase):
    """bubblewrap on this machine: no infrastructure, starts in milliseconds."""

    backend: Literal["local"]


class DockerSandboxSpec(_SandboxBase):
    """A hardened Docker container."""

    backend: Literal["docker"]


class E2BSandboxSpec(_SandboxBase):
    backend: Literal["e2b"]


class ModalSandboxSpec(_SandboxBase):
    backend: Literal["modal"]


SandboxSpec = Annotated[
    LocalSandboxSpec | DockerSandboxSpec | E2BSandboxSpec | ModalSandboxSpec, Field(discriminator="backend")
]


# --------------------------------------------------------------------------- MCP servers


class MCPOAuthSpec(Strict):
    """OAuth for a Streamable HTTP server that asks for it (the MCP SDK's client flow; tokens kept in
    the data directory). ``oauth: true`` takes every default."""

    scopes: list[str] | None = Field(None, description="Scopes to ask for (default: what the server names).")
    client_name: str = Field("agentcore", description="The name shown on the authorization page.")
    redirect_uri: str = Field(
        "http://127.0.0.1:33418/callback",
        description="Loopback URL agentcore listens on for the authorization code.",
    )
    callback_timeout: PositiveFloat = Field(300.0, description="Seconds the user has on the authorization page.")


class MCPServerSpec(Strict):
    """A Model Context Protocol server: a command over stdio, or a Streamable HTTP url. Its tools are
    named ``<prefix>__<tool>`` (prefix: the server's name unless set)."""

    command: str | None = Field(None, description="Run this command and talk to it over stdio.")
    args: list[str] = Field(default_factory=list)
    env: dict[EnvName, str] = Field(
        default_factory=dict,
        description="The server's environment (with HOME, PATH, USER…; the rest of the host's is never "
        "passed). Use ${VAR} for secrets.",
    )
    cwd: str | None = Field(None, description="Working directory of the command (relative to this file).")
    url: str | None = Field(None, description="The Streamable HTTP endpoint (http:// or https://).")
    headers: dict[str, str] = Field(default_factory=dict)
    bearer_token: str | None = Field(None, description="Sent as 'Authorization: Bearer ...'; use ${VAR}.")
    oauth: bool | MCPOAuthSpec = Field(
        False, description="Run the OAuth flow (browser, loopback redirect) when the server asks for it."
    )
    prefix: str | None = Field(None, description="Tool name prefix ('' for none; default: the server's name).")
    allow: list[str] | None = Field(None, description="Only these tools (server-side names, fnmatch patterns).")
    deny: list[str] = Field(default_factory=list, description="Never these tools (fnmatch patterns).")
    needs_approval: bool | Literal["destructive", "not_read_only"] | list[str] = Field(
        False,
        description="Which tools pause the run for approval: all (true), 'destructive' (not marked "
        "read-only or non-destructive by the server), 'not_read_only', or a list of tool names.",
    )
    lifetime: Literal["run", "session"] = Field(
        "run", description="Stop the server when the run ends, or keep it for the whole chat session."
    )
    connect_timeout: PositiveFloat = 30.0
    call_timeout: PositiveFloat = 60.0
    protocol: Literal["legacy", "auto"] = "legacy"
    resource_tool: bool = Field(False, description="Add a '<prefix>__read_resource' tool.")

    @model_validator(mode="after")
    def _one_transport(self) -> MCPServerSpec:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of 'command' (stdio) or 'url' (Streamable HTTP)")
        return self


# --------------------------------------------------------------------------- tools, handoffs


def _tool_shorthand(value: Any) -> Any:
    return {"ref": value} if isinstance(value, str) else value


class ToolSpec(Strict):
    """A tool: a registered name (``shell``, ``read_file``, a name from ``register_tool``),
    ``package.module:function`` from a registered or allowed module, or ``{agent: name}`` (another agent
    of this file as a tool: it runs and its final output comes back). Write a string, or an object to
    rename it or require approval."""

    ref: str | None = Field(
        None, pattern=TOOL_PATTERN, description="Registered tool name or package.module:function."
    )
    agent: Name | None = Field(None, description="Another agent of this file, called as a tool.")
    name: Name | None = None
    description: str | None = None
    needs_approval: bool = False
    max_turns: PositiveInt | None = Field(None, description="For agent tools: the sub-run's max_turns.")

    @model_validator(mode="after")
    def _one_kind(self) -> ToolSpec:
        if (self.ref is None) == (self.agent is None):
            raise ValueError(
                "a tool has either 'ref' (a function) or 'agent' (a sub-agent), not both or neither"
            )
        if self.max_turns is not None and self.agent is None:
            raise ValueError("max_turns applies to agent tools only")
        return self


ToolEntry = Annotated[ToolSpec, BeforeValidator(_tool_shorthand, json_schema_input_type=str | ToolSpec)]


def _handoff_shorthand(value: Any) -> Any:
    return {"agent": value} if isinstance(value, str) else value


class HandoffSpec(Strict):
    """Pass control to another agent of this file (a ``transfer_to_<agent>`` tool)."""

    agent: Name
    description: str | None = None
    history: Literal["full", "summary"] = Field(
        "full", description="What the target sees: the full transcript or a summary."
    )
    filter: Ref | None = Field(None, description="A function items -> items choosing what the target sees.")
    tool_name: Name | None = None


HandoffEntry = Annotated[
    HandoffSpec, BeforeValidator(_handoff_shorthand, json_schema_input_type=Name | HandoffSpec)
]


# --------------------------------------------------------------------------- guardrails and verifiers

Stage = Literal["input", "turn", "pre_tool", "post_tool", "output"]


class ShellPolicySpec(Strict):
    """Allow/deny rules for shell commands: program names (``rm``, ``git push``) or ``re:<regex>``."""

    type: Literal["shell_policy"]
    allow: list[str] | None = None
    deny: list[str] = Field(default_factory=list)
    action: Literal["tripwire", "retry"] = "retry"
    tools: list[Name] = Field(default_factory=lambda: ["shell"])
    strict: bool = Field(False, description="Also refuse what the policy cannot see through (eval, sh -c $X…).")
    name: Name | None = None


class BudgetSpec(Strict):
    """Stop the run when it spends too much. Cost uses the models' ``pricing``."""

    type: Literal["budget"]
    max_tokens: PositiveInt | None = None
    max_cost: PositiveFloat | None = Field(None, description="USD per run.")
    max_seconds: PositiveFloat | None = None
    max_sandbox_seconds: PositiveFloat | None = None
    name: Name | None = None


class SecretRedactorSpec(Strict):
    """Rewrite tool output so secrets (and with ``pii``, e-mails and phone numbers) never reach the model."""

    type: Literal["secret_redactor"]
    patterns: dict[Name, str] = Field(default_factory=dict)
    pii: bool = False
    env: bool = True
    name: Name | None = None


class FunctionGuardrailSpec(Strict):
    """Your own check: a function of a ``Check`` (or a ``Guardrail`` object) by reference."""

    type: Literal["function"]
    ref: Ref
    stage: Stage | list[Stage] | None = Field(None, description="Required unless ref names a Guardrail.")
    tools: list[Name] | None = None
    blocking: bool = True
    name: Name | None = None


class JudgeGuardrailSpec(Strict):
    """An LLM judge: another agent of this file decides whether the text is allowed."""

    type: Literal["judge"]
    agent: Name
    stage: Stage | list[Stage] = "input"
    on_fail: Literal["tripwire", "retry"] = "tripwire"
    blocking: bool = True
    name: Name | None = None


GuardrailSpec = Annotated[
    ShellPolicySpec | BudgetSpec | SecretRedactorSpec | FunctionGuardrailSpec | JudgeGuardrailSpec,
    Field(discriminator="type"),
]


class CommandVerifierSpec(Strict):
    """Run a command in the agent's sandbox after it claims to be done; a non-zero exit is feedback."""

    type: Literal["command"]
    command: str = Field(min_length=1)
    timeout_s: PositiveFloat | None = None
    name: Name | None = None


class FunctionVerifierSpec(Strict):
    """Your own verifier function by reference."""

    type: Literal["function"]
    ref: Ref
    name: Name | None = None


VerifierSpec = Annotated[CommandVerifierSpec | FunctionVerifierSpec, Field(discriminator="type")]


class RetrySpec(Strict):
    """Retries of failed model calls (transport errors, timeouts, 429, 5xx)."""

    max_attempts: PositiveInt | None = Field(None, description="Attempts per model call, the first included.")
    initial_delay: float | None = Field(None, ge=0, description="Seconds before the first retry.")
    max_delay: float | None = Field(None, ge=0)
    jitter: float | None = Field(None, ge=0)
    run_budget: int | None = Field(None, ge=0, description="Retries allowed across one run.")
    honor_retry_after: bool | None = None


class ContextSpec(Strict):
    """What a run does as the transcript nears the model's context window (docs/context.md). The
    session keeps every item; the model is sent a compacted view."""

    trigger: float | None = Field(
        None, gt=0, le=1, description="Compact past this fraction of the window (0.8)."
    )
    target: float | None = Field(None, gt=0, le=1, description="Compact down to this fraction (0.6).")
    window: PositiveInt | None = Field(
        None, description="The model's window in tokens (default: known models)."
    )
    keep_tool_outputs: int | Literal["all"] | None = Field(
        None, description="Tool outputs older than the last N are cut short (5); 'all' keeps every one whole."
    )
    tool_output_chars: int | None = Field(None, ge=0, description="What is left of a cut tool output (200).")
    summarize: bool | None = Field(
        None, description="Summarise the oldest turns when cutting is not enough (true)."
    )
    summarizer: str | None = Field(
        None,
        description="The model writing summaries: a name from `models`, or provider:model (default: a digest).",
    )
    summary_instructions: str | None = None
    keep_recent: float | None = Field(
        None, gt=0, lt=1, description="Newest turns kept verbatim (0.3 of the window)."
    )
    native: bool | None = Field(
        None, description="Also use the vendor's own context management (OpenAI, Anthropic)."
    )
    count: Literal["auto", "estimate", "vendor"] | None = Field(
        None, description="Measure with the local estimate, the vendor's counting endpoint, or both (auto)."
    )
    recover: bool | None = Field(
        None, description="Compact and retry once when the vendor says too long (true)."
    )


# --------------------------------------------------------------------------- agents and the file


class AgentSpec(Strict):
    description: str = ""
    instructions: str | None = Field(
        None, description="The system prompt. Braces are never interpreted; only ${ENV} references are."
    )
    instructions_file: str | None = Field(
        None, description="Read the prompt from this file (relative to YAML)."
    )
    model: str | None = Field(None, description="A name from `models`, or provider:model.")
    settings: ModelSettings | None = Field(None, description="Overrides the model's settings for this agent.")
    tools: list[ToolEntry] = Field(default_factory=list)
    sandbox: Name | None = Field(None, description="A name from `sandboxes`; adds the shell and file tools.")
    mcp_servers: list[Name] = Field(
        default_factory=list, description="Names from `mcp_servers`; adds their tools."
    )
    native_tools: Literal["auto", "off"] = Field(
        "auto",
        description="With a sandbox: present its shell and file tools in the form the model was trained on "
        "(OpenAI shell/apply_patch, Anthropic bash/text editor), or 'off' for the function tools.",
    )
    hosted_tools: list[HostedToolEntry] = Field(
        default_factory=list,
        description="Tools the model's vendor runs: web_search, web_fetch, file_search, code_execution, mcp.",
    )
    output_schema: dict[str, Any] | None = Field(
        None, description="JSON Schema of the final output (type: object); validated before the run returns."
    )
    handoffs: list[HandoffEntry] = Field(default_factory=list)
    guardrails: list[GuardrailSpec] = Field(default_factory=list)
    verify: list[VerifierSpec] = Field(default_factory=list)
    retry: RetrySpec | None = None
    context: ContextSpec | None = None
    max_turns: PositiveInt | None = None
    max_corrections: int | None = Field(None, ge=0)
    max_parallel_tools: PositiveInt | None = None


class Defaults(Strict):
    """Values every agent gets unless it sets its own."""

    model: str | None = None
    settings: ModelSettings | None = None
    retry: RetrySpec | None = None
    max_turns: PositiveInt | None = None


class ConfigFile(Strict):
    """An agentcore definition file."""

    model_config = ConfigDict(extra="forbid", strict=True, title="agentcore agent definition")

    version: Literal[1] = Field(description="Format version; always 1 for now.")
    entry: Name | None = Field(None, description="The agent a run starts with (optional with one agent).")
    imports: list[str] = Field(
        default_factory=list,
        description="Your own modules tools may come from; they must live in this file's directory.",
    )
    defaults: Defaults = Field(default_factory=Defaults)
    models: dict[Name, ModelEntry] = Field(default_factory=dict)
    sandboxes: dict[Name, SandboxSpec] = Field(default_factory=dict)
    mcp_servers: dict[Name, MCPServerSpec] = Field(default_factory=dict)
    agents: dict[Name, AgentSpec] = Field(min_length=1)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the YAML format (what ``agentcore schema`` prints)."""
    schema = ConfigFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
