"""File operations performed *inside* the sandbox, over one-shot ``exec`` — for remote backends.

Docker (read-only root and tmpfs workspaces, which ``put_archive``/``get_archive`` cannot see), E2B
and Modal all run commands inside the isolated environment, so the safest way to touch a file is to
let a small bash script there walk to the file one directory at a time (``cd -P``, checking where
each step really landed), open it, check the *opened* file, then do the operation: resolving and
opening are one step, so a symlink swapped in meanwhile is never followed out of the workspace.
Nothing on the host ever opens a path the sandbox controls.

Every operation is one exec: ``read`` streams the file to stdout, ``write`` takes it on stdin,
``list``/``stat`` print NUL-separated records. Exit codes of the script map to typed errors.
Backends whose command output is not binary safe (E2B decodes it as text) move the bytes with their
own file API after asking for the resolved path (``resolve_for_read``/``resolve_for_write``).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import posixpath
from collections.abc import Sequence
from typing import Any, TypeVar

from agentcore.errors import PathEscapeError, SandboxDied, SandboxError

from ._kill import OrphanSource
from ._loop import on_sandbox_loop
from ._loop_sandbox import ExecCall, LoopSandbox
from ._remote_shell import WrappedExec, kill_tree_argv
from .base import (
    ExecResult,
    FileInfo,
    FileKind,
    Sandbox,
    SandboxFileExists,
    SandboxFileNotFound,
    SandboxIsADirectory,
    SandboxNotADirectory,
    resolve_path,
)

# Arguments: op root path [arg]. Paths arrive lexically normalized (base.resolve_path), so the only
# way out of the workspace left is a symlink. read/write/list/stat/remove/mkdir resolve and open in one
# step (issue 12 item 6: a symlink swapped in between a check and a later open must not be followed):
# what is checked is the object about to be used, never a path resolved earlier. A file is opened
# (following links) and the *open file* is checked (/proc/self/fd/3: the kernel's own path of it); a
# directory is entered (`cd -P`) and the *current directory* is checked (/proc/self/cwd, not bash's
# idea of $PWD, which it resolves from strings), and from then on the script works relative to it, which
# no rename or symlink swap can move. resolve-read and resolve-write (for vendor file APIs that take a
# path) can only check the path: see their callers.
FILES_SCRIPT = r"""
set -u -f
unset CDPATH
op=$1 root=$2 p=$3 arg=${4:-}
die() { printf '%s\n' "$2" >&2; exit "$1"; }
inside() { case "$1" in "$root" | "$root"/*) return 0 ;; *) return 1 ;; esac; }
rel=${p#"$root"}; rel=${rel#/}
case $rel in */*) dir=${rel%/*} ;; *) dir= ;; esac
name=${rel##*/}
here() {  # where the kernel says the cwd is (not bash's idea of it) must be inside the workspace
  local d
  d=$(readlink /proc/self/cwd) || return 9
  inside "${d% (deleted)}" || return 3
}
enter() {  # cd -P to workspace-relative $1 (missing directories made when $2 = 1), then check
  cd -P -- "$root" 2>/dev/null || return 9
  local c IFS=/
  for c in $1; do
    [ -n "$c" ] || continue
    if [ ! -e "$c" ] && [ ! -L "$c" ]; then
      [ "$2" = 1 ] || return 4
      here || return $?  # never create anything outside
      mkdir -- "$c" 2>/dev/null
    fi
    [ -e "$c" ] || return 4
    [ -d "$c" ] || return 6
    cd -P -- "$c" 2>/dev/null || return 9
  done
  here
}
walk() {  # enter $1 or die with the right message ($3: how to call the directory)
  enter "$1" "$2"
  case $? in
  0) ;;
  3) die 3 "$p is outside the workspace (through a symlink)" ;;
  4) die 4 "$3: no such directory" ;;
  6) die 6 "$3 is not a directory" ;;
  *) die 9 "cannot resolve $p" ;;
  esac
}
opened() {  # fd 3 is open: the file it is (the kernel's path of the open file) must be inside
  local real
  real=$(readlink /proc/self/fd/3) || die 9 "cannot resolve $p"
  inside "${real% (deleted)}" || die 3 "$p is outside the workspace (through a symlink)"
  [ -d /dev/fd/3 ] && die 5 "$p is a directory"
  [ -f /dev/fd/3 ] || die 9 "$p is not a regular file"
}
unopened() {  # opening $1 failed: say why (a link leading out is an escape, not a permission error)
  local real
  real=$(realpath -m -- "$1") && inside "$real" || die 3 "$p is outside the workspace (through a symlink)"
  [ -e "$1" ] || [ "$2" = write ] || die 4 "$p: no such file"
  die 9 "cannot open $p"
}
fmt='%y/%s/%m/%T@\0%l\0%f\0'
case $op in
read)
    [ -n "$rel" ] || die 5 "$p is a directory"
    [ -p "$p" ] && die 9 "$p is not a regular file"
    { exec 3<"$p"; } 2>/dev/null || unopened "$p" read
    opened
    if [ -n "$arg" ] && [ "$(stat -L -c %s /dev/fd/3)" -gt "$arg" ]; then die 8 "$p is larger than $arg bytes"; fi
    exec cat <&3 ;;
write)
    mode=${arg%%:*} make=0
    [ "${arg#*:}" = parents ] && make=1
    walk "$dir" "$make" "${p%/*}"
    [ -n "$name" ] && [ ! -d "./$name" ] || die 5 "$p is a directory"
    [ -p "./$name" ] && die 9 "$p is not a regular file"
    if [ -L "./$name" ]; then  # never create a file outside (the check after opening is the real one)
        real=$(realpath -m -- "./$name") && inside "$real" || die 3 "$p is outside the workspace (through a symlink)"
    fi
    { exec 3<>"./$name"; } 2>/dev/null || unopened "./$name" write
    opened
    cat >/proc/self/fd/3 || die 9 "cannot write $p"
    chmod "$mode" /proc/self/fd/3 || die 9 "cannot chmod $p" ;;
stat)
    enter "$dir" 0
    case $? in 0) ;; 3) die 3 "$p is outside the workspace (through a symlink)" ;; *) exit 4 ;; esac
    [ -n "$name" ] || exec find . -maxdepth 0 -printf "$fmt"
    [ -e "./$name" ] || [ -L "./$name" ] || exit 4
    exec find "./$name" -maxdepth 0 -printf "$fmt" ;;
list)
    walk "$rel" 0 "$p"
    exec find . -mindepth 1 -maxdepth 1 -printf "$fmt" ;;
remove)
    [ -n "$rel" ] || die 3 "refusing to remove the workspace itself"
    enter "$dir" 0
    case $? in 0) ;; 3) die 3 "$p is outside the workspace (through a symlink)" ;; *) die 4 "$p: no such file or directory" ;; esac
    [ -e "./$name" ] || [ -L "./$name" ] || die 4 "$p: no such file or directory"
    if [ -d "./$name" ] && [ ! -L "./$name" ]; then
        if [ "$arg" = recursive ]; then rm -rf -- "./$name" || die 9 "cannot remove $p"
        else rmdir -- "./$name" 2>/dev/null || die 7 "$p is a non-empty directory (use recursive)"; fi
    else
        rm -f -- "./$name" || die 9 "cannot remove $p"
    fi ;;
mkdir)
    [ -n "$rel" ] || exit 0
    make=0
    [ "$arg" = parents ] && make=1
    walk "$dir" "$make" "${p%/*}"
    [ -d "./$name" ] && exit 0
    [ -e "./$name" ] || [ -L "./$name" ] && die 7 "$p exists and is not a directory"
    mkdir -- "./$name" || die 9 "cannot create $p" ;;
resolve-read | resolve-write)
    if [ "$p" = "$root" ]; then lex=$root
    else
        parent=$(realpath -m -- "${p%/*}/") || die 9 "cannot resolve $p"
        inside "$parent" || die 3 "$p is outside the workspace (through a symlink)"
        lex=$parent/${p##*/}
    fi
    real=$(realpath -m -- "$lex") || die 9 "cannot resolve $p"
    inside "$real" || die 3 "$p is outside the workspace (through a symlink)"
    if [ "$op" = resolve-read ]; then
        [ -e "$real" ] || die 4 "$p: no such file"
        [ -d "$real" ] && die 5 "$p is a directory"
        [ -f "$real" ] || die 9 "$p is not a regular file"
        if [ -n "$arg" ] && [ "$(stat -c %s -- "$real")" -gt "$arg" ]; then die 8 "$p is larger than $arg bytes"; fi
    else
        dir=${real%/*}; [ -n "$dir" ] || dir=/
        if [ ! -d "$dir" ]; then
            [ -e "$dir" ] && die 6 "${p%/*} is not a directory"
            [ "${arg#*:}" = parents ] || die 4 "${p%/*}: no such directory"
            mkdir -p -- "$dir" || die 9 "cannot create ${p%/*}"
        fi
        [ -d "$real" ] && die 5 "$p is a directory"
    fi
    printf '%s' "$real" ;;
*) die 9 "unknown op $op" ;;
esac
"""

EXIT_ERRORS: dict[int, type[SandboxError]] = {
    3: PathEscapeError,
    4: SandboxFileNotFound,
    5: SandboxIsADirectory,
    6: SandboxNotADirectory,
    7: SandboxFileExists,
}
T = TypeVar("T")

_KINDS: dict[str, FileKind] = {"f": "file", "d": "dir", "l": "symlink"}


def optional_sdk(name: str) -> Any:
    """Import the vendor SDK a backend named like it needs (an optional extra), or say how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise SandboxError(
            f"the {name} backend needs the {name} SDK: pip install 'agentcore[{name}]' (or pip install {name})"
        ) from exc


def parse_entries(raw: bytes, directory: str | None) -> list[FileInfo]:
    """Parse ``find -printf '%y/%s/%m/%T@\\0%l\\0%f\\0'`` records into :class:`FileInfo`."""
    fields = raw.split(b"\0")
    entries: list[FileInfo] = []
    for i in range(0, len(fields) - 2, 3):
        head, link, name_b = fields[i], fields[i + 1], fields[i + 2]
        kind, size, mode, mtime = head.decode().split("/", 3)
        name = name_b.decode("utf-8", errors="surrogateescape")
        path = posixpath.join(directory, name) if directory is not None else name
        entries.append(
            FileInfo(
                path=path,
                name=posixpath.basename(path) or path,
                type=_KINDS.get(kind, "other"),
                size=int(size),
                mode=int(mode, 8),
                mtime=float(mtime),
                symlink_target=link.decode("utf-8", errors="surrogateescape") if kind == "l" else None,
            )
        )
    return sorted(entries, key=lambda e: e.name)


FIND_SHELLS = (
    "for d in /proc/[0-9]*; do c=$(tr '\\0' ' ' < \"$d/cmdline\" 2>/dev/null) || continue; "
    'case "$c" in *agentcore"-"shell*) echo "${d#/proc/}";; esac; done'
)
"""Pids of the persistent shells in a sandbox (the pattern is split so the script does not find itself)."""


class ExecFilesSandbox(LoopSandbox):
    """Base of the remote backends: every operation runs on the shared sandbox loop thread
    (:class:`~._loop_sandbox.LoopSandbox`), and the file API runs :data:`FILES_SCRIPT` inside the sandbox.

    Backends implement ``_exec`` (and may override ``_read_file``/``_write_file``/``_run_files``/
    ``_upload``/``_download``); the public methods are defined here.
    """

    sweep_orphans: bool = True
    """A shell timeout also kills what the command re-parented to pid 1 (``(cmd &)``, ``setsid cmd &``):
    right where pid 1 is the sandbox's own init (a container, a VM). Turn it off when the shell shares
    the host's pid namespace."""

    def _orphan_source(self) -> OrphanSource:
        return "in-band" if self.sweep_orphans else None

    # ------------------------------------------------------------------ files on the sandbox loop

    async def read_file(self, path: str, *, max_bytes: int | None = 10_000_000) -> bytes:
        return await on_sandbox_loop(self._read_file(path, max_bytes=max_bytes))

    async def write_file(
        self, path: str, data: bytes | str, *, mode: int = 0o644, make_parents: bool = True
    ) -> None:
        await on_sandbox_loop(self._write_file(path, data, mode=mode, make_parents=make_parents))

    async def list_dir(self, path: str = ".") -> list[FileInfo]:
        return await on_sandbox_loop(self._list_dir(path))

    async def stat(self, path: str) -> FileInfo | None:
        return await on_sandbox_loop(self._stat(path))

    async def remove(self, path: str, *, recursive: bool = False) -> None:
        await on_sandbox_loop(self._files("remove", path, "recursive" if recursive else ""))

    async def mkdir(self, path: str, *, parents: bool = True) -> None:
        await on_sandbox_loop(self._files("mkdir", path, "parents" if parents else ""))

    async def upload(self, local_path: str | os.PathLike[str], remote_path: str) -> None:
        await on_sandbox_loop(self._upload(local_path, remote_path))

    async def download(self, remote_path: str, local_path: str | os.PathLike[str]) -> None:
        await on_sandbox_loop(self._download(remote_path, local_path))

    async def _upload(self, local_path: str | os.PathLike[str], remote_path: str) -> None:
        await Sandbox.upload(self, local_path, remote_path)

    async def _download(self, remote_path: str, local_path: str | os.PathLike[str]) -> None:
        await Sandbox.download(self, remote_path, local_path)

    async def _kill_tree(self, pid: int) -> None:
        """SIGKILL ``pid`` (inside the sandbox) and every process below it, by process group."""
        await self._exec(ExecCall(kill_tree_argv(pid), timeout=10.0))

    async def _kill_timed_out(self, job: WrappedExec, stderr: bytes) -> None:
        """Kill the process tree of a timed-out exec, once its wrapper's pid line is in ``stderr``."""
        pid = job.pid(stderr)
        if pid is not None:
            with contextlib.suppress(Exception):
                await self._kill_tree(pid)

    async def _end_stale_shells(self) -> None:
        """After an :meth:`attach`: end the persistent shells a previous owner left running (found by
        their marker among the sandbox's processes) and what runs below them. Only where the sandbox has
        a PID namespace of its own (:attr:`sweep_orphans`): elsewhere the scan would see the host's."""
        if not self.sweep_orphans:
            return
        with contextlib.suppress(Exception):
            found = await self._exec(ExecCall(["sh", "-c", FIND_SHELLS], timeout=10.0))
            for pid in found.text.split():
                if pid.isdigit():
                    await self._kill_tree(int(pid))

    def _live(self, handle: T | None) -> T:
        """``handle`` (the vendor SDK's sandbox object) while this sandbox runs; SandboxDied once closed."""
        self._check_running()
        if handle is None:
            raise SandboxDied(f"sandbox {self.id} is closed")
        return handle

    # ------------------------------------------------------------------ the file script

    async def _files(self, op: str, path: str, arg: str = "", *, stdin: bytes | None = None) -> ExecResult:
        self._check_running()
        resolved = resolve_path(self.config.workdir, path)
        root = posixpath.normpath(self.config.workdir)
        argv: Sequence[str] = ["bash", "-c", FILES_SCRIPT, "files", op, root, resolved, arg]
        result = await self._run_files(argv, stdin, max(self.config.timeout_s, 60.0))
        if result.timed_out:
            raise SandboxError(f"{op} {path!r} timed out")
        if result.exit_code not in (0, None):
            message = result.stderr.decode("utf-8", errors="replace").strip() or f"{op} {path!r} failed"
            raise EXIT_ERRORS.get(result.exit_code, SandboxError)(message)
        if result.exit_code is None:
            raise SandboxError(f"{op} {path!r} failed: the sandbox did not report an exit status")
        return result

    async def _run_files(self, argv: Sequence[str], stdin: bytes | None, timeout: float) -> ExecResult:  # noqa: ASYNC109
        """Run one file operation; stdout must come back byte-exact. Default: one exec."""
        return await self._exec(ExecCall(argv, stdin=stdin, timeout=timeout, max_output_bytes=1 << 62))

    async def resolve_for_read(self, path: str, *, max_bytes: int | None = None) -> str:
        """The real path of an existing regular file inside the workspace."""
        return (await self._files("resolve-read", path, "" if max_bytes is None else str(max_bytes))).text

    async def resolve_for_write(self, path: str, *, mode: int = 0o644, make_parents: bool = True) -> str:
        """The real path a write to ``path`` lands on (parents created when asked)."""
        arg = f"{mode:o}:{'parents' if make_parents else ''}"
        return (await self._files("resolve-write", path, arg)).text

    async def _read_file(self, path: str, *, max_bytes: int | None = 10_000_000) -> bytes:
        return (await self._files("read", path, "" if max_bytes is None else str(max_bytes))).stdout

    async def _write_file(
        self, path: str, data: bytes | str, *, mode: int = 0o644, make_parents: bool = True
    ) -> None:
        payload = data.encode() if isinstance(data, str) else bytes(data)
        await self._files("write", path, f"{mode:o}:{'parents' if make_parents else ''}", stdin=payload)

    async def _list_dir(self, path: str = ".") -> list[FileInfo]:
        resolved = resolve_path(self.config.workdir, path)
        result = await self._files("list", path)
        # find prints the real directory's entries; report them under the path the caller used.
        return parse_entries(result.stdout, resolved)

    async def _stat(self, path: str) -> FileInfo | None:
        resolved = resolve_path(self.config.workdir, path)
        try:
            result = await self._files("stat", path)
        except SandboxFileNotFound:
            return None
        entries = parse_entries(result.stdout, None)
        if not entries:
            return None
        found = entries[0]
        return FileInfo(
            path=resolved,
            name=posixpath.basename(resolved) or resolved,
            type=found.type,
            size=found.size,
            mode=found.mode,
            mtime=found.mtime,
            symlink_target=found.symlink_target,
        )
