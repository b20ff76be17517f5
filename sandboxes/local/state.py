"""Where the local backend keeps its host-side state (one control directory per running sandbox)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["state_root"]


def state_root() -> Path:
    """Host directory holding one control directory per running local sandbox."""
    uid = os.geteuid()
    return Path("/tmp") / ("agentcore-local" if uid == 0 else f"agentcore-local-{uid}")
