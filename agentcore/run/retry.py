"""The single retry policy for model calls, built on tenacity.

Retryable: transport errors, timeouts, 429, 5xx and 529 (``ModelError.retryable``). Backoff is
exponential with jitter; a vendor's ``retry_after`` hint is honoured (capped by ``max_delay``).
Attempts are bounded per call (``max_attempts``) and per run (``RetryBudget``). The runner replays a
request only while nothing has been streamed to the user. Model mistakes are never retried here: they
go back to the model as tool errors or validation feedback.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tenacity import RetryCallState, wait_exponential_jitter

from ..errors import ModelError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    """Attempts per model call, the first included."""
    initial_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.5
    run_budget: int = 10
    """Retries (not counting first attempts) allowed across one whole run."""
    honor_retry_after: bool = True


@dataclass
class RetryBudget:
    """Retries left in one run."""

    remaining: int
    used: int = 0
    attempts: list[str] = field(default_factory=list)

    def take(self) -> bool:
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        self.used += 1
        return True


class RetryWait:
    """tenacity wait strategy: exponential backoff with jitter, or the vendor's ``retry_after``."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self._backoff = wait_exponential_jitter(
            initial=policy.initial_delay, max=policy.max_delay, jitter=policy.jitter
        )

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if self.policy.honor_retry_after and isinstance(exc, ModelError) and exc.retry_after is not None:
            return float(min(max(exc.retry_after, 0.0), self.policy.max_delay))
        return float(self._backoff(state))


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ModelError) and exc.retryable
