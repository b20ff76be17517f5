"""Fixtures for the durable-execution tests: a real Postgres (``$AGENTCORE_TEST_PG_DSN``, started by
.ci/postgres.sh), a fresh database per test, worker processes, a scripted Chat Completions server."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

DSN = os.environ.get("AGENTCORE_TEST_PG_DSN", "")


def _missing() -> str | None:
    if not DSN:
        return "AGENTCORE_TEST_PG_DSN is not set (.ci/postgres.sh starts Postgres and prints it)"
    try:
        import dbos  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as exc:
        return f"the durable extra is not installed: {exc}"
    return None


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A database of its own for the test (dropped after it), on the Postgres of $AGENTCORE_TEST_PG_DSN."""
    problem = _missing()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"durable tests need Postgres and dbos in CI: {problem}")
        pytest.skip(problem)
    import psycopg

    name = f"agentcore_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(DSN)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        _drop(name)


def _drop(name: str) -> None:
    """Drop the test's database; a backend that will not go at once (autovacuum) gets a few tries."""
    import psycopg

    for attempt in range(20):
        try:
            with psycopg.connect(DSN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except psycopg.Error:
            if attempt == 19:
                raise
            time.sleep(0.5)
