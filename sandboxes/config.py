"""The backend-neutral settings of a sandbox (:class:`SandboxConfig`) and the environment its shells
start with. Re-exported by :mod:`agentcore.sandboxes.base`."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from agentcore import tracing
from agentcore.errors import UserError

if TYPE_CHECKING:
    from .desktop import DesktopConfig

__all__ = ["DEFAULT_SHELL_ENV", "Lifetime", "Network", "SandboxConfig", "register_env_secrets"]

DEFAULT_SHELL_ENV: Mapping[str, str] = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TERM": "dumb",
    "NO_COLOR": "1",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "MANPAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_EDITOR": "true",
    "EDITOR": "true",
    "VISUAL": "true",
    "DEBIAN_FRONTEND": "noninteractive",
    "PIP_NO_INPUT": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PYTHONUNBUFFERED": "1",
    # An agent edits files faster than mtime resolution: a same-size edit within one second would
    # otherwise run stale cached bytecode.
    "PYTHONDONTWRITEBYTECODE": "1",
    "CI": "1",
}
"""Non-interactive defaults every shell and exec starts with (the caller's ``env`` wins)."""

Lifetime = Literal["run", "session"]
Network = Literal["none", "open"]

_PLAIN_ENV = frozenset(
    {*DEFAULT_SHELL_ENV, "PATH", "HOME", "USER", "SHELL", "PWD", "TMPDIR", "TERM", "TZ", "LANG", "PYTHONPATH"}
)


def register_env_secrets(env: Mapping[str, str]) -> None:
    """Treat the values handed to a sandbox as secrets (``agentcore.tracing.add_secret``): those under a
    secret-looking name (``*KEY*``, ``*TOKEN*``…; 4+ characters) never reach a trace nor, with
    ``SecretRedactor``, the model; every other value of 8+ characters never reaches a trace. The
    well-known non-secret variables (``PATH``, ``HOME``, ``LANG``, ``LC_*``…) and bare paths are left."""
    for key, value in env.items():
        if key in _PLAIN_ENV or key.startswith("LC_"):
            continue
        if tracing._SECRET_NAME.search(key):
            tracing.add_secret(value)
        elif len(value) >= 8 and not value.startswith(("/", "~", ".")):
            tracing.add_secret(value, trace_only=True)


@dataclass(frozen=True)
class SandboxConfig:
    """Backend-neutral settings. Every default is the safe one.

    Sizes are MiB, times are seconds. A backend that cannot enforce a limit says so in its docstring.
    """

    image: str | None = None
    """Docker image / E2B template / Modal image. The local backend uses the host's ``/usr`` when None."""
    workdir: str = "/workspace"
    """Absolute sandbox path of the workspace; the file API is confined to it, shells start in it."""
    env: Mapping[str, str] = field(default_factory=dict)
    """The only variables the sandbox sees, on top of :data:`DEFAULT_SHELL_ENV`. Never the host's."""
    network: Network = "none"
    """``"none"``: loopback only. ``"open"``: outbound allowed (backend permitting)."""
    cpu: float = 1.0
    """CPU cores (quota)."""
    memory_mb: int = 1024
    """Memory for the sandbox's processes (exceeding it OOM-kills the offender); files come on top."""
    pids: int = 256
    """Maximum number of processes/threads (fork-bomb cap)."""
    disk_mb: int = 1024
    """Size of the writable workspace."""
    tmp_mb: int = 256
    """Size of ``/tmp``."""
    lifetime: Lifetime = "run"
    """``"run"``: the runner closes a sandbox it started when the run ends. ``"session"``: it lives
    until :meth:`Sandbox.close` (for example across the turns of a chat session)."""
    max_lifetime_s: float | None = 3600.0
    """Hard wall-clock TTL after start; the backend destroys the sandbox when it expires."""
    timeout_s: float = 120.0
    """Default timeout of one ``shell``/``exec`` command."""
    max_output_bytes: int = 64_000
    """Output kept per command (head and tail halves; the cut is marked)."""
    kill_grace_s: float = 2.0
    """After a timeout kill, how long to wait for the shell before restarting it."""
    user: str = "sandbox"
    """User name inside the sandbox (never root where the backend allows)."""
    uid: int = 1000
    """Numeric id of that user inside the sandbox."""
    read_only_root: bool = True
    """The root file system is read-only; only the workspace and ``/tmp`` are writable."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels/tags/metadata put on every resource (plus ``agentcore.sandbox`` and
    ``agentcore.session``). The janitor finds leaked resources by them."""
    session_id: str | None = None
    """Ties the resources to an agentcore session (``agentcore.session`` label)."""
    persist_shell_state: bool = True
    """Write cwd and exported env to a state file after every command so a restarted shell gets them
    back. Costs a fraction of a millisecond per command."""
    approve_tools: tuple[str, ...] = ()
    """Agent tools of this sandbox (``shell``, ``write_file``, ``edit_file``…) that pause the run for
    human approval before each call (see docs/control.md)."""
    desktop: DesktopConfig | None = None
    """A virtual display started with the sandbox (``sandbox.desktop``; docs/computer-use.md)."""

    def __post_init__(self) -> None:
        if not posixpath.isabs(self.workdir) or posixpath.normpath(self.workdir) in ("/", "//"):
            raise UserError(f"SandboxConfig.workdir must be an absolute path below /, got {self.workdir!r}")
        if self.network not in ("none", "open"):
            raise UserError(f"SandboxConfig.network must be 'none' or 'open', got {self.network!r}")
        if self.lifetime not in ("run", "session"):
            raise UserError(f"SandboxConfig.lifetime must be 'run' or 'session', got {self.lifetime!r}")
        for name in ("cpu", "memory_mb", "pids", "disk_mb", "tmp_mb", "timeout_s", "max_output_bytes"):
            if getattr(self, name) <= 0:
                raise UserError(f"SandboxConfig.{name} must be positive")
        if self.max_lifetime_s is not None and self.max_lifetime_s <= 0:
            raise UserError("SandboxConfig.max_lifetime_s must be positive or None")
        for key, value in self.env.items():
            if not key or "=" in key or "\0" in key or "\0" in value:
                raise UserError(f"invalid environment variable name or value: {key!r}")
        register_env_secrets(self.env)

    @property
    def memory_limit_mb(self) -> int:
        """The hard memory limit of the whole sandbox: ``memory_mb`` plus the tmpfs workspace and ``/tmp``,
        whose pages count against it too. A full workspace is then ENOSPC, never an OOM kill."""
        return self.memory_mb + self.disk_mb + self.tmp_mb

    def shell_env(self) -> dict[str, str]:
        """The environment shells and execs start with: safe defaults, HOME/USER, then ``env``."""
        env = dict(DEFAULT_SHELL_ENV)
        env["HOME"] = self.workdir
        env["USER"] = self.user
        env.update(self.env)
        return env
