"""OpenAI's ``shell`` and ``local_shell`` actions, run in our sandbox.

``shell``: ``{commands: [...], timeout_ms, max_output_length}`` → one result per command,
``{stdout, stderr, outcome: {type: "exit", exit_code} | {type: "timeout"}}``. The commands run one after
the other in the sandbox's persistent shell (session ``"default"``, the one the ``shell`` function tool
uses), so ``cd`` and exported variables carry over between commands and between calls.

stdout and stderr come back separately although the persistent shell has one output stream: each command
runs as ``{ eval <command>; } 2><file in /tmp>``, and after it a few builtins print a fresh random marker and
the captured stderr (read with the ``read`` builtin, so no process is started, even after a timeout). What
that costs, and its limits:

* the order between stdout and stderr lines is lost (they are two fields anyway);
* a command that ends the shell (``exit``, ``exec``) loses its stderr (the shell restarts, as always);
* a command that turns on ``set -x`` sees the trace of those builtins at the end of its stderr.

``timeout_ms`` applies to each command (the API type speaks of "the commands"; read per command here; default: the sandbox's ``timeout_s``; at most 10x it); a command
that runs out is killed and reported as ``{type: "timeout"}``, and the next commands still run.
``max_output_length`` caps the characters of stdout and stderr together per command (head and tail kept,
the cut marked); it is also echoed in the payload, as ``shell_call_output`` wants it back. Whatever the model
asks, stdout and stderr each keep at most the sandbox's ``max_output_bytes`` characters.

``local_shell``: ``{type: "exec", command: [argv], env, working_directory, timeout_ms, user}`` runs once with
:meth:`Sandbox.exec` (no shell state). A ``working_directory`` outside the workspace (models often guess
``/root``) runs in the workspace instead, and the output says so. ``user`` is ignored (the sandbox has one
user).
"""

from __future__ import annotations

import json
import posixpath
import secrets
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentcore.errors import PathEscapeError

from ..base import resolve_path
from ..tools import MAX_TIMEOUT_FACTOR, clean_terminal_output

if TYPE_CHECKING:
    from ..base import Sandbox
    from ..shell import OutputCallback

__all__ = [
    "CommandOutput",
    "ShellActionResult",
    "run_local_shell",
    "run_shell_action",
    "truncate_middle",
]

MAX_COMMANDS = 64
"""Commands per ``shell`` action; more is refused (the model splits its work)."""


@dataclass
class CommandOutput:
    """One command of a ``shell`` action."""

    command: str
    stdout: str
    stderr: str
    exit_code: int | None
    timed_out: bool = False
    cwd: str | None = None

    def outcome(self) -> dict[str, Any]:
        if self.timed_out:
            return {"type": "timeout"}
        return {"type": "exit", "exit_code": -1 if self.exit_code is None else self.exit_code}

    def wire(self) -> dict[str, Any]:
        """The ``shell_call_output.output[i]`` object."""
        return {"stdout": self.stdout, "stderr": self.stderr, "outcome": self.outcome()}


@dataclass
class ShellActionResult:
    outputs: list[CommandOutput]
    max_output_length: int | None
    timeout_s: float

    def payload(self) -> dict[str, Any]:
        """Fields of a ``shell_call_output`` item (``output`` and ``max_output_length``)."""
        return {"output": [o.wire() for o in self.outputs], "max_output_length": self.max_output_length}

    def text(self) -> str:
        """The same result as one text, for a model that gets it as a function or tool result."""
        parts = []
        for o in self.outputs:
            block = [f"$ {o.command}"]
            if o.stdout:
                block.append(o.stdout.rstrip("\n"))
            if o.stderr:
                block.append("[stderr]\n" + o.stderr.rstrip("\n"))
            if o.timed_out:
                block.append(f"[timed out after {self.timeout_s:g}s; the command was killed]")
            else:
                block.append(f"[exit code {o.outcome()['exit_code']}]")
            parts.append("\n".join(block))
        return "\n\n".join(parts)

    @property
    def failed(self) -> bool:
        return any(o.timed_out or o.exit_code != 0 for o in self.outputs)


def truncate_middle(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, keeping head and tail around a marked cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    note = f"\n[... {len(text) - limit:,} characters truncated ...]\n"
    if 3 * len(note) > limit:  # too small for a marked cut: keep the head
        return text[:limit]
    room = limit - len(note)
    head = room // 2
    return text[:head] + note + text[len(text) - (room - head) :]


def _cap_pair(stdout: str, stderr: str, limit: int | None) -> tuple[str, str]:
    """Fit stdout + stderr into ``limit`` characters; each keeps at least half the room if it needs it."""
    if limit is None or len(stdout) + len(stderr) <= limit:
        return stdout, stderr
    half = limit // 2
    if len(stderr) <= half:
        return truncate_middle(stdout, limit - len(stderr)), stderr
    if len(stdout) <= half:
        return stdout, truncate_middle(stderr, limit - len(stdout))
    return truncate_middle(stdout, half), truncate_middle(stderr, limit - half)


def _timeout(sandbox: Sandbox, timeout_ms: Any) -> float:
    default = sandbox.config.timeout_s
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int | float) or timeout_ms <= 0:
        return default
    return min(timeout_ms / 1000.0, MAX_TIMEOUT_FACTOR * default)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def _wrapped(command: str, err_file: str, marker: str, err_cap: int) -> str:
    """The command with its stderr captured to ``err_file`` and printed after ``marker``; ``$?`` kept."""
    return (
        f"{{ eval {shlex.quote(command)}\n}} 2>{err_file}\n"
        "__ac_rc=$?\n"
        f"printf '\\n%s' {marker}\n"
        f"if [ -s {err_file} ]; then IFS= read -r -d '' -N {err_cap} __ac_err <{err_file} || true; "
        "printf '%s' \"$__ac_err\"; unset __ac_err; fi\n"
        f": >{err_file}\n"
        '__ac_ret() { return "$1"; }; __ac_ret "$__ac_rc"'
    )


async def run_shell_action(
    sandbox: Sandbox,
    action: Mapping[str, Any],
    *,
    session: str = "default",
    on_output: OutputCallback | None = None,
) -> ShellActionResult:
    """Run the commands of a ``shell_call`` action. Raises ``ValueError`` for a malformed action (no
    commands, a command that is not a string); command failures are results."""
    commands = action.get("commands")
    if isinstance(commands, str):
        commands = [commands]
    if not isinstance(commands, list) or not commands:
        raise ValueError("the shell action has no commands")
    if len(commands) > MAX_COMMANDS:
        raise ValueError(f"the shell action has {len(commands)} commands; at most {MAX_COMMANDS} per call")
    if not all(isinstance(c, str) and c.strip() and "\0" not in c for c in commands):
        raise ValueError("every command must be a non-empty string without NUL characters")
    timeout = _timeout(sandbox, action.get("timeout_ms"))
    limit = _positive_int(action.get("max_output_length"))
    # stderr kept per command: the model's limit, never more than the sandbox keeps of any output
    err_cap = (
        min(limit, sandbox.config.max_output_bytes) if limit is not None else sandbox.config.max_output_bytes
    )
    # Room for the whole stderr section in the tail half of the shell's head+tail buffer.
    max_bytes = sandbox.config.max_output_bytes + 8 * err_cap + 256
    err_file = f"/tmp/.agentcore-stderr-{session}"
    outputs: list[CommandOutput] = []
    for command in commands:
        marker = "__AC_STDERR_" + secrets.token_hex(8) + "__"
        streamed = _MarkerFilter(marker, on_output) if on_output is not None else None
        result = await sandbox.shell(
            _wrapped(command, err_file, marker, err_cap),
            timeout=timeout,
            session=session,
            on_output=streamed,
            max_output_bytes=max_bytes,
        )
        stdout, found, stderr = result.output.rpartition("\n" + marker)
        if not found:
            stdout, stderr = result.output, ""
        # the buffer had room for the stderr section; stdout gets no more than any shell output would
        stdout = truncate_middle(clean_terminal_output(stdout), sandbox.config.max_output_bytes)
        stdout, stderr = _cap_pair(stdout, clean_terminal_output(stderr), limit)
        outputs.append(
            CommandOutput(
                command, stdout, stderr, result.exit_code, timed_out=result.timed_out, cwd=result.cwd
            )
        )
    return ShellActionResult(outputs, limit, timeout)


class _MarkerFilter:
    """Forwards live output up to the stderr marker (the stderr section is not streamed)."""

    def __init__(self, marker: str, forward: OutputCallback) -> None:
        self.marker = "\n" + marker
        self.forward = forward
        self.pending = ""
        self.done = False

    def __call__(self, delta: str) -> None:
        if self.done:
            return
        text = self.pending + delta
        cut = text.find(self.marker)
        if cut >= 0:
            self.done = True
            if cut:
                self.forward(text[:cut])
            return
        keep = len(self.marker) - 1  # a marker split across deltas
        if len(text) > keep:
            self.forward(text[: len(text) - keep])
            self.pending = text[len(text) - keep :]
        else:
            self.pending = text


@dataclass
class LocalShellResult:
    stdout: str
    stderr: str
    exit_code: int | None
    timed_out: bool
    duration_s: float
    note: str | None = None

    def output_json(self) -> str:
        """The ``local_shell_call_output.output`` string (a JSON document)."""
        text = self.stdout + (("\n" if self.stdout and not self.stdout.endswith("\n") else "") + self.stderr)
        if self.note:
            text = f"{self.note}\n{text}"
        if self.timed_out:
            text += "\n[timed out; the command was killed]"
        metadata = {
            "exit_code": -1 if self.exit_code is None else self.exit_code,
            "duration_seconds": round(self.duration_s, 3),
        }
        return json.dumps({"output": text, "metadata": metadata})

    def text(self) -> str:
        body = self.stdout
        if self.stderr:
            body += ("" if not body or body.endswith("\n") else "\n") + "[stderr]\n" + self.stderr
        status = "timed out; the command was killed" if self.timed_out else f"exit code {self.exit_code}"
        head = f"{self.note}\n" if self.note else ""
        return f"{head}{body}{'' if not body or body.endswith(chr(10)) else chr(10)}[{status}]"


async def run_local_shell(sandbox: Sandbox, action: Mapping[str, Any]) -> LocalShellResult:
    """Run a ``local_shell_call`` exec action. Raises ``ValueError`` for a malformed action."""
    argv = action.get("command")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError("the exec action's command must be a non-empty list of strings")
    env = action.get("env") or {}
    if not isinstance(env, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise ValueError("the exec action's env must map strings to strings")
    workdir = sandbox.config.workdir
    cwd = workdir
    note = None
    wanted = action.get("working_directory")
    if isinstance(wanted, str) and wanted:
        try:
            cwd = resolve_path(workdir, wanted)
        except PathEscapeError:
            note = f"[working_directory {wanted} is outside the sandbox workspace; ran in {workdir}]"
        else:
            info = await sandbox.stat(cwd)
            if info is None or info.type != "dir":
                note = f"[working_directory {posixpath.normpath(wanted)} does not exist; ran in {workdir}]"
                cwd = workdir
    timeout = _timeout(sandbox, action.get("timeout_ms"))
    result = await sandbox.exec(argv, cwd=cwd, env=dict(env), timeout=timeout)
    return LocalShellResult(
        stdout=clean_terminal_output(result.stdout.decode("utf-8", errors="replace")),
        stderr=clean_terminal_output(result.stderr.decode("utf-8", errors="replace")),
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        duration_s=result.duration_s,
        note=note,
    )
