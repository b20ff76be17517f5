"""docs/tools.md's capability tables are what the code says (regenerate: ``python -m tests.native.tools_table``)."""

from __future__ import annotations

from agentcore.hosted import serves, web_fetch, web_search

from .tools_table import DECLARATIONS, DOC, HOSTED_MARKS, NATIVE_MARKS, render


def test_the_committed_tables_are_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert all(mark in text for mark in (*HOSTED_MARKS, *NATIVE_MARKS))
    assert render(text) == text, "docs/tools.md is stale: run python -m tests.native.tools_table"


def test_the_table_asks_the_adapters() -> None:
    assert len(DECLARATIONS) >= 20  # every declaration and each of its options
    assert serves("openai", web_search()) and not serves("openai", web_fetch())
    assert serves("anthropic", web_fetch()) and not serves("openai-chat", web_search())
