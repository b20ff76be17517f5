"""Shared helpers for the OpenAI Responses adapter tests: building the adapter against the emulator,
reading trace notes, and a small conversation driver that feeds tool results back like the runner."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentcore.messages import (
    Item,
    ToolCall,
    ToolResult,
    UserMessage,
)
from agentcore.model import (
    ModelRequest,
    ModelResponse,
    ToolSpec,
)
from agentcore.providers.openai.responses import OpenAIResponsesModel
from tests.emulators.base import ToolCallReply
from tests.emulators.openai_responses import MODEL, OpenAIResponsesEmulator

WEATHER = ToolSpec(
    "get_weather",
    "Current weather in a city.",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    strict=True,
)


def make(emu: OpenAIResponsesEmulator, model: str = MODEL, **kw: Any) -> OpenAIResponsesModel:
    """The Responses adapter for ``model`` pointed at the emulator."""
    return OpenAIResponsesModel(model, base_url=emu.base_url + "/v1", api_key="test-key", **kw)


def events(exporter: InMemorySpanExporter, name: str) -> list[dict[str, Any]]:
    return [
        dict(e.attributes or {}) for s in exporter.get_finished_spans() for e in s.events if e.name == name
    ]


class Conversation:
    """A transcript driven turn by turn, the way the runner does it."""

    def __init__(self, model: OpenAIResponsesModel, *items: Item, tools: tuple[ToolSpec, ...] = (WEATHER,)):
        self.model = model
        self.items: list[Item] = list(items) or [UserMessage.of("What's the weather in Paris?")]
        self.cache: dict[str, Any] = {}
        self.tools = tools

    def request(self, **kw: Any) -> ModelRequest:
        return ModelRequest("Be brief.", list(self.items), tools=list(self.tools), cache=self.cache, **kw)

    async def turn(self, **kw: Any) -> ModelResponse:
        response = await self.model.respond(self.request(**kw))
        self.absorb(response)
        return response

    def absorb(self, response: ModelResponse) -> None:
        self.items += response.items
        for item in response.items:
            if isinstance(item, ToolCall):
                self.items.append(ToolResult(call_id=item.call_id, name=item.name, output="sunny, 21C"))


def call(city: str = "Paris", call_id: str | None = None) -> ToolCallReply:
    return ToolCallReply("get_weather", {"city": city}, call_id=call_id)
