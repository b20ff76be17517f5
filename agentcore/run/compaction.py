"""Context policies at run time: measure each request, compact the transcript's *view* when it nears the
window, and recover once when the vendor answers "context too long".

The run's transcript (``RunLoop.items``, the session) is never changed. What a request carries is the
active agent's view, ``head + items[start:]`` (the same view a non-"full" handoff makes); a compaction
replaces the head with a compacted copy of the whole current view and moves ``start`` to the end of the
transcript, so the view stays fixed until the next compaction and grows only by appending. The view is
persisted with the session (``caches["__agentcore__"]["view"]``) and in a paused run's state, so a
resumed conversation continues from its summary and never summarises again what it already did.

Adapters that keep server-side state see a view whose start changed; their watermark check
(:func:`providers._common.stale_watermark`) notices and they send the whole view once, then chain again.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from .. import tracing
from ..contextwin import ContextPolicy, TokenEstimate, fixed_chars, grew, window_for
from ..control.handoffs import digest
from ..errors import ContextTooLongError, ContextWindowExceeded, ModelCallFailed, ModelError
from ..events import ContextCompacted, RunEvent
from ..messages import (
    AssistantMessage,
    HostedToolUse,
    Item,
    ProviderState,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
    keep_last_images,
)
from ..messages import Handoff as HandoffItem
from ..model import Model, ModelRequest, ModelResponse, ModelSettings
from . import steps
from .setup import shared_model

if TYPE_CHECKING:
    from ..agent import Agent
    from .loop import RunLoop

SUMMARY_KIND = "context_summary"
NATIVE_BACKSTOP = 0.95
"""With the vendor's own context management on, the run compacts only past this fraction of the window."""
CLEARED_SUFFIX = ".c"
SUMMARY_INSTRUCTIONS = (
    "You condense the earlier part of an agent's conversation so the agent can continue its task without "
    "it. Keep: the user's goal and every requirement, decisions made, facts and results learned from tool "
    "calls (names, numbers, paths, ids), what is done and what remains. Drop: pleasantries, repeated or "
    "superseded output. Write plain prose and short lists, at most the length asked for; no preamble."
)


_SIZES = (
    (re.compile(r"(\d+) tokens > (\d+) maximum"), 1, 2),  # Anthropic
    (re.compile(r"maximum context length is (\d+) tokens.*?resulted in (\d+) tokens", re.S), 2, 1),  # OpenAI
    (re.compile(r"input token count \((\d+)\) exceeds the maximum number of tokens allowed \((\d+)\)"), 1, 2),
)


def reported_sizes(message: str) -> tuple[int | None, int | None]:
    """``(tokens sent, window)`` as a vendor's context-length error states them, where it does
    (Anthropic, OpenAI Chat Completions, Gemini; the Responses API states neither)."""
    for pattern, sent, window in _SIZES:
        m = pattern.search(message)
        if m:
            return int(m.group(sent)), int(m.group(window))
    return None, None


def _step_name(model: Model) -> str:
    """Counting, summarising and compacting calls are steps of a durable run (recorded, replayed), named
    as its model calls are (the vendor first: per-vendor limits apply)."""
    return f"{model.provider}:{model.model_name}"


def measured(items: Sequence[Item], model: Model) -> Sequence[Item]:
    """What ``model``'s vendor counts of ``items``: from its last native compaction item on (an OpenAI
    ``compaction`` item stands for everything before it), else all of them."""
    provider = model.provider
    for index in range(len(items) - 1, -1, -1):
        if items[index].state and items[index].state_for(provider, kind="compaction") is not None:
            return items[index:]
    return items


def summary_of(item: Item) -> ProviderState | None:
    """The provenance of a summary item made by a context policy, else ``None``."""
    return item.state_for("agentcore", kind=SUMMARY_KIND) if isinstance(item, UserMessage) else None


def clear_tool_outputs(items: Sequence[Item], keep: int, chars: int) -> tuple[list[Item], int]:
    """``items`` with the outputs of tool results older than the last ``keep`` cut to ``chars``
    characters (images dropped); the copies get a derived id. Returns the items and how many changed."""
    out = list(items)
    seen = changed = 0
    for index in range(len(out) - 1, -1, -1):
        item = out[index]
        if not isinstance(item, ToolResult):
            continue
        seen += 1
        if seen <= keep or item.id.endswith(CLEARED_SUFFIX):
            continue
        if len(item.output) <= chars + 40 and not item.parts:
            continue
        cut = len(item.output) - chars
        text = item.output[:chars] + (f"\n[{cut} more characters cleared to save context]" if cut > 0 else "")
        out[index] = item.model_copy(update={"output": text, "parts": (), "id": item.id + CLEARED_SUFFIX})
        changed += 1
    return out, changed


def _boundary(items: Sequence[Item], index: int) -> bool:
    """Whether a view may start its verbatim part at ``index``: a user message, or the first item of a
    model response (so no tool result loses its call and no reasoning its output)."""
    item = items[index]
    if isinstance(item, UserMessage):
        return True
    return not isinstance(item, ToolResult) and isinstance(
        items[index - 1], ToolResult | UserMessage | HandoffItem
    )


def choose_cut(items: Sequence[Item], budget: int, estimate: TokenEstimate) -> int:
    """The smallest boundary index whose suffix fits ``budget`` (raw estimated tokens); the last boundary
    when even the last turn does not fit; 0 when there is none."""
    sizes = [estimate.raw((item,)) for item in items]
    total = 0
    best = 0
    last = 0
    for index in range(len(items) - 1, 0, -1):
        total += sizes[index]
        if not _boundary(items, index):
            continue
        last = last or index
        if total <= budget:
            best = index
        else:
            break
    return best or last


def render_for_summary(items: Sequence[Item], limit: int = 600) -> str:
    """The items as plain text for the summariser (a previous summary first, verbatim)."""
    lines: list[str] = []
    for item in items:
        if summary_of(item) is not None:
            assert isinstance(item, UserMessage)
            lines.append(f"Earlier summary:\n{item.text}\n\nThen:")
        elif isinstance(item, UserMessage):
            lines.append(f"user: {item.text[: limit * 4]}")
        elif isinstance(item, AssistantMessage):
            lines.append(f"{item.agent or 'assistant'}: {item.text[: limit * 4]}")
        elif isinstance(item, ToolCall):
            lines.append(f"called {item.name}({item.arguments[:limit]})")
        elif isinstance(item, ToolResult):
            lines.append(f"  -> {'error: ' if item.is_error else ''}{item.output[:limit]}")
        elif isinstance(item, HostedToolUse):
            lines.append(item.render(limit))
        elif isinstance(item, HandoffItem):
            lines.append(f"handed from {item.from_agent} to {item.to_agent}")
    return "\n".join(lines)


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = limit // 4
    return text[:head] + "\n…\n" + text[-(limit - head - 3) :]


class ContextKeeper:
    """The context policy of one run: estimates per model, compaction of the view, recovery."""

    def __init__(self, loop: RunLoop) -> None:
        self.loop = loop
        self.estimates: dict[str, TokenEstimate] = {}
        self.windows: dict[str, int] = {}
        self.compacted: list[ContextCompacted] = []
        """Compactions not yet announced to the run's stream."""
        self._native: dict[str, tuple[Sequence[Item] | None, int]] = {}
        self._summarizers: dict[str, Model] = {}

    def window(self, policy: ContextPolicy | None, model: Model) -> int | None:
        """The policy's window, else the model's, else the table's; never more than a window the
        vendor reported in a context-length error during this run."""
        learned = self.windows.get(model.cache_key)
        if policy is not None and policy.window is not None:
            found: int | None = policy.window
        else:
            found = model.context_window or window_for(model.model_name)
        return min(found, learned) if found is not None and learned is not None else (found or learned)

    def measured(self, items: Sequence[Item], model: Model) -> Sequence[Item]:
        """:func:`measured`, looking only at the items added since the last call for the same model when
        the transcript only grew (:func:`~agentcore.contextwin.grew`)."""
        prev, start = self._native.get(model.cache_key, (None, 0))
        count = len(prev) if prev is not None and grew(items, prev) else 0
        if count == 0:
            start = 0
        n = len(items)
        if n > count or prev is None:
            tail = measured(items[count:], model) if count else measured(items, model)
            if len(tail) < n - count:
                start = n - len(tail)
        self._native[model.cache_key] = (items, start)
        return items[start:] if start else items

    def estimate(self, model: Model) -> TokenEstimate:
        est = self.estimates.get(model.cache_key)
        if est is None:
            est = self.estimates[model.cache_key] = TokenEstimate()
        return est

    async def call(
        self,
        agent: Agent[Any],
        model: Model,
        request: ModelRequest,
        gate: list[Any],
        kept_images: int | None = None,
    ) -> AsyncIterator[RunEvent | ModelResponse]:
        """The model call of one turn under the agent's context policy (``kept_images``: how many
        tool-result images the request shows, for the items rebuilt after a compaction)."""
        loop = self.loop

        def view() -> Sequence[Item]:
            return keep_last_images(loop._transcript(), kept_images)

        caller = self.loop.caller
        policy = agent.context
        if policy is None:  # nothing measured: the vendor's refusal is the typed error at once
            try:
                async for ev in caller.call(agent, model, request, gate):
                    yield ev
            except ModelCallFailed as exc:
                if isinstance(exc.error, ContextTooLongError):
                    raise ContextWindowExceeded(
                        exc.error, items=exc.items, agent_name=exc.agent_name
                    ) from exc
                raise
            return
        window = self.window(policy, model)
        est = self.estimate(model)
        fixed = fixed_chars(request.instructions, request.tools)
        if window is not None:
            request = await self._before(agent, model, request, policy, window, est, fixed, view)
        for event in self._announce():
            yield event
        try:
            async for ev in caller.call(agent, model, request, gate):
                if isinstance(ev, ModelResponse):
                    self._calibrate(est, ev, request, model, fixed)
                yield ev
            return
        except ModelCallFailed as exc:
            if not isinstance(exc.error, ContextTooLongError):
                raise
            if not policy.recover:
                raise ContextWindowExceeded(exc.error, items=exc.items, agent_name=exc.agent_name) from exc
            first = exc
        # Recovery: the vendor counted more than we thought. Believe it, compact once, retry once.
        raw = est.raw(self.measured(request.items, model), fixed)
        tokens = int(raw * est.ratio)
        counted, limit = reported_sizes(first.error.message)
        if limit is not None:  # the vendor said its window: it holds for the rest of the run
            self.windows[model.cache_key] = limit = min(limit, window or limit)
        limit = limit or window or tokens
        if counted is not None and raw > 0:  # the vendor's count of this very request: believed as is
            est.ratio, est.calibrated = counted / raw, True
        elif tokens <= limit:
            est.ratio *= limit * 1.1 / max(tokens, 1)
        tracing.note(
            "agentcore.context.too_long",
            tokens_estimated=tokens,
            tokens_reported=counted,
            window=limit,
            error=str(first.error)[:300],
        )
        request = await self.compact(
            agent, model, request, policy, limit, est, fixed, view, reason="recovery"
        )
        for event in self._announce():
            yield event
        try:
            async for ev in caller.call(agent, model, request, gate):
                if isinstance(ev, ModelResponse):
                    self._calibrate(est, ev, request, model, fixed)
                yield ev
        except ModelCallFailed as exc:
            if isinstance(exc.error, ContextTooLongError):
                raise ContextWindowExceeded(exc.error, items=exc.items, agent_name=exc.agent_name) from exc
            raise

    def _calibrate(
        self, est: TokenEstimate, response: ModelResponse, request: ModelRequest, model: Model, fixed: int
    ) -> None:
        """Calibrate on what the vendor counted of ``request``, unless the vendor compacted inside the
        call (a ``compaction`` item in the answer): its count is then of another input (the summary),
        or of two passes (Anthropic adds the summarising pass to the reported usage)."""
        if any(i.state and i.state_for(model.provider, kind="compaction") for i in response.items):
            return
        est.calibrate(response.usage.input_tokens, est.raw(self.measured(request.items, model), fixed))

    def _announce(self) -> list[ContextCompacted]:
        events, self.compacted = self.compacted, []
        return events

    async def _before(
        self,
        agent: Agent[Any],
        model: Model,
        request: ModelRequest,
        policy: ContextPolicy,
        window: int,
        est: TokenEstimate,
        fixed: int,
        view: Callable[[], Sequence[Item]],
    ) -> ModelRequest:
        threshold = policy.trigger * window
        if policy.native:
            extra = model.native_context(int(threshold))
            if extra:  # the vendor compacts at the trigger; our own compaction is the backstop
                merged = {**(request.settings.extra or {}), **extra}
                request.settings = request.settings.merged(ModelSettings(extra=merged))
                threshold = max(policy.trigger, NATIVE_BACKSTOP) * window
        tokens = est.tokens(self.measured(request.items, model), fixed)
        ask = policy.count == "vendor" or (policy.count == "auto" and not est.calibrated)
        if ask and tokens >= 0.5 * threshold:
            counted = await steps.run_step("model", _step_name(model), lambda: model.count_tokens(request))
            if counted is not None:
                tracing.note("agentcore.context.counted", tokens=counted, estimated=tokens)
                est.calibrate(counted, est.raw(self.measured(request.items, model), fixed))
                tokens = counted
        if tokens <= threshold:
            return request
        return await self.compact(agent, model, request, policy, window, est, fixed, view, reason="threshold")

    async def compact(
        self,
        agent: Agent[Any],
        model: Model,
        request: ModelRequest,
        policy: ContextPolicy,
        window: int,
        est: TokenEstimate,
        fixed: int,
        view: Callable[[], Sequence[Item]],
        *,
        reason: str,
    ) -> ModelRequest:
        """Compact the run's view (tool outputs, then a summary) until it is under ``policy.target`` x
        ``window``; note it on the current span; return ``request`` with the new view's items."""
        loop = self.loop
        items = loop._view_items()
        before = est.tokens(self.measured(items, model), fixed)
        target = policy.target * window
        strategy: list[str] = []
        new: list[Item] = list(items)
        if policy.keep_tool_outputs is not None:
            new, cleared = clear_tool_outputs(new, policy.keep_tool_outputs, policy.tool_output_chars)
            if cleared:
                strategy.append("tool_outputs")
        summarized = 0
        if policy.summarize and est.tokens(self.measured(new, model), fixed) > target:
            budget = int(policy.keep_recent * window / est.ratio)
            cut = choose_cut(new, budget, est)
            if cut > 0 and any(summary_of(i) is None for i in new[:cut]):  # not a summary on its own
                summarized = cut
                native = None
                if policy.native and policy.summarizer is None:
                    native = await self._native_compact(agent, model, request, new[:cut])
                if native is not None:
                    new = [*native, *new[cut:]]
                    strategy.append("native_compact")
                else:
                    new = [await self._summary(agent, new[:cut], policy, window), *new[cut:]]
                    strategy.append("summary")
        if not strategy:
            tracing.note("agentcore.context.compaction_skipped", reason=reason, tokens=before)
            return request
        # (no sanitize(): every cut is at a boundary, and it would drop a reasoning item before a hosted one)
        loop.view = (new, len(loop.items))
        loop.caller.captured.pop(agent.name, None)  # traced prompts: the next one is shown whole
        after = est.tokens(self.measured(new, model), fixed)
        tracing.note(
            "agentcore.context.compacted",
            reason=reason,
            strategy=",".join(strategy),
            tokens_before=before,
            tokens_after=after,
            window=window,
            items_before=len(items),
            items_after=len(new),
            items_summarized=summarized,
        )
        self.compacted.append(ContextCompacted(agent.name, reason, tuple(strategy), before, after))
        return dataclasses.replace(request, items=view())

    # ------------------------------------------------------------------ summaries

    async def _native_compact(
        self, agent: Agent[Any], model: Model, request: ModelRequest, older: Sequence[Item]
    ) -> list[Item] | None:
        """The vendor's stand-alone compaction of ``older`` (OpenAI ``/responses/compact``), its usage
        added to the run's; ``None`` when the vendor has none or it failed (then a summary is written)."""
        attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": model.system,
            "gen_ai.request.model": model.model_name,
            "gen_ai.agent.name": agent.name,
            "agentcore.context.native_compact": True,
        }
        with tracing.span(f"compact {model.model_name}", attrs, kind=SpanKind.CLIENT) as s:
            try:
                compact = dataclasses.replace(request, items=list(older))
                done = await steps.run_step("model", _step_name(model), lambda: model.native_compact(compact))
            except ModelError as exc:
                tracing.set_error(s, str(exc))
                tracing.note("agentcore.context.native_compact_failed", error=str(exc)[:300])
                return None
            if done is None:
                return None
            items, usage = done
            tracing.set_usage(s, usage)
        self.loop.usage.add(usage)
        return [i.model_copy(update={"agent": agent.name}) for i in items]

    def _summarizer(self, spec: str | Model) -> Model:
        if not isinstance(spec, str):
            return spec
        model = self._summarizers.get(spec)
        if model is None:
            model = self._summarizers[spec] = shared_model(spec)
        return model

    async def _summary(
        self, agent: Agent[Any], older: Sequence[Item], policy: ContextPolicy, window: int
    ) -> UserMessage:
        """One summary item standing for ``older`` (which starts with the previous summary, if any)."""
        limit_tokens = max(256, int(window * min(0.15, policy.keep_recent / 2)))
        previous = summary_of(older[0]) if older else None
        covered = [i for i in older if summary_of(i) is None]
        prior = int(previous.payload.get("items", 0)) if previous is not None else 0
        text: str | None = None
        by = "digest"
        if policy.summarizer is not None:
            by_model = self._summarizer(policy.summarizer)
            text = await self._ask(agent, by_model, older, policy, limit_tokens)
            if text is not None:
                by = f"{by_model.provider}:{by_model.model_name}"
        if text is None:
            prev_text = older[0].text if previous is not None and isinstance(older[0], UserMessage) else ""
            body = digest(covered, limit=limit_tokens * 4)
            text = _bounded(f"{prev_text}\n{body}" if prev_text else body, limit_tokens * 4)
        first = older[0]
        first_id = str(previous.payload["first"]) if previous is not None else first.id
        payload = {
            "first": first_id.removesuffix(CLEARED_SUFFIX),
            "last": older[-1].id.removesuffix(CLEARED_SUFFIX),
            "items": prior + len(covered),
            "previous": first.id if previous is not None else None,
            "model": by,
        }
        header = f"[Summary of the {payload['items']} earlier items of this conversation]\n"
        return UserMessage(
            content=(TextPart(text=header + text.strip()),),
            agent=agent.name,
            state=(ProviderState(provider="agentcore", model=by, kind=SUMMARY_KIND, payload=payload),),
        )

    async def _ask(
        self, agent: Agent[Any], model: Model, older: Sequence[Item], policy: ContextPolicy, limit: int
    ) -> str | None:
        """The summariser's text, its usage added to the run's; ``None`` (and a note) if it failed. What
        does not fit the summariser's own window (when known) goes in parts, each summarised with the
        summary so far, the way compactions follow each other."""
        window = model.context_window or window_for(model.model_name)
        room = max(
            4000, int(((window or 10**9) * 0.6 - limit) * 4)
        )  # characters of conversation a call takes
        text = ""
        for part in _parts(render_for_summary(older), room):
            prompt = f"Earlier summary:\n{text}\n\nThen:\n{part}" if text else part
            answer = await self._ask_once(agent, model, prompt, policy, limit)
            if answer is None:
                return None
            text = answer
        return text or None

    async def _ask_once(
        self, agent: Agent[Any], model: Model, conversation: str, policy: ContextPolicy, limit: int
    ) -> str | None:
        request = ModelRequest(
            instructions=policy.summary_instructions or SUMMARY_INSTRUCTIONS,
            items=[
                UserMessage.of(f"Condense this conversation in at most {limit} tokens:\n\n{conversation}")
            ],
            settings=ModelSettings(max_tokens=limit),
            conversation_id=self.loop._conversation_id,
            agent_name=agent.name,
        )
        attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": model.system,
            "gen_ai.request.model": model.model_name,
            "gen_ai.agent.name": agent.name,
            "agentcore.context.summary": True,
        }
        with tracing.span(f"chat {model.model_name}", attrs, kind=SpanKind.CLIENT) as s:
            try:
                response = await steps.run_step("model", _step_name(model), lambda: model.respond(request))
            except ModelError as exc:
                tracing.set_error(s, str(exc))
                tracing.note("agentcore.context.summarizer_failed", error=str(exc)[:300])
                return None
            tracing.set_usage(s, response.usage)
            tracing.set_cost(s, model.model_name, response.usage)
        self.loop.usage.add(response.usage)
        text = response.text.strip()
        return text or None


def _parts(text: str, size: int) -> list[str]:
    """``text`` in consecutive parts of at most ``size`` characters, cut at line ends where possible."""
    parts: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > size // 2 else size
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    parts.append(text)
    return parts
