"""Human approval of tool calls, and the serializable state of a paused run.

A tool with ``needs_approval`` (``True`` or a predicate) is not executed when the model calls it: the
run pauses and ``RunResult.interruptions`` lists the pending calls; ``RunResult.state`` is a
:class:`RunState`. The caller decides and resumes::

    result = await Runner.run(agent, "deploy it")
    if result.paused:
        state = result.state
        for pending in result.interruptions:
            state.approve(pending.call.call_id)      # or state.reject(call_id, "not today")
        result = await Runner.run(agent, state)

``RunState.to_json()`` / ``RunState.from_json()`` carry a paused run across processes (schema-versioned).
Security: the state is sealed with an HMAC and each decision is a token over (run id, call id, hash of the
arguments, decision), keyed by a secret only the application holds (``AGENTCORE_APPROVAL_KEY`` or a
0600 key file in the data directory). Editing the serialized state or minting an approval without the
key is detected; each approval is single-use (recorded in a ledger when consumed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApprovalError
from ..events import PendingApproval
from ..messages import Item, ToolCall, ToolResult, Usage, dump_items, load_items
from ..paths import data_dir

SCHEMA_VERSION = 1


def approval_key() -> bytes:
    env = os.environ.get("AGENTCORE_APPROVAL_KEY")
    if env:
        return env.encode()
    path = data_dir() / "approval.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
    return path.read_bytes()


def call_digest(run_id: str, call: ToolCall) -> str:
    h = hashlib.sha256()
    for part in (run_id, call.call_id, call.name, call.arguments):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _token(key: bytes, run_id: str, call_id: str, digest: str, approved: bool, reason: str = "") -> str:
    """The decision's token; a rejection's reason (which the model reads) is bound to it too."""
    msg = f"{run_id}\0{call_id}\0{digest}\0{'approve' if approved else 'reject'}"
    if reason:
        msg += f"\0{reason}"
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


@dataclass
class Decision:
    approved: bool
    reason: str = ""
    token: str = ""


@dataclass
class RunState:
    """Everything needed to resume a run that paused for approval."""

    run_id: str
    agent: str
    items: list[Item]
    history_len: int
    usage: Usage
    turn: int
    caches: dict[str, dict[str, Any]]
    pending: list[PendingApproval]
    completed: list[ToolResult] = field(default_factory=list)
    """Results of the same turn's calls that did not need approval."""
    view: dict[str, Any] | None = None
    session_id: str | None = None
    workspaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per agent, the workspace of the sandbox the run started, saved at pause time (see
    :mod:`agentcore.control.paused`): ``{"workdir", "entries"}``, or ``{"error": why}`` when not saved."""
    decisions: dict[str, Decision] = field(default_factory=dict)
    mac: str = ""

    # ------------------------------------------------------------------ decisions

    def _find(self, call_id: str) -> PendingApproval:
        for p in self.pending:
            if p.call.call_id == call_id:
                return p
        raise ApprovalError(f"no pending call {call_id!r} in run {self.run_id}")

    def approve(self, call_id: str, *, key: bytes | None = None) -> None:
        p = self._find(call_id)
        self.decisions[call_id] = Decision(
            True, "", _token(key or approval_key(), self.run_id, call_id, p.digest, True)
        )

    def reject(self, call_id: str, reason: str = "", *, key: bytes | None = None) -> None:
        """Reject a pending call; the model gets ``the user rejected this call: <reason>``."""
        p = self._find(call_id)
        tok = _token(key or approval_key(), self.run_id, call_id, p.digest, False, reason)
        self.decisions[call_id] = Decision(False, reason, tok)

    def approve_all(self) -> None:
        for p in self.pending:
            self.approve(p.call.call_id)

    # ------------------------------------------------------------------ sealing

    def _body(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "agent": self.agent,
            "items": dump_items(self.items),
            "history_len": self.history_len,
            "usage": self.usage.model_dump(),
            "turn": self.turn,
            "caches": self.caches,
            "pending": [
                {"call": p.call.model_dump(mode="json"), "agent": p.agent, "digest": p.digest}
                for p in self.pending
            ],
            "completed": dump_items(self.completed),
            "view": self.view,
            "session_id": self.session_id,
            **({"workspaces": self.workspaces} if self.workspaces else {}),
        }

    def _seal(self, body: dict[str, Any], key: bytes) -> str:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(key, canonical, hashlib.sha256).hexdigest()

    def seal(self, key: bytes | None = None) -> RunState:
        self.mac = self._seal(self._body(), key or approval_key())
        return self

    async def discard(self) -> None:
        """Give up this paused run: close the sandboxes it keeps in this process now (instead of at
        resume or after ``AGENTCORE_PAUSED_SANDBOX_TTL``)."""
        from .paused import discard

        await discard(self.run_id)

    def to_json(self) -> str:
        """The state as JSON. Refused (``ApprovalError``) when a sandbox workspace the paused calls need
        could not be saved: such a run resumes only in this process, while its sandbox is kept."""
        unsaved = {agent: w["error"] for agent, w in self.workspaces.items() if "error" in w}
        if unsaved:
            from .paused import PAUSED_SANDBOX_TTL

            why = "; ".join(f"agent {agent!r}: {reason}" for agent, reason in unsaved.items())
            raise ApprovalError(
                f"paused run {self.run_id} cannot leave this process: the workspace of its sandbox was not "
                f"saved ({why}). Resume it here with Runner.run(agent, state) within "
                f"{PAUSED_SANDBOX_TTL:.0f}s (the sandbox is kept until then), or raise "
                "AGENTCORE_PAUSE_SNAPSHOT_MAX_BYTES"
            )
        body = self._body()
        body["mac"] = self.mac
        body["decisions"] = {k: vars(v) for k, v in self.decisions.items()}
        return json.dumps(body)

    @classmethod
    def from_json(cls, text: str) -> RunState:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ApprovalError(f"run state is not valid JSON: {exc}") from None
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ApprovalError(
                f"run state schema version {version!r} is not supported (expected {SCHEMA_VERSION})"
            )
        try:
            state = cls(
                run_id=data["run_id"],
                agent=data["agent"],
                items=load_items(data["items"]),
                history_len=int(data["history_len"]),
                usage=Usage(**data["usage"]),
                turn=int(data["turn"]),
                caches=dict(data["caches"]),
                pending=[
                    PendingApproval(call=ToolCall(**p["call"]), agent=p["agent"], digest=p["digest"])
                    for p in data["pending"]
                ],
                completed=[i for i in load_items(data["completed"]) if isinstance(i, ToolResult)],
                view=data.get("view"),
                session_id=data.get("session_id"),
                workspaces=dict(data.get("workspaces") or {}),
                decisions={k: Decision(**v) for k, v in data.get("decisions", {}).items()},
                mac=str(data.get("mac", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ApprovalError(f"run state is malformed: {exc}") from None
        return state

    def verify(self, key: bytes | None = None) -> dict[str, Decision]:
        """Check the seal and every decision; returns the decisions by call id. Raises ApprovalError."""
        key = key or approval_key()
        if not hmac.compare_digest(self.mac, self._seal(self._body(), key)):
            raise ApprovalError("run state was modified after it was paused (seal mismatch)")
        for p in self.pending:
            if p.digest != call_digest(self.run_id, p.call):
                raise ApprovalError(f"pending call {p.call.call_id} does not match its digest")
            d = self.decisions.get(p.call.call_id)
            if d is None:
                raise ApprovalError(f"no decision for pending call {p.call.call_id} ({p.call.name})")
            expected = _token(key, self.run_id, p.call.call_id, p.digest, d.approved, d.reason)
            if not hmac.compare_digest(d.token, expected):
                raise ApprovalError(
                    f"decision for call {p.call.call_id} is forged or was made for other arguments"
                )
        return dict(self.decisions)


class ApprovalLedger:
    """Records consumed approvals so each is used once, across processes (SQLite in the data dir)."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or str(data_dir() / "approvals.db")
        self._lock = threading.Lock()
        with sqlite3.connect(self.path) as db:
            db.execute(
                "create table if not exists used (run_id text, call_id text, primary key (run_id, call_id))"
            )

    def consume(self, run_id: str, call_id: str) -> bool:
        """``True`` the first time, ``False`` on every later attempt."""
        with self._lock, sqlite3.connect(self.path) as db:
            try:
                db.execute("insert into used values (?, ?)", (run_id, call_id))
            except sqlite3.IntegrityError:
                return False
            return True
