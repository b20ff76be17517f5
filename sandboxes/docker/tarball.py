"""Directories in and out of a docker sandbox as one tar stream each (host side): what goes in has no
symlinks and belongs to the sandbox user; what comes out is untrusted and extracted with care."""

from __future__ import annotations

import io
import os
import stat as stat_module
import tarfile
from pathlib import Path

from ..files import _write_host_file

__all__ = ["tar_directory", "untar_safely"]


def tar_directory(src: Path, uid: int) -> bytes:
    """A tar of ``src``'s regular files and directories (no symlinks), owned by ``uid``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
            base = Path(dirpath)
            rel_dir = base.relative_to(src)
            for name in sorted(dirnames):
                st = (base / name).lstat()
                if stat_module.S_ISDIR(st.st_mode):
                    info = _info(rel_dir / name, st, uid)
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
            for name in sorted(filenames):
                path = base / name
                st = path.lstat()
                if stat_module.S_ISREG(st.st_mode):
                    info = _info(rel_dir / name, st, uid)
                    info.size = st.st_size
                    with path.open("rb") as fh:
                        tar.addfile(info, fh)
    return buf.getvalue()


def _info(name: Path, st: os.stat_result, uid: int) -> tarfile.TarInfo:
    """A tar member for ``name`` with the mode bits and mtime of ``st``, owned by ``uid``."""
    info = tarfile.TarInfo(str(name))
    info.mode, info.mtime = st.st_mode & 0o777, int(st.st_mtime)
    info.uid = info.gid = uid
    return info


def untar_safely(data: bytes, dest: Path) -> None:
    """Extract a tar produced inside the (untrusted) sandbox: regular files and directories only,
    names confined to ``dest``, never following a symlink that already sits on the host."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar:
            parts = [p for p in member.name.split("/") if p not in ("", ".")]
            if not parts or any(p == ".." or "\0" in p for p in parts):
                continue
            target = dest.joinpath(*parts)
            parent = dest
            ok = True
            for part in parts[:-1]:
                parent = parent / part
                if parent.is_symlink() or (parent.exists() and not parent.is_dir()):
                    ok = False
                    break
                parent.mkdir(exist_ok=True)
            if not ok or target.is_symlink():
                continue
            if member.isdir():
                target.mkdir(exist_ok=True)
            elif member.isfile():
                fh = tar.extractfile(member)
                if fh is not None:
                    _write_host_file(target, fh.read(), member.mode & 0o777 or 0o644)
