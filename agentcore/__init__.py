"""agentcore: provider-agnostic agents. One loop, any model vendor, any sandbox.

The public surface::

    from agentcore import Agent, Runner, tool, RunContext

``import agentcore`` itself is cheap: each public name is imported from its module the first time it
is used (PEP 562 ``__getattr__``), so a command that needs one corner of the package
(``agentcore --help``) does not pay for the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._compat import install as _install_old_paths

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .agent import Agent
    from .context import RunContext
    from .contextwin import ContextPolicy
    from .control.approvals import RunState
    from .control.guardrails import Budget, Check, Guardrail, SecretRedactor, ShellPolicy, guardrail
    from .control.handoffs import Handoff
    from .control.verifiers import CommandVerifier, FunctionVerifier, Verifier
    from .errors import (
        AgentcoreError,
        ConfigError,
        ContextWindowExceeded,
        GuardrailError,
        GuardrailTripwire,
        MaxTurnsExceeded,
        MissingCredentialsError,
        ModelBehaviorError,
        ModelCallFailed,
        ModelError,
        RetryBudgetExhausted,
        RunError,
        SessionBusy,
        ToolError,
        VerifierFailed,
    )
    from .events import RunResult
    from .messages import (
        AssistantMessage,
        Citation,
        HostedToolUse,
        Item,
        ProviderState,
        Reasoning,
        ToolCall,
        ToolResult,
        Usage,
        UserMessage,
    )
    from .messages import Handoff as HandoffItem
    from .model import Model, ModelRequest, ModelResponse, ModelSettings
    from .registry import register_provider, register_sandbox, resolve_model, resolve_sandbox
    from .run.retry import RetryPolicy
    from .run.runner import Runner, RunStream
    from .sessions.base import InMemorySession, Session
    from .tools import Tool, function_tool, tool

_EXPORTS: dict[str, tuple[str, ...]] = {
    "agent": ("Agent",),
    "context": ("RunContext",),
    "contextwin": ("ContextPolicy",),
    "control.approvals": ("RunState",),
    "control.guardrails": ("Budget", "Check", "Guardrail", "SecretRedactor", "ShellPolicy", "guardrail"),
    "control.handoffs": ("Handoff",),
    "control.verifiers": ("CommandVerifier", "FunctionVerifier", "Verifier"),
    "errors": (
        "AgentcoreError",
        "ConfigError",
        "ContextWindowExceeded",
        "GuardrailError",
        "GuardrailTripwire",
        "MaxTurnsExceeded",
        "MissingCredentialsError",
        "ModelBehaviorError",
        "ModelCallFailed",
        "ModelError",
        "RetryBudgetExhausted",
        "RunError",
        "SessionBusy",
        "ToolError",
        "VerifierFailed",
    ),
    "events": ("RunResult",),
    "messages": (
        "AssistantMessage",
        "Citation",
        "HostedToolUse",
        "Item",
        "ProviderState",
        "Reasoning",
        "ToolCall",
        "ToolResult",
        "Usage",
        "UserMessage",
    ),
    "model": ("Model", "ModelRequest", "ModelResponse", "ModelSettings"),
    "registry": ("register_provider", "register_sandbox", "resolve_model", "resolve_sandbox"),
    "run.retry": ("RetryPolicy",),
    "run.runner": ("Runner", "RunStream"),
    "sessions.base": ("InMemorySession", "Session"),
    "tools": ("Tool", "function_tool", "tool"),
}
_WHERE: dict[str, tuple[str, str]] = {
    name: (module, name) for module, names in _EXPORTS.items() for name in names
}
_WHERE["HandoffItem"] = ("messages", "Handoff")

__all__ = [
    "Agent",
    "AgentcoreError",
    "AssistantMessage",
    "Budget",
    "Check",
    "Citation",
    "CommandVerifier",
    "ConfigError",
    "ContextPolicy",
    "ContextWindowExceeded",
    "FunctionVerifier",
    "Guardrail",
    "GuardrailError",
    "GuardrailTripwire",
    "Handoff",
    "HandoffItem",
    "HostedToolUse",
    "InMemorySession",
    "Item",
    "MaxTurnsExceeded",
    "MissingCredentialsError",
    "Model",
    "ModelBehaviorError",
    "ModelCallFailed",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "ModelSettings",
    "ProviderState",
    "Reasoning",
    "RetryBudgetExhausted",
    "RetryPolicy",
    "RunContext",
    "RunError",
    "RunResult",
    "RunState",
    "RunStream",
    "Runner",
    "SecretRedactor",
    "Session",
    "SessionBusy",
    "ShellPolicy",
    "Tool",
    "ToolCall",
    "ToolError",
    "ToolResult",
    "Usage",
    "UserMessage",
    "Verifier",
    "VerifierFailed",
    "__version__",
    "function_tool",
    "guardrail",
    "register_provider",
    "register_sandbox",
    "resolve_model",
    "resolve_sandbox",
    "tool",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'agentcore' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{where[0]}"), where[1])
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


_install_old_paths()
