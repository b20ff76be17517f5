"""Anthropic: the client tools Claude was trained on (``bash_20250124``, ``text_editor_20250728``) declared
for an agent with a sandbox, their ``tool_use`` blocks run in that sandbox as neutral tool calls, and a
conversation holding native calls continuing on another vendor (issue 13 §3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from agentcore import Agent, Runner
from agentcore.messages import Item, ToolCall, UserMessage
from agentcore.model import ModelRequest, ToolSpec
from agentcore.providers.anthropic.model import AnthropicModel
from agentcore.providers.anthropic.native import native_versions
from agentcore.providers.openai.responses import OpenAIResponsesModel
from tests.emulators.anthropic import AnthropicEmulator, AnthropicReply
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.openai_responses import OpenAIResponsesEmulator
from tests.providers.harness import emulator_fixture, run_under_rm_policy, shell_runs_once_approved
from tests.sandboxes.backends import local_sandbox
from tests.spans import Spans, spans_fixture

emu = emulator_fixture(AnthropicEmulator, "emu")
openai_emu = emulator_fixture(OpenAIResponsesEmulator, "openai_emu")
CLAUDE = "claude-sonnet-4-5"
BASH = {"type": "bash_20250124", "name": "bash"}
EDITOR = {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spans]:
    yield from spans_fixture(monkeypatch)


def _model(emu: AnthropicEmulator, model: str = CLAUDE, **options: Any) -> AnthropicModel:
    return AnthropicModel(model, base_url=emu.base_url, api_key="test-key", **options)


def _sent(emu: Any, i: int) -> dict[str, Any]:
    body: dict[str, Any] = emu.requests[i].body
    return body


def _use(name: str, data: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": data, "caller": {"type": "direct"}}


def _results(body: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = [b for b in body["messages"][-1]["content"] if b["type"] == "tool_result"]
    return [{k: v for k, v in b.items() if k != "cache_control"} for b in blocks]


SPECS = [
    ToolSpec(name, name, {"type": "object", "properties": {}})
    for name in ("shell", "read_file", "write_file", "edit_file", "list_files")
]


# --------------------------------------------------------------------------- declarations


async def test_claude_4_gets_bash_and_the_text_editor_in_place_of_the_function_tools(
    emu: AnthropicEmulator,
) -> None:
    request = ModelRequest(
        instructions=None,
        items=[UserMessage.of("hi")],
        tools=SPECS,
        native_tools=("shell", "apply_patch", "bash", "text_editor"),
    )
    emu.queue(Reply(text="ok"), Reply(text="ok"), Reply(text="ok"), Reply(text="ok"))
    await _model(emu).respond(request)
    tools = _sent(emu, 0)["tools"]
    assert [t["name"] for t in tools] == ["list_files", "bash", "str_replace_based_edit_tool"]
    assert tools[1] == BASH and {k: v for k, v in tools[2].items() if k != "cache_control"} == EDITOR
    await _model(emu, text_editor_max_characters=5000).respond(request)
    assert _sent(emu, 1)["tools"][-1]["max_characters"] == 5000
    await _model(emu, "claude-3-7-sonnet-20250219").respond(request)  # its own editor version
    assert [(t.get("type"), t["name"]) for t in _sent(emu, 2)["tools"][1:]] == [
        ("bash_20250124", "bash"),
        ("text_editor_20250124", "str_replace_editor"),
    ]
    await _model(emu, "claude-3-5-haiku-20241022").respond(request)  # not trained on them
    assert [t["name"] for t in _sent(emu, 3)["tools"]] == [s.name for s in SPECS]
    assert native_versions("claude-opus-4-1")["text_editor"][0] == "text_editor_20250728"
    assert native_versions("anthropic.claude-sonnet-4-20250514-v1:0")["bash"] == ("bash_20250124", "bash")
    assert native_versions("claude-opus-5")["bash"][0] == "bash_20250124"


async def test_the_emulator_refuses_misnamed_or_unknown_tool_versions(emu: AnthropicEmulator) -> None:
    client = anthropic.AsyncAnthropic(base_url=emu.base_url, api_key="k", max_retries=0)
    for tool, problem in (
        ({"type": "bash_20250124", "name": "shell"}, "Input should be 'bash'"),
        ({"type": "bash_20250125", "name": "bash"}, "does not match any of the expected tags"),
        ({**EDITOR, "name": "str_replace_editor"}, "Input should be 'str_replace_based_edit_tool'"),
        (
            {"type": "text_editor_20250124", "name": "str_replace_editor", "max_characters": 10},
            "max_characters: Extra inputs are not permitted",
        ),
        ({**BASH, "input_schema": {"type": "object"}}, "input_schema: Extra inputs are not permitted"),
    ):
        with pytest.raises(anthropic.BadRequestError, match=problem):
            await client.messages.create(
                model=CLAUDE,
                max_tokens=10,
                messages=[{"role": "user", "content": "hi"}],
                tools=[tool],  # type: ignore[list-item]
            )
    emu.queue(Reply(text="ok"))
    await client.messages.create(
        model=CLAUDE,
        max_tokens=10,
        messages=[{"role": "user", "content": "hi"}],
        tools=[BASH, {**EDITOR, "max_characters": 10}],  # type: ignore[list-item]
    )
    await client.close()


# --------------------------------------------------------------------------- running in the sandbox


async def test_bash_and_editor_calls_run_in_the_sandbox_and_answer_tool_results(
    emu: AnthropicEmulator, spans: Spans
) -> None:
    sandbox = local_sandbox()
    emu.queue(
        AnthropicReply(
            content=[
                _use("str_replace_based_edit_tool", {"command": "create", "path": "a.py", "file_text": "x = 1\n"}, "toolu_1"),
                _use("str_replace_based_edit_tool", {"command": "view", "path": "missing.py"}, "toolu_2"),
            ]
        ),
        AnthropicReply(
            content=[
                _use("bash", {"command": "python3 -c 'import a; print(a.x + 1)'"}, "toolu_3"),
                _use("str_replace_based_edit_tool", {"command": "str_replace", "path": "a.py", "old_str": "y", "new_str": "z"}, "toolu_4"),
            ]
        ),
        AnthropicReply(content=[_use("bash", {"restart": True}, "toolu_5")]),
        Reply(text="done"),
    )  # fmt: skip
    agent = Agent(name="coder", model=_model(emu, text_editor_max_characters=4000), sandbox=sandbox)
    try:
        result = await Runner.run(agent, "make a.py and run it")
    finally:
        await sandbox.close()
    assert result.final_output == "done"
    first, second, third = (_results(_sent(emu, n)) for n in (1, 2, 3))
    assert first == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Successfully created file a.py", "is_error": False},
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "Error: File not found", "is_error": True},
    ]  # fmt: skip
    assert first[0]["tool_use_id"] == "toolu_1"
    assert second[0]["content"] == "2\n" and not second[0]["is_error"]
    assert second[1]["is_error"] and second[1]["content"].startswith("Error: No match found for replacement.")
    assert "restarted" in third[0]["content"]
    # the assistant turns went back as the model wrote them (names bash / str_replace_based_edit_tool)
    replayed = [b for b in _sent(emu, 3)["messages"][1]["content"] if b["type"] == "tool_use"]
    assert [b["name"] for b in replayed] == ["str_replace_based_edit_tool"] * 2
    calls = [i for i in result.new_items if isinstance(i, ToolCall)]
    assert [c.name for c in calls] == ["str_replace_based_edit_tool", "str_replace_based_edit_tool", "shell", "str_replace_based_edit_tool", "shell"]  # fmt: skip
    assert json.loads(calls[2].arguments) == {"command": "python3 -c 'import a; print(a.x + 1)'"}
    assert calls[0].state_for("native", kind="text_editor").payload == {"max_characters": 4000}  # type: ignore[union-attr]
    executed = [s.name for s in spans.named("execute_tool")]
    assert executed.count("execute_tool shell") == 2
    shell_span = next(s for s in spans.named("execute_tool shell"))
    assert shell_span.attributes is not None and shell_span.attributes["agentcore.tool.native"] == "bash"


async def test_shell_policy_sees_each_bash_command(emu: AnthropicEmulator) -> None:
    emu.queue(AnthropicReply(content=[_use("bash", {"command": "echo ok && rm -rf /tmp/x"}, "toolu_9")]))
    emu.queue(Reply(text="gave up"))
    await run_under_rm_policy(_model(emu))
    (out,) = _results(_sent(emu, 1))
    assert out["is_error"] and "refused by guardrail" in out["content"] and "rm" in out["content"]


async def test_a_bash_call_pauses_for_approval_then_runs(
    emu: AnthropicEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTCORE_HOME", str(tmp_path))
    emu.queue(
        AnthropicReply(content=[_use("bash", {"command": "echo approved > flag; cat flag"}, "toolu_7")])
    )
    emu.queue(Reply(text="ran it"))
    await shell_runs_once_approved(_model(emu))
    (out,) = _results(_sent(emu, 1))
    assert out == {
        "type": "tool_result",
        "tool_use_id": "toolu_7",
        "content": "approved\n",
        "is_error": False,
    }


async def test_native_tools_off_keeps_the_function_tools(emu: AnthropicEmulator) -> None:
    sandbox = local_sandbox()
    emu.queue(Reply(text="fine"))
    agent = Agent(name="coder", model=_model(emu), sandbox=sandbox, native_tools="off")
    try:
        await Runner.run(agent, "hi")
    finally:
        await sandbox.close()
    assert all("type" not in t for t in _sent(emu, 0)["tools"])
    assert "shell" in [t["name"] for t in _sent(emu, 0)["tools"]]


# --------------------------------------------------------------------------- moving between vendors


async def test_an_openai_shell_call_continues_on_anthropic_and_a_bash_call_on_openai(
    emu: AnthropicEmulator, openai_emu: OpenAIResponsesEmulator
) -> None:
    sandbox = local_sandbox()
    openai_emu.script_items(
        {"type": "shell_call", "action": {"commands": ["echo one > one.txt", "cat one.txt"]}}
    )
    openai_emu.queue(Reply(), Reply(text="wrote one"))
    gpt = OpenAIResponsesModel("gpt-5.1", base_url=openai_emu.base_url + "/v1", api_key="test-key")
    await sandbox.start()
    try:
        first = await Runner.run(Agent(name="coder", model=gpt, sandbox=sandbox), "write one.txt")
        history: list[Item] = [*first.items, UserMessage.of("now two")]
        emu.queue(
            AnthropicReply(content=[_use("bash", {"command": "cat one.txt; echo two > two.txt"}, "toolu_b1")])
        )
        emu.queue(Reply(text="wrote two"))
        second = await Runner.run(Agent(name="coder", model=_model(emu), sandbox=sandbox), history)
        assert second.final_output == "wrote two"
        history = [*second.items, UserMessage.of("and three")]
        openai_emu.queue(
            Reply(tool_calls=[ToolCallReply("shell", {"command": "cat two.txt"}, "call_f1")]),
            Reply(text="three"),
        )
        third = await Runner.run(Agent(name="coder", model=gpt, sandbox=sandbox), history)
        assert third.final_output == "three"
    finally:
        await sandbox.close()
    # on Anthropic, the OpenAI shell_call is a tool_use (a valid id) answered by its output
    sent = _sent(emu, 0)["messages"]
    uses = [b for m in sent for b in m["content"] if b["type"] == "tool_use"]
    assert uses[0]["name"] == "shell" and uses[0]["input"]["commands"] == [
        "echo one > one.txt",
        "cat one.txt",
    ]
    answered = [b for m in sent for b in m["content"] if b["type"] == "tool_result"]
    assert answered[0]["tool_use_id"] == uses[0]["id"] and "one" in answered[0]["content"]
    assert _results(_sent(emu, 1))[0]["content"] == "one\n"
    # on OpenAI (a model without native shell here: gpt-5.1 has it, so the bash call is a function call)
    items = _sent(openai_emu, 2)["input"]
    bash = next(i for i in items if i.get("type") == "function_call")
    assert bash["name"] == "shell" and json.loads(bash["arguments"]) == {
        "command": "cat one.txt; echo two > two.txt"
    }
    out = next(i for i in items if i.get("type") == "function_call_output")
    assert out["call_id"] == bash["call_id"] == "toolu_b1" and out["output"] == "one\n"
    assert any(i.get("type") == "shell_call" for i in items)  # its own native call replayed as it came
    last = _results_openai(_sent(openai_emu, 3))
    assert last["output"].startswith("two")


def _results_openai(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = body["input"][-1]
    return out


async def test_a_streamed_bash_call_and_a_forced_shell_choice(emu: AnthropicEmulator) -> None:
    from agentcore.model import ModelResponseDone, ModelSettings

    request = ModelRequest(
        instructions=None,
        items=[UserMessage.of("run it")],
        tools=SPECS,
        native_tools=("shell", "apply_patch", "bash", "text_editor"),
        settings=ModelSettings(tool_choice="shell"),  # the function tool bash stands in for
    )
    emu.queue(AnthropicReply(content=[_use("bash", {"command": "ls -la"}, "toolu_s1")]))
    events = [e async for e in _model(emu).stream(request)]
    assert _sent(emu, 0)["tool_choice"] == {"type": "tool", "name": "bash"}
    done = events[-1]
    assert isinstance(done, ModelResponseDone)
    (call,) = done.response.items
    assert isinstance(call, ToolCall) and call.name == "shell" and call.state_for("native", kind="bash")
    assert json.loads(call.arguments) == {"command": "ls -la"}


async def test_a_transcript_with_bash_and_editor_calls_continues_on_gemini_and_chat(
    emu: AnthropicEmulator,
) -> None:
    from agentcore.providers.gemini.generate_content import GeminiModel
    from agentcore.providers.openai.chat import OpenAIChatModel
    from tests.emulators.gemini import MODEL as GEMINI
    from tests.emulators.gemini import GeminiEmulator
    from tests.emulators.openai_chat import ChatCompletionsEmulator

    sandbox = local_sandbox()
    emu.queue(
        AnthropicReply(
            content=[
                _use("str_replace_based_edit_tool", {"command": "create", "path": "n.txt", "file_text": "7\n"}, "toolu_g1"),
                _use("bash", {"command": "cat n.txt"}, "toolu_g2"),
            ]
        ),
        Reply(text="n is 7"),
    )  # fmt: skip
    try:
        first = await Runner.run(Agent(name="coder", model=_model(emu), sandbox=sandbox), "write n.txt")
    finally:
        await sandbox.close()
    history: list[Item] = [*first.items, UserMessage.of("and n + 1?")]
    with GeminiEmulator() as gemini, ChatCompletionsEmulator() as chat:
        gemini.queue(Reply(text="8"))
        chat.queue(Reply(text="8"))
        on_gemini = await GeminiModel(GEMINI, base_url=gemini.base_url, api_key="test-key").respond(
            ModelRequest(instructions=None, items=history)
        )
        on_chat = await OpenAIChatModel("llama3", base_url=chat.base_url + "/v1", api_key="test-key").respond(
            ModelRequest(instructions=None, items=history)
        )
        sent_gemini = json.dumps(gemini.requests[0].body)
        sent_chat = chat.requests[0].body["messages"]
    assert on_gemini.text == "8" and on_chat.text == "8"
    assert '"name": "shell"' in sent_gemini and '"command": "cat n.txt"' in sent_gemini
    calls = [c for m in sent_chat if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    assert [c["function"]["name"] for c in calls] == ["str_replace_based_edit_tool", "shell"]
    assert [m["content"] for m in sent_chat if m["role"] == "tool"] == [
        "Successfully created file n.txt",
        "7\n",
    ]


async def test_sonnet_3_7_editor_calls_are_native_too(emu: AnthropicEmulator) -> None:
    sandbox = local_sandbox()
    model = "claude-3-7-sonnet-20250219"
    emu.queue(
        AnthropicReply(
            content=[
                _use("str_replace_editor", {"command": "create", "path": "a.txt", "file_text": "one\n"}, "toolu_o1"),
                _use("str_replace_editor", {"command": "insert", "path": "a.txt", "insert_line": 1, "new_str": "two"}, "toolu_o2"),
                _use("str_replace_editor", {"command": "undo_edit", "path": "a.txt"}, "toolu_o3"),
            ]
        ),
        Reply(text="ok"),
    )  # fmt: skip
    await sandbox.start()
    try:
        result = await Runner.run(Agent(name="coder", model=_model(emu, model), sandbox=sandbox), "edit")
        # the calls of one turn ran one after the other, in order: the insert found the file just created
        assert (await sandbox.read_file("a.txt")).decode() == "one\ntwo\n"
    finally:
        await sandbox.close()
    assert result.final_output == "ok"
    created, inserted, undone = _results(_sent(emu, 1))
    assert not created["is_error"] and not inserted["is_error"]
    assert undone["is_error"] and "undo_edit is not supported" in undone["content"]
