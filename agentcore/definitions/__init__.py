"""Agents from YAML: ``load(path) -> Definition``, ``Definition.build() -> Agent``, ``to_yaml(agent)``.

A definition file (format ``version: 1``) names models, sandboxes and agents; see ``docs/yaml.md``.
Loading runs three passes and reports every problem it finds at once, each with ``file:line:column``:

1. YAML: syntax, duplicate keys, ``${ENV}`` interpolation (:mod:`agentcore.config_yaml`);
2. structure: the pydantic models of :mod:`agentcore.config_schema` (unknown fields are errors);
3. references, checked on the raw data so they are reported even when pass 2 failed: the entry
   agent, model/sandbox/agent names, fallback chains, tools and code references (resolved only
   through the registry or an allowlist, :mod:`agentcore.config_refs`), output schemas, prompt files.

Problems raise :class:`~agentcore.errors.ConfigError` whose ``errors`` are ``(file, line, col, msg)``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from .loader import Pos, Problem, parse
from .refs import Resolver, register_object, register_tool
from .schema import ConfigFile, json_schema

if TYPE_CHECKING:
    from ..agent import Agent

__all__ = [
    "ConfigError",
    "Definition",
    "agent_from_yaml",
    "json_schema",
    "load",
    "loads",
    "register_object",
    "register_tool",
    "to_yaml",
]


@dataclass
class Definition:
    """A validated definition file. :meth:`build` turns it into agents."""

    spec: ConfigFile
    filename: str
    base_dir: Path
    positions: Pos
    objects: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    """Resolved code references (tools, guardrail functions, …) by their path in the file."""
    output_types: dict[str, type[BaseModel]] = field(default_factory=dict)
    instructions: dict[str, str] = field(default_factory=dict)
    agents: dict[str, Agent[Any]] = field(default_factory=dict)
    """Filled by :meth:`build`."""

    @property
    def entry(self) -> str:
        return self.spec.entry or next(iter(self.spec.agents))

    def max_turns(self, agent: str | None = None) -> int | None:
        spec = self.spec.agents[agent or self.entry]
        return spec.max_turns or self.spec.defaults.max_turns

    def build(self, *, model: str | None = None, base_url: str | None = None) -> Agent[Any]:
        """Build every agent and return the entry agent (all of them are in :attr:`agents`).

        ``model`` replaces every agent's model (``provider:model``); ``base_url`` points every model
        at another endpoint. Both are what ``agentcore run --model/--base-url`` pass.
        """
        from .build import build_agents

        self.agents = build_agents(self, model_override=model, base_url=base_url)
        return self.agents[self.entry]

    def problem(self, path: tuple[Any, ...], message: str, *, at_key: bool = False) -> Problem:
        node, _ = self.positions.find(path)
        line, col = node.at_key() if at_key else (node.line, node.col)
        return (self.filename, line, col, message)


def load(
    path: str | os.PathLike[str], *, allow: Iterable[str] = (), env: Mapping[str, str] | None = None
) -> Definition:
    """Read and validate a definition file. ``allow`` lists module prefixes code references may use."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([(str(p), 1, 1, f"cannot read the file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise ConfigError([(str(p), 1, 1, "the file is not UTF-8 text")]) from None
    return loads(text, filename=str(p), base_dir=p.parent, allow=allow, env=env)


def loads(
    text: str,
    *,
    filename: str = "<string>",
    base_dir: str | os.PathLike[str] | None = None,
    allow: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
) -> Definition:
    """Validate definition text (see :func:`load`)."""
    from .check import check_references, pydantic_problems

    data, pos, problems = parse(text, filename, os.environ if env is None else env)
    if data is None:
        raise ConfigError(problems)
    if not isinstance(data, dict):
        raise ConfigError([(filename, pos.line, pos.col, "expected a mapping with 'version: 1' at the top")])
    spec: ConfigFile | None = None
    try:
        spec = ConfigFile.model_validate(data)
    except ValidationError as exc:
        problems += pydantic_problems(exc, pos, filename)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    imports = (
        [m for m in data.get("imports", []) if isinstance(m, str)]
        if isinstance(data.get("imports"), list)
        else []
    )
    resolver = Resolver(base, allow=allow, imports=imports)
    checked = check_references(data, pos, filename, resolver, base)
    problems += checked.problems
    if problems or spec is None:
        raise ConfigError(_sorted(problems))
    return Definition(
        spec=spec,
        filename=filename,
        base_dir=base,
        positions=pos,
        objects=checked.objects,
        output_types=checked.output_types,
        instructions=checked.instructions,
    )


def _sorted(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p[0], p[1], p[2]))


def agent_from_yaml(
    path: str | os.PathLike[str],
    *,
    agent: str | None = None,
    allow: Iterable[str] = (),
    model: str | None = None,
) -> Agent[Any]:
    """``Agent.from_yaml(path)``: the entry agent (or the one named ``agent``) of a definition file."""
    definition = load(path, allow=allow)
    entry = definition.build(model=model)
    return definition.agents[agent] if agent is not None else entry


def to_yaml(agent: Agent[Any]) -> str:
    """A definition file describing ``agent`` (and every agent it hands off to).

    Works for agents built only from declarative parts: string instructions, ``provider:model``
    strings or models built from a definition, registered or module-level function tools, the
    built-in guardrails and verifiers, handoffs, retry policies and pydantic output types. Anything
    else (a lambda tool, dynamic instructions) raises :class:`~agentcore.errors.UserError`.
    """
    from .dump import dump_agent

    return dump_agent(agent)
