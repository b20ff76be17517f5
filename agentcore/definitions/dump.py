"""Python -> YAML: write an agent (and every agent it reaches) as a definition file.

Only declarative parts can be written: anything that would need code the file cannot name (a lambda
tool, dynamic instructions, a hand-built Model object of unknown origin) raises
:class:`~agentcore.errors.UserError` naming the part, never a silently incomplete file.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import UserError
from ..model import Model, ModelSettings
from ..run.retry import RetryPolicy
from ..tools import Tool, parse_docstring
from .build import SPEC_ATTR, FallbackModel
from .hosted import entry_of
from .jsonschema import schema_of
from .refs import _tools

if TYPE_CHECKING:
    from ..agent import Agent


def _ref_of(fn: Any, what: str) -> str:
    """``module:qualname`` of a module-level function, checked by importing it back."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or "<" in qualname or module == "__main__":
        raise UserError(f"{what} ({fn!r}) is not a module-level function, so YAML cannot name it")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if obj is not fn:
        raise UserError(f"{what}: {module}:{qualname} does not resolve back to the same object")
    return f"{module}:{qualname}"


_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.IGNORECASE)


def _env_refs(env: dict[str, str]) -> dict[str, str]:
    """Secret-looking sandbox variables are written as ``${NAME}`` references, never as values."""
    return {k: (_EnvRef(f"${{{k}}}") if _SECRET_NAME.search(k) else v) for k, v in env.items()}


class _EnvRef(str):
    """A ``${NAME}`` written on purpose (not escaped)."""

    __slots__ = ()


def _escape(value: Any) -> Any:
    """The file must read back as written: escape what would look like ``${ENV}`` interpolation."""
    if isinstance(value, _EnvRef):
        return str(value)
    if isinstance(value, str):
        return re.sub(r"\$(?=\{[^{}]*\})", "$$", value)
    if isinstance(value, dict):
        return {k: _escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape(v) for v in value]
    return value


class _Dumper:
    def __init__(self) -> None:
        self.models: dict[str, Any] = {}
        self.sandboxes: dict[str, Any] = {}
        self.mcp_servers: dict[str, Any] = {}
        self.agents: dict[str, Any] = {}
        self.pending: list[Agent[Any]] = []
        self.judges: list[Agent[Any]] = []
        """Judge agents (copies made by AgentGuardrail): written only when no agent has their name."""

    def model(self, agent: Agent[Any]) -> str | None:
        model = agent.model
        if model is None or isinstance(model, str):
            return model
        spec = getattr(model, SPEC_ATTR, None)
        if spec is not None:
            name, model_spec = spec
            self.models[name] = model_spec.model_dump(mode="json", exclude_defaults=True)
            for backup in model_spec.fallback:
                if isinstance(model, FallbackModel):
                    for inner in model.models:
                        inner_spec = getattr(inner, SPEC_ATTR, None)
                        if inner_spec is not None and inner_spec[0] == backup:
                            self.models[backup] = inner_spec[1].model_dump(mode="json", exclude_defaults=True)
            return str(name)
        if isinstance(model, Model) and model.provider not in ("", "unknown") and model.model_name:
            return f"{model.provider}:{model.model_name}"
        raise UserError(f"agent {agent.name!r}: its model {model!r} cannot be written as provider:model")

    def sandbox(self, agent: Agent[Any]) -> str | None:
        if agent.sandbox is None:
            return None
        spec = getattr(agent.sandbox, SPEC_ATTR, None)
        if spec is not None:
            name, sandbox_spec = spec
            self.sandboxes[name] = sandbox_spec.model_dump(mode="json", exclude_defaults=True)
            self.sandboxes[name]["backend"] = sandbox_spec.backend
            if "env" in self.sandboxes[name]:
                self.sandboxes[name]["env"] = _env_refs(self.sandboxes[name]["env"])
            return str(name)
        config = getattr(agent.sandbox, "config", None)
        backend = getattr(agent.sandbox, "backend", None)
        if config is None or not dataclasses.is_dataclass(config) or not isinstance(backend, str):
            raise UserError(f"agent {agent.name!r}: its sandbox cannot be described in YAML")
        defaults: Any = type(config)()  # type: ignore[misc,operator]
        values = {
            f.name: getattr(config, f.name)
            for f in dataclasses.fields(config)
            if getattr(config, f.name) != getattr(defaults, f.name)
        }
        limit_keys = (
            "cpu",
            "memory_mb",
            "pids",
            "disk_mb",
            "tmp_mb",
            "timeout_s",
            "max_lifetime_s",
            "max_output_bytes",
        )
        out: dict[str, Any] = {"backend": backend}
        limits = {k: values.pop(k) for k in limit_keys if k in values}
        for key in ("image", "workdir", "network", "lifetime", "read_only_root"):
            if key in values:
                out[key] = values.pop(key)
        for key in ("env", "labels"):
            if key in values:
                out[key] = dict(values.pop(key))
        if "env" in out:
            out["env"] = _env_refs(out["env"])
        if limits:
            out["limits"] = limits
        name = f"{agent.name}_sandbox"
        self.sandboxes[name] = out
        return name

    def mcp_server(self, agent: Agent[Any], server: Any) -> str:
        """An ``MCPServer`` as a ``mcp_servers`` entry; credentials become ``${VAR}`` references."""
        from ..mcp.config import MCPServer
        from .schema import MCPServerSpec

        if (
            server.sampling is not None
            or server.elicitation is not None
            or server.auth is not None
            or callable(server.needs_approval)
            or (server.oauth is not None and (server.oauth.open_url or server.oauth.storage))
        ):
            raise UserError(
                f"agent {agent.name!r}: MCP server {server.name!r} has a callback or an auth object (sampling, "
                "elicitation, auth or needs_approval), which YAML cannot describe"
            )
        defaults = MCPServerSpec.model_construct()
        out: dict[str, Any] = {}
        for f in dataclasses.fields(MCPServer):
            if f.name in ("name", "sampling", "elicitation", "auth", "oauth"):
                continue
            value = getattr(server, f.name)
            value = list(value) if isinstance(value, tuple) else value
            value = dict(value) if isinstance(value, dict) else value
            if value != getattr(defaults, f.name, None) and value not in ((), [], {}, None):
                out[f.name] = value
        if server.oauth is not None:  # true, or the settings that differ from the defaults
            from ..mcp.oauth import OAuth

            base = OAuth()
            changed = {
                k: list(v) if isinstance(v, tuple) else v
                for k in ("scopes", "client_name", "redirect_uri", "callback_timeout")
                if (v := getattr(server.oauth, k)) != getattr(base, k)
            }
            out["oauth"] = changed or True
        if "env" in out:
            out["env"] = _env_refs(out["env"])
        token = f"{server.name.upper().replace('-', '_')}_TOKEN"
        if "bearer_token" in out:
            out["bearer_token"] = _EnvRef(f"${{{token}}}")
        if "headers" in out:
            out["headers"] = {
                k: (_EnvRef(f"${{{token}}}") if _SECRET_NAME.search(k) else v) for k, v in out["headers"].items()
            }
        known = self.mcp_servers.get(server.name)
        if known is not None and known != out:
            raise UserError(f"two different MCP servers are named {server.name!r}")
        self.mcp_servers[server.name] = out
        return str(server.name)

    def tool(self, agent: Agent[Any], tool: Tool) -> Any:
        from ..control.handoffs import AgentTool

        if isinstance(tool, AgentTool):
            self.pending.append(tool.agent)
            sub: dict[str, Any] = {"agent": tool.agent.name}
            if tool.name != tool.agent.name:
                sub["name"] = tool.name
            if tool.description != AgentTool(tool.agent).description:
                sub["description"] = tool.description
            if tool.max_turns is not None:
                sub["max_turns"] = tool.max_turns
            if tool.needs_approval is True:
                sub["needs_approval"] = True
            return sub
        if _tools.get(tool.name) is tool:
            return tool.name
        if tool.fn is None:
            raise UserError(f"agent {agent.name!r}: tool {tool.name!r} has no function YAML could name")
        ref = _ref_of(tool.fn, f"agent {agent.name!r}, tool {tool.name!r}")
        entry: dict[str, Any] = {"ref": ref}
        if tool.name != tool.fn.__name__:
            entry["name"] = tool.name
        if tool.description != (parse_docstring(tool.fn.__doc__)[0] or tool.fn.__name__):
            entry["description"] = tool.description
        if tool.needs_approval is True:
            entry["needs_approval"] = True
        elif tool.needs_approval is not False:
            raise UserError(f"agent {agent.name!r}: tool {tool.name!r} has an approval predicate")
        return entry["ref"] if len(entry) == 1 else entry

    def guardrail(self, agent: Agent[Any], g: Any) -> dict[str, Any]:
        from ..control import guardrails as gr

        if isinstance(g, gr.ShellPolicy):
            out: dict[str, Any] = {
                "type": "shell_policy",
                "deny": list(g.deny),
                "action": g.action,
                "tools": sorted(g.tools or ()),
            }
            if g.allow is not None:
                out["allow"] = list(g.allow)
            if g.strict:
                out["strict"] = True
        elif isinstance(g, gr.Budget):
            out = {"type": "budget"}
            for key in ("max_tokens", "max_cost", "max_seconds", "max_sandbox_seconds"):
                if getattr(g, key) is not None:
                    out[key] = getattr(g, key)
        elif isinstance(g, gr.SecretRedactor):
            out = {"type": "secret_redactor", "pii": "email" in g.patterns}
            extra = {
                k: p.pattern
                for k, p in g.patterns.items()
                if k not in gr._DEFAULT_SECRET_PATTERNS and k not in gr._PII_PATTERNS
            }
            if extra:
                out["patterns"] = extra
        elif isinstance(g, gr.AgentGuardrail):
            judge = g.judge.clone(output_type=None)
            self.judges.append(judge)
            stage = g.stages[0] if len(g.stages) == 1 else list(g.stages)
            out = {"type": "judge", "agent": judge.name, "stage": stage, "on_fail": g.on_fail}
        elif isinstance(g, gr.FunctionGuardrail):
            stage = g.stages[0] if len(g.stages) == 1 else list(g.stages)
            out = {
                "type": "function",
                "ref": _ref_of(g.fn, f"agent {agent.name!r}, guardrail {g.name!r}"),
                "stage": stage,
            }
            if g.tools is not None:
                out["tools"] = sorted(g.tools)
        else:
            raise UserError(f"agent {agent.name!r}: guardrail {g!r} cannot be described in YAML")
        if g.name != out["type"] and g.name != getattr(getattr(g, "fn", None), "__name__", None):
            out["name"] = g.name
        if out["type"] in ("function", "judge") and not g.blocking:
            out["blocking"] = False
        return out

    def verifier(self, agent: Agent[Any], v: Any) -> dict[str, Any]:
        from ..control.verifiers import CommandVerifier, FunctionVerifier

        if isinstance(v, CommandVerifier):
            out: dict[str, Any] = {"type": "command", "command": v.command, "timeout_s": v.timeout}
        elif isinstance(v, FunctionVerifier):
            out = {"type": "function", "ref": _ref_of(v.fn, f"agent {agent.name!r}, verifier {v.name!r}")}
        else:
            raise UserError(f"agent {agent.name!r}: verifier {v!r} cannot be described in YAML")
        return out

    def handoff(self, agent: Agent[Any], h: Any) -> Any:
        from ..control.handoffs import as_handoff

        handoff = as_handoff(h)
        self.pending.append(handoff.agent)
        entry: dict[str, Any] = {"agent": handoff.agent.name}
        if callable(handoff.history):
            entry["filter"] = _ref_of(handoff.history, f"agent {agent.name!r}, handoff filter")
        elif handoff.history != "full":
            entry["history"] = handoff.history
        if handoff.description:
            entry["description"] = handoff.description
        if handoff.tool_name:
            entry["tool_name"] = handoff.tool_name
        if handoff.summarizer is not None:
            raise UserError(f"agent {agent.name!r}: a handoff summarizer cannot be described in YAML")
        return entry["agent"] if len(entry) == 1 else entry

    def agent(self, agent: Agent[Any]) -> dict[str, Any]:
        if not isinstance(agent.instructions, str | None):
            raise UserError(f"agent {agent.name!r}: dynamic instructions cannot be written to YAML")
        out: dict[str, Any] = {}
        if agent.description:
            out["description"] = agent.description
        if agent.instructions is not None:
            out["instructions"] = agent.instructions
        model = self.model(agent)
        if model is not None:
            out["model"] = model
        settings = agent.model_settings.model_dump(mode="json", exclude_none=True)
        if isinstance(agent.model, Model) and getattr(agent.model, SPEC_ATTR, None) is not None:
            named = getattr(agent.model, SPEC_ATTR)[1].settings or ModelSettings()
            base = named.model_dump(mode="json", exclude_none=True)
            settings = {k: v for k, v in settings.items() if base.get(k) != v}
        if settings:
            out["settings"] = settings
        tools = [
            *agent.metadata.get("sandbox_tools", []),
            *(self.tool(agent, t) for t in agent.function_tools),
        ]
        if tools:
            out["tools"] = tools
        sandbox = self.sandbox(agent)
        if sandbox is not None:
            out["sandbox"] = sandbox
        if agent.mcp_servers:
            out["mcp_servers"] = [self.mcp_server(agent, s) for s in agent.mcp_servers]
        schema = schema_of(agent.output_type)
        if schema is not None:
            out["output_schema"] = schema
        elif agent.output_type not in (None, str):
            raise UserError(f"agent {agent.name!r}: output type {agent.output_type!r} has no JSON Schema")
        if agent.handoffs:
            out["handoffs"] = [self.handoff(agent, h) for h in agent.handoffs]
        if agent.guardrails:
            out["guardrails"] = [self.guardrail(agent, g) for g in agent.guardrails]
        if agent.verify:
            out["verify"] = [self.verifier(agent, v) for v in agent.verify]
        if agent.retry is not None:
            defaults = RetryPolicy()
            out["retry"] = {
                f.name: getattr(agent.retry, f.name)
                for f in dataclasses.fields(agent.retry)
                if getattr(agent.retry, f.name) != getattr(defaults, f.name)
            }
        if agent.context is not None:
            out["context"] = context_entry(agent.context)
        if agent.native_tools != "auto":
            out["native_tools"] = agent.native_tools
        hosted = [entry_of(t, lambda name: _EnvRef(f"${{{name}}}")) for t in agent.hosted_tools]
        if any(h is not None for h in hosted):
            out["hosted_tools"] = [h for h in hosted if h is not None]
        if agent.max_turns:
            out["max_turns"] = agent.max_turns
        for key, default in (("max_corrections", 3), ("max_parallel_tools", 8)):
            if getattr(agent, key) != default:
                out[key] = getattr(agent, key)
        return out

    def dump(self, entry: Agent[Any]) -> dict[str, Any]:
        self.pending = [entry]
        seen: dict[str, Agent[Any]] = {}
        while self.pending or self.judges:
            from_judges = not self.pending
            agent = self.pending.pop(0) if self.pending else self.judges.pop(0)
            if agent.name in seen:
                if from_judges:  # a judge copy of an agent already written
                    continue
                if seen[agent.name] is not agent and self.agents[agent.name] != self.agent(agent):
                    raise UserError(f"two different agents are named {agent.name!r}")
                continue
            seen[agent.name] = agent
            self.agents[agent.name] = self.agent(agent)
        doc: dict[str, Any] = {"version": 1, "entry": entry.name}
        if self.models:
            doc["models"] = self.models
        if self.sandboxes:
            doc["sandboxes"] = self.sandboxes
        if self.mcp_servers:
            doc["mcp_servers"] = self.mcp_servers
        doc["agents"] = self.agents
        return doc


class _BlockDumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def dump_agent(agent: Agent[Any]) -> str:
    doc = _escape(_Dumper().dump(agent))
    text = yaml.dump(doc, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=110)
    return (
        "# Editors: `agentcore schema > agentcore.schema.json` and add\n"
        "# yaml-language-server: $schema=./agentcore.schema.json\n" + text
    )


def context_entry(policy: Any) -> dict[str, Any]:
    """A :class:`~agentcore.contextwin.ContextPolicy` as its ``context:`` entry (fields off their default)."""
    from ..contextwin import ContextPolicy

    out: dict[str, Any] = {}
    for f in dataclasses.fields(ContextPolicy):
        value = getattr(policy, f.name)
        if value == f.default:
            continue
        if f.name == "keep_tool_outputs" and value is None:
            value = "all"
        elif f.name == "summarizer" and not isinstance(value, str):
            value = f"{value.provider}:{value.model_name}"
        out[f.name] = value
    return out
