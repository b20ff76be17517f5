"""What a bash command line runs, read with a real shell parser (tree-sitter-bash).

:func:`analyse` turns a command line into the programs it would run — every simple command, wherever
it is nested (lists, pipelines, subshells, ``$(…)``, backticks, process substitutions, functions,
loops, ``if``/``case``, here-documents) — with:

* words evaluated the way bash would: quotes removed (``'r'm``, ``"rm"``, ``r\\m``, ``$'\\x72m'`` are
  all ``rm``), variables assigned on the same line substituted (``X=rm; $X``, ``for X in rm``), and
  anything decided only at run time (``$HOME``, ``$(…)``, globs in a command name) marked as unknown;
* wrappers unwrapped: ``env``, ``sudo``, ``doas``, ``nice``, ``ionice``, ``nohup``, ``timeout``,
  ``stdbuf``, ``setsid``, ``time``, ``command``, ``exec``, ``builtin``, ``xargs``, ``chroot``,
  ``flock``, ``taskset``, ``chrt``, ``unbuffer``, ``watch``, ``su -c``, ``runuser``, ``busybox``,
  ``find -exec``;
* code handed to a shell read too: ``sh -c '…'``/``bash -c``, ``eval '…'``, ``env -S``, here-strings
  and here-documents fed to a shell, and a script piped into a shell when the pipe's source is known
  (``echo …``, ``printf …``, ``cat`` of a here-document, ``base64 -d``, ``xxd -r -p``, ``rev``);
* what it could not see through listed in :attr:`Analysis.opaque` (``eval $X``, ``sh -c "$(…)"``, a
  command name computed at run time, a download or a computed payload piped to a shell, inline code of
  another interpreter, parse errors).

This is defence in depth, not a sandbox: see docs/control.md.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .shell_programs import (
    AWKS,
    INLINE_CODE,
    SHELLS,
    WRAPPER_OPTIONS,
    XARGS_OPTIONS,
    skip_options,
    split_static,
    static_output,
)
from .shell_words import (
    GLOB,
    MAX_VARIANTS,
    Env,
    collect_assignments,
    parse,
    text_of,
    word_fields,
    word_values,
)

if TYPE_CHECKING:
    from tree_sitter import Node

Argv = tuple[str | None, ...]
"""A command's words; ``None`` is a word whose value is known only at run time."""

MAX_DEPTH = 6
"""Nested shell strings read (``sh -c "sh -c '…'"``); deeper ones are opaque."""


@dataclass(frozen=True, slots=True)
class Invocation:
    """One program run: ``argv`` as bash would pass it (``None`` = computed at run time)."""

    argv: Argv
    depth: int = 0
    """0: as written; 1+: unwrapped from a wrapper (``sudo``, ``xargs``…) or read from a shell string."""

    @property
    def program(self) -> str | None:
        first = self.argv[0] if self.argv else None
        return first.rsplit("/", 1)[-1] if first else None

    def display(self) -> str:
        words = ["…" if w is None else w for w in self.argv]
        if words and self.program:
            words[0] = self.program
        return " ".join(words)


@dataclass(slots=True)
class Analysis:
    invocations: list[Invocation] = field(default_factory=list)
    """Every program the line runs, outer wrappers before what they run."""
    pipelines: list[list[list[Invocation]]] = field(default_factory=list)
    """Each pipeline of two stages or more: per stage, the invocations of its command (outer first)."""
    opaque: list[str] = field(default_factory=list)
    """What the analysis could not see through (strict mode refuses the line)."""
    parse_error: bool = False
    written: dict[str, str | None] = field(default_factory=dict)
    """Files the line writes (``echo … > x.sh``): their content when known, else None."""


# --------------------------------------------------------------------------- the analyser


@dataclass(slots=True)
class _Stdin:
    text: str | None
    """What the command reads, when known statically."""
    source: str
    """Where it comes from, for messages ("a pipe from 'curl …'", "a here-document")."""


class _Analyser:
    def __init__(self, result: Analysis, depth: int, env: Env) -> None:
        self.result = result
        self.depth = depth
        self.env = env

    # ---------------------------------------------------------------- entry points

    def script(self, source: str, origin: str) -> None:
        """Parse ``source`` (a command line or a script read by a shell) and walk it."""
        if self.depth > MAX_DEPTH:
            self.result.opaque.append(f"shell code nested more than {MAX_DEPTH} levels deep ({origin})")
            return
        tree = parse(source)
        root = tree.root_node
        if root.has_error:
            self.result.parse_error = True
            where = "the command line" if self.depth == 0 else origin
            self.result.opaque.append(f"{where} does not parse as bash")
        env = dict(self.env)
        collect_assignments(root, env)
        _Analyser(self.result, self.depth, env).visit(root)

    # ---------------------------------------------------------------- the tree

    def visit(self, node: Node, stdin: _Stdin | None = None) -> tuple[list[Invocation], str | None]:
        """Walk ``node``; return the invocations of its own command (for a pipeline stage) and its
        output when known statically."""
        kind = node.type
        if kind == "command":
            return self.command(node, stdin, redirects=[])
        if kind == "redirected_statement":
            return self.redirected(node, stdin)
        if kind == "pipeline":
            self.pipeline(list(node.named_children), stdin)
            return [], None
        if kind == "comment":
            return [], None
        for child in node.children:
            self.visit(child)
        return [], None

    def pipeline(
        self,
        stages: list[Node],
        stdin: _Stdin | None,
        first: tuple[list[Invocation], str | None] | None = None,
    ) -> None:
        layers: list[list[Invocation]] = []
        upstream = first
        if first is not None:
            layers.append(first[0])
        for stage in stages:
            if upstream is not None:
                invs, output = upstream
                label = invs[-1].display() if invs else text_of(stage)[:40]
                stdin = _Stdin(output, f"a pipe from {label!r}")
            upstream = self.visit(stage, stdin)
            layers.append(upstream[0])
        if len(layers) > 1:
            self.result.pipelines.append(layers)

    def redirected(self, node: Node, stdin: _Stdin | None) -> tuple[list[Invocation], str | None]:
        body = node.child_by_field_name("body")
        redirects = [c for c in node.named_children if c is not body]
        tail: list[Node] = []
        for r in redirects:
            if r.type == "heredoc_redirect":
                # `cat <<EOF | sh` parses the pipeline inside the here-document redirect.
                tail.extend(c for c in r.named_children if c.type in ("pipeline", "list", "command"))
            for child in r.named_children:
                if child.type not in ("pipeline", "list", "command"):
                    self.visit(child)  # substitutions in a target or an unquoted here-document run
        if body is None:
            return [], None
        if body.type == "command":
            own = self.command(body, stdin, redirects=redirects)
        else:
            own = self.visit(body, stdin)
        for extra in tail:
            if extra.type == "pipeline":
                self.pipeline(list(extra.named_children), None, first=own)
            elif extra.type == "command":
                self.pipeline([extra], None, first=own)
            else:
                self.visit(extra)
        return own

    def command(
        self, node: Node, stdin: _Stdin | None, *, redirects: list[Node]
    ) -> tuple[list[Invocation], str | None]:
        words: list[Node] = []
        for child in node.named_children:
            if child.type == "command_name":
                words.extend(child.named_children)
            elif child.type == "variable_assignment":
                self.visit(child)  # a $(…) in the value runs
            elif child.type in ("herestring_redirect", "file_redirect", "heredoc_redirect"):
                redirects = [*redirects, child]
                for grandchild in child.named_children:
                    self.visit(grandchild)
            else:
                words.append(child)
        for word in words:
            for child in word.children:  # substitutions inside words run too
                self.visit(child)
        stdin = self._redirected_stdin(redirects) or stdin
        variants = self._argv_variants(words)
        own: list[Invocation] = []
        output: str | None = None
        for argv in variants:
            invs, out = self.run(argv, stdin)
            own.extend(invs)
            output = out if len(variants) == 1 else None
        self._note_writes(redirects, output)
        names = [c for c in node.named_children if c.type == "command_name"]
        if names and names[0].named_children and names[0].named_children[0].type == "word":
            name = text_of(names[0])
            if GLOB.search(name) and name not in ("[", "[["):
                self.result.opaque.append(f"the command name {name!r} is a glob")
        return own, output

    def _note_writes(self, redirects: list[Node], output: str | None) -> None:
        """Remember what ``> file`` / ``>> file`` put in a file, so running it later on the line is read."""
        for r in redirects:
            if r.type != "file_redirect":
                continue
            op = next((c.type for c in r.children if not c.is_named), "")
            target = r.child_by_field_name("destination")
            if op not in (">", ">>", ">|", "&>", "&>>") or target is None:
                continue
            values = word_values(target, self.env, self._printed)
            if not values or len(values) != 1:
                continue
            path = posixpath.normpath(values[0][0])
            stdout = not any(c.type == "file_descriptor" and text_of(c) != "1" for c in r.named_children)
            content = output if stdout else None
            before = self.result.written.get(path)
            if op.endswith(">>") and not (path in self.result.written and before is not None):
                content = None  # appended to a file from before the line: not known
            elif op.endswith(">>") and content is not None and before is not None:
                content = before + content
            self.result.written[path] = content

    def _run_written(self, path: str | None, program: str, inv: Invocation) -> bool:
        """Read a script file the line itself wrote; True when ``path`` is one."""
        if path is None:
            return False
        key = posixpath.normpath(path)
        if key not in self.result.written:
            return False
        content = self.result.written[key]
        if content is None:
            self.result.opaque.append(
                f"{program} runs {path!r}, written on this line with content computed at run time"
            )
        else:
            self.nested(content, f"{program} {path}")
        return True

    def _redirected_stdin(self, redirects: list[Node]) -> _Stdin | None:
        for r in redirects:
            if r.type == "herestring_redirect":
                values = [word_values(c, self.env) for c in r.named_children]
                if len(values) == 1 and values[0] is not None and len(values[0]) == 1:
                    return _Stdin(values[0][0][0] + "\n", "a here-string")
                return _Stdin(None, "a here-string computed at run time")
            if r.type == "heredoc_redirect":
                bodies = [c for c in r.named_children if c.type == "heredoc_body"]
                if bodies:
                    return _Stdin(text_of(bodies[0]), "a here-document")
            if r.type == "file_redirect" and text_of(r).lstrip("0123456789").startswith("<"):
                return _Stdin(None, f"the file {text_of(r)!r}")
        return None

    def _argv_variants(self, words: list[Node]) -> list[list[str | None]]:
        variants: list[list[str | None]] = [[]]
        for word in words:
            options = word_fields(word, self.env, self._printed)
            if len(variants) * len(options) > MAX_VARIANTS:
                options = [[None]]
            variants = [v + o for v in variants for o in options]
        return [v for v in variants if v]

    def _printed(self, node: Node) -> str | None:
        """What a command substitution prints, when its commands print something known (``$(echo rm)``,
        ``$(echo cm0= | base64 -d)``); its commands are recorded by the walk all the same."""
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) != 1:
            return None
        stages = inner[0].named_children if inner[0].type == "pipeline" else [inner[0]]
        printed: str | None = None
        for i, stage in enumerate(stages):
            if stage.type != "command" or (i and printed is None):
                return None
            words = [w for c in stage.named_children if c.type == "command_name" for w in c.named_children]
            words += [
                c for c in stage.named_children if c.type not in ("command_name", "variable_assignment")
            ]
            variants = self._argv_variants(words)
            if len(variants) != 1 or any(w is None for w in variants[0]):
                return None
            argv = variants[0]
            program = (argv[0] or "").rsplit("/", 1)[-1]
            printed = static_output(program, argv[1:], printed)
        return printed

    # ---------------------------------------------------------------- what a command runs

    def record(self, argv: list[str | None]) -> Invocation:
        inv = Invocation(tuple(argv), self.depth)
        self.result.invocations.append(inv)
        return inv

    def nested(self, source: str, origin: str) -> None:
        _Analyser(self.result, self.depth + 1, self.env).script(source, origin)

    def run(self, argv: list[str | None], stdin: _Stdin | None) -> tuple[list[Invocation], str | None]:
        """Record ``argv`` and whatever it runs in turn; return its invocations and static output."""
        inv = self.record(argv)
        program = inv.program
        args = argv[1:]
        if program is not None and "/" in (argv[0] or "") and self._run_written(argv[0], program, inv):
            return [inv], None
        if program is None:
            self.result.opaque.append(f"the command name in {inv.display()!r} is computed at run time")
            return [inv], None
        inner = self.unwrap(program, args, stdin, inv)
        if inner is not None:
            if not inner:
                return [inv], None
            deeper = _Analyser(self.result, self.depth + 1, self.env)
            invs, output = deeper.run(inner, stdin)
            return [inv, *invs], output
        return [inv], static_output(program, args, stdin.text if stdin is not None else None)

    def unwrap(
        self, program: str, args: list[str | None], stdin: _Stdin | None, inv: Invocation
    ) -> list[str | None] | None:
        """The argv a wrapper runs ([] when it runs nothing we can name), or None for a plain program.
        Shell strings are analysed here."""
        if program in SHELLS or (program == "busybox" and args[:1] == ["sh"]):
            self.shell(program, args[1:] if program == "busybox" else args, stdin, inv)
            return []
        if program == "env":
            return self._env(args, inv)
        if program == "eval":
            if any(a is None for a in args):
                self.result.opaque.append(f"eval of a string computed at run time ({inv.display()!r})")
            else:
                self.nested(" ".join(a for a in args if a is not None), inv.display())
            return []
        if program in ("source", "."):
            if not args or args[0] is None:
                self.result.opaque.append(f"{program} of a script computed at run time ({inv.display()!r})")
            else:
                self._run_written(args[0], program, inv)
            return []
        if program == "alias":
            for a in args:
                if a is not None and "=" in a:
                    self.nested(a.split("=", 1)[1], inv.display())
            return []
        if program == "command":
            rest = skip_options(args, frozenset())
            return [] if any(a in ("-v", "-V") for a in args[: len(args) - len(rest)]) else rest
        if program == "xargs":
            return self._xargs(args)
        if program == "find":
            self._find(args)
            return None
        if program in ("su",) or (program == "flock" and "-c" in args):
            return self._dash_c(args, inv)
        if program == "flock":
            rest = skip_options(args, frozenset({"-w", "-E"}))
            return rest[1:]
        if program == "watch":
            rest = skip_options(args, frozenset({"-n", "-d", "-g"}))
            if "-x" in args or "--exec" in args:
                return rest
            if any(a is None for a in rest):
                self.result.opaque.append(f"watch runs a command computed at run time ({inv.display()!r})")
            elif rest:
                self.nested(" ".join(a for a in rest if a is not None), inv.display())
            return []
        if program in WRAPPER_OPTIONS:
            takes_arg, operands = WRAPPER_OPTIONS[program]
            rest = skip_options(args, takes_arg)
            if program == "sudo" and any(a in ("-e", "--edit", "-l", "--list", "-v") for a in args[:3]):
                return []
            return rest[operands:]
        self._inline_code(program, args, stdin, inv)
        return None

    def shell(self, program: str, args: list[str | None], stdin: _Stdin | None, inv: Invocation) -> None:
        i = 0
        script_from_c = False
        while i < len(args):
            word = args[i]
            if word is None:
                break
            if word in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
                i += 2
                continue
            if word == "--":
                i += 1
                break
            if not word.startswith(("-", "+")) or word in ("-", "+"):
                break
            if not word.startswith("--") and "c" in word[1:]:
                script_from_c = True
            i += 1
        operands = args[i:]
        if script_from_c:
            if not operands or operands[0] is None:
                self.result.opaque.append(
                    f"{program} -c runs a string computed at run time ({inv.display()!r})"
                )
            else:
                self.nested(operands[0], f"{program} -c")
            return
        if operands and not (operands[0] == "-" or "-s" in args[:i]):
            if operands[0] is None:
                self.result.opaque.append(f"{program} runs a script computed at run time ({inv.display()!r})")
            else:  # a script file: read when this line wrote it, else not (the sandbox is the boundary)
                self._run_written(operands[0], program, inv)
            return
        if stdin is None:
            return
        if stdin.text is None:
            self.result.opaque.append(f"{program} reads its script from {stdin.source}")
        else:
            self.nested(stdin.text, f"{program} reading {stdin.source}")

    def _env(self, args: list[str | None], inv: Invocation) -> list[str | None]:
        i = 0
        while i < len(args):
            word = args[i]
            if word is None:
                return args[i:]
            if word in ("-S", "--split-string") or word.startswith(("-S", "--split-string=")):
                value = args[i + 1] if word in ("-S", "--split-string") and i + 1 < len(args) else None
                if word.startswith("--split-string="):
                    value = word.split("=", 1)[1]
                elif word.startswith("-S") and len(word) > 2:
                    value = word[2:]
                if value is None:
                    self.result.opaque.append(f"env -S of a string computed at run time ({inv.display()!r})")
                    return []
                rest = args[i + 2 :] if word in ("-S", "--split-string") else args[i + 1 :]
                return [*split_static(value), *rest]
            if word in ("-u", "--unset", "-C", "--chdir"):
                i += 2
                continue
            if word == "--":
                return args[i + 1 :]
            if word.startswith("-") or ("=" in word and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", word)):
                i += 1
                continue
            return args[i:]
        return []

    def _xargs(self, args: list[str | None]) -> list[str | None]:
        i = 0
        replace: str | None = None
        while i < len(args):
            word = args[i]
            if word is None or not word.startswith("-") or word == "-":
                break
            if word == "--":
                i += 1
                break
            if word in XARGS_OPTIONS:
                if word == "-I" and i + 1 < len(args):
                    replace = args[i + 1]
                i += 2
                continue
            if word.startswith("-I") and len(word) > 2:
                replace = word[2:]
            elif word.startswith("--replace"):
                replace = word.split("=", 1)[1] if "=" in word else "{}"
            elif word == "-i":
                replace = "{}"
            i += 1
        command = args[i:] or ["echo"]
        if replace:
            command = [None if (a is not None and replace in a) else a for a in command]
            return command
        return [*command, None]  # the arguments xargs reads from its input

    def _find(self, args: list[str | None]) -> None:
        i = 0
        while i < len(args):
            if args[i] in ("-exec", "-execdir", "-ok", "-okdir"):
                j = i + 1
                while j < len(args) and args[j] not in (";", "+"):
                    j += 1
                command = [None if a is not None and "{}" in a else a for a in args[i + 1 : j]]
                if command:
                    _Analyser(self.result, self.depth + 1, self.env).run(command, None)
                i = j
            i += 1

    def _dash_c(self, args: list[str | None], inv: Invocation) -> list[str | None]:
        for i, word in enumerate(args):
            if word in ("-c", "--command") and i + 1 < len(args):
                value = args[i + 1]
                if value is None:
                    self.result.opaque.append(f"{inv.program} -c runs a string computed at run time")
                else:
                    self.nested(value, f"{inv.program} -c")
        return []

    def _inline_code(
        self, program: str, args: list[str | None], stdin: _Stdin | None, inv: Invocation
    ) -> None:
        base = re.sub(r"[\d.]+$", "", program)
        if base in INLINE_CODE:
            flags = INLINE_CODE[base]
            short = {f for f in flags if len(f) == 2}
            if any(a is None or a in flags or (a[:2] in short and not a.startswith("--")) for a in args):
                self.result.opaque.append(f"inline {base} code can run any command ({inv.display()!r})")
            elif stdin is not None and not any(a is not None and not a.startswith("-") for a in args):
                self.result.opaque.append(f"{base} reads its program from {stdin.source}")
        elif program in AWKS:
            code = next((a for a in args if a is None or not a.startswith("-")), None)
            if code is None or "system" in code or "|" in code:
                self.result.opaque.append(f"an awk program that can run commands ({inv.display()!r})")


def analyse(command: str, *, depth: int = 0) -> Analysis:
    """Every program ``command`` runs (see the module docstring)."""
    result = Analysis()
    _Analyser(result, depth, {}).script(command, "the command line")
    return result


def iter_argvs(analysis: Analysis) -> Iterator[Argv]:
    for inv in analysis.invocations:
        yield inv.argv
