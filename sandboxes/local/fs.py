"""Host-side file operations on a running bubblewrap sandbox, confined to its workspace.

The workspace is a tmpfs inside the sandbox's mount namespace; the host reaches it through
``/proc/<pid>/root`` of a sandbox process. Two rules keep the sandbox from turning these operations
into a host escape (SANDBOX.md §5.3: a host ``open()`` followed a symlink the sandbox planted):

* Paths are walked one component at a time from a directory fd with ``O_NOFOLLOW``. A symlink is
  resolved *by us*, inside the workspace: an absolute target is a sandbox path (it must lie inside the
  workspace) and a relative one may not climb above it; anything else is :class:`PathEscapeError`.
  A link swapped in between our check and our open makes the open fail, never follow.
* Every operation runs in one worker thread whose file-system credentials are the sandbox user's
  (``setfsuid``/``setfsgid``, no supplementary groups): even a bug in the walk cannot read what the
  sandbox user could not, and created files belong to that user.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import errno
import os
import posixpath
import shutil
import stat as st
from collections.abc import Callable
from typing import TypeVar

from agentcore.errors import PathEscapeError, SandboxError

from ..base import (
    FileInfo,
    SandboxFileExists,
    SandboxFileNotFound,
    SandboxIsADirectory,
    SandboxNotADirectory,
    kind_of_mode,
    relative_to_workdir,
    resolve_path,
)

T = TypeVar("T")

_DIR = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MAX_LINKS = 40
_SYS_SETGROUPS = 116  # x86_64; the raw syscall changes only the calling thread


def _drop_fs_credentials(uid: int, gid: int) -> None:
    """Make the current thread touch files as ``uid:gid`` (Linux file-system ids are per thread)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if os.uname().machine in ("x86_64", "amd64"):
        libc.syscall(_SYS_SETGROUPS, 0, None)
    libc.setfsgid(gid)
    libc.setfsuid(uid)
    if libc.setfsuid(-1 & 0xFFFFFFFF) != uid:  # setfsuid returns the previous value
        raise SandboxError("could not switch the file worker to the sandbox user")


class ConfinedFiles:
    """File API of one local sandbox. ``root_pid()`` names a process inside the sandbox."""

    def __init__(self, root_pid: Callable[[], int], workdir: str, uid: int, gid: int) -> None:
        self._root_pid = root_pid
        self._workdir = posixpath.normpath(workdir)

        def init() -> None:
            if os.geteuid() == 0:
                _drop_fs_credentials(uid, gid)

        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="agentcore-local-fs", initializer=init
        )

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self, fn: Callable[[], T]) -> T:
        def guarded() -> T:
            try:
                return fn()
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    raise SandboxError("no space left in the sandbox workspace") from None
                raise SandboxError(f"file operation failed: {exc.strerror or exc}") from None

        return await asyncio.get_running_loop().run_in_executor(self._pool, guarded)

    # ------------------------------------------------------------------ walking

    def _open_workspace(self) -> int:
        fd = os.open(f"/proc/{self._root_pid()}/root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        for part in relative_to_workdir("/", self._workdir):
            try:
                nxt = os.open(part, _DIR, dir_fd=fd)
            finally:
                os.close(fd)
            fd = nxt
        return fd

    def _walk(self, path: str, *, follow_last: bool, make_dirs: bool = False) -> tuple[list[int], str | None]:
        """Resolve ``path`` inside the workspace. Returns the fd stack (last = parent directory) and
        the final name (None when the path is the workspace itself). The caller closes the fds."""
        todo = relative_to_workdir(self._workdir, resolve_path(self._workdir, path))
        stack = [self._open_workspace()]
        links = 0
        try:
            while todo:
                comp = todo.pop(0)
                if comp in ("", "."):
                    continue
                if comp == "..":
                    if len(stack) == 1:
                        raise PathEscapeError(f"{path}: a symlink leads outside the workspace")
                    os.close(stack.pop())
                    continue
                last = not todo
                if last and not follow_last:
                    return stack, comp
                try:
                    info = os.stat(comp, dir_fd=stack[-1], follow_symlinks=False)
                except FileNotFoundError:
                    if last:
                        return stack, comp
                    if not make_dirs:
                        raise SandboxFileNotFound(f"{path}: no such file or directory") from None
                    os.mkdir(comp, 0o755, dir_fd=stack[-1])
                    info = os.stat(comp, dir_fd=stack[-1], follow_symlinks=False)
                if st.S_ISLNK(info.st_mode):
                    links += 1
                    if links > _MAX_LINKS:
                        raise SandboxError(f"{path}: too many levels of symbolic links")
                    target = os.readlink(comp, dir_fd=stack[-1])
                    if target.startswith("/"):
                        inside = resolve_path(self._workdir, target)
                        for fd in stack[1:]:
                            os.close(fd)
                        del stack[1:]
                        todo = relative_to_workdir(self._workdir, inside) + todo
                    else:
                        todo = target.split("/") + todo
                    continue
                if last:
                    return stack, comp
                if not st.S_ISDIR(info.st_mode):
                    raise SandboxNotADirectory(f"{path}: {comp} is not a directory")
                stack.append(os.open(comp, _DIR, dir_fd=stack[-1]))
            return stack, None
        except PathEscapeError as exc:
            _close_all(stack)
            raise PathEscapeError(f"{path}: resolves outside the workspace ({exc})") from None
        except BaseException:
            _close_all(stack)
            raise

    def _abs(self, path: str) -> str:
        return resolve_path(self._workdir, path)

    # ------------------------------------------------------------------ operations

    async def read(self, path: str, max_bytes: int | None) -> bytes:
        def op() -> bytes:
            stack, name = self._walk(path, follow_last=True)
            try:
                if name is None:
                    raise SandboxIsADirectory(f"{path}: is a directory")
                flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
                fd = _os_call(path, lambda: os.open(name, flags, dir_fd=stack[-1]))
                try:
                    info = os.fstat(fd)
                    if st.S_ISDIR(info.st_mode):
                        raise SandboxIsADirectory(f"{path}: is a directory")
                    if not st.S_ISREG(info.st_mode):
                        raise SandboxError(f"{path}: not a regular file (FIFOs and devices are not read)")
                    if max_bytes is not None and info.st_size > max_bytes:
                        raise SandboxError(
                            f"{path}: {info.st_size:,} bytes is larger than the limit {max_bytes:,}"
                        )
                    chunks: list[bytes] = []
                    total = 0
                    while True:
                        chunk = os.read(fd, 1 << 20)
                        if not chunk:
                            break
                        total += len(chunk)
                        if max_bytes is not None and total > max_bytes:
                            raise SandboxError(f"{path}: larger than the limit {max_bytes:,} bytes")
                        chunks.append(chunk)
                    return b"".join(chunks)
                finally:
                    os.close(fd)
            finally:
                _close_all(stack)

        return await self._run(op)

    async def write(self, path: str, data: bytes, mode: int, make_parents: bool) -> None:
        def op() -> None:
            stack, name = self._walk(path, follow_last=True, make_dirs=make_parents)
            try:
                if name is None:
                    raise SandboxIsADirectory(f"{path}: is a directory")
                flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
                fd = _os_call(path, lambda: os.open(name, flags, mode & 0o7777, dir_fd=stack[-1]))
                try:
                    if not st.S_ISREG(os.fstat(fd).st_mode):
                        raise SandboxError(f"{path}: not a regular file")
                    view = memoryview(data)
                    while view:
                        try:
                            view = view[os.write(fd, view) :]
                        except OSError as exc:
                            raise SandboxError(f"{path}: {exc.strerror or exc}") from None
                    os.fchmod(fd, mode & 0o7777)
                finally:
                    os.close(fd)
            finally:
                _close_all(stack)

        await self._run(op)

    async def mkdir(self, path: str, parents: bool) -> None:
        def op() -> None:
            stack, name = self._walk(path, follow_last=True, make_dirs=parents)
            try:
                if name is None:
                    return
                try:
                    os.mkdir(name, 0o755, dir_fd=stack[-1])
                except FileExistsError:
                    if not st.S_ISDIR(os.stat(name, dir_fd=stack[-1], follow_symlinks=False).st_mode):
                        raise SandboxFileExists(f"{path}: exists and is not a directory") from None
                except FileNotFoundError:
                    raise SandboxFileNotFound(f"{path}: parent directory does not exist") from None
            finally:
                _close_all(stack)

        await self._run(op)

    async def stat(self, path: str) -> FileInfo | None:
        def op() -> FileInfo | None:
            try:
                stack, name = self._walk(path, follow_last=False)
            except (SandboxFileNotFound, SandboxNotADirectory):
                return None
            try:
                if name is None:
                    info = os.fstat(stack[-1])
                    return _info(self._abs(path), info, None)
                try:
                    info = os.stat(name, dir_fd=stack[-1], follow_symlinks=False)
                except (FileNotFoundError, NotADirectoryError):
                    return None
                target = os.readlink(name, dir_fd=stack[-1]) if st.S_ISLNK(info.st_mode) else None
                return _info(self._abs(path), info, target)
            finally:
                _close_all(stack)

        return await self._run(op)

    async def list_dir(self, path: str) -> list[FileInfo]:
        def op() -> list[FileInfo]:
            stack, name = self._walk(path, follow_last=True)
            base = self._abs(path)
            try:
                if name is None:
                    fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=stack[-1])
                else:
                    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
                    fd = _os_call(path, lambda: os.open(name, flags, dir_fd=stack[-1]))
                try:
                    out: list[FileInfo] = []
                    for entry in sorted(os.listdir(fd)):
                        try:
                            info = os.stat(entry, dir_fd=fd, follow_symlinks=False)
                        except FileNotFoundError:
                            continue
                        target = os.readlink(entry, dir_fd=fd) if st.S_ISLNK(info.st_mode) else None
                        out.append(_info(posixpath.join(base, entry), info, target))
                    return out
                finally:
                    os.close(fd)
            finally:
                _close_all(stack)

        return await self._run(op)

    async def remove(self, path: str, recursive: bool) -> None:
        def op() -> None:
            stack, name = self._walk(path, follow_last=False)
            try:
                if name is None:
                    raise SandboxError("refusing to remove the workspace itself")
                try:
                    info = os.stat(name, dir_fd=stack[-1], follow_symlinks=False)
                except FileNotFoundError:
                    raise SandboxFileNotFound(f"{path}: no such file or directory") from None
                if not st.S_ISDIR(info.st_mode):
                    os.unlink(name, dir_fd=stack[-1])
                elif recursive:
                    shutil.rmtree(name, dir_fd=stack[-1])
                else:
                    try:
                        os.rmdir(name, dir_fd=stack[-1])
                    except OSError as exc:
                        if exc.errno == errno.ENOTEMPTY:
                            raise SandboxFileExists(f"{path}: directory not empty (use recursive)") from None
                        raise
            finally:
                _close_all(stack)

        await self._run(op)


def _info(path: str, info: os.stat_result, target: str | None) -> FileInfo:
    return FileInfo(
        path=path,
        name=posixpath.basename(path) or path,
        type=kind_of_mode(info.st_mode),
        size=info.st_size,
        mode=st.S_IMODE(info.st_mode),
        mtime=info.st_mtime,
        symlink_target=target,
    )


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    fds.clear()


def _os_call(path: str, fn: Callable[[], T]) -> T:
    """Map OS errors of the final open/write to typed sandbox errors."""
    try:
        return fn()
    except FileNotFoundError:
        raise SandboxFileNotFound(f"{path}: no such file or directory") from None
    except IsADirectoryError:
        raise SandboxIsADirectory(f"{path}: is a directory") from None
    except NotADirectoryError:
        raise SandboxNotADirectory(f"{path}: not a directory") from None
    except PermissionError:
        raise SandboxError(f"{path}: permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PathEscapeError(f"{path}: changed into a symlink while being opened") from None
        if exc.errno == errno.ENOSPC:
            raise SandboxError(f"{path}: no space left in the sandbox workspace") from None
        if exc.errno == errno.ENXIO:
            raise SandboxError(f"{path}: not a regular file") from None
        raise SandboxError(f"{path}: {exc.strerror}") from None
