"""A model that moves a conversation from one adapter to another mid-run (used by the cross-vendor tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

from agentcore.model import Model, ModelRequest, ModelResponse, ModelStreamEvent


class SwitchingModel(Model):
    """Answers the first ``switch_after`` calls with ``first`` and every later call with ``then``.

    Each inner adapter keeps its own cache entry, exactly as two agents (or two sessions) would.
    """

    provider = "switching"
    system = "switching"

    def __init__(self, first: Model, then: Model, *, switch_after: int = 1) -> None:
        self.first, self.then, self.switch_after = first, then, switch_after
        self.model_name = f"{first.model_name}->{then.model_name}"
        self.calls = 0

    def _pick(self, request: ModelRequest) -> tuple[Model, ModelRequest]:
        model = self.first if self.calls < self.switch_after else self.then
        self.calls += 1
        return model, replace(
            request, cache=request.cache.setdefault(f"{model.provider}:{model.model_name}", {})
        )

    async def respond(self, request: ModelRequest) -> ModelResponse:
        model, inner = self._pick(request)
        return await model.respond(inner)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        model, inner = self._pick(request)
        async for event in model.stream(inner):
            yield event
