"""The Gemini emulator and the ``google`` adapter checked against real recordings (``../shared/cassettes/gemini``).

Both directions: google-genai's own types parse every recorded response (and our parser reads them),
the emulator accepts every recorded request, the emulator's answers parse on the SDK's public typed
path, and the requests the adapter sends have the keys and value types of the recorded ones. Skips
cleanly when ``../shared`` is absent.
"""

from __future__ import annotations

import gzip
import json
import re
from typing import Any

import httpx
import pytest
import yaml

from agentcore.messages import Item, ToolCall, ToolResult, UserMessage
from agentcore.model import ModelRequest, ToolSpec
from agentcore.providers.gemini.generate_content import GeminiModel
from tests.emulators.base import Reply, ToolCallReply
from tests.emulators.gemini import MODEL, GeminiEmulator
from tests.providers.harness import CASSETTES as CASSETTE_ROOT
from tests.providers.harness import emulator_fixture

CASSETTES = CASSETTE_ROOT / "gemini"


emulator = emulator_fixture(GeminiEmulator, "emulator")


def model_for(emu: GeminiEmulator, name: str = MODEL) -> GeminiModel:
    return GeminiModel(name, base_url=emu.base_url, api_key="test-key")


async def raw_post(emu: GeminiEmulator, body: Any, model: str = MODEL) -> httpx.Response:
    async with httpx.AsyncClient(base_url=emu.base_url, headers={"x-goog-api-key": "k"}) as client:
        return await client.post(f"/v1beta/models/{model}:generateContent", json=body)


def cassette(name: str) -> list[dict[str, Any]]:
    path = CASSETTES / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    return list(yaml.safe_load(path.read_text())["interactions"])


def response_bodies(interaction: dict[str, Any]) -> list[Any]:
    """Every GenerateContentResponse in one recorded answer (JSON, JSON array, gzip or SSE)."""
    resp = interaction["response"]
    if "parsed_body" in resp:
        return [resp["parsed_body"]]
    raw = resp["body"]["string"]
    if isinstance(raw, bytes):
        raw = gzip.decompress(raw).decode()
    if raw.lstrip().startswith("data:"):
        return [json.loads(chunk[5:]) for chunk in raw.split("\r\n\r\n") if chunk.startswith("data:")]
    data = json.loads(raw)
    return data if isinstance(data, list) else [data]


def request_body(interaction: dict[str, Any]) -> Any:
    req_ = interaction["request"]
    return req_["parsed_body"] if "parsed_body" in req_ else json.loads(req_["body"])


GENERATE_CASSETTES = [
    "test_google_model_stream.yaml",
    "test_google_streaming_tool_call_thought_signature.yaml",
    "test_google_tool_output.yaml",
    "test_tools_with_gemini_3_thought_signatures.yaml",
]


@pytest.mark.parametrize("name", GENERATE_CASSETTES)
def test_the_sdk_parses_every_recorded_response(name: str) -> None:
    from google.genai import types

    for interaction in cassette(name):
        for body in response_bodies(interaction):
            parsed = types.GenerateContentResponse.model_validate(body)
            assert parsed.candidates and parsed.usage_metadata is not None


@pytest.mark.parametrize("name", GENERATE_CASSETTES)
def test_our_parser_reads_every_recorded_response(name: str) -> None:
    from agentcore.providers.gemini.generate_content import _Assembler

    for interaction in cassette(name):
        asm = _Assembler("google", "m", streamed=len(response_bodies(interaction)) > 1)
        for body in response_bodies(interaction):
            asm.feed(body)
        response = asm.response()
        assert response.items and response.usage.input_tokens > 0
        for item in response.items:
            if isinstance(item, ToolCall) and "gemini-3" in json.dumps(response_bodies(interaction)):
                assert item.state[0].payload["signature"]  # the signature stays on the call


@pytest.mark.parametrize("name", GENERATE_CASSETTES)
async def test_the_emulator_accepts_every_recorded_request(emulator: GeminiEmulator, name: str) -> None:
    for interaction in cassette(name):
        model = re.search(r"models/([^:]+):", interaction["request"]["uri"]).group(1)  # type: ignore[union-attr]
        body = request_body(interaction)
        for content in body["contents"]:  # the recorded signatures were issued by the real service
            for part in content["parts"]:
                if "thoughtSignature" in part:
                    emulator.signatures[_canonical(part["thoughtSignature"])] = model
        r = await raw_post(emulator, body, model)
        assert r.status_code == 200, r.text


def _canonical(sig: str) -> str:
    raw = sig.replace("-", "+").replace("_", "/")
    return raw + "=" * (-len(raw) % 4)


def shape(value: Any) -> Any:
    """Keys (snake_case folded to lowerCamel) and value types, recursively."""
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


async def test_our_tool_loop_request_has_the_recorded_shape(emulator: GeminiEmulator) -> None:
    """Gemini 3 tool loop (llm-gemini recording): the second request carries call + signature + response."""
    recorded = request_body(cassette("test_tools_with_gemini_3_thought_signatures.yaml")[1])
    multiply = ToolSpec(
        "multiply", "Multiply two numbers.", recorded["tools"][0]["functionDeclarations"][0]["parameters"]
    )
    model = model_for(emulator, "gemini-3-flash-preview")
    emulator.queue(Reply(tool_calls=[ToolCallReply("multiply", {"y": 3, "x": 5})]), Reply(text="15"))
    items: list[Item] = [UserMessage.of("What is 5 times 3?")]
    first = await model.respond(ModelRequest(None, items, tools=[multiply]))
    items += [*first.items, ToolResult(call_id=first.items[0].call_id, name="multiply", output="15")]  # type: ignore[union-attr]
    await model.respond(ModelRequest(None, items, tools=[multiply]))
    ours = emulator.last_body
    recorded_model_turn = recorded["contents"][1]["parts"][-1]  # after llm-gemini's empty text part
    assert shape(ours["contents"][0]) == shape(recorded["contents"][0])
    assert shape(ours["contents"][1]["parts"][0]) == shape(recorded_model_turn)
    assert shape(ours["contents"][2]) == shape(recorded["contents"][2])


async def test_the_public_sdk_path_parses_the_emulator(emulator: GeminiEmulator) -> None:
    """The emulator's answers are what google-genai's own typed path expects."""
    from google import genai
    from google.genai import types

    client = genai.Client(
        api_key="k", http_options=types.HttpOptions(base_url=emulator.base_url, api_version="v1beta")
    )
    emulator.queue(
        Reply(tool_calls=[ToolCallReply("get_time", {})], reasoning="hm"), Reply(text="Streamed text.")
    )
    r = await client.aio.models.generate_content(model=MODEL, contents="hi")
    assert r.function_calls and r.function_calls[0].name == "get_time"
    assert r.candidates[0].content.parts[-1].thought_signature  # type: ignore[index, union-attr]
    chunks = [c async for c in await client.aio.models.generate_content_stream(model=MODEL, contents="hi")]
    assert "".join(c.text or "" for c in chunks) == "Streamed text."
