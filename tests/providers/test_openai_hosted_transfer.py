"""A transcript with OpenAI's hosted search results and code execution moves OpenAI → Anthropic → Gemini →
Chat Completions with no 400 from any emulator, and the sources stay readable everywhere (issue 13 §1)."""

from __future__ import annotations

import json
from typing import Any

from agentcore.messages import AssistantMessage, HostedToolUse, Item, UserMessage
from agentcore.model import ModelRequest
from agentcore.providers.anthropic.model import AnthropicModel
from agentcore.providers.gemini.generate_content import GeminiModel
from agentcore.providers.openai.chat import OpenAIChatModel
from agentcore.providers.openai.responses import OpenAIResponsesModel
from tests.emulators.anthropic import AnthropicEmulator
from tests.emulators.base import Reply
from tests.emulators.gemini import MODEL as GEMINI
from tests.emulators.gemini import GeminiEmulator
from tests.emulators.openai_chat import ChatCompletionsEmulator
from tests.emulators.openai_responses import MODEL, OpenAIResponsesEmulator
from tests.providers.harness import emulator_fixture

openai_emu = emulator_fixture(OpenAIResponsesEmulator, "openai_emu")
anthropic_emu = emulator_fixture(AnthropicEmulator, "anthropic_emu")
gemini_emu = emulator_fixture(GeminiEmulator, "gemini_emu")
chat_emu = emulator_fixture(ChatCompletionsEmulator, "chat_emu")

SEARCH = {
    "type": "web_search_call",
    "status": "completed",
    "action": {
        "type": "search",
        "query": "python 3.14 release date",
        "sources": [{"type": "url", "url": "https://peps.example/pep-0745"}],
    },
}
CODE = {
    "type": "code_interpreter_call",
    "status": "completed",
    "code": "print(2025 + 1)",
    "container_id": "cntr_x",
    "outputs": [{"type": "logs", "logs": "2026\n"}],
}


async def test_hosted_items_move_openai_anthropic_gemini_chat(
    openai_emu: OpenAIResponsesEmulator,
    anthropic_emu: AnthropicEmulator,
    gemini_emu: GeminiEmulator,
    chat_emu: ChatCompletionsEmulator,
) -> None:
    openai_emu.script_items(SEARCH, CODE)
    openai_emu.queue(Reply(text="October 2025; next year is 2026."))
    first = await OpenAIResponsesModel(
        MODEL, base_url=openai_emu.base_url + "/v1", api_key="test-key"
    ).respond(ModelRequest(instructions=None, items=[UserMessage.of("when is 3.14 out?")]))
    hosted = [i for i in first.items if isinstance(i, HostedToolUse)]
    assert [h.kind for h in hosted] == ["web_search", "code_execution"]
    transcript: list[Item] = [UserMessage.of("when is 3.14 out?"), *first.items]

    models: list[tuple[str, Any, Any]] = [
        (
            "anthropic",
            AnthropicModel("claude-sonnet-5-5", base_url=anthropic_emu.base_url, api_key="test-key"),
            anthropic_emu,
        ),
        ("gemini", GeminiModel(GEMINI, base_url=gemini_emu.base_url, api_key="test-key"), gemini_emu),
        ("chat", OpenAIChatModel("llama3", base_url=chat_emu.base_url + "/v1", api_key="test-key"), chat_emu),
    ]
    for name, model, emulator in models:
        emulator.queue(Reply(text=f"answered on {name}"))
        transcript.append(UserMessage.of(f"and on {name}?"))
        answer = await model.respond(ModelRequest(instructions=None, items=transcript))
        assert answer.text == f"answered on {name}"
        sent = json.dumps(emulator.requests[-1].body)
        assert (
            "https://peps.example/pep-0745" in sent and "print(2025 + 1)" in sent
        )  # sources and code readable
        assert (
            "web_search_call" not in sent and "code_interpreter_call" not in sent
        )  # never the foreign items
        transcript.extend(i for i in answer.items if isinstance(i, AssistantMessage))
    # and back to OpenAI: its own items as they came, the others' answers as text
    openai_emu.queue(Reply(text="back"))
    await OpenAIResponsesModel(
        MODEL, base_url=openai_emu.base_url + "/v1", api_key="test-key", store=False
    ).respond(ModelRequest(instructions=None, items=transcript))
    kinds = [i.get("type") for i in openai_emu.requests[-1].body["input"]]
    assert "web_search_call" in kinds and "code_interpreter_call" in kinds
