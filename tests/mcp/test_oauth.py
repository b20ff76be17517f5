"""The OAuth client flow against an MCP server that requires it (``oauth_server.py``: the SDK's
authorization server and protected resource on 127.0.0.1), through ``MCPServer(url=..., oauth=OAuth())``
and an agent's run: discovery, dynamic client registration, authorization code with PKCE (a stand-in
browser follows the authorization redirect to agentcore's loopback listener), the token, the
authorized tool call; then tokens reused by a later run, an expired token refreshed, and a fresh
authorization after the server forgot every token (its 401)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from agentcore import Agent, Runner
from agentcore.errors import UserError
from agentcore.mcp import MCPServer, OAuth
from agentcore.mcp.oauth import FileTokenStorage
from agentcore.messages import ToolResult
from agentcore.testing import ScriptedModel, tool_call

from .oauth_server import SCOPE, OAuthMCPServer


@pytest.fixture
def server() -> Iterator[OAuthMCPServer]:
    srv = OAuthMCPServer().start()
    yield srv
    srv.stop()


class Browser:
    """Plays the user's browser: opens the authorization URL, follows the authorization server's
    redirect to the loopback redirect URI (agentcore's listener) and keeps what it saw."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.pages: list[str] = []

    async def __call__(self, url: str) -> None:
        self.opened.append(url)
        async with httpx2.AsyncClient(follow_redirects=True, timeout=30) as http:
            page = await http.get(url)
        self.pages.append(page.text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def notes(server: OAuthMCPServer, browser: Browser, storage: Path, port: int) -> MCPServer:
    oauth = OAuth(
        client_name="agentcore tests",
        redirect_uri=f"http://127.0.0.1:{port}/callback",  # the same for every run, as the default is
        open_url=browser,
        storage=FileTokenStorage(storage),
    )
    return MCPServer(name="notes", url=server.url, oauth=oauth)


async def whoami(mcp: MCPServer) -> str:
    model = ScriptedModel([tool_call("notes__whoami", {}), "done"])
    result: Any = await Runner.run(Agent(name="a", model=model, mcp_servers=[mcp]), "who am I?")
    (out,) = [i for i in result.new_items if isinstance(i, ToolResult)]
    assert not out.is_error, out.output
    return str(out.output)


async def test_the_full_flow_then_reuse_refresh_and_reauthorization(
    server: OAuthMCPServer, tmp_path: Path
) -> None:
    browser = Browser()
    path = tmp_path / "tokens.json"
    port = free_port()
    mcp = notes(server, browser, path, port)
    provider = server.provider

    # 1. first use: 401 → discovery → registration → authorization (PKCE) → token → the call
    answer = await whoami(mcp)
    (client_id,) = provider.clients
    assert answer == f"client {client_id} with {SCOPE}"
    assert provider.log == ["register", "authorize", "token"]
    assert "/.well-known/oauth-protected-resource/mcp" in server.paths
    assert "/.well-known/oauth-authorization-server" in server.paths
    assert provider.clients[client_id].client_name == "agentcore tests"
    (url,) = browser.opened
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/authorize" and query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [client_id]
    assert query["resource"] == [server.url] and query["code_challenge"] == provider.challenges
    assert "Authorized" in browser.pages[0]  # agentcore's listener answered the browser
    stored = json.loads(path.read_text())
    assert stored["client_info"]["client_id"] == client_id and stored["tokens"]["refresh_token"]
    assert path.stat().st_mode & 0o777 == 0o600
    # the verifier the SDK sent matched the challenge (the server checked it), and it is not stored
    assert "code_verifier" not in path.read_text()

    # 2. a later run (a new connection, tokens from the file): no authorization
    assert (await whoami(notes(server, browser, path, port))).startswith(f"client {client_id}")
    assert provider.log == ["register", "authorize", "token"] and len(browser.opened) == 1

    # 3. the stored access token has expired: refreshed with the refresh token, the user not asked
    stored = json.loads(path.read_text())
    old_access = stored["tokens"]["access_token"]
    stored["expires_at"] -= provider.expires_in + 1
    path.write_text(json.dumps(stored))
    assert (await whoami(notes(server, browser, path, port))).startswith(f"client {client_id}")
    assert provider.log[-1] == "refresh" and len(browser.opened) == 1
    assert json.loads(path.read_text())["tokens"]["access_token"] != old_access

    # 4. the server forgot every token: its 401 starts a new authorization (same registered client)
    provider.forget_tokens()
    assert (await whoami(notes(server, browser, path, port))).startswith(f"client {client_id}")
    assert provider.log[-2:] == ["authorize", "token"] and provider.log.count("register") == 1
    assert len(browser.opened) == 2

    # 5. another redirect URI than the registered client's: registered anew, not sent to the old one
    assert (await whoami(notes(server, browser, path, free_port()))).startswith("client ")
    assert provider.log.count("register") == 2 and len(browser.opened) == 3


async def test_the_user_s_time_on_the_page_is_not_the_connect_timeout(
    server: OAuthMCPServer, tmp_path: Path
) -> None:
    browser = Browser()

    async def slow_user(url: str) -> None:
        await asyncio.sleep(1.5)  # longer than connect_timeout: reading the consent page
        await browser(url)

    oauth = OAuth(redirect_uri=f"http://127.0.0.1:{free_port()}/callback", open_url=slow_user,
                  storage=FileTokenStorage(tmp_path / "t.json"))  # fmt: skip
    mcp = MCPServer(name="notes", url=server.url, oauth=oauth, connect_timeout=1.0)
    assert (await whoami(mcp)).startswith("client ")


async def test_a_refused_authorization_is_a_clear_error(server: OAuthMCPServer, tmp_path: Path) -> None:
    async def deny(url: str) -> None:  # the user clicks "deny": the server redirects with an error
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        async with httpx2.AsyncClient() as http:
            await http.get(
                redirect, params={"error": "access_denied", "error_description": "the user said no"}
            )

    oauth = OAuth(redirect_uri=f"http://127.0.0.1:{free_port()}/callback", open_url=deny,
                  storage=FileTokenStorage(tmp_path / "t.json"), callback_timeout=30)  # fmt: skip
    mcp = MCPServer(name="notes", url=server.url, oauth=oauth, connect_timeout=30)
    model = ScriptedModel([tool_call("notes__whoami", {}), "done"])
    with pytest.raises(Exception, match="the user said no"):
        await Runner.run(Agent(name="a", model=model, mcp_servers=[mcp]), "who am I?")


def test_oauth_needs_a_url_server_and_a_loopback_redirect() -> None:
    with pytest.raises(UserError, match="oauth is for a url server"):
        MCPServer(name="x", command="true", oauth=OAuth())
    with pytest.raises(UserError, match="loopback"):
        OAuth(redirect_uri="https://example.invalid/callback")


def test_oauth_in_yaml_builds_and_dumps(tmp_path: Path) -> None:
    from agentcore.definitions import load
    from agentcore.definitions.dump import dump_agent

    path = tmp_path / "agent.yaml"
    path.write_text(
        "version: 1\nmcp_servers:\n"
        "  notes: {url: 'http://127.0.0.1:9/mcp', oauth: {client_name: Notes app, scopes: [notes]}}\n"
        "  plain: {url: 'http://127.0.0.1:9/other', oauth: true}\n"
        "agents:\n  a: {model: scripted:a, mcp_servers: [notes, plain]}\n"
    )
    definition = load(str(path))
    agent = definition.build()
    notes_server, plain = agent.mcp_servers
    assert notes_server.oauth == OAuth(client_name="Notes app", scopes=["notes"])
    assert plain.oauth == OAuth()
    text = dump_agent(agent)
    assert "oauth: true" in text and "client_name: Notes app" in text
