"""OAuth for Streamable HTTP servers that ask for it: ``MCPServer(url=..., oauth=OAuth())``.

The protocol is the ``mcp`` SDK's client flow (``OAuthClientProvider``): on the server's 401 it reads
the protected resource's metadata and its authorization server's, registers a client (dynamic client
registration) unless one is stored, sends the user to the authorization page with a PKCE challenge,
exchanges the code for tokens, refreshes them when they expire, and authorizes again on a later 401.
This module supplies what the SDK leaves to the application:

* **where the tokens live**: :class:`FileTokenStorage`, one 0600 JSON file per server URL under
  ``$AGENTCORE_HOME/mcp-oauth/`` (the registered client, the tokens, and when the access token
  expires, so a later process refreshes an expired token instead of asking the user again);
* **how the user gets to the authorization page**: ``open_url`` (default: the URL is printed on stderr
  and opened in a browser when there is one);
* **how the redirect comes back**: a one-shot HTTP listener on the loopback ``redirect_uri``
  (default ``http://127.0.0.1:33418/callback``) that takes the ``code`` and ``state`` and answers the
  browser with a short page. The state is checked by the SDK.

Nothing here imports the SDK at module import; :meth:`OAuth.provider` does.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import UserError

DEFAULT_REDIRECT_URI = "http://127.0.0.1:33418/callback"
_PAGE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\nconnection: close\r\n\r\n"
    b"<!doctype html><title>agentcore</title><p>Authorized. You can close this tab.</p>"
)
_BAD = b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nno code in this request"


@dataclass(frozen=True, kw_only=True)
class OAuth:
    """How agentcore runs the SDK's OAuth client flow for one server (see the module doc)."""

    scopes: Sequence[str] | None = None
    """Scopes to ask for; ``None``: what the server's challenge or metadata names."""
    client_name: str = "agentcore"
    """The name the authorization server shows the user (dynamic client registration)."""
    redirect_uri: str = DEFAULT_REDIRECT_URI
    """Loopback URL the authorization server sends the browser back to; agentcore listens there."""
    open_url: Callable[[str], Awaitable[None]] | None = None
    """Sends the user to the authorization URL; default: print it and open a browser."""
    storage: Any = None
    """An SDK ``TokenStorage``; default: a :class:`FileTokenStorage` per server URL."""
    callback_timeout: float = 300.0
    """Seconds to wait for the user to finish on the authorization page."""

    def __post_init__(self) -> None:
        parts = urlsplit(self.redirect_uri)
        if (
            parts.scheme != "http"
            or parts.hostname not in ("127.0.0.1", "localhost", "::1")
            or not parts.port
        ):
            raise UserError(
                f"OAuth redirect_uri {self.redirect_uri!r} must be a loopback http URL with a port "
                "(agentcore listens there for the authorization code)"
            )

    def provider(self, server_url: str) -> Any:
        """The SDK's ``OAuthClientProvider`` (an ``httpx2.Auth``) for the server at ``server_url``."""
        from mcp.client.auth import OAuthClientProvider
        from mcp.shared.auth import OAuthClientMetadata

        storage = self.storage if self.storage is not None else FileTokenStorage.for_server(server_url)
        redirect = LoopbackRedirect(
            self.redirect_uri, self.open_url or open_in_browser, self.callback_timeout
        )
        metadata = OAuthClientMetadata(
            client_name=self.client_name,
            redirect_uris=[self.redirect_uri],  # type: ignore[list-item]  # pydantic parses the URL
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            scope=" ".join(self.scopes) if self.scopes else None,
        )

        class Provider(OAuthClientProvider):  # type: ignore[misc]
            redirect: LoopbackRedirect | None = None

            async def _initialize(self) -> None:
                await super()._initialize()
                # the SDK forgets when a stored token expires: without this a later process would
                # send an expired token, get a 401 and ask the user again instead of refreshing
                expires_at = getattr(storage, "expires_at", None)
                if expires_at is not None:
                    self.context.token_expiry_time = expires_at
                # a client registered with another redirect URI would be sent back to it: register anew
                info = self.context.client_info
                if info is not None and redirect_uri not in [str(u) for u in info.redirect_uris or []]:
                    self.context.client_info = None
                    self.context.clear_tokens()

        redirect_uri = self.redirect_uri
        provider = Provider(
            server_url=server_url,
            client_metadata=metadata,
            storage=storage,
            redirect_handler=redirect.open,
            callback_handler=redirect.wait,
        )
        provider.redirect = redirect  # the connection pauses its handshake timeout while the user is away
        return provider


async def open_in_browser(url: str) -> None:
    """Print the authorization URL on stderr and open it in a browser when one is available."""
    print(f"authorize agentcore in your browser: {url}", file=sys.stderr, flush=True)
    import webbrowser

    await asyncio.to_thread(webbrowser.open, url)


class LoopbackRedirect:
    """Listens on the redirect URI's port while the user is on the authorization page, and hands the
    ``code`` and ``state`` of the first request to its path to the SDK."""

    def __init__(self, redirect_uri: str, open_url: Callable[[str], Awaitable[None]], timeout: float) -> None:
        parts = urlsplit(redirect_uri)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.open_url = open_url
        self.timeout = timeout
        self._server: asyncio.Server | None = None
        self._result: asyncio.Future[tuple[str, str | None]] | None = None
        self.waiting = False
        """True from sending the user to the authorization page until the redirect comes back."""

    async def open(self, url: str) -> None:
        """The SDK's redirect handler: listen first, then send the user to ``url``."""
        await self._close()
        self._result = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.waiting = True
        try:
            await self.open_url(url)
        except BaseException:
            self.waiting = False
            await self._close()
            raise

    async def wait(self) -> Any:
        """The SDK's callback handler: the ``AuthorizationCodeResult`` the browser brought back."""
        from mcp.client.auth import AuthorizationCodeResult

        if self._result is None:
            raise RuntimeError("the authorization page was never opened")
        try:
            code, state = await asyncio.wait_for(self._result, self.timeout)
        except TimeoutError:
            raise UserError(
                f"no authorization came back to {self.host}:{self.port}{self.path} within {self.timeout:g}s"
            ) from None
        finally:
            self.waiting = False
            await self._close()
        return AuthorizationCodeResult(code=code, state=state)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
            parts = urlsplit(target)
            query = parse_qs(parts.query)
            code = query.get("code", [""])[0]
            if parts.path != self.path or not code:
                if parts.path == self.path and "error" in query and self._result and not self._result.done():
                    why = query.get("error_description", query["error"])[0]
                    self._result.set_exception(UserError(f"the authorization server refused: {why}"))
                writer.write(_BAD)
                return
            writer.write(_PAGE)
            if self._result is not None and not self._result.done():
                self._result.set_result((code, query.get("state", [None])[0]))
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            try:
                await writer.drain()
                writer.close()
            except OSError:
                pass

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()


class FileTokenStorage:
    """The SDK's ``TokenStorage`` in a 0600 JSON file: the registered client, the tokens, and the
    access token's expiry time (``expires_at``, seconds since the epoch)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.expires_at: float | None = None
        self._data: dict[str, Any] = {}
        if path.exists():
            try:
                self._data = json.loads(path.read_text())
            except (OSError, ValueError):
                self._data = {}
            expires = self._data.get("expires_at")
            self.expires_at = float(expires) if isinstance(expires, int | float) else None

    @classmethod
    def for_server(cls, server_url: str) -> FileTokenStorage:
        from ..paths import data_dir

        digest = hashlib.sha256(server_url.encode()).hexdigest()[:16]
        host = urlsplit(server_url).hostname or "server"
        return cls(data_dir() / "mcp-oauth" / f"{host}-{digest}.json")

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self._data, f)
        os.replace(tmp, self.path)

    async def get_tokens(self) -> Any:
        from mcp.shared.auth import OAuthToken

        raw = self._data.get("tokens")
        return OAuthToken.model_validate(raw) if raw else None

    async def set_tokens(self, tokens: Any) -> None:
        self._data["tokens"] = tokens.model_dump(mode="json", exclude_none=True)
        expires_in = getattr(tokens, "expires_in", None)
        self.expires_at = time.time() + float(expires_in) if expires_in else None
        self._data["expires_at"] = self.expires_at
        self._save()

    async def get_client_info(self) -> Any:
        from mcp.shared.auth import OAuthClientInformationFull

        raw = self._data.get("client_info")
        return OAuthClientInformationFull.model_validate(raw) if raw else None

    async def set_client_info(self, client_info: Any) -> None:
        self._data["client_info"] = client_info.model_dump(mode="json", exclude_none=True)
        self._save()
