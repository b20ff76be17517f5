"""The projects ``agentcore init`` writes: per template, a definition, a tool module, a test that runs the
agent with the scripted model, a README, and (``data``, ``mcp``) the files they need.

Files are ``str.format`` templates; ``{model}`` is the model the definition uses unless
``AGENTCORE_MODEL`` is set when it runs. Literal braces are doubled.
"""

from __future__ import annotations

from typing import Any

DEFINITION_HEAD = """\
# yaml-language-server: $schema={schema}
# {title}
#   agentcore run agent.yaml "{example}"
#   agentcore run agent.yaml                                  (a chat, in a terminal)
#   agentcore run agent.yaml --model llama3.2 --base-url http://127.0.0.1:11434/v1   (any OpenAI-compatible server)
#   AGENTCORE_MODEL=anthropic:claude-sonnet-4-5 agentcore run agent.yaml "..."
version: 1
imports: [tools]            # tools.py, next to this file, may be referenced as tools:function
"""

TEST = '''\
"""Runs the agent with a scripted model: no key, no network. `python -m pytest` in this folder."""

from pathlib import Path

from agentcore import Runner
from agentcore.definitions import load
from agentcore.testing import ScriptedModel, tool_call

{head}HERE = Path(__file__).resolve().parent


def test_the_agent_uses_its_tool() -> None:
    agent = load(HERE / "agent.yaml").build()
    model = ScriptedModel([tool_call("{tool}", {args}), {final!r}])
    result = Runner.run_sync(agent.clone({clone}), {prompt!r})
    {check}
    assert model.requests[1].items[-1].output == {output!r}  # what the tool told the model
'''

README = """\
# {name}

{title}. Written by `agentcore init --template {template}`.

| File | |
|---|---|
| `agent.yaml` | the agent definition (`agentcore validate agent.yaml` checks it) |
| `tools.py` | the agent's own tool{extra_files} |
| `test_agent.py` | runs the agent with a scripted model (no key, no network) |

```bash
agentcore run agent.yaml "{example}"      # needs a key, e.g. OPENAI_API_KEY
agentcore run agent.yaml                   # an interactive chat
agentcore run agent.yaml --model llama3.2 --base-url http://127.0.0.1:11434/v1   # a local server, no key
python -m pytest test_agent.py             # the test
```

The model is `{model}`; set `AGENTCORE_MODEL` (for example `anthropic:claude-sonnet-4-5` or
`google:gemini-2.5-flash`) or pass `--model` to use another.
"""

CHAT: dict[str, Any] = {
    "title": "A chat assistant with a glossary tool",
    "example": "What does RAG mean?",
    "agent.yaml": """\
agents:
  assistant:
    description: Answers questions, looking terms up in the glossary
    model: ${{AGENTCORE_MODEL:-{model}}}
    instructions: |
      You are a friendly assistant. When the user asks about a term, look it up
      with the glossary tool first, then answer in two or three sentences.
    tools: ["tools:glossary"]
    max_turns: 10
""",
    "tools.py": '''\
"""The assistant's tool."""

from agentcore import tool

TERMS = {
    "rag": "Retrieval-augmented generation: the model answers from documents fetched for the question.",
    "agent": "A model in a loop that calls tools until it can answer.",
}


@tool
def glossary(term: str) -> str:
    """Look a term up in the glossary.

    Args:
        term: The term, for example "RAG".
    """
    return TERMS.get(term.strip().lower(), f"{term!r} is not in the glossary")
''',
    "test": {
        "tool": "glossary",
        "args": {"term": "RAG"},
        "final": "RAG means retrieval-augmented generation.",
        "prompt": "What does RAG mean?",
        "check": "assert result.final_output == 'RAG means retrieval-augmented generation.'",
        "output": "Retrieval-augmented generation: the model answers from documents fetched for the question.",
        "clone": "model=model",
    },
}

CODING: dict[str, Any] = {
    "title": "A coding agent that writes and tests Python in a sandbox",
    "example": "Write fizzbuzz.py with unit tests and run them",
    "agent.yaml": """\
sandboxes:
  workspace:
    backend: local            # bubblewrap; or backend: docker with image: python:3.12-slim
    network: none
    limits: {{cpu: 1, memory_mb: 1024, timeout_s: 60}}

agents:
  coder:
    description: Writes small Python programs and their tests
    model: ${{AGENTCORE_MODEL:-{model}}}
    sandbox: workspace
    tools: [shell, read_file, write_file, edit_file, list_files, "tools:todo_comments"]
    instructions: |
      You are a careful Python developer working in /workspace. Write the program and unit
      tests (unittest), run them with `python3 -m unittest -q`, fix failures, and finish with a
      short summary. Check for TODO comments you left with the todo_comments tool.
    guardrails:
      - type: shell_policy
        deny: [sudo, "git push", curl, wget]
        action: retry
      - {{type: budget, max_tokens: 200000, max_seconds: 600}}
    max_turns: 30
""",
    "tools.py": '''\
"""The coder's own tool (the shell and file tools come with the sandbox)."""

from agentcore import tool


@tool
def todo_comments(source: str) -> list[str]:
    """The TODO comments in a piece of source code, one per line found.

    Args:
        source: The file's text.
    """
    return [line.strip() for line in source.splitlines() if "TODO" in line]
''',
    "test": {
        "tool": "todo_comments",
        "args": {"source": "x = 1  # TODO: name it"},
        "final": "One TODO is left.",
        "prompt": "Any TODOs?",
        "check": "assert result.final_output == 'One TODO is left.'",
        "output": '["x = 1  # TODO: name it"]',
        # the sandbox tools need bubblewrap or Docker; this test checks the agent's own tool
        "clone": "model=model, sandbox=None",
    },
}

DATA: dict[str, Any] = {
    "title": "A data agent that summarises a CSV file and answers with a structured result",
    "example": "Which region sold the most?",
    "agent.yaml": """\
agents:
  analyst:
    description: Answers questions about sales.csv
    model: ${{AGENTCORE_MODEL:-{model}}}
    instructions: |
      sales.csv holds the data. Use the summarize tool, then answer with the structured result.
    tools: ["tools:summarize"]
    output_schema:
      title: Finding
      type: object
      properties:
        top_region: {{type: string}}
        total: {{type: number}}
      required: [top_region, total]
      additionalProperties: false
    max_turns: 10
""",
    "tools.py": '''\
"""The analyst's tool: totals per region of sales.csv (next to this file)."""

import csv
import json
from collections import Counter
from pathlib import Path

from agentcore import tool

DATA = Path(__file__).resolve().parent / "sales.csv"


@tool
def summarize(column: str = "amount") -> str:
    """Totals of a numeric column of sales.csv, per region, largest first (JSON).

    Args:
        column: The column to add up.
    """
    totals: Counter[str] = Counter()
    with DATA.open(newline="") as f:
        for row in csv.DictReader(f):
            totals[row["region"]] += float(row[column])
    return json.dumps(dict(totals.most_common()))
''',
    "sales.csv": "region,amount\nnorth,120\nsouth,80\nnorth,30\nwest,95\n",
    "test": {
        "tool": "summarize",
        "args": {},
        "final": '{"top_region": "north", "total": 150.0}',
        "prompt": "Which region sold the most?",
        "check": 'assert (result.final_output.top_region, result.final_output.total) == ("north", 150.0)',
        "output": '{"north": 150.0, "west": 95.0, "south": 80.0}',
        "clone": "model=model",
    },
}

MCP: dict[str, Any] = {
    "title": "An agent that keeps notes through an MCP server of its own",
    "example": "Note that the release is on Friday, then list the notes",
    "agent.yaml": """\
mcp_servers:
  notes:
    command: ${{PYTHON:-python3}}      # the MCP server in server.py (needs: pip install "agentcore[mcp]")
    args: [server.py]
    cwd: .

agents:
  scribe:
    description: Keeps short notes
    model: ${{AGENTCORE_MODEL:-{model}}}
    instructions: |
      Keep the user's notes with the notes tools; answer with what you stored or found.
      Use the today tool for dates.
    mcp_servers: [notes]
    tools: ["tools:today"]
    max_turns: 10
""",
    "tools.py": '''\
"""The scribe's own tool (the notes tools come from the MCP server in server.py)."""

from datetime import date

from agentcore import tool


@tool
def today() -> str:
    """Today's date (ISO 8601)."""
    return date.today().isoformat()
''',
    "server.py": '''\
"""An MCP server with two tools, over stdio: `python server.py`. Notes live in notes.txt."""

from pathlib import Path

from mcp.server.mcpserver import MCPServer

NOTES = Path(__file__).resolve().parent / "notes.txt"
server = MCPServer("notes")


@server.tool()
def add_note(text: str) -> str:
    """Store a one-line note."""
    with NOTES.open("a") as f:
        f.write(text.replace("\\n", " ") + "\\n")
    return "stored"


@server.tool()
def list_notes() -> str:
    """All notes, oldest first."""
    return NOTES.read_text() if NOTES.exists() else "(no notes)"


if __name__ == "__main__":
    server.run("stdio")
''',
    "test": {
        "tool": "notes__add_note",
        "args": {"text": "release on Friday"},
        "final": "Stored: release on Friday.",
        "prompt": "Note that the release is on Friday",
        "check": "assert result.final_output == 'Stored: release on Friday.'",
        "output": "stored",
        "clone": "model=model",
    },
    "test_head": '''\
import os
import sys

import pytest

pytest.importorskip("mcp", reason='the MCP server needs: pip install "agentcore[mcp]"')
os.environ.setdefault("PYTHON", sys.executable)  # the server runs with this interpreter

''',
}

TEMPLATES: dict[str, dict[str, Any]] = {"chat": CHAT, "coding": CODING, "data": DATA, "mcp": MCP}
