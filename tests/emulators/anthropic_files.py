"""The Anthropic emulator's Files API and the code execution container it runs scripted commands in.

Files API (beta ``files-api-2025-04-14``, required on every route, as the vendor's reference says):
``POST /v1/files`` (multipart, field ``file``), ``GET /v1/files``, ``GET /v1/files/{id}`` (metadata:
``id``, ``type: "file"``, ``filename``, ``mime_type``, ``size_bytes``, ``created_at``, ``downloadable``),
``GET /v1/files/{id}/content`` (only files code produced are downloadable, as on the API: an upload
answers 400) and ``DELETE /v1/files/{id}`` (``{"id", "type": "file_deleted"}``).

In a Messages request, a ``container_upload`` block of a user turn (its shape is checked against the
SDK's param type by ``anthropic_rules``) must name an existing file, and needs the code execution tool
declared and the files beta. Its file is copied into the container the answer runs in.

Scripted code execution (:func:`run_blocks`): a ``bash_code_execution`` call whose result the emulator
computes by running the command in the container's directory (bubblewrap when available; the uploaded
files are there by name); files the command creates become downloadable Files API files, listed in the
result's ``content`` as ``bash_code_execution_output`` blocks, as the code execution recordings show.
The answer carries the container (``{"id", "expires_at"}``); a request that names it works in it again.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.emulators.anthropic_rules import Rejected
from tests.emulators.anthropic_server_tools import server_id
from tests.emulators.base import HTTPReply, RecordedRequest, multipart_fields

FILES_BETA = "files-api-2025-04-14"
_RUN = "__emulator_runs_this__"
_MOUNT = "/tmp/outputs"
"""Where a container's directory is seen by the commands (their working directory)."""


@dataclass
class StoredFile:
    id: str
    filename: str
    mime_type: str
    data: bytes
    downloadable: bool
    created_at: str = field(default_factory=lambda: _now())

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "file",
            "filename": self.filename,
            "mime_type": self.mime_type,
            "size_bytes": len(self.data),
            "created_at": self.created_at,
            "downloadable": self.downloadable,
        }


@dataclass
class FilesState:
    files: dict[str, StoredFile] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    containers: dict[str, Path] = field(default_factory=dict)
    """Containers made here: id -> their directory."""
    placed: dict[str, list[str]] = field(default_factory=dict)
    """Container id -> the file ids ``container_upload`` blocks placed in it."""
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="emu-anthropic-")))

    def produce(self, name: str, data: bytes, mime_type: str = "text/plain") -> str:
        """A file code produced (downloadable); its id."""
        fid = _file_id()
        self.files[fid] = StoredFile(fid, name, mime_type, data, downloadable=True)
        return fid


def files_state(state: dict[str, Any]) -> FilesState:
    found = state.get("files")
    if not isinstance(found, FilesState):
        found = state["files"] = FilesState()
    return found


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


def _file_id() -> str:
    return "file_011C" + os.urandom(10).hex()


def _error(status: int, message: str, kind: str) -> HTTPReply:
    return HTTPReply(status, {"type": "error", "error": {"type": kind, "message": message}})


# --------------------------------------------------------------------------- /v1/files


def handle_files(state: dict[str, Any], request: RecordedRequest, path: str) -> HTTPReply:
    """One Files API route (the caller checked the API key and version)."""
    betas = {b.strip() for b in request.headers.get("anthropic-beta", "").split(",")}
    if FILES_BETA not in betas:
        return _error(
            400,
            f"The Files API is in beta: send the `anthropic-beta: {FILES_BETA}` header",
            "invalid_request_error",
        )
    store = files_state(state)
    parts = path.strip("/").split("/")  # v1, files, [id], [content]
    if request.method == "POST" and len(parts) == 2:
        fields = multipart_fields(request)
        if "file" not in fields:
            return _error(400, "file: Field required", "invalid_request_error")
        name, data = fields["file"]
        if not name:
            return _error(400, "file: a file name is required", "invalid_request_error")
        mime = fields.get("_mime", (None, b""))[1].decode() or "application/octet-stream"
        fid = _file_id()
        store.files[fid] = StoredFile(fid, name, mime, data, downloadable=False)
        return HTTPReply(200, store.files[fid].view())
    if request.method == "GET" and len(parts) == 2:
        views = [f.view() for f in reversed(store.files.values())]
        first, last = (views[0]["id"], views[-1]["id"]) if views else (None, None)
        return HTTPReply(200, {"data": views, "first_id": first, "last_id": last, "has_more": False})
    found = store.files.get(parts[2]) if len(parts) >= 3 else None
    if found is None:
        return _error(404, f"File not found: {parts[2] if len(parts) > 2 else ''}", "not_found_error")
    if request.method == "GET" and len(parts) == 3:
        return HTTPReply(200, found.view())
    if request.method == "GET" and len(parts) == 4 and parts[3] == "content":
        if not found.downloadable:
            return _error(400, f"File {found.id} is not downloadable", "invalid_request_error")
        return HTTPReply(200, raw=found.data, headers={"content-type": found.mime_type})
    if request.method == "DELETE" and len(parts) == 3:
        del store.files[found.id]
        store.deleted.append(found.id)
        return HTTPReply(200, {"id": found.id, "type": "file_deleted"})
    return _error(404, f"{request.method} {path} not found", "not_found_error")


# --------------------------------------------------------------------------- container_upload blocks


def _uploads(body: dict[str, Any]) -> list[tuple[str, str]]:
    """``(where, file_id)`` of every ``container_upload`` block of the request's user turns (one in an
    assistant turn is the model's own, sent back)."""
    found = []
    for n, msg in enumerate(body.get("messages") or ()):
        content = msg.get("content") if isinstance(msg, dict) and msg.get("role") == "user" else None
        for m, block in enumerate(content if isinstance(content, list) else ()):
            if isinstance(block, dict) and block.get("type") == "container_upload":
                found.append((f"messages.{n}.content.{m}", str(block.get("file_id"))))
    return found


def check_uploads(state: dict[str, Any], body: dict[str, Any], betas: frozenset[str]) -> None:
    """Each ``container_upload`` names a file that exists, with code execution declared and the beta."""
    uploads = _uploads(body)
    if not uploads:
        return
    tools = body.get("tools") or ()
    if not any(isinstance(t, dict) and str(t.get("type", "")).startswith("code_execution_") for t in tools):
        raise Rejected(f"{uploads[0][0]}: `container_upload` blocks require the code execution tool")
    if FILES_BETA not in betas:
        raise Rejected(
            f"{uploads[0][0]}: `container_upload` blocks require the `anthropic-beta: {FILES_BETA}` header"
        )
    store = files_state(state)
    for where, fid in uploads:
        if fid not in store.files:
            raise Rejected(f"{where}.file_id: File '{fid}' not found", status=404, kind="not_found_error")


# --------------------------------------------------------------------------- scripted code execution


def run_blocks(command: str) -> list[dict[str, Any]]:
    """A ``bash_code_execution`` call whose result the emulator computes by running ``command`` in the
    container (see the module docstring)."""
    call_id = server_id()
    return [
        {
            "type": "server_tool_use",
            "id": call_id,
            "name": "bash_code_execution",
            "input": {"command": command},
        },
        {"type": "bash_code_execution_tool_result", "tool_use_id": call_id, "content": {"type": _RUN}},
    ]


def run_in_container(state: dict[str, Any], body: dict[str, Any], message: dict[str, Any]) -> None:
    """After the answer is built: pick its container (the request's, or a new one when it uploads files
    or runs scripted commands), place the uploaded files there and run the scripted commands."""
    store = files_state(state)
    content = message["content"]
    runs = [b for b in content if isinstance(b.get("content"), dict) and b["content"].get("type") == _RUN]
    uploads = [fid for _, fid in _uploads(body)]
    asked = body.get("container")
    asked = asked.get("id") if isinstance(asked, dict) else asked
    if not runs and not uploads and asked not in store.containers:
        return  # nothing of this module's: the scripted reply's own container (if any) stands
    if isinstance(message.get("container"), dict):
        cid = message["container"]["id"]
    elif isinstance(asked, str):
        cid = asked
    else:
        cid = "container_011C" + os.urandom(10).hex()
    root = store.containers.get(cid)
    if root is None:
        root = store.containers[cid] = store.workdir / cid
        root.mkdir(parents=True)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    message["container"] = {"id": cid, "expires_at": expires.isoformat().replace("+00:00", "Z")}
    placed = store.placed.setdefault(cid, [])
    for fid in uploads:
        upload = store.files[fid]
        (root / upload.filename).write_bytes(upload.data)
        if fid not in placed:
            placed.append(fid)
    uses = {b["id"]: b for b in content if b.get("type") == "server_tool_use"}
    for block in runs:
        command = uses[block["tool_use_id"]]["input"]["command"]
        before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
        done = _run(root, command)
        made = [p for p in sorted(root.rglob("*")) if p.is_file() and before.get(p) != p.stat().st_mtime_ns]
        outputs = [store.produce(p.name, p.read_bytes()) for p in made]
        block["content"] = {
            "type": "bash_code_execution_result",
            "stdout": done.stdout.decode("utf-8", "replace"),
            "stderr": done.stderr.decode("utf-8", "replace"),
            "return_code": done.returncode,
            "content": [{"type": "bash_code_execution_output", "file_id": f} for f in outputs],
        }


def _run(root: Path, command: str) -> subprocess.CompletedProcess[bytes]:
    bwrap = shutil.which("bwrap")
    if bwrap:
        argv = [bwrap, "--ro-bind", "/", "/", "--tmpfs", "/tmp", "--bind", str(root), _MOUNT,
                "--dev", "/dev", "--proc", "/proc", "--chdir", _MOUNT, "--unshare-all",
                "--die-with-parent", "bash", "-c", command]  # fmt: skip
        cwd = None
    else:
        argv, cwd = ["bash", "-c", command], str(root)
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(argv, 124, exc.stdout or b"", exc.stderr or b"timed out")
