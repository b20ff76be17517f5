"""A tool result with an image (a screenshot, an MCP image result) reaches every vendor in its documented
form, through the real SDK client and a strict emulator (issue 16, also issue 14's MCP images).

* OpenAI Responses: ``function_call_output.output`` = ``[input_text, input_image (data URL)]``.
* OpenAI Chat: the ``tool`` message keeps the text; the image follows in a ``user`` message
  (``image_url`` part) after the step's tool messages — tool messages carry text only.
* Anthropic: ``tool_result.content`` = ``[text, image (base64 source)]``.
* Gemini generateContent: ``functionResponse.parts`` with ``inlineData`` (Gemini 3); older models
  get the image as a user part right after the function response.
* Gemini Interactions: ``function_result.result`` = ``[text, image]``.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest

from agentcore import Agent, Runner
from agentcore.messages import ImagePart
from agentcore.tools import ToolOutput, tool
from tests.emulators.base import Reply, ToolCallReply
from tests.providers.harness import PROVIDERS, Harness, started


def _png() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


PNG = _png()
URL = f"data:image/png;base64,{PNG}"


@tool
def look() -> ToolOutput:
    """Take a picture."""
    return ToolOutput("a red square", [ImagePart(data=PNG, media_type="image/png")])


def _find(node: Any, pred: Any) -> list[Any]:
    """Every dict under ``node`` for which ``pred`` holds."""
    out: list[Any] = []
    if isinstance(node, dict):
        if pred(node):
            out.append(node)
        for v in node.values():
            out.extend(_find(v, pred))
    elif isinstance(node, list):
        for v in node:
            out.extend(_find(v, pred))
    return out


async def _run(h: Harness, **model_options: Any) -> dict[str, Any]:
    h.emulator.queue(Reply(tool_calls=[ToolCallReply("look", {})]), Reply(text="I see red."))
    result = await Runner.run(Agent(name="t", model=h.model(**model_options), tools=[look]), "look")
    assert result.final_output == "I see red."
    body: dict[str, Any] = h.emulator.requests[-1].body
    return body


def _check(name: str, body: dict[str, Any]) -> None:
    if name == "openai":
        (out,) = _find(body, lambda d: d.get("type") == "function_call_output")
        assert out["output"] == [
            {"type": "input_text", "text": "a red square"},
            {"type": "input_image", "image_url": URL, "detail": "auto"},
        ]
    elif name == "openai-chat":
        roles = [m["role"] for m in body["messages"]]
        assert roles[-3:] == ["assistant", "tool", "user"]
        tool_msg, user_msg = body["messages"][-2:]
        assert tool_msg["content"] == "a red square"
        assert {"type": "image_url", "image_url": {"url": URL}} in user_msg["content"]
    elif name == "anthropic":
        (res,) = _find(body, lambda d: d.get("type") == "tool_result")
        assert res["content"] == [
            {"type": "text", "text": "a red square"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        ]
    elif name == "google":
        (fr,) = _find(body, lambda d: "functionResponse" in d)
        assert fr["functionResponse"]["response"] == {"output": "a red square"}
        assert fr["functionResponse"]["parts"] == [{"inlineData": {"mimeType": "image/png", "data": PNG}}]
    elif name == "google-interactions":
        (res,) = _find(body, lambda d: d.get("type") == "function_result")
        assert res["result"] == [
            {"type": "text", "text": "a red square"},
            {"type": "image", "mime_type": "image/png", "data": PNG},
        ]
    else:  # pragma: no cover
        raise AssertionError(name)


@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_tool_result_image_reaches_the_vendor_in_its_documented_form(name: str) -> None:
    with started(name) as h:
        _check(name, await _run(h))


async def test_gemini_before_3_gets_the_image_as_a_user_part_after_the_function_response() -> None:
    from agentcore.providers.gemini.generate_content import GeminiModel

    with started("google") as h:
        model = GeminiModel("gemini-2.5-flash", base_url=h.emulator.base_url, api_key="test-key")
        h.make_model = lambda **kw: model
        body = await _run(h)
    last = body["contents"][-1]
    assert last["role"] == "user"
    fr, note, image = last["parts"]
    assert "parts" not in fr["functionResponse"]
    assert "text" in note and image == {"inlineData": {"mimeType": "image/png", "data": PNG}}


async def test_emulators_refuse_malformed_images() -> None:
    """The emulators check what the vendors check: a broken data URL is a 400, not a pass."""
    from tests.emulators.computer_rules import openai_action_problem
    from tests.emulators.media_rules import (
        anthropic_result_content_problem,
        chat_image_part_problem,
        gemini_response_parts_problem,
        responses_output_problem,
    )

    assert responses_output_problem([{"type": "input_image", "image_url": "data:image/png;base64,@@"}], "o")
    assert responses_output_problem([{"type": "image", "image_url": URL}], "o")
    assert chat_image_part_problem({"type": "image_url", "image_url": "just-a-string"}, "p")
    bad = [{"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": PNG}}]
    assert anthropic_result_content_problem(bad, "c")
    good = [{"inlineData": {"mimeType": "image/png", "data": PNG}}]
    assert gemini_response_parts_problem(good, "p", "gemini-2.5-flash")
    assert gemini_response_parts_problem(good, "p", "gemini-3-pro-preview") is None
    assert openai_action_problem({"type": "click", "x": 1, "y": 2}) is not None  # button is required
