"""agentcore: provider-agnostic agents. One loop, any model vendor, any sandbox."""

from __future__ import annotations

__version__ = "0.1.0"
