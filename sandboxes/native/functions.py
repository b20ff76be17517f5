"""The native tools as plain function tools, for ``native_tools="off"`` and for vendors without them.

``native_function_tools(sandbox, kinds)`` returns one :class:`~agentcore.tools.Tool` per kind, named as the
vendors name the native tool (``shell``, ``local_shell``, ``apply_patch``, ``str_replace_based_edit_tool``,
``bash``) and taking the same fields the native call carries. Each runs
:func:`~agentcore.sandboxes.native.dispatch.execute_native`, so a run that uses these function tools and one
that uses the vendor's native tools leave the same workspace. An error result (a patch that does not apply,
a missing file, a timeout) is raised as :class:`~agentcore.errors.ToolError`, i.e. an error tool result; so
is a :class:`~agentcore.errors.SandboxError` (the sandbox died), as with ``Sandbox.tools()``.

Approvals follow the sandbox's ``approve_tools``: a tool whose own name is listed needs approval, and so do
the shell-like ones (``shell``, ``local_shell``, ``bash``) when ``shell`` is listed, and the editing ones
(``apply_patch``, ``str_replace_based_edit_tool``) when ``write_file`` or ``edit_file`` is listed.

Do not give an agent both these and ``Sandbox.tools()`` (both have a ``shell``): pick one set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from agentcore.context import RunContext
from agentcore.errors import SandboxError, ToolError
from agentcore.tools import Tool, function_to_tool

from ..tools import cap_result
from .dispatch import NATIVE_TOOL_KINDS, NativeToolKind, execute_native

if TYPE_CHECKING:
    from ..base import Sandbox

__all__ = ["FUNCTION_NAMES", "native_function_tools"]

FUNCTION_NAMES: dict[NativeToolKind, str] = {
    "shell": "shell",
    "local_shell": "local_shell",
    "apply_patch": "apply_patch",
    "text_editor": "str_replace_based_edit_tool",
    "bash": "bash",
}
_SHELL_LIKE = {"shell", "local_shell", "bash"}
_EDITING = {"apply_patch", "text_editor"}


def _args(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _builders(sandbox: Sandbox) -> dict[NativeToolKind, Callable[..., Any]]:
    async def run(kind: NativeToolKind, data: dict[str, Any], ctx: RunContext[Any] | None = None) -> str:
        try:
            result = await execute_native(kind, sandbox, data, on_output=ctx.emit_output if ctx else None)
        except SandboxError as exc:  # the sandbox died or refused: a tool error, as for sandbox.tools()
            raise ToolError(f"{FUNCTION_NAMES[kind]} failed: {exc}") from exc
        if result.is_error:
            raise ToolError(cap_result(result.output))
        return cap_result(result.output)

    async def shell(
        ctx: RunContext[Any],
        commands: list[str],
        timeout_ms: int | None = None,
        max_output_length: int | None = None,
    ) -> str:
        """Run shell commands one after the other in a persistent bash shell inside the sandbox (cwd and
        exported variables persist between commands and calls). Each command reports its stdout, stderr
        and exit code.

        Args:
            commands: The command lines to run, in order.
            timeout_ms: Milliseconds each command may run before it is killed.
            max_output_length: Maximum characters of stdout and stderr kept per command.
        """
        return await run(
            "shell", _args(commands=commands, timeout_ms=timeout_ms, max_output_length=max_output_length), ctx
        )

    async def local_shell(
        command: list[str],
        env: dict[str, str] | None = None,
        working_directory: str | None = None,
        timeout_ms: int | None = None,
    ) -> str:
        """Run one program (an argv list, no shell state) inside the sandbox.

        Args:
            command: The program and its arguments, e.g. ["ls", "-la"].
            env: Extra environment variables.
            working_directory: Directory to run in (inside the workspace).
            timeout_ms: Milliseconds before the program is killed.
        """
        data = _args(
            type="exec",
            command=command,
            env=env or {},
            working_directory=working_directory,
            timeout_ms=timeout_ms,
        )
        return await run("local_shell", data)

    async def apply_patch(
        type: Literal["create_file", "update_file", "delete_file"],
        path: str,
        diff: str = "",
    ) -> str:
        """Create, update or delete one file of the workspace. create_file: `diff` is the new file, every
        line prefixed with '+'. update_file: `diff` is a V4A diff: hunks opened by '@@' (optionally
        '@@ <a line of the file, e.g. a def or class header>'), lines prefixed ' ' (context, about 3
        before and after each change), '-' (remove) or '+' (add); '*** End of File' ends a hunk that
        must match the end of the file. delete_file: no diff. A patch that does not apply changes nothing.

        Args:
            type: create_file, update_file or delete_file.
            path: File path, relative to the workspace.
            diff: The file content (create_file) or the V4A diff (update_file).
        """
        return await run("apply_patch", {"type": type, "path": path, "diff": diff})

    async def str_replace_based_edit_tool(
        command: Literal["view", "create", "str_replace", "insert"],
        path: str,
        file_text: str | None = None,
        old_str: str | None = None,
        new_str: str | None = None,
        insert_line: int | None = None,
        insert_text: str | None = None,
        view_range: list[int] | None = None,
    ) -> str:
        """View, create and edit text files in the workspace. view: a file with line numbers (view_range
        [first, last], -1 = to the end) or a directory listing. create: write file_text. str_replace:
        replace old_str, which must occur exactly once, by new_str. insert: insert_text after line
        insert_line (0 = at the top).

        Args:
            command: view, create, str_replace or insert.
            path: File or directory path, relative to the workspace.
            file_text: The content of the new file (create).
            old_str: The exact text to replace (str_replace).
            new_str: The replacement text (str_replace).
            insert_line: The line after which to insert (insert).
            insert_text: The text to insert (insert).
            view_range: [first, last] lines to show (view).
        """
        data = _args(
            command=command,
            path=path,
            file_text=file_text,
            old_str=old_str,
            new_str=new_str,
            insert_line=insert_line,
            insert_text=insert_text,
            view_range=view_range,
        )
        return await run("text_editor", data)

    async def bash(ctx: RunContext[Any], command: str | None = None, restart: bool = False) -> str:
        """Run a command in a persistent bash shell inside the sandbox (state persists between calls), or
        restart that shell.

        Args:
            command: The bash command to run.
            restart: Replace the shell with a fresh one instead of running a command.
        """
        return await run("bash", _args(command=command, restart=restart or None), ctx)

    return {
        "shell": shell,
        "local_shell": local_shell,
        "apply_patch": apply_patch,
        "text_editor": str_replace_based_edit_tool,
        "bash": bash,
    }


def _needs_approval(kind: NativeToolKind, approve: set[str]) -> bool:
    if FUNCTION_NAMES[kind] in approve or kind in approve:
        return True
    if kind in _SHELL_LIKE and "shell" in approve:
        return True
    return kind in _EDITING and bool(approve & {"write_file", "edit_file"})


def native_function_tools(
    sandbox: Sandbox, kinds: Iterable[NativeToolKind] = ("shell", "apply_patch")
) -> list[Tool]:
    """Function tools for ``kinds``, bound to ``sandbox``."""
    wanted = list(kinds)
    for kind in wanted:
        if kind not in NATIVE_TOOL_KINDS:
            raise ValueError(f"unknown native tool kind {kind!r}; one of {', '.join(NATIVE_TOOL_KINDS)}")
    builders = _builders(sandbox)
    approve = set(sandbox.config.approve_tools)
    tools = []
    for kind in wanted:
        made = function_to_tool(builders[kind], needs_approval=_needs_approval(kind, approve))
        made.metadata.update(
            {
                "sandbox": True,
                "sandbox_backend": sandbox.backend,
                "sandbox_id": sandbox.id,
                "native_kind": kind,
            }
        )
        tools.append(made)
    return tools
