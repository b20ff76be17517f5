"""Two agentcore agents (deterministic models) served as an MCP server by agentcore.mcp.server:
``python served_agents.py`` (stdio) or ``python served_agents.py http PORT`` (with ``SERVED_TOKEN``
set, HTTP requests need that bearer token)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agentcore import Agent, tool
from agentcore.mcp.server import agent_server, serve
from agentcore.messages import ToolResult, UserMessage
from agentcore.model import ModelRequest
from agentcore.testing import FunctionModel, Step


class Measure(BaseModel):
    word: str
    length: int


@tool
def upper(text: str) -> str:
    """Upper-case the text."""
    return text.upper()


def _task(request: ModelRequest) -> str:
    return next(i.text for i in reversed(request.items) if isinstance(i, UserMessage))


def shout(request: ModelRequest) -> Step | str:
    done = [i for i in request.items if isinstance(i, ToolResult)]
    if not done:
        return Step(tool_calls=[("upper", {"text": _task(request)})])
    return done[-1].output + "!"


def measure(request: ModelRequest) -> str:
    word = _task(request)
    return json.dumps({"word": word, "length": len(word)})


shouter = Agent(name="shouter", description="Shouts the task back.", model=FunctionModel(shout), tools=[upper])
measurer = Agent(name="measurer", description="Measures a word.", model=FunctionModel(measure), output_type=Measure)

if __name__ == "__main__":
    server = agent_server([shouter, measurer], name="served")
    if sys.argv[1:2] == ["http"]:
        token = os.environ.get("SERVED_TOKEN")
        asyncio.run(serve(server, http=("127.0.0.1", int(sys.argv[2])), token=token))
    else:
        asyncio.run(serve(server))
