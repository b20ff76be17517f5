"""Conversation stores: the :class:`Session` protocol, :class:`InMemorySession` and :class:`SQLiteSession`."""

from .base import InMemorySession, Session, SessionSnapshot
from .sqlite import SQLiteSession

__all__ = ["InMemorySession", "SQLiteSession", "Session", "SessionSnapshot"]
