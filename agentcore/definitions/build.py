"""Turn a validated :class:`~agentcore.config.Definition` into agents, models, sandboxes and guardrails.

Every object is built with the same public constructors a Python user calls, so a YAML agent and a
hand-written one behave identically. Built models and sandboxes remember the spec they came from
(:data:`SPEC_ATTR`) so :func:`agentcore.config.to_yaml` can write them back.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from .. import tracing
from ..contextwin import ContextPolicy
from ..errors import ConfigError, ModelError, UserError
from ..hosted import check_agent
from ..model import Model, ModelRequest, ModelResponse, ModelSettings, ModelStreamEvent
from ..run.retry import RetryPolicy
from .hosted import declaration
from .refs import SANDBOX_TOOLS

if TYPE_CHECKING:
    from ..agent import Agent
    from . import Definition
    from .schema import AgentSpec, ContextSpec, ModelSpec, RetrySpec

SPEC_ATTR = "_agentcore_spec"
"""Attribute holding ``(name, spec)`` on models and sandboxes built from a definition."""


class FallbackModel(Model):
    """Try ``models`` in order: a model that fails with a provider error (outage, 5xx, 429, timeout,
    authentication) hands the request to the next one. Streaming falls back only before the first
    event reached the caller. Each model keeps its own adapter cache inside the request's cache."""

    def __init__(self, models: Sequence[Model]) -> None:
        if not models:
            raise ValueError("FallbackModel needs at least one model")
        self.models = list(models)
        self.provider = self.models[0].provider
        self.model_name = self.models[0].model_name

    # read from the first model when asked (a lazily built one is not built by building the chain)
    @property
    def system(self) -> str:  # type: ignore[override]
        return self.models[0].system

    @property
    def server_address(self) -> str | None:  # type: ignore[override]
        return self.models[0].server_address

    @property
    def server_port(self) -> int | None:  # type: ignore[override]
        return self.models[0].server_port

    def _request_for(self, model: Model, request: ModelRequest) -> ModelRequest:
        sub = request.cache.setdefault(f"fallback:{model.cache_key}", {})
        return dataclasses.replace(request, cache=sub)

    async def respond(self, request: ModelRequest) -> ModelResponse:
        last: ModelError | None = None
        for model in self.models:
            try:
                return await model.respond(self._request_for(model, request))
            except ModelError as exc:
                if not _falls_back(exc):
                    raise
                last = exc
        assert last is not None
        raise last

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        last: ModelError | None = None
        for model in self.models:
            started = False
            try:
                async for event in model.stream(self._request_for(model, request)):
                    started = True
                    yield event
                return
            except ModelError as exc:
                if started or not _falls_back(exc):
                    raise
                last = exc
        assert last is not None
        raise last

    async def aclose(self) -> None:
        for model in self.models:
            await model.aclose()


def _falls_back(exc: ModelError) -> bool:
    from ..errors import AuthenticationError, ContextTooLongError

    return exc.retryable or isinstance(exc, AuthenticationError | ContextTooLongError)


def retry_policy(*specs: RetrySpec | None) -> RetryPolicy | None:
    """Later specs override earlier ones, field by field; ``None`` when nothing is set."""
    values: dict[str, Any] = {}
    for spec in specs:
        if spec is not None:
            values.update(spec.model_dump(exclude_none=True))
    return RetryPolicy(**values) if values else None


class _Builder:
    def __init__(self, definition: Definition, model_override: str | None, base_url: str | None) -> None:
        self.d = definition
        self.spec = definition.spec
        self.model_override = model_override
        self.base_url = base_url
        self.models: dict[str, Model] = {}
        self.sandboxes: dict[str, Any] = {}
        self.mcp_servers: dict[str, Any] = {}

    def fail(self, path: tuple[Any, ...], message: str) -> ConfigError:
        return ConfigError([self.d.problem(path, message)])

    # ------------------------------------------------------------------ models

    def named_model(self, name: str, chain: tuple[str, ...] = ()) -> Model:
        if name in self.models:
            return self.models[name]
        from ..registry import NO_KEY, is_builtin, needs_key, resolve_model

        spec: ModelSpec = self.spec.models[name]
        options: dict[str, Any] = dict(spec.options)
        base_url = self.base_url or spec.base_url
        if base_url:
            options["base_url"] = base_url
        if self.local and "api_key" not in options and is_builtin(spec.provider) and (
            (spec.api_key_env and not os.environ.get(spec.api_key_env)) or needs_key(spec.provider, base_url)
        ):
            options["api_key"] = NO_KEY  # --base-url on this machine: no vendor key is demanded
        elif spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise self.fail(
                    ("models", name, "api_key_env"),
                    f"models.{name}.api_key_env: environment variable {spec.api_key_env} is not set",
                )
            options["api_key"] = key
        try:
            model = resolve_model(f"{spec.provider}:{spec.model}", lazy=True, **options)
        except Exception as exc:
            raise self.fail(("models", name), f"models.{name}: cannot create the model: {exc}") from exc
        if spec.pricing is not None:  # chat spans of this model carry their cost
            tracing.set_price(model.model_name, spec.pricing.input_per_mtok, spec.pricing.output_per_mtok)
        if spec.fallback:
            backups = [self.named_model(b, (*chain, name)) for b in spec.fallback if b not in (*chain, name)]
            model = FallbackModel([model, *backups])
        setattr(model, SPEC_ATTR, (name, spec))
        self.models[name] = model
        return model

    def model_for(self, agent: AgentSpec) -> tuple[str | Model | None, ModelSettings]:
        ref = agent.model or self.spec.defaults.model
        settings = self.spec.defaults.settings or ModelSettings()
        if self.model_override is not None:
            return self.address(self.model_override), settings.merged(agent.settings)
        if ref is None:
            return None, settings.merged(agent.settings)
        if ref in self.spec.models:
            spec = self.spec.models[ref]
            settings = settings.merged(spec.settings)
            return self.named_model(ref), settings.merged(agent.settings)
        return self.address(ref), settings.merged(agent.settings)

    def address(self, ref: str) -> str | Model:
        """A model string with ``--base-url`` applied (:func:`~agentcore.registry.model_address`); on a
        loopback base URL, a built-in vendor's model that would demand a key gets a placeholder one."""
        from ..registry import NO_KEY, is_builtin, model_address, needs_key, parse_model_string, resolve_model

        if self.base_url is None and self.model_override is None:
            return ref
        try:
            ref = model_address(ref, self.base_url)
        except Exception as exc:
            raise ConfigError([(self.d.filename, 1, 1, f"--model {ref}: {exc}")]) from None
        provider, _, url = parse_model_string(ref)
        if self.local and is_builtin(provider) and needs_key(provider, url):
            return resolve_model(ref, lazy=True, api_key=NO_KEY)
        return ref

    @property
    def local(self) -> bool:
        """``--base-url`` points at this machine."""
        from ..registry import is_loopback

        return self.base_url is not None and is_loopback(self.base_url)

    # ------------------------------------------------------------------ sandboxes

    def sandbox(self, name: str) -> Any:
        if name in self.sandboxes:
            return self.sandboxes[name]
        from ..registry import resolve_sandbox

        spec = self.spec.sandboxes[name]
        config: dict[str, Any] = {"network": spec.network, "lifetime": spec.lifetime}
        for key in ("image", "workdir", "read_only_root"):
            if getattr(spec, key) is not None:
                config[key] = getattr(spec, key)
        if spec.env:
            config["env"] = dict(spec.env)
        if spec.labels:
            config["labels"] = dict(spec.labels)
        config.update(spec.limits.model_dump(exclude_none=True))
        config.update(spec.options)
        try:
            sandbox = resolve_sandbox(spec.backend, **config)
        except Exception as exc:
            raise self.fail(
                ("sandboxes", name), f"sandboxes.{name}: cannot create the sandbox: {exc}"
            ) from exc
        setattr(sandbox, SPEC_ATTR, (name, spec))
        self.sandboxes[name] = sandbox
        return sandbox

    # ------------------------------------------------------------------ MCP servers

    def mcp_server(self, name: str) -> Any:
        if name in self.mcp_servers:
            return self.mcp_servers[name]
        from ..mcp.config import MCPServer

        spec = self.spec.mcp_servers[name]
        fields = spec.model_dump(exclude_none=True, exclude={"cwd"})
        if isinstance(fields.get("needs_approval"), list):
            fields["needs_approval"] = tuple(fields["needs_approval"])
        oauth = fields.pop("oauth", False)
        if oauth:
            from ..mcp.oauth import OAuth

            fields["oauth"] = OAuth(**oauth) if isinstance(oauth, dict) else OAuth()
        cwd = str((self.d.base_dir / spec.cwd).resolve()) if spec.cwd else None
        try:
            server = MCPServer(name=name, cwd=cwd, **fields)
        except Exception as exc:
            raise self.fail(("mcp_servers", name), f"mcp_servers.{name}: {exc}") from exc
        self.mcp_servers[name] = server
        return server

    # ------------------------------------------------------------------ agents

    def agent(self, name: str, spec: AgentSpec) -> Agent[Any]:
        from ..agent import Agent

        model, settings = self.model_for(spec)
        path: tuple[Any, ...] = ("agents", name)
        tools = []
        for i, entry in enumerate(spec.tools):
            tool = self.d.objects.get((*path, "tools", i))
            if tool is None:  # a sandbox tool (comes with the sandbox) or an agent tool (added in build())
                continue
            if entry.name or entry.description or entry.needs_approval:
                changes: dict[str, Any] = {"needs_approval": entry.needs_approval or tool.needs_approval}
                if entry.name:
                    changes["name"] = entry.name
                if entry.description:
                    changes["description"] = entry.description
                tool = dataclasses.replace(tool, **changes)
            tools.append(tool)
        metadata: dict[str, Any] = {
            "sandbox_tools": [t.ref for t in spec.tools if t.ref in SANDBOX_TOOLS],
            "source": f"{self.d.filename}#{name}",
        }
        kwargs: dict[str, Any] = {"max_turns": spec.max_turns or self.spec.defaults.max_turns}
        if spec.max_corrections is not None:
            kwargs["max_corrections"] = spec.max_corrections
        if spec.max_parallel_tools is not None:
            kwargs["max_parallel_tools"] = spec.max_parallel_tools
        return Agent(
            name=name,
            description=spec.description,
            instructions=spec.instructions
            if spec.instructions is not None
            else self.d.instructions.get(name),
            model=model,
            model_settings=settings,
            tools=tools,
            output_type=self.d.output_types.get(name),
            sandbox=self.sandbox(spec.sandbox) if spec.sandbox else None,
            mcp_servers=[self.mcp_server(n) for n in spec.mcp_servers],
            native_tools=spec.native_tools,
            hosted_tools=[declaration(h) for h in spec.hosted_tools],
            verify=self.verifiers(name, spec),
            retry=retry_policy(self.spec.defaults.retry, spec.retry),
            context=self.context_policy(name, spec.context),
            metadata=metadata,
            **kwargs,
        )

    def context_policy(self, name: str, spec: ContextSpec | None) -> ContextPolicy | None:
        """``context:`` as a :class:`~agentcore.contextwin.ContextPolicy` (its summarizer resolved like an
        agent's model)."""
        if spec is None:
            return None
        fields: dict[str, Any] = spec.model_dump(exclude_none=True)
        if fields.get("keep_tool_outputs") == "all":
            fields["keep_tool_outputs"] = None
        ref = fields.get("summarizer")
        if ref is not None:
            if ref not in self.spec.models and ":" not in ref:
                raise self.fail(
                    ("agents", name, "context", "summarizer"),
                    f"agents.{name}.context.summarizer: {ref!r} is neither a name from `models` nor provider:model",
                )
            fields["summarizer"] = self.named_model(ref) if ref in self.spec.models else self.address(ref)
        try:
            return ContextPolicy(**fields)
        except UserError as exc:
            raise self.fail(("agents", name, "context"), f"agents.{name}.context: {exc}") from exc

    def verifiers(self, name: str, spec: AgentSpec) -> list[Any]:
        from ..control.verifiers import CommandVerifier, FunctionVerifier, Verifier

        out: list[Any] = []
        for i, v in enumerate(spec.verify):
            if v.type == "command":
                kwargs: dict[str, Any] = {"name": v.name}
                if v.timeout_s is not None:
                    kwargs["timeout"] = v.timeout_s
                out.append(CommandVerifier(v.command, **kwargs))
            else:
                obj = self.d.objects[("agents", name, "verify", i, "ref")]
                out.append(obj if isinstance(obj, Verifier) else FunctionVerifier(obj, name=v.name))
        return out

    def guardrails(self, name: str, spec: AgentSpec, agents: dict[str, Agent[Any]]) -> list[Any]:
        from ..control import guardrails as g
        from ..control.shell_policy import ShellPolicy

        out: list[Any] = []
        for i, item in enumerate(spec.guardrails):
            named = {"name": item.name} if item.name else {}
            if item.type == "shell_policy":
                out.append(
                    ShellPolicy(
                        allow=item.allow,
                        deny=item.deny,
                        action=item.action,
                        tools=item.tools,
                        strict=item.strict,
                        name=item.name or "shell_policy",
                    )
                )
            elif item.type == "budget":
                prices = {
                    m.model: (m.pricing.input_per_mtok, m.pricing.output_per_mtok)
                    for m in self.spec.models.values()
                    if m.pricing is not None
                }
                out.append(
                    g.Budget(
                        max_tokens=item.max_tokens,
                        max_cost=item.max_cost,
                        max_seconds=item.max_seconds,
                        max_sandbox_seconds=item.max_sandbox_seconds,
                        prices=prices,
                        name=item.name or "budget",
                    )
                )
            elif item.type == "secret_redactor":
                out.append(
                    g.SecretRedactor(
                        patterns=dict(item.patterns) or None, pii=item.pii, env=item.env, **named
                    )
                )
            elif item.type == "judge":
                stage = item.stage if isinstance(item.stage, str) else tuple(item.stage)
                out.append(
                    g.AgentGuardrail(
                        agents[item.agent],
                        stage=stage,
                        name=item.name,
                        on_fail=item.on_fail,
                        blocking=item.blocking,
                    )
                )
            else:
                obj = self.d.objects[("agents", name, "guardrails", i, "ref")]
                if isinstance(obj, g.Guardrail):
                    out.append(obj)
                    continue
                if item.stage is None:
                    raise self.fail(
                        ("agents", name, "guardrails", i),
                        f"agents.{name}.guardrails[{i}]: {item.ref} is a function; say when it runs "
                        "with 'stage:' (input, turn, pre_tool, post_tool or output)",
                    )
                stage = item.stage if isinstance(item.stage, str) else tuple(item.stage)
                out.append(
                    g.FunctionGuardrail(
                        obj, stage=stage, name=item.name, tools=item.tools, blocking=item.blocking
                    )
                )
        return out

    def with_agent_tools(self, name: str, spec: AgentSpec, agents: dict[str, Agent[Any]]) -> list[Any]:
        """The agent's tools in file order, sub-agents (``{agent: …}``) included."""
        built = iter(agents[name].function_tools)
        out: list[Any] = []
        for i, entry in enumerate(spec.tools):
            if entry.agent is not None:
                tool = agents[entry.agent].as_tool(
                    name=entry.name, description=entry.description, max_turns=entry.max_turns
                )
                if entry.needs_approval:
                    tool.needs_approval = True
                out.append(tool)
            elif ("agents", name, "tools", i) in self.d.objects:
                out.append(next(built))
        return out

    def handoffs(self, name: str, spec: AgentSpec, agents: dict[str, Agent[Any]]) -> list[Any]:
        from ..control.handoffs import Handoff

        out: list[Any] = []
        for i, h in enumerate(spec.handoffs):
            history: Any = self.d.objects.get(("agents", name, "handoffs", i, "filter")) or h.history
            out.append(
                Handoff(
                    agent=agents[h.agent], history=history, tool_name=h.tool_name, description=h.description
                )
            )
        return out

    def build(self) -> dict[str, Agent[Any]]:
        agents = {name: self.agent(name, spec) for name, spec in self.spec.agents.items()}
        # Handoffs and judges may form cycles (hand-back), so they are attached once every agent exists.
        for name, spec in self.spec.agents.items():
            object.__setattr__(agents[name], "handoffs", tuple(self.handoffs(name, spec, agents)))
            if any(t.agent for t in spec.tools):
                object.__setattr__(agents[name], "tools", tuple(self.with_agent_tools(name, spec, agents)))
        for name, spec in self.spec.agents.items():
            object.__setattr__(agents[name], "guardrails", tuple(self.guardrails(name, spec, agents)))
        for agent in agents.values():  # attached after construction: the hosted-tool check of handoffs
            for h in agent.handoff_list:
                check_agent(h.agent, via=agent)
        return agents


def build_agents(
    definition: Definition, *, model_override: str | None = None, base_url: str | None = None
) -> dict[str, Agent[Any]]:
    return _Builder(definition, model_override, base_url).build()
