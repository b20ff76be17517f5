"""OpenAI Responses: server-run tools as HostedToolUse items, citations, hosted tool request counts, hosted
tool stream events, foreign hosted items, hosted MCP with approvals, and the emulator's strictness about
hosted tool entries (issues 13 and 14). The hosted container as a sandbox is in
``test_openai_hosted_container.py``."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path
from typing import Any

import openai
import pytest
from openai._models import construct_type
from openai.types.responses import Response

from agentcore import Agent, Runner
from agentcore.events import TextDelta
from agentcore.hosted import hosted_mcp, web_search
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
from agentcore.model import ModelHostedToolEvent, ModelRequest, ModelResponseDone
from agentcore.providers.openai.chat import OpenAIChatModel
from agentcore.providers.openai.responses_hosted import HOSTED_KINDS
from agentcore.providers.openai.responses_wire import ItemEncoder, response_from
from tests.emulators.base import Reply
from tests.emulators.openai_chat import ChatCompletionsEmulator
from tests.emulators.openai_responses import MODEL, OpenAIResponsesEmulator
from tests.providers.harness import emulator_fixture
from tests.providers.openai_responses_support import make
from tests.providers.test_openai_responses_fidelity import ALL, _ids

emu = emulator_fixture(OpenAIResponsesEmulator, "emu")
chat_emu = emulator_fixture(ChatCompletionsEmulator, "chat_emu")

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 64).decode()
SEARCH = {
    "id": "ws_1",
    "type": "web_search_call",
    "status": "completed",
    "action": {
        "type": "search",
        "query": "agentcore release",
        "sources": [
            {"type": "url", "url": "https://example.com/a"},
            {"type": "url", "url": "https://example.org/b"},
        ],
    },
}
OPEN_PAGE = {
    "id": "ws_2",
    "type": "web_search_call",
    "status": "completed",
    "action": {"type": "open_page", "url": "https://example.com/a"},
}
FIND = {
    "id": "ws_3",
    "type": "web_search_call",
    "status": "completed",
    "action": {"type": "find_in_page", "pattern": "v2", "url": "https://example.com/a"},
}
FILES = {
    "id": "fs_1",
    "type": "file_search_call",
    "status": "completed",
    "queries": ["refund policy"],
    "results": [
        {
            "file_id": "file-1",
            "filename": "policy.pdf",
            "score": 0.9,
            "text": "Refunds within 30 days.",
            "attributes": {},
        }
    ],
}
CODE = {
    "id": "ci_1",
    "type": "code_interpreter_call",
    "status": "completed",
    "code": "print(6 * 7)",
    "container_id": "cntr_1",
    "outputs": [{"type": "logs", "logs": "42\n"}, {"type": "image", "url": "https://files.example/plot.png"}],
}
IMAGE = {"id": "ig_1", "type": "image_generation_call", "status": "completed", "result": PNG}
MCP_CALL = {
    "id": "mcp_1",
    "type": "mcp_call",
    "status": "completed",
    "server_label": "docs",
    "name": "lookup",
    "arguments": '{"q": "x"}',
    "output": "found x",
    "error": None,
}
MCP_FAILED = {
    **MCP_CALL,
    "id": "mcp_2",
    "status": "failed",
    "output": None,
    "error": {"type": "http_error", "code": 502, "message": "bad gateway"},
}
SHELL = {
    "id": "sh_1",
    "type": "shell_call",
    "status": "completed",
    "call_id": "call_h1",
    "action": {"commands": ["uname -m", "false"], "timeout_ms": None, "max_output_length": None},
    "environment": {"type": "container_reference", "container_id": "cntr_1"},
}
SHELL_OUT = {
    "id": "sho_1",
    "type": "shell_call_output",
    "call_id": "call_h1",
    "status": "completed",
    "max_output_length": None,
    "output": [
        {"stdout": "x86_64\n", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}},
        {"stdout": "", "stderr": "", "outcome": {"type": "exit", "exit_code": 1}},
    ],
}
ANSWER = {
    "id": "msg_1",
    "type": "message",
    "status": "completed",
    "role": "assistant",
    "content": [
        {
            "type": "output_text",
            "text": "It shipped (source). See policy.pdf and plot.png.",
            "logprobs": [],
            "annotations": [
                {
                    "type": "url_citation",
                    "url": "https://example.com/a",
                    "title": "A",
                    "start_index": 11,
                    "end_index": 19,
                },
                {"type": "file_citation", "file_id": "file-1", "filename": "policy.pdf", "index": 25},
                {
                    "type": "container_file_citation",
                    "container_id": "cntr_1",
                    "file_id": "cfile_1",
                    "filename": "plot.png",
                    "start_index": 40,
                    "end_index": 48,
                },
                {"type": "file_path", "file_id": "cfile_1", "index": 40},
            ],
        }
    ],
}


def _body(*output: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "status": "completed",
        "model": "gpt-5.2",
        "output": list(output),
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {"input_tokens": 3, "output_tokens": 2},
    }


def _replayed(items: list[Item], model: str = "gpt-5.2") -> list[Any]:
    encoder = ItemEncoder(model)
    return json.loads(b"[" + b",".join(filter(None, (encoder.encode(i) for i in items))) + b"]")


def _fresh(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` without its id (the emulator issues one)."""
    return {k: v for k, v in item.items() if k != "id"}


# --------------------------------------------------------------------------- decoding


def test_server_items_become_hosted_tool_uses_that_replay_byte_exact() -> None:
    output = [SEARCH, OPEN_PAGE, FIND, FILES, CODE, IMAGE, MCP_CALL, MCP_FAILED, SHELL, SHELL_OUT, ANSWER]
    body = _body(*output)
    parsed = construct_type(type_=Response, value=body)  # the SDK reads every item
    assert all(not isinstance(o, dict) for o in parsed.output)  # type: ignore[attr-defined]
    response = response_from(body, "gpt-5.2")
    hosted = [i for i in response.items if isinstance(i, HostedToolUse)]
    assert [h.kind for h in hosted] == [
        "web_search",
        "web_search",
        "web_search",
        "file_search",
        "code_execution",
        "image_generation",
        "mcp",
        "mcp",
        "shell",
    ]
    search, opened, found, files, code, image, mcp, failed, shell = hosted
    assert search.input == {"query": "agentcore release"} and search.call_id == "ws_1"
    assert [s.url for s in search.sources] == ["https://example.com/a", "https://example.org/b"]
    assert opened.input == {"url": "https://example.com/a"}
    assert found.input == {"pattern": "v2", "url": "https://example.com/a"}
    assert files.input == {"queries": ["refund policy"]}
    assert files.sources == (
        Citation(kind="file", file_id="file-1", filename="policy.pdf", cited_text="Refunds within 30 days."),
    )
    assert (code.code, code.output, code.files) == (
        "print(6 * 7)",
        "42\n",
        ("https://files.example/plot.png",),
    )
    assert code.input == {"container_id": "cntr_1"} and code.name == "code_interpreter"
    assert PNG not in image.output and PNG not in image.render()  # the base64 image stays in the state only
    assert (mcp.name, mcp.output, mcp.is_error) == ("lookup", "found x", False)
    assert mcp.input == {"server_label": "docs", "tool": "lookup", "arguments": {"q": "x"}}
    assert failed.is_error and failed.status == "failed" and "bad gateway" in failed.output
    assert shell.input == {"commands": ["uname -m", "false"], "container_id": "cntr_1"}
    assert shell.output == "$ uname -m\nx86_64\n[exit 0]\n$ false\n[exit 1]" and shell.call_id == "call_h1"
    assert [s.kind for s in shell.state] == ["shell_call", "shell_call_output"]
    # citations on the answer, offsets into its text
    answer = response.items[-1]
    assert isinstance(answer, AssistantMessage)
    assert answer.citations == (
        Citation(kind="web", url="https://example.com/a", title="A", start=11, end=19),
        Citation(kind="file", file_id="file-1", filename="policy.pdf", start=25),
        Citation(kind="file", file_id="cfile_1", filename="plot.png", start=40, end=48),
        Citation(kind="file", file_id="cfile_1", start=40),
    )
    # OpenAI gets every item back as it came, in order (the annotated answer too)
    assert _replayed(response.items) == output
    # server tool requests billed per call
    assert response.usage.server_tool_requests == {"web_search": 3, "file_search": 1}
    assert response.finish_reason == "stop"


def test_a_lone_hosted_shell_output_and_unknown_items_are_kept() -> None:
    unknown = {"id": "zz_1", "type": "brand_new_item", "payload": [1]}
    listing = {"id": "mcpl_1", "type": "mcp_list_tools", "server_label": "docs", "tools": []}
    body = _body(SHELL_OUT, listing, unknown, ANSWER)
    response = response_from(body, "gpt-5.2")
    assert [type(i) for i in response.items] == [
        HostedToolUse,
        AssistantMessage,
        AssistantMessage,
        AssistantMessage,
    ]
    lone = response.items[0]
    assert isinstance(lone, HostedToolUse) and lone.kind == "shell" and "x86_64" in lone.output
    assert _replayed(response.items) == body["output"]


RESPONSES = [r for r in ALL if r[2] == 200 and isinstance(r[3], dict)]


@pytest.mark.parametrize("row", RESPONSES, ids=_ids(RESPONSES))
def test_every_recorded_response_decodes_without_loss(row: tuple[str, Any, int, Any]) -> None:
    _, _, _, body = row
    if body.get("object") != "response" or body.get("status") in ("queued", "in_progress"):
        return
    response = response_from(body, str(body.get("model")))
    output = [o for o in body.get("output") or [] if isinstance(o, dict)]
    merged = sum(1 for a, b in itertools.pairwise(output) if _pair(a, b))
    assert len(response.items) == len(output) - merged  # nothing dropped
    replayed = _replayed(response.items, str(body.get("model")))
    for out in output:
        if out["type"] in HOSTED_KINDS or out["type"].startswith("mcp_") or out["type"] == "compaction":
            assert any(out.items() <= r.items() for r in replayed), out["type"]


def _pair(a: dict[str, Any], b: dict[str, Any]) -> bool:
    env = a.get("environment")
    hosted = isinstance(env, dict) and env.get("type") not in (None, "local")
    return a.get("type") == "shell_call" and hosted and b.get("type") == "shell_call_output"


# --------------------------------------------------------------------------- streaming


async def test_streaming_reports_hosted_tools_started_and_finished(emu: OpenAIResponsesEmulator) -> None:
    emu.script_items(_fresh(SEARCH), _fresh(CODE))
    emu.queue(Reply(text="done"))
    events = [
        e async for e in make(emu).stream(ModelRequest(instructions=None, items=[UserMessage.of("go")]))
    ]
    hosted = [e for e in events if isinstance(e, ModelHostedToolEvent)]
    assert [(e.phase, e.kind) for e in hosted] == [
        ("started", "web_search"),
        ("finished", "web_search"),
        ("started", "code_execution"),
        ("finished", "code_execution"),
    ]
    finished = hosted[1].item
    assert isinstance(finished, HostedToolUse) and finished.input == {"query": "agentcore release"}
    assert hosted[0].call_id == finished.call_id
    done = events[-1]
    assert isinstance(done, ModelResponseDone) and done.response.text == "done"
    assert done.response.usage.server_tool_requests == {"web_search": 1}


async def test_runner_streams_hosted_tool_events(emu: OpenAIResponsesEmulator) -> None:
    from agentcore.events import HostedToolFinished, HostedToolStarted

    emu.script_items(_fresh(SEARCH))
    emu.queue(Reply(text="found"))
    agent = Agent(name="s", model=make(emu), hosted_tools=[web_search()])
    kinds = []
    async for event in Runner.stream(agent, "search"):
        if isinstance(event, HostedToolStarted | HostedToolFinished):
            kinds.append(type(event).__name__)
    assert kinds == ["HostedToolStarted", "HostedToolFinished"]


# --------------------------------------------------------------------------- other vendors' items


FOREIGN = HostedToolUse(
    kind="web_search",
    name="web_search",
    call_id="srvtoolu_1",
    input={"query": "agentcore"},
    sources=(Citation(url="https://example.com/a", title="Example A"),),
    state=(ProviderState(provider="anthropic", kind="server_tool_use", payload={"type": "server_tool_use"}),),
)


async def test_foreign_hosted_items_reach_responses_and_chat_as_text(
    emu: OpenAIResponsesEmulator, chat_emu: ChatCompletionsEmulator
) -> None:
    transcript: list[Item] = [
        UserMessage.of("search"),
        FOREIGN,
        AssistantMessage(text="Found."),
        UserMessage.of("more"),
    ]
    emu.queue(Reply(text="ok"))
    await make(emu).respond(ModelRequest(instructions=None, items=transcript))
    sent = emu.requests[-1].body["input"]
    assert sent[1] == {"role": "assistant", "content": FOREIGN.render()}
    assert "server_tool_use" not in json.dumps(sent) and "Example A" in sent[1]["content"]
    chat_emu.queue(Reply(text="ok"))
    chat = OpenAIChatModel("llama3", base_url=chat_emu.base_url + "/v1", api_key="test-key")
    await chat.respond(ModelRequest(instructions=None, items=transcript))
    messages = chat_emu.requests[-1].body["messages"]
    assert {"role": "assistant", "content": FOREIGN.render()} in messages
    assert "server_tool_use" not in json.dumps(messages)


async def test_openai_hosted_items_reach_chat_as_text(
    emu: OpenAIResponsesEmulator, chat_emu: ChatCompletionsEmulator
) -> None:
    transcript = [
        UserMessage.of("q"),
        *response_from(_body(SEARCH, CODE, SHELL, SHELL_OUT, ANSWER), "gpt-5.2").items,
    ]
    chat_emu.queue(Reply(text="ok"))
    chat = OpenAIChatModel("llama3", base_url=chat_emu.base_url + "/v1", api_key="test-key")
    await chat.respond(ModelRequest(instructions=None, items=[*transcript, UserMessage.of("and?")]))
    text = json.dumps(chat_emu.requests[-1].body["messages"])
    assert "web_search_call" not in text and "https://example.org/b" in text and "x86_64" in text


# --------------------------------------------------------------------------- hosted MCP


DOCS = hosted_mcp(
    "docs",
    "https://mcp.example.com/sse",
    allowed_tools=["lookup", "search"],
    require_approval=["lookup"],
    authorization="tok",
    headers={"X-Team": "a"},
    description="Team docs",
)


async def test_hosted_mcp_is_the_mcp_tool_and_its_tools_are_listed(emu: OpenAIResponsesEmulator) -> None:
    emu.hosted.mcp_tools["docs"] = [
        {"name": "lookup", "input_schema": {"type": "object"}, "annotations": None}
    ]
    emu.queue(Reply(text="ok"))
    response = await make(emu).respond(
        ModelRequest(instructions=None, items=[UserMessage.of("hi")], hosted_tools=(DOCS,))
    )
    assert emu.requests[-1].body["tools"] == [
        {
            "type": "mcp",
            "server_label": "docs",
            "server_url": "https://mcp.example.com/sse",
            "allowed_tools": ["lookup", "search"],
            "require_approval": {"always": {"tool_names": ["lookup"]}, "never": {"tool_names": ["search"]}},
            "authorization": "tok",
            "headers": {"X-Team": "a"},
            "server_description": "Team docs",
        }
    ]
    listing = response.items[0]
    assert isinstance(listing, AssistantMessage) and not listing.text  # kept whole, replayed as it came
    assert response.text == "ok"


def _approval(emu: OpenAIResponsesEmulator) -> None:
    emu.script_items(
        {"type": "mcp_approval_request", "server_label": "docs", "name": "lookup", "arguments": '{"q":"x"}'}
    )


@pytest.mark.parametrize("store", [True, False])
async def test_an_mcp_approval_request_pauses_the_run_and_approval_continues_it(
    emu: OpenAIResponsesEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: bool
) -> None:
    monkeypatch.setenv("AGENTCORE_HOME", str(tmp_path))
    emu.hosted.mcp_outputs["lookup"] = "x is 42"
    _approval(emu)
    emu.queue(Reply(), Reply(text="x is 42, says the server"))
    agent = Agent(name="docs", model=make(emu, store=store), hosted_tools=[DOCS])
    paused = await Runner.run(agent, "look up x")
    assert paused.paused and len(paused.interruptions) == 1
    call = paused.interruptions[0].call
    assert call.name == "mcp__docs__lookup" and json.loads(call.arguments) == {"q": "x"}
    assert len(emu.requests) == 1  # nothing ran
    state = RunStateRoundTrip.through_json(paused.state)
    state.approve(call.call_id)
    done = await Runner.run(agent, state)
    assert done.final_output == "x is 42, says the server"
    assert emu.hosted.approval_responses == [
        {"type": "mcp_approval_response", "approval_request_id": call.call_id, "approve": True}
    ]
    mcp = [i for i in done.items if isinstance(i, HostedToolUse)]
    assert len(mcp) == 1 and mcp[0].kind == "mcp" and mcp[0].output == "x is 42"
    result = next(i for i in done.items if isinstance(i, ToolResult))
    assert result.call_id == call.call_id and not result.is_error


async def test_a_rejected_mcp_call_tells_openai_approve_false(
    emu: OpenAIResponsesEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTCORE_HOME", str(tmp_path))
    _approval(emu)
    emu.queue(Reply(), Reply(text="I did not look it up."))
    agent = Agent(name="docs", model=make(emu), hosted_tools=[DOCS])
    paused = await Runner.run(agent, "look up x")
    paused.state.reject(paused.interruptions[0].call.call_id, "not now")
    done = await Runner.run(agent, paused.state)
    assert done.final_output == "I did not look it up."
    [answer] = emu.hosted.approval_responses
    assert answer["approve"] is False and answer["reason"] == "not now"
    assert not any(isinstance(i, HostedToolUse) for i in done.items)  # the server called nothing


async def test_an_approval_answer_for_an_unknown_request_is_refused(emu: OpenAIResponsesEmulator) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k")
    with pytest.raises(openai.BadRequestError, match="No approval request"):
        await client.responses.create(
            model=MODEL,
            input=[{"type": "mcp_approval_response", "approval_request_id": "mcpr_nope", "approve": True}],
        )
    await client.close()


# --------------------------------------------------------------------------- emulator strictness


@pytest.mark.parametrize(
    ("tool", "param"),
    [
        ({"type": "mcp", "server_label": "has space", "server_url": "https://x"}, "tools[0].server_label"),
        ({"type": "mcp", "server_label": "a"}, "tools[0]"),
        ({"type": "mcp", "server_label": "a", "server_url": "ftp://x"}, "tools[0].server_url"),
        (
            {"type": "mcp", "server_label": "a", "server_url": "https://x", "require_approval": "sometimes"},
            "tools[0].require_approval",
        ),
        (
            {"type": "mcp", "server_label": "a", "server_url": "https://x", "headers": {"a": 1}},
            "tools[0].headers",
        ),
        ({"type": "mcp", "server_label": "a", "server_url": "https://x", "token": "t"}, "tools[0].token"),
        (
            {"type": "shell", "environment": {"type": "container_auto", "memory_limit": "2g"}},
            "tools[0].environment.memory_limit",
        ),
        (
            {"type": "shell", "environment": {"type": "container_auto", "image": "x"}},
            "tools[0].environment.image",
        ),
        (
            {"type": "shell", "environment": {"type": "container_reference", "container_id": "cntr_none"}},
            "tools[0].environment.container_id",
        ),
        ({"type": "web_search", "search_context_size": "huge"}, "tools[0].search_context_size"),
        ({"type": "web_search", "filters": {"allowed_domains": "x.com"}}, "tools[0].filters.allowed_domains"),
        (
            {"type": "code_interpreter", "container": {"type": "auto", "memory_limit": "3g"}},
            "tools[0].container.memory_limit",
        ),
        ({"type": "code_interpreter", "container": {"type": "auto", "gpu": True}}, "tools[0].container.gpu"),
    ],
)
async def test_the_emulator_refuses_malformed_hosted_tool_entries(
    emu: OpenAIResponsesEmulator, tool: dict[str, Any], param: str
) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k")
    try:
        with pytest.raises(openai.APIStatusError) as info:
            await client.responses.create(model="gpt-5.1", input="hi", tools=[tool])  # type: ignore[list-item]
    finally:
        await client.close()
    assert info.value.status_code in (400, 404)
    assert isinstance(info.value.body, dict) and info.value.body.get("param") == param


async def test_two_hosted_mcp_servers_with_one_label_are_refused_before_sending(
    emu: OpenAIResponsesEmulator,
) -> None:
    from agentcore.hosted import UnsupportedHostedToolError

    twin = hosted_mcp("docs", "https://other.example.com/mcp")
    with pytest.raises(UnsupportedHostedToolError, match="server_label"):
        await make(emu).respond(
            ModelRequest(instructions=None, items=[UserMessage.of("hi")], hosted_tools=(DOCS, twin))
        )
    assert not emu.requests


class RunStateRoundTrip:
    """A paused state goes through JSON (another process would resume it) before it is decided."""

    @staticmethod
    def through_json(state: Any) -> Any:
        from agentcore.control.approvals import RunState

        return RunState.from_json(state.to_json())


def test_an_approval_call_carries_the_request_for_openai_and_no_local_tool() -> None:
    request = {
        "id": "mcpr_1",
        "type": "mcp_approval_request",
        "server_label": "docs",
        "name": "lookup",
        "arguments": "{}",
    }
    response = response_from(_body(request), "gpt-5.2")
    [call] = response.items
    assert isinstance(call, ToolCall) and call.state_for("hosted_approval") is not None
    assert response.finish_reason == "tool_calls"
    assert _replayed([call]) == [request]


async def test_the_sdk_reads_the_emulator_replies_with_hosted_items(emu: OpenAIResponsesEmulator) -> None:
    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k")
    try:
        mcp = {"type": "mcp", "server_label": "docs", "server_url": "https://mcp.example.com/mcp"}
        emu.hosted.mcp_tools["docs"] = [{"name": "lookup", "input_schema": {"type": "object"}}]
        _approval(emu)
        emu.queue(Reply(), Reply(text="done"))
        first = await client.responses.create(model=MODEL, input="x", tools=[mcp])  # type: ignore[list-item]
        assert [type(o).__name__ for o in first.output] == ["McpListTools", "McpApprovalRequest"]
        second = await client.responses.create(
            model=MODEL,
            previous_response_id=first.id,
            input=[
                {"type": "mcp_approval_response", "approval_request_id": first.output[1].id, "approve": True}
            ],
            tools=[mcp],  # type: ignore[list-item]
        )
        assert [type(o).__name__ for o in second.output] == ["McpCall", "ResponseOutputMessage"]
        shell = {"type": "shell", "environment": {"type": "container_auto"}}
        emu.script_items({"type": "shell_call", "action": {"commands": ["echo hi"]}})
        emu.queue(Reply(text="ok"))
        third = await client.responses.create(model="gpt-5.1", input="x", tools=[shell])  # type: ignore[list-item]
        names = [type(o).__name__ for o in third.output]
        assert names == [
            "ResponseFunctionShellToolCall",
            "ResponseFunctionShellToolCallOutput",
            "ResponseOutputMessage",
        ]
        emu.script_items(_fresh(SEARCH), _fresh(CODE))
        emu.queue(Reply(text="ok"))
        stream = await client.responses.create(
            model=MODEL, input="x", tools=[{"type": "web_search"}], stream=True
        )
        kinds = [type(event).__name__ async for event in stream]
        assert (
            "ResponseWebSearchCallSearchingEvent" in kinds
            and "ResponseCodeInterpreterCallInterpretingEvent" in kinds
        )
        assert "dict" not in kinds
    finally:
        await client.close()


async def test_a_streamed_run_pauses_on_an_mcp_approval_request_too(
    emu: OpenAIResponsesEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTCORE_HOME", str(tmp_path))
    _approval(emu)
    emu.queue(Reply(), Reply(text="looked it up"))
    agent = Agent(name="docs", model=make(emu), hosted_tools=[DOCS])
    stream = Runner.stream(agent, "look up x")
    async for _ in stream:
        pass
    paused = stream.result
    assert paused.paused and paused.interruptions[0].call.name == "mcp__docs__lookup"
    paused.state.approve_all()
    stream = Runner.stream(agent, paused.state)
    text = "".join([e.delta async for e in stream if isinstance(e, TextDelta)])
    assert text == "looked it up" and emu.hosted.approval_responses[0]["approve"] is True
