"""How a YAML file names Python code, safely.

A definition file can name code in two ways, and both are resolved only through something the user
set up in Python or on the command line, never through the file alone:

* **a registered name** (``shell``, ``lookup_order``): tools registered with :func:`register_tool`
  (or a package's ``agentcore.tools`` entry points), plus the sandbox tools every sandboxed agent has;
* **a reference** ``package.module:attribute`` to the user's own code, allowed when the object was
  registered under that reference, when the module is in the caller's allowlist
  (``load(path, allow=["myapp"])``, ``agentcore run --allow myapp`` or ``$AGENTCORE_ALLOW_MODULES``),
  or when the file lists it under ``imports:`` *and* it lives in the file's own directory.

The standard library, ``builtins``, ``yaml``/``ruamel`` and agentcore itself are refused even when
allowed: a reference never becomes ``os:system`` or ``subprocess:run`` (the remote-code-execution
class of bugs that YAML agent formats have shipped). References resolve to objects, never to calls
with arguments taken from the file.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from ..tools import Tool, function_to_tool

SANDBOX_TOOLS = ("shell", "read_file", "write_file", "edit_file", "list_files")
"""Tools every agent with a sandbox gets; naming them in ``tools:`` requires ``sandbox:``."""

_DENIED_ROOTS = frozenset(
    {"builtins", "yaml", "ruamel", "_yaml", "agentcore", "importlib", "pip", "setuptools"}
)
_tools: dict[str, Tool] = {}
_objects: dict[str, Any] = {}
F = TypeVar("F", bound=Callable[..., Any])


class RefError(Exception):
    """A name or reference could not be resolved; the message says why and what to do."""


def register_tool(value: F | Tool, *, name: str | None = None) -> F | Tool:
    """Make a tool available to YAML files by name (and by its ``module:function`` reference).

    Works as a decorator (``@register_tool``) and returns its argument unchanged.
    """
    tool = value if isinstance(value, Tool) else function_to_tool(value, name=name)
    if name is not None and tool.name != name:
        tool = dataclasses.replace(tool, name=name)
    _tools[tool.name] = tool
    target = tool.fn if tool.fn is not None else value
    module, qualname = getattr(target, "__module__", None), getattr(target, "__qualname__", None)
    if module and qualname:
        _objects[f"{module}:{qualname}"] = tool
    return value


def register_object(ref: str, value: Any) -> None:
    """Make ``ref`` (``module:attr``) resolve to ``value`` without an allowlist (guardrails, verifiers…)."""
    _objects[ref] = value


def registered_tool_names() -> list[str]:
    names = set(_tools) | set(SANDBOX_TOOLS)
    names |= {ep.name for ep in entry_points(group="agentcore.tools")}
    return sorted(names)


def lookup_tool_name(name: str) -> Tool | None:
    """A registered tool (``None`` for the sandbox tools, which come with the sandbox)."""
    if name in _tools:
        return _tools[name]
    if name in SANDBOX_TOOLS:
        return None
    for ep in entry_points(group="agentcore.tools"):
        if ep.name == name:
            loaded = ep.load()
            tool = loaded if isinstance(loaded, Tool) else function_to_tool(loaded, name=name)
            _tools[name] = tool
            return tool
    from difflib import get_close_matches

    hint = get_close_matches(name, registered_tool_names(), n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    raise RefError(
        f"unknown tool {name!r}{suggestion} Known tools: {', '.join(registered_tool_names())}. "
        "Your own functions are written as package.module:function"
    )


def env_allowlist() -> list[str]:
    raw = os.environ.get("AGENTCORE_ALLOW_MODULES", "")
    return [m.strip() for m in raw.replace(",", " ").split() if m.strip()]


_RUNS_COMMANDS = frozenset({"subprocess", "os", "shutil", "pty", "socket", "sys", "signal", "multiprocessing"})


def is_refused(module: str) -> bool:
    """Modules no definition file may reference, whatever it is allowed: the standard library, agentcore,
    YAML parsers, import machinery, installers, private names."""
    root = module.split(".")[0]
    return root in sys.stdlib_module_names or root in _DENIED_ROOTS or root.startswith("_")


def refused(module: str) -> str:
    """Why a definition file may not reference ``module``, and what to write instead."""
    root = module.split(".")[0]
    head = f"module {module!r} cannot be referenced from YAML"
    if root == "agentcore":
        return (
            f"{head}: it is agentcore itself, whose tools and guardrails are named, not referenced "
            "(tools: [shell, read_file, …] with a sandbox; guardrails: [{type: shell_policy, …}])"
        )
    if root in _DENIED_ROOTS or root.startswith("_"):
        return f"{head}: it could load or run any code, and loading a definition file must never do that"
    why = (
        f"{head}: it is part of Python's standard library, and loading a definition file must never give "
        "it commands, files or the network on its own. Write a function in your own module (tools.py "
        "next to this file, listed under 'imports:') and reference that"
    )
    if root in _RUNS_COMMANDS:
        why += "; to let the model run commands, give the agent a sandbox and tools: [shell]"
    return why


class Resolver:
    """Resolves ``module:attr`` references for one definition file."""

    def __init__(self, base_dir: Path, *, allow: Iterable[str] = (), imports: Sequence[str] = ()) -> None:
        self.base_dir = base_dir.resolve()
        self.allow = [*allow, *env_allowlist()]
        self.imports = list(imports)

    @staticmethod
    def _covered(module: str, prefixes: Iterable[str]) -> bool:
        return any(module == p or module.startswith(p + ".") for p in prefixes)

    def check_module(self, module: str) -> None:
        """Raise :class:`RefError` unless ``module`` may be imported for this file."""
        root = module.split(".")[0]
        if is_refused(module):
            raise RefError(refused(module))
        if self._covered(module, self.allow):
            return
        if self._covered(module, self.imports):
            self._check_local(module)
            return
        raise RefError(
            f"module {module!r} is not allowed: list it under 'imports:' (for modules in this file's "
            f"directory), pass --allow {root} / load(..., allow=[{root!r}]), or register the object "
            "with agentcore.config.register_tool"
        )

    def _check_local(self, module: str) -> None:
        root = module.split(".")[0]
        with self._on_path():
            spec = importlib.util.find_spec(root)
        if spec is None:
            raise RefError(f"module {root!r} was not found in {self.base_dir}")
        locations = list(spec.submodule_search_locations or []) or ([spec.origin] if spec.origin else [])
        for location in locations:
            if not Path(location).resolve().is_relative_to(self.base_dir):
                raise RefError(
                    f"module {root!r} resolves to {location}, outside {self.base_dir}; "
                    "'imports:' only covers modules next to the definition file (use --allow)"
                )

    def _on_path(self) -> _PathInsert:
        return _PathInsert(str(self.base_dir))

    def resolve(self, ref: str) -> Any:
        """The object ``ref`` names."""
        if ref in _objects:
            return _objects[ref]
        module, _, attr = ref.partition(":")
        self.check_module(module)
        if any(part.startswith("_") for part in attr.split(".")):
            raise RefError(f"{ref!r}: private names (starting with '_') cannot be referenced")
        try:
            with self._on_path():
                obj: Any = importlib.import_module(module)
        except ImportError as exc:
            raise RefError(f"cannot import {module!r}: {exc}") from None
        for part in attr.split("."):
            if not hasattr(obj, part):
                from difflib import get_close_matches

                public = [n for n in dir(obj) if not n.startswith("_")]
                close = get_close_matches(part, public, n=1)
                hint = f"; did you mean {module}:{close[0]}?" if close else ""
                raise RefError(f"module {module!r} has no attribute {attr!r}{hint}")
            obj = getattr(obj, part)
        return obj

    def tool(self, ref: str) -> Tool:
        obj = self.resolve(ref)
        if isinstance(obj, Tool):
            return obj
        if inspect.isfunction(obj) or inspect.iscoroutinefunction(obj):
            try:
                return function_to_tool(obj)
            except Exception as exc:
                raise RefError(f"{ref!r} cannot be a tool: {exc}") from None
        raise RefError(f"{ref!r} is a {type(obj).__name__}, not a function or agentcore Tool")

    def function(self, ref: str, *, accept: tuple[type, ...] = ()) -> Any:
        """A plain function, or an instance of one of ``accept`` (a ready Guardrail or Verifier)."""
        obj = self.resolve(ref)
        if accept and isinstance(obj, accept):
            return obj
        if inspect.isfunction(obj) or inspect.iscoroutinefunction(obj):
            return obj
        kinds = " or ".join(["a function", *(f"a {t.__name__}" for t in accept)])
        raise RefError(f"{ref!r} is a {type(obj).__name__}; expected {kinds}")


class _PathInsert:
    """Temporarily put the definition file's directory first on ``sys.path``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.added = False

    def __enter__(self) -> None:
        if self.path not in sys.path:
            sys.path.insert(0, self.path)
            self.added = True

    def __exit__(self, *_: object) -> None:
        if self.added:
            try:
                sys.path.remove(self.path)
            except ValueError:
                pass
