"""``Agent``: a declarative, immutable description of one agent."""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import TypeAdapter, ValidationError

from .context import RunContext
from .contextwin import ContextPolicy
from .control.handoffs import AgentTool, as_handoff
from .control.verifiers import as_verifier
from .errors import UserError
from .hosted import check_agent
from .model import Model, ModelSettings, OutputSchema
from .tools import Tool
from .tools import as_tool as _to_tool

if TYPE_CHECKING:
    from .control.guardrails import Guardrail
    from .control.handoffs import Handoff
    from .control.verifiers import Verifier
    from .mcp.config import MCPServer
    from .run.retry import RetryPolicy

OutputT = TypeVar("OutputT")
Instructions = str | Callable[[RunContext[Any]], str | Awaitable[str]]


def close_objects(schema: Any) -> bool:
    """Set ``additionalProperties: false`` on every object schema (in place) and report whether the
    schema qualifies for vendors' strict structured-output mode (every property required)."""
    strict = True
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            schema.setdefault("additionalProperties", False)
            props = schema.get("properties", {})
            if set(props) != set(schema.get("required", [])) or schema["additionalProperties"] is not False:
                strict = False
        for value in schema.values():
            strict = close_objects(value) and strict
    elif isinstance(schema, list):
        for value in schema:
            strict = close_objects(value) and strict
    return strict


class OutputValidationError(Exception):
    """The model's final text does not match the agent's ``output_type``; the message is feedback."""


@dataclass(frozen=True, eq=False, kw_only=True)
class Agent(Generic[OutputT]):
    """An agent: instructions, a model, tools, and what counts as its final output.

    ``model`` is a :class:`~agentcore.model.Model` or a ``provider:model`` string resolved when the run
    starts. ``output_type`` (a pydantic model, dataclass, TypedDict or any type pydantic validates)
    makes the final output a validated object: its schema is sent to the model and invalid output is
    fed back for correction, at most ``max_corrections`` times in a row.
    """

    name: str
    instructions: Instructions | None = None
    model: str | Model | None = None
    tools: Sequence[Tool | Callable[..., Any]] = ()
    output_type: type[OutputT] | Any = None
    model_settings: ModelSettings = field(default_factory=ModelSettings)
    description: str = ""
    handoffs: Sequence[Agent[Any] | Handoff] = ()
    """Agents this one may pass control to (``transfer_to_<name>`` tools)."""
    guardrails: Sequence[Guardrail] = ()
    verify: Sequence[Verifier | str | Callable[..., Any]] = ()
    """Checks run after the agent claims it is done: commands (run in the sandbox) or functions."""
    sandbox: Any = None
    """A sandbox (``agentcore.sandboxes``); its shell and file tools are added to ``tools``."""
    native_tools: Literal["auto", "off"] = "auto"
    """With a sandbox: ``"auto"`` presents its shell and file tools in the form a model was trained on
    where its adapter knows one (OpenAI ``shell``/``apply_patch``, Anthropic ``bash``/text editor), run in
    the same sandbox; ``"off"`` keeps the function tools only."""
    hosted_tools: Sequence[Any] = ()
    """Tools the model's vendor runs (:mod:`agentcore.hosted`: ``web_search(...)``, ``file_search(...)``,
    ``code_execution(...)``)."""
    mcp_servers: Sequence[MCPServer] = ()
    """MCP servers (``agentcore.mcp.MCPServer``) whose tools are added to ``tools``: connected when the run
    needs them, closed when it ends (or kept, with ``lifetime="session"``)."""
    max_turns: int | None = None
    """Model calls a run may make before ``MaxTurnsExceeded`` (``None``: the runner's default, 30)."""
    max_corrections: int = 3
    max_parallel_tools: int = 8
    retry: RetryPolicy | None = None
    context: ContextPolicy | None = None
    """What the run does as the transcript nears the model's context window (:mod:`agentcore.contextwin`):
    clear old tool outputs, summarise old turns, the vendor's own compaction; ``None``: nothing."""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise UserError(f"agent name {self.name!r} must be letters, digits, '_' or '-'")
        object.__setattr__(self, "tools", tuple(_to_tool(t) for t in self.tools))
        object.__setattr__(self, "handoffs", tuple(as_handoff(h) for h in self.handoffs))
        object.__setattr__(self, "guardrails", tuple(self.guardrails))
        object.__setattr__(self, "verify", tuple(as_verifier(v) for v in self.verify))
        object.__setattr__(self, "mcp_servers", tuple(self.mcp_servers))
        object.__setattr__(self, "hosted_tools", tuple(self.hosted_tools))
        if getattr(self.sandbox, "hosted_vendor", None) and self.sandbox not in self.hosted_tools:
            # a vendor-hosted container as the sandbox: its shell is the vendor's tool, declared per request
            object.__setattr__(self, "hosted_tools", (*self.hosted_tools, self.sandbox))
        object.__setattr__(self, "context", ContextPolicy.of(self.context))
        if self.native_tools not in ("auto", "off"):
            raise UserError(
                f"agent {self.name!r}: native_tools must be 'auto' or 'off', not {self.native_tools!r}"
            )
        servers = [s.name for s in self.mcp_servers]
        if len(set(servers)) != len(servers):
            raise UserError(f"agent {self.name!r} has two MCP servers with the same name: {servers}")
        names = [t.name for t in self.function_tools]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise UserError(f"agent {self.name!r} has duplicate tool names: {sorted(dupes)}")
        check_agent(self)  # a hosted tool the model's vendor cannot serve fails here, never as a 400
        for h in self.handoff_list:
            check_agent(h.agent, via=self)

    @property
    def function_tools(self) -> tuple[Tool, ...]:
        return self.tools  # type: ignore[return-value]  # normalized in __post_init__

    @property
    def handoff_list(self) -> tuple[Handoff, ...]:
        return self.handoffs  # type: ignore[return-value]  # normalized in __post_init__

    @property
    def verifiers(self) -> tuple[Verifier, ...]:
        return self.verify  # type: ignore[return-value]  # normalized in __post_init__

    def as_tool(
        self, *, name: str | None = None, description: str | None = None, max_turns: int | None = None
    ) -> Tool:
        """This agent as a tool another agent calls; its final output comes back as the tool result."""
        return AgentTool(self, name=name, description=description, max_turns=max_turns)

    @staticmethod
    def from_yaml(path: str, *, agent: str | None = None) -> Agent[Any]:
        """Load the entry agent (or the agent named ``agent``) of a YAML definition."""
        from .definitions import agent_from_yaml

        return agent_from_yaml(path, agent=agent)

    def clone(self, **changes: Any) -> Agent[Any]:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    async def resolve_instructions(self, ctx: RunContext[Any]) -> str | None:
        if self.instructions is None or isinstance(self.instructions, str):
            return self.instructions
        value = self.instructions(ctx)
        if inspect.isawaitable(value):
            value = await value
        return value

    # ----------------------------------------------------------------- structured output

    @cached_property
    def _output_adapter(self) -> tuple[TypeAdapter[Any], bool] | None:
        if self.output_type is None or self.output_type is str:
            return None
        adapter: TypeAdapter[Any] = TypeAdapter(self.output_type)
        schema = adapter.json_schema()
        wrapped = schema.get("type") != "object"
        return adapter, wrapped

    @cached_property
    def output_schema(self) -> OutputSchema | None:
        """The JSON schema sent to the model, or ``None`` for plain-text agents."""
        info = self._output_adapter
        if info is None:
            return None
        adapter, wrapped = info
        schema = adapter.json_schema()
        if wrapped:
            schema = {
                "type": "object",
                "properties": {"response": schema},
                "required": ["response"],
                "additionalProperties": False,
            }
        name = getattr(self.output_type, "__name__", "final_output")
        strict = close_objects(schema)
        return OutputSchema(
            name=name if name.isidentifier() else "final_output", schema=schema, strict=strict
        )

    def parse_output(self, text: str) -> Any:
        """Validate the model's final text; raises :class:`OutputValidationError` with feedback."""
        info = self._output_adapter
        if info is None:
            return text
        adapter, wrapped = info
        raw = text.strip()
        if raw.startswith("```"):
            raw = raw.strip("`")
            raw = raw.split("\n", 1)[1] if "\n" in raw else raw
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise OutputValidationError(f"final output is not valid JSON ({exc})") from None
        if wrapped:
            if not isinstance(data, dict) or "response" not in data:
                raise OutputValidationError('final output must be a JSON object {"response": ...}')
            data = data["response"]
        try:
            return adapter.validate_python(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()
            )
            raise OutputValidationError(f"final output does not match the schema: {problems}") from None

    def __repr__(self) -> str:
        return f"Agent(name={self.name!r})"
