"""The normalized protocol: items are immutable, typed and survive a JSON round trip."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from agentcore.messages import (
    AssistantMessage,
    Handoff,
    ImagePart,
    ProviderState,
    Reasoning,
    TextPart,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
    dump_items,
    input_to_items,
    load_items,
)


def test_every_item_kind_round_trips_through_json_with_provider_state() -> None:
    state = ProviderState(
        provider="anthropic", model="claude-x", kind="thinking", payload={"signature": "sig=="}
    )
    items = [
        UserMessage(content=(TextPart(text="look"), ImagePart(data="aGk=", media_type="image/png"))),
        Reasoning(summary="thinking about it", state=(state,)),
        AssistantMessage(text="calling a tool", agent="a"),
        ToolCall(call_id="c1", name="f", arguments='{"x": 1}'),
        ToolResult(call_id="c1", name="f", output="2", is_error=False),
        Handoff(from_agent="a", to_agent="b", call_id="c2"),
    ]
    text = json.dumps(dump_items(items))
    back = load_items(json.loads(text))
    assert back == items
    assert back[1].state_for("anthropic", kind="thinking") == state
    assert back[1].state_for("openai") is None


def test_items_are_immutable_and_reject_unknown_fields() -> None:
    msg = AssistantMessage(text="hi")
    with pytest.raises(ValidationError):
        msg.text = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        AssistantMessage(text="hi", colour="red")  # type: ignore[call-arg]


def test_tool_call_keeps_raw_arguments_and_parses_on_demand() -> None:
    call = ToolCall(call_id="c", name="f", arguments='{"a": [1, 2]}')
    assert call.parsed_arguments == {"a": [1, 2]}
    bad = ToolCall(call_id="c", name="f", arguments="{not json")
    assert bad.arguments == "{not json"
    with pytest.raises(ValueError):
        bad.parsed_arguments  # noqa: B018


def test_each_item_gets_a_unique_id() -> None:
    ids = {UserMessage.of("x").id for _ in range(1000)}
    assert len(ids) == 1000


def test_usage_adds_up() -> None:
    total = Usage()
    total.add(Usage(requests=1, input_tokens=10, output_tokens=2, cached_input_tokens=4, reasoning_tokens=1))
    total = total + Usage(requests=1, input_tokens=5, output_tokens=3, cache_write_tokens=7)
    assert total.model_dump() == {
        "requests": 2,
        "input_tokens": 15,
        "output_tokens": 5,
        "cached_input_tokens": 4,
        "cache_write_tokens": 7,
        "reasoning_tokens": 1,
        "server_tool_requests": {},
    }
    assert total.total_tokens == 20


def test_server_tool_requests_add_up_without_aliasing() -> None:
    a = Usage(server_tool_requests={"web_search": 1})
    b = a + Usage(server_tool_requests={"web_search": 2, "web_fetch": 1})
    assert b.server_tool_requests == {"web_search": 3, "web_fetch": 1}
    assert a.server_tool_requests == {"web_search": 1}


def test_hosted_tool_use_round_trips_and_renders_bounded() -> None:
    from agentcore.messages import Citation, HostedToolUse, load_items

    item = HostedToolUse(
        kind="web_search",
        name="web_search",
        call_id="srvtoolu_1",
        input={"query": "tides in Brest"},
        sources=(Citation(url="https://example.org/t", title="Tide tables"),),
        code="print(1)" * 2000,
        output="1",
    )
    (back,) = load_items([item.model_dump(mode="json")])
    assert back == item
    text = item.render(limit=500)
    assert text.startswith("[web search run by the model's vendor (web_search): tides in Brest]")
    assert len(text) <= 500


def test_input_normalization() -> None:
    assert input_to_items(None) == []
    (only,) = input_to_items("hello")
    assert isinstance(only, UserMessage) and only.text == "hello"
    msg = UserMessage.of("x")
    assert input_to_items(msg) == [msg]
    assert input_to_items([msg, msg]) == [msg, msg]
