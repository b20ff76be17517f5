"""Build a pydantic model from a JSON Schema written in YAML (an agent's ``output_schema``).

The supported subset is what structured output needs: ``type`` (object, array, string, integer,
number, boolean, null, or a list of them), ``properties``, ``required``, ``items``, ``enum``,
``const``, ``anyOf``/``oneOf``, ``$ref`` into ``$defs``/``definitions``, ``default``,
``description``, ``title``, ``additionalProperties`` (``false`` forbids extra keys) and the usual
bounds (``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``, ``minLength``,
``maxLength``, ``pattern``, ``minItems``, ``maxItems``). Anything else is an error that names the
keyword's path, never a silently ignored constraint. The source schema is kept on the model
(:data:`SOURCE_ATTR`) so an agent written back to YAML shows exactly what the user wrote.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

SOURCE_ATTR = "__agentcore_json_schema__"

_ANNOTATION_KEYS = {"title", "description", "default", "examples", "$comment", "format", "deprecated"}
_CONSTRAINTS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "minItems": "min_length",
    "maxItems": "max_length",
}
_STRUCTURE = {
    "type",
    "properties",
    "required",
    "items",
    "enum",
    "const",
    "anyOf",
    "oneOf",
    "$ref",
    "$defs",
    "definitions",
    "additionalProperties",
    "$schema",
    "$id",
}
_SCALARS: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "null": type(None),
}


class SchemaError(Exception):
    """The JSON Schema uses something we cannot turn into a model. ``path`` locates it."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class _Builder:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.defs: dict[str, Any] = {}
        self.counter = 0

    def model_name(self, schema: dict[str, Any], fallback: str) -> str:
        title = schema.get("title")
        base = re.sub(r"\W", "_", title) if isinstance(title, str) and title else fallback
        if not base or not (base[0].isalpha() or base[0] == "_"):
            base = f"M_{base}"
        return base

    def type_of(self, schema: Any, path: tuple[str | int, ...], hint: str) -> Any:
        if schema is True or schema == {}:
            return Any
        if not isinstance(schema, dict):
            raise SchemaError(path, "a schema must be a mapping")
        unknown = set(schema) - _ANNOTATION_KEYS - _STRUCTURE - set(_CONSTRAINTS)
        if unknown:
            raise SchemaError(
                (*path, sorted(unknown)[0]), f"unsupported JSON Schema keyword {sorted(unknown)[0]!r}"
            )
        if "$ref" in schema:
            return self.ref(schema["$ref"], (*path, "$ref"))
        if "const" in schema:
            return Literal[schema["const"]]
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list) or not values:
                raise SchemaError((*path, "enum"), "enum must be a non-empty list")
            return Literal[tuple(values)]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = schema[key]
                if not isinstance(options, list) or not options:
                    raise SchemaError((*path, key), f"{key} must be a non-empty list")
                members = [self.type_of(o, (*path, key, i), f"{hint}_{i}") for i, o in enumerate(options)]
                return Union[tuple(members)]  # noqa: UP007
        kind = schema.get("type")
        if kind is None:
            if "properties" in schema:
                kind = "object"
            else:
                return Any
        if isinstance(kind, list):
            members = [self.type_of({**schema, "type": k}, path, hint) for k in kind]
            return Union[tuple(members)]  # noqa: UP007
        if kind == "object":
            return self.object(schema, path, hint)
        if kind == "array":
            item = self.type_of(schema.get("items", {}), (*path, "items"), f"{hint}_item")
            return list[item]  # type: ignore[valid-type]
        if kind in _SCALARS:
            return _SCALARS[kind]
        raise SchemaError(
            (*path, "type"), f"unknown type {kind!r}; expected one of {sorted(_SCALARS)}, object or array"
        )

    def ref(self, ref: Any, path: tuple[str | int, ...]) -> Any:
        if not isinstance(ref, str) or not re.fullmatch(r"#/(\$defs|definitions)/[^/]+", ref):
            raise SchemaError(path, f"only local references '#/$defs/<name>' are supported (got {ref!r})")
        _, section, name = ref.split("/")
        if ref in self.defs:
            return self.defs[ref]
        target = self.root.get(section, {}).get(name)
        if target is None:
            raise SchemaError(path, f"reference {ref!r} points at nothing")
        self.defs[ref] = Any  # a recursive reference stays loose rather than looping
        built = self.type_of(target, (section, name), name)
        self.defs[ref] = built
        return built

    def object(self, schema: dict[str, Any], path: tuple[str | int, ...], hint: str) -> Any:
        props = schema.get("properties", {})
        if not isinstance(props, dict):
            raise SchemaError((*path, "properties"), "properties must be a mapping")
        required = schema.get("required", [])
        if not isinstance(required, list):
            raise SchemaError((*path, "required"), "required must be a list of property names")
        for name in required:
            if name not in props:
                raise SchemaError((*path, "required"), f"required property {name!r} is not in properties")
        extra = schema.get("additionalProperties", True)
        if not props:
            return dict[str, Any]
        fields: dict[str, Any] = {}
        for name, sub in props.items():
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
                raise SchemaError(
                    (*path, "properties", name), f"property name {name!r} must be an identifier"
                )
            annotation = self.type_of(sub, (*path, "properties", name), f"{hint}_{name}")
            kwargs: dict[str, Any] = {}
            if isinstance(sub, dict):
                if isinstance(sub.get("description"), str):
                    kwargs["description"] = sub["description"]
                for key, arg in _CONSTRAINTS.items():
                    if key in sub:
                        kwargs[arg] = sub[key]
            if name in required:
                default: Any = ...
            elif isinstance(sub, dict) and "default" in sub:
                default = sub["default"]
            else:
                annotation = annotation | None if annotation is not Any else Any
                default = None
            fields[name] = (annotation, Field(default, **kwargs))
        config = ConfigDict(extra="forbid" if extra is False else "ignore")
        model: type[BaseModel] = create_model(  # type: ignore[call-overload]
            self.model_name(schema, hint), __config__=config, **fields
        )
        if isinstance(schema.get("description"), str):
            model.__doc__ = schema["description"]
        return model


def model_from_schema(schema: dict[str, Any], *, default_name: str = "Output") -> type[BaseModel]:
    """A pydantic model for an object JSON Schema; raises :class:`SchemaError`."""
    if schema.get("type", "object") != "object" or not isinstance(schema.get("properties"), dict):
        raise SchemaError(("type",), "output_schema must be an object schema with properties")
    builder = _Builder(schema)
    model = builder.object(schema, (), builder.model_name(schema, default_name))
    if not (isinstance(model, type) and issubclass(model, BaseModel)):  # pragma: no cover - guarded above
        raise SchemaError((), "output_schema must describe an object with properties")
    setattr(model, SOURCE_ATTR, schema)
    return model


def schema_of(output_type: Any) -> dict[str, Any] | None:
    """The JSON Schema to write back to YAML for ``output_type`` (the source one when we built it)."""
    if output_type is None or output_type is str:
        return None
    source = getattr(output_type, SOURCE_ATTR, None)
    if isinstance(source, dict):
        return source
    if isinstance(output_type, type) and issubclass(output_type, BaseModel):
        return output_type.model_json_schema()
    return None
