"""The provider contract suite's view of an adapter: an emulator plus a way to build the Model.

Each vendor emulator module in ``tests/emulators/`` exposes ``harness() -> Harness``. The fixtures in
``conftest.py`` parametrize the contract suite over every harness whose module exists.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentcore.model import Model
from tests.emulators.base import Emulator

# registry name -> emulator module
HARNESS_MODULES: dict[str, str] = {
    "openai": "tests.emulators.openai_responses",
    "openai-chat": "tests.emulators.openai_chat",
    "anthropic": "tests.emulators.anthropic",
    "google": "tests.emulators.gemini",
}


@dataclass
class Harness:
    name: str
    """The provider's registry name (``openai``, ``openai-chat``, ``anthropic``, ``google``)."""
    emulator: Emulator
    make_model: Callable[..., Model]
    """``make_model(**options)`` builds the adapter pointed at the running emulator."""
    supports_reasoning: bool = True

    def model(self, **options: Any) -> Model:
        return self.make_model(**options)


def available() -> list[str]:
    names = []
    for name, module in HARNESS_MODULES.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError:
            continue
        if hasattr(mod, "harness"):
            names.append(name)
    return names


def make(name: str) -> Harness:
    harness: Harness = importlib.import_module(HARNESS_MODULES[name]).harness()
    return harness
