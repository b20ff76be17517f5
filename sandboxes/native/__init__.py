"""The vendors' native client tools, executed in our sandbox (issue 13 §3).

OpenAI's ``shell``, ``local_shell`` and ``apply_patch`` and Anthropic's ``text_editor_20250728`` and
``bash_20250124`` are tools the models were trained on; here they run against any
:class:`~agentcore.sandboxes.base.Sandbox` (local, docker, e2b, modal) through its contract only.

* :func:`execute_native` (``dispatch.py``): one call of one kind → :class:`NativeResult` (text for the model,
  error flag, structured payload for the vendor's output item). This is what the provider adapters use.
* ``apply_patch.py``: our implementation of the V4A diff format (pure functions + the sandbox operation).
* ``shell.py``: ``shell`` actions (per-command stdout/stderr/outcome in the persistent shell) and
  ``local_shell`` exec actions.
* ``text_editor.py``: the Anthropic text editor and bash tools.
* :func:`native_function_tools` (``functions.py``): the same executors as plain function tools, for
  ``native_tools="off"`` and for vendors without native tools.
"""

from __future__ import annotations

from .apply_patch import PatchFailed, apply_patch, apply_v4a, create_content, parse_v4a
from .dispatch import NATIVE_TOOL_KINDS, NativeResult, NativeToolKind, execute_native, native_commands
from .functions import FUNCTION_NAMES, native_function_tools

__all__ = [
    "FUNCTION_NAMES",
    "NATIVE_TOOL_KINDS",
    "NativeResult",
    "NativeToolKind",
    "PatchFailed",
    "apply_patch",
    "apply_v4a",
    "create_content",
    "execute_native",
    "native_commands",
    "native_function_tools",
    "parse_v4a",
]
