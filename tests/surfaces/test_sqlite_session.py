"""SQLite sessions: an append-only log per session, versioned records, migrations, concurrency, resume."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentcore.agent import Agent
from agentcore.errors import ServerError
from agentcore.messages import AssistantMessage, ToolResult, Usage, UserMessage
from agentcore.run.runner import Runner
from agentcore.sessions import sqlite as sqlite_session
from agentcore.sessions.sqlite import SQLiteSession, delete_session, list_sessions, load_session
from agentcore.testing import ScriptedModel, fail, tool_call
from agentcore.tools import tool


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sessions.db"


async def test_the_log_folds_into_a_snapshot(db: Path) -> None:
    session = SQLiteSession("chat", db)
    await session.append([UserMessage.of("hi")], usage=Usage(input_tokens=5, output_tokens=1))
    await session.append(
        [AssistantMessage(text="hello", agent="a")],
        active_agent="a",
        caches={"openai:gpt-5": {"response_id": "resp_1", "watermark": 2}},
        usage=Usage(input_tokens=7, output_tokens=2),
    )
    snapshot = await SQLiteSession("chat", db).load()
    assert [type(i).__name__ for i in snapshot.items] == ["UserMessage", "AssistantMessage"]
    assert snapshot.active_agent == "a"
    assert snapshot.caches == {"openai:gpt-5": {"response_id": "resp_1", "watermark": 2}}
    assert (snapshot.usage.input_tokens, snapshot.usage.output_tokens) == (12, 3)
    assert [r[:3] for r in session.records()] == [(1, 1, "turn"), (2, 1, "turn")]


async def test_the_default_store_lives_in_the_data_directory(home: Path) -> None:
    session = SQLiteSession("x")
    await session.append([UserMessage.of("hi")])
    assert session.path == home / "sessions.db" and session.path.exists()


async def test_clear_keeps_the_log_append_only_and_delete_erases(db: Path) -> None:
    session = SQLiteSession("c", db)
    await session.append([UserMessage.of("one")])
    await session.clear()
    await session.append([UserMessage.of("two")])
    assert [i.text for i in (await session.load()).items] == ["two"]  # type: ignore[union-attr]
    assert [r[2] for r in session.records()] == ["turn", "cleared", "turn"]
    assert await session.delete() is True
    assert session.records() == [] and await session.delete() is False


async def test_list_show_and_delete_helpers(db: Path) -> None:
    await SQLiteSession("a", db).append([UserMessage.of("1")], active_agent="triage")
    await SQLiteSession("b", db).append([UserMessage.of("2"), AssistantMessage(text="x")])
    infos = {i.session_id: i for i in list_sessions(db)}
    assert infos["a"].items == 1 and infos["a"].active_agent == "triage" and infos["b"].items == 2
    snapshot = load_session("b", db)
    assert snapshot is not None and len(snapshot.items) == 2
    assert load_session("missing", db) is None
    assert delete_session("a", db) is True and [i.session_id for i in list_sessions(db)] == ["b"]


async def test_concurrent_runs_on_different_sessions_in_one_process(db: Path) -> None:
    async def writer(n: int) -> None:
        session = SQLiteSession(f"s{n}", db)
        for k in range(15):
            await session.append([UserMessage.of(f"{n}-{k}")])

    await asyncio.gather(*(writer(n) for n in range(8)))
    for n in range(8):
        items = (await SQLiteSession(f"s{n}", db).load()).items
        assert [i.text for i in items] == [f"{n}-{k}" for k in range(15)]  # type: ignore[union-attr]


WRITER = """
import asyncio, sys
from agentcore.messages import UserMessage
from agentcore.sqlite_session import SQLiteSession
async def main():
    own, shared = SQLiteSession(sys.argv[2], sys.argv[1]), SQLiteSession("shared", sys.argv[1])
    for k in range(20):
        await own.append([UserMessage.of(f"{sys.argv[2]}-{k}")])
        await shared.append([UserMessage.of(f"{sys.argv[2]}-{k}")])
asyncio.run(main())
"""


def test_concurrent_processes_never_lose_or_duplicate_records(db: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), f"p{n}"]) for n in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    for n in range(4):
        assert len(SQLiteSession(f"p{n}", db).records()) == 20
    shared = SQLiteSession("shared", db).records()
    assert [r[0] for r in shared] == list(range(1, 81))  # gap-free sequence numbers
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_old_records_are_upgraded_when_read(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = SQLiteSession("old", db)
    await session.append([UserMessage.of("current")])
    legacy = {"messages": [{"role": "user", "text": "from version 0"}]}
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO records VALUES ('old', 0, 0, 'turn', ?, 0)", (json.dumps(legacy),))

    def v0_to_v1(payload: dict[str, Any]) -> dict[str, Any]:
        return {"items": [UserMessage.of(m["text"]).model_dump(mode="json") for m in payload["messages"]]}

    monkeypatch.setitem(sqlite_session.RECORD_UPGRADES, 0, v0_to_v1)
    texts = [i.text for i in (await session.load()).items]  # type: ignore[union-attr]
    assert texts == ["from version 0", "current"]


async def test_the_database_schema_migrates_forward_and_refuses_newer(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await SQLiteSession("m", db).append([UserMessage.of("before")])

    def add_title(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE sessions ADD COLUMN title TEXT")

    monkeypatch.setattr(sqlite_session, "MIGRATIONS", [*sqlite_session.MIGRATIONS, add_title])
    sqlite_session._migrated.clear()
    assert [i.text for i in (await SQLiteSession("m", db).load()).items] == ["before"]  # type: ignore[union-attr]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(sqlite_session.MIGRATIONS)
    assert "title" in [row[1] for row in conn.execute("PRAGMA table_info(sessions)")]
    conn.execute("PRAGMA user_version = 9")
    conn.commit()
    sqlite_session._migrated.clear()
    with pytest.raises(RuntimeError, match="newer agentcore"):
        await SQLiteSession("m", db).load()
    sqlite_session._migrated.clear()


@tool
def lookup(order_id: str) -> str:
    """Look up an order."""
    return f"{order_id}: shipped"


async def test_a_conversation_continues_and_a_crashed_run_resumes(db: Path) -> None:
    model = ScriptedModel(
        [
            tool_call("lookup", {"order_id": "A1"}),
            fail(ServerError("boom", provider="scripted", status_code=500)),
        ]
    )
    agent = Agent(name="support", model=model, tools=[lookup], retry=None)
    with pytest.raises(Exception):  # noqa: B017 - the provider failure ends the run
        await Runner.run(agent, "Where is A1?", session=SQLiteSession("crash", db), max_turns=5)
    saved = (await SQLiteSession("crash", db).load()).items
    assert isinstance(saved[-1], ToolResult) and saved[-1].output == "A1: shipped"  # turn 1 was kept

    model.add("A1 has shipped.")
    result = await Runner.run(agent, None, session=SQLiteSession("crash", db))  # resume, no new input
    assert result.final_output == "A1 has shipped."
    model.add("You're welcome.")
    await Runner.run(agent, "Thanks", session=SQLiteSession("crash", db))
    last_request = model.requests[-1]
    texts = [getattr(i, "text", None) for i in last_request.items]
    assert texts[0] == "Where is A1?" and "A1 has shipped." in texts and texts[-1] == "Thanks"
