"""Hosted tool work moving between vendors (issue 13): a conversation where each vendor searched the web
(with sources and citations) and ran code goes OpenAI Responses -> Anthropic -> Gemini (generateContent or
the Interactions API) -> OpenAI-compatible Chat.

Every hop is a real run through the adapters against the vendors' strict emulators: each vendor's own
hosted items come from its decoder (the emulators script the vendor's blocks: ``web_search_call`` /
``code_interpreter_call`` / ``url_citation``; ``server_tool_use`` + ``web_search_tool_result`` /
``bash_code_execution_tool_result`` + ``citations``; ``executableCode`` / ``codeExecutionResult`` +
``groundingMetadata``). The next vendor must accept the transcript (no 400), get no foreign block, and
still be able to read every earlier search's sources and every code run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentcore import Agent, Runner
from agentcore.hosted import code_execution, web_search
from agentcore.messages import AssistantMessage, HostedToolUse, Item, UserMessage
from tests.emulators.anthropic import AnthropicReply
from tests.emulators.anthropic_server_tools import cited_text, code_execution_blocks, web_search_blocks
from tests.emulators.base import Reply
from tests.providers import harness as harnesses
from tests.providers.harness import FAST, Harness

OPENAI_SOURCES = ["https://openai-src.example/a", "https://openai-src.example/b"]
ANTHROPIC_SOURCES = [
    ("https://anthropic-src.example/tides", "Tides"),
    ("https://anthropic-src.example/moon", "Moon"),
]
GEMINI_SOURCES = ["https://gemini-src.example/tea", "https://gemini-src.example/cafe"]
OPENAI_CODE, ANTHROPIC_CODE, GEMINI_CODE = "print(6 * 7)", "echo $((37 + 5))", "print(3 * 14)\n"

OPENAI_ITEMS = [
    {
        "type": "web_search_call",
        "status": "completed",
        "action": {
            "type": "search",
            "query": "openai query",
            "sources": [{"type": "url", "url": u} for u in OPENAI_SOURCES],
        },
    },
    {
        "type": "code_interpreter_call",
        "status": "completed",
        "code": OPENAI_CODE,
        "container_id": "cntr_1",
        "outputs": [{"type": "logs", "logs": "42\n"}],
    },
    {
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [
            {
                "type": "output_text",
                "text": "OpenAI says 42 (source).",
                "logprobs": [],
                "annotations": [
                    {
                        "type": "url_citation",
                        "url": OPENAI_SOURCES[0],
                        "title": "A",
                        "start_index": 15,
                        "end_index": 23,
                    }
                ],
            }
        ],
    },
]
GEMINI_GROUNDING = {
    "webSearchQueries": ["gemini query"],
    "groundingChunks": [{"web": {"uri": u, "title": u.rsplit("/", 1)[-1]}} for u in GEMINI_SOURCES],
    "groundingSupports": [{"segment": {"text": "Gemini says 42."}, "groundingChunkIndices": [0, 1]}],
}
ORDER = ["openai", "anthropic", "gemini", "openai-chat"]


def _script(name: str, h: Harness) -> None:
    """The hop's answer: its vendor's own search, code run and cited answer."""
    emu: Any = h.emulator
    if name == "openai":
        emu.script_items(*OPENAI_ITEMS)
        emu.queue(Reply())
    elif name == "anthropic":
        content = [
            *web_search_blocks("anthropic query", ANTHROPIC_SOURCES),
            *code_execution_blocks(ANTHROPIC_CODE, "42\n"),
            cited_text("Anthropic says 42.", *ANTHROPIC_SOURCES[0], "the tide is 42"),
        ]
        emu.queue(AnthropicReply(content=content))
    elif name == "google":
        emu.script_candidate(
            {"executableCode": {"code": GEMINI_CODE, "language": "PYTHON"}},
            {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "42\n"}},
            grounding_metadata=GEMINI_GROUNDING,
            sign=True,
        )
        emu.queue(Reply(text="Gemini says 42."))
    elif name == "google-interactions":
        emu.script_steps(
            {"type": "google_search_call", "id": "gs_1", "arguments": {"queries": ["gemini query"]}},
            {"type": "google_search_result", "call_id": "gs_1", "result": [{"search_suggestions": "<div/>"}]},
            {
                "type": "code_execution_call",
                "id": "ce_1",
                "arguments": {"code": GEMINI_CODE, "language": "python"},
            },
            {"type": "code_execution_result", "call_id": "ce_1", "result": "42\n"},
            annotations=[
                {"type": "url_citation", "url": u, "title": "t", "start_index": 0, "end_index": 15}
                for u in GEMINI_SOURCES
            ],
            usage={"grounding_tool_count": [{"type": "google_search", "count": 1}]},
        )
        emu.queue(Reply(text="Gemini says 42."))
    else:
        emu.queue(Reply(text="Chat read it all."))


# what each vendor left in the transcript, readable by the next: its sources and its code
LEFT = {
    "openai": ([*OPENAI_SOURCES], OPENAI_CODE),
    "anthropic": ([u for u, _ in ANTHROPIC_SOURCES], ANTHROPIC_CODE),
    "google": ([*GEMINI_SOURCES], GEMINI_CODE.strip()),
    "google-interactions": ([*GEMINI_SOURCES], GEMINI_CODE.strip()),
}
# wire markers of a vendor's own hosted blocks: never in another vendor's request
BLOCKS = {
    "openai": ("web_search_call", "code_interpreter_call", "url_citation"),
    "anthropic": ("server_tool_use", "web_search_tool_result", "encrypted_content", "encrypted_index"),
    "google": ("executableCode", "codeExecutionResult", "groundingMetadata"),
    "google-interactions": ("google_search_call", "code_execution_result", "search_suggestions"),
}


@pytest.fixture
def started() -> Iterator[Any]:
    live: dict[str, Harness] = {}

    def get(name: str) -> Harness:
        if name not in live:
            if name not in harnesses.available():
                pytest.fail(f"no harness for {name}")
            live[name] = harnesses.make(name)
            live[name].emulator.start()
        return live[name]

    yield get
    for h in live.values():
        h.emulator.stop()


@pytest.mark.parametrize("gemini", ["google", "google-interactions"])
async def test_hosted_work_moves_openai_anthropic_gemini_chat(gemini: str, started: Any) -> None:
    order = [gemini if n == "gemini" else n for n in ORDER]
    items: list[Item] = []
    for step, name in enumerate(order):
        h: Harness = started(name)
        _script(name, h)
        hosted = [] if name == "openai-chat" else [web_search(), code_execution()]
        agent = Agent(name=f"hop{step}", model=h.model(), hosted_tools=hosted)
        before = len(h.emulator.requests)
        result = await Runner.run(
            agent, [*items, UserMessage.of(f"Hop {step}: what do you find?")], retry=FAST
        )
        assert len(h.emulator.requests) == before + 1, f"{name} was asked once (no error, no retry)"
        sent = h.emulator.requests[-1].raw.decode()
        for earlier in order[:step]:
            sources, code = LEFT[earlier]
            for url in sources:
                assert url in sent, f"{name} cannot read {earlier}'s source {url}"
            assert code.replace("$", "") in sent.replace("$", ""), f"{name} cannot read {earlier}'s code"
            for marker in BLOCKS[earlier]:
                assert marker not in sent, f"{earlier}'s {marker} reached {name}"
        items = list(result.items)
        if name != "openai-chat":
            own = [i for i in result.items[-4:] if isinstance(i, HostedToolUse)]
            assert {i.kind for i in own} >= {"web_search", "code_execution"}, name
            assert any(s.url for i in own for s in i.sources), f"{name}'s search has its sources"
            answer = result.items[-1]
            assert isinstance(answer, AssistantMessage) and answer.citations, f"{name}'s answer cites"
    assert result.final_output == "Chat read it all."
