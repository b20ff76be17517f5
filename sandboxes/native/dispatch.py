"""One entry point for every native client tool: ``execute_native(kind, sandbox, input)``.

The provider adapters map a vendor's wire form to a :data:`NativeToolKind` and the tool's input, and map
the :class:`NativeResult` back: ``output`` is the text for a model that takes text (Anthropic
``tool_result.content``, a function result), ``is_error`` its error flag, and ``payload`` the structured
fields of the vendor's output item:

========================  ==========================================  ==============================================
kind                      input                                       payload
========================  ==========================================  ==============================================
``shell``                 ``shell_call.action``                       ``{output: [{stdout, stderr, outcome}],
                          (``commands``, ``timeout_ms``,              max_output_length}`` (``shell_call_output``)
                          ``max_output_length``)
``local_shell``           ``local_shell_call.action`` (``exec``)      ``{output: "<JSON string>"}``
                                                                      (``local_shell_call_output``)
``apply_patch``           ``apply_patch_call.operation``              ``{status: "completed"|"failed", output}``
                                                                      (``apply_patch_call_output``)
``text_editor``           ``str_replace_based_edit_tool`` input       ``{command, path}`` + what was done (``view``:
                                                                      ``file_type``, ``start_line``, ``num_lines``,
                                                                      ``total_lines``; ``create``: ``is_file_update``)
``bash``                  ``bash`` input (``command`` | ``restart``)  ``{}``
========================  ==========================================  ==============================================

A malformed input (no commands, an unknown operation) is an error result, never an exception; exceptions
are the sandbox's own typed errors (:class:`~agentcore.errors.SandboxError`: the sandbox died…).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from agentcore.errors import UserError

from .apply_patch import apply_patch
from .shell import run_local_shell, run_shell_action
from .text_editor import run_bash, run_text_editor

if TYPE_CHECKING:
    from ..base import Sandbox
    from ..shell import OutputCallback

__all__ = ["NATIVE_TOOL_KINDS", "NativeResult", "NativeToolKind", "execute_native", "native_commands"]

NativeToolKind = Literal["shell", "local_shell", "apply_patch", "text_editor", "bash"]
"""The vendor-trained client tools agentcore runs in a sandbox (OpenAI ``shell``, ``local_shell``,
``apply_patch``; Anthropic ``text_editor_20250728``, ``bash_20250124``)."""

NATIVE_TOOL_KINDS: tuple[NativeToolKind, ...] = get_args(NativeToolKind)


@dataclass(frozen=True)
class NativeResult:
    """What a native tool call produced."""

    output: str
    """Text for the model."""
    is_error: bool = False
    payload: dict[str, Any] = field(default_factory=dict)
    """Structured fields for the vendor's output item (see the module's table)."""


def _unwrap(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """Accept the whole call item (``{action: {...}}`` / ``{operation: {...}}``) as well as its inner object."""
    inner = data.get(key)
    return inner if isinstance(inner, Mapping) else data


def native_commands(kind: NativeToolKind, input: Mapping[str, Any]) -> list[str]:
    """The command lines a native call will run in the sandbox, for guardrails that judge commands
    (``ShellPolicy``): each of ``shell``'s commands, ``bash``'s command, ``local_shell``'s argv quoted as
    one line. File tools (``apply_patch``, ``text_editor``) run no command: ``[]``."""
    if kind == "shell":
        commands = _unwrap(input, "action").get("commands")
        if isinstance(commands, str):
            return [commands]
        return [c for c in commands if isinstance(c, str)] if isinstance(commands, list) else []
    if kind == "bash":
        command = input.get("command")
        return [command] if isinstance(command, str) and not input.get("restart") else []
    if kind == "local_shell":
        argv = _unwrap(input, "action").get("command")
        if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
            return [shlex.join(argv)]
    return []


async def execute_native(
    kind: NativeToolKind,
    sandbox: Sandbox,
    input: Mapping[str, Any],
    *,
    session: str = "default",
    on_output: OutputCallback | None = None,
    max_characters: int | None = None,
) -> NativeResult:
    """Run one native tool call in ``sandbox`` (started if it is not yet). ``on_output`` receives live
    shell output (``shell``, ``bash``); ``max_characters`` is the text editor definition's cap."""
    if kind not in NATIVE_TOOL_KINDS:
        raise UserError(f"unknown native tool kind {kind!r}; one of {', '.join(NATIVE_TOOL_KINDS)}")
    if not sandbox.started:
        await sandbox.start()
    if kind == "shell":
        action = _unwrap(input, "action")
        try:
            result = await run_shell_action(sandbox, action, session=session, on_output=on_output)
        except ValueError as exc:
            return NativeResult(
                f"Error: {exc}", is_error=True, payload={"output": [], "max_output_length": None}
            )
        return NativeResult(result.text(), payload=result.payload())
    if kind == "local_shell":
        action = _unwrap(input, "action")
        try:
            local = await run_local_shell(sandbox, action)
        except ValueError as exc:
            message = f"Error: {exc}"
            return NativeResult(message, is_error=True, payload={"output": json.dumps({"output": message})})
        return NativeResult(local.text(), payload={"output": local.output_json()})
    if kind == "apply_patch":
        operation = _unwrap(input, "operation")
        status, log = await apply_patch(sandbox, operation)
        return NativeResult(log, is_error=status == "failed", payload={"status": status, "output": log})
    if kind == "text_editor":
        edited = await run_text_editor(sandbox, input, max_characters=max_characters)
        payload = {"command": input.get("command"), "path": input.get("path"), **edited.details}
        return NativeResult(edited.output, is_error=edited.is_error, payload=payload)
    ran = await run_bash(sandbox, input, session=session, on_output=on_output)
    return NativeResult(ran.output, is_error=ran.is_error)
