"""A model that moves a conversation between adapters mid-run (used by the cross-vendor tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

from agentcore.model import Model, ModelRequest, ModelResponse, ModelStreamEvent


class SwitchingModel(Model):
    """Call ``n`` goes to ``models[n]`` (the last one answers every later call).

    Each inner adapter keeps its own cache entry, exactly as two agents (or two sessions) would.
    """

    provider = "switching"
    system = "switching"

    def __init__(self, models: Sequence[Model]) -> None:
        self.models = list(models)
        self.model_name = "->".join(m.model_name for m in self.models)
        self.calls = 0

    def _pick(self, request: ModelRequest) -> tuple[Model, ModelRequest]:
        model = self.models[min(self.calls, len(self.models) - 1)]
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
