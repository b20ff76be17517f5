"""A response holding only an item agentcore does not know is a typed error, never an empty answer."""

from __future__ import annotations

import pytest

from agentcore import Agent, AssistantMessage, ProviderState, Runner
from agentcore.errors import UnsupportedResponseError
from agentcore.model import ModelRequest, ModelResponse
from agentcore.testing import FunctionModel


def _opaque_only(request: ModelRequest) -> ModelResponse:
    kept = AssistantMessage(
        text="",
        state=(ProviderState(provider="openai", model="m", kind="item", payload={"type": "brand_new_item"}),),
    )
    return ModelResponse(items=[kept], finish_reason="unsupported_item:brand_new_item")


async def test_an_unknown_item_alone_is_a_typed_error_with_the_item_kept() -> None:
    agent = Agent(name="a", model=FunctionModel(_opaque_only))
    with pytest.raises(UnsupportedResponseError, match="brand_new_item") as caught:
        await Runner.run(agent, "hi")
    kept = [i for i in caught.value.items if isinstance(i, AssistantMessage)]
    assert kept and kept[-1].state[0].payload == {"type": "brand_new_item"}
