"""agentcore: provider-agnostic agents. One loop, any model vendor, any sandbox.

The public surface::

    from agentcore import Agent, Runner, tool, RunContext
"""

from __future__ import annotations

__version__ = "0.1.0"

from .agent import Agent
from .approvals import RunState
from .context import RunContext
from .errors import (
    AgentcoreError,
    ConfigError,
    GuardrailTripwire,
    MaxTurnsExceeded,
    ModelBehaviorError,
    ModelCallFailed,
    ModelError,
    RetryBudgetExhausted,
    RunError,
    ToolError,
    VerifierFailed,
)
from .events import RunResult
from .guardrails import Budget, Check, Guardrail, SecretRedactor, ShellPolicy, guardrail
from .handoffs import Handoff
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
from .retry import RetryPolicy
from .runner import Runner, RunStream
from .session import InMemorySession, Session
from .tools import Tool, function_tool, tool
from .verifiers import CommandVerifier, FunctionVerifier, Verifier

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
    "GuardrailTripwire",
    "Handoff",
    "HandoffItem",
    "InMemorySession",
    "Item",
    "MaxTurnsExceeded",
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
