"""An agent with two MCP servers: the reference filesystem server (npm) confined to a folder, and the
time server (PyPI). It writes a dated note into the folder.

    npm install -g @modelcontextprotocol/server-filesystem && pip install mcp-server-time
    python examples/mcp/agent.py ./notes                       # a model from OPENAI_API_KEY / ANTHROPIC_API_KEY / ...
    python examples/mcp/agent.py ./notes --model anthropic:claude-sonnet-4-5
    python examples/mcp/agent.py ./notes --scripted            # no model: a scripted one calls the same tools

Every write needs approval (``needs_approval="destructive"``): the script asks on the terminal, or
approves by itself with --yes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from pathlib import Path

from agentcore import Agent, Runner
from agentcore.mcp import MCPServer
from agentcore.testing import ScriptedModel, tool_call

KEYS = {
    "OPENAI_API_KEY": "openai:gpt-5-mini",
    "ANTHROPIC_API_KEY": "anthropic:claude-sonnet-4-5",
    "GEMINI_API_KEY": "google:gemini-2.5-flash",
}
CACHE = Path(os.environ.get("AGENTCORE_MCP_SERVERS") or Path.home() / ".cache" / "agentcore-mcp")


def find(command: str, cached: Path) -> str:
    """A server's command: on PATH, else where .ci/mcp-servers.sh installs it."""
    found = shutil.which(command) or (str(cached) if cached.exists() else None)
    if found is None:
        sys.exit(f"{command} is not installed (see the top of {__file__})")
    return found


def servers(folder: Path) -> list[MCPServer]:
    files = find("mcp-server-filesystem", CACHE / "node_modules/.bin/mcp-server-filesystem")
    clock = find("mcp-server-time", CACHE / "venv/bin/mcp-server-time")
    return [
        MCPServer(name="files", command=files, args=[str(folder)], needs_approval="destructive"),
        MCPServer(name="time", command=clock),
    ]


def scripted(folder: Path) -> ScriptedModel:
    return ScriptedModel([
        tool_call("time__get_current_time", {"timezone": "UTC"}),
        tool_call("files__write_file", {"path": str(folder / "note.txt"),
                                        "content": "Written by an agentcore agent through MCP.\n"}),
        tool_call("files__list_directory", {"path": str(folder)}),
        "I wrote note.txt.",
    ])


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--model", help="provider:model")
    parser.add_argument("--scripted", action="store_true", help="no model: a scripted one calls the tools")
    parser.add_argument("--yes", action="store_true", help="approve every write")
    args = parser.parse_args()
    folder = args.folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    model = scripted(folder) if args.scripted else (
        args.model or next((m for k, m in KEYS.items() if os.environ.get(k)), None)
    )
    if model is None:
        print("set OPENAI_API_KEY (or another provider's key), pass --model, or use --scripted", file=sys.stderr)
        return 2
    agent = Agent(
        name="scribe",
        instructions=f"You keep notes in {folder}. Look up the current UTC time, then write a one-line note "
        "saying what time it is into note.txt there, and list the folder.",
        model=model,
        mcp_servers=servers(folder),
    )
    result = await Runner.run(agent, "Write today's note.")
    while result.paused:
        state = result.state
        for pending in result.interruptions:
            question = f"allow {pending.call.name}({pending.call.arguments})? [y/N] "
            if args.yes or (await asyncio.to_thread(input, question)).strip().lower() == "y":
                state.approve(pending.call.call_id)
            else:
                state.reject(pending.call.call_id, "the user said no")
        result = await Runner.run(agent, state)
    print(result.final_output)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
