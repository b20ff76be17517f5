"""What the ``agentcore`` subcommands share: exit codes and how errors are printed."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ..errors import (
    ConfigError,
    GuardrailError,
    GuardrailTripwire,
    MaxTurnsExceeded,
    ModelBehaviorError,
    ModelCallFailed,
    ModelError,
    RetryBudgetExhausted,
    SandboxError,
    SessionBusy,
    UnknownModelError,
    UserError,
    VerifierFailed,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_GUARDRAIL = 4
EXIT_VERIFIER = 5
EXIT_MAX_TURNS = 6
EXIT_MODEL = 7
EXIT_SANDBOX = 8
EXIT_BUSY = 9
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_ERROR: "unexpected error",
    EXIT_USAGE: "wrong command-line usage",
    EXIT_CONFIG: "configuration error (invalid definition file, unknown model or provider, missing key)",
    EXIT_GUARDRAIL: "a guardrail stopped the run (a tripwire, or the guardrail itself failed)",
    EXIT_VERIFIER: "the verifiers still failed when the feedback budget was spent",
    EXIT_MAX_TURNS: "the run reached max_turns without a final output",
    EXIT_MODEL: "model/provider failure (non-retryable error, retries exhausted, or the model kept misbehaving)",
    EXIT_SANDBOX: "the sandbox failed (backend unavailable, died)",
    EXIT_BUSY: "the session is in use by another run (it waited for it, then gave up)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}


def exit_code_for(exc: BaseException) -> int:
    """The exit code for an exception that ended a run."""
    if isinstance(exc, ConfigError | UnknownModelError):
        return EXIT_CONFIG
    if isinstance(exc, GuardrailTripwire | GuardrailError):
        return EXIT_GUARDRAIL
    if isinstance(exc, VerifierFailed):
        return EXIT_VERIFIER
    if isinstance(exc, MaxTurnsExceeded):
        return EXIT_MAX_TURNS
    if isinstance(exc, ModelCallFailed | RetryBudgetExhausted | ModelBehaviorError | ModelError):
        from ..errors import AuthenticationError

        inner = getattr(exc, "error", None)
        if isinstance(exc, AuthenticationError) or isinstance(inner, AuthenticationError):
            return EXIT_CONFIG
        return EXIT_MODEL
    if isinstance(exc, SandboxError):
        return EXIT_SANDBOX
    if isinstance(exc, SessionBusy):
        return EXIT_BUSY
    from .approve import ApprovalInterrupted

    if isinstance(exc, KeyboardInterrupt | ApprovalInterrupted):
        return EXIT_INTERRUPTED
    if isinstance(exc, UserError):
        return EXIT_CONFIG
    return EXIT_ERROR


def _color(stream: Any, flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def source_excerpt(lines: list[str] | None, line: int, col: int, *, color: bool = False) -> str:
    """The offending line of a file and a caret under the column (empty without the file, or for
    problems of the whole file, reported at 1:1)."""
    if not lines or (line, col) == (1, 1) or not 0 < line <= len(lines):
        return ""
    text = lines[line - 1].rstrip("\n")
    gutter = f"{line:5d} | "
    pad = "".join(c if c == "\t" else " " for c in text[: max(col - 1, 0)])
    caret = "\033[31m^\033[0m" if color else "^"
    return f"{gutter}{text[:200]}\n{' ' * (len(gutter) - 2)}| {pad}{caret}"


def _print_config_error(exc: ConfigError, color: bool) -> None:
    sources: dict[str, list[str] | None] = {}
    for file, line, col, msg in exc.errors:
        where = f"{file}:{line}:{col}:"
        print(
            f"\033[1m{where}\033[0m \033[31merror:\033[0m {msg}" if color else f"{where} error: {msg}",
            file=sys.stderr,
        )
        if file not in sources:
            try:
                sources[file] = Path(file).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                sources[file] = None
        excerpt = source_excerpt(sources[file], line, col, color=color)
        if excerpt:
            print(excerpt, file=sys.stderr)
    count = len(exc.errors)
    print(f"{count} error{'s' if count != 1 else ''}", file=sys.stderr)
