"""The capability tables of docs/tools.md, generated from the adapters' own code.

``python -m tests.native.tools_table`` rewrites the tables between their markers in docs/tools.md;
``tests/native/test_tools_table.py`` fails when the committed tables are not what the code says.

* Hosted tools: each declaration (with each option) is given to each vendor's ``hosted_entry`` (through
  :func:`agentcore.hosted.serves`, as the check at ``Agent(...)`` does): served, or refused with
  ``UnsupportedHostedToolError``. An adapter that has no hosted tools (yet) counts as not serving.
* Native tools: which form each adapter gives an agent's sandbox tools for a few models.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from agentcore.hosted import (
    UserLocation,
    code_execution,
    file_search,
    hosted_mcp,
    serves,
    web_fetch,
    web_search,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "tools.md"
HOSTED_MARKS = ("<!-- hosted-tools-table:start (generated: python -m tests.native.tools_table) -->",
                "<!-- hosted-tools-table:end -->")  # fmt: skip
NATIVE_MARKS = ("<!-- native-tools-table:start (generated: python -m tests.native.tools_table) -->",
                "<!-- native-tools-table:end -->")  # fmt: skip

VENDORS: list[tuple[str, str, str]] = [
    ("openai", "gpt-5.2", "OpenAI Responses"),
    ("anthropic", "claude-sonnet-4-5", "Anthropic"),
    ("google", "gemini-3-pro-preview", "Gemini"),
    ("google-interactions", "gemini-3-pro-preview", "Gemini Interactions"),
    ("openai-chat", "", "Chat Completions"),
]
"""(provider, the model asked about, column title)."""

MCP = ("docs", "https://mcp.example.com/mcp")
DECLARATIONS: list[tuple[str, Any]] = [
    ("`web_search()`", web_search()),
    ("`web_search(allowed_domains=[...])`", web_search(allowed_domains=["python.org"])),
    ("`web_search(blocked_domains=[...])`", web_search(blocked_domains=["spam.example"])),
    ("`web_search(user_location=UserLocation(...))`", web_search(user_location=UserLocation(country="FR"))),
    ("`web_search(max_uses=3)`", web_search(max_uses=3)),
    ('`web_search(context_size="low")`', web_search(context_size="low")),
    ("`web_fetch()`", web_fetch()),
    ("`web_fetch(allowed_domains=[...])`", web_fetch(allowed_domains=["python.org"])),
    ("`web_fetch(blocked_domains=[...])`", web_fetch(blocked_domains=["spam.example"])),
    ("`web_fetch(max_uses=3)`", web_fetch(max_uses=3)),
    ('`file_search(vector_store_ids=["vs_…"])`', file_search(vector_store_ids=["vs_123"])),
    (
        '`file_search(vector_store_ids=["fileSearchStores/…"])`',
        file_search(vector_store_ids=["fileSearchStores/docs-123"]),
    ),
    ("`file_search(..., max_results=5)`", file_search(vector_store_ids=["vs_123"], max_results=5)),
    ("`code_execution()`", code_execution()),
    ('`code_execution(container="…")`', code_execution(container="cntr_123")),
    ('`code_execution(file_ids=["…"])`', code_execution(file_ids=["file_123"])),
    ('`code_execution(memory_limit="4g")`', code_execution(memory_limit="4g")),
    ("`hosted_mcp(label, url)` (approval: always)", hosted_mcp(*MCP)),
    ('`hosted_mcp(label, url, require_approval="never")`', hosted_mcp(*MCP, require_approval="never")),
    (
        '`hosted_mcp(..., require_approval=["tool"])`',
        hosted_mcp(*MCP, require_approval=["lookup"], allowed_tools=["search", "lookup"]),
    ),
    (
        '`hosted_mcp(..., allowed_tools=[...], require_approval="never")`',
        hosted_mcp(*MCP, allowed_tools=["search"], require_approval="never"),
    ),
    (
        '`hosted_mcp(..., authorization="…", require_approval="never")`',
        hosted_mcp(*MCP, authorization="token", require_approval="never"),
    ),
    (
        '`hosted_mcp(..., headers={...}, require_approval="never")`',
        hosted_mcp(*MCP, headers={"X-Team": "docs"}, require_approval="never"),
    ),
]

NATIVE_MODELS: list[tuple[str, str]] = [
    ("openai", "gpt-5.2"),
    ("openai", "gpt-5.1-codex"),
    ("openai", "gpt-5"),
    ("openai", "gpt-4.1"),
    ("anthropic", "claude-opus-4-1"),
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-3-7-sonnet-20250219"),
    ("anthropic", "claude-3-5-haiku-20241022"),
    ("google", "gemini-3-pro-preview"),
    ("openai-chat", "llama3"),
]


def hosted_table() -> str:
    head = (
        "| declaration | " + " | ".join(f"{title} (`{provider}:`)" for provider, _, title in VENDORS) + " |"
    )
    lines = [head, "|---|" + "---|" * len(VENDORS)]
    for label, tool in DECLARATIONS:
        cells = ["✓" if serves(provider, tool, model) else "—" for provider, model, _ in VENDORS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    models = ", ".join(f"`{provider}:{model}`" for provider, model, _ in VENDORS if model)
    lines.append("")
    lines.append(f"Asked of {models}. ✓ served; — refused when the agent is built, with the reason.")
    return "\n".join(lines)


def _native_form(provider: str, model: str) -> str:
    from agentcore.model import ModelRequest, ToolSpec

    specs = [ToolSpec(n, n, {"type": "object"}) for n in ("shell", "read_file", "write_file", "edit_file")]
    kinds = ("shell", "apply_patch", "bash", "text_editor")
    if provider == "openai":
        from agentcore.providers.openai.responses_tools import tools_to_wire

        entries = tools_to_wire(specs, model=model, native=kinds)
        native = [e["type"] for e in entries if e["type"] != "function"]
        kept = [e["name"] for e in entries if e["type"] == "function"]
    elif provider == "anthropic":
        from agentcore.providers.anthropic.native import native_entries, split_tools

        request = ModelRequest(instructions=None, items=[], tools=specs, native_tools=kinds)
        native = [f"`{e['type']}` (named `{e['name']}`)" for e in native_entries(model, kinds)]
        kept = [s.name for s in split_tools(model, request)[0]]
    else:
        native, kept = [], [s.name for s in specs]
    shown = ", ".join(f"`{n}`" if "`" not in n else n for n in native) or "—"
    return f"| `{provider}:{model}` | {shown} | {', '.join(f'`{k}`' for k in kept) or '—'} |"


def native_table() -> str:
    lines = [
        "| model | native tools declared | function tools kept (of `shell`, `read_file`, `write_file`, `edit_file`) |",
        "|---|---|---|",
    ]
    lines.extend(_native_form(provider, model) for provider, model in NATIVE_MODELS)
    return "\n".join(lines)


def _replace(text: str, marks: tuple[str, str], body: str) -> str:
    start, end = marks
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{DOC}: the markers {start!r} … {end!r} are missing")
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", text, count=1)


def render(text: str) -> str:
    """``text`` (docs/tools.md) with both tables regenerated."""
    return _replace(_replace(text, HOSTED_MARKS, hosted_table()), NATIVE_MARKS, native_table())


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        DOC.write_text(new, encoding="utf-8")
        print(f"updated {DOC}")
    else:
        print(f"{DOC} is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
