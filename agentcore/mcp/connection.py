"""One live connection to an MCP server, through the official ``mcp`` SDK's ``Client``.

The SDK's transports hold anyio task groups, which must be entered and left by the same task, while a
run connects in one task and closes in another (and a ``lifetime="session"`` connection outlives the
run). So each connection has an *owner task* that enters the client, reports ready, and waits to be
told to close; requests are sent from any task. A server that dies is noticed on the next request
(``Connection closed``); the call after it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .config import MCPServer
from .errors import MCPCallTimeout, MCPConnectError, MCPNotInstalled, MCPResultError, MCPServerCrashed

if TYPE_CHECKING:
    import mcp.types as mt
    from mcp import Client

ProgressCallback = Callable[[float, float | None, str | None], Any]
T = TypeVar("T")
_STDERR_TAIL = 2000
_CLOSE_TIMEOUT = 10.0


def _sdk() -> Any:
    try:
        import mcp
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MCPNotInstalled("MCP servers need the mcp package: pip install 'agentcore[mcp]'") from exc
    return mcp


class MCPConnection:
    """A connection to ``server``: start it, list its tools (cached until the server says they changed),
    call them, read resources, get prompts, close it."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server
        self._client: Client | None = None
        self._owner: asyncio.Task[None] | None = None
        self._closing: asyncio.Event | None = None
        self._start_lock = asyncio.Lock()
        self._stderr: Any = None
        self._oauth: Any = None
        """The SDK's OAuth provider of an ``oauth=`` server, built on the first connect."""
        self._tools: list[mt.Tool] | None = None
        self._tools_version = 0
        """Bumped by every ``notifications/tools/list_changed``: a listing older than it is stale."""
        self.listings = 0
        """How many times the tools were listed (tests and benchmarks read it)."""
        self.closed = False

    # ------------------------------------------------------------------ lifecycle

    @property
    def connected(self) -> bool:
        return self._client is not None and self._owner is not None and not self._owner.done()

    async def start(self) -> None:
        """Start (or reach) the server and complete the handshake, within ``connect_timeout``."""
        async with self._start_lock:
            if self.connected:
                return
            self.closed = False
            await self._stop_owner()
            loop = asyncio.get_running_loop()
            ready: asyncio.Future[None] = loop.create_future()
            self._closing = asyncio.Event()
            self._owner = asyncio.create_task(self._own(ready, self._closing), name=f"mcp:{self.server.name}")
            try:
                await self._handshake(ready)
            except TimeoutError:
                await self._stop_owner()
                raise MCPConnectError(
                    self.server.name,
                    f"no answer to the handshake within {self.server.connect_timeout:g}s{self._tail()}",
                ) from None
            except BaseException:
                await self._stop_owner()
                raise

    async def _handshake(self, ready: asyncio.Future[None]) -> None:
        """Wait for ``ready`` up to ``connect_timeout``, not counting the time an OAuth flow spends
        waiting for the user on the authorization page (bounded by its ``callback_timeout``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.server.connect_timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                # the owner still settles ``ready`` (with "connection closed"): nobody waits for it now
                ready.add_done_callback(lambda f: None if f.cancelled() else f.exception())
                raise TimeoutError
            step = min(remaining, 0.25)
            done, _ = await asyncio.wait({ready}, timeout=step)
            if done:
                ready.result()
                return
            redirect = getattr(self._oauth, "redirect", None)
            if redirect is not None and redirect.waiting:
                deadline += step

    async def _own(self, ready: asyncio.Future[None], closing: asyncio.Event) -> None:
        server = self.server
        self._close_stderr()
        try:
            mcp = _sdk()
            from mcp.client.stdio import stdio_client
            from mcp.client.streamable_http import streamable_http_client

            if server.command is not None:  # kept after the server ends, for the error messages
                self._stderr = tempfile.TemporaryFile("w+")
            async with contextlib.AsyncExitStack() as stack:
                if server.command is not None:
                    params = mcp.StdioServerParameters(
                        command=server.command, args=list(server.args), env=dict(server.env), cwd=server.cwd
                    )
                    transport: Any = stdio_client(params, errlog=self._stderr)
                else:
                    transport = streamable_http_client(
                        server.url or "", http_client=await stack.enter_async_context(self._http_client())
                    )
                client = mcp.Client(
                    transport,
                    mode=server.protocol,
                    cache=None,  # the tool list is cached here, invalidated by list_changed
                    message_handler=self._on_message,
                    sampling_callback=_wrap(server.sampling),
                    elicitation_callback=_wrap(server.elicitation),
                    client_info=mcp.Implementation(name="agentcore", version="0.1.0"),
                )
                await stack.enter_async_context(client)
                self._client = client
                ready.set_result(None)
                await closing.wait()
        except Exception as exc:
            if not ready.done():
                ready.set_exception(
                    MCPConnectError(server.name, f"{_describe(exc)}{self._tail()}")
                    if not isinstance(exc, MCPConnectError | MCPNotInstalled)
                    else exc
                )
        finally:
            self._client = None
            if not ready.done():
                ready.set_exception(MCPConnectError(server.name, f"connection closed{self._tail()}"))

    def _http_client(self) -> Any:
        import httpx2

        headers = dict(self.server.headers)
        if self.server.bearer_token:
            headers["Authorization"] = f"Bearer {self.server.bearer_token}"
        timeout = httpx2.Timeout(self.server.connect_timeout, read=max(self.server.call_timeout, 300.0))
        auth = self.server.auth
        if self.server.oauth is not None:
            if self._oauth is None:  # one per connection: its tokens outlive a reconnect
                self._oauth = self.server.oauth.provider(self.server.url or "")
            auth = self._oauth
        return httpx2.AsyncClient(headers=headers, timeout=timeout, auth=auth)

    async def _stop_owner(self) -> None:
        owner, self._owner = self._owner, None
        if owner is None:
            return
        if self._closing is not None:
            self._closing.set()
        try:
            await asyncio.wait_for(asyncio.shield(owner), _CLOSE_TIMEOUT)
        except TimeoutError:
            owner.cancel()
            with contextlib.suppress(BaseException):
                await owner
        except BaseException:
            pass  # the owner reports its failures through ``ready``; a dying server is not our error
        self._client = None

    async def close(self) -> None:
        """Close the session and stop the server (stdio: stdin closed, then SIGTERM/SIGKILL to its
        process group, as the SDK does); leaves no child process behind."""
        self.closed = True
        await self._stop_owner()
        self._tools = None
        self._close_stderr()

    def _close_stderr(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _tail(self) -> str:
        """The last lines the server wrote to stderr, for error messages."""
        f = self._stderr
        if f is None:
            return ""
        try:
            fd = f.fileno()
            size = os.fstat(fd).st_size
            data = os.pread(fd, _STDERR_TAIL, max(0, size - _STDERR_TAIL)).decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""
        return f"; its stderr ends with: {data}" if data else ""

    async def _client_now(self) -> Client:
        if not self.connected:
            if self.closed:
                raise MCPConnectError(self.server.name, "the connection was closed")
            await self.start()
        assert self._client is not None
        return self._client

    # ------------------------------------------------------------------ notifications

    async def _on_message(self, message: Any) -> None:
        import mcp.types as mt

        if isinstance(message, mt.ServerNotification):
            message = getattr(message, "root", message)
        if isinstance(message, mt.ToolListChangedNotification):
            self._tools_version += 1

    # ------------------------------------------------------------------ requests

    async def list_tools(self) -> list[mt.Tool]:
        """The server's tools, listed once and cached until ``notifications/tools/list_changed``."""
        if self._tools is not None and self.connected and self._listed_version == self._tools_version:
            return self._tools

        async def listing(client: Client) -> tuple[int, list[mt.Tool]]:
            version = self._tools_version
            tools: list[mt.Tool] = []
            cursor: str | None = None
            for _ in range(100):  # a paginator that never ends cannot hang the run
                page = await client.list_tools(cursor=cursor)
                tools.extend(page.tools)
                cursor = page.next_cursor
                if not cursor:
                    break
            return version, tools

        version, tools = await self._request("tools/list", self.server.connect_timeout, listing)
        self._tools, self._listed_version = tools, version
        self.listings += 1
        return tools

    _listed_version = -1

    @property
    def tools_stale(self) -> bool:
        return self._tools is None or self._listed_version != self._tools_version

    async def call_tool(
        self, name: str, arguments: dict[str, Any], *, progress: ProgressCallback | None = None
    ) -> mt.CallToolResult:
        """Call the server's tool ``name``. Failures are :class:`MCPToolError` subclasses."""
        callback: Any = None
        if progress is not None:
            report = progress

            async def callback(value: float, total: float | None, message: str | None) -> None:
                report(value, total, message)

        async def call(client: Client) -> mt.CallToolResult:
            try:
                return await client.call_tool(
                    name, arguments, read_timeout_seconds=self.server.call_timeout, progress_callback=callback
                )
            except RuntimeError as exc:  # the SDK's outputSchema validation
                raise MCPResultError(self.server.name, name, str(exc)) from None

        return await self._request(f"tools/call {name}", self.server.call_timeout, call, tool=name)

    async def list_resources(self) -> list[mt.Resource]:
        async def listing(client: Client) -> list[mt.Resource]:
            out: list[mt.Resource] = []
            cursor: str | None = None
            for _ in range(100):
                page = await client.list_resources(cursor=cursor)
                out.extend(page.resources)
                cursor = page.next_cursor
                if not cursor:
                    break
            return out

        return await self._request("resources/list", self.server.call_timeout, listing)

    async def read_resource(self, uri: str) -> mt.ReadResourceResult:
        async def read(client: Client) -> mt.ReadResourceResult:
            result: mt.ReadResourceResult = await client.read_resource(uri)
            return result

        return await self._request(
            f"resources/read {uri}", self.server.call_timeout, read, tool="read_resource"
        )

    async def list_prompts(self) -> list[mt.Prompt]:
        async def listing(client: Client) -> list[mt.Prompt]:
            return list((await client.list_prompts()).prompts)

        return await self._request("prompts/list", self.server.call_timeout, listing)

    async def get_prompt(self, name: str, arguments: dict[str, str] | None = None) -> mt.GetPromptResult:
        async def get(client: Client) -> mt.GetPromptResult:
            result: mt.GetPromptResult = await client.get_prompt(name, arguments)
            return result

        return await self._request(f"prompts/get {name}", self.server.call_timeout, get, tool=name)

    async def _request(
        self, what: str, limit: float, op: Callable[[Client], Awaitable[T]], *, tool: str = ""
    ) -> T:
        """Run ``op`` on the client (connecting first when needed). An HTTP session the server no longer
        knows (it restarted, or expired the session) is replaced once and the request sent again: the
        server refused it without running it."""
        for attempt in (0, 1):
            client = await self._client_now()
            try:
                async with self._guard(what, limit, tool=tool):
                    return await op(client)
            except _SessionDropped as dropped:
                await self._stop_owner()
                if attempt:
                    raise MCPServerCrashed(
                        self.server.name,
                        tool,
                        f"MCP server {self.server.name!r} dropped the session during "
                        f"{what} and refused a new one: {dropped}",
                    ) from None
        raise AssertionError("unreachable")

    @contextlib.asynccontextmanager
    async def _guard(self, what: str, limit: float, *, tool: str = "") -> Any:
        """Map SDK failures to typed errors; a request never outlives ``timeout`` (plus a margin for
        the SDK's own timeout to answer first)."""
        from mcp import MCPError
        from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        name = self.server.name
        try:
            async with asyncio.timeout(limit + 1.0):
                yield
        except MCPError as exc:
            if self.server.url is not None and str(exc) in _SESSION_GONE:
                raise _SessionDropped(str(exc)) from None
            if exc.code == CONNECTION_CLOSED:
                tail = self._tail()
                await self._stop_owner()  # the next request reconnects
                raise MCPServerCrashed(
                    name, tool, f"MCP server {name!r} went away during {what}{tail}"
                ) from None
            if exc.code == REQUEST_TIMEOUT:
                raise MCPCallTimeout(
                    name, tool, f"MCP server {name!r} did not answer {what} within {limit:g}s"
                ) from None
            raise MCPResultError(
                name, tool, refusal_hint(f"MCP server {name!r} refused {what}: {exc}")
            ) from None
        except TimeoutError:
            raise MCPCallTimeout(
                name, tool, f"MCP server {name!r} did not answer {what} within {limit:g}s"
            ) from None
        except (OSError, EOFError) as exc:
            tail = self._tail()
            await self._stop_owner()
            raise MCPServerCrashed(
                name, tool, f"MCP server {name!r}: {_describe(exc)} during {what}{tail}"
            ) from None


class _SessionDropped(Exception):
    """The HTTP server does not know the session any more (internal: the request is sent again)."""


_SESSION_GONE = {"Session terminated", "Server returned an error response"}
"""What the SDK's HTTP transport says for a 404 on a known session (the spec's "session expired") and
for a bare 4xx/5xx without a JSON-RPC error body (some servers answer an unknown session with 400)."""


def refusal_hint(text: str) -> str:
    """``text``, plus what to do when it says a sampling or elicitation request was refused."""
    lowered = text.lower()
    for what in ("sampling", "elicitation"):
        if f"{what} not supported" in lowered:
            return (
                f"{text} (agentcore refuses an MCP server's {what} requests unless its MCPServer "
                f"has {what}=<callback>)"
            )
    return text


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    if isinstance(exc, FileNotFoundError):
        return f"cannot start the command ({exc.strerror}: {exc.filename})"
    return f"{type(exc).__name__}: {exc}"


def _wrap(callback: Any) -> Any:
    """Adapt an agentcore callback (params → result) to the SDK's (context, params) form; ``None``
    keeps the SDK's refusal (the capability is not advertised, a request is answered with an error)."""
    if callback is None:
        return None

    async def answer(context: Any, params: Any) -> Any:
        return await callback(params)

    return answer
