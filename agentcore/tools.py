"""Function tools: a typed Python function becomes a tool the model can call.

The JSON schema comes from the signature (through pydantic), the description from the docstring.
Arguments are validated before the function runs; when they are invalid the model gets the error
back as a tool result it can correct, never an exception in the user's program.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from . import tracing
from .context import RunContext
from .errors import UserError
from .messages import Part
from .model import ToolSpec

F = TypeVar("F", bound=Callable[..., Any])
ApprovalPredicate = Callable[[RunContext[Any], dict[str, Any]], bool | Awaitable[bool]]


class ToolArgumentsError(Exception):
    """The model's arguments do not fit the tool. The message goes back to the model."""


@dataclass(eq=False)
class Tool:
    """A tool the model can call. Build one with :func:`tool`, or subclass and override :meth:`invoke`."""

    name: str
    description: str
    parameters: dict[str, Any]
    fn: Callable[..., Any] | None = None
    needs_approval: bool | ApprovalPredicate = False
    strict: bool = False
    args_model: type[BaseModel] | None = None
    context_param: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    _spec: ToolSpec | None = field(default=None, init=False, repr=False)
    is_async: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self.is_async = self.fn is not None and inspect.iscoroutinefunction(self.fn)

    @property
    def spec(self) -> ToolSpec:
        if self._spec is None:
            self._spec = ToolSpec(self.name, self.description, self.parameters, self.strict)
        return self._spec

    def parse_arguments(self, raw: str) -> dict[str, Any]:
        """Parse and validate the model's raw argument string; raises :class:`ToolArgumentsError`."""
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise ToolArgumentsError(f"arguments are not valid JSON ({exc}); send a JSON object") from None
        if not isinstance(data, dict):
            raise ToolArgumentsError(f"arguments must be a JSON object, got {type(data).__name__}")
        if self.args_model is None:
            return data
        try:
            validated = self.args_model.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()
            )
            raise ToolArgumentsError(f"invalid arguments for {self.name}: {problems}") from None
        return {name: getattr(validated, name) for name in type(validated).model_fields}

    async def invoke(self, ctx: RunContext[Any], arguments: dict[str, Any]) -> Any:
        """Run the tool with validated arguments. Sync functions run in a worker thread."""
        if self.fn is None:
            raise NotImplementedError(f"tool {self.name!r} has no function")
        kwargs = dict(arguments)
        if self.context_param is not None:
            kwargs[self.context_param] = ctx
        if self.is_async:
            return await self.fn(**kwargs)
        result = await asyncio.to_thread(self.fn, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result

    async def requires_approval(self, ctx: RunContext[Any], arguments: dict[str, Any]) -> bool:
        if isinstance(self.needs_approval, bool):
            return self.needs_approval
        verdict = self.needs_approval(ctx, arguments)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        return bool(verdict)


class ToolOutput(str):
    """A tool's text output (it *is* that ``str``: guardrails and traces see the text) with extra
    content ``parts`` for the model, such as a screenshot; they land in ``ToolResult.parts``."""

    parts: tuple[Part, ...]

    def __new__(cls, text: str = "", parts: Sequence[Part] = ()) -> ToolOutput:
        self = super().__new__(cls, text)
        self.parts = tuple(parts)
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # durable steps pickle tool outputs
        return (ToolOutput, (str(self), self.parts))


def format_tool_output(value: Any) -> str:
    """How a tool's return value is shown to the model."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if value is None:
        return ""
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


# --------------------------------------------------------------------------- building tools from functions

_SECTION = re.compile(r"^(\w[\w ]*):\s*$")
_ARG_LINE = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_PARAM = re.compile(r"^:param\s+(?:[\w\[\], ]+\s+)?(\w+)\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """The summary and per-argument descriptions of a Google- or Sphinx-style docstring."""
    if not doc:
        return "", {}
    summary: list[str] = []
    params: dict[str, str] = {}
    section: str | None = None
    arg_indent: int | None = None
    current: str | None = None
    for line in inspect.cleandoc(doc).splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        sphinx = _SPHINX_PARAM.match(stripped)
        if sphinx:
            section, current = "sphinx", sphinx.group(1)
            params[current] = sphinx.group(2).strip()
            continue
        header = _SECTION.match(line)
        if header and indent == 0:
            section, arg_indent, current = header.group(1).lower(), None, None
            continue
        if section is None:
            summary.append(line)
        elif section in ("args", "arguments", "parameters") and stripped:
            arg = _ARG_LINE.match(stripped)
            if arg and (arg_indent is None or indent <= arg_indent):
                arg_indent, current = indent, arg.group(1)
                params[current] = arg.group(2).strip()
            elif current is not None:
                params[current] = f"{params[current]} {stripped}".strip()
        elif section == "sphinx" and stripped and current is not None and not stripped.startswith(":"):
            params[current] = f"{params[current]} {stripped}".strip()
    return "\n".join(summary).strip(), params


def _is_context_annotation(annotation: Any) -> bool:
    return annotation is RunContext or typing.get_origin(annotation) is RunContext


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    return schema


def function_to_tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    needs_approval: bool | ApprovalPredicate = False,
    strict: bool = False,
) -> Tool:
    """Build a :class:`Tool` from a typed function (sync or async)."""
    sig = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # unresolved forward references
        raise UserError(f"cannot read type hints of tool {fn.__name__!r}: {exc}") from exc
    summary, arg_docs = parse_docstring(fn.__doc__)
    fields: dict[str, Any] = {}
    context_param: str | None = None
    for pname, param in sig.parameters.items():
        annotation = hints.get(pname, Any)
        if _is_context_annotation(annotation):
            if context_param is not None:
                raise UserError(f"tool {fn.__name__!r} has two RunContext parameters")
            context_param = pname
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise UserError(f"tool {fn.__name__!r}: *args/**kwargs cannot be described to a model")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[pname] = (annotation, Field(default, description=arg_docs.get(pname)))
    tool_name = name or fn.__name__
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", tool_name):
        raise UserError(f"tool name {tool_name!r} must be 1-64 letters, digits, '_' or '-'")
    args_model = create_model(  # type: ignore[call-overload]
        f"{tool_name}_arguments",
        __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
        **fields,
    )
    schema = _clean_schema(args_model.model_json_schema())
    schema.setdefault("properties", {})
    return Tool(
        name=tool_name,
        description=description or summary or tool_name,
        parameters=schema,
        fn=fn,
        needs_approval=needs_approval,
        strict=strict,
        args_model=args_model,
        context_param=context_param,
    )


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    needs_approval: bool | ApprovalPredicate = False,
    strict: bool = False,
    secrets: Sequence[str] = (),
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    needs_approval: bool | ApprovalPredicate = False,
    strict: bool = False,
    secrets: Sequence[str] = (),
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Turn a typed function into a :class:`Tool`. Use as ``@tool`` or ``@tool(needs_approval=True)``.

    ``secrets``: credentials the tool uses (an API token it sends…); they are registered with
    :func:`agentcore.tracing.add_secret`, so they never appear in a trace or (with ``SecretRedactor``)
    in what the model sees."""
    for value in secrets:
        tracing.add_secret(value)

    def wrap(f: Callable[..., Any]) -> Tool:
        return function_to_tool(
            f, name=name, description=description, needs_approval=needs_approval, strict=strict
        )

    return wrap(fn) if fn is not None else wrap


function_tool = tool


def as_tool(value: Tool | Callable[..., Any]) -> Tool:
    """Accept a :class:`Tool` or a plain function."""
    if isinstance(value, Tool):
        return value
    if callable(value):
        return function_to_tool(value)
    raise UserError(f"{value!r} is not a tool or a function")
