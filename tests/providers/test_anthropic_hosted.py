# ruff: noqa: F811  (pytest fixtures imported from anthropic_support are redefined as test parameters)
"""Issue 13 (and 14's vendor-hosted MCP), Anthropic: hosted tools as server tools, their blocks as
``HostedToolUse`` items replayed exactly, citations, usage, containers, ``pause_turn``, streaming events."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from agentcore import Agent, Runner
from agentcore.events import HostedToolFinished, HostedToolStarted
from agentcore.hosted import (
    UnsupportedHostedToolError,
    UserLocation,
    code_execution,
    file_search,
    hosted_mcp,
    web_fetch,
    web_search,
)
from agentcore.messages import (
    AssistantMessage,
    Citation,
    HostedToolUse,
    Item,
    ProviderState,
    ToolCall,
    ToolResult,
    UserMessage,
)
from agentcore.model import ModelHostedToolEvent, ModelRequest, ModelResponseDone, ToolSpec
from agentcore.providers.anthropic.hosted import CONTAINER_CACHE_KEY, hosted_entry
from agentcore.providers.anthropic.model import AnthropicModel
from agentcore.providers.anthropic.turns import MAX_CONTINUATIONS
from tests.emulators.anthropic import AnthropicEmulator, AnthropicReply
from tests.emulators.anthropic_server_tools import (
    cited_text,
    code_execution_blocks,
    mcp_blocks,
    web_fetch_error_blocks,
    web_search_blocks,
)
from tests.emulators.base import Reply
from tests.providers.anthropic_support import emu, model, strip_cache  # noqa: F401  (fixtures)
from tests.providers.harness import FAST

TIDES = [("https://example.com/tides", "Tides"), ("https://example.org/moon", "Moon")]


def ask(items: list[Item], *hosted: Any, cache: dict[str, Any] | None = None) -> ModelRequest:
    return ModelRequest(
        "You are terse.", list(items), hosted_tools=tuple(hosted), cache={} if cache is None else cache
    )


def assistant_content(emu: AnthropicEmulator, n: int = -1, message: int = 1) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = strip_cache(emu.requests[n].body["messages"][message]["content"])
    return content


def betas(emu: AnthropicEmulator, n: int = -1) -> set[str]:
    return {b.strip() for b in emu.requests[n].headers.get("anthropic-beta", "").split(",") if b.strip()}


# --------------------------------------------------------------------------- declarations


async def test_each_declaration_has_its_request_shape_and_the_emulator_takes_it(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    emu.queue(Reply(text="ok"))
    where = UserLocation(country="FR", city="Paris", timezone="Europe/Paris")
    hosted = (
        web_search(allowed_domains=["example.com"], user_location=where, max_uses=3),
        web_fetch(blocked_domains=["evil.example"], max_uses=2),
        code_execution(),
        hosted_mcp(
            "docs",
            "https://mcp.example.com/sse",
            allowed_tools=["search"],
            require_approval="never",
            authorization="tok",
        ),
    )
    await model.respond(ask([UserMessage.of("Hi")], *hosted))
    body = emu.requests[-1].body
    assert strip_cache(body["tools"]) == [
        {
            "type": "web_search_20250305",
            "name": "web_search",
            "allowed_domains": ["example.com"],
            "max_uses": 3,
            "user_location": {
                "type": "approximate",
                "city": "Paris",
                "country": "FR",
                "timezone": "Europe/Paris",
            },
        },
        {
            "type": "web_fetch_20250910",
            "name": "web_fetch",
            "blocked_domains": ["evil.example"],
            "max_uses": 2,
        },
        {"type": "code_execution_20250825", "name": "code_execution"},
        {
            "type": "mcp_toolset",
            "mcp_server_name": "docs",
            "default_config": {"enabled": False},
            "configs": {"search": {"enabled": True}},
        },
    ]
    assert body["mcp_servers"] == [
        {"type": "url", "url": "https://mcp.example.com/sse", "name": "docs", "authorization_token": "tok"}
    ]
    assert betas(emu) == {"web-fetch-2025-09-10", "code-execution-2025-08-25", "mcp-client-2025-11-20"}
    assert "container" not in body  # nothing to reuse yet


async def test_client_betas_are_kept_next_to_the_hosted_ones(emu: AnthropicEmulator) -> None:
    emu.queue(Reply(text="ok"))
    headers = {"anthropic-beta": "compact-2026-01-12"}
    model = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k", default_headers=headers)
    await model.respond(ask([UserMessage.of("Hi")], web_fetch()))
    assert betas(emu) == {"compact-2026-01-12", "web-fetch-2025-09-10"}
    await model.aclose()


UNSUPPORTED: list[tuple[str, Any, str]] = [
    ("both domain lists", web_search(allowed_domains=["a.com"], blocked_domains=["b.com"]), "together"),
    ("fetch both lists", web_fetch(allowed_domains=["a.com"], blocked_domains=["b.com"]), "together"),
    ("file search", file_search(vector_store_ids=["vs_1"]), "openai"),
    ("search context size", web_search(context_size="high"), "openai"),
    ("code memory limit", code_execution(memory_limit="4g"), "openai"),
    ("mcp approvals", hosted_mcp("docs", "https://mcp.example.com"), "no approval flow"),
    ("mcp some approvals", hosted_mcp("d", "https://mcp.example.com", require_approval=["x"]), "openai"),
    (
        "mcp headers",
        hosted_mcp("d", "https://mcp.example.com", require_approval="never", headers={"X-Key": "1"}),
        "headers",
    ),
    ("mcp plain http", hosted_mcp("d", "http://mcp.example.com", require_approval="never"), "https"),
]


@pytest.mark.parametrize(("case", "tool", "says"), UNSUPPORTED, ids=[c for c, _, _ in UNSUPPORTED])
async def test_what_anthropic_cannot_serve_fails_before_anything_is_sent(
    model: AnthropicModel, emu: AnthropicEmulator, case: str, tool: Any, says: str
) -> None:
    with pytest.raises(UnsupportedHostedToolError) as caught:
        await model.respond(ask([UserMessage.of("Hi")], tool))
    assert says in str(caught.value)
    assert caught.value.provider == "anthropic"
    with pytest.raises(UnsupportedHostedToolError):
        [e async for e in model.stream(ask([UserMessage.of("Hi")], tool))]
    assert emu.requests == []


def test_mcp_approvals_name_the_vendor_that_serves_them() -> None:
    with pytest.raises(UnsupportedHostedToolError) as caught:
        hosted_entry(hosted_mcp("docs", "https://mcp.example.com", require_approval="always"))
    assert caught.value.supported_by == ("openai",) and caught.value.tool == "mcp"


EMULATOR_REJECTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("fetch without beta", {"type": "web_fetch_20250910", "name": "web_fetch"}, "", "web-fetch-2025-09-10"),
    (
        "code without beta",
        {"type": "code_execution_20250825", "name": "code_execution"},
        "",
        "code-execution-2025-08-25",
    ),
    (
        "both lists",
        {
            "type": "web_search_20250305",
            "name": "web_search",
            "allowed_domains": ["a"],
            "blocked_domains": ["b"],
        },
        "",
        "both allowed_domains and blocked_domains",
    ),
    ("unknown version", {"type": "web_search_20990101", "name": "web_search"}, "", "does not match"),
    ("wrong name", {"type": "web_search_20250305", "name": "search"}, "", "name: Input should be"),
    ("unknown option", {"type": "web_search_20250305", "name": "web_search", "depth": 2}, "", "Extra inputs"),
    (
        "toolset without server",
        {"type": "mcp_toolset", "mcp_server_name": "docs"},
        "mcp-client-2025-11-20",
        "no mcp_servers",
    ),
    ("toolset without beta", {"type": "mcp_toolset", "mcp_server_name": "docs"}, "", "mcp-client-2025-11-20"),
]


@pytest.mark.parametrize(
    ("case", "tool", "beta", "says"), EMULATOR_REJECTS, ids=[c for c, _, _, _ in EMULATOR_REJECTS]
)
def test_the_emulator_rejects_what_the_api_rejects(
    emu: AnthropicEmulator, case: str, tool: dict[str, Any], beta: str, says: str
) -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]}
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    if beta:
        headers["anthropic-beta"] = beta
    with httpx.Client(base_url=emu.base_url, headers=headers) as client:
        answer = client.post("/v1/messages", json={**body, "tools": [tool]})
    assert answer.status_code == 400, answer.text
    assert says in answer.json()["error"]["message"]


def test_the_emulator_checks_mcp_servers(emu: AnthropicEmulator) -> None:
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01", "anthropic-beta": "mcp-client-2025-11-20"}
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "Hi"}],
        "tools": [{"type": "mcp_toolset", "mcp_server_name": "docs"}],
    }
    cases = [
        ([{"type": "url", "url": "http://mcp.example.com", "name": "docs"}], "https://"),
        ([{"type": "url", "url": "https://a.example", "name": "other"}], "unknown MCP server"),
        ([{"type": "url", "url": "https://a.example", "name": "docs", "token": "x"}], "Extra inputs"),
    ]
    with httpx.Client(base_url=emu.base_url, headers=headers) as client:
        for servers, says in cases:
            answer = client.post("/v1/messages", json={**body, "mcp_servers": servers})
            assert answer.status_code == 400 and says in answer.json()["error"]["message"], answer.text


# --------------------------------------------------------------------------- responses


async def test_a_search_becomes_a_hosted_item_with_sources_citations_and_usage(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    content = [
        {"type": "text", "text": "Let me look."},
        *web_search_blocks("tides Brest", TIDES),
        cited_text("High tide is at noon.", *TIDES[0], "high tide at 12:00"),
    ]
    emu.queue(AnthropicReply(content=content))
    response = await model.respond(ask([UserMessage.of("Tides?")], web_search()))
    first, search, answer = response.items
    assert isinstance(first, AssistantMessage) and first.text == "Let me look."
    assert isinstance(search, HostedToolUse)
    assert (search.kind, search.name, search.input, search.status) == (
        "web_search",
        "web_search",
        {"query": "tides Brest"},
        "completed",
    )
    assert search.call_id == content[1]["id"]
    assert [(s.url, s.title) for s in search.sources] == TIDES
    assert [s.payload["block"] for s in search.state] == content[1:3]
    assert {s.provider for s in search.state} == {"anthropic"}
    assert isinstance(answer, AssistantMessage) and answer.text == "High tide is at noon."
    assert answer.citations == (
        Citation(kind="web", url=TIDES[0][0], title="Tides", cited_text="high tide at 12:00"),
    )
    assert response.usage.server_tool_requests == {"web_search": 1}
    assert "Tides <https://example.com/tides>" in search.render()


async def test_code_fetch_and_mcp_results_have_neutral_fields(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    content = [
        *code_execution_blocks("python t.py", "", "boom\n", 1, files=("file_011out",)),
        *web_fetch_error_blocks("https://example.com/a.pdf", "url_not_accessible"),
        *mcp_blocks("docs", "search", {"q": "x"}, "found 2"),
        {"type": "text", "text": "Done."},
    ]
    emu.queue(AnthropicReply(content=content))
    request = ask([UserMessage.of("Go")], code_execution(), web_fetch())
    code, fetch, mcp, _ = (await model.respond(request)).items
    assert isinstance(code, HostedToolUse) and code.kind == "code_execution"
    assert code.code == "python t.py" and code.files == ("file_011out",) and code.is_error
    assert "stderr:\nboom" in code.output and "return code: 1" in code.output
    assert isinstance(fetch, HostedToolUse) and fetch.kind == "web_fetch" and fetch.is_error
    assert fetch.status == "failed" and fetch.output == "error: url_not_accessible"
    assert isinstance(mcp, HostedToolUse) and (mcp.kind, mcp.name, mcp.output) == ("mcp", "search", "found 2")
    assert mcp.input == {"server_label": "docs", "tool": "search", "arguments": {"q": "x"}}


@pytest.mark.parametrize("streamed", [False, True], ids=["respond", "stream"])
async def test_server_blocks_are_replayed_exactly_and_in_place(
    model: AnthropicModel, emu: AnthropicEmulator, streamed: bool
) -> None:
    a, b = web_search_blocks("a", TIDES[:1]), web_search_blocks("b", TIDES[1:])
    content = [
        {"type": "text", "text": "Two searches at once."},
        a[0],
        b[0],
        a[1],
        b[1],  # parallel: both uses, then both results
        cited_text("Both agree.", *TIDES[1], "moon"),
    ]
    emu.queue(AnthropicReply(content=content), Reply(text="ok"))
    items: list[Item] = [UserMessage.of("Tides?")]
    request = ask(items, web_search())
    if streamed:
        events = [e async for e in model.stream(request)]
        done = events[-1]
        assert isinstance(done, ModelResponseDone)
        first = done.response
    else:
        first = await model.respond(request)
    hosted = [i for i in first.items if isinstance(i, HostedToolUse)]
    assert [h.input["query"] for h in hosted] == ["a", "b"]
    assert [h.sources[0].url for h in hosted] == [TIDES[0][0], TIDES[1][0]]  # each from its own result
    await model.respond(ask([*items, *first.items, UserMessage.of("Thanks")], web_search()))
    assert assistant_content(emu) == content  # same blocks, same order, text kept around them


async def test_an_edited_server_block_is_rejected_by_the_emulator(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    content = [*web_search_blocks("a", TIDES), {"type": "text", "text": "ok"}]
    emu.queue(AnthropicReply(content=content), Reply(text="ok"))
    first = await model.respond(ask([UserMessage.of("Tides?")], web_search()))
    search = first.items[0]
    assert isinstance(search, HostedToolUse)
    result = dict(search.state[1].payload["block"], content=[])
    edited = search.model_copy(
        update={
            "id": "edited",
            "state": (search.state[0], search.state[1].model_copy(update={"payload": {"block": result}})),
        }
    )
    from agentcore.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match="was modified"):
        await model.respond(
            ask([UserMessage.of("Tides?"), edited, first.items[1], UserMessage.of("?")], web_search())
        )


async def test_the_container_is_reused_while_it_has_not_expired(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    container = {"id": "container_011Caqgq9X3d68B2So2LZGmk", "expires_at": "2999-01-01T00:00:00Z"}
    emu.queue(
        AnthropicReply(
            content=[*code_execution_blocks("echo 1", "1\n"), {"type": "text", "text": "1"}],
            container=container,
        ),
        Reply(text="2"),
        Reply(text="3"),
    )
    cache: dict[str, Any] = {}
    items: list[Item] = [UserMessage.of("1?")]
    first = await model.respond(ask(items, code_execution(), cache=cache))
    assert "container" not in emu.requests[0].body
    assert cache[CONTAINER_CACHE_KEY]["id"] == container["id"]
    items += [*first.items, UserMessage.of("2?")]
    await model.respond(ask(items, code_execution(), cache=cache))
    assert emu.requests[1].body["container"] == container["id"]
    cache[CONTAINER_CACHE_KEY]["expires_at"] = "2001-01-01T00:00:00Z"  # expired: not sent any more
    await model.respond(ask(items, code_execution(), cache=cache))
    assert "container" not in emu.requests[2].body and CONTAINER_CACHE_KEY not in cache


async def test_a_declared_container_is_sent_and_an_unknown_one_is_refused(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    from agentcore.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match="not found"):
        await model.respond(ask([UserMessage.of("1?")], code_execution(container="container_nope")))
    assert emu.requests[-1].body["container"] == "container_nope"


# --------------------------------------------------------------------------- streaming events


async def test_streaming_announces_hosted_tools_to_a_runner_consumer(emu: AnthropicEmulator) -> None:
    content = [
        *web_search_blocks("tides", TIDES),
        *code_execution_blocks("echo 2", "2\n"),
        {"type": "text", "text": "Noon."},
    ]
    emu.queue(AnthropicReply(content=content))
    model = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k")
    agent = Agent(name="w", model=model, hosted_tools=[web_search(), code_execution()])
    stream = Runner.stream(agent, "Tides?", retry=FAST)
    seen = [e async for e in stream if isinstance(e, HostedToolStarted | HostedToolFinished)]
    assert [(type(e).__name__, getattr(e, "name", None)) for e in seen] == [
        ("HostedToolStarted", "web_search"),
        ("HostedToolFinished", None),
        ("HostedToolStarted", "bash_code_execution"),
        ("HostedToolFinished", None),
    ]
    started, finished = seen[0], seen[1]
    assert isinstance(started, HostedToolStarted) and started.tool_kind == "web_search"
    assert isinstance(finished, HostedToolFinished) and finished.item.call_id == started.call_id
    assert finished.item.sources[0].url == TIDES[0][0]
    assert stream.result.final_output == "Noon."
    hosted = [i for i in stream.result.items if isinstance(i, HostedToolUse)]
    assert hosted[0].id == finished.item.id  # the transcript holds the item the event announced
    await model.aclose()


# --------------------------------------------------------------------------- pause_turn


@pytest.mark.parametrize("streamed", [False, True], ids=["respond", "stream"])
async def test_a_paused_turn_is_continued_and_merged(
    model: AnthropicModel, emu: AnthropicEmulator, streamed: bool
) -> None:
    use, result = web_search_blocks("tides", TIDES)
    emu.queue(
        AnthropicReply(content=[{"type": "text", "text": "Searching."}, use], stop_reason="pause_turn"),
        AnthropicReply(content=[result, {"type": "text", "text": "Noon."}]),
    )
    request = ask([UserMessage.of("Tides?")], web_search())
    if streamed:
        events = [e async for e in model.stream(request)]
        done = events[-1]
        assert isinstance(done, ModelResponseDone)
        response = done.response
        announced = [e for e in events if isinstance(e, ModelHostedToolEvent)]
        assert [e.phase for e in announced] == ["started", "finished"]
        finished_id = announced[1].item.id
    else:
        response = await model.respond(request)
    assert len(emu.requests) == 2
    continued = emu.requests[1].body["messages"]
    assert [m["role"] for m in continued] == ["user", "assistant"]  # no new user message
    assert strip_cache(continued[-1]["content"]) == [{"type": "text", "text": "Searching."}, use]
    assert response.finish_reason == "stop" and response.text == "Searching.Noon."
    hosted = [i for i in response.items if isinstance(i, HostedToolUse)]
    assert len(hosted) == 1 and [s.payload["block"] for s in hosted[0].state] == [use, result]
    if streamed:
        assert hosted[0].id == finished_id  # the item the stream announced, use and result together
    assert response.usage.requests == 2 and response.usage.server_tool_requests == {"web_search": 1}


async def test_a_turn_paused_too_often_is_returned_as_it_stands(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    pieces = [
        AnthropicReply(content=[{"type": "text", "text": f"{n}."}], stop_reason="pause_turn")
        for n in range(MAX_CONTINUATIONS + 1)
    ]
    pieces[-1] = AnthropicReply(content=[web_search_blocks("tides", TIDES)[0]], stop_reason="pause_turn")
    emu.queue(*pieces, Reply(text="ok"))
    items: list[Item] = [UserMessage.of("Go")]
    response = await model.respond(ask(items, web_search()))
    assert len(emu.requests) == MAX_CONTINUATIONS + 1
    assert response.finish_reason == "pause_turn"
    waiting = response.items[-1]
    assert isinstance(waiting, HostedToolUse) and waiting.status == "incomplete"
    # a new turn cannot carry a search without its result: it goes as text, the block stays in the item
    await model.respond(ask([*items, *response.items, UserMessage.of("And?")], web_search()))
    sent = assistant_content(emu)
    assert sent[-1]["type"] == "text" and sent[-1]["text"] == waiting.render()
    assert waiting.state[0].payload["block"]["type"] == "server_tool_use"


# --------------------------------------------------------------------------- other vendors


async def test_another_vendors_hosted_item_and_citations_go_as_readable_text(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    foreign = HostedToolUse(
        kind="web_search",
        name="web_search_call",
        call_id="ws_1",
        input={"query": "tides"},
        sources=(Citation(url="https://example.com/tides", title="Tides"),),
        state=(
            ProviderState(provider="openai", kind="item", payload={"type": "web_search_call", "id": "ws_1"}),
        ),
    )
    cited = AssistantMessage(
        text="Noon.",
        citations=(Citation(url="https://example.com/tides", title="Tides"),),
        state=(ProviderState(provider="openai", kind="message", payload={"id": "msg_1"}),),
    )
    emu.queue(Reply(text="ok"))
    await model.respond(ask([UserMessage.of("Tides?"), foreign, cited, UserMessage.of("Sure?")]))
    sent = assistant_content(emu)
    assert [b["type"] for b in sent] == ["text", "text"]
    assert sent[0]["text"] == foreign.render() and "tides" in sent[0]["text"]
    assert sent[1]["text"] == "Noon.\n\nSources:\n- Tides <https://example.com/tides>"
    assert "openai" not in json.dumps(emu.requests[-1].body)


async def test_a_search_left_waiting_on_a_client_tool_finishes_in_the_next_turn(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    """ "If Claude calls one of your client tools at the same time, the server_tool_use block appears
    without a result" (stop_reason tool_use); its result opens the next assistant turn."""
    use, result = web_search_blocks("tides", TIDES)
    call = {"type": "tool_use", "id": "toolu_01W", "name": "get_weather", "input": {"city": "Brest"}}
    emu.queue(
        AnthropicReply(content=[use, call], stop_reason="tool_use"),
        AnthropicReply(content=[result, {"type": "text", "text": "Sunny, high tide at noon."}]),
        Reply(text="ok"),
    )
    weather = ToolSpec(
        "get_weather", "Weather.", {"type": "object", "properties": {"city": {"type": "string"}}}
    )
    items: list[Item] = [UserMessage.of("Weather and tides in Brest?")]

    def request() -> ModelRequest:
        return ModelRequest("You are terse.", list(items), (weather,), hosted_tools=(web_search(),))

    first = await model.respond(request())
    waiting, tool_call = first.items
    assert isinstance(waiting, HostedToolUse) and waiting.status == "incomplete" and not waiting.sources
    assert isinstance(tool_call, ToolCall)
    items += [*first.items, ToolResult(call_id="toolu_01W", name="get_weather", output="sunny")]
    second = await model.respond(request())
    done = second.items[0]
    assert isinstance(done, HostedToolUse) and done.kind == "web_search" and done.call_id == use["id"]
    assert [s.url for s in done.sources] == [TIDES[0][0], TIDES[1][0]]
    items += [*second.items, UserMessage.of("Thanks")]
    await model.respond(request())  # the emulator takes the split pair back, as the API does
    sent = [strip_cache(m["content"]) for m in emu.requests[-1].body["messages"]]
    assert sent[1] == [use, call] and sent[3][0] == result


def test_an_agent_on_claude_with_what_anthropic_cannot_serve_fails_when_it_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    with pytest.raises(UnsupportedHostedToolError, match="no approval flow"):
        Agent(
            name="a", model="anthropic:claude-sonnet-4-5", hosted_tools=[hosted_mcp("d", "https://x.example")]
        )
    served = [
        web_search(),
        web_fetch(),
        code_execution(),
        hosted_mcp("d", "https://x.example", require_approval="never"),
    ]
    Agent(name="a", model="anthropic:claude-sonnet-4-5", hosted_tools=served)


async def test_mcp_blocks_sent_back_carry_their_beta_without_the_server_declared(
    model: AnthropicModel, emu: AnthropicEmulator
) -> None:
    docs = hosted_mcp("docs", "https://mcp.example.com", require_approval="never")
    blocks = [*mcp_blocks("docs", "search", {"q": "x"}, "found"), {"type": "text", "text": "Found it."}]
    emu.queue(AnthropicReply(content=blocks), Reply(text="ok"))
    items: list[Item] = [UserMessage.of("Search the docs")]
    first = await model.respond(ask(items, docs))
    await model.respond(ask([*items, *first.items, UserMessage.of("Thanks")]))  # a later agent without it
    assert betas(emu) == {"mcp-client-2025-11-20"} and "mcp_servers" not in emu.requests[-1].body
    assert assistant_content(emu) == blocks


async def test_thinking_between_server_calls_is_replayed_in_place(emu: AnthropicEmulator) -> None:
    """Each thinking block is bound to everything before it, server blocks included: the turn goes back
    in its order or the API answers 400."""
    model = AnthropicModel("claude-sonnet-5-5", base_url=emu.base_url, api_key="k", thinking="adaptive")
    a, b = web_search_blocks("a", TIDES[:1]), web_search_blocks("b", TIDES[1:])
    content = [
        {"type": "thinking", "thinking": "Search twice.", "signature": ""},
        a[0],
        b[0],
        a[1],
        b[1],
        {"type": "thinking", "thinking": "Both found.", "signature": ""},
        {"type": "text", "text": "Done."},
    ]
    emu.queue(AnthropicReply(content=content), Reply(text="ok"))
    items: list[Item] = [UserMessage.of("Tides?")]
    first = await model.respond(ask(items, web_search()))
    await model.respond(ask([*items, *first.items, UserMessage.of("Thanks")], web_search()))
    sent = assistant_content(emu)
    assert [x["type"] for x in sent] == [x["type"] for x in content]
    assert sent[1:5] == content[1:5] and sent[5]["thinking"] == "Both found."
    await model.aclose()
