"""Issue 11, Gemini (``google`` and ``google-interactions``): a clean install without httpx (2),
malformed answers (5), tool arguments that are not JSON (4, as the other adapters do) and a missing
API key (17). Test names carry the item number."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentcore.errors import MissingCredentialsError, ModelStreamError, ServerError
from agentcore.messages import ToolCall, UserMessage
from agentcore.model import Model, ModelRequest, ModelResponseDone
from agentcore.providers.gemini.generate_content import GeminiModel
from agentcore.providers.gemini.interactions import GeminiInteractionsModel
from agentcore.registry import resolve_model
from tests.emulators.base import Reply
from tests.emulators.gemini import MODEL, GeminiEmulator
from tests.providers.anthropic_support import CannedServer, sse
from tests.providers.harness import emulator_fixture

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = [GeminiModel, GeminiInteractionsModel]
emulator = emulator_fixture(GeminiEmulator, "emulator")


def request() -> ModelRequest:
    return ModelRequest(None, [UserMessage.of("hi")])


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch


# --------------------------------------------------------------------------- item 2: clean install

NO_HTTPX = """
import asyncio, sys
sys.modules["httpx"] = None  # what a clean install has: httpx is no dependency of ours or of google-genai
from agentcore.messages import UserMessage
from agentcore.model import ModelRequest
from agentcore.registry import resolve_model

async def main(base_url):
    for spec in ("google:{model}", "google-interactions:{model}"):
        model = resolve_model(spec + "@" + base_url, api_key="k")
        response = await model.respond(ModelRequest(None, [UserMessage.of("hi")]))
        assert response.text == "ok", response.text
        await model.aclose()
    assert "httpx" not in [m for m in sys.modules if sys.modules[m] is not None]

asyncio.run(main(sys.argv[1]))
print("both adapters answered")
"""


def test_item2_the_gemini_adapters_work_without_httpx(emulator: GeminiEmulator) -> None:
    script = NO_HTTPX.replace("{model}", MODEL)
    done = subprocess.run(
        [sys.executable, "-c", script, emulator.base_url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "both adapters answered" in done.stdout


def test_item2_no_provider_module_imports_httpx() -> None:
    """httpx is not a dependency (google-genai and the vendor SDKs use httpx2)."""
    for path in (ROOT / "providers").rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            assert not (words[:2] == ["import", "httpx"] or words[:2] == ["from", "httpx"]), f"{path}: {line}"


# --------------------------------------------------------------------------- item 5: malformed answers


@pytest.mark.parametrize("adapter", ADAPTERS, ids=["google", "google-interactions"])
@pytest.mark.parametrize(
    "body", [b"<html>502 Bad Gateway</html>", b'["not", "an", "object"]'], ids=["html", "json_list"]
)
async def test_item5_a_200_that_is_not_an_answer_is_a_retryable_server_error(
    adapter: type[Model], body: bytes
) -> None:
    with CannedServer((200, "application/json", body)) as server:
        model = adapter(MODEL, base_url=server.base_url, api_key="k")  # type: ignore[call-arg]
        with pytest.raises(ServerError) as info:
            await model.respond(request())
        await model.aclose()
    assert info.value.retryable and info.value.status_code == 200


GOOD_CHUNK = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}}],
    "usageMetadata": {"promptTokenCount": 2, "candidatesTokenCount": 1},
}
GOOD_EVENT = {"event_type": "interaction.created", "interaction": {"id": "i1", "status": "in_progress"}}


@pytest.mark.parametrize(
    ("adapter", "first"),
    [(GeminiModel, GOOD_CHUNK), (GeminiInteractionsModel, GOOD_EVENT)],
    ids=["google", "google-interactions"],
)
@pytest.mark.parametrize("garbage", ["{not json", '"a string"'], ids=["not_json", "not_an_object"])
async def test_item5_a_garbled_stream_line_is_a_retryable_stream_error(
    adapter: type[Model], first: dict[str, Any], garbage: str
) -> None:
    with CannedServer((200, "text/event-stream", sse(json.dumps(first), garbage))) as server:
        model = adapter(MODEL, base_url=server.base_url, api_key="k")  # type: ignore[call-arg]
        with pytest.raises(ModelStreamError) as info:
            async for _ in model.stream(request()):
                pass
        await model.aclose()
    assert info.value.retryable


# --------------------------------------------------------------------------- item 4 (as elsewhere)


async def test_item4_streamed_interaction_arguments_that_are_not_json_stay_as_written() -> None:
    call = {"type": "function_call", "id": "c1", "name": "get_weather", "arguments": {}}
    events = [
        GOOD_EVENT,
        {"event_type": "step.start", "index": 0, "step": call},
        {
            "event_type": "step.delta",
            "index": 0,
            "delta": {"type": "arguments_delta", "arguments": '{"city": "Par'},
        },
        {"event_type": "step.stop", "index": 0},
        {"event_type": "interaction.completed", "interaction": {"id": "i1", "status": "requires_action"}},
    ]
    with CannedServer((200, "text/event-stream", sse(*(json.dumps(e) for e in events)))) as server:
        model = GeminiInteractionsModel(MODEL, base_url=server.base_url, api_key="k", store=False)
        done = [e async for e in model.stream(request())][-1]
        await model.aclose()
    assert isinstance(done, ModelResponseDone)
    (tool_call,) = done.response.items
    assert isinstance(tool_call, ToolCall) and tool_call.arguments == '{"city": "Par'  # the executor says why


# --------------------------------------------------------------------------- item 17: missing key


@pytest.mark.parametrize("spec", ["google", "google-interactions"])
def test_item17_a_missing_key_is_reported_when_the_adapter_is_built(
    emulator: GeminiEmulator, no_keys: pytest.MonkeyPatch, spec: str
) -> None:
    with pytest.raises(MissingCredentialsError) as info:
        resolve_model(f"{spec}:{MODEL}@{emulator.base_url}")
    assert info.value.variable == "GEMINI_API_KEY" and info.value.provider == spec
    assert "GEMINI_API_KEY" in str(info.value) and "GOOGLE_API_KEY" in str(info.value)
    assert emulator.requests == []  # before any network work


@pytest.mark.parametrize("variable", ["GEMINI_API_KEY", "GOOGLE_API_KEY"])
async def test_item17_the_key_is_read_from_either_variable(
    emulator: GeminiEmulator, no_keys: pytest.MonkeyPatch, variable: str
) -> None:
    no_keys.setenv(variable, "from-env")
    model = resolve_model(f"google:{MODEL}@{emulator.base_url}")
    response = await model.respond(request())
    assert response.text and emulator.requests[-1].headers["x-goog-api-key"] == "from-env"
    await model.aclose()


@pytest.mark.parametrize("adapter", ADAPTERS, ids=["google", "google-interactions"])
@pytest.mark.parametrize("fault", ["body", "stream"])
async def test_item5_the_emulator_injects_malformed_answers_as_typed_retryable_errors(
    emulator: GeminiEmulator, adapter: type[Model], fault: str
) -> None:
    emulator.queue(Reply(text="garbled", malformed=fault))
    model = adapter(MODEL, base_url=emulator.base_url, api_key="k")  # type: ignore[call-arg]
    with pytest.raises(ServerError if fault == "body" else ModelStreamError) as info:
        if fault == "body":
            await model.respond(request())
        else:
            async for _ in model.stream(request()):
                pass
    await model.aclose()
    assert info.value.retryable
