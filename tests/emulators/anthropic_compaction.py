"""Anthropic server-side compaction (``context_management.edits: [{type: compact_20260112}]``), as the
Messages API does it (docs ``compaction-threshold``; the SDK's ``BetaCompact20260112EditParam``,
``BetaCompactionBlock`` and ``BetaCompactionIterationUsage``).

* The edit needs the ``compact-2026-01-12`` beta (context editing's ``context-management-…`` beta does
  not unlock it); its fields are ``trigger`` (``{type: input_tokens, value: N}``, N at least 50,000;
  default 150,000), ``pause_after_compaction`` (bool) and ``instructions`` (string or null).
* When the request's input tokens reach the trigger, the conversation is summarised inside the request:
  the answer's content starts with a ``compaction`` block (``content``: the summary), and the model
  answers from system, tools and that block only (its thinking signatures are bound to that prefix).
  ``usage`` counts that answer; ``usage.iterations`` has a ``compaction`` entry (the summarising pass:
  the whole conversation in, the summary out; not in the top-level counts) then a ``message`` entry.
  With ``pause_after_compaction`` the answer is the block alone, ``stop_reason: "compaction"``.
* Sent back, a compaction block stands for everything before it: the input tokens (the window check,
  the trigger, ``usage``) and the prefix later thinking blocks are bound to start at the last one. A
  block with ``content`` must be one this server issued, unchanged; ``content: null`` (a failed
  compaction) is a no-op.
"""

from __future__ import annotations

import json
from typing import Any

from tests.emulators.anthropic_rules import PrefixHasher, Rejected, _canon

EDIT = "compact_20260112"
BETA_FAMILY = "compact-"
MIN_TRIGGER = 50_000
DEFAULT_TRIGGER = 150_000
FIELDS = frozenset({"type", "trigger", "pause_after_compaction", "instructions"})


def is_summary(block: Any) -> bool:
    """A compaction block that stands for what came before it (``content: null`` is a no-op)."""
    return isinstance(block, dict) and block.get("type") == "compaction" and block.get("content") is not None


def check_edit(where: str, edit: dict[str, Any]) -> None:
    """The fields of one ``compact_20260112`` edit; raises ``Rejected``."""
    for key in edit:
        if key not in FIELDS:
            raise Rejected(f"{where}.{key}: Extra inputs are not permitted")
    trigger = edit.get("trigger")
    if trigger is not None:
        if (
            not isinstance(trigger, dict)
            or set(trigger) != {"type", "value"}
            or trigger.get("type") != "input_tokens"
            or not isinstance(trigger.get("value"), int)
            or isinstance(trigger.get("value"), bool)
        ):
            raise Rejected(f"{where}.trigger: Input should be an object {{type: input_tokens, value: int}}")
        if trigger["value"] < MIN_TRIGGER:
            raise Rejected(f"{where}.trigger.value: Input should be greater than or equal to {MIN_TRIGGER}")
    pause = edit.get("pause_after_compaction")
    if pause is not None and not isinstance(pause, bool):
        raise Rejected(f"{where}.pause_after_compaction: Input should be a valid boolean")
    instructions = edit.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise Rejected(f"{where}.instructions: Input should be a valid string")


def check_request(
    state: dict[str, Any], body: dict[str, Any], betas: frozenset[str]
) -> dict[str, Any] | None:
    """The request's compaction edit (``None`` without one), its beta checked, and every compaction
    block sent back checked against what this server issued; raises ``Rejected``."""
    issued: set[bytes] = state.setdefault("compactions", set())
    for n, msg in enumerate(body["messages"]):
        content = msg.get("content")
        for m, block in enumerate(content if isinstance(content, list) else ()):
            if is_summary(block) and _canon(block) not in issued:
                raise Rejected(
                    f"messages.{n}.content.{m}: `compaction` block was modified or not issued by this "
                    "API; send compaction blocks back exactly as they were returned"
                )
    edits = (body.get("context_management") or {}).get("edits") or []
    found = [e for e in edits if isinstance(e, dict) and e.get("type") == EDIT]
    if not found:
        return None
    if not any(b.startswith(BETA_FAMILY) for b in betas):
        raise Rejected(
            f"context_management.edits: `{EDIT}` needs the `anthropic-beta: compact-2026-01-12` header"
        )
    if len(found) > 1:
        raise Rejected(f"context_management.edits: `{EDIT}` may be given once")
    return found[0]


def restart(body: dict[str, Any], block: dict[str, Any]) -> PrefixHasher:
    """The prefix after a compaction block: system, tools, then the block (in an assistant turn)."""
    hasher = PrefixHasher(body)
    hasher.role("assistant")
    hasher.block(block)
    return hasher


def cached_before(body: dict[str, Any], breakpoints: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The cache breakpoints that still hold after a compaction block: those on system and tools."""
    base = PrefixHasher(body).bytes
    return [bp for bp in breakpoints if bp[1] <= base]


def due(
    state: dict[str, Any], edit: dict[str, Any] | None, body: dict[str, Any], tokens: int
) -> dict[str, Any] | None:
    """The compaction block of this request when its input reached the edit's trigger, else ``None``
    (recorded as issued by :func:`remember`)."""
    if edit is None:
        return None
    trigger = (edit.get("trigger") or {}).get("value", DEFAULT_TRIGGER)
    if tokens < trigger:
        return None
    block = {"type": "compaction", "content": summary(body, edit.get("instructions"))}
    state["compacted"] = state.get("compacted", 0) + 1
    return block


def remember(state: dict[str, Any], message: dict[str, Any]) -> None:
    """Record the compaction blocks of an answer as issued (they may come back, unchanged)."""
    for block in message.get("content") or ():
        if is_summary(block):
            state.setdefault("compactions", set()).add(_canon(block))


def summary(body: dict[str, Any], instructions: str | None = None) -> str:
    """A deterministic summary of the conversation since the last compaction (the previous summary
    kept at its head): what the user asked, which tools ran, the last thing said."""
    previous = ""
    asked: list[str] = []
    tools: dict[str, int] = {}
    last = ""
    for msg in body["messages"]:
        content = msg["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for block in blocks:
            kind = block.get("type")
            if is_summary(block):
                previous, asked, tools = str(block["content"]), [], {}
            elif kind == "text" and msg["role"] == "user":
                asked.append(str(block.get("text", ""))[:200])
            elif kind == "text":
                last = str(block.get("text", ""))[:200]
            elif kind == "tool_use":
                tools[str(block.get("name"))] = tools.get(str(block.get("name")), 0) + 1
            elif kind == "tool_result":
                result = block.get("content")
                last = (result if isinstance(result, str) else json.dumps(result))[:200]
    lines = [f"Earlier: {previous[:400]}"] if previous else []
    lines += [f"The user asked: {a}" for a in asked[-3:]]
    if tools:
        lines.append("Tools used: " + ", ".join(f"{k} x{v}" for k, v in tools.items()))
    if last:
        lines.append(f"Last: {last}")
    if instructions:
        lines.append(f"(summarised as instructed: {instructions[:80]})")
    return "Summary of the conversation so far.\n" + "\n".join(lines)


def note(message: dict[str, Any], edit: dict[str, Any], block: dict[str, Any], tokens: int) -> None:
    """The answer of a request that compacted: the block first (alone when paused), and usage with
    the compaction pass in ``iterations`` (not in the top-level counts)."""
    if edit.get("pause_after_compaction"):
        message["content"] = [block]
        message["stop_reason"] = "compaction"
    elif not message["content"] or message["content"][0] is not block:
        message["content"].insert(0, block)
    usage = message["usage"]
    sampled = {
        "type": "message",
        "input_tokens": usage["input_tokens"],
        "output_tokens": usage["output_tokens"],
        "cache_read_input_tokens": usage["cache_read_input_tokens"],
        "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
    }
    compacting = {
        "type": "compaction",
        "input_tokens": tokens,
        "output_tokens": max(1, len(block["content"]) // 4),
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }
    usage["iterations"] = [compacting] if edit.get("pause_after_compaction") else [compacting, sampled]
