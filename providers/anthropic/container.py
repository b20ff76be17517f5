"""Anthropic's code execution container as an agent's sandbox (issue 13 §4).

``Agent(sandbox=AnthropicContainer())`` (or ``hosted_container("anthropic")``) makes the agent's shell run
in the container Anthropic hosts for its code execution tool instead of one of ours: the adapter declares
``code_execution_20250825`` (with its beta), the model runs bash and edits files there itself, and each
``server_tool_use`` with its result comes back as one :class:`~agentcore.messages.HostedToolUse`.

Files move through the Files API (beta ``files-api-2025-04-14``) of the real ``anthropic`` SDK:
:meth:`AnthropicContainer.upload` stores a file and the next request places it in the container with a
``container_upload`` block after the latest user message (sent at that same place with every later
request); files the code wrote come back as file ids in the results and :meth:`~AnthropicContainer.download`
fetches them.

Lifetime reads as for our backends. Anthropic has no call to create or delete a container: the first
answer that runs code makes one, its id is kept here and sent with every later request while it has not
expired (so the container is reused across turns and runs), and it expires on its own. What this object
uploaded is deleted from the Files API when it closes (at the end of the run that started it, or of the
caller's ``async with``), unless ``keep_files=True``; files given by id (``file_ids=``) and the files the
code produced are never deleted here.

What is not available there, by construction: guardrails see the commands only after Anthropic ran them
(in the transcript), approvals cannot hold a command back (a container configured to approve ``shell``
is refused with :class:`~agentcore.hosted.UnsupportedHostedToolError`), and commands cannot be run
directly (so command verifiers are refused the same way).
"""

from __future__ import annotations

import asyncio
import mimetypes
import posixpath
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anthropic
from anthropic import AsyncAnthropic

from agentcore.errors import SandboxError, UserError
from agentcore.hosted import UnsupportedHostedToolError

from .._common import iso_timestamp
from .hosted import FILES_BETA, PROVIDER

__all__ = ["AnthropicContainer", "hosted_container"]

_BETAS: list[Any] = [FILES_BETA]
_APPROVABLE = frozenset({"shell", "bash", "code_execution", "*"})
_EXPIRY_MARGIN = 30.0
"""Seconds before ``expires_at`` after which the container is no longer sent (a new one is made)."""


@dataclass(frozen=True, slots=True)
class _Config:
    lifetime: Literal["run", "session"] = "run"


class AnthropicContainer:
    """Anthropic's code execution container, used as the agent's sandbox. See the module docstring.

    ``container_id``: reuse an existing container (else the first answer that runs code makes one).
    ``file_ids``: Files API files (uploaded elsewhere) to place in the container; never deleted here.
    ``keep_files``: keep what :meth:`upload` stored in the Files API after :meth:`close`.
    ``client`` / ``api_key`` / ``base_url``: how to reach Anthropic (``ANTHROPIC_API_KEY`` by default).
    ``approve_tools``: accepted for symmetry with :class:`~agentcore.sandboxes.SandboxConfig`; naming
    ``shell`` (or ``bash``, ``code_execution``, ``*``) raises, since Anthropic runs a command before
    anyone could approve it.
    """

    kind = "hosted_container"
    hosted_vendor = PROVIDER
    """Marks a sandbox-like object whose commands the model's vendor runs (see ``ModelRequest.hosted_tools``)."""

    def __init__(
        self,
        *,
        container_id: str | None = None,
        file_ids: tuple[str, ...] = (),
        keep_files: bool = False,
        client: AsyncAnthropic | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        approve_tools: tuple[str, ...] = (),
    ) -> None:
        if _APPROVABLE & set(approve_tools):
            raise UnsupportedHostedToolError(
                PROVIDER,
                "shell",
                "approvals cannot apply to a hosted container: Anthropic runs each command before it is "
                "seen here; use a sandbox of ours (local, docker, e2b, modal) to approve shell commands",
            )
        self.config = _Config()
        self.file_ids = tuple(file_ids)
        self.keep_files = keep_files
        self._id = container_id
        self._expires_at: float | None = None
        self._client = client or AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=2)
        self._owns_client = client is None
        self.uploaded: dict[str, str] = {}
        """Files this object stored in the Files API: file id -> name (deleted at close)."""
        self.produced: dict[str, str | None] = {}
        """Files the code wrote (from the results): file id -> name (``None`` until looked up)."""
        self._pending: list[str] = list(self.file_ids)
        self._placed: dict[str, tuple[str, ...]] = {}
        self.started = False
        self.closed = False

    # ------------------------------------------------------------------ sandbox-like surface

    @property
    def container_id(self) -> str | None:
        """The container's id (``None`` until an answer made one, or once it expired)."""
        if self._expires_at is not None and self._expires_at - _EXPIRY_MARGIN <= time.time():
            self._id, self._expires_at = None, None  # the next answer makes a new one (uploads go again)
        return self._id

    def tools(self) -> tuple[Any, ...]:
        """No function tools: the shell is Anthropic's code execution tool, run in the container."""
        return ()

    async def start(self) -> None:
        """Nothing to create (the first answer that runs code makes the container). Idempotent."""
        if self.closed:
            raise SandboxError("this Anthropic container was closed")
        self.started = True

    async def ready(self) -> str | None:
        await self.start()
        return self.container_id

    async def shell(self, command: str, **_: Any) -> Any:
        """Refused: commands run in an Anthropic container only through the model's code execution tool
        (there is no API to run one directly), so command verifiers cannot run here."""
        raise UnsupportedHostedToolError(
            PROVIDER,
            "shell",
            f"cannot run {command!r} directly: commands run in an Anthropic container only through the "
            "model's code execution tool (use a function verifier, or a sandbox of ours for command verifiers)",
        )

    async def exec(self, argv: Any, **kw: Any) -> Any:
        """Refused, as :meth:`shell`."""
        return await self.shell(" ".join(map(str, argv)) if isinstance(argv, list | tuple) else str(argv))

    async def close(self) -> None:
        """Delete what :meth:`upload` stored (unless ``keep_files``). Idempotent; the container itself
        expires on its own (Anthropic has no call to delete one)."""
        if self.closed:
            return
        self.closed = True
        try:
            if not self.keep_files:
                for file_id in list(self.uploaded):
                    try:
                        await self._client.beta.files.delete(file_id, betas=_BETAS)
                    except anthropic.APIError:
                        continue  # best effort: a cleanup error is not the caller's problem
                    del self.uploaded[file_id]
        finally:
            if self._owns_client:
                await self._client.close()

    async def __aenter__(self) -> AnthropicContainer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ files

    async def upload(self, source: str | Path | bytes, name: str | None = None) -> str:
        """Store a local file (or ``bytes``, then ``name`` is required) with the Files API; its file id.
        The next request places it in the container (a ``container_upload`` block)."""
        if isinstance(source, bytes):
            if not name:
                raise UserError("AnthropicContainer.upload: give a name for bytes")
            data = source
        else:
            src = Path(source)
            data = await asyncio.to_thread(_read, src)
            name = posixpath.basename(name) if name else src.name
        if self.closed:
            raise SandboxError("this Anthropic container was closed")
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        try:
            made = await self._client.beta.files.upload(file=(name, data, media), betas=_BETAS)
        except anthropic.APIError as exc:
            raise SandboxError(f"upload of {name!r} to the Anthropic Files API failed: {exc}") from exc
        self.uploaded[made.id] = name
        self._pending.append(made.id)
        return made.id

    async def write_file(self, path: str, data: bytes | str) -> str:
        """Upload ``data`` as a file named after ``path``'s last part; its file id."""
        name = posixpath.basename(path)
        if not name:
            raise SandboxError(f"{path!r}: give a file name")
        return await self.upload(data.encode() if isinstance(data, str) else data, name)

    async def files(self) -> dict[str, str]:
        """The files the code produced: name -> file id (names looked up with the Files API)."""
        out: dict[str, str] = {}
        for file_id, name in list(self.produced.items()):
            if name is None:
                try:
                    meta = await self._client.beta.files.retrieve_metadata(file_id, betas=_BETAS)
                except anthropic.APIError as exc:
                    raise SandboxError(f"looking up file {file_id} failed: {exc}") from exc
                name = self.produced[file_id] = meta.filename
            out[name] = file_id
        return out

    async def read_file(self, path: str, *, max_bytes: int | None = 10_000_000) -> bytes:
        """The bytes of a file the code produced, by file id or by name (its last path part).
        Raises :class:`~agentcore.errors.SandboxError` when it is unknown, not downloadable (an upload)
        or larger than ``max_bytes``."""
        file_id = path if path.startswith("file_") else None
        if file_id is None:
            files = await self.files()
            file_id = files.get(posixpath.basename(path))
            if file_id is None:
                raise SandboxError(
                    f"no file {path!r} produced in the Anthropic container "
                    f"(produced: {', '.join(sorted(files)) or 'none'})"
                )
        try:
            content = await self._client.beta.files.download(file_id, betas=_BETAS)
            data = await content.read()
        except anthropic.APIError as exc:
            raise SandboxError(f"download of {path!r} ({file_id}) failed: {exc}") from exc
        if max_bytes is not None and len(data) > max_bytes:
            raise SandboxError(f"{path}: {len(data)} bytes, over max_bytes={max_bytes}")
        return data

    async def download(self, path: str, dest: str | Path) -> Path:
        """Copy a file the code produced (by name or file id) to ``dest`` (a file path, or an existing
        directory)."""
        data = await self.read_file(path)
        name = posixpath.basename(path)
        if path.startswith("file_"):
            name = next((n for n, f in (await self.files()).items() if f == path), path)
        return await asyncio.to_thread(_write, Path(dest), name, data)

    # ------------------------------------------------------------------ what the adapter asks and tells

    def place_uploads(self, user_message_ids: list[str]) -> dict[str, tuple[str, ...]]:
        """Which files go with which user message of a request (``container_upload`` blocks): those
        already sent stay with their message; files not sent yet go with the latest one."""
        if self._pending and user_message_ids:
            last = user_message_ids[-1]
            self._placed[last] = (*self._placed.get(last, ()), *self._pending)
            self._pending.clear()
        return self._placed

    def observe(self, message: dict[str, Any]) -> None:
        """An answer's ``container`` (kept and reused) and the file ids its code results list."""
        container = message.get("container")
        if isinstance(container, dict) and isinstance(container.get("id"), str):
            self._id = container["id"]
            self._expires_at = iso_timestamp(container.get("expires_at"))
        for block in message.get("content") or ():
            content = block.get("content") if isinstance(block, dict) else None
            outputs = content.get("content") if isinstance(content, dict) else None
            for out in outputs if isinstance(outputs, list) else ():
                if isinstance(out, dict) and isinstance(out.get("file_id"), str):
                    self.produced.setdefault(out["file_id"], None)


def _read(src: Path) -> bytes:
    if src.is_dir():
        raise SandboxError(f"{src}: upload the files of a directory one by one")
    return src.read_bytes()


def _write(target: Path, name: str, data: bytes) -> Path:
    if target.is_dir():
        target = target / name
    target.write_bytes(data)
    return target


def hosted_container(vendor: str = "anthropic", **options: Any) -> AnthropicContainer:
    """A vendor-hosted container as an agent's sandbox: ``Agent(sandbox=hosted_container("anthropic"))``."""
    if vendor != "anthropic":
        raise UserError(
            f"no hosted container for vendor {vendor!r} in this adapter package (try 'anthropic')"
        )
    return AnthropicContainer(**options)
