"""One private event loop thread for every local sandbox.

A local sandbox owns pipes, FIFO readers and a bwrap child process; asyncio binds those to the loop that
created them, and bwrap's ``--die-with-parent`` fires when the *thread* that spawned it exits. Callers
change loops, though: ``Runner.run_sync`` runs each call in a fresh ``asyncio.run`` (inside a notebook,
in a throwaway thread). So the backend does its I/O on this long-lived daemon thread, and the public
coroutines hop onto it. Live output callbacks hop back to the caller's loop, in order, before the result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def sandbox_loop() -> asyncio.AbstractEventLoop:
    """The shared loop (started on first use; a daemon thread that lives as long as the process)."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="agentcore-local-sandboxes", daemon=True).start()
            _loop = loop
        return _loop


async def on_sandbox_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` on the sandbox loop (directly when already there). Cancelling the caller
    cancels it there too."""
    loop = sandbox_loop()
    if asyncio.get_running_loop() is loop:
        return await coro
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))


def to_caller_loop(callback: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """Wrap a callback so that calls made on the sandbox loop run on the current (caller's) loop."""
    if callback is None:
        return None
    caller = asyncio.get_running_loop()
    if caller is sandbox_loop():
        return callback

    def deliver(text: str) -> None:
        try:
            callback(text)
        except Exception:  # like shell.py: a broken callback must not disturb the command
            pass

    def forward(text: str) -> None:
        caller.call_soon_threadsafe(deliver, text)

    return forward
