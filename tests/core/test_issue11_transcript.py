"""Per-turn work of the loop does not grow with the transcript (issue 11, item 20).

The loop used to hand every model request a fresh copy of the whole history: O(history) work per turn
and O(turns²) memory for whatever keeps requests (``ScriptedModel.requests``). No wall clock here: the
size of what a turn builds is measured instead, and the requests must still read as before.
"""

from __future__ import annotations

import sys

from agentcore import Agent, Runner, tool
from agentcore.control.handoffs import Handoff
from agentcore.messages import ToolCall, ToolResult, UserMessage
from agentcore.run.transcript import TranscriptView
from agentcore.testing import ScriptedModel, tool_call


@tool
async def step(n: int) -> int:
    """Advance."""
    return n + 1


async def test_item20_what_a_turn_builds_for_the_model_does_not_grow_with_the_history() -> None:
    turns = 60
    model = ScriptedModel([tool_call("step", {"n": i}) for i in range(turns - 1)] + ["done"])
    result = await Runner.run(Agent(name="a", model=model, tools=[step]), "go", max_turns=turns + 1)
    assert result.turns == turns
    first, last = model.requests[1], model.requests[-1]
    assert len(last.items) == 1 + 2 * (turns - 1) > 10 * len(first.items)
    assert sys.getsizeof(last.items) == sys.getsizeof(first.items)  # O(1), not a copy of the history


async def test_each_request_still_reads_as_the_transcript_at_its_turn() -> None:
    model = ScriptedModel([tool_call("step", {"n": 0}), tool_call("step", {"n": 1}), "done"])
    result = await Runner.run(Agent(name="a", model=model, tools=[step]), "go")
    seen = [list(r.items) for r in model.requests]
    assert [len(s) for s in seen] == [1, 3, 5]  # frozen at its turn though the run went on
    assert seen[2] == result.items[:5] and model.requests[2].items == result.items[:5]
    items = model.requests[2].items
    assert isinstance(items[0], UserMessage) and isinstance(items[-1], ToolResult)
    assert isinstance(items[-2], ToolCall) and items[1:3] == result.items[1:3] and items[::2] == seen[2][::2]
    assert items[-1] is items[4] and list(reversed(items)) == seen[2][::-1]


async def test_item20_after_a_filtering_handoff_the_request_starts_with_the_filtered_history() -> None:
    billing_model = ScriptedModel(["handled"])
    billing = Agent(name="billing", model=billing_model)
    triage = Agent(
        name="triage",
        model=ScriptedModel([tool_call("transfer_to_billing")]),
        handoffs=[Handoff(billing, history="summary")],
    )
    await Runner.run(triage, "refund please")
    (request,) = billing_model.requests
    items = request.items
    assert isinstance(items, TranscriptView)
    assert isinstance(items[0], UserMessage) and items[0].text.startswith("Summary of the conversation")
    assert len(items) == len(list(items)) and items[: len(items)] == list(items)
