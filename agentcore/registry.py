"""Find providers and sandbox backends by name.

Model strings are ``provider:model`` with an optional ``@base_url`` suffix
(``openai-chat:llama3@http://127.0.0.1:8000/v1``). Built-in providers and backends are imported
lazily the first time they are named; third-party packages add their own through the entry-point
groups ``agentcore.providers`` and ``agentcore.sandboxes`` (the entry point is a factory callable).

``resolve_model(spec, lazy=True)`` (what definition files use) goes one step further for the built-in
providers: it returns a :class:`LazyModel` that imports the vendor SDK and builds the adapter the first
time the model is used, so a definition naming three vendors pays at start-up only for the SDK its first
turn calls. What can be checked without the SDK (a missing API key) is still checked at once.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from .errors import UnknownModelError, UserError
from .model import Model

if TYPE_CHECKING:
    from .model import ModelRequest, ModelResponse, ModelStreamEvent

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
_DEFERRABLE: dict[str, str] = {
    "openai": "agentcore.providers.openai:deferrable",
    "openai-chat": "agentcore.providers.openai:deferrable",
    "anthropic": "agentcore.providers.anthropic:deferrable",
    "google": "agentcore.providers.gemini:deferrable",
    "google-interactions": "agentcore.providers.gemini:deferrable",
}
"""Built-in providers whose adapters can be built on first use: ``deferrable(provider, options)`` (which
imports no SDK) says whether the options allow it, and raises what building would raise for sure."""
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


def entry_points(group: str) -> Any:
    from importlib.metadata import entry_points  # 30-100 ms: only when a name is not built in

    return entry_points(group=group)


_loaded: dict[str, Any] = {}
"""Built-in factories already imported, by their ``module:attribute`` path (registrations stay apart,
so a registered name always wins and ``lazy=True`` knows a name nobody replaced)."""


def _lookup(name: str, table: dict[str, Any], builtins: dict[str, str], group: str) -> Any:
    if name in table:
        return table[name]
    if name in builtins:
        path = builtins[name]
        if path not in _loaded:
            _loaded[path] = _load(path)
        return _loaded[path]
    for ep in entry_points(group=group):
        if ep.name == name:
            table[name] = ep.load()
            return table[name]
    return None


def provider_names() -> list[str]:
    names = set(_providers) | set(_BUILTIN_PROVIDERS)
    names |= {ep.name for ep in entry_points(group="agentcore.providers")}
    return sorted(names)


def needs_key(provider: str, base_url: str | None) -> bool:
    """Whether a built-in vendor's adapter at ``base_url`` would demand an API key that is not set."""
    try:
        return not _load(_DEFERRABLE[provider])(provider, {"base_url": base_url} if base_url else {})
    except UserError:  # MissingCredentialsError
        return True


def is_builtin(provider: str) -> bool:
    """A built-in vendor provider nobody replaced with :func:`register_provider`."""
    return provider in _DEFERRABLE and provider not in _providers


def parse_model_string(spec: str) -> tuple[str, str, str | None]:
    """``"openai-chat:llama3@http://h/v1"`` -> ``("openai-chat", "llama3", "http://h/v1")``."""
    provider, sep, rest = spec.partition(":")
    if not sep or not provider or not rest:
        raise UnknownModelError(
            f"model {spec!r} is not of the form provider:model (known providers: {', '.join(provider_names())})"
        )
    model, at, base_url = rest.partition("@")
    return provider, model, (base_url if at else None)


NO_KEY = "not-needed"
"""The key sent to a server on this machine when the user configured none (``--base-url`` on loopback)."""


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def model_address(model: str, base_url: str | None = None) -> str:
    """``--model`` and ``--base-url`` as one model string, the same in ``agentcore run`` and the examples.

    * ``provider:name`` is that provider's API (at ``base_url`` when one is given);
    * a bare ``name`` with a base URL is a model on an OpenAI-compatible server: ``openai-chat:name@url``
      (``llama3.2:1b`` too: a prefix that names no provider is part of the model's name);
    * a string that already ends in ``@url`` keeps its URL.

    A bare name without a base URL raises :class:`~agentcore.errors.UnknownModelError`.
    """
    name, at, url = model.partition("@")
    if at:
        base_url = url
    provider, sep, _ = name.partition(":")
    if not sep or provider not in provider_names():
        if not base_url:
            raise UnknownModelError(
                f"model {model!r} names no provider: write provider:model (openai:{name}, "
                f"anthropic:…, google:…) or give a base URL for an OpenAI-compatible server"
            )
        name = f"openai-chat:{name}"
    return f"{name}@{base_url}" if base_url else name


def resolve_model(spec: str | Model, *, lazy: bool = False, **options: Any) -> Model:
    """Turn a ``provider:model`` string into a :class:`Model`; a Model passes through unchanged.

    ``lazy=True``: a built-in provider's adapter is built on first use (a :class:`LazyModel`) when its
    options allow it; errors that need no SDK to detect (no API key) are still raised here.
    """
    if isinstance(spec, Model):
        return spec
    provider, model, base_url = parse_model_string(spec)
    if lazy and is_builtin(provider):
        if base_url is not None:
            options.setdefault("base_url", base_url)
        if _load(_DEFERRABLE[provider])(provider, options):
            return LazyModel(provider, model, _BUILTIN_PROVIDERS[provider], options)
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


class LazyModel(Model):
    """A built-in provider's adapter, built (its vendor SDK imported) the first time it is used.

    ``provider``, ``model_name`` and ``cache_key`` are known at once; anything else (``system``, the
    server address, ``respond``/``stream``, adapter attributes) builds the adapter first, in a span named
    ``agentcore setup model`` so the import shows in the trace instead of hiding in the first call.
    :meth:`warm` imports the adapter's module without building it (for a background thread while the
    process waits for input).
    """

    def __init__(self, provider: str, model_name: str, path: str, options: dict[str, Any]) -> None:
        self.provider = provider
        self.model_name = model_name
        self._path = path
        self._options = options
        self._model: Model | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._model is not None

    def warm(self) -> None:
        importlib.import_module(self._path.partition(":")[0])

    def build(self) -> Model:
        """The adapter (built now if it was not yet)."""
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                from . import tracing

                attrs = {"gen_ai.provider.name": self.provider, "gen_ai.request.model": self.model_name}
                with tracing.span("agentcore setup model", attrs):
                    model: Model = _load(self._path)(self.model_name, **self._options)
                self._model = model
        return self._model

    @property
    def system(self) -> str:  # type: ignore[override]
        return self.build().system

    @property
    def server_address(self) -> str | None:  # type: ignore[override]
        return self.build().server_address

    @property
    def server_port(self) -> int | None:  # type: ignore[override]
        return self.build().server_port

    async def respond(self, request: ModelRequest) -> ModelResponse:
        return await self.build().respond(request)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        async for event in self.build().stream(request):
            yield event

    async def aclose(self) -> None:
        if self._model is not None:
            await self._model.aclose()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.build(), name)

    def __repr__(self) -> str:
        state = "" if self.built else " (not built yet)"
        return f"<LazyModel {self.provider}:{self.model_name}{state}>"
