"""Bash words as bash evaluates them, read from a tree-sitter-bash parse tree.

The only module that touches tree-sitter (with :mod:`agentcore.control.shell_parse`, which walks the
tree): the parser, the value of a word node (quotes removed, escapes decoded, variables assigned on the
line substituted; ``None`` when the value is known only at run time), and the assignments of a line.
"""

from __future__ import annotations

import codecs
import itertools
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

MAX_VARIANTS = 16
"""Possible values of a word (or argv) beyond which it counts as computed at run time."""

# --------------------------------------------------------------------------- the parser

_local = threading.local()


def _parser() -> Parser:
    parser: Parser | None = getattr(_local, "parser", None)
    if parser is None:
        import tree_sitter_bash
        from tree_sitter import Language, Parser

        parser = Parser(Language(tree_sitter_bash.language()))
        _local.parser = parser
    return parser


def text_of(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


# --------------------------------------------------------------------------- words

GLOB = re.compile(r"(?<!\\)[*?\[]")
_DQ_ESCAPE = re.compile(r"\\([$`\"\\\n])")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unescape(word: str) -> str:
    return _ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), word)


def ansi_c(body: str) -> str:
    try:
        return codecs.decode(body.encode("latin-1", "backslashreplace"), "unicode_escape")
    except (UnicodeDecodeError, ValueError):
        return body


Env = dict[str, set[str] | None]
"""Variables assigned on the line: their possible values, or None when one is computed at run time."""

Candidates = list[tuple[str, bool]]
"""The possible values of a word, each with whether bash would split it into fields (unquoted $X)."""


def _product(parts: list[Candidates]) -> Candidates | None:
    out: Candidates = [("", False)]
    for options in parts:
        out = [(a + b, sa or sb) for (a, sa), (b, sb) in itertools.product(out, options)]
        if len(out) > MAX_VARIANTS:
            return None
    return out


def _lookup(name: str, env: Env, *, split: bool) -> Candidates | None:
    values = env.get(name)
    if not values:
        return None
    return [(v, split) for v in sorted(values)]


Substitute = Callable[["Node"], "str | None"]
"""What a command substitution prints, when it is known statically (``$(echo rm)``)."""


def word_values(node: Node, env: Env, subst: Substitute | None = None) -> Candidates | None:
    """The possible values of a word node, or None when it depends on run time."""
    kind = node.type
    if kind in ("word", "number"):
        return [(_unescape(text_of(node)), False)]
    if kind == "raw_string":
        return [(text_of(node)[1:-1], False)]
    if kind == "ansi_c_string":
        return [(ansi_c(text_of(node)[2:-1]), False)]
    if kind in ("string", "translated_string"):
        parts: list[Candidates] = []
        for child in node.named_children:
            if child.type == "string_content":
                parts.append([(_DQ_ESCAPE.sub(r"\1", text_of(child)), False)])
            else:
                value = word_values(child, env, subst)
                if value is None:
                    return None
                parts.append([(v, False) for v, _ in value])
        return _product(parts)
    if kind == "concatenation":
        pieces = [word_values(child, env, subst) for child in node.children]
        if any(p is None for p in pieces):
            return None
        return _product([p for p in pieces if p is not None])
    if kind == "simple_expansion":
        names = [c for c in node.named_children if c.type == "variable_name"]
        return _lookup(text_of(names[0]), env, split=True) if names else None
    if kind == "expansion":  # only the plain ${NAME}
        named = node.named_children
        if len(named) == 1 and named[0].type == "variable_name" and node.child_count == 3:
            return _lookup(text_of(named[0]), env, split=True)
        return None
    if kind == "command_substitution" and subst is not None:
        printed = subst(node)
        return None if printed is None else [(printed.rstrip("\n"), True)]
    return None  # $(…) of anything else, <(…), $((…)), globs/braces the grammar marks, anything new


def word_fields(node: Node, env: Env, subst: Substitute | None = None) -> list[list[str | None]]:
    """The word's possible field lists (one per candidate value): unquoted expansions are split, brace
    expansions (``r{m,}``, ``-{r,f}``) expanded."""
    values = word_values(node, env, subst)
    if values is None:
        return [[None]]
    braces = node.type == "concatenation" and any(
        c.type == "word" and text_of(c) == "{" for c in node.children
    )
    out: list[list[str | None]] = []
    for value, split in values:
        fields: list[str | None] = list(value.split()) if split else [value]
        if braces:
            fields = [e for f in fields if f is not None for e in expand_braces(f)]
        out.append(fields)
    return out


_BRACE = re.compile(r"\{([^{}]*)\}")


def expand_braces(word: str, limit: int = 64) -> list[str]:
    """Bash brace expansion of one word (``{a,b}``, ``{1..3}``, ``{a..c}``): the words it becomes."""
    for match in _BRACE.finditer(word):
        inner = match.group(1)
        if "," in inner:
            alternatives = inner.split(",")
        elif numbers := re.fullmatch(r"(-?\d+)\.\.(-?\d+)", inner):
            lo, hi = int(numbers.group(1)), int(numbers.group(2))
            if abs(hi - lo) > limit:
                return [word]
            step = 1 if hi >= lo else -1
            alternatives = [str(i) for i in range(lo, hi + step, step)]
        elif letters := re.fullmatch(r"([A-Za-z])\.\.([A-Za-z])", inner):
            lo, hi = ord(letters.group(1)), ord(letters.group(2))
            step = 1 if hi >= lo else -1
            alternatives = [chr(i) for i in range(lo, hi + step, step)]
        else:
            continue
        out: list[str] = []
        for alternative in alternatives:
            out.extend(expand_braces(word[: match.start()] + alternative + word[match.end() :], limit))
            if len(out) > limit:
                return [word]
        return [w for w in out if w]
    return [word]


def collect_assignments(root: Node, env: Env) -> None:
    """Every variable assigned on the line (flow-insensitive: a use may see any of them)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "variable_assignment" and node.parent is not None and node.parent.type != "command":
            name = node.child_by_field_name("name")
            value = node.child_by_field_name("value")
            if name is not None:
                _assign(env, text_of(name), word_values(value, env) if value is not None else [("", False)])
        elif node.type == "for_statement":
            var = node.child_by_field_name("variable")
            values = node.children_by_field_name("value")
            if var is not None:
                found: Candidates | None = []
                for v in values:
                    cands = word_values(v, env)
                    if cands is None or found is None:
                        found = None
                    else:
                        found += [
                            (piece, False) for c, split in cands for piece in (c.split() if split else [c])
                        ]
                _assign(env, text_of(var), found if values else None)
        stack.extend(node.children)


def _assign(env: Env, name: str, values: Candidates | None) -> None:
    if values is None or (name in env and env[name] is None):
        env[name] = None
        return
    env.setdefault(name, set())
    current = env[name]
    assert current is not None
    current.update(v for v, _ in values)


def parse(source: str) -> Tree:
    """The tree-sitter-bash parse tree of ``source`` (one parser per thread)."""
    return _parser().parse(source.encode("utf-8", "surrogateescape"))
