"""Submitting durable runs and awaiting their results, from any process that reaches the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from dbos import DBOSClient, EnqueueOptions, WorkflowHandleAsync

from ..agent import Agent
from ..messages import new_id
from .engine import APP_NAME, DECISIONS_TOPIC, EVENTS_STREAM, PENDING_EVENT, QUEUE, WORKFLOW, DurableResult
from .worker import _sqlalchemy_url


class DurableRunner:
    """``Runner``-style API for durable runs executed by :class:`~agentcore.durable.Worker` processes.

    ``submit`` enqueues a run and returns its id at once (the run id is the workflow id: submitting the
    same id twice starts one run); ``result`` waits for it; ``run`` does both.
    """

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._client: DBOSClient | None = None

    async def _dbos(self) -> DBOSClient:
        if self._client is None:  # connects (and checks the schema): off the event loop
            client = await asyncio.to_thread(DBOSClient, system_database_url=_sqlalchemy_url(self.dsn))
            if self._client is None:
                self._client = client
            else:
                client.destroy()
        return self._client

    async def submit(
        self,
        agent: Agent[Any] | str,
        input: str,
        *,
        run_id: str | None = None,
        max_turns: int | None = None,
        session_id: str | None = None,
        stream: bool = False,
    ) -> str:
        """Enqueue a run; with ``session_id`` it continues that PostgresSession (in the workers' database);
        with ``stream`` it publishes its events for :meth:`events`."""
        name = agent if isinstance(agent, str) else agent.name
        run_id = run_id or new_id()
        options: EnqueueOptions = {
            "workflow_name": WORKFLOW,
            "queue_name": QUEUE,
            "workflow_id": run_id,
            "application_name": APP_NAME,
        }
        client = await self._dbos()
        await client.enqueue_async(options, name, input, max_turns, session_id, stream)
        return run_id

    async def result(self, run_id: str) -> DurableResult:
        """Wait for the run to finish; a run that failed raises its error here."""
        handle: WorkflowHandleAsync[dict[str, Any]] = await (await self._dbos()).retrieve_workflow_async(
            run_id
        )
        data: dict[str, Any] = await handle.get_result()
        return DurableResult.from_json(data)

    async def run(
        self,
        agent: Agent[Any] | str,
        input: str,
        *,
        run_id: str | None = None,
        max_turns: int | None = None,
        session_id: str | None = None,
    ) -> DurableResult:
        run_id = await self.submit(agent, input, run_id=run_id, max_turns=max_turns, session_id=session_id)
        return await self.result(run_id)

    async def status(self, run_id: str) -> str:
        """``ENQUEUED``, ``PENDING`` (running, or waiting for recovery), ``SUCCESS``, ``ERROR`` …"""
        handle: WorkflowHandleAsync[Any] = await (await self._dbos()).retrieve_workflow_async(run_id)
        status = await handle.get_status()
        return str(status.status)

    async def events(self, run_id: str) -> AsyncIterator[dict[str, Any]]:
        """The events of a run submitted with ``stream=True``, as JSON (see ``engine.event_json``), from
        the first; ends when the run ends. A run recovered on another worker does not repeat any."""
        async for value in (await self._dbos()).read_stream_async(run_id, EVENTS_STREAM):
            yield value

    async def pending(self, run_id: str, *, wait: float = 60.0) -> list[dict[str, Any]]:
        """The calls the run waits on for approval (``call_id``, ``name``, ``arguments``, ``agent``);
        waits up to ``wait`` seconds for the run to pause, ``[]`` when it is not waiting."""
        value = await (await self._dbos()).get_event_async(run_id, PENDING_EVENT, timeout_seconds=wait)
        return list(value or [])

    async def decide(self, run_id: str, decisions: dict[str, bool | tuple[bool, str]]) -> None:
        """Approve (``True``) or reject (``False``, or ``(False, reason)``) each pending call; whichever
        worker holds the run, or recovers it later, continues it."""
        body: dict[str, dict[str, Any]] = {}
        for call_id, value in decisions.items():
            approved, reason = value if isinstance(value, tuple) else (value, "")
            body[call_id] = {"approved": bool(approved), "reason": reason}
        await (await self._dbos()).send_async(run_id, body, DECISIONS_TOPIC)

    def close(self) -> None:
        if self._client is not None:
            self._client.destroy()
            self._client = None
