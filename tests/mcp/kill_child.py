"""Run by test_lifecycle: an agent calls the toy server's pid tool, prints the pid, then hangs in a tool
call until the test kills this process with SIGKILL."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agentcore import Agent, Runner
from agentcore.events import ToolCallFinished
from agentcore.mcp import MCPServer
from agentcore.testing import ScriptedModel, tool_call

TOY = Path(__file__).with_name("toy_server.py")


async def main() -> None:
    model = ScriptedModel([tool_call("toy__pid"), tool_call("toy__hang"), "never"])
    server = MCPServer(name="toy", command=sys.executable, args=[str(TOY)], call_timeout=3600)
    async for event in Runner.stream(Agent(name="a", model=model, mcp_servers=[server]), "go"):
        if isinstance(event, ToolCallFinished) and event.call.name == "toy__pid":
            print(event.result.output, flush=True)


asyncio.run(main())
