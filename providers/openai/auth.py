"""Which API key an OpenAI adapter uses, decided when the adapter is built (before any network work).

* Pointed at OpenAI itself (no ``base_url``, or ``api.openai.com`` / ``*.openai.azure.com``): the key is
  ``api_key=`` or ``OPENAI_API_KEY``; without one the adapter is not built and
  :class:`~agentcore.errors.MissingCredentialsError` names the variable to set.
* Pointed at another server with ``base_url=`` (``@base_url`` in a model string): ``api_key=`` if
  given, else a placeholder. Local servers (vLLM, Ollama, llama.cpp) rarely check keys, and the user's
  OpenAI key is never sent to another host.
* Pointed at another server through ``OPENAI_BASE_URL`` (the SDK's own variable pair): that server
  gets ``OPENAI_API_KEY`` when it is set, else the placeholder.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from agentcore.errors import MissingCredentialsError

OPENAI_BASE_URL = "https://api.openai.com/v1"
NO_KEY = "not-needed"
"""Sent as the bearer token to servers that need no key (the SDK refuses to build without one)."""
_OPENAI_HOSTS = ("api.openai.com", ".openai.azure.com")


def is_openai_host(host: str) -> bool:
    return host == _OPENAI_HOSTS[0] or host.endswith(_OPENAI_HOSTS[1])


def api_key_for(provider: str, api_key: str | None, base_url: str | None) -> str:
    """The key to build the SDK client with; raises ``MissingCredentialsError`` for OpenAI's own host
    without one."""
    if api_key:
        return api_key
    env_key = os.environ.get("OPENAI_API_KEY") or None
    url = base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL
    if is_openai_host(urlsplit(url).hostname or ""):
        if env_key is None:
            raise MissingCredentialsError(
                provider, "OPENAI_API_KEY", "or point the model at a local server with @base_url"
            )
        return env_key
    if base_url is None and env_key is not None:
        return env_key  # OPENAI_BASE_URL + OPENAI_API_KEY: the pair the user configured for the SDK
    return NO_KEY
