"""ShellPolicy: allow/deny rules for the shell tool, judged on what a command line actually runs.

**The sandbox is the security boundary; this policy is defence in depth.** It keeps an agent from
running what you asked it not to run *by accident or by habit* (``rm -rf``, ``git push --force``,
``curl … | sh``), and tells the model why. It cannot stop a determined adversary: a script file, a
program that runs other programs, or code in another language can do anything the sandbox allows.
``strict=True`` narrows the gap by refusing every line it cannot see through.

The command line is parsed with a real bash parser (tree-sitter-bash, see
:mod:`agentcore.control.shell_parse`) and the rules are matched on the programs it runs:

* every simple command, wherever it is nested, with quotes and escapes removed and variables assigned
  on the same line substituted;
* wrappers unwrapped (``env``, ``sudo``, ``xargs``, ``timeout``, ``nice``, ``command``, ``exec``…) and
  shell strings read (``sh -c '…'``, ``eval '…'``, here-documents and here-strings fed to a shell,
  ``echo … | base64 -d | sh``);
* flags normalised: ``rm -fr``, ``rm -r -f``, ``rm -Rf`` and ``rm --recursive --force`` all match the
  rule ``"rm -rf"``.

Rules:

* ``"rm"``, ``"git push"``, ``"rm -rf"``, ``"git push --force"``: a program, then words and flags. A
  deny rule matches a command of that program that has all the rule's flags (in any order or spelling)
  and the rule's words in order among its arguments. An allow rule matches a command whose words start
  with the rule's words (``"git status"`` allows ``git status --short``). The program ``sh`` in a rule
  means any shell (``bash``, ``dash``, ``zsh``…); ``python`` also means ``python3``, ``python3.12``.
* ``"curl | sh"``: a pipeline in which a stage matching ``curl`` comes before a stage matching ``sh``
  (deny lists only).
* ``"re:<regex>"``: searched in each command (program by its base name, words joined by spaces, ``…``
  for a word computed at run time) and each pipeline (its commands joined by `` | ``).

With ``allow`` set, every program a line runs — wrappers included: ``sudo ls`` needs ``sudo`` allowed —
must match an allow rule, and a command whose name is computed at run time is refused.

``strict=True`` also refuses what the parser could not see through: ``eval`` of a computed string,
``sh -c "$X"``, a command name computed at run time (``$X``, ``$(…)``, a glob), a download or computed
payload piped into a shell or an interpreter, inline code of another interpreter (``python -c``,
``perl -e``, ``node -e``, awk's ``system()``), and lines that do not parse; and a command of a denied
program whose arguments are computed at run time, when they might complete the rule (``rm $FLAGS /``
against ``rm -rf``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import UserError
from .guardrails import Check, Guardrail, Stage, Verdict, allow, retry, tripwire
from .shell_parse import Analysis, Invocation, analyse
from .shell_programs import SHELLS
from .shell_words import expand_braces

__all__ = ["ShellDecision", "ShellPolicy", "split_commands"]

# --------------------------------------------------------------------------- the old splitter

_SEPARATORS = {";", "&&", "||", "|", "&", "\n", "(", ")", "{", "}", "`", "$("}


def split_commands(command: str) -> list[list[str]]:
    """Split a shell command line into simple commands (argv lists), following ``;``, ``&&``, ``|``, ``$(…)``.

    The lexer ShellPolicy used before it parsed bash; kept for callers of this function, and as the
    fallback of the default mode for lines that do not parse. Not a security check: see
    :func:`agentcore.control.shell_parse.analyse`."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()`$")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: judge the raw words
        tokens = command.split()
    for token in tokens:
        if token in _SEPARATORS or set(token) <= set(";&|()`$"):
            if commands[-1]:
                commands.append([])
            continue
        commands[-1].append(token)
    out = [c for c in commands if c]
    # Skip leading variable assignments and wrappers so `FOO=1 sudo rm` is judged as `sudo rm`.
    cleaned = []
    for argv in out:
        while argv and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", argv[0]):
            argv = argv[1:]
        if argv:
            cleaned.append(argv)
    return cleaned


# --------------------------------------------------------------------------- rules

_FLAG_ALIASES: dict[str, dict[str, str]] = {
    # program -> spelling -> the canonical flag
    "rm": {"-R": "-r", "--recursive": "-r", "--force": "-f", "--dir": "-d"},
    "cp": {"-R": "-r", "--recursive": "-r", "--force": "-f"},
    "mv": {"--force": "-f"},
    "ln": {"--force": "-f", "--symbolic": "-s"},
    "chmod": {"--recursive": "-R"},
    "chown": {"--recursive": "-R"},
    "chgrp": {"--recursive": "-R"},
    "git": {"--force": "-f", "--force-with-lease": "-f"},
    "kill": {"-KILL": "-9", "-SIGKILL": "-9", "-s": "-9"},
    "pkill": {"-KILL": "-9", "-SIGKILL": "-9"},
    "killall": {"-KILL": "-9", "-SIGKILL": "-9"},
    "shred": {"--remove": "-u"},
}


def _base(program: str) -> str:
    """``python3.12`` -> ``python``: a version suffix does not make another program."""
    return re.sub(r"[\d.]+$", "", program) or program


def _program_matches(rule: str, program: str | None) -> bool:
    if program is None:
        return False
    if rule == program or _base(program) == rule:
        return True
    return rule == "sh" and program in SHELLS


@dataclass(frozen=True, slots=True)
class _Shape:
    """A command as a deny rule sees it: program, normalised flags, other words."""

    program: str | None
    flags: frozenset[str]
    words: tuple[str | None, ...]
    computed: bool
    """Some word is known only at run time."""


def _shape(argv: Sequence[str | None]) -> _Shape:
    first = argv[0] if argv else None
    program = first.rsplit("/", 1)[-1] if first else None
    aliases = _FLAG_ALIASES.get(program or "", {})
    flags: set[str] = set()
    words: list[str | None] = []
    computed = False
    ended = False
    for word in argv[1:]:
        if word is None:
            computed = True
            words.append(None)
        elif ended or not word.startswith("-") or word == "-":
            words.append(word)
        elif word == "--":
            ended = True
        elif word in aliases:
            flags.add(aliases[word])
        elif word.startswith("--"):
            name = word.split("=", 1)[0]
            flags.add(aliases.get(name, name))
        else:
            for letter in word[1:]:
                flags.add(aliases.get("-" + letter, "-" + letter))
    return _Shape(program, frozenset(flags), tuple(words), computed)


def _in_order(needles: Sequence[str], haystack: Sequence[str | None]) -> bool:
    it = iter(haystack)
    return all(any(word == needle for word in it) for needle in needles)


Match = Literal["yes", "no", "maybe"]


@dataclass(frozen=True, slots=True)
class _CommandRule:
    text: str
    program: str
    words: tuple[str, ...]
    """The rule's words after the program, as written (allow rules compare these)."""
    shape: _Shape

    @classmethod
    def parse(cls, text: str) -> _CommandRule:
        words = text.split()
        if not words:
            raise UserError("ShellPolicy: an empty rule")
        return cls(text, words[0].rsplit("/", 1)[-1], tuple(words[1:]), _shape(words))

    def denies(self, inv: Invocation, shape: _Shape) -> Match:
        if not _program_matches(self.program, inv.program):
            return "no"
        if self.shape.flags <= shape.flags and _in_order(
            [w for w in self.shape.words if w is not None], shape.words
        ):
            return "yes"
        return "maybe" if shape.computed else "no"

    def allows(self, inv: Invocation) -> bool:
        if not _program_matches(self.program, inv.program):
            return False
        return list(inv.argv[1 : 1 + len(self.words)]) == list(self.words)


@dataclass(frozen=True, slots=True)
class _PipelineRule:
    text: str
    stages: tuple[_CommandRule, ...]

    def denies(self, pipeline: list[list[Invocation]]) -> bool:
        remaining = list(self.stages)
        for stage in pipeline:
            if remaining and any(remaining[0].denies(inv, _shape(inv.argv)) == "yes" for inv in stage):
                remaining.pop(0)
        return not remaining


@dataclass(frozen=True, slots=True)
class _RegexRule:
    text: str
    pattern: re.Pattern[str]


Rule = _CommandRule | _PipelineRule | _RegexRule


def _rule(text: str, *, deny: bool) -> Rule:
    if text.startswith("re:"):
        try:
            return _RegexRule(text, re.compile(text[3:]))
        except re.error as exc:
            raise UserError(f"ShellPolicy: rule {text!r} is not a valid regular expression: {exc}") from None
    if "|" in text:
        if not deny:
            raise UserError(f"ShellPolicy: a pipeline rule ({text!r}) can only deny")
        return _PipelineRule(text, tuple(_CommandRule.parse(part) for part in text.split("|")))
    return _CommandRule.parse(text)


def _pipeline_text(pipeline: list[list[Invocation]]) -> str:
    return " | ".join(stage[-1].display() if stage else "…" for stage in pipeline)


# --------------------------------------------------------------------------- the guardrail


@dataclass(frozen=True, slots=True)
class ShellDecision:
    """Why a command line is allowed or refused."""

    allowed: bool
    reason: str = ""
    kind: Literal["allowed", "denied", "not_allowed", "opaque"] = "allowed"
    """``denied``: a deny rule matched; ``not_allowed``: outside the allow list; ``opaque``: strict mode
    could not see what the line runs."""


_ALLOWED = ShellDecision(True)


class ShellPolicy(Guardrail):
    """Allow/deny rules for the shell tool, matched on every program a command line runs (see the
    module docstring). A refused command trips (``action="tripwire"``) or goes back to the model as
    feedback (``action="retry"``, the default). ``strict=True`` also refuses what the policy cannot see
    through. Defence in depth only: the sandbox is the boundary."""

    stages: tuple[Stage, ...] = ("pre_tool",)

    def __init__(
        self,
        *,
        allow: Sequence[str] | None = None,
        deny: Sequence[str] = (),
        action: Literal["tripwire", "retry"] = "retry",
        tools: Sequence[str] = ("shell",),
        argument: str = "command",
        name: str = "shell_policy",
        strict: bool = False,
    ) -> None:
        self.allow = list(allow) if allow is not None else None
        self.deny = list(deny)
        self.action = action
        self.tools = frozenset(tools)
        self.argument = argument
        self.name = name
        self.strict = strict
        self._deny_rules = [_rule(r, deny=True) for r in self.deny]
        self._allow_rules = [_rule(r, deny=False) for r in self.allow] if self.allow is not None else None

    # ---------------------------------------------------------------- judging

    def decide(self, command: str) -> ShellDecision:
        """The decision on ``command``, with its reason."""
        try:
            analysis = analyse(command)
        except (RecursionError, ValueError) as exc:  # a pathological line: judge it as unparsable
            analysis = Analysis(parse_error=True, opaque=[f"the command line could not be analysed ({exc})"])
        invocations = list(analysis.invocations)
        if analysis.parse_error and not self.strict:
            # What bash would still run before the error, read with the old lexer (braces expanded).
            for argv in split_commands(command):
                words = [e for w in argv for e in expand_braces(w)]
                invocations.append(Invocation(tuple(words)))
        decision = self._deny(invocations, analysis)
        if decision is None and self._allow_rules is not None:
            decision = self._allowed(invocations)
        if decision is None and self.strict and analysis.opaque:
            reasons = "; ".join(dict.fromkeys(analysis.opaque))
            decision = ShellDecision(
                False,
                f"strict shell policy: cannot check what this command runs ({reasons})",
                "opaque",
            )
        return decision or _ALLOWED

    def _deny(self, invocations: list[Invocation], analysis: Analysis) -> ShellDecision | None:
        for inv in invocations:
            shape = _shape(inv.argv)
            for rule in self._deny_rules:
                if isinstance(rule, _CommandRule):
                    verdict = rule.denies(inv, shape)
                    if verdict == "yes" or (verdict == "maybe" and self.strict):
                        how = (
                            "is denied by rule"
                            if verdict == "yes"
                            else "might match (computed arguments) rule"
                        )
                        return ShellDecision(
                            False,
                            f"command {inv.display()!r} {how} {rule.text!r}",
                            "denied" if verdict == "yes" else "opaque",
                        )
                elif isinstance(rule, _RegexRule) and rule.pattern.search(inv.display()):
                    return ShellDecision(
                        False, f"command {inv.display()!r} is denied by rule {rule.text!r}", "denied"
                    )
        for pipeline in analysis.pipelines:
            text = _pipeline_text(pipeline)
            for rule in self._deny_rules:
                if (isinstance(rule, _PipelineRule) and rule.denies(pipeline)) or (
                    isinstance(rule, _RegexRule) and rule.pattern.search(text)
                ):
                    return ShellDecision(
                        False, f"pipeline {text!r} is denied by rule {rule.text!r}", "denied"
                    )
        return None

    def _allowed(self, invocations: list[Invocation]) -> ShellDecision | None:
        rules = [r for r in self._allow_rules or () if isinstance(r, _CommandRule)]
        regexes = [r for r in self._allow_rules or () if isinstance(r, _RegexRule)]
        for inv in invocations:
            if any(r.allows(inv) for r in rules) or (
                inv.program is not None and any(r.pattern.search(inv.display()) for r in regexes)
            ):
                continue
            listed = ", ".join(self.allow or ())
            return ShellDecision(
                False, f"command {inv.display()!r} is not allowed (allowed: {listed})", "not_allowed"
            )
        return None

    def judge(self, command: str) -> str | None:
        """The reason ``command`` is refused, or ``None`` when it is allowed."""
        decision = self.decide(command)
        return None if decision.allowed else decision.reason

    async def check(self, data: Check) -> Verdict:
        arguments = data.arguments or {}
        value = arguments.get(self.argument, "")
        if isinstance(value, list) and all(isinstance(a, str) for a in value):
            commands = [shlex.join(value)]  # an argv (local_shell)
        else:
            commands = [str(value)] if value or "commands" not in arguments else []
        extra = arguments.get("commands")  # a native shell call: several command lines, each judged
        if isinstance(extra, list):
            commands += [c for c in extra if isinstance(c, str)]
        for command in commands or [""]:
            reason = self.judge(command)
            if reason is not None:
                return (
                    tripwire(reason) if self.action == "tripwire" else retry(reason + "; use another command")
                )
        return allow()
