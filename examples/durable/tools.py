"""The clerk's one tool. Filing a ticket is a side effect: a durable run files each ticket at most once,
whichever worker runs it and however many of them crash (docs/durable.md)."""

import asyncio
import json
import os

from agentcore import tool


def _append(line: str) -> None:
    with open(os.environ.get("TICKETS_FILE", "tickets.jsonl"), "a", encoding="utf-8") as f:
        f.write(line + "\n")


@tool
async def file_ticket(ticket: int, summary: str) -> str:
    """File a support ticket in the tracker."""
    await asyncio.to_thread(_append, json.dumps({"ticket": ticket, "summary": summary, "pid": os.getpid()}))
    return f"ticket {ticket} filed"
