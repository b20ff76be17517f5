"""Screenshots are stored once, by reference (issue 16): 20 screenshot steps grow a session by about 20
images, not 20 per turn; a resumed session gets the images back; traces hold no image bytes."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

from agentcore import Agent, Runner
from agentcore.messages import ImagePart, ToolResult
from agentcore.sessions import SQLiteSession
from agentcore.sessions.blobs import MISSING, SCHEME, extract, restore
from agentcore.testing import ScriptedModel, tool_call
from agentcore.tools import ToolOutput, tool
from tests.durable.conftest import pg_dsn  # noqa: F401 - the Postgres fixture

STEPS = 20


def _screenshot(n: int) -> str:
    """A distinct, incompressible 64x64 PNG (~12 KiB): the worst case for storage."""
    from PIL import Image

    rnd = random.Random(n)
    img = Image.frombytes("RGB", (64, 64), bytes(rnd.getrandbits(8) for _ in range(64 * 64 * 3)))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


SHOTS = [_screenshot(n) for n in range(STEPS)]
IMAGE_BYTES = len(base64.b64decode(SHOTS[0]))


def _agent() -> Agent[Any]:
    count = {"n": 0}

    @tool
    def look() -> ToolOutput:
        """Take a screenshot."""
        n = count["n"]
        count["n"] += 1
        return ToolOutput(f"screenshot {n}", [ImagePart(data=SHOTS[n % STEPS])])

    script: list[Any] = [tool_call("look") for _ in range(STEPS)] + ["done"]
    return Agent(name="eyes", model=ScriptedModel(script), tools=[look])


def _size(db: Path) -> int:
    """The database's bytes on disk, its write-ahead log included."""
    return sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def _images(items: Any) -> list[str]:
    return [p.data for i in items if isinstance(i, ToolResult) for p in i.parts if isinstance(p, ImagePart)]


async def test_twenty_screenshots_are_stored_once_and_come_back_on_resume(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    session = SQLiteSession("desk", db)
    before = _size(db)
    result = await Runner.run(_agent(), "look 20 times", session=session)
    assert result.final_output == "done"
    records = session.records()
    stored = sum(len(json.dumps(payload)) for *_, payload, _at in records)
    assert all(SHOTS[0] not in json.dumps(p) for *_, p, _ in records)  # references, not bytes
    assert stored < 2 * IMAGE_BYTES  # the log of 20 steps (~40 items) is smaller than two screenshots
    with sqlite3.connect(db) as conn:
        (count, total) = conn.execute("SELECT COUNT(*), SUM(LENGTH(data)) FROM session_blobs").fetchone()
    assert count == STEPS and total == STEPS * IMAGE_BYTES
    grown = _size(db) - before
    assert grown < 2 * STEPS * IMAGE_BYTES, grown  # ~20 images (+ pages), not 20 per turn
    # a resumed session (a new object, as another process would open it) gets every image back
    resumed = await SQLiteSession("desk", db).load()
    assert _images(resumed.items) == SHOTS
    again = await Runner.run(Agent(name="eyes", model=ScriptedModel(["still here"])), "and?", session=session)
    assert again.final_output == "still here"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM session_blobs").fetchone()[0] == STEPS
    assert await session.delete()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM session_blobs").fetchone()[0] == 0


async def test_postgres_stores_screenshots_once_too(pg_dsn: str) -> None:  # noqa: F811
    import psycopg

    from agentcore.sessions.postgres import PostgresSession

    session = PostgresSession("desk", pg_dsn)
    await Runner.run(_agent(), "look 20 times", session=session)
    records = await session.records()
    assert all(SHOTS[0] not in json.dumps(p) for *_, p, _ in records)
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT COUNT(*), SUM(LENGTH(data)) FROM session_blobs").fetchone()
    assert row is not None and row[0] == STEPS and row[1] == STEPS * IMAGE_BYTES
    assert _images((await PostgresSession("desk", pg_dsn).load()).items) == SHOTS


def test_an_unchanged_screen_is_one_blob_and_a_lost_blob_is_a_placeholder() -> None:
    part = {"type": "image", "url": None, "data": SHOTS[0], "media_type": "image/png"}
    result = {"type": "tool_result", "parts": [part, dict(part)]}
    payload, blobs = extract({"items": [result]})
    assert len(blobs) == 1
    refs = payload["items"][0]["parts"]
    assert refs[0]["url"].startswith(SCHEME) and refs[0]["data"] is None
    assert restore(payload, {})["items"][0]["parts"][0] == {"type": "text", "text": MISSING}
    small = {"type": "image", "url": None, "data": "iVBORw0KGgo=", "media_type": "image/png"}
    assert extract({"items": [small]}) == ({"items": [small]}, {})  # tiny images stay inline


async def test_traces_hold_no_image_bytes(monkeypatch: Any, tmp_path: Path) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agentcore import tracing

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_provider", provider)
    monkeypatch.setattr(tracing, "_tracer", None)
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    await Runner.run(_agent(), "look 20 times")
    spans = exporter.get_finished_spans()
    assert spans
    text = json.dumps([dict(s.attributes or {}) for s in spans], default=str)
    assert "screenshot 19" in text or "look" in text  # content was captured
    assert all(shot[:64] not in text for shot in SHOTS)


async def test_with_content_capture_the_screenshot_is_a_file_next_to_the_traces(
    desktop_sandbox: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agentcore import tracing

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_provider", provider)
    monkeypatch.setattr(tracing, "_tracer", None)
    monkeypatch.setattr(tracing, "_capture", None)  # an earlier setup(capture_content=...) must not decide
    monkeypatch.setenv("AGENTCORE_HOME", str(tmp_path))
    for capture in ("false", "true"):
        monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", capture)
        model = ScriptedModel([tool_call("computer", {"action": "screenshot"}), "seen"])
        await Runner.run(Agent(name="desk", model=model, sandbox=desktop_sandbox), "look")
    spans = [s for s in exporter.get_finished_spans() if s.name == "execute_tool computer"]
    without, with_capture = (dict(s.attributes or {}) for s in spans)
    assert (
        without["agentcore.computer.action"] == "screenshot"
        and "agentcore.computer.screenshot" not in without
    )
    path = Path(str(with_capture["agentcore.computer.screenshot"]))
    assert path.parent == tmp_path / "traces" / "screens"
    assert (await asyncio.to_thread(path.read_bytes)).startswith(b"\x89PNG")
    assert all(len(str(v)) < 2000 for v in with_capture.values())  # no image bytes in attributes
