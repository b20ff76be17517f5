"""Hosted sandbox backends reached through their SDKs: :mod:`.e2b` and :mod:`.modal` (optional extras)."""
