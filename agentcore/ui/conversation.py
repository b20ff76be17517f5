"""A run's conversation, rebuilt from the content its ``chat`` spans recorded.

Each ``chat`` span records the prompt (``gen_ai.input.messages``) and the answer
(``gen_ai.output.messages``) in the GenAI semconv shape (role + parts). The local store records only
what the previous call of the same agent did not show (``agentcore.input.messages.from``); exporters,
and other apps, record the whole transcript each time. Either way a call's input messages that the
conversation already shows (a prefix of them that ends it) are skipped.
Without content capture there is nothing to show (the page says so, and offers the session instead).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .index import CHAT_OPERATIONS


def _messages(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [{"role": "user", "parts": [{"type": "text", "content": value}]}]
    if not isinstance(value, list):
        return []
    return [m for m in value if isinstance(m, dict)]


def _content(span: dict[str, Any], key: str) -> Any:
    attrs = span.get("attributes") or {}
    if key in attrs:
        return attrs[key]
    for event in span.get("events") or []:  # the semconv's event form
        if key in (event.get("attributes") or {}):
            return event["attributes"][key]
    return None


def conversation(spans: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages in order: ``{"role", "agent", "span_id", "parts": [...]}`` (system instructions once per
    agent, then each call's new input and its answer)."""
    out: list[dict[str, Any]] = []
    history: list[str] = []
    instructions: dict[str, Any] = {}
    chats = [s for s in spans if (s.get("attributes") or {}).get("gen_ai.operation.name") in CHAT_OPERATIONS]
    for span in sorted(chats, key=lambda s: s.get("start") or 0):
        attrs = span.get("attributes") or {}
        agent = str(attrs.get("gen_ai.agent.name") or "")
        system = _content(span, "gen_ai.system_instructions")
        if system is not None and instructions.get(agent) != system:
            instructions[agent] = system
            text = system if isinstance(system, str) else json.dumps(system)
            try:
                decoded = json.loads(text)
                text = decoded if isinstance(decoded, str) else text
            except ValueError:
                pass
            out.append(_message("system", agent, span, [{"type": "text", "content": text}]))
        inputs = _messages(_content(span, "gen_ai.input.messages"))
        outputs = _messages(_content(span, "gen_ai.output.messages"))
        keys = [json.dumps(m, sort_keys=True, default=str) for m in inputs]
        skip = _overlap(history, keys)
        new = inputs[skip:]
        history.extend(keys[skip:])
        history.extend(json.dumps(m, sort_keys=True, default=str) for m in outputs)
        for message in [*new, *outputs]:
            parts = message.get("parts")
            if not isinstance(parts, list):
                content = message.get("content")
                parts = [{"type": "text", "content": content}] if content is not None else []
            out.append(_message(str(message.get("role") or "assistant"), agent, span, parts))
    return out


def _overlap(history: list[str], keys: list[str]) -> int:
    """How many of ``keys`` (a call's input) were shown already: the longest prefix of them that ends
    the history (a whole transcript resent, or another agent's first call after a handoff)."""
    n = min(len(history), len(keys))
    if n and keys[:n] == history[len(history) - n :]:
        return n
    for k in range(n - 1, 0, -1):
        if keys[:k] == history[len(history) - k :]:
            return k
    return 0


def _message(role: str, agent: str, span: dict[str, Any], parts: list[Any]) -> dict[str, Any]:
    return {"role": role, "agent": agent, "span_id": span.get("span_id"), "parts": parts}
