"""Gemini hosted tools on generateContent (``google``): declarations, what Gemini cannot serve, server-side
tool parts and grounding in the transcript, byte-exact replay, streaming events, foreign tool work.

The real google-genai client talks HTTP to the local emulator (``tests/emulators/gemini.py`` with the
rules of ``tests/emulators/gemini_hosted.py``). The only real Gemini code-execution answer we have is in
the Anthropic cross-vendor recording (its first exchange is with Gemini): the SDK parses it and the
adapter decodes it without loss. The Interactions API is in ``test_gemini_hosted_interactions.py``.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import httpx
import pytest
import yaml

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
    HostedToolUse,
    Item,
    ProviderState,
    UserMessage,
)
from agentcore.model import ModelRequest
from agentcore.providers.gemini.generate_content import GeminiModel, _Assembler
from agentcore.providers.gemini.hosted import hosted_entry
from tests.emulators.base import Reply
from tests.emulators.gemini import MODEL, GeminiEmulator
from tests.providers.harness import CASSETTES, FAST, WEATHER, emulator_fixture

emulator = emulator_fixture(GeminiEmulator, "emulator")
RECORDED = CASSETTES / "anthropic" / "test_anthropic_server_tool_receive_history_from_another_provider.yaml"

CODE = {"executableCode": {"code": "print(3 * 12390)\n", "language": "PYTHON"}}
RESULT_OK = {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "37170\n"}}
RESULT_FAILED = {"codeExecutionResult": {"outcome": "OUTCOME_FAILED", "output": "NameError: foo\n"}}
ANSWER = "Café prices rose 4% [1]. Tea fell."
GROUNDING: dict[str, Any] = {
    "webSearchQueries": ["cafe prices 2026", "", "cafe prices 2026", "tea prices 2026"],
    "searchEntryPoint": {"renderedContent": "<div>suggestions</div>"},
    "groundingChunks": [
        {"web": {"uri": "https://example.org/cafe", "title": "example.org"}},
        {"web": {"uri": "https://news.example.com/tea", "title": "news.example.com"}},
    ],
    "groundingSupports": [
        {
            # byte offsets: "Café" is 5 bytes in UTF-8, so the segment's bytes run past its characters
            "segment": {"startIndex": 0, "endIndex": 25, "text": "Café prices rose 4% [1]."},
            "groundingChunkIndices": [0],
        },
        {"segment": {"startIndex": 26, "endIndex": 35, "text": "Tea fell."}, "groundingChunkIndices": [1]},
    ],
}
URL_CONTEXT = {
    "urlMetadata": [
        {"retrievedUrl": "https://example.org/a", "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"},
        {"retrievedUrl": "https://example.org/b", "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_PAYWALL"},
    ]
}


def model_for(emu: GeminiEmulator, name: str = MODEL) -> GeminiModel:
    return GeminiModel(name, base_url=emu.base_url, api_key="test-key")


def ask(text: str = "How much is 3 * 12390?") -> list[Item]:
    return [UserMessage.of(text)]


# --------------------------------------------------------------------------- declarations


@pytest.mark.parametrize(
    ("tool", "entry"),
    [
        (web_search(), {"googleSearch": {}}),
        (web_fetch(), {"urlContext": {}}),
        (code_execution(), {"codeExecution": {}}),
        (
            file_search(vector_store_ids=["fileSearchStores/manuals-1"], max_results=4),
            {"fileSearch": {"fileSearchStoreNames": ["fileSearchStores/manuals-1"], "topK": 4}},
        ),
    ],
)
async def test_each_declaration_is_a_tool_entry_the_emulator_accepts(
    emulator: GeminiEmulator, tool: Any, entry: dict[str, Any]
) -> None:
    assert hosted_entry(tool) == entry
    await model_for(emulator).respond(ModelRequest(None, ask(), hosted_tools=(tool,)))
    assert emulator.last_body["tools"] == [entry]


@pytest.mark.parametrize(
    ("tool", "supported_by"),
    [
        (web_search(allowed_domains=["example.org"]), ("openai", "anthropic")),
        (web_search(blocked_domains=["example.org"]), ("anthropic",)),
        (web_search(user_location=UserLocation(country="FR")), ("openai", "anthropic")),
        (web_search(max_uses=2), ("anthropic",)),
        (web_search(context_size="high"), ("openai",)),
        (web_fetch(max_uses=1), ("anthropic",)),
        (code_execution(container="cntr_1"), ("openai", "anthropic")),
        (code_execution(file_ids=["file-1"]), ("openai", "anthropic")),
        (file_search(vector_store_ids=["vs_123"]), ("openai",)),
        (hosted_mcp("docs", "https://mcp.example.org/mcp"), ("openai", "anthropic", "google-interactions")),
    ],
)
async def test_what_gemini_cannot_serve_raises_before_sending(
    emulator: GeminiEmulator, tool: Any, supported_by: tuple[str, ...]
) -> None:
    with pytest.raises(UnsupportedHostedToolError) as info:
        await model_for(emulator).respond(ModelRequest(None, ask(), hosted_tools=(tool,)))
    assert info.value.provider == "google" and info.value.supported_by == supported_by
    assert not emulator.requests


async def test_built_in_tools_with_functions_need_gemini_3(emulator: GeminiEmulator) -> None:
    """The docs: combinations are "supported for Gemini 3 models only", with the opt-in flag."""
    with pytest.raises(UnsupportedHostedToolError, match="Gemini 3"):
        await model_for(emulator, "gemini-2.5-flash").respond(
            ModelRequest(None, ask(), tools=[WEATHER], hosted_tools=(web_search(),))
        )
    assert not emulator.requests
    await model_for(emulator).respond(
        ModelRequest(None, ask(), tools=[WEATHER], hosted_tools=(web_search(),))
    )
    body = emulator.last_body
    assert body["tools"][-1] == {"googleSearch": {}} and "functionDeclarations" in body["tools"][0]
    assert body["toolConfig"] == {"includeServerSideToolInvocations": True}
    # without functions, an older model takes the built-in tool alone
    await model_for(emulator, "gemini-2.5-flash").respond(
        ModelRequest(None, ask(), hosted_tools=(web_search(),))
    )
    assert "toolConfig" not in emulator.last_body


# --------------------------------------------------------------------------- emulator strictness


async def post(emu: GeminiEmulator, body: dict[str, Any], model: str = MODEL) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{emu.base_url}/v1beta/models/{model}:generateContent",
            json=body,
            headers={"x-goog-api-key": "k"},
        )


USER = {"role": "user", "parts": [{"text": "hi"}]}
FUNCS = {"functionDeclarations": [{"name": "f", "parametersJsonSchema": {"type": "object"}}]}


@pytest.mark.parametrize(
    ("body", "model", "message"),
    [
        ({"tools": [{"googleSearch": {"excludeDomains": ["a.com"]}}]}, MODEL, "not supported in Gemini API"),
        ({"tools": [{"codeExecution": {"container": "x"}}]}, MODEL, "Unknown name"),
        ({"tools": [{"urlContext": {"maxUses": 1}}]}, MODEL, "Unknown name"),
        ({"tools": [{"fileSearch": {"fileSearchStoreNames": ["vs_1"]}}]}, MODEL, "invalid store name"),
        ({"tools": [{"fileSearch": {}}]}, MODEL, "required"),
        ({"tools": [FUNCS, {"googleSearch": {}}]}, "gemini-2.5-flash", "unsupported for model"),
        ({"tools": [FUNCS, {"googleSearch": {}}]}, MODEL, "include_server_side_tool_invocations"),
        (
            {
                "contents": [
                    USER,
                    {"role": "model", "parts": [{"toolCall": {"id": "t1", "toolType": "URL_CONTEXT"}}]},
                ]
            },
            MODEL,
            "not followed by its tool_response",
        ),
        ({"contents": [{"role": "user", "parts": [CODE]}]}, MODEL, "only allowed in model turns"),
        (
            {"contents": [USER, {"role": "model", "parts": [{"codeExecutionResult": {"outcome": "DONE"}}]}]},
            MODEL,
            "outcome",
        ),
    ],
)
async def test_the_emulator_rejects_what_the_api_rejects(
    emulator: GeminiEmulator, body: dict[str, Any], model: str, message: str
) -> None:
    r = await post(emulator, {"contents": [USER], **body}, model)
    assert r.status_code == 400 and message in r.text, r.text


# --------------------------------------------------------------------------- code execution


async def test_code_execution_parts_are_one_item_replayed_byte_exact(emulator: GeminiEmulator) -> None:
    model = model_for(emulator)
    emulator.script_candidate(CODE, RESULT_OK, usage={"toolUsePromptTokenCount": 289}, sign=True)
    emulator.queue(Reply(text="3 * 12390 = 37170", input_tokens=13))
    first = await model.respond(ModelRequest(None, ask(), hosted_tools=(code_execution(),)))
    use, answer = first.items
    assert isinstance(use, HostedToolUse) and isinstance(answer, AssistantMessage)
    assert (use.kind, use.name, use.code, use.output, use.is_error) == (
        "code_execution",
        "code_execution",
        "print(3 * 12390)\n",
        "37170\n",
        False,
    )
    assert use.input == {"language": "PYTHON"} and use.status == "completed"
    issued = [s.payload for s in use.state]
    assert [s.kind for s in use.state] == ["part", "part"] and "thoughtSignature" in issued[0]
    assert first.usage.input_tokens == 13 + 289  # the tool's prompt tokens are billed as input

    await model.respond(ModelRequest(None, [*ask(), *first.items, UserMessage.of("And times 2?")]))
    replayed = emulator.last_body["contents"][1]
    assert replayed["role"] == "model" and replayed["parts"][:2] == issued  # in place, unchanged
    assert replayed["parts"][2]["text"] == "3 * 12390 = 37170"


async def test_a_replayed_part_that_changed_is_rejected(emulator: GeminiEmulator) -> None:
    model = model_for(emulator)
    emulator.script_candidate(CODE, RESULT_OK, sign=True)
    first = await model.respond(ModelRequest(None, ask(), hosted_tools=(code_execution(),)))
    use = first.items[0]
    assert isinstance(use, HostedToolUse)
    edited = copy.deepcopy(use.state[0].payload)
    edited["executableCode"]["code"] = "print(1)\n"
    tampered = use.model_copy(
        update={"state": (use.state[0].model_copy(update={"payload": edited}), use.state[1])}
    )
    with pytest.raises(Exception, match="changed on replay"):
        await model.respond(ModelRequest(None, [*ask(), tampered, UserMessage.of("again")]))


async def test_failed_code_and_another_gemini_model(emulator: GeminiEmulator) -> None:
    model = model_for(emulator)
    emulator.script_candidate(CODE, RESULT_FAILED, sign=True)
    first = await model.respond(ModelRequest(None, ask(), hosted_tools=(code_execution(),)))
    use = first.items[0]
    assert isinstance(use, HostedToolUse) and use.is_error and use.status == "failed"
    assert "NameError" in use.output and "OUTCOME_FAILED" in use.output
    # another Gemini model gets the same parts without this model's signature
    await model_for(emulator, "gemini-2.5-flash").respond(
        ModelRequest(None, [*ask(), *first.items, UserMessage.of("ok?")])
    )
    parts = emulator.last_body["contents"][1]["parts"]
    assert parts[0] == CODE and parts[1] == RESULT_FAILED


def _recorded_gemini() -> tuple[dict[str, Any], dict[str, Any]]:
    exchange = yaml.safe_load(RECORDED.read_text())["interactions"][0]
    return exchange["request"]["parsed_body"], exchange["response"]["parsed_body"]


def test_the_recorded_code_execution_answer_parses_and_decodes_without_loss() -> None:
    from google.genai import types

    request, body = _recorded_gemini()
    assert request["tools"] == [hosted_entry(code_execution())]  # the recorded request's tool entry
    parsed = types.GenerateContentResponse.model_validate(body)
    assert parsed.candidates and parsed.usage_metadata is not None
    asm = _Assembler("google", "gemini-2.0-flash")
    asm.feed(body)
    response = asm.response()
    uses = [i for i in response.items if isinstance(i, HostedToolUse)]
    texts = [i for i in response.items if isinstance(i, AssistantMessage)]
    assert len(uses) == 3 and len(texts) == 3
    parts = body["candidates"][0]["content"]["parts"]
    assert [p for u in uses for p in (s.payload for s in u.state)] + [{"text": t.text} for t in texts] == [
        p for p in parts if "text" not in p
    ] + [p for p in parts if "text" in p]
    assert all(u.is_error and u.code == "print(3 * 12390)\n" for u in uses)
    assert response.usage.input_tokens == 13 + 289 and response.usage.output_tokens == 194


async def test_the_emulator_accepts_the_recorded_transcript_replayed(emulator: GeminiEmulator) -> None:
    request, body = _recorded_gemini()
    asm = _Assembler("google", "gemini-2.0-flash")
    asm.feed(body)
    items: list[Item] = [UserMessage.of(request["contents"][0]["parts"][0]["text"]), *asm.response().items]
    await model_for(emulator, "gemini-2.0-flash").respond(ModelRequest(None, [*items, UserMessage.of("x2?")]))
    assert emulator.last_body["contents"][1]["parts"] == body["candidates"][0]["content"]["parts"]


# --------------------------------------------------------------------------- grounding and URL context


async def test_grounding_becomes_a_search_item_and_citations(emulator: GeminiEmulator) -> None:
    emulator.script_candidate(grounding_metadata=GROUNDING)
    emulator.queue(Reply(text=ANSWER))
    response = await model_for(emulator).respond(
        ModelRequest(None, ask("Prices?"), hosted_tools=(web_search(),))
    )
    search, answer = response.items
    assert isinstance(search, HostedToolUse) and isinstance(answer, AssistantMessage)
    assert search.kind == "web_search" and search.name == "google_search"
    assert search.input == {"query": "cafe prices 2026", "queries": ["cafe prices 2026", "tea prices 2026"]}
    assert [s.url for s in search.sources] == ["https://example.org/cafe", "https://news.example.com/tea"]
    assert search.state[0].kind == "grounding_metadata" and search.state[0].payload == GROUNDING
    first, second = answer.citations
    assert answer.text[first.start : first.end] == "Café prices rose 4% [1]."  # type: ignore[misc]
    assert answer.text[second.start : second.end] == "Tea fell."  # type: ignore[misc]
    assert (first.url, first.title) == ("https://example.org/cafe", "example.org")
    # Gemini 3 bills each executed query: empty and repeated queries are not counted
    assert response.usage.server_tool_requests == {"web_search": 2}
    assert "https://example.org/cafe" in search.render()


async def test_older_models_bill_one_grounded_prompt(emulator: GeminiEmulator) -> None:
    emulator.script_candidate(grounding_metadata=GROUNDING)
    emulator.queue(Reply(text=ANSWER))
    response = await model_for(emulator, "gemini-2.5-flash").respond(
        ModelRequest(None, ask("Prices?"), hosted_tools=(web_search(),))
    )
    assert response.usage.server_tool_requests == {"web_search": 1}


def test_byte_offsets_without_segment_text_become_character_offsets() -> None:
    meta = copy.deepcopy(GROUNDING)
    for support in meta["groundingSupports"]:
        del support["segment"]["text"]
    asm = _Assembler("google", MODEL)
    asm.feed({"candidates": [{"content": {"parts": [{"text": ANSWER}]}, "groundingMetadata": meta}]})
    answer = asm.response().items[1]
    assert isinstance(answer, AssistantMessage)
    assert [answer.text[c.start : c.end] for c in answer.citations] == [
        "Café prices rose 4% [1].",
        "Tea fell.",
    ]  # type: ignore[misc]


async def test_url_context_is_a_fetch_item_with_each_status(emulator: GeminiEmulator) -> None:
    emulator.script_candidate(url_context_metadata=URL_CONTEXT)
    emulator.queue(Reply(text="Page a says hi."))
    model = model_for(emulator)
    response = await model.respond(ModelRequest(None, ask("Read a and b"), hosted_tools=(web_fetch(),)))
    fetch = response.items[0]
    assert isinstance(fetch, HostedToolUse) and fetch.kind == "web_fetch" and fetch.name == "url_context"
    assert fetch.input == {"urls": ["https://example.org/a", "https://example.org/b"]}
    assert fetch.output == "https://example.org/a: success\nhttps://example.org/b: paywall"
    assert [s.url for s in fetch.sources] == ["https://example.org/a"] and not fetch.is_error
    assert fetch.state[0].payload == URL_CONTEXT
    # metadata never goes back on the wire: the next request carries only the text
    await model.respond(ModelRequest(None, [*ask(), *response.items, UserMessage.of("more")]))
    assert emulator.last_body["contents"][1]["parts"] == [
        {"text": "Page a says hi.", "thoughtSignature": response.items[1].state[0].payload["signature"]}
    ]  # type: ignore[index]


async def test_server_side_invocations_with_functions_are_replayed(emulator: GeminiEmulator) -> None:
    """Built-in + function tools (Gemini 3): ``toolCall``/``toolResponse`` parts come back and must be
    returned; the grounding of that search lands on the same item."""
    call = {"toolCall": {"id": "s1", "toolType": "GOOGLE_SEARCH_WEB", "args": {"queries": ["tea"]}}}
    resp = {"toolResponse": {"id": "s1", "toolType": "GOOGLE_SEARCH_WEB", "response": {"ok": True}}}
    emulator.script_candidate(call, resp, grounding_metadata=GROUNDING, sign=True)
    emulator.queue(Reply(text=ANSWER))
    model = model_for(emulator)
    first = await model.respond(ModelRequest(None, ask(), tools=[WEATHER], hosted_tools=(web_search(),)))
    search = first.items[0]
    assert isinstance(search, HostedToolUse) and search.call_id == "s1" and search.kind == "web_search"
    assert [s.kind for s in search.state] == ["part", "part", "grounding_metadata"]
    assert len(search.sources) == 2 and search.input["query"] == "cafe prices 2026"
    assert sum(isinstance(i, HostedToolUse) for i in first.items) == 1
    await model.respond(
        ModelRequest(
            None, [*ask(), *first.items, UserMessage.of("ok")], tools=[WEATHER], hosted_tools=(web_search(),)
        )
    )
    assert emulator.last_body["contents"][1]["parts"][:2] == [s.payload for s in search.state[:2]]


# --------------------------------------------------------------------------- streaming


async def test_streamed_hosted_work_raises_run_events(emulator: GeminiEmulator) -> None:
    emulator.script_candidate(
        CODE, RESULT_OK, grounding_metadata=GROUNDING, url_context_metadata=URL_CONTEXT, sign=True
    )
    emulator.queue(Reply(text=ANSWER))
    agent = Agent(
        name="g", model=model_for(emulator), hosted_tools=[code_execution(), web_search(), web_fetch()]
    )
    stream = Runner.stream(agent, "Compute and search", retry=FAST)
    events = [e async for e in stream]
    hosted = [e for e in events if isinstance(e, HostedToolStarted | HostedToolFinished)]
    started = [(e.tool_kind, e.name) for e in hosted if isinstance(e, HostedToolStarted)]
    finished = [e.item for e in hosted if isinstance(e, HostedToolFinished)]
    assert started[0] == ("code_execution", "code_execution") and set(started) == {
        ("code_execution", "code_execution"),
        ("web_search", "google_search"),
        ("web_fetch", "url_context"),
    }
    assert [i.kind for i in finished] == ["code_execution", "web_fetch", "web_search"]
    # the finished items are the transcript's
    kept = [i for i in stream.result.items if isinstance(i, HostedToolUse)]
    assert {i.id for i in kept} == {i.id for i in finished}
    assert stream.result.final_output == ANSWER
    answer = next(i for i in stream.result.items if isinstance(i, AssistantMessage))
    assert len(answer.citations) == 2
    assert stream.result.usage.server_tool_requests == {"web_search": 2}


# --------------------------------------------------------------------------- other vendors' tool work

FOREIGN = [
    HostedToolUse(
        kind="web_search",
        name="web_search",
        input={"query": "tea prices"},
        sources=(),
        state=(
            ProviderState(provider="openai", kind="item", payload={"type": "web_search_call", "id": "ws_1"}),
        ),
    ),
    HostedToolUse(
        kind="code_execution",
        name="bash_code_execution",
        code="echo $((2+2))",
        output="4",
        state=(ProviderState(provider="anthropic", kind="block", payload={"type": "server_tool_use"}),),
    ),
]


async def test_foreign_hosted_work_goes_as_model_text(emulator: GeminiEmulator) -> None:
    items: list[Item] = [*ask(), *FOREIGN, AssistantMessage(text="4"), UserMessage.of("thanks")]
    await model_for(emulator).respond(ModelRequest(None, items))
    model_turn = emulator.last_body["contents"][1]
    assert model_turn["role"] == "model"
    assert [p["text"] for p in model_turn["parts"]] == [FOREIGN[0].render(), FOREIGN[1].render(), "4"]
    assert "echo $((2+2))" in model_turn["parts"][1]["text"]


def test_the_sdk_parses_an_emulated_grounded_answer() -> None:
    from google.genai import types

    emu = GeminiEmulator().start()
    try:
        emu.script_candidate(
            CODE, RESULT_OK, grounding_metadata=GROUNDING, url_context_metadata=URL_CONTEXT, sign=True
        )
        r = httpx.post(
            f"{emu.base_url}/v1beta/models/{MODEL}:generateContent",
            json={
                "contents": [USER],
                "tools": [{"googleSearch": {}}, {"codeExecution": {}}, {"urlContext": {}}],
            },
            headers={"x-goog-api-key": "k"},
        )
    finally:
        emu.stop()
    parsed = types.GenerateContentResponse.model_validate(r.json())
    cand = parsed.candidates[0]  # type: ignore[index]
    assert cand.grounding_metadata and cand.grounding_metadata.web_search_queries
    assert cand.url_context_metadata and cand.content and cand.content.parts
    assert cand.content.parts[0].executable_code and cand.content.parts[0].thought_signature
    assert (
        base64.b64encode(cand.content.parts[0].thought_signature).decode()
        == r.json()["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
    )


def test_the_agent_is_refused_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """The capability check at ``Agent(...)`` asks the same mapping (both Gemini APIs)."""
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    mcp = hosted_mcp("docs", "https://mcp.example.org/mcp", require_approval="never")
    with pytest.raises(UnsupportedHostedToolError, match="google:gemini-3-pro-preview") as info:
        Agent(name="a", model="google:gemini-3-pro-preview", hosted_tools=[mcp])
    assert "openai" in info.value.supported_by
    Agent(name="a", model="google-interactions:gemini-3-pro-preview", hosted_tools=[mcp])
    with pytest.raises(UnsupportedHostedToolError, match="limit on searches"):
        Agent(
            name="a", model="google-interactions:gemini-3-pro-preview", hosted_tools=[web_search(max_uses=2)]
        )


async def test_cited_sources_of_another_vendor_are_listed_gemini_own_are_not(
    emulator: GeminiEmulator,
) -> None:
    from agentcore.messages import Citation

    emulator.script_candidate(grounding_metadata=GROUNDING)
    emulator.queue(Reply(text=ANSWER))
    model = model_for(emulator)
    own = await model.respond(ModelRequest(None, ask("Prices?"), hosted_tools=(web_search(),)))
    foreign = AssistantMessage(
        text="It shipped.",
        citations=(
            Citation(url="https://example.com/a", title="A"),
            Citation(kind="file", filename="policy.pdf"),
        ),
        state=(ProviderState(provider="openai", kind="message", payload={"id": "msg_1"}),),
    )
    await model.respond(ModelRequest(None, [*ask(), foreign, *own.items, UserMessage.of("more")]))
    texts = [p.get("text") for p in emulator.last_body["contents"][1]["parts"]]
    assert texts[0] == "It shipped.\n\nSources:\n- A <https://example.com/a>\n- policy.pdf"
    assert texts[-1] == ANSWER  # Gemini's own grounded answer goes back as it was
