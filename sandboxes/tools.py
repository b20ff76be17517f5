"""Agent tools written once over the :class:`~agentcore.sandboxes.base.Sandbox` contract.

``sandbox_tools(sandbox)`` returns ``shell``, ``read_file``, ``write_file``, ``edit_file`` and
``list_files`` bound to one sandbox. ``Agent(sandbox=...)`` gets them through ``Sandbox.tools()``.
Failures the model can fix (missing file, path outside the workspace, an edit whose old text is absent
or ambiguous) come back as :class:`~agentcore.errors.ToolError`, i.e. as an error tool result.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import TYPE_CHECKING, Any

from agentcore import tracing
from agentcore.context import RunContext
from agentcore.errors import SandboxError, ToolError
from agentcore.tools import Tool, function_to_tool

if TYPE_CHECKING:
    from .base import Sandbox, ShellResult

__all__ = ["cap_result", "clean_terminal_output", "format_shell_result", "sandbox_tools"]

MAX_STREAMED_CHARS = 1_000_000
"""Live output streamed to the run's events per command; the rest is announced once, not streamed."""
MAX_TIMEOUT_FACTOR = 10
"""A model may raise a command's timeout up to this multiple of the sandbox's default."""
MAX_READ_CHARS = 200_000
"""``read_file`` returns at most this much text; the model is told to ask for a line range."""
MAX_RESULT_CHARS = 250_000
"""Hard cap of every tool result and error message; a longer one keeps its head and tail and says so."""
LIST_PAGE = 500
"""``list_files`` returns at most this many entries per call (``offset``/``limit`` page through more)."""

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def clean_terminal_output(text: str) -> str:
    """Remove ANSI escape sequences and collapse carriage-return rewrites (progress bars) per line."""
    text = _ANSI.sub("", text)
    if "\r" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        if "\r" in line:
            parts = [p for p in line.rstrip("\r").split("\r")]
            line = parts[-1] if parts else ""
        lines.append(line)
    return "\n".join(lines)


def format_shell_result(result: ShellResult, timeout: float) -> str:
    """What the model sees of a shell command: the output, then one status line."""
    text = clean_terminal_output(result.output)
    status: list[str] = []
    if result.timed_out:
        status.append(f"timed out after {timeout:g}s; the command was killed")
    if result.exit_code is not None:
        status.append(f"exit code {result.exit_code}")
    if result.process_limit is not None:
        status.append(
            f"process limit reached ({result.process_limit} processes): every process in the sandbox "
            "was killed, background jobs included"
        )
    if result.restarted:
        status.append(
            "the shell exited and was restarted (cwd and exported variables kept, functions and jobs lost)"
        )
    if result.truncated:
        status.append(f"output truncated ({result.total_bytes:,} bytes in total)")
    status.append(f"cwd {result.cwd}")
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}[{'; '.join(status)}]"


def cap_result(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    """``text`` if it fits in ``limit`` characters, else its head and tail around a marked cut."""
    if len(text) <= limit:
        return text
    note = f"\n[... {len(text) - limit:,} of {len(text):,} characters cut ...]\n"
    head = (limit - len(note)) * 2 // 3
    tail = limit - len(note) - head
    return text[:head] + note + (text[-tail:] if tail > 0 else "")


def _capped(fn: Any) -> Any:
    """Wrap a tool function so that its result and its error message are capped (:func:`cap_result`)."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> str:
        try:
            result = await fn(*args, **kwargs)
        except ToolError as exc:
            message = str(exc)
            if len(message) <= MAX_RESULT_CHARS:
                raise
            raise ToolError(cap_result(message)) from exc
        return cap_result(result)

    return wrapper


_TEMPLATES: dict[str, Tool] = {}


def _bind(fn: Any, *, needs_approval: bool) -> Tool:
    """``function_to_tool(fn)``, reusing the schema and argument model built for the first sandbox
    (the same signatures every time; building them costs milliseconds)."""
    template = _TEMPLATES.get(fn.__name__)
    if template is None:
        template = _TEMPLATES[fn.__name__] = function_to_tool(fn)
    return dataclasses.replace(template, fn=_capped(fn), needs_approval=needs_approval, metadata={})


def sandbox_tools(sandbox: Sandbox) -> list[Tool]:
    """The five agent tools bound to ``sandbox``."""

    async def ready() -> None:
        if not sandbox.started:
            await sandbox.start()

    async def shell(ctx: RunContext[Any], command: str, timeout: float | None = None) -> str:  # noqa: ASYNC109
        """Run a bash command in a persistent shell inside the sandbox (cwd, variables and functions persist
        between calls, like a terminal). stdin is closed: interactive programs see end of input.

        Args:
            command: The bash command line(s) to run.
            timeout: Seconds before the command is killed (default: the sandbox's timeout; at most 10x it).
        """
        await ready()
        default = sandbox.config.timeout_s
        limit = default if timeout is None or timeout <= 0 else min(timeout, MAX_TIMEOUT_FACTOR * default)
        streamed = 0

        def forward(delta: str) -> None:
            nonlocal streamed
            if streamed >= MAX_STREAMED_CHARS:
                return
            piece = delta[: MAX_STREAMED_CHARS - streamed]
            streamed += len(piece)
            ctx.emit_output(piece)
            if streamed >= MAX_STREAMED_CHARS:
                ctx.emit_output("\n[... live output stopped; the result keeps the head and tail ...]\n")

        attrs: dict[str, Any] = {
            "agentcore.sandbox.backend": sandbox.backend,
            "agentcore.sandbox.id": sandbox.id,
            "agentcore.sandbox.timeout_s": limit,
            "agentcore.sandbox.network": sandbox.config.network,
            "agentcore.sandbox.memory_mb": sandbox.config.memory_mb,
        }
        with tracing.span(f"agentcore.sandbox.exec {sandbox.backend}", attrs) as span:
            if span.is_recording() and tracing.capture_content():  # a command line can hold secrets
                span.set_attribute("process.command_line", tracing.content(command))
            try:
                result = await sandbox.shell(command, timeout=limit, on_output=forward)
            except SandboxError as exc:
                raise ToolError(f"shell failed: {exc}") from exc
            if span.is_recording():
                if result.exit_code is not None:
                    span.set_attribute("process.exit.code", result.exit_code)
                span.set_attribute("agentcore.sandbox.timed_out", result.timed_out)
                span.set_attribute("agentcore.sandbox.restarted", result.restarted)
                span.set_attribute("agentcore.sandbox.output_bytes", result.total_bytes)
        return format_shell_result(result, limit)

    async def read_file(path: str, start_line: int | None = None, end_line: int | None = None) -> str:
        """Read a text file from the sandbox workspace, optionally only lines start_line..end_line
        (1-based, inclusive).

        Args:
            path: File path, relative to the workspace or absolute inside it.
            start_line: First line to return (1-based).
            end_line: Last line to return (inclusive).
        """
        await ready()
        try:
            data = await sandbox.read_file(path, max_bytes=50_000_000)
        except SandboxError as exc:
            raise ToolError(str(exc)) from exc
        if b"\0" in data[:8192]:
            raise ToolError(
                f"{path} looks like a binary file ({len(data):,} bytes); use the shell to inspect it"
            )
        text = data.decode("utf-8", errors="replace")
        if start_line is None and end_line is None:
            if len(text) > MAX_READ_CHARS:
                n_lines = text.count("\n") + 1
                raise ToolError(
                    f"{path} is {len(text):,} characters ({n_lines:,} lines); read it in parts with "
                    "start_line and end_line"
                )
            return text
        lines = text.splitlines(keepends=True)
        first = max(1, start_line or 1)
        last = len(lines) if end_line is None else min(end_line, len(lines))
        if first > len(lines) and lines:
            raise ToolError(f"{path} has {len(lines)} lines; start_line {first} is past the end")
        if end_line is not None and end_line < first:
            raise ToolError(f"end_line ({end_line}) is before start_line ({first})")
        chunk = "".join(lines[first - 1 : last])
        if len(chunk) > MAX_READ_CHARS:
            raise ToolError(
                f"lines {first}-{last} of {path} are {len(chunk):,} characters; ask for fewer lines"
            )
        return chunk

    async def write_file(path: str, content: str) -> str:
        """Create or overwrite a file in the sandbox workspace (parent directories are created).

        Args:
            path: File path, relative to the workspace or absolute inside it.
            content: The complete new content of the file.
        """
        await ready()
        data = content.encode("utf-8")
        try:
            await sandbox.write_file(path, data)
        except SandboxError as exc:
            raise ToolError(str(exc)) from exc
        return f"wrote {len(data):,} bytes to {path}"

    async def edit_file(path: str, old: str, new: str) -> str:
        """Replace one exact occurrence of `old` with `new` in a file. Fails when `old` is not found or is
        found more than once (then include more surrounding text to make it unique).

        Args:
            path: File path, relative to the workspace or absolute inside it.
            old: The exact text to replace (whitespace and indentation included).
            new: The replacement text.
        """
        await ready()
        if not old:
            raise ToolError("old must not be empty; use write_file to create or overwrite a file")
        try:
            data = await sandbox.read_file(path, max_bytes=50_000_000)
        except SandboxError as exc:
            raise ToolError(str(exc)) from exc
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ToolError(f"{path} is not UTF-8 text; edit it with the shell") from None
        count = text.count(old)
        if count == 0:
            raise ToolError(f"old text not found in {path}; read the file and copy the text exactly")
        if count > 1:
            raise ToolError(
                f"old text occurs {count} times in {path}; include more surrounding lines so it is unique"
            )
        try:
            await sandbox.write_file(path, text.replace(old, new, 1).encode("utf-8"))
        except SandboxError as exc:
            raise ToolError(str(exc)) from exc
        return f"edited {path}: replaced 1 occurrence ({len(old)} -> {len(new)} characters)"

    async def list_files(path: str = ".", offset: int = 0, limit: int = LIST_PAGE) -> str:
        """List a directory in the sandbox workspace (directories end with '/', files show their size),
        sorted by name, at most `limit` entries from `offset` on (the result says when more remain).

        Args:
            path: Directory path, relative to the workspace or absolute inside it.
            offset: Number of entries to skip (to page through a large directory).
            limit: Maximum number of entries to return (at most 500).
        """
        await ready()
        try:
            entries = await sandbox.list_dir(path)
        except SandboxError as exc:
            raise ToolError(str(exc)) from exc
        if not entries:
            return f"{path}: empty directory"
        total = len(entries)
        first = max(0, offset)
        count = max(1, min(limit, LIST_PAGE))
        if first >= total:
            raise ToolError(f"{path} has {total:,} entries; offset {first:,} is past the end")
        lines = []
        for entry in entries[first : first + count]:
            if entry.type == "dir":
                lines.append(f"{entry.name}/")
            elif entry.type == "symlink":
                lines.append(f"{entry.name} -> {entry.symlink_target or '?'}")
            elif entry.type == "file":
                lines.append(f"{entry.name}  ({entry.size:,} bytes)")
            else:
                lines.append(f"{entry.name}  (special file)")
        shown = len(lines)
        if first or first + shown < total:
            kinds = {"dir": 0, "file": 0}
            for entry in entries:
                if entry.type in kinds:
                    kinds[entry.type] += 1
            note = (
                f"[entries {first + 1:,}-{first + shown:,} of {total:,} ({kinds['dir']:,} directories, "
                f"{kinds['file']:,} files)"
            )
            if first + shown < total:
                note += f"; call list_files again with offset={first + shown} for more"
            lines.append(note + "]")
        return "\n".join(lines)

    approve = set(sandbox.config.approve_tools)
    tools = [
        _bind(fn, needs_approval=fn.__name__ in approve)
        for fn in (shell, read_file, write_file, edit_file, list_files)
    ]
    for t in tools:
        t.metadata.update({"sandbox": True, "sandbox_backend": sandbox.backend, "sandbox_id": sandbox.id})
    return tools
