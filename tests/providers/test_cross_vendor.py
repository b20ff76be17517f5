"""Moving a conversation between vendors: all 25 ordered pairs of the five adapters (the four vendor APIs
plus Gemini Interactions), with and without reasoning, with a
tool call in flight at the moment of the switch, plus one run that hops across every adapter.

Each emulator is strict (it answers 400 to what its real API would reject), so a passing run means the
target accepted the transcript. Foreign provider state and foreign reasoning text must never reach it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentcore import Agent, Runner, tool
from agentcore.messages import Item, Reasoning, ToolCall, ToolResult
from tests.emulators.base import Reply, ToolCallReply
from tests.providers import harness as harnesses
from tests.providers.conftest import PROVIDERS
from tests.providers.harness import Harness
from tests.providers.switching import SwitchingModel

MARKER = "PRIVATE-PLAN-7f3a9c"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def _foreign_secrets(items: list[Item], provider: str) -> set[str]:
    """Opaque strings in state produced by ``provider`` (signatures, encrypted reasoning, response ids)."""
    call_ids = {i.call_id for i in items if isinstance(i, (ToolCall, ToolResult))}
    found = set()
    for item in items:
        for state in item.state:
            if state.provider == provider:
                found |= {s for s in _strings(state.payload) if len(s) >= 20 and s not in call_ids}
    return found


@pytest.fixture
def started() -> Iterator[dict[str, Harness]]:
    live: dict[str, Harness] = {}

    def get(name: str) -> Harness:
        if name not in live:
            if name not in harnesses.available():
                pytest.fail(f"no harness for {name}")
            live[name] = harnesses.make(name)
            live[name].emulator.start()
        return live[name]

    yield get  # type: ignore[misc]
    for h in live.values():
        h.emulator.stop()


@pytest.mark.parametrize("reasoning", [False, True], ids=["plain", "reasoning"])
@pytest.mark.parametrize("target", PROVIDERS)
@pytest.mark.parametrize("source", PROVIDERS)
async def test_conversation_moves_mid_tool_loop(
    source: str, target: str, reasoning: bool, started: Any
) -> None:
    src: Harness = started(source)
    dst: Harness = started(target)
    src.emulator.queue(
        Reply(
            reasoning=f"{MARKER}: add them" if reasoning else None,
            tool_calls=[ToolCallReply("add", {"a": 2, "b": 40})],
        )
    )
    dst.emulator.queue(Reply(text="It is 42."))
    source_model, target_model = src.model(), dst.model()
    agent = Agent(name="hop", model=SwitchingModel([source_model, target_model]), tools=[add])
    result = await Runner.run(agent, "What is 2 + 40?")
    assert result.final_output == "It is 42."
    if reasoning and src.supports_reasoning:
        assert any(isinstance(i, Reasoning) and i.state for i in result.items)
    raw = dst.emulator.requests[-1].raw.decode()
    if source != target:
        assert MARKER not in raw, "foreign reasoning must never be turned into text"
        secrets = _foreign_secrets(result.items, source_model.provider)
        if reasoning and source != "openai-chat":  # chat reasoning is plain text: the MARKER check covers it
            assert secrets, "the source produced opaque reasoning state to check against"
        for secret in secrets:
            assert secret not in raw, f"foreign provider state replayed: {secret[:40]}"
    assert "42" in raw or "40" in raw  # the call and its result reached the target


async def test_one_run_hops_across_every_adapter(started: Any) -> None:
    order = [
        "openai",
        "anthropic",
        "google",
        "openai-chat",
        "google-interactions",
        "openai",
        "google",
        "anthropic",
        "google-interactions",
        "openai-chat",
    ]
    models = []
    for step, name in enumerate(order):
        h: Harness = started(name)
        h.emulator.queue(
            Reply(reasoning=f"{MARKER} step {step}", tool_calls=[ToolCallReply("add", {"a": step, "b": 1})])
        )
        models.append(h.model())
    last: Harness = started("openai")
    last.emulator.queue(Reply(text="done hopping"))
    models.append(last.model())
    result = await Runner.run(
        Agent(name="hopper", model=SwitchingModel(models), tools=[add]), "count", max_turns=20
    )
    assert result.final_output == "done hopping"
    assert [i.output for i in result.items if isinstance(i, ToolResult)] == [
        str(s + 1) for s in range(len(order))
    ]


@pytest.mark.parametrize(
    ("source", "target"),
    [("openai", "anthropic"), ("anthropic", "google"), ("google", "openai-chat"), ("openai-chat", "openai")],
)
async def test_handoff_across_providers(source: str, target: str, started: Any) -> None:
    from agentcore import Handoff, InMemorySession
    from agentcore.messages import Handoff as HandoffItem

    src: Harness = started(source)
    dst: Harness = started(target)
    src.emulator.queue(
        Reply(reasoning=f"{MARKER} route it", tool_calls=[ToolCallReply("transfer_to_specialist", {})])
    )
    dst.emulator.queue(
        Reply(reasoning="specialist plan", tool_calls=[ToolCallReply("add", {"a": 40, "b": 2})]),
        Reply(text="The specialist says 42."),
        Reply(text="Still here."),
    )
    specialist = Agent(name="specialist", model=dst.model(), tools=[add])
    triage = Agent(name="triage", model=src.model(), handoffs=[Handoff(specialist)])
    session = InMemorySession()
    result = await Runner.run(triage, "hard sum", session=session)
    assert result.final_output == "The specialist says 42." and result.last_agent == "specialist"
    assert any(isinstance(i, HandoffItem) for i in result.items)
    assert MARKER not in dst.emulator.requests[0].raw.decode()
    follow_up = await Runner.run(triage, "and now?", session=session)  # goes straight to the specialist
    assert follow_up.final_output == "Still here." and len(src.emulator.requests) == 1
