"""Guardrails: checks at every stage of a run.

Stages:

* ``input`` — the user's input, before (``blocking=True``, the default) or alongside the first model call;
* ``turn`` — before every model call (budgets);
* ``pre_tool`` — a tool call's validated arguments, before the tool runs (a shell command policy lives here);
* ``post_tool`` — a tool's result, before the model sees it (redaction rewrites it);
* ``output`` — the final output, before the run returns it (and, with ``hold_output_until_checked``,
  before streamed text is released).

A check returns a :class:`Verdict`: ``allow()``, ``tripwire(reason)`` (the run stops with
:class:`~agentcore.errors.GuardrailTripwire`; nothing after it executes), ``retry(feedback)`` or
``rewrite(text)``. What ``retry`` and ``rewrite`` do depends on the stage (no verdict is ever ignored):

=========  =====================================  =================================================
stage      ``retry(feedback)``                    ``rewrite(text)``
=========  =====================================  =================================================
input      stops the run (``GuardrailTripwire``)  replaces the user's input (blocking guardrails;
                                                  a non-blocking one raises ``GuardrailError``)
turn       the feedback goes to the model          ``GuardrailError`` (nothing to rewrite)
pre_tool   the call fails, the model is told why   new arguments: a JSON object
                                                  (:func:`rewrite_arguments`)
post_tool  the result becomes an error             replaces the tool output
output     the feedback goes to the model          replaces the final text (re-validated)
=========  =====================================  =================================================

Feedback to the model counts against the agent's ``max_corrections``. A guardrail whose check raises
ends the run with :class:`~agentcore.errors.GuardrailError`.
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..context import RunContext
from ..messages import ToolCall, ToolResult
from ..tracing import _SECRET_NAME
from ..tracing.redaction import SECRET_PATTERNS, handed_values

if TYPE_CHECKING:
    from ..agent import Agent
    from .shell_policy import ShellPolicy as ShellPolicy
    from .shell_policy import split_commands as split_commands

Stage = Literal["input", "turn", "pre_tool", "post_tool", "output"]
STAGES: tuple[Stage, ...] = ("input", "turn", "pre_tool", "post_tool", "output")


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Literal["allow", "tripwire", "retry", "rewrite"] = "allow"
    reason: str = ""
    replacement: str | None = None
    guardrail: str = ""
    """The guardrail that gave the verdict (filled in by the runner)."""

    @property
    def allowed(self) -> bool:
        return self.action == "allow"


def allow() -> Verdict:
    return Verdict()


def tripwire(reason: str) -> Verdict:
    return Verdict("tripwire", reason)


def retry(feedback: str) -> Verdict:
    return Verdict("retry", feedback)


def rewrite(text: str, reason: str = "rewritten") -> Verdict:
    """Replace the input (input), tool output (post_tool) or final text (output) with ``text``; at
    ``pre_tool``, ``text`` is the new arguments as a JSON object (see :func:`rewrite_arguments`)."""
    return Verdict("rewrite", reason, text)


def rewrite_arguments(arguments: dict[str, Any], reason: str = "arguments rewritten") -> Verdict:
    """A ``pre_tool`` verdict: run the tool with ``arguments`` instead of the model's."""
    import json

    return Verdict("rewrite", reason, json.dumps(arguments))


@dataclass(slots=True)
class Check:
    """What a guardrail is asked to check. Fields not relevant to the stage are ``None``."""

    stage: Stage
    ctx: RunContext[Any]
    text: str | None = None
    """The input text (input), the tool output (post_tool) or the final text (output)."""
    call: ToolCall | None = None
    arguments: dict[str, Any] | None = None
    result: ToolResult | None = None
    output: Any = None


class Guardrail:
    """Base class. Subclasses set ``name`` and ``stages`` and implement :meth:`check`.

    ``tools`` limits tool-stage guardrails to the named tools (``None`` = every tool).
    """

    name: str = "guardrail"
    stages: tuple[Stage, ...] = ("input",)
    tools: frozenset[str] | None = None
    blocking: bool = True

    async def check(self, data: Check) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError

    def applies(self, stage: Stage, tool_name: str | None = None) -> bool:
        if stage not in self.stages:
            return False
        if tool_name is not None and self.tools is not None:
            return tool_name in self.tools
        return True


GuardrailFn = Callable[[Check], "Verdict | bool | str | Awaitable[Verdict | bool | str | None] | None"]


def _coerce(value: Verdict | bool | str | None) -> Verdict:
    """``True``/``None`` allow, ``False`` trips, a string trips with that reason."""
    if isinstance(value, Verdict):
        return value
    if value is None or value is True:
        return allow()
    if value is False:
        return tripwire("rejected")
    return tripwire(str(value))


class FunctionGuardrail(Guardrail):
    """A guardrail from a plain function (sync or async) of a :class:`Check`."""

    def __init__(
        self,
        fn: GuardrailFn,
        *,
        stage: Stage | Sequence[Stage] = "input",
        name: str | None = None,
        tools: Sequence[str] | None = None,
        blocking: bool = True,
    ) -> None:
        self.fn = fn
        self.name = name or str(getattr(fn, "__name__", "guardrail"))
        self.stages = (stage,) if isinstance(stage, str) else tuple(stage)
        self.tools = frozenset(tools) if tools is not None else None
        self.blocking = blocking
        for s in self.stages:
            if s not in STAGES:
                raise ValueError(f"unknown guardrail stage {s!r}; expected one of {STAGES}")

    async def check(self, data: Check) -> Verdict:
        value = self.fn(data)
        if inspect.isawaitable(value):
            value = await value
        return _coerce(value)


def guardrail(
    stage: Stage | Sequence[Stage] = "input",
    *,
    name: str | None = None,
    tools: Sequence[str] | None = None,
    blocking: bool = True,
) -> Callable[[GuardrailFn], FunctionGuardrail]:
    """Decorator: ``@guardrail("output")`` turns a function of a :class:`Check` into a guardrail."""

    def wrap(fn: GuardrailFn) -> FunctionGuardrail:
        return FunctionGuardrail(fn, stage=stage, name=name, tools=tools, blocking=blocking)

    return wrap


class AgentGuardrail(Guardrail):
    """An LLM judge: runs ``judge`` (an Agent) on the text and trips when it says ``allowed: false``."""

    def __init__(
        self,
        judge: Agent[Any],
        *,
        stage: Stage | Sequence[Stage] = "input",
        name: str | None = None,
        on_fail: Literal["tripwire", "retry"] = "tripwire",
        blocking: bool = True,
    ) -> None:
        from pydantic import BaseModel

        class Judgement(BaseModel):
            allowed: bool
            reason: str = ""

        self.judgement_type = Judgement
        self.judge = judge.clone(output_type=Judgement)
        self.name = name or judge.name
        self.stages = (stage,) if isinstance(stage, str) else tuple(stage)
        self.on_fail = on_fail
        self.blocking = blocking

    async def check(self, data: Check) -> Verdict:
        subject = data.text if data.text is not None else str(data.arguments or data.output)
        result = await data.ctx.run_subagent(self.judge, f"[{data.stage}]\n{subject}")
        judgement = result.final_output
        if judgement is None or getattr(judgement, "allowed", False):
            return allow()
        reason = getattr(judgement, "reason", "") or "rejected by judge"
        return retry(reason) if self.on_fail == "retry" else tripwire(reason)


# --------------------------------------------------------------------------- built-ins

# ShellPolicy and split_commands live in shell_policy.py (which imports this module); the package
# (agentcore/control/__init__.py) sets them here too, so old imports from this module keep working.


@dataclass
class Budget(Guardrail):
    """Stop a run that spends too much: tokens, cost (USD, from ``prices``), wall time, sandbox seconds."""

    max_tokens: int | None = None
    max_cost: float | None = None
    max_seconds: float | None = None
    max_sandbox_seconds: float | None = None
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    """USD per million (input, output) tokens, by model name."""
    name: str = "budget"
    stages: tuple[Stage, ...] = ("turn", "pre_tool", "output")
    tools: frozenset[str] | None = None
    blocking: bool = True

    async def check(self, data: Check) -> Verdict:
        ctx = data.ctx
        usage = ctx.usage
        if self.max_tokens is not None and usage.total_tokens > self.max_tokens:
            return tripwire(f"token budget exceeded: {usage.total_tokens} > {self.max_tokens}")
        started = ctx.extra.get("started_at")
        if self.max_seconds is not None and started is not None:
            elapsed = time.monotonic() - float(started)
            if elapsed > self.max_seconds:
                return tripwire(f"time budget exceeded: {elapsed:.1f}s > {self.max_seconds}s")
        sandbox_s = float(ctx.extra.get("sandbox_seconds", 0.0))
        if self.max_sandbox_seconds is not None and sandbox_s > self.max_sandbox_seconds:
            return tripwire(f"sandbox time budget exceeded: {sandbox_s:.1f}s > {self.max_sandbox_seconds}s")
        if self.max_cost is not None:
            model = str(ctx.extra.get("model_name", ""))
            price_in, price_out = self.prices.get(model, (0.0, 0.0))
            cost = (usage.input_tokens * price_in + usage.output_tokens * price_out) / 1e6
            if cost > self.max_cost:
                return tripwire(f"cost budget exceeded: ${cost:.4f} > ${self.max_cost}")
        return allow()


_DEFAULT_SECRET_PATTERNS = dict(SECRET_PATTERNS)
_PII_PATTERNS = {
    "email": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b",
    "phone": r"(?<!\w)\+?\d[\d ()-]{8,}\d\b",
}


class SecretRedactor(Guardrail):
    """Rewrite tool output so secrets (and optionally PII) never reach the model.

    Redacts: values of this process's secret-looking environment variables (names containing KEY,
    TOKEN, SECRET, PASSWORD…), values registered with ``agentcore.tracing.add_secret`` (every value
    handed to a sandbox with ``SandboxConfig(env=…)``, to a tool with ``@tool(secrets=…)``, API keys
    given to model adapters), common credential formats (:data:`agentcore.tracing.redaction.SECRET_PATTERNS`),
    extra ``values`` and ``patterns``, and with ``pii=True`` e-mail addresses and phone numbers.
    """

    stages: tuple[Stage, ...] = ("post_tool",)

    def __init__(
        self,
        *,
        values: Sequence[str] = (),
        patterns: dict[str, str] | None = None,
        pii: bool = False,
        env: bool = True,
        name: str = "secret_redactor",
    ) -> None:
        import os

        self.name = name
        secrets = [v for v in values if v]
        if env:
            secrets += [v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 8]
        self.values = sorted(set(secrets), key=len, reverse=True)
        table = dict(_DEFAULT_SECRET_PATTERNS)
        if pii:
            table.update(_PII_PATTERNS)
        table.update(patterns or {})
        self.patterns = {label: re.compile(p) for label, p in table.items()}

    def redact(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, "[REDACTED]")
        for value in handed_values():  # registered after this guardrail was built, too
            if value in text:
                text = text.replace(value, "[REDACTED]")
        for label, pattern in self.patterns.items():
            text = pattern.sub(f"[REDACTED:{label}]", text)
        return text

    async def check(self, data: Check) -> Verdict:
        if data.text is None:
            return allow()
        cleaned = self.redact(data.text)
        return allow() if cleaned == data.text else rewrite(cleaned, "secrets redacted")
