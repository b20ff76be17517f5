"""Context policies without a network: the view, its persistence, summaries with provenance, recovery."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentcore import Agent, Runner, tool
from agentcore.contextwin import ContextPolicy, TokenEstimate, window_for
from agentcore.errors import ContextTooLongError, ContextWindowExceeded, UserError
from agentcore.messages import ToolResult, Usage, UserMessage
from agentcore.model import ModelRequest
from agentcore.run.compaction import SUMMARY_KIND, clear_tool_outputs, summary_of
from agentcore.sessions.base import InMemorySession
from agentcore.testing import FunctionModel, Step, reply
from tests.spans import Spans, spans_fixture

spans = pytest.fixture(name="spans")(spans_fixture)


def _size(request: ModelRequest) -> int:
    return sum(len(i.model_dump_json()) for i in request.items) // 4


@tool
def lookup(n: int) -> str:
    """Look a number up."""
    return f"result {n}: " + "x" * 300


def looping_model(turns: int, window: int, seen: list[int]) -> FunctionModel:
    """Calls ``lookup`` ``turns`` times, then answers; refuses (like a vendor) a request over ``window``."""

    def answer(request: ModelRequest) -> Any:
        tokens = _size(request)
        if tokens > window:
            raise ContextTooLongError(
                f"prompt is too long: {tokens} tokens > {window} maximum", provider="fn"
            )
        seen.append(tokens)
        done = sum(isinstance(i, ToolResult) for i in request.items if not summary_of(i))
        calls = len(seen)
        step = (
            reply(None, ("lookup", {"n": calls})) if calls <= turns else Step(text=f"done after {calls - 1}")
        )
        step.usage = Usage(requests=1, input_tokens=tokens, output_tokens=5)
        del done
        return step

    return FunctionModel(answer)


def test_window_table_knows_the_three_vendors() -> None:
    assert window_for("gpt-5-mini") == 400_000
    assert window_for("gpt-4o-2024-08-06") == 128_000
    assert window_for("claude-sonnet-4-5") == 200_000
    assert window_for("models/gemini-2.5-pro") == 1_048_576
    assert window_for("openai:gpt-4.1") == 1_047_576
    assert window_for("llama3") is None


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(UserError):
        ContextPolicy(trigger=1.5)
    with pytest.raises(UserError):
        ContextPolicy(target=0.9, trigger=0.8)
    with pytest.raises(UserError):
        Agent(name="a", context="everything")  # type: ignore[arg-type]
    assert Agent(name="a", context={"trigger": 0.7}).context == ContextPolicy(trigger=0.7)


def test_estimate_calibrates_towards_reported_usage() -> None:
    est = TokenEstimate()
    items = [UserMessage.of("hello " * 100)]
    raw = est.raw(items)
    est.calibrate(raw * 2, raw)
    assert est.tokens(items) == pytest.approx(raw * 2, rel=0.01)


def test_clear_tool_outputs_keeps_the_last_n() -> None:
    items = [ToolResult(call_id=str(n), name="t", output="y" * 1000) for n in range(5)]
    out, changed = clear_tool_outputs(items, keep=2, chars=50)
    assert changed == 3
    assert [len(i.output) < 200 for i in out] == [True, True, True, False, False]  # type: ignore[union-attr]
    assert out[0].id == items[0].id + ".c" and out[4] is items[4]


async def test_a_long_tool_loop_fits_a_small_window_and_the_session_keeps_everything() -> None:
    seen: list[int] = []
    agent = Agent(
        name="looper",
        model=looping_model(120, window=3000, seen=seen),
        tools=[lookup],
        max_turns=200,
        context=ContextPolicy(window=3000, keep_tool_outputs=3),
    )
    session = InMemorySession()
    result = await Runner.run(agent, "Look up 120 numbers.", session=session)
    assert result.final_output == "done after 120"
    assert max(seen) <= 3000
    assert sum(isinstance(i, ToolResult) for i in result.items) == 120  # the transcript is whole
    snap = await session.load()
    assert len(snap.items) == len(result.items)
    view = snap.caches["__agentcore__"]["view"]
    summary = view["base"][0]
    state = next(s for s in summary["state"] if s["kind"] == SUMMARY_KIND)
    assert state["payload"]["first"] == result.items[0].id  # provenance: from the first item on
    assert state["payload"]["items"] > 100 and state["payload"]["model"] == "digest"


async def test_recovery_compacts_once_and_retries() -> None:
    calls: list[int] = []

    def answer(request: ModelRequest) -> Any:
        calls.append(_size(request))
        if len(calls) == 1:
            raise ContextTooLongError("prompt is too long: 300000 tokens > 200000 maximum", provider="fn")
        return "fine"

    history = [UserMessage.of(f"message {n} " + "z" * 400) for n in range(40)]
    agent = Agent(name="r", model=FunctionModel(answer), context=ContextPolicy(window=200_000))
    result = await Runner.run(agent, [*history, UserMessage.of("and now?")])
    assert result.final_output == "fine"
    assert len(calls) == 2 and calls[1] < calls[0]


async def test_still_too_long_after_one_compaction_is_a_typed_error() -> None:
    def answer(request: ModelRequest) -> Any:
        raise ContextTooLongError("prompt is too long", provider="fn")

    agent = Agent(name="r", model=FunctionModel(answer), context=ContextPolicy(window=100_000))
    with pytest.raises(ContextWindowExceeded) as info:
        await Runner.run(agent, [UserMessage.of("a" * 2000), UserMessage.of("b")])
    assert isinstance(info.value.error, ContextTooLongError)


async def test_summarizer_model_is_incremental_and_its_usage_counts() -> None:
    prompts: list[str] = []

    def summarize(request: ModelRequest) -> Any:
        prompt = request.items[0].text  # type: ignore[union-attr]
        prompts.append(prompt)
        step = Step(text=f"summary #{len(prompts)}")
        step.usage = Usage(requests=1, input_tokens=11, output_tokens=3)
        return step

    seen: list[int] = []
    agent = Agent(
        name="looper",
        model=looping_model(60, window=2500, seen=seen),
        tools=[lookup],
        max_turns=100,
        context=ContextPolicy(window=2500, keep_tool_outputs=None, summarizer=FunctionModel(summarize)),
    )
    result = await Runner.run(agent, "go")
    assert len(prompts) >= 2
    assert "Earlier summary:\n[Summary of the" in prompts[1] and "summary #1" in prompts[1]
    assert "Earlier summary" not in prompts[0]
    assert result.usage.requests == 61 + len(prompts)
    assert json.dumps(result.usage.input_tokens)


async def test_a_resumed_session_continues_from_its_summary(spans: Spans) -> None:
    """The view (summary with provenance + the turns kept) is stored with the session: the next run
    starts from it and does not summarise again what was summarised."""
    prompts: list[str] = []

    def summarize(request: ModelRequest) -> Any:
        prompts.append(request.items[0].text)  # type: ignore[union-attr]
        step = Step(text=f"summary #{len(prompts)}")
        step.usage = Usage(requests=1, input_tokens=50, output_tokens=9)
        return step

    policy = ContextPolicy(window=2500, keep_tool_outputs=None, summarizer=FunctionModel(summarize))
    session = InMemorySession()
    seen: list[int] = []
    agent = Agent(name="a", model=looping_model(40, 2500, seen), tools=[lookup], max_turns=60, context=policy)
    await Runner.run(agent, "first", session=session)
    summaries = len(prompts)
    view = (await session.load()).caches["__agentcore__"]["view"]
    first_seen: list[ModelRequest] = []

    def answer(request: ModelRequest) -> Any:
        first_seen.append(request)
        return "fine"

    await Runner.run(agent.clone(model=FunctionModel(answer)), "and then?", session=session)
    assert len(prompts) == summaries  # nothing summarised again
    assert first_seen[0].items[0].id == view["base"][0]["id"]  # the stored summary, as it was
    # each compaction is noted on the agent span; the summariser has its own chat span with its usage
    events = [
        e for s in spans.named("invoke_agent") for e in s.events if e.name == "agentcore.context.compacted"
    ]
    assert events and all(e.attributes["strategy"] == "summary" for e in events)
    chats = [s for s in spans.named("chat function") if s.attributes.get("agentcore.context.summary")]
    assert len(chats) == summaries and chats[0].attributes["gen_ai.usage.input_tokens"] == 50


async def test_summaries_are_steps_of_a_durable_run() -> None:
    """A durable engine records every model call as a step, the summariser's included, so a replayed run
    rebuilds the same view from the recorded summary instead of asking for a new one."""
    from agentcore.run.steps import use_step_runner

    recorded: list[tuple[str, str]] = []

    async def runner(kind: str, name: str, fn: Any) -> Any:
        recorded.append((kind, name))
        return await fn()

    summarizer = FunctionModel(lambda request: "a summary", model_name="writer")
    agent = Agent(
        name="a",
        model=looping_model(40, 2500, []),
        tools=[lookup],
        max_turns=60,
        context=ContextPolicy(window=2500, keep_tool_outputs=None, summarizer=summarizer),
    )
    with use_step_runner(runner):
        await Runner.run(agent, "go")
    assert ("model", "function:writer") in recorded
    assert recorded.count(("model", "function:writer")) == len(summarizer.requests)


@tool
def fetch(n: int) -> str:
    """Fetch a long page."""
    return f"page {n}: " + "lorem ipsum " * 200


async def test_cutting_old_tool_outputs_alone_is_often_enough(spans: Spans) -> None:
    pages: list[int] = []

    def answer(request: ModelRequest) -> Any:
        pages.append(1)
        step = reply(None, ("fetch", {"n": len(pages)})) if len(pages) <= 30 else Step(text="read them all")
        step.usage = Usage(requests=1, input_tokens=_size(request), output_tokens=5)  # what a vendor reports
        return step

    policy = ContextPolicy(window=8000)
    agent = Agent(name="reader", model=FunctionModel(answer), tools=[fetch], max_turns=40, context=policy)
    result = await Runner.run(agent, "Read 30 pages.")
    assert result.final_output == "read them all"
    events = [
        e for s in spans.named("invoke_agent") for e in s.events if e.name == "agentcore.context.compacted"
    ]
    strategies = [e.attributes["strategy"] for e in events]
    assert "tool_outputs" in strategies  # cutting was enough at least once: no summary then
    assert all(e.attributes["tokens_after"] <= 0.6 * 8000 for e in events)


async def test_without_a_policy_the_first_refusal_is_the_typed_error() -> None:
    calls: list[int] = []

    def answer(request: ModelRequest) -> Any:
        calls.append(1)
        raise ContextTooLongError("prompt is too long: 210000 tokens > 200000 maximum", provider="fn")

    with pytest.raises(ContextWindowExceeded):
        await Runner.run(Agent(name="plain", model=FunctionModel(answer)), "hello")
    assert len(calls) == 1  # no compaction, no retry


async def test_a_stream_announces_each_compaction() -> None:
    from agentcore.events import ContextCompacted, TurnCompleted

    seen: list[int] = []
    agent = Agent(
        name="looper",
        model=looping_model(60, window=3000, seen=seen),
        tools=[lookup],
        max_turns=80,
        context=ContextPolicy(window=3000),
    )
    events = [e async for e in Runner.stream(agent, "go")]
    compacted = [e for e in events if isinstance(e, ContextCompacted)]
    assert compacted and all(e.reason == "threshold" and e.tokens_after < e.tokens_before for e in compacted)
    assert {s for e in compacted for s in e.strategy} <= {"tool_outputs", "summary"}
    assert sum(isinstance(e, TurnCompleted) for e in events) == 60


def test_the_cli_progress_says_when_the_context_was_compacted() -> None:
    import io

    from agentcore.cli.progress import Progress
    from agentcore.events import ContextCompacted

    out = io.StringIO()
    Progress(out=out).event(ContextCompacted("a", "threshold", ("tool_outputs", "summary"), 12_000, 4_100))
    assert "context compacted (tool_outputs, summary): ~12,000 → ~4,100 tokens" in out.getvalue()


async def test_a_summariser_with_a_small_window_reads_the_history_in_parts() -> None:
    prompts: list[str] = []

    def summarize(request: ModelRequest) -> Any:
        prompts.append(request.items[0].text)  # type: ignore[union-attr]
        assert len(prompts[-1]) < 4 * 8000  # never more than the summariser can read
        return f"summary #{len(prompts)}"

    writer = FunctionModel(summarize, model_name="small-writer")
    writer.context_window = 8000  # characters of conversation per call: (0.6 x 8000 - limit) x 4
    seen: list[int] = []
    agent = Agent(
        name="looper",
        model=looping_model(150, window=12_000, seen=seen),
        tools=[lookup],
        max_turns=200,
        context=ContextPolicy(window=12_000, keep_tool_outputs=None, summarizer=writer),
    )
    result = await Runner.run(agent, "go")
    assert result.final_output == "done after 150"
    chained = [p for p in prompts if p.split("\n\n", 1)[1].startswith("Earlier summary:\nsummary #")]
    assert chained  # a later part starts from the summary of the parts before it


async def test_a_full_handoff_passes_the_compacted_view_on() -> None:
    seen_by_b: list[ModelRequest] = []

    def b_answers(request: ModelRequest) -> Any:
        seen_by_b.append(request)
        return "b here"

    b = Agent(name="b", model=FunctionModel(b_answers))
    calls: list[int] = []

    def a_answers(request: ModelRequest) -> Any:
        calls.append(1)
        step = (
            reply(None, ("lookup", {"n": len(calls)}))
            if len(calls) <= 40
            else reply(None, ("transfer_to_b", {}))
        )
        step.usage = Usage(requests=1, input_tokens=_size(request), output_tokens=5)
        return step

    a = Agent(
        name="a",
        model=FunctionModel(a_answers),
        tools=[lookup],
        handoffs=[b],
        max_turns=60,
        context=ContextPolicy(window=3000),
    )
    result = await Runner.run(a, "go")
    assert result.final_output == "b here" and result.last_agent == "b"
    assert summary_of(seen_by_b[0].items[0]) is not None  # b reads the compacted view, not the whole history
    assert sum(isinstance(i, ToolResult) for i in result.items) == 41  # the transcript is whole
