"""A hosted tool the model's vendor cannot serve fails when the agent is built (or when a handoff moves the
conversation to it), naming the vendors that can — never a 400 at the first call (issue 13 §2)."""

from __future__ import annotations

from typing import Any

import pytest

from agentcore import Agent
from agentcore.control.handoffs import Handoff
from agentcore.hosted import (
    UnsupportedHostedToolError,
    check_agent,
    check_hosted,
    code_execution,
    file_search,
    register_hosted,
    serves,
    serving_vendors,
    web_fetch,
    web_search,
)
from agentcore.testing import ScriptedModel


class _Named:
    """A model object as the registry builds them: only ``provider`` and ``model_name`` matter here."""

    def __init__(self, provider: str, model_name: str) -> None:
        self.provider = provider
        self.model_name = model_name


def test_an_agent_whose_vendor_cannot_serve_a_hosted_tool_fails_when_built() -> None:
    with pytest.raises(UnsupportedHostedToolError) as caught:
        Agent(name="reader", model="openai:gpt-5.1", hosted_tools=[web_fetch()])
    error = caught.value
    assert error.provider == "openai:gpt-5.1" and error.tool == "web_fetch"
    assert set(error.supported_by) >= {"anthropic"} and "openai" not in error.supported_by
    assert "agent 'reader' declares it" in str(error) and "served by: anthropic" in str(error)
    Agent(name="reader", model="anthropic:claude-sonnet-4-5", hosted_tools=[web_fetch()])  # served there


def test_an_option_one_vendor_lacks_names_the_others() -> None:
    with pytest.raises(UnsupportedHostedToolError, match="blocked_domains") as caught:
        Agent(name="s", model="openai:gpt-5.1", hosted_tools=[web_search(blocked_domains=["x.com"])])
    assert "anthropic" in caught.value.supported_by
    with pytest.raises(UnsupportedHostedToolError, match=r"served by: openai"):
        Agent(
            name="s", model="anthropic:claude-sonnet-4-5", hosted_tools=[file_search(vector_store_ids=["vs"])]
        )


def test_a_provider_without_hosted_tools_fails_and_model_objects_are_checked_too() -> None:
    with pytest.raises(UnsupportedHostedToolError, match="no hosted tools") as caught:
        Agent(name="c", model="openai-chat:llama3@http://127.0.0.1:9/v1", hosted_tools=[web_search()])
    assert caught.value.supported_by[0] == "openai"
    with pytest.raises(UnsupportedHostedToolError):
        Agent(name="c", model=_Named("openai", "gpt-5.1"), hosted_tools=[web_fetch()])  # type: ignore[arg-type]
    # a provider this process cannot check, an agent without hosted tools: let through
    Agent(name="s", model=ScriptedModel(["hi"]), hosted_tools=[web_fetch()])
    Agent(name="t", model="openai-chat:llama3@http://127.0.0.1:9/v1")


def test_a_handoff_target_is_checked_for_the_vendor_the_conversation_moves_to() -> None:
    target = Agent(name="reader", model=ScriptedModel(["x"]), hosted_tools=[web_fetch()])
    object.__setattr__(target, "model", "openai:gpt-5.1")  # as YAML attaches late: the target's real model
    with pytest.raises(UnsupportedHostedToolError, match="a handoff from 'triage' targets it"):
        Agent(name="triage", model="anthropic:claude-sonnet-4-5", handoffs=[Handoff(target)])
    check_agent(target, via=Agent(name="same", model="openai:gpt-5.1"))  # same vendor: checked when built


def test_served_by_is_computed_from_the_adapters() -> None:
    assert serving_vendors(web_search()) == ["openai", "anthropic", "google"]
    assert serving_vendors(file_search(vector_store_ids=["vs_1"])) == ["openai"]
    assert serves("openai", code_execution()) is True
    assert serves("nobody-knows", web_search()) is None
    check_hosted("openai", "gpt-5.1", [web_search(), object()])  # not a declaration: not this check's


def test_a_third_party_provider_registers_its_own_mapping() -> None:
    def entry(tool: Any, model: str = "") -> dict[str, Any]:
        if tool.kind != "web_search":
            raise UnsupportedHostedToolError("acme", tool.kind, "acme only searches")
        return {"type": "search"}

    register_hosted("acme", entry)
    try:
        check_hosted("acme", "m1", [web_search()])
        with pytest.raises(UnsupportedHostedToolError, match="acme only searches"):
            check_hosted("acme", "m1", [web_fetch()])
    finally:
        register_hosted("acme", None)
    with pytest.raises(UnsupportedHostedToolError, match="no hosted tools"):
        check_hosted("acme", "m1", [web_search()])
