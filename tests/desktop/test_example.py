"""examples/desktop/agent.py completes its task with each vendor: against the emulators (a scripted model
speaking the vendor's native computer-use actions, through the real SDK), and live when the vendor's
key is set (skipped otherwise)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from agentcore.model import Model
from tests.emulators.base import Reply, ToolCallReply
from tests.providers.harness import started

ROOT = Path(__file__).resolve().parents[2]
DOCS_IMG = ROOT / "docs" / "img" / "computer-use-example.png"
# the form's window is at (40, 40); shown to the model at 1024x640 (0.8 of the screen)
BUTTON, ENTRY = (112, 89), (224, 132)
EMAIL = "agent@example.com"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "desktop_example", ROOT / "examples" / "desktop" / "agent.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _script(vendor: str, h: Any) -> Model:
    """Queue the vendor-native actions of the task on ``h``'s emulator; the adapter that speaks them."""
    if vendor == "anthropic":
        from agentcore.providers.anthropic.model import AnthropicModel

        steps = [
            {"action": "screenshot"},
            {"action": "left_click", "coordinate": list(BUTTON)},
            {"action": "left_click", "coordinate": list(ENTRY)},
            {"action": "type", "text": EMAIL},
            {"action": "key", "text": "Return"},
        ]
        h.emulator.queue(
            *[Reply(tool_calls=[ToolCallReply("computer", s)]) for s in steps], Reply(text="done")
        )
        return AnthropicModel("claude-sonnet-4-5", base_url=h.emulator.base_url, api_key="k")
    if vendor == "openai":
        from agentcore.providers.openai.responses import OpenAIResponsesModel

        actions = [
            {"type": "screenshot"},
            {"type": "click", "button": "left", "x": BUTTON[0], "y": BUTTON[1]},
            {"type": "click", "button": "left", "x": ENTRY[0], "y": ENTRY[1]},
            {"type": "type", "text": EMAIL},
            {"type": "keypress", "keys": ["ENTER"]},
        ]
        for action in actions:
            h.emulator.script_items({"type": "computer_call", "action": action})
            h.emulator.queue(Reply())
        h.emulator.queue(Reply(text="done"))
        return OpenAIResponsesModel("computer-use-preview", base_url=h.emulator.base_url + "/v1", api_key="k")
    from agentcore.providers.gemini.generate_content import GeminiModel

    def norm(p: tuple[int, int]) -> dict[str, int]:
        return {"x": p[0] * 1000 // 1024, "y": p[1] * 1000 // 640}

    calls = [
        ToolCallReply("click_at", norm(BUTTON)),
        ToolCallReply("type_text_at", {**norm(ENTRY), "text": EMAIL, "press_enter": True}),
    ]
    h.emulator.queue(*[Reply(tool_calls=[c]) for c in calls], Reply(text="done"))
    return GeminiModel("gemini-2.5-computer-use-preview-10-2025", base_url=h.emulator.base_url, api_key="k")


HARNESS = {"anthropic": "anthropic", "openai": "openai", "google": "google"}


@pytest.mark.parametrize("vendor", ["anthropic", "openai", "google"])
async def test_the_example_completes_its_task_against_each_emulator(backend_name: str, vendor: str) -> None:
    example = _example()
    with started(HARNESS[vendor]) as h:
        state = await example.run(_script(vendor, h), backend_name)
    assert state["subscribed"] is True and state["email"] == EMAIL and state["answer"] == "done"
    if (
        vendor == "anthropic"
        and backend_name == "local"
        and os.environ.get("AGENTCORE_REGENERATE_DOCS") == "1"
    ):
        DOCS_IMG.write_bytes(state["screenshot"])  # docs/computer-use.md shows it


LIVE = {
    "anthropic": ("ANTHROPIC_API_KEY", "anthropic:claude-sonnet-4-5"),
    "openai": ("OPENAI_API_KEY", "openai:computer-use-preview"),
    "google": ("GEMINI_API_KEY", "google:gemini-2.5-computer-use-preview-10-2025"),
}


@pytest.mark.parametrize("vendor", list(LIVE))
async def test_the_example_completes_its_task_live(vendor: str) -> None:
    key, model = LIVE[vendor]
    if not os.environ.get(key):
        pytest.skip(f"{key} is not set")
    state = await _example().run(model, "local")
    assert state["subscribed"] is True and state["email"] == EMAIL


def test_without_a_vendor_key_it_says_what_to_set() -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    proc = subprocess.run(
        [sys.executable, "examples/desktop/agent.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "ANTHROPIC_API_KEY" in proc.stderr
