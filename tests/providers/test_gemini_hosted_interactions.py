"""Gemini hosted tools on the Interactions API (``google-interactions``): typed tool entries, hosted
call/result steps in the transcript, citations from annotations, replay as steps, streaming events,
foreign tool work as model text.

Step and tool shapes follow the google-genai Interactions types (``GoogleSearchCallStep``,
``CodeExecutionResultStep``, ``URLContextResultStep``, ``URLCitation``, ``Usage.grounding_tool_count``,
``MCPServer``); every emulated interaction is parsed with the SDK's ``Interaction`` model.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from agentcore import Agent, Runner
from agentcore.events import HostedToolFinished, HostedToolStarted
from agentcore.hosted import (
    UnsupportedHostedToolError,
    code_execution,
    file_search,
    hosted_mcp,
    web_fetch,
    web_search,
)
from agentcore.messages import AssistantMessage, HostedToolUse, Item, ProviderState, UserMessage
from agentcore.model import ModelRequest
from agentcore.providers.gemini.hosted import interactions_entry
from agentcore.providers.gemini.interactions import GeminiInteractionsModel
from tests.emulators.base import Reply
from tests.emulators.gemini import MODEL, GeminiEmulator
from tests.providers.harness import FAST, WEATHER, emulator_fixture

emulator = emulator_fixture(GeminiEmulator, "emulator")
SIG = base64.b64encode(b"emulated-signature-gemini-3-pro-preview-search").decode()

SEARCH_CALL = {
    "type": "google_search_call",
    "id": "gs_1",
    "arguments": {"queries": ["tea prices 2026"]},
    "signature": SIG,
}
SEARCH_RESULT = {
    "type": "google_search_result",
    "call_id": "gs_1",
    "result": [{"search_suggestions": "<div>tea</div>"}],
}
CODE_CALL = {
    "type": "code_execution_call",
    "id": "ce_1",
    "arguments": {"code": "print(2 + 2)", "language": "python"},
}
CODE_RESULT = {"type": "code_execution_result", "call_id": "ce_1", "result": "4\n"}
URL_CALL = {"type": "url_context_call", "id": "uc_1", "arguments": {"urls": ["https://example.org/a"]}}
URL_RESULT = {
    "type": "url_context_result",
    "call_id": "uc_1",
    "result": [{"url": "https://example.org/a", "status": "success"}],
}
STEPS = [SEARCH_CALL, SEARCH_RESULT, CODE_CALL, CODE_RESULT, URL_CALL, URL_RESULT]
ANSWER = "Tea costs 4 euros."
ANNOTATIONS = [
    {
        "type": "url_citation",
        "url": "https://news.example.com/tea",
        "title": "Tea news",
        "start_index": 0,
        "end_index": 18,
    }
]
USAGE = {"grounding_tool_count": [{"type": "google_search", "count": 1}], "total_tool_use_tokens": 120}


def model_for(emu: GeminiEmulator, name: str = MODEL, **kw: Any) -> GeminiInteractionsModel:
    return GeminiInteractionsModel(name, base_url=emu.base_url, api_key="test-key", **kw)


def script(emu: GeminiEmulator) -> None:
    emu.signatures[SIG] = MODEL
    emu.script_steps(*STEPS, annotations=ANNOTATIONS, usage=USAGE)
    emu.queue(Reply(text=ANSWER, input_tokens=30))


HOSTED = (web_search(), code_execution(), web_fetch())


# --------------------------------------------------------------------------- declarations


def test_the_typed_tool_entries() -> None:
    assert [interactions_entry(t) for t in HOSTED] == [
        {"type": "google_search"},
        {"type": "code_execution"},
        {"type": "url_context"},
    ]
    assert interactions_entry(file_search(vector_store_ids=["fileSearchStores/s1"], max_results=3)) == {
        "type": "file_search",
        "file_search_store_names": ["fileSearchStores/s1"],
        "top_k": 3,
    }
    mcp = hosted_mcp(
        "docs",
        "https://mcp.example.org/mcp",
        allowed_tools=["search"],
        require_approval="never",
        authorization="tok",
    )
    assert interactions_entry(mcp) == {
        "type": "mcp_server",
        "name": "docs",
        "url": "https://mcp.example.org/mcp",
        "headers": {"Authorization": "Bearer tok"},
        "allowed_tools": [{"mode": "auto", "tools": ["search"]}],
    }


async def test_the_emulator_takes_every_entry_and_refuses_unknown_fields(emulator: GeminiEmulator) -> None:
    mcp = hosted_mcp("docs", "https://mcp.example.org/mcp", require_approval="never")
    fs = file_search(vector_store_ids=["fileSearchStores/s1"])
    await model_for(emulator).respond(
        ModelRequest(None, [UserMessage.of("hi")], tools=[WEATHER], hosted_tools=(*HOSTED, fs, mcp))
    )
    assert [t["type"] for t in emulator.last_body["tools"]] == [
        "function", "google_search", "code_execution", "url_context", "file_search", "mcp_server"
    ]  # fmt: skip
    async with httpx.AsyncClient(base_url=emulator.base_url, headers={"x-goog-api-key": "k"}) as client:
        user = [{"type": "user_input", "content": [{"type": "text", "text": "hi"}]}]
        r = await client.post(
            "/v1beta/interactions",
            json={
                "model": MODEL,
                "input": user,
                "tools": [{"type": "google_search", "exclude_domains": ["a.com"]}],
            },
        )
        assert r.status_code == 400 and "Unknown name" in r.text
        r = await client.post(
            "/v1beta/interactions",
            json={
                "model": "gemini-2.5-flash",
                "input": user,
                "tools": [{"type": "code_execution"}, {"type": "function", "name": "f", "parameters": {}}],
            },
        )
        assert r.status_code == 400 and "unsupported for model" in r.text


@pytest.mark.parametrize(
    "tool",
    [
        web_search(max_uses=1),
        code_execution(container="c"),
        hosted_mcp("docs", "https://mcp.example.org/mcp"),
    ],
)
async def test_what_gemini_cannot_serve_raises_before_sending(emulator: GeminiEmulator, tool: Any) -> None:
    with pytest.raises(UnsupportedHostedToolError) as info:
        await model_for(emulator).respond(ModelRequest(None, [UserMessage.of("hi")], hosted_tools=(tool,)))
    assert info.value.provider == "google-interactions" and info.value.supported_by
    with pytest.raises(UnsupportedHostedToolError, match="Gemini 3"):
        await model_for(emulator, "gemini-2.5-flash").respond(
            ModelRequest(None, [UserMessage.of("hi")], tools=[WEATHER], hosted_tools=(web_search(),))
        )
    assert not emulator.requests


# --------------------------------------------------------------------------- decoding and replay


def check_items(items: list[Item]) -> None:
    search, code, fetch, answer = (i for i in items if isinstance(i, HostedToolUse | AssistantMessage))
    assert (
        isinstance(search, HostedToolUse)
        and isinstance(code, HostedToolUse)
        and isinstance(fetch, HostedToolUse)
    )
    assert (search.kind, search.call_id, search.input) == ("web_search", "gs_1", {"query": "tea prices 2026"})
    assert [(s.url, s.title) for s in search.sources] == [("https://news.example.com/tea", "Tea news")]
    assert [s.payload for s in search.state] == [SEARCH_CALL, SEARCH_RESULT]
    assert (code.kind, code.code, code.output, code.input) == (
        "code_execution",
        "print(2 + 2)",
        "4\n",
        {"language": "python"},
    )
    assert (fetch.kind, fetch.input, fetch.output) == (
        "web_fetch",
        {"url": "https://example.org/a"},
        "https://example.org/a: success",
    )
    assert isinstance(answer, AssistantMessage) and answer.text == ANSWER
    (cite,) = answer.citations
    assert (cite.url, cite.start, cite.end) == ("https://news.example.com/tea", 0, 18)


async def test_hosted_steps_become_items_and_go_back_as_steps(emulator: GeminiEmulator) -> None:
    script(emulator)
    model = model_for(emulator, store=False)
    first = await model.respond(ModelRequest(None, [UserMessage.of("Tea?")], hosted_tools=HOSTED))
    check_items(list(first.items))
    assert first.usage.server_tool_requests == {"web_search": 1}
    assert first.usage.input_tokens == 30 + 120
    await model.respond(
        ModelRequest(
            None, [UserMessage.of("Tea?"), *first.items, UserMessage.of("Coffee?")], hosted_tools=HOSTED
        )
    )
    sent = emulator.last_body["input"]
    hosted = [s for s in sent if s["type"] in {st["type"] for st in STEPS}]
    assert hosted == STEPS  # exact, in order, signature included


async def test_another_model_gets_the_steps_without_signatures(emulator: GeminiEmulator) -> None:
    script(emulator)
    first = await model_for(emulator, store=False).respond(
        ModelRequest(None, [UserMessage.of("Tea?")], hosted_tools=HOSTED)
    )
    await model_for(emulator, "gemini-3-flash-preview", store=False).respond(
        ModelRequest(None, [UserMessage.of("Tea?"), *first.items, UserMessage.of("more")])
    )
    sent = [s for s in emulator.last_body["input"] if s["type"] == "google_search_call"]
    assert sent == [{k: v for k, v in SEARCH_CALL.items() if k != "signature"}]


async def test_the_sdk_parses_the_emulated_interaction(emulator: GeminiEmulator) -> None:
    from google.genai._gaos.types.interactions.interaction import Interaction

    script(emulator)
    async with httpx.AsyncClient(base_url=emulator.base_url, headers={"x-goog-api-key": "k"}) as client:
        user = [{"type": "user_input", "content": [{"type": "text", "text": "Tea?"}]}]
        r = await client.post(
            "/v1beta/interactions", json={"model": MODEL, "input": user, "tools": [{"type": "google_search"}]}
        )
    parsed = Interaction.model_validate(r.json())
    kinds = [type(s).__name__ for s in parsed.steps or []]
    assert (
        "GoogleSearchCallStep" in kinds
        and "CodeExecutionResultStep" in kinds
        and "URLContextResultStep" in kinds
    )
    assert parsed.usage and parsed.usage.grounding_tool_count


async def test_streamed_steps_give_the_same_items_and_run_events(emulator: GeminiEmulator) -> None:
    script(emulator)
    agent = Agent(name="g", model=model_for(emulator), hosted_tools=list(HOSTED))
    stream = Runner.stream(agent, "Tea?", retry=FAST)
    events = [e async for e in stream]
    started = [(e.tool_kind, e.call_id) for e in events if isinstance(e, HostedToolStarted)]
    finished = [e.item for e in events if isinstance(e, HostedToolFinished)]
    assert started == [("web_search", "gs_1"), ("code_execution", "ce_1"), ("web_fetch", "uc_1")]
    assert [i.call_id for i in finished] == ["gs_1", "ce_1", "uc_1"]
    check_items(list(stream.result.items))
    assert stream.result.usage.server_tool_requests == {"web_search": 1}


# --------------------------------------------------------------------------- other vendors' tool work


async def test_foreign_and_generate_content_items_go_as_model_text(emulator: GeminiEmulator) -> None:
    foreign = HostedToolUse(
        kind="web_search",
        name="web_search",
        input={"query": "tea"},
        state=(ProviderState(provider="anthropic", kind="block", payload={"type": "server_tool_use"}),),
    )
    other_api = HostedToolUse(
        kind="code_execution",
        name="code_execution",
        code="print(1)",
        output="1",
        state=(
            ProviderState(
                provider="google", model=MODEL, kind="part", payload={"executableCode": {"code": "print(1)"}}
            ),
        ),
    )
    items: list[Item] = [UserMessage.of("hi"), foreign, other_api, UserMessage.of("go on")]
    await model_for(emulator, store=False).respond(ModelRequest(None, items))
    outputs = [s for s in emulator.last_body["input"] if s["type"] == "model_output"]
    assert [o["content"][0]["text"] for o in outputs] == [foreign.render(), other_api.render()]


async def test_a_signed_step_changed_on_replay_is_rejected(emulator: GeminiEmulator) -> None:
    script(emulator)
    model = model_for(emulator, store=False)
    first = await model.respond(ModelRequest(None, [UserMessage.of("Tea?")], hosted_tools=HOSTED))
    search = first.items[1]
    assert isinstance(search, HostedToolUse) and search.kind == "web_search"
    edited = {**search.state[0].payload, "arguments": {"queries": ["something else"]}}
    tampered = search.model_copy(
        update={"state": (search.state[0].model_copy(update={"payload": edited}), *search.state[1:])}
    )
    items = [
        UserMessage.of("Tea?"),
        *[tampered if i is search else i for i in first.items],
        UserMessage.of("?"),
    ]
    with pytest.raises(Exception, match="changed on replay"):
        await model.respond(ModelRequest(None, items))


async def test_cited_sources_of_another_vendor_are_listed(emulator: GeminiEmulator) -> None:
    from agentcore.messages import Citation

    script(emulator)
    model = model_for(emulator, store=False)
    own = await model.respond(ModelRequest(None, [UserMessage.of("Tea?")], hosted_tools=HOSTED))
    foreign = AssistantMessage(
        text="It shipped.",
        citations=(Citation(url="https://example.com/a", title="A"),),
        state=(ProviderState(provider="anthropic", kind="block", payload={"type": "text"}),),
    )
    await model.respond(
        ModelRequest(None, [UserMessage.of("Tea?"), foreign, *own.items, UserMessage.of("?")])
    )
    texts = [s["content"][0]["text"] for s in emulator.last_body["input"] if s["type"] == "model_output"]
    assert texts == ["It shipped.\n\nSources:\n- A <https://example.com/a>", ANSWER]
