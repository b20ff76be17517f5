"""Every exception agentcore raises, in one module.

Two families matter to the runner:

* :class:`ModelError` subclasses come from provider adapters. ``retryable`` tells the single retry
  policy (``agentcore.retry``) whether replaying the request is worth it; ``retry_after`` carries the
  vendor's hint in seconds.
* :class:`RunError` subclasses end a run. Each carries what the run produced so far, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .messages import Item, Usage


class AgentcoreError(Exception):
    """Base class of every agentcore error.

    When the error ended a run, ``usage`` and ``turns`` are what the run spent until then (the runner
    sets them on the way out, so a failed run's cost is never lost); ``None`` otherwise.
    """

    usage: Usage | None = None
    turns: int | None = None


# --------------------------------------------------------------------------- model / provider errors


class ModelError(AgentcoreError):
    """A model call failed. Adapters map vendor errors to one of the subclasses."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.retry_after = retry_after
        self.body = body

    @property
    def error_type(self) -> str:
        """Short name used as the ``error.type`` span attribute."""
        return type(self).__name__


class TransportError(ModelError):
    """The request never got an HTTP answer (connection refused, reset, DNS)."""

    retryable = True


class ModelTimeoutError(ModelError):
    """The vendor did not answer in time."""

    retryable = True


class RateLimitError(ModelError):
    """HTTP 429. ``retry_after`` holds the vendor's hint when it sent one."""

    retryable = True


class ServerError(ModelError):
    """HTTP 5xx from the vendor."""

    retryable = True


class OverloadedError(ServerError):
    """The vendor is overloaded (Anthropic 529 ``overloaded_error``, Gemini 503 UNAVAILABLE)."""

    retryable = True


class InvalidRequestError(ModelError):
    """HTTP 400/404/422: the request itself is wrong; replaying it cannot help."""


class ContextTooLongError(InvalidRequestError):
    """The transcript does not fit the model's context window."""


class AuthenticationError(ModelError):
    """HTTP 401/403: missing or wrong credentials."""


class ServerStateLostError(InvalidRequestError):
    """The vendor no longer knows a stored response/interaction id. Adapters resend the full transcript."""


class SafetyChecksDeclined(InvalidRequestError):
    """A computer action the vendor flagged with safety checks (OpenAI ``pending_safety_checks``) did not
    run — a human rejected it, or it was refused before anyone decided — and the vendor continues such a
    call only once its checks are acknowledged. The adapter sends no request (never an acknowledgement
    nobody gave): the run ends with ``ModelCallFailed`` whose ``error`` is this. ``call_id`` and
    ``checks`` (id, code, message) name the call; ``outcome`` is what the tool result said."""

    def __init__(
        self, message: str, *, call_id: str, checks: list[dict[str, Any]], outcome: str, provider: str
    ) -> None:
        super().__init__(message, provider=provider)
        self.call_id = call_id
        self.checks = checks
        self.outcome = outcome


class ModelStreamError(ModelError):
    """The stream broke after it started (an ``error`` event mid-stream)."""

    retryable = True


class IncompleteResponseError(ModelError):
    """The vendor ended a response without completing it: an OpenAI background response that was
    ``cancelled`` (not by this run) or came back ``incomplete``. ``status`` is the vendor's status and
    ``reason`` its detail (``max_output_tokens``, ``content_filter``…). Not retryable: the same request
    would end the same way."""

    def __init__(self, message: str, *, status: str, reason: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.status = status
        self.reason = reason


class UnknownModelError(AgentcoreError):
    """A ``provider:model`` string names no registered provider."""


# --------------------------------------------------------------------------- run-ending errors


class RunError(AgentcoreError):
    """A run ended without a final output. ``items`` is the transcript produced so far."""

    def __init__(self, message: str, *, items: Sequence[Item] = (), agent_name: str | None = None) -> None:
        super().__init__(message)
        self.items: list[Item] = list(items)
        self.agent_name = agent_name


class MaxTurnsExceeded(RunError):
    """The run used ``max_turns`` model calls without reaching a final output."""


class ModelBehaviorError(RunError):
    """The model kept making mistakes (invalid tool arguments, unknown tools, invalid output) past its budget.

    ``corrections`` lists every correction of the streak that ran out, oldest first, as
    ``(source, message)`` (source: ``unknown_tool``, ``tool_arguments``, ``guardrail``,
    ``output_validation``); the message lists them all.
    """

    def __init__(
        self,
        message: str,
        *,
        items: Sequence[Item] = (),
        agent_name: str | None = None,
        corrections: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.corrections: list[tuple[str, str]] = list(corrections)
        if self.corrections:
            lines = [f"  {n}. [{source}] {text}" for n, (source, text) in enumerate(self.corrections, 1)]
            message = message + "; the corrections, oldest first:\n" + "\n".join(lines)
        super().__init__(message, items=items, agent_name=agent_name)


class UnsupportedResponseError(RunError):
    """The model answered only with output agentcore cannot act on (an item type it does not know) and
    no text or tool call. The items are kept, with their provider state, in ``items``; nothing was dropped."""


class GuardrailTripwire(RunError):
    """A guardrail stopped the run. Nothing after the guardrail executed."""

    def __init__(
        self,
        guardrail: str,
        reason: str,
        *,
        stage: str = "",
        items: Sequence[Item] = (),
        agent_name: str | None = None,
    ) -> None:
        super().__init__(
            f"guardrail {guardrail!r} tripped ({stage}): {reason}", items=items, agent_name=agent_name
        )
        self.guardrail = guardrail
        self.reason = reason
        self.stage = stage


class GuardrailError(RunError):
    """A guardrail failed: its check raised, or it returned a verdict its stage cannot apply (a
    ``rewrite`` at ``turn``, a rewrite of the arguments that the tool refuses, …). Names the guardrail
    and the stage; ``error`` is the exception it raised (also ``__cause__``), if any."""

    def __init__(
        self,
        guardrail: str,
        message: str,
        *,
        stage: str = "",
        error: BaseException | None = None,
        items: Sequence[Item] = (),
        agent_name: str | None = None,
    ) -> None:
        super().__init__(
            f"guardrail {guardrail!r} failed ({stage}): {message}", items=items, agent_name=agent_name
        )
        self.guardrail = guardrail
        self.stage = stage
        self.error = error


class VerifierFailed(RunError):
    """The agent's verifiers still failed after the feedback budget was spent."""

    def __init__(
        self, verifier: str, output: str, *, items: Sequence[Item] = (), agent_name: str | None = None
    ):
        super().__init__(
            f"verifier {verifier!r} failed: {output[-2000:]}", items=items, agent_name=agent_name
        )
        self.verifier = verifier
        self.output = output


class RetryBudgetExhausted(RunError):
    """A model call kept failing with retryable errors until the run's retry budget was spent."""

    def __init__(self, last_error: ModelError, *, items: Sequence[Item] = (), agent_name: str | None = None):
        super().__init__(f"model call failed after retries: {last_error}", items=items, agent_name=agent_name)
        self.last_error = last_error


class ModelCallFailed(RunError):
    """A model call failed with a non-retryable error. ``error`` is the provider's typed error."""

    def __init__(self, error: ModelError, *, items: Sequence[Item] = (), agent_name: str | None = None):
        super().__init__(f"model call failed: {error}", items=items, agent_name=agent_name)
        self.error = error


class ContextWindowExceeded(ModelCallFailed):
    """The vendor answered "context too long" (``error`` is its :class:`ContextTooLongError`) again after
    the agent's context policy compacted the transcript once, or the agent has no policy to compact with."""


# --------------------------------------------------------------------------- tools, config, sandboxes


class ToolError(AgentcoreError):
    """Raise inside a tool to send a clear error message back to the model (``is_error=True``)."""


class UserError(AgentcoreError):
    """agentcore was used wrongly (bad tool signature, duplicate tool names, …)."""


class MissingCredentialsError(UserError):
    """A provider has no API key: raised when the adapter is built, before any network work.
    ``variable`` names the environment variable to set (``OPENAI_API_KEY``, …)."""

    def __init__(self, provider: str, variable: str, hint: str = "") -> None:
        self.provider = provider
        self.variable = variable
        super().__init__(
            f"no API key for {provider}: set {variable} (or pass api_key= / a client to the model)"
            + (f"; {hint}" if hint else "")
        )


class ConfigError(AgentcoreError):
    """A YAML definition is invalid. ``errors`` lists ``(file, line, column, message)``."""

    def __init__(self, errors: Sequence[tuple[str, int, int, str]]) -> None:
        self.errors = list(errors)
        lines = [f"{f}:{ln}:{col}: {msg}" for f, ln, col, msg in self.errors]
        super().__init__("\n".join(lines) if lines else "invalid configuration")


class SandboxError(AgentcoreError):
    """A sandbox operation failed (backend unavailable, sandbox died, path refused)."""


class SandboxDied(SandboxError):
    """The sandbox went away mid-run (container removed, VM killed)."""


class PathEscapeError(SandboxError):
    """A path resolves outside the sandbox workspace (``..`` or a symlink)."""


class InterruptedRun(AgentcoreError):
    """Internal marker: a run paused for human approval (see ``RunResult.interruptions``)."""


class ApprovalError(AgentcoreError):
    """A paused run cannot resume: its state was edited, an approval is forged, missing or already used."""


class SessionBusy(AgentcoreError):
    """Another run holds the session (in this process or another) and did not finish within the wait.

    ``session_id`` names the session, ``holder`` describes the lock's owner (``pid@host``) and
    ``waited`` is how long this run waited, in seconds. Nothing was read or written: retry later."""

    def __init__(self, session_id: str, *, holder: str = "", waited: float = 0.0, message: str = "") -> None:
        self.session_id = session_id
        self.holder = holder
        self.waited = waited
        super().__init__(
            message
            or f"session {session_id!r} is busy: another run ({holder or 'unknown owner'}) holds it; "
            f"waited {waited:.1f}s (raise the wait with SQLiteSession(..., lock_timeout=…))"
        )
