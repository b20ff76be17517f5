"""What the file API of every sandbox shares: its errors, :class:`FileInfo`, the confinement of paths to
the workspace (:func:`resolve_path`) and the host-side write of a downloaded file. Re-exported by
:mod:`agentcore.sandboxes.base`."""

from __future__ import annotations

import os
import posixpath
import stat as stat_module
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agentcore.errors import PathEscapeError, SandboxError

__all__ = [
    "FileInfo",
    "FileKind",
    "SandboxFileExists",
    "SandboxFileNotFound",
    "SandboxIsADirectory",
    "SandboxNotADirectory",
    "kind_of_mode",
    "relative_to_workdir",
    "resolve_path",
]


class SandboxFileNotFound(SandboxError):
    """The path does not exist inside the sandbox."""


class SandboxIsADirectory(SandboxError):
    """A file operation met a directory."""


class SandboxNotADirectory(SandboxError):
    """A directory operation met something else."""


class SandboxFileExists(SandboxError):
    """The path already exists (for example ``remove`` without ``recursive`` on a non-empty dir)."""


FileKind = Literal["file", "dir", "symlink", "other"]


@dataclass(frozen=True)
class FileInfo:
    """One directory entry. ``path`` is the absolute sandbox path."""

    path: str
    name: str
    type: FileKind
    size: int
    mode: int
    """Permission bits (``0o644``)."""
    mtime: float
    symlink_target: str | None = None


def kind_of_mode(mode: int) -> FileKind:
    """Map ``st_mode`` to a :data:`FileKind`."""
    if stat_module.S_ISLNK(mode):
        return "symlink"
    if stat_module.S_ISDIR(mode):
        return "dir"
    if stat_module.S_ISREG(mode):
        return "file"
    return "other"


# --------------------------------------------------------------------------- paths


def resolve_path(workdir: str, path: str) -> str:
    """Normalize a sandbox path lexically and refuse anything outside ``workdir``.

    Relative paths resolve against ``workdir``; ``..`` is applied lexically and may not climb above it;
    absolute paths must lie inside it. Symlinks are NOT resolved here: the backend resolves them
    inside the sandbox, or host-side without following links.
    """
    if not isinstance(path, str) or "\0" in path:
        raise PathEscapeError(f"invalid path {path!r}")
    root = posixpath.normpath(workdir)
    joined = path if posixpath.isabs(path) else posixpath.join(root, path)
    parts: list[str] = []
    for part in joined.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise PathEscapeError(f"path {path!r} escapes the workspace {root}")
            parts.pop()
            continue
        parts.append(part)
    normal = "/" + "/".join(parts)
    if normal != root and not normal.startswith(root + "/"):
        raise PathEscapeError(f"path {path!r} is outside the workspace {root}")
    return normal


def relative_to_workdir(workdir: str, resolved: str) -> list[str]:
    """Components of a :func:`resolve_path` result below ``workdir`` (empty list = the workspace)."""
    root = posixpath.normpath(workdir)
    rest = resolved[len(root) :].strip("/")
    return [p for p in rest.split("/") if p]


def _write_host_file(dest: Path, data: bytes, mode: int) -> None:
    """Write a downloaded file without following a symlink already sitting at ``dest``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(dest, flags, mode & 0o777 or 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)
