"""Per-vendor limits on model calls across every worker that shares the database.

``VendorLimits({"openai": 10})``: at most ten OpenAI model calls at once over the whole fleet. A call
takes one of the vendor's slots — a Postgres advisory lock ``(vendor, slot)`` held on a connection of
its own for the call — and waits (polling, with backoff) while all are taken. A worker that dies frees
its slots with its connections. Only live calls take a slot: a step replayed from its record does
not call the vendor and waits for nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg

_TRY = "SELECT pg_try_advisory_lock(hashtext('agentcore-vendor:' || %s), %s)"
_UNLOCK = "SELECT pg_advisory_unlock(hashtext('agentcore-vendor:' || %s), %s)"


class VendorLimits:
    """Concurrency limits per vendor (``Model.provider``: ``openai``, ``anthropic``, ``openai-chat`` …)."""

    def __init__(self, dsn: str, limits: dict[str, int]) -> None:
        if any(n < 1 for n in limits.values()):
            raise ValueError("a vendor limit must be at least 1")
        self.dsn = dsn
        self.limits = dict(limits)

    @contextlib.asynccontextmanager
    async def slot(self, vendor: str) -> AsyncIterator[None]:
        """Hold one of ``vendor``'s slots for the ``with`` block (at once when it has no limit)."""
        count = self.limits.get(vendor)
        if count is None:
            yield
            return
        conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        try:
            held = await self._take(conn, vendor, count)
            try:
                yield
            finally:
                with contextlib.suppress(psycopg.Error):
                    await conn.execute(_UNLOCK, (vendor, held))
        finally:
            await conn.close()

    async def _take(self, conn: psycopg.AsyncConnection[tuple[bool]], vendor: str, count: int) -> int:
        delay = 0.01
        while True:
            for slot in range(count):
                cur = await conn.execute(_TRY, (vendor, slot))
                row = await cur.fetchone()
                if row and row[0]:
                    return slot
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.25)
