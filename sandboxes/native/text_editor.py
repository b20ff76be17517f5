"""Anthropic's client tools ``text_editor_20250728`` (``str_replace_based_edit_tool``) and ``bash_20250124``
(``bash``), run in our sandbox.

Text editor commands: ``view`` (a file with line numbers, ``view_range: [first, last]`` with ``-1`` for "to
the end"; a directory lists two levels deep, hidden entries left out), ``create`` (writes ``file_text``,
creating parent directories; an existing file is replaced), ``str_replace`` (``old_str`` must occur exactly
once; ``new_str`` defaults to empty), ``insert`` (``insert_text`` after line ``insert_line``, 0 = the top).
``max_characters`` (a field of the tool definition) caps what ``view`` returns. ``undo_edit`` does not exist
in this version and is refused.

The results a model sees are the ones Anthropic's documentation gives for this tool where it gives one
(``Error: File not found``, ``Error: Found N matches for replacement text. Please provide more context to
make a unique match.``, ``Error: No match found for replacement. Please check your text and try again.``,
``Error: Permission denied. Cannot write to file.``, ``Successfully replaced text at exactly one
location.``, and ``N: line`` numbering in ``view``); the other messages follow the same style. Errors are
``is_error`` results.

Bash: ``{command}`` runs in the sandbox's persistent shell (session ``"default"``, shared with the
``shell`` tools, so state carries over); ``{restart: true}`` replaces that shell with a fresh one. Output is
stdout and stderr merged, as at a terminal; a non-zero exit status is appended; a timeout kills the command
(the shell stays usable) and is an error result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentcore.errors import PathEscapeError, SandboxError

from ..base import SandboxFileNotFound, SandboxIsADirectory, resolve_path
from ..tools import MAX_TIMEOUT_FACTOR, clean_terminal_output

if TYPE_CHECKING:
    from ..base import Sandbox
    from ..shell import OutputCallback

__all__ = ["EditorResult", "run_bash", "run_text_editor"]

FILE_NOT_FOUND = "Error: File not found"
NO_MATCH = "Error: No match found for replacement. Please check your text and try again."
PERMISSION_DENIED = "Error: Permission denied. Cannot write to file."
REPLACED = "Successfully replaced text at exactly one location."
MAX_FILE_BYTES = 10_000_000
DEFAULT_MAX_CHARACTERS = 200_000
"""What ``view`` returns at most when the tool definition sets no ``max_characters``."""
MAX_LISTED = 1000


def multiple_matches(count: int) -> str:
    return f"Error: Found {count} matches for replacement text. Please provide more context to make a unique match."


@dataclass(frozen=True)
class EditorResult:
    output: str
    is_error: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    """What was done, for a structured rendering: ``view`` of a file gives ``file_type: "text"``,
    ``start_line``, ``num_lines``, ``total_lines``; of a directory ``file_type: "directory"``; ``create``
    gives ``is_file_update``."""


def _error(text: str) -> EditorResult:
    return EditorResult(text if text.startswith("Error:") else f"Error: {text}", is_error=True)


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


async def _read(sandbox: Sandbox, path: str) -> str | EditorResult:
    try:
        data = await sandbox.read_file(path, max_bytes=MAX_FILE_BYTES)
    except SandboxFileNotFound:
        return EditorResult(FILE_NOT_FOUND, is_error=True)
    except SandboxIsADirectory:
        return _error(f"{path} is a directory; only the view command works on directories")
    if b"\0" in data[:8192]:
        return _error(f"{path} is a binary file; the text editor only edits text files")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _error(f"{path} is not UTF-8 text; the text editor only edits text files")


async def _write(sandbox: Sandbox, path: str, text: str) -> EditorResult | None:
    try:
        await sandbox.write_file(path, text.encode("utf-8"))
    except SandboxIsADirectory:
        return _error(f"{path} is a directory")
    except SandboxError:
        return EditorResult(PERMISSION_DENIED, is_error=True)
    return None


def _required(data: Mapping[str, Any], name: str, command: str) -> str | EditorResult:
    value = data.get(name)
    if not isinstance(value, str):
        return _error(f"Missing required parameter `{name}` (a string) for command `{command}`")
    return value


async def run_text_editor(
    sandbox: Sandbox, data: Mapping[str, Any], *, max_characters: int | None = None
) -> EditorResult:
    """Run one ``str_replace_based_edit_tool`` call (its ``input``) in ``sandbox``."""
    command = data.get("command")
    path = data.get("path")
    if not isinstance(path, str) or not path:
        return _error("Missing required parameter `path`")
    try:
        resolve_path(sandbox.config.workdir, path)
    except PathEscapeError:
        return _error(f"Permission denied. {path} is outside the workspace {sandbox.config.workdir}")
    try:
        if command == "view":
            limit = max_characters or data.get("max_characters") or DEFAULT_MAX_CHARACTERS
            if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
                return _error("max_characters must be a positive integer")
            return await _view(sandbox, path, data.get("view_range"), limit)
        if command == "create":
            return await _create(sandbox, path, data)
        if command == "str_replace":
            return await _str_replace(sandbox, path, data)
        if command == "insert":
            return await _insert(sandbox, path, data)
        if command == "undo_edit":
            return _error("undo_edit is not supported by this version of the text editor tool")
    except SandboxError as exc:
        return _error(str(exc))
    return _error(f"Unknown command {command!r}; use view, create, str_replace or insert")


async def _view(sandbox: Sandbox, path: str, view_range: Any, limit: int) -> EditorResult:
    info = await sandbox.stat(path)
    if info is None:
        return EditorResult(FILE_NOT_FOUND, is_error=True)
    if info.type == "dir":
        if view_range is not None:
            return _error("view_range cannot be used when path is a directory")
        return await _list(sandbox, path)
    text = await _read(sandbox, path)
    if isinstance(text, EditorResult):
        return text
    lines = _lines(text)
    first, last = 1, len(lines)
    if view_range is not None:
        if (
            not isinstance(view_range, list | tuple)
            or len(view_range) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in view_range)
        ):
            return _error(
                "Invalid view_range: give two line numbers [first, last]; last may be -1 for the end"
            )
        first, last = view_range[0], (len(lines) if view_range[1] == -1 else view_range[1])
        if not 1 <= first <= max(1, len(lines)):
            return _error(
                f"Invalid view_range {list(view_range)}: the first line must be between 1 and {len(lines)}"
            )
        if last < first:
            return _error(f"Invalid view_range {list(view_range)}: the last line is before the first")
        last = min(last, len(lines))
    body = "\n".join(f"{n}: {lines[n - 1]}" for n in range(first, last + 1))
    if not lines:
        body = "(empty file)"
    if len(body) > limit:
        cut = body.rfind("\n", 0, limit)
        shown = body[: cut if cut > 0 else limit]
        last = first + shown.count("\n")
        body = (
            f"{shown}\n[... truncated: lines {first}-{last} of {len(lines)} shown "
            f"(at most {limit:,} characters); view the rest with view_range ...]"
        )
    details = {
        "file_type": "text",
        "start_line": first,
        "num_lines": max(0, last - first + 1),
        "total_lines": len(lines),
    }
    return EditorResult(body, details=details)


async def _list(sandbox: Sandbox, path: str) -> EditorResult:
    entries: list[str] = []
    truncated = False

    async def walk(directory: str, prefix: str, depth: int) -> None:
        nonlocal truncated
        for entry in await sandbox.list_dir(directory):
            if entry.name.startswith("."):
                continue
            if len(entries) >= MAX_LISTED:
                truncated = True
                return
            is_dir = entry.type == "dir"
            entries.append(f"{prefix}{entry.name}{'/' if is_dir else ''}")
            if is_dir and depth < 2:
                await walk(entry.path, f"{prefix}{entry.name}/", depth + 1)

    await walk(path, "", 1)
    shown = resolve_path(sandbox.config.workdir, path)
    head = f"Files and directories in {shown}, up to 2 levels deep, hidden items excluded:"
    if not entries:
        return EditorResult(f"{head}\n(empty directory)", details={"file_type": "directory"})
    tail = f"\n[... listing stopped at {MAX_LISTED} entries ...]" if truncated else ""
    return EditorResult(head + "\n" + "\n".join(entries) + tail, details={"file_type": "directory"})


async def _create(sandbox: Sandbox, path: str, data: Mapping[str, Any]) -> EditorResult:
    file_text = _required(data, "file_text", "create")
    if isinstance(file_text, EditorResult):
        return file_text
    info = await sandbox.stat(path)
    if info is not None and info.type == "dir":
        return _error(f"{path} is a directory")
    failed = await _write(sandbox, path, file_text)
    if failed is not None:
        return failed
    return EditorResult(
        f"Successfully {'overwrote' if info is not None else 'created'} file {path}",
        details={"is_file_update": info is not None},
    )


async def _str_replace(sandbox: Sandbox, path: str, data: Mapping[str, Any]) -> EditorResult:
    old = _required(data, "old_str", "str_replace")
    if isinstance(old, EditorResult):
        return old
    new = data.get("new_str")
    new = new if isinstance(new, str) else ""
    if not old:
        return _error("old_str must not be empty; use insert or create to add text")
    text = await _read(sandbox, path)
    if isinstance(text, EditorResult):
        return text
    count = text.count(old)
    if count == 0:
        return EditorResult(NO_MATCH, is_error=True)
    if count > 1:
        return EditorResult(multiple_matches(count), is_error=True)
    failed = await _write(sandbox, path, text.replace(old, new, 1))
    return failed or EditorResult(REPLACED)


async def _insert(sandbox: Sandbox, path: str, data: Mapping[str, Any]) -> EditorResult:
    insert_text = data.get("insert_text", data.get("new_str"))
    if not isinstance(insert_text, str):
        return _error("Missing required parameter `insert_text` (a string) for command `insert`")
    line = data.get("insert_line")
    if isinstance(line, bool) or not isinstance(line, int):
        return _error("Missing required parameter `insert_line` (an integer) for command `insert`")
    text = await _read(sandbox, path)
    if isinstance(text, EditorResult):
        return text
    lines = _lines(text)
    if not 0 <= line <= len(lines):
        return _error(
            f"Invalid insert_line {line}: the file has {len(lines)} lines; use a number from 0 to {len(lines)}"
        )
    new_lines = lines[:line] + _lines(insert_text) + lines[line:]
    final_newline = text.endswith("\n") or not text or line == len(lines)
    updated = "\n".join(new_lines) + ("\n" if final_newline and new_lines else "")
    failed = await _write(sandbox, path, updated)
    if failed is not None:
        return failed
    where = "at the beginning of the file" if line == 0 else f"after line {line}"
    return EditorResult(f"Successfully inserted text {where}.")


async def run_bash(
    sandbox: Sandbox,
    data: Mapping[str, Any],
    *,
    session: str = "default",
    on_output: OutputCallback | None = None,
    timeout: float | None = None,  # noqa: ASYNC109
) -> EditorResult:
    """Run one ``bash`` tool call (its ``input``) in ``sandbox``'s persistent shell ``session``."""
    if data.get("restart") is True:
        await sandbox.reset_shell(session)
        return EditorResult("The bash session has been restarted (a fresh shell in the workspace).")
    command = data.get("command")
    if not isinstance(command, str) or not command.strip():
        return _error('no command given: send {"command": "..."} or {"restart": true}')
    if "\0" in command:
        return _error("the command contains a NUL character")
    default = sandbox.config.timeout_s
    limit = default if timeout is None or timeout <= 0 else min(timeout, MAX_TIMEOUT_FACTOR * default)
    try:
        result = await sandbox.shell(command, timeout=limit, session=session, on_output=on_output)
    except SandboxError as exc:
        return _error(f"the shell failed: {exc}")
    text = clean_terminal_output(result.output)
    notes = []
    if result.timed_out:
        notes.append(
            f"Error: Command timed out after {limit:g} seconds and was killed. The shell is still usable; "
            "run long commands in the background with their output redirected to a file."
        )
    elif result.exit_code not in (0, None):
        notes.append(f"[exit code {result.exit_code}]")
    if result.restarted:
        notes.append("[the shell exited and was restarted; cwd and exported variables were kept]")
    if result.truncated:
        notes.append(f"[output truncated: {result.total_bytes:,} bytes in total, head and tail shown]")
    if notes:
        text = (text + ("" if not text or text.endswith("\n") else "\n")) + "\n".join(notes)
    return EditorResult(text or "(no output)", is_error=result.timed_out)
