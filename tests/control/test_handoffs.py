"""Handoffs are recorded transitions; agents can also be called as tools."""

from __future__ import annotations

import pytest

from agentcore import Agent, Handoff, InMemorySession, Runner, tool
from agentcore.control.handoffs import sanitize
from agentcore.events import HandoffOccurred
from agentcore.messages import (
    AssistantMessage,
    ProviderState,
    Reasoning,
    ToolCall,
    ToolResult,
    UserMessage,
)
from agentcore.messages import (
    Handoff as HandoffItem,
)
from agentcore.testing import ScriptedModel, reply, tool_call
from tests.core.conftest import Spans


@tool
def lookup_order(order_id: str) -> str:
    """Find an order."""
    return f"order {order_id}: shipped"


def triage_setup(billing_steps: list, triage_steps: list, history="full"):  # type: ignore[no-untyped-def]
    billing = Agent(
        name="billing",
        model=ScriptedModel(billing_steps),
        tools=[lookup_order],
        description="Handles invoices and orders.",
    )
    triage = Agent(
        name="triage", model=ScriptedModel(triage_steps), handoffs=[Handoff(billing, history=history)]
    )
    return triage, billing


async def test_handoff_switches_agent_and_records_the_transition(spans: Spans) -> None:
    triage, billing = triage_setup(
        [tool_call("lookup_order", {"order_id": "42"}), "Your order shipped."],
        [tool_call("transfer_to_billing", {"reason": "order question"})],
    )
    result = await Runner.run(triage, "Where is order 42?")
    assert result.final_output == "Your order shipped."
    assert result.last_agent == "billing"
    handoff = next(i for i in result.new_items if isinstance(i, HandoffItem))
    assert (handoff.from_agent, handoff.to_agent) == ("triage", "billing")
    tool_names = [t.name for t in triage.model.requests[0].tools]  # type: ignore[union-attr]
    assert tool_names == ["transfer_to_billing"]
    # billing saw the whole conversation, including the transfer call and its result
    kinds = [type(i).__name__ for i in billing.model.requests[0].items]  # type: ignore[union-attr]
    assert kinds == ["UserMessage", "ToolCall", "ToolResult", "Handoff"]
    transfer = spans.one("execute_tool transfer_to_billing")
    assert transfer.attributes["gen_ai.transfer.mode"] == "pass_control"
    assert transfer.attributes["gen_ai.transfer.target.name"] == "billing"
    assert transfer.attributes["gen_ai.agent.name"] == "triage"
    # The target's activation is its own invoke_agent span under the transfer; its model calls sit in it.
    target = spans.one("invoke_agent billing")
    assert spans.parent_of(target) is transfer
    assert spans.parent_of(transfer) is spans.one("invoke_agent triage")
    assert {spans.parent_of(s).name for s in spans.named("chat")} == {
        "invoke_agent triage",
        "invoke_agent billing",
    }
    assert spans.parent_of(spans.one("execute_tool lookup_order")) is target


async def test_the_next_user_turn_goes_to_the_active_agent() -> None:
    session = InMemorySession()
    triage, _billing = triage_setup(["It shipped.", "You're welcome."], [tool_call("transfer_to_billing")])
    await Runner.run(triage, "order?", session=session)
    second = await Runner.run(triage, "thanks", session=session)
    assert second.last_agent == "billing" and second.final_output == "You're welcome."
    assert (await session.load()).active_agent == "billing"


async def test_summary_history_policy_gives_the_target_a_digest() -> None:
    triage, billing = triage_setup(["Handled."], [tool_call("transfer_to_billing")], history="summary")
    await Runner.run(triage, "I was double charged")
    (only, *rest) = billing.model.requests[0].items  # type: ignore[union-attr]
    assert (
        isinstance(only, UserMessage)
        and "I was double charged" in only.text
        and "summary" in only.text.lower()
    )
    assert [type(i).__name__ for i in rest] == []


async def test_filtered_history_is_sanitized_for_every_provider() -> None:
    def only_user_messages(items):  # type: ignore[no-untyped-def]
        return [
            i for i in items if isinstance(i, (UserMessage, ToolCall))
        ]  # drops the results: must be repaired

    triage, billing = triage_setup(["ok"], [tool_call("transfer_to_billing")], history=only_user_messages)
    await Runner.run(triage, "hello")
    seen = billing.model.requests[0].items  # type: ignore[union-attr]
    assert not any(isinstance(i, ToolCall) for i in seen)  # no call left without its result


def test_sanitize_drops_orphans_and_reasoning_cut_from_its_output() -> None:
    r = Reasoning(summary="hmm", state=(ProviderState(provider="openai", kind="reasoning", payload="enc"),))
    items = [
        UserMessage.of("q"),
        r,
        ToolResult(call_id="x", name="f", output="o"),
        UserMessage.of("next"),
        r,
        AssistantMessage(text="a"),
        ToolCall(call_id="y", name="f"),
    ]
    kept = sanitize(items)
    assert [type(i).__name__ for i in kept] == ["UserMessage", "UserMessage", "Reasoning", "AssistantMessage"]


async def test_multi_hop_and_hand_back() -> None:
    a_model = ScriptedModel([tool_call("transfer_to_b"), "back at A, done"])
    b_model = ScriptedModel([tool_call("transfer_to_c")])
    c_model = ScriptedModel([tool_call("transfer_to_a")])
    a = Agent(name="a", model=a_model)
    b = Agent(name="b", model=b_model)
    c = Agent(name="c", model=c_model, handoffs=[a])
    a = a.clone(handoffs=[b])
    b = b.clone(handoffs=[c])
    a = a.clone(handoffs=[b])
    events = []
    stream = Runner.stream(a, "start")
    async for event in stream:
        if isinstance(event, HandoffOccurred):
            events.append((event.from_agent, event.to_agent))
    assert events == [("a", "b"), ("b", "c"), ("c", "a")]
    assert stream.result.final_output == "back at A, done"
    assert stream.result.last_agent == "a"


async def test_two_handoffs_in_one_turn_first_wins() -> None:
    x = Agent(name="x", model=ScriptedModel(["x here"]))
    y = Agent(name="y", model=ScriptedModel(["y here"]))
    router = Agent(
        name="router",
        model=ScriptedModel([reply(None, ("transfer_to_x", {}), ("transfer_to_y", {}))]),
        handoffs=[x, y],
    )
    result = await Runner.run(router, "go")
    assert result.final_output == "x here"
    results = {i.name: i for i in result.new_items if isinstance(i, ToolResult)}
    assert not results["transfer_to_x"].is_error
    assert (
        results["transfer_to_y"].is_error and "only one handoff per turn" in results["transfer_to_y"].output
    )


async def test_handoff_alongside_a_regular_tool_runs_the_tool_too() -> None:
    b = Agent(name="billing", model=ScriptedModel(["done"]))
    t = Agent(
        name="t",
        model=ScriptedModel([reply(None, ("lookup_order", {"order_id": "1"}), ("transfer_to_billing", {}))]),
        tools=[lookup_order],
        handoffs=[b],
    )
    result = await Runner.run(t, "go")
    outputs = [i.output for i in result.new_items if isinstance(i, ToolResult)]
    assert outputs == ["order 1: shipped", "Transferred to billing."]


async def test_agent_as_tool_returns_its_output_to_the_caller(spans: Spans) -> None:
    researcher = Agent(
        name="researcher", model=ScriptedModel(["Paris is the capital."]), description="Finds facts."
    )
    writer = Agent(
        name="writer",
        model=ScriptedModel([tool_call("researcher", {"input": "capital of France?"}), "Answer: Paris."]),
        tools=[researcher.as_tool()],
    )
    result = await Runner.run(writer, "Write about France")
    assert result.final_output == "Answer: Paris."
    assert result.last_agent == "writer"
    out = next(i for i in result.new_items if isinstance(i, ToolResult))
    assert out.output == "Paris is the capital."
    assert result.usage.requests == 3  # the sub-agent's usage is counted
    span = spans.one("execute_tool researcher")
    assert span.attributes["gen_ai.transfer.mode"] == "return_to_caller"
    sub = spans.one("invoke_agent researcher")
    assert spans.parent_of(sub) is span


@pytest.mark.parametrize("history", ["full", "summary"])
async def test_handoff_resets_server_state_watermark_for_the_target(history: str) -> None:
    triage, billing = triage_setup(["ok"], [tool_call("transfer_to_billing")], history=history)
    result = await Runner.run(triage, "hi")
    assert result.final_output == "ok"
    # Each agent gets its own adapter cache: the target never inherits the source's server-side ids.
    first, second = triage.model.requests[0].cache, billing.model.requests[0].cache  # type: ignore[union-attr]
    assert first is not second
