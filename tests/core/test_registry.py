"""Models and sandboxes are found by name; third-party packages plug in through entry points."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest

from agentcore import registry
from agentcore.errors import UnknownModelError, UserError
from agentcore.testing import ScriptedModel


def test_model_strings_are_parsed() -> None:
    assert registry.parse_model_string("openai:gpt-5") == ("openai", "gpt-5", None)
    assert registry.parse_model_string("openai-chat:llama3@http://127.0.0.1:8000/v1") == (
        "openai-chat",
        "llama3",
        "http://127.0.0.1:8000/v1",
    )
    with pytest.raises(UnknownModelError, match="provider:model"):
        registry.parse_model_string("gpt-5")


def test_builtin_providers_resolve_lazily() -> None:
    from agentcore.providers.openai.chat import OpenAIChatModel

    model = registry.resolve_model("openai-chat:llama3@http://127.0.0.1:9/v1", api_key="k")
    assert isinstance(model, OpenAIChatModel) and model.model_name == "llama3"
    assert model.server_address == "127.0.0.1" and model.server_port == 9


def test_unknown_provider_names_the_known_ones() -> None:
    with pytest.raises(UnknownModelError, match=r"known: .*anthropic.*openai"):
        registry.resolve_model("nope:x")


def test_register_provider_and_pass_through_of_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_providers", {})
    registry.register_provider("mine", lambda name, **kw: ScriptedModel(model_name=name))
    assert registry.resolve_model("mine:m1").model_name == "m1"
    model = ScriptedModel()
    assert registry.resolve_model(model) is model


def test_entry_points_extend_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_providers", {})
    monkeypatch.setattr(registry, "_sandboxes", {})
    eps = {
        "agentcore.providers": [
            EntryPoint("acme", "agentcore.testing:scripted_model", "agentcore.providers")
        ],
        "agentcore.sandboxes": [
            EntryPoint("fake", "tests.core.test_registry:FakeSandbox", "agentcore.sandboxes")
        ],
    }
    monkeypatch.setattr(registry, "entry_points", lambda group: eps.get(group, []))
    assert registry.resolve_model("acme:x").model_name == "x"
    assert "acme" in registry.provider_names()
    assert isinstance(registry.resolve_sandbox("fake", image="i"), FakeSandbox)
    with pytest.raises(UserError, match="unknown sandbox backend"):
        registry.resolve_sandbox("nope")


class FakeSandbox:
    def __init__(self, **config: Any) -> None:
        self.config = config
