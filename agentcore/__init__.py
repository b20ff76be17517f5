"""agentcore: provider-agnostic agents. One loop, any model vendor, any sandbox.

The public surface::

    from agentcore import Agent, Runner, tool, RunContext
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._compat import install as _install_old_paths
from .agent import Agent
from .context import RunContext
from .control.approvals import RunState
from .control.guardrails import Budget, Check, Guardrail, SecretRedactor, ShellPolicy, guardrail
from .control.handoffs import Handoff
from .control.verifiers import CommandVerifier, FunctionVerifier, Verifier
from .errors import (
    AgentcoreError,
    ConfigError,
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
    Item,
    ProviderState,
    Reasoning,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
)
from .messages import (
    Handoff as HandoffItem,
)
from .model import Model, ModelRequest, ModelResponse, ModelSettings
from .registry import register_provider, register_sandbox, resolve_model, resolve_sandbox
from .run.retry import RetryPolicy
from .run.runner import Runner, RunStream
from .sessions.base import InMemorySession, Session
from .tools import Tool, function_tool, tool

__all__ = [
    "Agent",
    "AgentcoreError",
    "AssistantMessage",
    "Budget",
    "Check",
    "CommandVerifier",
    "ConfigError",
    "FunctionVerifier",
    "Guardrail",
    "GuardrailError",
    "GuardrailTripwire",
    "Handoff",
    "HandoffItem",
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

_install_old_paths()
