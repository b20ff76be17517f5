"""OpenAI's hosted container as an agent's sandbox (issue 13 §4).

``Agent(sandbox=OpenAIContainer())`` (or ``hosted_container("openai")``) makes the agent's shell run in a
container OpenAI hosts instead of one of ours: the Responses adapter sends the ``shell`` tool with
``environment: {"type": "container_reference", "container_id": ...}`` and OpenAI runs the commands itself,
answering its own ``shell_call`` with a ``shell_call_output`` (both come back as one
:class:`~agentcore.messages.HostedToolUse`). Files move through the containers API of the real ``openai``
SDK: :meth:`OpenAIContainer.upload` before or during the run, :meth:`OpenAIContainer.download` after it.

Lifetime reads as for our backends: a container not started by the caller is created when the run starts
(``POST /v1/containers``) and deleted when it ends; one started by the caller (``async with``) lives until
the caller closes it; an existing one (``container_id=``) is reused and never deleted.

What is not available there, by construction: guardrails see the commands only after OpenAI ran them (in
the transcript), and approvals cannot hold a command back, so a container configured to ask approval for
``shell`` is refused (:class:`~agentcore.hosted.UnsupportedHostedToolError`) instead of silently running
unapproved commands.
"""

from __future__ import annotations

import asyncio
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import openai
from openai import AsyncOpenAI

from agentcore.errors import SandboxError, UserError
from agentcore.hosted import UnsupportedHostedToolError

from .auth import api_key_for

__all__ = ["MOUNT", "OpenAIContainer", "hosted_container"]

MOUNT = "/mnt/data"
"""Where uploaded files appear inside an OpenAI container (and where relative paths resolve)."""


@dataclass(frozen=True, slots=True)
class _Config:
    lifetime: Literal["run", "session"] = "run"


class OpenAIContainer:
    """A container hosted by OpenAI, used as the agent's sandbox. See the module docstring.

    ``container_id``: reuse an existing container (never deleted here). ``name``, ``memory_limit``
    (``"1g"``…``"64g"``) and ``expires_after_minutes`` apply to a container this object creates.
    ``client`` / ``api_key`` / ``base_url``: how to reach OpenAI (``OPENAI_API_KEY`` by default).
    ``auto=True``: no container is created up front; the ``shell`` tool asks for ``container_auto`` (with
    ``file_ids``, OpenAI file ids to put in it) and the container OpenAI makes is reused from then on.
    ``approve_tools``: accepted for symmetry with :class:`~agentcore.sandboxes.SandboxConfig`; naming
    ``shell`` raises, since OpenAI runs a command before anyone could approve it.
    """

    kind = "hosted_container"
    hosted_vendor = "openai"
    """Marks a sandbox-like object whose commands the model's vendor runs (see ``ModelRequest.hosted_tools``)."""

    def __init__(
        self,
        *,
        container_id: str | None = None,
        name: str = "agentcore",
        memory_limit: Literal["1g", "4g", "16g", "64g"] | None = None,
        expires_after_minutes: int | None = 20,
        client: AsyncOpenAI | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        approve_tools: tuple[str, ...] = (),
        auto: bool = False,
        file_ids: tuple[str, ...] = (),
    ) -> None:
        if "shell" in approve_tools or "*" in approve_tools:
            raise UnsupportedHostedToolError(
                "openai",
                "shell",
                "approvals cannot apply to a hosted container: OpenAI runs each command before it is seen "
                "here; use a sandbox of ours (local, docker, e2b, modal) to approve shell commands",
            )
        if auto and container_id is not None:
            raise UserError(
                "OpenAIContainer: auto=True makes OpenAI create the container; give no container_id"
            )
        self.name = name
        self.auto = auto
        self.file_ids = tuple(file_ids)
        self.memory_limit = memory_limit
        self.expires_after_minutes = expires_after_minutes
        self.config = _Config()
        self._given_id = container_id
        self._id: str | None = container_id
        self._client = client or AsyncOpenAI(
            api_key=api_key_for("openai", api_key, base_url), base_url=base_url, max_retries=2
        )
        self._owns_client = client is None
        self._start: asyncio.Task[None] | None = None
        self.started = False
        self.closed = False

    # ------------------------------------------------------------------ sandbox-like surface

    @property
    def container_id(self) -> str | None:
        """The container's id (``None`` before :meth:`start` creates one)."""
        return self._id

    def tools(self) -> tuple[Any, ...]:
        """No function tools: the shell is OpenAI's ``shell`` tool, run in the container."""
        return ()

    async def start(self) -> None:
        """Create the container (unless one is reused). Idempotent; concurrent callers share one start."""
        if self.closed:
            raise SandboxError("this OpenAI container was closed")
        if self._start is None:
            self._start = asyncio.ensure_future(self._create())
        await asyncio.shield(self._start)
        self.started = True

    async def _create(self) -> None:
        if self._id is not None or self.auto:
            return
        params: dict[str, Any] = {"name": self.name}
        if self.expires_after_minutes is not None:
            params["expires_after"] = {"anchor": "last_active_at", "minutes": self.expires_after_minutes}
        if self.memory_limit is not None:
            params["memory_limit"] = self.memory_limit
        try:
            created = await self._client.containers.create(**params)
        except openai.APIError as exc:
            raise SandboxError(f"OpenAI could not create a container: {exc}") from exc
        self._id = created.id

    async def ready(self) -> str | None:
        """Wait until the container exists; its id (``None``: ``auto`` and OpenAI has not made it yet)."""
        await self.start()
        return self._id

    async def _ready_id(self) -> str:
        cid = await self.ready()
        if cid is None:
            raise SandboxError(
                "this OpenAI container (auto=True) exists once the model first runs a command in it; "
                "pass file_ids= for inputs, or leave auto off to create the container at start"
            )
        return cid

    def shell_environment(self) -> dict[str, Any]:
        """The ``environment`` of the Responses ``shell`` tool for this container: ``container_auto``
        until OpenAI made the container (``auto=True``), then a reference to it."""
        if self._id is not None:
            return {"type": "container_reference", "container_id": self._id}
        if not self.auto:
            raise SandboxError("the OpenAI container is not started yet (await start())")
        env: dict[str, Any] = {"type": "container_auto"}
        if self.file_ids:
            env["file_ids"] = list(self.file_ids)
        if self.memory_limit is not None:
            env["memory_limit"] = self.memory_limit
        return env

    def observe(self, container_id: str) -> None:
        """The container OpenAI made for ``container_auto`` (read from its shell calls by the adapter): later
        requests reuse it, files can be downloaded from it, and it is deleted at close."""
        if self.auto and self._id is None and container_id:
            self._id = container_id

    async def shell(self, command: str, **_: Any) -> Any:
        """Refused: commands run in an OpenAI container only through the model's ``shell`` tool (OpenAI
        has no API to run one directly), so command verifiers cannot run here."""
        raise UnsupportedHostedToolError(
            "openai",
            "shell",
            f"cannot run {command!r} directly: commands run in an OpenAI container only through the "
            "model's shell tool (use a function verifier, or a sandbox of ours for command verifiers)",
        )

    async def exec(self, argv: Any, **kw: Any) -> Any:
        """Refused, as :meth:`shell`."""
        return await self.shell(" ".join(map(str, argv)) if isinstance(argv, list | tuple) else str(argv))

    async def close(self) -> None:
        """Delete the container this object created (a reused one is left alone). Idempotent."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._given_id is None:
                if self._start is not None:
                    with _suppress_api_errors():
                        await self._start
                if self._id is not None:  # created here, or made by OpenAI for container_auto
                    with _suppress_api_errors():
                        await self._client.containers.delete(self._id)
        finally:
            if self._owns_client:
                await self._client.close()

    async def __aenter__(self) -> OpenAIContainer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ files

    async def upload(self, source: str | Path, dest: str | None = None) -> str:
        """Upload a local file (or each file of a directory) into the container; the path it has there.
        OpenAI keeps uploads under ``/mnt/data`` by their file name (``dest`` names the file)."""
        cid = await self._ready_id()
        src = Path(source)
        children = await asyncio.to_thread(_files_under, src)
        if children is not None:
            for child in children:
                await self._put(cid, child, child.name)
            return MOUNT
        data = await asyncio.to_thread(src.read_bytes)
        return await self._send(cid, posixpath.basename(dest) if dest else src.name, data)

    async def write_file(self, path: str, data: bytes | str) -> str:
        """Write ``data`` as a file of the container; its path there. OpenAI places files directly under
        ``/mnt/data`` by name, so ``path`` is a name (or ``/mnt/data/<name>``), not a deeper path."""
        name = path[len(MOUNT) + 1 :] if path.startswith(MOUNT + "/") else path
        if not name or "/" in name:
            raise SandboxError(
                f"{path!r}: files go directly under {MOUNT} in an OpenAI container (give a name)"
            )
        return await self._send(
            await self._ready_id(), name, data.encode() if isinstance(data, str) else data
        )

    async def _put(self, cid: str, path: Path, name: str) -> str:
        return await self._send(cid, name, await asyncio.to_thread(path.read_bytes))

    async def _send(self, cid: str, name: str, data: bytes) -> str:
        try:
            made = await self._client.containers.files.create(cid, file=(name, data))
        except openai.APIError as exc:
            raise SandboxError(f"upload of {name!r} to container {cid} failed: {exc}") from exc
        return made.path

    async def files(self) -> dict[str, str]:
        """The container's files: path → file id."""
        cid = await self._ready_id()
        out: dict[str, str] = {}
        try:
            async for f in self._client.containers.files.list(cid, limit=100):
                out[f.path] = f.id
        except openai.APIError as exc:
            raise SandboxError(f"listing the files of container {cid} failed: {exc}") from exc
        return out

    async def read_file(self, path: str, *, max_bytes: int | None = 10_000_000) -> bytes:
        """The bytes of a file in the container (a path relative to ``/mnt/data``, or absolute).
        Raises :class:`~agentcore.errors.SandboxError` when it is missing or larger than ``max_bytes``."""
        cid = await self._ready_id()
        want = path if path.startswith("/") else posixpath.join(MOUNT, path)
        files = await self.files()
        file_id = files.get(want)
        if file_id is None:
            raise SandboxError(
                f"no file {want!r} in container {cid} (it has: {', '.join(sorted(files)) or 'none'})"
            )
        try:
            content = await self._client.containers.files.content.retrieve(file_id, container_id=cid)
        except openai.APIError as exc:
            raise SandboxError(f"download of {want!r} from container {cid} failed: {exc}") from exc
        data = content.content
        if max_bytes is not None and len(data) > max_bytes:
            raise SandboxError(f"{want}: {len(data)} bytes, over max_bytes={max_bytes}")
        return data

    async def download(self, path: str, dest: str | Path) -> Path:
        """Copy a file of the container to ``dest`` (a file path, or an existing directory)."""
        data = await self.read_file(path)
        return await asyncio.to_thread(_write, Path(dest), posixpath.basename(path), data)


def _files_under(src: Path) -> list[Path] | None:
    """The files of a directory, sorted (``None`` when ``src`` is not a directory)."""
    return sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else None


def _write(target: Path, name: str, data: bytes) -> Path:
    if target.is_dir():
        target = target / name
    target.write_bytes(data)
    return target


class _suppress_api_errors:
    """Best-effort cleanup: an API or transport error while closing is not the caller's problem."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        return kind is not None and issubclass(kind, openai.APIError | SandboxError)


def hosted_container(vendor: str = "openai", **options: Any) -> OpenAIContainer:
    """A vendor-hosted container as an agent's sandbox: ``Agent(sandbox=hosted_container("openai"))``."""
    if vendor != "openai":
        raise UserError(f"no hosted container for vendor {vendor!r} in this adapter package (try 'openai')")
    return OpenAIContainer(**options)
