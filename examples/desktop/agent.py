"""Computer use: an agent sees a desktop in a sandbox and fills in a form, with any of the three vendors.

    python examples/desktop/agent.py                                    # the model of the vendor key you have
    python examples/desktop/agent.py --model anthropic:claude-sonnet-4-5
    python examples/desktop/agent.py --model openai:computer-use-preview
    python examples/desktop/agent.py --model google:gemini-2.5-computer-use-preview-10-2025 --backend docker

The sandbox (local: bubblewrap; docker: the agentcore test image) runs a virtual display with the small
Tk application next to this file. The agent gets the sandbox's `computer` tool, which each vendor's
model drives in its own native form (Anthropic `computer_*`, OpenAI `computer_use_preview`, Gemini
computer use); the screen is shown to the model at 1024x640. It exits 0 when the form says the task
was done. Needs Xvfb, xdotool and python3-tk (docs/computer-use.md, "Setup").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from agentcore import Agent, Model, Runner
from agentcore.sandboxes.base import Sandbox
from agentcore.sandboxes.desktop import DesktopConfig

APP = Path(__file__).with_name("app.py")
EMAIL = "agent@example.com"
TASK = (
    f"Subscribe to the newsletter in the window on the screen with the address {EMAIL}: press the "
    "Subscribe button, then click the E-mail field, type the address and press Enter. Start with a "
    "screenshot. Answer 'done' when the window says it was sent."
)
KEYS = {
    "ANTHROPIC_API_KEY": "anthropic:claude-sonnet-4-5",
    "OPENAI_API_KEY": "openai:computer-use-preview",
    "GEMINI_API_KEY": "google:gemini-2.5-computer-use-preview-10-2025",
    "GOOGLE_API_KEY": "google:gemini-2.5-computer-use-preview-10-2025",
}


def make_sandbox(backend: str) -> Sandbox:
    desktop = DesktopConfig(max_image=(1024, 768))  # 1280x800 shown as 1024x640 (XGA-sized)
    if backend == "docker":
        from agentcore.sandboxes.docker import DockerSandbox

        return DockerSandbox(
            image=os.environ.get("AGENTCORE_DESKTOP_IMAGE", "agentcore-sandbox:test"), desktop=desktop
        )
    from agentcore.sandboxes.local import LocalSandbox

    return LocalSandbox(desktop=desktop)


async def open_form(sandbox: Sandbox) -> None:
    """Start the application on the sandbox's display and wait until it has drawn."""
    await sandbox.upload(APP, "app.py")
    work = sandbox.config.workdir
    await sandbox.desktop.launch(["python3", f"{work}/app.py", f"{work}/form.json"])
    for _ in range(400):
        if await sandbox.stat("form.json") is not None:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the form application did not start (is python3-tk installed in the sandbox?)")


async def run(model: str | Model, backend: str = "local", *, max_turns: int = 30) -> dict[str, Any]:
    """Open the form, let the agent do the task, and return the form's state plus the agent's answer."""
    async with make_sandbox(backend) as sandbox:
        await open_form(sandbox)
        agent = Agent(
            name="operator",
            model=model,
            sandbox=sandbox,
            instructions="You operate a Linux desktop through screenshots, the mouse and the keyboard.",
        )
        result = await Runner.run(agent, TASK, max_turns=max_turns)
        state: dict[str, Any] = json.loads(await sandbox.read_file("form.json"))
        state["answer"] = result.final_output
        state["screenshot"] = await sandbox.desktop.screenshot()
    return state


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="provider:model (default: from the vendor key in the environment)")
    parser.add_argument("--backend", choices=["local", "docker"], default="local")
    parser.add_argument("--screenshot", type=Path, help="write the last screen to this PNG file")
    args = parser.parse_args()
    model = args.model or next((m for key, m in KEYS.items() if os.environ.get(key)), None)
    if model is None:
        print("set ANTHROPIC_API_KEY, OPENAI_API_KEY or GEMINI_API_KEY, or pass --model", file=sys.stderr)
        return 2
    state = asyncio.run(run(model, args.backend))
    if args.screenshot:
        args.screenshot.write_bytes(state["screenshot"])
    done = state["subscribed"] and state["email"] == EMAIL
    print(
        f"{model}: {'done' if done else 'not done'} (subscribed={state['subscribed']}, email={state['email']!r})"
    )
    print(f"agent: {state['answer']}")
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
