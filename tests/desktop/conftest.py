"""Fixtures of the desktop tests: a started sandbox with a desktop, on the local and docker backends.

Under ``CI=true`` a missing backend, Xvfb or xdotool fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agentcore.model import Model
from agentcore.sandboxes.base import Sandbox
from agentcore.sandboxes.desktop import DesktopConfig
from tests.emulators.base import Reply
from tests.sandboxes.backends import BACKENDS, sandbox_config

APP = Path(__file__).with_name("app.py")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(name: str) -> str | None:
    reason = BACKENDS[name].unavailable()
    if reason is None and name == "local":  # the local sandbox runs the host's /usr
        missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
        if missing:
            reason = f"{', '.join(missing)} not installed (apt-get install xvfb xdotool)"
    return reason


@pytest.fixture(params=["local", "docker"])
def backend_name(request: pytest.FixtureRequest) -> str:
    reason = _unavailable(request.param)
    if reason is not None:
        if IN_CI:
            pytest.fail(f"desktop on {request.param} is required in CI: {reason}")
        pytest.skip(f"desktop on {request.param} unavailable: {reason}")
    return str(request.param)


async def start_desktop(backend_name: str, desktop: DesktopConfig) -> Sandbox:
    config = sandbox_config(desktop=desktop, memory_mb=512, pids=128, tmp_mb=64)
    sandbox = await BACKENDS[backend_name].factory(config)
    await sandbox.start()
    return sandbox


@pytest.fixture
async def desktop_sandbox(backend_name: str) -> AsyncIterator[Sandbox]:
    sandbox = await start_desktop(backend_name, DesktopConfig())
    try:
        yield sandbox
    finally:
        await sandbox.close()


async def open_app(sandbox: Sandbox) -> None:
    """Start the test's Tk application and wait until it has drawn (it writes state.json)."""
    import asyncio

    await sandbox.upload(APP, "app.py")
    await sandbox.desktop.launch(
        ["python3", f"{sandbox.config.workdir}/app.py", f"{sandbox.config.workdir}/state.json"]
    )
    for _ in range(400):
        if await sandbox.stat("state.json") is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the test application did not start")


VIEW = (640, 400)  # what the vendors see of a small_app_desktop (a 1280x800 screen halved)
BUTTON_V = (80, 45)  # the app's button, in VIEW coordinates


CLAUDE_COMPUTER_BODY = {
    "tools": [
        {
            "type": "computer_20250124",
            "name": "computer",
            "display_width_px": VIEW[0],
            "display_height_px": VIEW[1],
        }
    ]
}
"""A Messages body declaring Claude's computer tool at VIEW, for the emulator's rules."""


async def _app_desktop(backend_name: str, desktop: DesktopConfig) -> AsyncIterator[Sandbox]:
    sandbox = await start_desktop(backend_name, desktop)
    try:
        if desktop.max_image is not None:
            assert sandbox.desktop.scaling.view == VIEW
        await open_app(sandbox)
        yield sandbox
    finally:
        await sandbox.close()


@pytest.fixture
async def app_desktop(backend_name: str) -> AsyncIterator[Sandbox]:
    """A desktop at full size with the test's app open."""
    async for sandbox in _app_desktop(backend_name, DesktopConfig()):
        yield sandbox


@pytest.fixture
async def small_app_desktop(backend_name: str) -> AsyncIterator[Sandbox]:
    """A desktop shown to the model as VIEW (screenshots at most 640x480), with the test's app open."""
    async for sandbox in _app_desktop(backend_name, DesktopConfig(max_image=(640, 480))):
        yield sandbox


def computer_use_model(emulator: Any) -> Model:
    """OpenAI's ``computer-use-preview`` through the Responses emulator."""
    from agentcore.providers.openai.responses import OpenAIResponsesModel

    return OpenAIResponsesModel("computer-use-preview", base_url=emulator.base_url + "/v1", api_key="k")


def script_computer_calls(emulator: Any, actions: list[dict[str, Any]], final: str) -> Model:
    """Script the Responses emulator to ask for ``actions`` one ``computer_call`` a turn, then answer
    ``final``; the ``computer-use-preview`` model that talks to it."""
    for action in actions:
        emulator.script_items({"type": "computer_call", "action": action})
        emulator.queue(Reply())
    emulator.queue(Reply(text=final))
    return computer_use_model(emulator)
