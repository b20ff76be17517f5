"""MCP resources and prompts, sampling and elicitation (refused by default, answered by a callback)."""

from __future__ import annotations

from typing import Any

import mcp.types as mt

from agentcore import Agent, Runner
from agentcore.mcp import connected
from agentcore.mcp.resources import prompt_items, resource_message
from agentcore.messages import ImagePart, TextPart, ToolResult
from agentcore.testing import ScriptedModel, tool_call

from .conftest import everything, toy


def results(result: Any) -> list[ToolResult]:
    return [i for i in result.new_items if isinstance(i, ToolResult)]


async def test_resources_and_prompts_become_run_input() -> None:
    async with connected(toy()) as conn:
        assert {str(r.uri) for r in await conn.list_resources()} == {"toy://greeting", "toy://pixel"}
        assert [p.name for p in await conn.list_prompts()] == ["review"]
        message = await resource_message(conn, "toy://greeting", "What does it say?")
        image = await resource_message(conn, "toy://pixel")
        prompt = await prompt_items(conn, "review", {"code": "x = 1"})
    assert [type(p) for p in message.content] == [TextPart, TextPart]
    assert "hello from the toy resource" in message.text
    (pixel,) = image.content
    assert isinstance(pixel, ImagePart) and pixel.media_type == "image/png" and pixel.data
    model = ScriptedModel(["reviewed"])
    result = await Runner.run(Agent(name="a", model=model), [*prompt, message])
    sent = model.requests[0].items
    assert "Please review this code:\nx = 1" in sent[0].text and "hello from the toy resource" in sent[1].text
    assert result.final_output == "reviewed"


async def test_read_resource_as_a_tool() -> None:
    model = ScriptedModel([tool_call("toy__read_resource", {"uri": "toy://greeting"}), "ok"])
    result = await Runner.run(Agent(name="a", model=model, mcp_servers=[toy(resource_tool=True)]), "go")
    (out,) = results(result)
    assert not out.is_error and "hello from the toy resource" in out.output


async def test_sampling_is_refused_by_default_with_a_clear_message() -> None:
    model = ScriptedModel([tool_call("toy__ask_model", {"question": "6 x 7?"}), "ok"])
    result = await Runner.run(Agent(name="a", model=model, mcp_servers=[toy()]), "go")
    (out,) = results(result)
    assert out.is_error and "sampling=<callback>" in out.output
    async with connected(everything()) as conn:  # not advertised: the server does not offer its sampling tool
        assert "trigger-sampling-request" not in {t.name for t in await conn.list_tools()}


async def test_sampling_with_a_callback() -> None:
    asked: list[str] = []

    async def sample(params: mt.CreateMessageRequestParams) -> mt.CreateMessageResult:
        asked.append(params.messages[0].content.text)  # type: ignore[union-attr]
        return mt.CreateMessageResult(
            role="assistant", content=mt.TextContent(type="text", text="forty-two"), model="scripted"
        )

    model = ScriptedModel(
        [
            tool_call("toy__ask_model", {"question": "6 x 7?"}),
            tool_call("everything__echo", {"message": "warm up"}),  # lets the conditional tools appear
            tool_call("everything__trigger-sampling-request", {"prompt": "say hi", "maxTokens": 20}),
            "ok",
        ]
    )
    agent = Agent(name="a", model=model, mcp_servers=[toy(sampling=sample), everything(sampling=sample)])
    result = await Runner.run(agent, "go")
    mine, _, theirs = results(result)
    assert not mine.is_error and mine.output == "the client's model said: forty-two"
    assert not theirs.is_error and "forty-two" in theirs.output
    assert asked[0] == "6 x 7?" and "say hi" in asked[1]


async def test_elicitation_with_a_callback() -> None:
    async def elicit(params: mt.ElicitRequestParams) -> mt.ElicitResult:
        return mt.ElicitResult(action="accept", content={"name": "Ada Lovelace", "check": True})

    model = ScriptedModel(
        [
            tool_call("everything__echo", {"message": "warm up"}),
            tool_call("everything__trigger-elicitation-request"),
            "ok",
        ]
    )
    agent = Agent(name="a", model=model, mcp_servers=[everything(elicitation=elicit)])
    result = await Runner.run(agent, "go")
    _, out = results(result)
    assert not out.is_error and "Ada Lovelace" in out.output


async def test_an_agentcore_agent_answers_sampling_requests() -> None:
    from agentcore.mcp.resources import sampler

    helper_model = ScriptedModel(["seven times six is forty-two"])
    helper = Agent(name="helper", model=helper_model, instructions="Answer briefly.")
    model = ScriptedModel([tool_call("toy__ask_model", {"question": "6 x 7?"}), "ok"])
    result = await Runner.run(Agent(name="a", model=model, mcp_servers=[toy(sampling=sampler(helper))]), "go")
    (out,) = results(result)
    assert out.output == "the client's model said: seven times six is forty-two"
    assert helper_model.requests[0].items[0].text == "6 x 7?"
