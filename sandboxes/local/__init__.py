"""The local backend: bubblewrap, no infrastructure (:class:`LocalSandbox`)."""

from .sandbox import DEFAULT_HOST_UID, LocalSandbox, bwrap_path, state_root

__all__ = ["DEFAULT_HOST_UID", "LocalSandbox", "bwrap_path", "state_root"]
