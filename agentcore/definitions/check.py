"""Passes 2 and 3 of loading a definition: readable structural errors, and the reference check.

The reference check works on the raw data (not the validated models) so it runs, and reports, even
when the structure has errors elsewhere: a misspelled handoff target is reported together with an
unknown field three agents further down.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel, ValidationError

from .hosted import check_agent_hosted
from .jsonschema import SchemaError, model_from_schema
from .loader import Pos, Problem
from .refs import SANDBOX_TOOLS, RefError, Resolver, is_refused, lookup_tool_name, refused
from .schema import NAME_PATTERN, REF_PATTERN, ConfigFile

_SECRET_KEY = re.compile(r"(key|token|secret|password|passwd|credential)", re.IGNORECASE)
_NAME_HINT = "names may contain only letters, digits, '_' and '-'"


def _did_you_mean(word: str, options: typing.Iterable[str]) -> str:
    match = get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _strip(t: Any) -> Any:
    while True:
        origin = typing.get_origin(t)
        if origin is typing.Annotated:
            t = typing.get_args(t)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(t) if a is not type(None)]
            if len(args) == 1:
                t = args[0]
            else:
                return t
        else:
            return t


def _fields_at(loc: tuple[Any, ...]) -> list[str] | None:
    """Field names of the model at ``loc`` (None when ``loc`` does not lead to a model)."""
    t: Any = ConfigFile
    for part in loc:
        t = _strip(t)
        origin = typing.get_origin(t)
        if origin is list:
            t = typing.get_args(t)[0]
        elif origin is dict:
            t = typing.get_args(t)[1]
        elif origin in (typing.Union, types.UnionType):
            for member in typing.get_args(t):
                member = _strip(member)
                if isinstance(member, type) and issubclass(member, BaseModel):
                    tags = [typing.get_args(_strip(f.annotation)) for f in member.model_fields.values()]
                    if any(part in tag for tag in tags if tag):
                        t = member
                        break
        elif isinstance(t, type) and issubclass(t, BaseModel) and part in t.model_fields:
            t = t.model_fields[part].annotation
    t = _strip(t)
    if isinstance(t, type) and issubclass(t, BaseModel):
        return list(t.model_fields)
    return None


def _shown(value: Any) -> str:
    if isinstance(value, dict | list):
        return ""
    text = repr(value)
    return f" (got {text[:60]}{'…' if len(text) > 60 else ''})"


def _path_text(loc: tuple[Any, ...], pos: Pos) -> str:
    parts: list[str] = []
    node = pos
    for part in loc:
        child = node.children.get(part)
        if child is None:
            continue
        node = child
        parts.append(f"[{part}]" if isinstance(part, int) else str(part))
    return ".".join(parts).replace(".[", "[")


def pydantic_problems(exc: ValidationError, pos: Pos, filename: str) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        node, rest = pos.find(loc)
        where = _path_text(loc, pos)
        line, col = node.line, node.col
        ctx = err.get("ctx") or {}
        if kind == "extra_forbidden":
            name = str(loc[-1])
            line, col = node.at_key()
            allowed = _fields_at(loc[:-1]) or []
            msg = f"{where}: unknown field {name!r}{_did_you_mean(name, allowed)}"
            if allowed:
                msg += f"; expected one of: {', '.join(allowed)}"
        elif kind == "missing":
            line, col = node.at_key()
            msg = f"{where or '(top level)'}: missing required field {str(loc[-1])!r}"
        elif kind == "union_tag_invalid":
            disc = str(ctx.get("discriminator", "")).strip("'")
            tag_node = node.child(disc)
            if tag_node is not None:
                line, col = tag_node.line, tag_node.col
            msg = (
                f"{where}.{disc}: unknown {disc} {ctx.get('tag')!r}"
                f"{_did_you_mean(str(ctx.get('tag')), str(ctx.get('expected_tags', '')).replace(chr(39), '').split(', '))}"
                f"; expected one of: {ctx.get('expected_tags')}"
            )
        elif kind == "union_tag_not_found":
            disc = str(ctx.get("discriminator", "")).strip("'")
            line, col = node.at_key()
            msg = f"{where}: missing {disc!r}, which says what kind of entry this is"
        elif kind == "string_pattern_mismatch":
            value = err.get("input")
            field_name = str(loc[-1]) if loc else ""
            if field_name in ("ref", "filter") or (isinstance(value, str) and ":" in value):
                hint = "expected a registered tool name or package.module:function"
                if field_name != "ref":
                    hint = "expected package.module:function"
                if isinstance(value, str) and ":" not in value and "." in value:
                    module, attr = value.rsplit(".", 1)
                    if is_refused(module):  # subprocess.run: the colon would not help
                        msg = f"{where}: {value!r}: {refused(module)}"
                        out.append((filename, line, col, msg))
                        continue
                    hint += f" (write {module}:{attr}, with a colon)"
                msg = f"{where}: {hint}{_shown(value)}"
            elif isinstance(loc[-1], str) and loc[-1] == "[key]":
                line, col = node.at_key()
                msg = f"{where}: invalid name; {_NAME_HINT}{_shown(value)}"
            else:
                msg = f"{where}: invalid value; {_NAME_HINT}{_shown(value)}"
        elif kind == "literal_error":
            msg = f"{where}: expected {ctx.get('expected')}{_shown(err.get('input'))}"
        else:
            msg = f"{where or '(top level)'}: {err['msg']}{_shown(err.get('input'))}"
        if rest and kind not in ("extra_forbidden", "missing") and "[key]" in rest:
            line, col = node.at_key()
        out.append((filename, line, col, msg))
    return out


@dataclass
class Checked:
    problems: list[Problem] = field(default_factory=list)
    objects: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    output_types: dict[str, type[BaseModel]] = field(default_factory=dict)
    instructions: dict[str, str] = field(default_factory=dict)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class _Checker:
    def __init__(self, data: dict[str, Any], pos: Pos, filename: str, resolver: Resolver, base: Path) -> None:
        self.data = data
        self.pos = pos
        self.filename = filename
        self.resolver = resolver
        self.base = base
        self.out = Checked()
        self.agents = {k for k in _mapping(data.get("agents")) if isinstance(k, str)}
        self.models = {k for k in _mapping(data.get("models")) if isinstance(k, str)}
        self.sandboxes = {k for k in _mapping(data.get("sandboxes")) if isinstance(k, str)}
        self.mcp_servers = {k for k in _mapping(data.get("mcp_servers")) if isinstance(k, str)}
        self._providers: list[str] | None = None

    def report(self, path: tuple[Any, ...], message: str, *, at_key: bool = False) -> None:
        node, _ = self.pos.find(path)
        line, col = node.at_key() if at_key else (node.line, node.col)
        self.out.problems.append((self.filename, line, col, message))

    def run(self) -> Checked:
        data = self.data
        entry = data.get("entry")
        if isinstance(entry, str) and self.agents and entry not in self.agents:
            self.report(
                ("entry",),
                f"entry: unknown agent {entry!r}{_did_you_mean(entry, self.agents)}; "
                f"defined: {', '.join(sorted(self.agents))}",
            )
        elif entry is None and len(self.agents) > 1:
            self.report(
                ("agents",),
                "entry: several agents are defined; say which one starts with 'entry: <name>'",
                at_key=True,
            )
        default_model = _mapping(data.get("defaults")).get("model")
        if isinstance(default_model, str):
            self.model_ref(("defaults", "model"), default_model)
        for name, spec in _mapping(data.get("models")).items():
            self.check_model(name, spec)
        for name, spec in _mapping(data.get("sandboxes")).items():
            self.check_transfers(name, _mapping(spec))
            if isinstance(spec, dict) and spec.get("backend") == "local" and spec.get("image") is not None:
                self.report(
                    ("sandboxes", name, "image"),
                    f"sandboxes.{name}.image: the local backend runs the "
                    "host's /usr read-only and takes no image; remove it or use backend: docker",
                    at_key=True,
                )
        for name, spec in _mapping(data.get("agents")).items():
            if isinstance(spec, dict):
                self.check_agent(name, spec, has_default_model=isinstance(default_model, str))
        return self.out

    # ------------------------------------------------------------------ models

    def provider(self, path: tuple[Any, ...], provider: str) -> None:
        from .. import registry

        if provider in registry._BUILTIN_PROVIDERS or provider in registry._providers:
            return  # known without scanning the installed packages' entry points
        if self._providers is None:
            from ..registry import provider_names

            self._providers = provider_names()  # scans entry points: once per file
        known = self._providers
        if provider not in known:
            self.report(
                path,
                f"{'.'.join(map(str, path))}: unknown provider {provider!r}"
                f"{_did_you_mean(provider, known)}; known: {', '.join(known)}",
            )

    def model_ref(self, path: tuple[Any, ...], ref: str) -> None:
        where = ".".join(map(str, path))
        if ref in self.models:
            return
        if ":" in ref:
            self.provider(path, ref.split(":", 1)[0])
            return
        self.report(
            path,
            f"{where}: unknown model {ref!r}{_did_you_mean(ref, self.models)}; use a name from "
            f"'models' ({', '.join(sorted(self.models)) or 'none defined'}) or provider:model",
        )

    def check_model(self, name: str, spec: Any) -> None:
        path: tuple[Any, ...] = ("models", name)
        if isinstance(spec, str):
            if ":" not in spec:
                self.report(path, f"models.{name}: expected provider:model (like openai:gpt-5) or a mapping")
            else:
                self.provider(path, spec.split(":", 1)[0])
            return
        spec = _mapping(spec)
        for key in _mapping(spec.get("options")):
            if isinstance(key, str) and _SECRET_KEY.search(key):
                self.report(
                    (*path, "options", key),
                    f"models.{name}.options.{key}: do not put credentials in the "
                    "file; name the environment variable that holds them with api_key_env",
                    at_key=True,
                )
        if isinstance(spec.get("provider"), str):
            self.provider((*path, "provider"), spec["provider"])
        for i, target in enumerate(_items(spec.get("fallback"))):
            if not isinstance(target, str):
                continue
            if target == name:
                self.report(
                    (*path, "fallback", i), f"models.{name}.fallback: a model cannot fall back to itself"
                )
            elif target not in self.models:
                self.report(
                    (*path, "fallback", i),
                    f"models.{name}.fallback: unknown model {target!r}{_did_you_mean(target, self.models)}",
                )
        seen = [name]
        current: Any = spec
        while isinstance(current, dict) and _items(current.get("fallback")):
            nxt = _items(current["fallback"])[0]
            if not isinstance(nxt, str) or nxt not in self.models:
                break
            if nxt in seen:
                if nxt == name and len(seen) > 1:
                    self.report(
                        (*path, "fallback"), f"models.{name}.fallback: cycle {' -> '.join([*seen, nxt])}"
                    )
                break
            seen.append(nxt)
            current = _mapping(self.data["models"]).get(nxt)

    # ------------------------------------------------------------------ agents

    def check_agent(self, name: str, spec: dict[str, Any], *, has_default_model: bool) -> None:
        path: tuple[Any, ...] = ("agents", name)
        where = f"agents.{name}"
        model = spec.get("model")
        if isinstance(model, str):
            self.model_ref((*path, "model"), model)
        elif model is None and not has_default_model:
            self.report(path, f"{where}: no model; set {where}.model or defaults.model", at_key=True)
        sandbox = spec.get("sandbox")
        has_sandbox = isinstance(sandbox, str)
        if has_sandbox and sandbox not in self.sandboxes:
            self.report(
                (*path, "sandbox"),
                f"{where}.sandbox: unknown sandbox {sandbox!r}"
                f"{_did_you_mean(str(sandbox), self.sandboxes)}; defined: "
                f"{', '.join(sorted(self.sandboxes)) or 'none'}",
            )
        for i, server in enumerate(_items(spec.get("mcp_servers"))):
            if isinstance(server, str) and server not in self.mcp_servers:
                self.report(
                    (*path, "mcp_servers", i),
                    f"{where}.mcp_servers: unknown MCP server {server!r}"
                    f"{_did_you_mean(server, self.mcp_servers)}; defined: "
                    f"{', '.join(sorted(self.mcp_servers)) or 'none'}",
                )
        self.check_instructions(path, spec)
        self.check_tools(path, spec, has_sandbox)
        check_agent_hosted(self.data, name, spec, self.report)  # what the model's vendor cannot serve
        for i, h in enumerate(_items(spec.get("handoffs"))):
            target = h if isinstance(h, str) else _mapping(h).get("agent")
            hpath = (*path, "handoffs", i) if isinstance(h, str) else (*path, "handoffs", i, "agent")
            if isinstance(target, str):
                if target == name:
                    self.report(hpath, f"{where}.handoffs[{i}]: an agent cannot hand off to itself")
                elif target not in self.agents:
                    self.report(
                        hpath,
                        f"{where}.handoffs[{i}]: handoff to unknown agent {target!r}"
                        f"{_did_you_mean(target, self.agents)}; defined: {', '.join(sorted(self.agents))}",
                    )
            flt = _mapping(h).get("filter")
            if isinstance(flt, str):
                self.code((*path, "handoffs", i, "filter"), flt, kind="function")
        for i, g in enumerate(_items(spec.get("guardrails"))):
            g = _mapping(g)
            if g.get("type") == "function" and isinstance(g.get("ref"), str):
                self.code((*path, "guardrails", i, "ref"), g["ref"], kind="guardrail")
            if g.get("type") == "judge" and isinstance(g.get("agent"), str) and g["agent"] not in self.agents:
                self.report(
                    (*path, "guardrails", i, "agent"),
                    f"{where}.guardrails[{i}].agent: unknown agent "
                    f"{g['agent']!r}{_did_you_mean(g['agent'], self.agents)}",
                )
        for i, v in enumerate(_items(spec.get("verify"))):
            v = _mapping(v)
            if v.get("type") == "function" and isinstance(v.get("ref"), str):
                self.code((*path, "verify", i, "ref"), v["ref"], kind="verifier")
            if v.get("type") == "command" and not has_sandbox:
                self.report(
                    (*path, "verify", i),
                    f"{where}.verify[{i}]: a command verifier runs in the agent's "
                    f"sandbox; set {where}.sandbox",
                )
        schema = spec.get("output_schema")
        if isinstance(schema, dict):
            try:
                self.out.output_types[name] = model_from_schema(schema, default_name=f"{name}_output")
            except SchemaError as exc:
                self.report(
                    (*path, "output_schema", *exc.path),
                    f"{where}.output_schema: {exc.message}",
                    at_key=bool(exc.path),
                )

    def inside(self, relative: str) -> Path | None:
        """``relative`` resolved against the file's directory, or ``None`` when it leaves it."""
        target = (self.base / relative).resolve()
        return target if target.is_relative_to(self.base.resolve()) else None

    def check_transfers(self, name: str, spec: dict[str, Any]) -> None:
        """A file may copy in only what sits next to it, and copy out only below the working directory."""
        for host in _mapping(spec.get("upload")):
            if not isinstance(host, str):
                continue
            path = ("sandboxes", name, "upload", host)
            target = self.inside(host)
            if target is None:
                self.report(
                    path, f"sandboxes.{name}.upload: {host!r} is outside this file's directory", at_key=True
                )
            elif not target.exists():
                self.report(path, f"sandboxes.{name}.upload: {host!r} does not exist", at_key=True)
        for remote, host in _mapping(spec.get("download")).items():
            if isinstance(host, str) and (PurePath(host).is_absolute() or ".." in PurePath(host).parts):
                self.report(
                    ("sandboxes", name, "download", remote),
                    f"sandboxes.{name}.download: {host!r} must "
                    "be a relative path without '..' (files land below the working directory)",
                )

    def check_instructions(self, path: tuple[Any, ...], spec: dict[str, Any]) -> None:
        name = path[-1]
        file = spec.get("instructions_file")
        if file is None:
            return
        if spec.get("instructions") is not None:
            self.report(
                (*path, "instructions_file"),
                f"agents.{name}: set instructions or instructions_file, not both",
                at_key=True,
            )
            return
        if not isinstance(file, str):
            return
        target = self.inside(file)
        if target is None:
            self.report(
                (*path, "instructions_file"),
                f"agents.{name}.instructions_file: {file!r} is outside this file's directory",
            )
            return
        try:
            self.out.instructions[name] = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.report(
                (*path, "instructions_file"),
                f"agents.{name}.instructions_file: cannot read {file!r} "
                f"({getattr(exc, 'strerror', None) or exc})",
            )

    def check_tools(self, path: tuple[Any, ...], spec: dict[str, Any], has_sandbox: bool) -> None:
        where = f"agents.{path[-1]}"
        names: dict[str, int] = {}
        for i, entry in enumerate(_items(spec.get("tools"))):
            target = _mapping(entry).get("agent")
            if isinstance(target, str):
                tpath = (*path, "tools", i, "agent")
                if target == path[-1]:
                    self.report(tpath, f"{where}.tools[{i}]: an agent cannot call itself as a tool")
                elif target not in self.agents:
                    self.report(
                        tpath,
                        f"{where}.tools[{i}]: unknown agent {target!r}"
                        f"{_did_you_mean(target, self.agents)}; defined: {', '.join(sorted(self.agents))}",
                    )
                shown = _mapping(entry).get("name") or target
                if shown in names:
                    self.report(
                        tpath, f"{where}.tools[{i}]: a second tool named {shown!r}; rename one with 'name:'"
                    )
                names.setdefault(str(shown), i)
                continue
            ref = entry if isinstance(entry, str) else _mapping(entry).get("ref")
            tpath = (*path, "tools", i) if isinstance(entry, str) else (*path, "tools", i, "ref")
            if not isinstance(ref, str):
                continue
            if ":" not in ref:
                if not re.fullmatch(NAME_PATTERN, ref):
                    continue  # the structural pass reports the shape
                if ref in SANDBOX_TOOLS:
                    if not has_sandbox:
                        self.report(
                            tpath, f"{where}.tools[{i}]: {ref!r} is a sandbox tool; set {where}.sandbox"
                        )
                    continue
                try:
                    tool = lookup_tool_name(ref)
                except RefError as exc:
                    self.report(tpath, f"{where}.tools[{i}]: {exc}")
                    continue
            else:
                tool = self.code(tpath, ref, kind="tool")
            if tool is None:
                continue
            self.out.objects[(*path, "tools", i)] = tool
            shown = _mapping(entry).get("name") or tool.name
            if shown in names:
                self.report(
                    tpath,
                    f"{where}.tools[{i}]: a second tool named {shown!r} (first: tools[{names[shown]}]);"
                    " rename one with 'name:'",
                )
            names.setdefault(str(shown), i)

    def code(self, path: tuple[Any, ...], ref: str, *, kind: str) -> Any:
        if not re.fullmatch(REF_PATTERN, ref):
            return None  # the structural pass reports the shape
        try:
            if kind == "tool":
                obj = self.resolver.tool(ref)
            elif kind == "guardrail":
                from ..control.guardrails import Guardrail

                obj = self.resolver.function(ref, accept=(Guardrail,))
            elif kind == "verifier":
                from ..control.verifiers import Verifier

                obj = self.resolver.function(ref, accept=(Verifier,))
            else:
                obj = self.resolver.function(ref)
        except RefError as exc:
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
            self.report(path, f"{where}: {exc}")
            return None
        self.out.objects[path] = obj
        return obj


def check_references(
    data: dict[str, Any], pos: Pos, filename: str, resolver: Resolver, base: Path
) -> Checked:
    return _Checker(data, pos, filename, resolver, base).run()
