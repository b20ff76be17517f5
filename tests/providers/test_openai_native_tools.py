"""OpenAI Responses: native client tools (shell, apply_patch, local_shell) run in our sandbox, server-run
and unknown items kept whole, hosted tools as declarations (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai._models import construct_type
from openai.types.responses import Response

from agentcore import Agent, Runner
from agentcore.hosted import UnsupportedHostedToolError, code_execution, file_search, web_fetch, web_search
from agentcore.messages import (
    AssistantMessage,
    HostedToolUse,
    Item,
    ProviderState,
    ToolCall,
    ToolResult,
    UserMessage,
)
from agentcore.model import ModelRequest, ToolSpec
from agentcore.providers.openai.chat import OpenAIChatModel
from agentcore.providers.openai.responses_tools import native_model
from agentcore.providers.openai.responses_wire import ItemEncoder, response_from
from tests.emulators.base import Reply
from tests.emulators.openai_chat import ChatCompletionsEmulator
from tests.emulators.openai_responses import MODEL, OpenAIResponsesEmulator
from tests.providers.harness import CASSETTES, emulator_fixture, run_under_rm_policy, shell_runs_once_approved
from tests.providers.openai_responses_support import make
from tests.sandboxes.backends import local_sandbox

emu = emulator_fixture(OpenAIResponsesEmulator, "emu")
chat_emu = emulator_fixture(ChatCompletionsEmulator, "chat_emu")

RECORDINGS = Path(CASSETTES) / "openai_responses"
NATIVE = {"shell_call": "shell", "apply_patch_call": "apply_patch", "local_shell_call": "local_shell"}


def _recorded(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((RECORDINGS / name).read_text())
    return body


def _sent(emu: OpenAIResponsesEmulator, i: int) -> dict[str, Any]:
    body: dict[str, Any] = emu.requests[i].body
    return body


# --------------------------------------------------------------------------- the recordings


@pytest.mark.parametrize(
    "name",
    [
        "openai-shell-tool.1.json",
        "openai-apply-patch-tool.1.json",
        "openai-local-shell-tool.1.json",
        "openai-shell-local-multiturn.1.json",
        "openai-shell-container-multiturn.1.json",
    ],
)
def test_recordings_parse_and_replay_byte_exact(name: str) -> None:
    body = _recorded(name)
    parsed = construct_type(type_=Response, value=body)  # the SDK reads the recording (as the client does)
    assert all(not isinstance(o, dict) for o in parsed.output)  # type: ignore[attr-defined]
    response = response_from(body, body["model"])
    outputs = body["output"]
    assert len(response.items) == len(outputs)  # nothing dropped
    calls = [i for i in response.items if isinstance(i, ToolCall)]
    for out in outputs:
        if out["type"] in NATIVE:
            call = next(c for c in calls if c.call_id == out["call_id"])
            assert call.name == NATIVE[out["type"]]
            field = "operation" if out["type"] == "apply_patch_call" else "action"
            assert json.loads(call.arguments) == out[field]
            assert call.state_for("native", kind=call.name) is not None
            encoded = ItemEncoder(body["model"]).encode(call)
            assert encoded is not None and json.loads(encoded) == out  # replayed as it came
    assert response.finish_reason == ("tool_calls" if calls else "stop")
    assert response.text or calls


def test_hosted_container_shell_and_server_items_are_kept_whole() -> None:
    hosted_call = {
        "id": "sh_1",
        "type": "shell_call",
        "status": "completed",
        "call_id": "call_hosted1",
        "action": {"commands": ["uname -m"], "timeout_ms": None, "max_output_length": None},
        "environment": {"type": "container_reference", "container_id": "cntr_1"},
    }
    hosted_out = {
        "id": "sho_1",
        "type": "shell_call_output",
        "call_id": "call_hosted1",
        "status": "completed",
        "output": [{"stdout": "x86_64\n", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}}],
        "max_output_length": None,
    }
    search = {
        "id": "ws_1",
        "type": "web_search_call",
        "status": "completed",
        "action": {"type": "search", "query": "q"},
    }
    unknown = {"id": "zz_1", "type": "brand_new_item", "payload": [1, 2]}
    body = {
        "id": "resp_1",
        "status": "completed",
        "model": "gpt-5.2",
        "output": [hosted_call, hosted_out, search, unknown],
        "usage": {"input_tokens": 3, "output_tokens": 2},
    }
    response = response_from(body, "gpt-5.2")
    # no client call: the server ran them (the hosted shell call and its output are one item)
    assert [type(i) for i in response.items] == [HostedToolUse, HostedToolUse, AssistantMessage]
    encoder = ItemEncoder("gpt-5.2")
    replayed = b"[" + b",".join(filter(None, (encoder.encode(i) for i in response.items))) + b"]"
    assert json.loads(replayed) == body["output"]
    # an answer holding only an unknown item is not an empty "stop"
    assert response.finish_reason == "unsupported_item:brand_new_item"


# --------------------------------------------------------------------------- declarations


async def test_native_tools_replace_the_function_tools_for_models_that_know_them(
    emu: OpenAIResponsesEmulator,
) -> None:
    spec = ToolSpec("shell", "run", {"type": "object", "properties": {"command": {"type": "string"}}})
    other = ToolSpec("read_file", "read", {"type": "object", "properties": {}})
    request = ModelRequest(
        instructions=None,
        items=[UserMessage.of("hi")],
        tools=[spec, other],
        native_tools=("shell", "apply_patch"),
    )
    emu.queue(Reply(text="ok"), Reply(text="ok"))
    await make(emu, "gpt-5.1").respond(request)
    tools = _sent(emu, 0)["tools"]
    assert [t.get("name", t["type"]) for t in tools] == ["read_file", "shell", "apply_patch"]
    assert tools[1] == {"type": "shell", "environment": {"type": "local"}} and tools[2] == {
        "type": "apply_patch"
    }
    await make(emu, "gpt-4.1").respond(request)  # a model not trained on them keeps the function tools
    assert [t["type"] for t in _sent(emu, 1)["tools"]] == ["function", "function"]
    assert (
        native_model("gpt-5.2-codex") and not native_model("gpt-5") and not native_model("gpt-5-chat-latest")
    )


async def test_hosted_tools_map_to_openai_entries(emu: OpenAIResponsesEmulator) -> None:
    hosted = (
        web_search(allowed_domains=["example.com"], context_size="low"),
        file_search(vector_store_ids=["vs_1"], max_results=4),
        code_execution(memory_limit="4g"),
    )
    emu.queue(Reply(text="ok"))
    await make(emu).respond(
        ModelRequest(instructions=None, items=[UserMessage.of("hi")], hosted_tools=hosted)
    )
    assert _sent(emu, 0)["tools"] == [
        {"type": "web_search", "filters": {"allowed_domains": ["example.com"]}, "search_context_size": "low"},
        {"type": "file_search", "vector_store_ids": ["vs_1"], "max_num_results": 4},
        {"type": "code_interpreter", "container": {"type": "auto", "memory_limit": "4g"}},
    ]
    for bad in (web_fetch(), web_search(blocked_domains=["x.com"])):
        request = ModelRequest(instructions=None, items=[UserMessage.of("hi")], hosted_tools=(bad,))
        with pytest.raises(UnsupportedHostedToolError, match="openai cannot serve"):
            await make(emu).respond(request)
    assert len(emu.requests) == 1  # refused before anything was sent: never a 400


async def test_emulator_refuses_undocumented_tool_shapes(emu: OpenAIResponsesEmulator) -> None:
    import openai

    client = openai.AsyncOpenAI(base_url=emu.base_url + "/v1", api_key="k")
    for tools in (
        [{"type": "shell", "environment": {"type": "nowhere"}}],
        [{"type": "file_search"}],
        [{"type": "code_interpreter"}],
        [{"type": "apply_patch", "extra": 1}],
        [{"type": "teleport"}],
    ):
        with pytest.raises(openai.BadRequestError):
            await client.responses.create(model=MODEL, input="hi", tools=tools)  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError, match="not supported"):
        await client.responses.create(model="gpt-4.1", input="hi", tools=[{"type": "apply_patch"}])
    await client.close()


# --------------------------------------------------------------------------- round trips


async def test_native_calls_round_trip_against_the_emulator(emu: OpenAIResponsesEmulator) -> None:
    shell = _recorded("openai-shell-tool.1.json")["output"][0]
    patch = _recorded("openai-apply-patch-tool.1.json")["output"][0]
    local = _recorded("openai-local-shell-tool.1.json")["output"][1]
    emu.script_items(shell, patch, local)
    emu.queue(Reply(), Reply(text="done"))
    model = make(emu, "gpt-5.1")
    items: list[Item] = [UserMessage.of("go")]
    first = await model.respond(ModelRequest(instructions=None, items=items))
    assert first.finish_reason == "tool_calls" and [c.name for c in first.items] == [
        "shell",
        "apply_patch",
        "local_shell",
    ]  # type: ignore[union-attr]
    outcome = {"type": "exit", "exit_code": 0}
    payloads = {
        "shell": {
            "output": [{"stdout": "/root\n", "stderr": "", "outcome": outcome}],
            "max_output_length": 9907,
        },
        "apply_patch": {"status": "completed", "output": "Created shopping-checklist.md"},
        "local_shell": {"output": json.dumps({"output": "a\n", "metadata": {"exit_code": 0}})},
    }
    results = [
        ToolResult(
            call_id=c.call_id,
            name=c.name,
            output="text",
            state=(ProviderState(provider="native", kind=c.name, payload=payloads[c.name]),),
        )
        for c in first.items
        if isinstance(c, ToolCall)
    ]
    await model.respond(ModelRequest(instructions=None, items=[*items, *first.items, *results]))
    sent = [i for i in _sent(emu, 1)["input"] if i.get("type", "").endswith("_output")]
    assert sent == [
        {"type": "shell_call_output", "call_id": shell["call_id"], **payloads["shell"]},
        {
            "type": "apply_patch_call_output",
            "call_id": patch["call_id"],
            "status": "completed",
            "output": "text",
        },
        {
            "type": "local_shell_call_output",
            "id": local["call_id"],
            "output": payloads["local_shell"]["output"],
        },
    ]


async def test_an_unanswered_or_refused_native_call_still_gets_its_output_shape(
    emu: OpenAIResponsesEmulator,
) -> None:
    emu.script_items(_recorded("openai-shell-tool.1.json")["output"][0])
    emu.queue(Reply(), Reply(text="ok"))
    model = make(emu, "gpt-5.1")
    first = await model.respond(ModelRequest(instructions=None, items=[UserMessage.of("go")]))
    call = first.items[0]
    assert isinstance(call, ToolCall)
    refused = ToolResult(call_id=call.call_id, name="shell", output="refused by guardrail: rm", is_error=True)
    await model.respond(ModelRequest(instructions=None, items=[UserMessage.of("go"), call, refused]))
    out = _sent(emu, 1)["input"][-1]
    assert out["type"] == "shell_call_output" and out["output"][0]["stderr"] == "refused by guardrail: rm"


# --------------------------------------------------------------------------- end to end, real sandbox


async def test_end_to_end_shell_and_apply_patch_run_in_the_local_sandbox(
    emu: OpenAIResponsesEmulator,
) -> None:
    sandbox = local_sandbox()
    diff = "+def main():\n+    print('hello from patch')\n+\n+main()\n"
    emu.script_items(
        {"type": "apply_patch_call", "operation": {"type": "create_file", "path": "app.py", "diff": diff}}
    )
    emu.script_items(
        {
            "type": "shell_call",
            "action": {
                "commands": ["python3 app.py", "ls missing-file"],
                "timeout_ms": None,
                "max_output_length": 4000,
            },
        }
    )
    emu.queue(Reply(), Reply(), Reply(text="all done"))
    agent = Agent(name="coder", model=make(emu, "gpt-5.1"), sandbox=sandbox)
    await sandbox.start()  # started here, so the run leaves it open for the checks below
    try:
        result = await Runner.run(agent, "write app.py and run it")
        assert result.final_output == "all done"
        assert (
            await sandbox.read_file("app.py")
        ).decode() == "def main():\n    print('hello from patch')\n\nmain()\n"
    finally:
        await sandbox.close()
    tools = _sent(emu, 0)["tools"]
    assert {"type": "shell", "environment": {"type": "local"}} in tools and {"type": "apply_patch"} in tools
    assert not any(t.get("name") == "shell" for t in tools)
    patched = _sent(emu, 1)["input"][-1]
    assert patched["type"] == "apply_patch_call_output" and patched["status"] == "completed"
    ran = _sent(emu, 2)["input"][-1]
    assert ran["type"] == "shell_call_output" and ran["max_output_length"] == 4000
    first, second = ran["output"]
    assert first == {
        "stdout": "hello from patch\n",
        "stderr": "",
        "outcome": {"type": "exit", "exit_code": 0},
    }
    assert second["outcome"]["type"] == "exit" and second["outcome"]["exit_code"] != 0 and second["stderr"]
    calls = [i for i in result.new_items if isinstance(i, ToolCall)]
    assert [c.name for c in calls] == ["apply_patch", "shell"]


async def test_native_tools_off_keeps_the_function_tools(emu: OpenAIResponsesEmulator) -> None:
    sandbox = local_sandbox()
    emu.queue(Reply(text="fine"))
    agent = Agent(name="coder", model=make(emu, "gpt-5.1"), sandbox=sandbox, native_tools="off")
    try:
        await Runner.run(agent, "hi")
    finally:
        await sandbox.close()
    assert all(t["type"] == "function" for t in _sent(emu, 0)["tools"])


async def test_shell_policy_sees_each_native_command(emu: OpenAIResponsesEmulator) -> None:
    emu.script_items(
        {"type": "shell_call", "action": {"commands": ["echo ok", "rm -rf /tmp/x"], "timeout_ms": None}}
    )
    emu.queue(Reply(), Reply(text="gave up"))
    await run_under_rm_policy(make(emu, "gpt-5.1"))
    out = _sent(emu, 1)["input"][-1]
    assert out["type"] == "shell_call_output" and "rm" in out["output"][0]["stderr"]
    assert out["output"][0]["outcome"]["exit_code"] == 1


# --------------------------------------------------------------------------- moving to another vendor


async def test_a_web_search_transcript_moves_to_chat_completions(
    emu: OpenAIResponsesEmulator, chat_emu: ChatCompletionsEmulator
) -> None:
    emu.script_items(
        {"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "agentcore"}}
    )
    emu.queue(Reply(text="Found it."))
    request = ModelRequest(instructions=None, items=[UserMessage.of("search")], hosted_tools=(web_search(),))
    first = await make(emu).respond(request)
    assert [type(i) for i in first.items] == [HostedToolUse, AssistantMessage] and first.text == "Found it."
    transcript: list[Item] = [UserMessage.of("search"), *first.items, UserMessage.of("thanks; and again?")]
    # back to OpenAI: the item goes back as it came
    emu.queue(Reply(text="again"))
    await make(emu).respond(ModelRequest(instructions=None, items=transcript))
    assert {
        "type": "web_search_call",
        "status": "completed",
        "action": {"type": "search", "query": "agentcore"},
    }.items() <= next(i for i in _sent(emu, 1)["input"] if i.get("type") == "web_search_call").items()
    # to Chat Completions: no 400
    chat_emu.queue(Reply(text="sure"))
    chat = OpenAIChatModel("llama3", base_url=chat_emu.base_url + "/v1", api_key="test-key")
    answer = await chat.respond(ModelRequest(instructions=None, items=transcript))
    assert answer.text == "sure"
    sent = chat_emu.requests[-1].body["messages"]
    assert not any("web_search_call" in json.dumps(m) for m in sent)


async def test_streamed_native_calls_and_server_items_arrive_whole(emu: OpenAIResponsesEmulator) -> None:
    from agentcore.model import ModelResponseDone

    shell = _recorded("openai-shell-tool.1.json")["output"][0]
    search = {"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "x"}}
    emu.script_items(search, shell)
    emu.queue(Reply())
    events = [
        e
        async for e in make(emu, "gpt-5.1").stream(
            ModelRequest(instructions=None, items=[UserMessage.of("go")])
        )
    ]
    done = events[-1]
    assert isinstance(done, ModelResponseDone)
    kinds = [type(i).__name__ for i in done.response.items]
    assert kinds == ["HostedToolUse", "ToolCall"] and done.response.finish_reason == "tool_calls"
    call = done.response.items[1]
    assert (
        isinstance(call, ToolCall) and call.name == "shell" and json.loads(call.arguments) == shell["action"]
    )


async def test_a_native_shell_call_pauses_for_approval_then_runs(
    emu: OpenAIResponsesEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTCORE_HOME", str(tmp_path))
    emu.script_items({"type": "shell_call", "action": {"commands": ["echo approved > flag; cat flag"]}})
    emu.queue(Reply(), Reply(text="ran it"))
    await shell_runs_once_approved(make(emu, "gpt-5.1"))
    out = _sent(emu, 1)["input"][-1]
    assert out["type"] == "shell_call_output" and out["output"][0]["stdout"] == "approved\n"
