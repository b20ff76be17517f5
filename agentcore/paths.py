"""Where agentcore keeps its local data (sessions, traces, keys)."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """``$AGENTCORE_HOME``, else ``$XDG_DATA_HOME/agentcore``, else ``~/.local/share/agentcore`` (created)."""
    env = os.environ.get("AGENTCORE_HOME")
    if env:
        path = Path(env)
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "agentcore"
    path.mkdir(parents=True, exist_ok=True)
    return path
