"""Find providers and sandbox backends by name.

Model strings are ``provider:model`` with an optional ``@base_url`` suffix
(``openai-chat:llama3@http://127.0.0.1:8000/v1``). Built-in providers and backends are imported
lazily the first time they are named; third-party packages add their own through the entry-point
groups ``agentcore.providers`` and ``agentcore.sandboxes`` (the entry point is a factory callable).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from .errors import UnknownModelError, UserError

if TYPE_CHECKING:
    from .model import Model

ProviderFactory = Callable[..., "Model"]
SandboxFactory = Callable[..., Any]

_BUILTIN_PROVIDERS: dict[str, str] = {
    "openai": "agentcore.providers.openai.responses:OpenAIResponsesModel",
    "openai-chat": "agentcore.providers.openai.chat:OpenAIChatModel",
    "anthropic": "agentcore.providers.anthropic.model:AnthropicModel",
    "google": "agentcore.providers.gemini.generate_content:GeminiModel",
    "google-interactions": "agentcore.providers.gemini.interactions:GeminiInteractionsModel",
    "scripted": "agentcore.testing:scripted_model",
}
_BUILTIN_SANDBOXES: dict[str, str] = {
    "local": "agentcore.sandboxes.local.sandbox:LocalSandbox",
    "docker": "agentcore.sandboxes.docker.sandbox:DockerSandbox",
    "e2b": "agentcore.sandboxes.remote.e2b:E2BSandbox",
    "modal": "agentcore.sandboxes.remote.modal:ModalSandbox",
}

_providers: dict[str, ProviderFactory] = {}
_sandboxes: dict[str, SandboxFactory] = {}


def _load(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def register_provider(name: str, factory: ProviderFactory) -> None:
    """Make ``name:model`` strings resolve through ``factory(model_name, **options)``."""
    _providers[name] = factory


def register_sandbox(name: str, factory: SandboxFactory) -> None:
    _sandboxes[name] = factory


def _lookup(name: str, table: dict[str, Any], builtins: dict[str, str], group: str) -> Any:
    if name in table:
        return table[name]
    if name in builtins:
        table[name] = _load(builtins[name])
        return table[name]
    for ep in entry_points(group=group):
        if ep.name == name:
            table[name] = ep.load()
            return table[name]
    return None


def provider_names() -> list[str]:
    names = set(_providers) | set(_BUILTIN_PROVIDERS)
    names |= {ep.name for ep in entry_points(group="agentcore.providers")}
    return sorted(names)


def parse_model_string(spec: str) -> tuple[str, str, str | None]:
    """``"openai-chat:llama3@http://h/v1"`` -> ``("openai-chat", "llama3", "http://h/v1")``."""
    provider, sep, rest = spec.partition(":")
    if not sep or not provider or not rest:
        raise UnknownModelError(
            f"model {spec!r} is not of the form provider:model (known providers: {', '.join(provider_names())})"
        )
    model, at, base_url = rest.partition("@")
    return provider, model, (base_url if at else None)


def resolve_model(spec: str | Model, **options: Any) -> Model:
    """Turn a ``provider:model`` string into a :class:`Model`; a Model passes through unchanged."""
    from .model import Model

    if isinstance(spec, Model):
        return spec
    provider, model, base_url = parse_model_string(spec)
    factory = _lookup(provider, _providers, _BUILTIN_PROVIDERS, "agentcore.providers")
    if factory is None:
        raise UnknownModelError(
            f"unknown provider {provider!r} in {spec!r}; known: {', '.join(provider_names())}"
        )
    if base_url is not None:
        options.setdefault("base_url", base_url)
    result: Model = factory(model, **options)
    return result


def resolve_sandbox(backend: str, **config: Any) -> Any:
    """Create a sandbox of the named backend (``local``, ``docker``, ``e2b``, ``modal`` or a plug-in)."""
    factory = _lookup(backend, _sandboxes, _BUILTIN_SANDBOXES, "agentcore.sandboxes")
    if factory is None:
        known = sorted(set(_sandboxes) | set(_BUILTIN_SANDBOXES))
        raise UserError(f"unknown sandbox backend {backend!r}; known: {', '.join(known)}")
    return factory(**config)
