"""Reading YAML with positions: the first step of loading an agent definition.

:func:`parse` turns YAML text into plain Python data plus a :class:`Pos` tree that remembers where
every key and value came from, so later errors can name ``file:line:column``. On the way it:

* rejects duplicate keys (PyYAML silently keeps the last one);
* applies environment interpolation to every string value (never to keys):
  ``${VAR}`` (an error when ``VAR`` is unset), ``${VAR:-default}`` (default when unset or empty),
  ``${VAR:?message}`` (an error with ``message`` when unset or empty), and ``$${`` for a literal ``${``.
  Nothing else is special: ``{braces}``, ``{{ templates }}`` and a lone ``$`` in prompts are left alone.
* re-reads an unquoted value that was entirely built from interpolation as a number, boolean or null,
  so ``max_turns: ${MAX_TURNS:-12}`` is the integer 12 (never a mapping or a list: values from the
  environment cannot add structure to the file).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Problem = tuple[str, int, int, str]
"""``(file, line, column, message)``; line and column start at 1."""

_ENV = re.compile(r"\$(\$?)\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCALAR_TAGS = {
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml when PyYAML was built with it (its marks count characters, like the pure-Python parser)."""
MAX_VALUES = 200_000
"""More values than this (aliases expand) is refused: a definition file is small; a YAML alias bomb is not."""
MAX_DEPTH = 64


class _TooBig(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


@dataclass
class Pos:
    """Where a value sits in the file, and where its children sit."""

    line: int
    col: int
    key_line: int | None = None
    key_col: int | None = None
    children: dict[Any, Pos] = field(default_factory=dict)

    def child(self, key: Any) -> Pos | None:
        return self.children.get(key)

    def at_key(self) -> tuple[int, int]:
        """The position of the key naming this value (the value itself for list items)."""
        if self.key_line is not None and self.key_col is not None:
            return self.key_line, self.key_col
        return self.line, self.col

    def find(self, path: tuple[Any, ...]) -> tuple[Pos, tuple[Any, ...]]:
        """Descend ``path`` as far as the file goes; return the deepest node and the unmatched rest.

        Elements that are not keys of the current node (pydantic adds union branch names such as
        ``'str'`` or ``'docker'`` to error locations) are skipped.
        """
        node = self
        rest: list[Any] = []
        for part in path:
            nxt = node.children.get(part)
            if nxt is None:
                rest.append(part)
                continue
            node = nxt
            rest = []
        return node, tuple(rest)


class _Reader:
    def __init__(self, text: str, filename: str, env: Mapping[str, str]) -> None:
        self.text = text
        self.filename = filename
        self.env = env
        self.problems: list[Problem] = []
        self.visited = 0
        self._constructor = SafeConstructor()
        self._resolver = yaml.resolver.Resolver()

    def problem(self, line: int, col: int, message: str) -> None:
        self.problems.append((self.filename, line, col, message))

    def read(self, node: Node, pos: Pos, depth: int = 0) -> Any:
        self.visited += 1
        if self.visited > MAX_VALUES or depth > MAX_DEPTH:
            raise _TooBig(node)
        if isinstance(node, MappingNode):
            self._constructor.flatten_mapping(node)  # YAML merge keys (<<)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._constructor.construct_object(key_node, deep=True)
                k_line, k_col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                if not isinstance(key, str | int | float | bool) or key is None:
                    self.problem(k_line, k_col, "mapping keys must be plain strings")
                    continue
                if key in out:
                    first = pos.children[key].at_key()
                    self.problem(k_line, k_col, f"duplicate key {key!r} (first defined at line {first[0]})")
                    continue
                child = Pos(value_node.start_mark.line + 1, value_node.start_mark.column + 1, k_line, k_col)
                pos.children[key] = child
                out[key] = self.read(value_node, child, depth + 1)
            return out
        if isinstance(node, SequenceNode):
            items: list[Any] = []
            for index, item_node in enumerate(node.value):
                child = Pos(item_node.start_mark.line + 1, item_node.start_mark.column + 1)
                pos.children[index] = child
                items.append(self.read(item_node, child, depth + 1))
            return items
        assert isinstance(node, ScalarNode)
        if node.tag != "tag:yaml.org,2002:str":
            return self._constructor.construct_object(node, deep=True)
        return self._scalar(node)

    def _scalar(self, node: ScalarNode) -> Any:
        value: str = node.value
        if "${" not in value:
            return value
        source = self.text[node.start_mark.index : node.end_mark.index]
        search_from = 0
        pieces: list[str] = []
        last = 0
        substituted = False
        for match in _ENV.finditer(value):
            pieces.append(value[last : match.start()])
            last = match.end()
            if match.group(1):  # "$${" is a literal "${"
                pieces.append(match.group(0)[1:])
                continue
            at = source.find(match.group(0), search_from)
            if at >= 0:
                search_from = at + len(match.group(0))
                line, col = _line_col(self.text, node.start_mark.index + at)
            else:  # escapes in a double-quoted scalar moved it; point at the scalar
                line, col = node.start_mark.line + 1, node.start_mark.column + 1
            replacement = self._expand(match.group(2), line, col)
            pieces.append(replacement if replacement is not None else "")
            substituted = True
        pieces.append(value[last:])
        result = "".join(pieces)
        if substituted and not node.style and _ENV.fullmatch(value):  # plain (unquoted) style
            return self._plain(result)
        return result

    def _plain(self, text: str) -> Any:
        tag = self._resolver.resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
        if tag in _SCALAR_TAGS:
            return self._constructor.construct_object(ScalarNode(tag, text), deep=True)
        return text

    def _expand(self, expr: str, line: int, col: int) -> str | None:
        name_match = _NAME.match(expr)
        if name_match is None:
            self.problem(
                line,
                col,
                f"invalid environment reference ${{{expr}}}; expected ${{NAME}}, "
                "${NAME:-default} or ${NAME:?message} (write $${ for a literal ${)",
            )
            return None
        name = name_match.group(0)
        op = expr[name_match.end() :]
        value = self.env.get(name)
        if op == "":
            if value is None:
                self.problem(
                    line,
                    col,
                    f"environment variable {name} is not set (use ${{{name}:-default}} to make it optional)",
                )
            return value
        if op.startswith(":-"):
            return value if value else op[2:]
        if op.startswith(":?"):
            if not value:
                message = op[2:] or "is required"
                self.problem(line, col, f"environment variable {name}: {message}")
            return value
        self.problem(
            line,
            col,
            f"invalid environment reference ${{{expr}}}; after the name expected "
            "'}', ':-default}' or ':?message}'",
        )
        return None


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    start = text.rfind("\n", 0, index) + 1
    return line, index - start + 1


def syntax_message(exc: yaml.MarkedYAMLError, text: str) -> str:
    """A YAML syntax error in our words (what was expected, where the open construct started), then
    PyYAML's own in parentheses."""
    context, problem = exc.context or "", exc.problem or ""
    start = exc.context_mark
    opened = f" (it opens at line {start.line + 1}, column {start.column + 1})" if start is not None else ""
    mark = exc.problem_mark
    char = text[mark.index] if mark is not None and 0 <= mark.index < len(text) else ""
    if char == "\t" or "\t" in problem or "tab" in problem:
        ours = "a tab character: YAML is indented with spaces only"
    elif "quoted scalar" in context:
        ours = f"a quoted string is not closed{opened}: add the closing quote"
    elif "flow sequence" in context:
        ours = f"a [list] is not closed{opened}: expected ',' between items or ']' at its end"
    elif "flow mapping" in context:
        ours = f"a {{mapping}} is not closed{opened}: expected ',' between entries or '}}' at its end"
    elif "mapping values are not allowed" in problem:
        ours = "a ': ' inside a plain value: put the value in quotes (\"…\") when it contains ': '"
    elif "block mapping" in context and "expected key" in problem:
        ours = (
            "this line is not indented like the keys before it: the keys of one mapping start in the same "
            f"column{opened}"
        )
    elif "could not find expected ':'" in problem:
        ours = "a key without ':': write 'key: value'"
    elif "block end" in problem:
        ours = "the indentation goes back to a level that was not open (or a '- ' item where a key belongs)"
    elif "undefined alias" in problem:
        ours = "an alias (*name) that no anchor (&name) defines"
    elif "cannot start any token" in problem:
        ours = f"the character {char!r} cannot start a value here: put the value in quotes"
    else:
        ours = "the file is not valid YAML"
    theirs = " ".join(p for p in (context, problem) if p)
    return f"YAML syntax error: {ours} (PyYAML: {theirs})"


def parse(text: str, filename: str, env: Mapping[str, str]) -> tuple[Any, Pos, list[Problem]]:
    """Parse one YAML document; return ``(data, positions, problems)``.

    A syntax error yields ``(None, Pos(1, 1), [problem])``.
    """
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "quoted scalar" in (exc.context or "") and exc.context_mark is not None:
            mark = exc.context_mark  # a string never closed: point at its opening quote
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return None, Pos(1, 1), [(filename, line, col, syntax_message(exc, text))]
    except yaml.YAMLError as exc:
        return None, Pos(1, 1), [(filename, 1, 1, f"YAML error: {exc}")]
    if node is None:
        return None, Pos(1, 1), [(filename, 1, 1, "the file is empty; expected a mapping with 'version: 1'")]
    reader = _Reader(text, filename, env)
    root = Pos(node.start_mark.line + 1, node.start_mark.column + 1)
    try:
        data = reader.read(node, root)
    except _TooBig as exc:
        mark = exc.node.start_mark
        return (
            None,
            root,
            [
                (
                    filename,
                    mark.line + 1,
                    mark.column + 1,
                    f"the document nests deeper than {MAX_DEPTH} levels or expands (through aliases) to "
                    f"more than {MAX_VALUES:,} values",
                )
            ],
        )
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return None, root, [(filename, line, col, f"YAML error: {exc.problem}")]
    return data, root, reader.problems
