# ruff: noqa: F811  (pytest fixtures imported from anthropic_support are redefined as test parameters)
"""Issue 13, Anthropic: the recorded server-tool answers (code execution, text-editor code execution,
web fetch errors, container reuse) through the adapter. The SDK parses each recorded body; decoding gives
``HostedToolUse`` items; encoding the items again gives back the recorded blocks, which the emulator
accepts as the assistant turn of the next request."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
import yaml
from anthropic.types import Message

from agentcore.hosted import code_execution
from agentcore.messages import HostedToolUse, Item, UserMessage
from agentcore.model import ModelRequest
from agentcore.providers.anthropic.decode import BlockDecoder, StreamAssembler
from agentcore.providers.anthropic.encode import RequestEncoder
from agentcore.providers.anthropic.model import AnthropicModel
from tests.emulators.anthropic import AnthropicEmulator, AnthropicReply
from tests.emulators.base import Reply
from tests.providers.anthropic_support import emu, model, strip_cache  # noqa: F401  (fixtures)
from tests.providers.harness import CASSETTES as CASSETTE_ROOT

CASSETTES = CASSETTE_ROOT / "anthropic"
needs_cassettes = pytest.mark.skipif(not CASSETTES.is_dir(), reason="../shared/cassettes is not available")
MODEL = "claude-sonnet-4-5"


def _events(text: str | bytes) -> list[dict[str, Any]]:
    if isinstance(text, bytes):
        text = gzip.decompress(text).decode()
    lines = [line.strip() for line in text.splitlines()]
    return [json.loads(line[5:]) for line in lines if line.startswith("data:")]


def _assemble(events: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[int, str]]:
    asm = StreamAssembler(MODEL)
    for event in events:
        asm.feed(event)
    return asm.final(), asm.raw_inputs


def server_answers() -> list[tuple[str, dict[str, Any]]]:
    """Every recorded Anthropic message with server-tool blocks (streams assembled)."""
    if not CASSETTES.is_dir():
        return []
    out: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        for n, interaction in enumerate(yaml.safe_load(path.read_text())["interactions"]):
            response = interaction["response"]
            if "anthropic.com" not in interaction["request"]["uri"] or response["status"]["code"] != 200:
                continue
            if "parsed_body" in response:
                out.append((f"{path.stem}#{n}", response["parsed_body"]))
            else:
                out.append((f"{path.stem}#{n}", _assemble(_events(response["body"]["string"]))[0]))
    for path in sorted(CASSETTES.glob("*.json")):
        body = json.loads(path.read_text())
        if body.get("type") == "message":
            out.append((path.name, body))
    for path in sorted(CASSETTES.glob("*.chunks.txt")):
        events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        out.append((path.name, _assemble(events)[0]))
    return [
        (name, body) for name, body in out if any(b["type"] == "server_tool_use" for b in body["content"])
    ]


ANSWERS = server_answers()


def fresh(container: dict[str, Any] | None) -> dict[str, Any] | None:
    """A recorded container as if it had just been issued (the recordings' have expired since)."""
    return None if container is None else {**container, "expires_at": "2999-01-01T00:00:00Z"}


def unsigned(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``blocks`` without thinking signatures (the emulator signs the thinking it serves itself)."""
    return [
        {k: v for k, v in b.items() if k != "signature"} if b["type"] == "thinking" else b for b in blocks
    ]


def reencoded(items: list[Item]) -> list[dict[str, Any]]:
    encoder = RequestEncoder(MODEL, max_tokens=100, thinking=None, caching=False, sampling=False)
    return [json.loads(block) for item in items for block in encoder._encoded(item).blocks]


@needs_cassettes
def test_the_recordings_with_server_blocks_are_all_here() -> None:
    names = {name.split("#")[0] for name, _ in ANSWERS}
    assert {
        "anthropic-code-execution-20250825.1.json",
        "anthropic-code-execution-20250825.1.chunks.txt",
        "anthropic-web-fetch-tool.error.json",
        "test_anthropic_code_execution_tool_container_reuse",
        "test_anthropic_text_editor_code_execution_tool",
    } <= names


@needs_cassettes
@pytest.mark.parametrize(("name", "body"), ANSWERS, ids=[n for n, _ in ANSWERS])
def test_a_recorded_answer_decodes_to_hosted_items_and_encodes_back_to_its_blocks(
    name: str, body: dict[str, Any]
) -> None:
    message = Message.model_validate(body)  # the real SDK reads the recorded body
    assert message.stop_reason == "end_turn"
    response = BlockDecoder(MODEL, "b").response(body)
    hosted = [i for i in response.items if isinstance(i, HostedToolUse)]
    uses = [b for b in body["content"] if b["type"] == "server_tool_use"]
    assert [h.call_id for h in hosted] == [u["id"] for u in uses]
    assert all(h.kind in ("code_execution", "web_fetch") and h.status != "incomplete" for h in hosted)
    assert reencoded(response.items) == body["content"]  # byte-for-byte the same blocks, in order
    assert response.usage.server_tool_requests == {
        k.removesuffix("_requests"): n for k, n in body["usage"]["server_tool_use"].items() if n
    }


@needs_cassettes
def test_code_execution_and_text_editor_results_read_as_the_recording_says() -> None:
    body = dict(ANSWERS)["anthropic-code-execution-20250825.1.json"]
    create, run = [i for i in BlockDecoder(MODEL, "b").response(body).items if isinstance(i, HostedToolUse)]
    assert (create.name, create.input["command"], create.output) == (
        "text_editor_code_execution",
        "create",
        "file created",
    )
    assert create.code is None  # a text editor command is not code
    assert run.name == "bash_code_execution" and run.code == "python /tmp/fibonacci.py"
    assert run.output.startswith("The 10th Fibonacci number is: 55") and not run.is_error
    assert "55" in run.render()


@needs_cassettes
def test_parallel_text_editor_calls_keep_their_order_and_their_errors() -> None:
    body = dict(ANSWERS)["test_anthropic_text_editor_code_execution_tool#0"]
    items = BlockDecoder(MODEL, "b").response(body).items
    kinds = [type(i).__name__ for i in items]
    assert (
        kinds
        == ["AssistantMessage", "HostedToolUse", "HostedToolUse", "AssistantMessage"]
        + [
            "HostedToolUse",
            "AssistantMessage",
        ]
        * 2
    )
    first, second = items[1], items[2]
    assert isinstance(first, HostedToolUse) and isinstance(second, HostedToolUse)
    assert len(first.state) == 1 and len(second.state) == 3  # use A | use B, result A, result B
    assert first.is_error and first.output.startswith(
        "error: unavailable: Tool response parsing error for create"
    )
    assert second.is_error and "for view" in second.output
    view = items[-2]
    assert isinstance(view, HostedToolUse) and view.output == "Hello, world!" and not view.is_error


@needs_cassettes
def test_a_recorded_web_fetch_error_is_a_failed_fetch() -> None:
    body = dict(ANSWERS)["anthropic-web-fetch-tool.error.json"]
    response = BlockDecoder(MODEL, "b").response(body)
    (fetch,) = [i for i in response.items if isinstance(i, HostedToolUse)]
    assert (fetch.kind, fetch.is_error, fetch.status, fetch.output) == (
        "web_fetch",
        True,
        "failed",
        "error: unavailable",
    )
    assert fetch.input["url"].endswith("ai.pdf")
    assert response.usage.server_tool_requests == {"web_fetch": 1}


@needs_cassettes
@pytest.mark.parametrize(("name", "body"), ANSWERS, ids=[n for n, _ in ANSWERS])
async def test_the_emulator_serves_a_recorded_answer_and_takes_it_back(
    emu: AnthropicEmulator, name: str, body: dict[str, Any]
) -> None:
    container = fresh(body.get("container"))
    emu.queue(AnthropicReply(content=body["content"], container=container), Reply(text="ok"))
    model = AnthropicModel(MODEL, base_url=emu.base_url, api_key="k")
    items: list[Item] = [UserMessage.of("Go")]
    request = ModelRequest(None, items, hosted_tools=(code_execution(),), cache={})
    first = await model.respond(request)
    more = ModelRequest(
        None, [*items, *first.items, UserMessage.of("And?")], hosted_tools=(code_execution(),)
    )
    more.cache = request.cache
    await model.respond(more)
    sent = emu.requests[-1].body
    assert unsigned(strip_cache(sent["messages"][1]["content"])) == unsigned(body["content"])
    if body.get("container"):
        assert sent["container"] == body["container"]["id"]
    await model.aclose()


@needs_cassettes
async def test_container_reuse_matches_the_recorded_requests(emu: AnthropicEmulator) -> None:
    recorded = yaml.safe_load(
        (CASSETTES / "test_anthropic_code_execution_tool_container_reuse.yaml").read_text()
    )
    (one, two) = recorded["interactions"]
    answer = one["response"]["parsed_body"]
    emu.queue(
        AnthropicReply(content=answer["content"], container=fresh(answer["container"])), Reply(text="ok")
    )
    model = AnthropicModel("claude-sonnet-4-5", base_url=emu.base_url, api_key="k")
    first_question = one["request"]["parsed_body"]["messages"][0]["content"][0]["text"]
    second_question = two["request"]["parsed_body"]["messages"][2]["content"][0]["text"]
    cache: dict[str, Any] = {}
    items: list[Item] = [UserMessage.of(first_question)]
    system = one["request"]["parsed_body"]["system"][0]["text"]
    first = await model.respond(ModelRequest(system, items, hosted_tools=(code_execution(),), cache=cache))
    items += [*first.items, UserMessage.of(second_question)]
    await model.respond(ModelRequest(system, items, hosted_tools=(code_execution(),), cache=cache))
    ours, theirs = emu.requests[-1].body, two["request"]["parsed_body"]
    assert ours["container"] == theirs["container"]
    assert strip_cache(ours["messages"]) == theirs["messages"]
    assert strip_cache(ours["system"]) == theirs["system"]
    # the recording used the 2026-01-20 tool version through the SDK's beta client; this adapter declares
    # the 2025-08-25 version with its beta header
    assert strip_cache(ours["tools"]) == [{"type": "code_execution_20250825", "name": "code_execution"}]
    await model.aclose()
