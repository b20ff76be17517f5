"""Render a stored trace as a tree a person can read (``agentcore trace show``).

One line per span: what it was, how long it took, and the facts that matter for its kind — tokens
and latency of model calls, arguments and results of tool calls, guardrail verdicts, handoff targets,
retry attempts, sandbox commands and exit codes. Errors are red; guardrail feedback is yellow.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

RED, YELLOW, GREEN, DIM, BOLD, CYAN, RESET = (
    "\033[31m",
    "\033[33m",
    "\033[32m",
    "\033[2m",
    "\033[1m",
    "\033[36m",
    "\033[0m",
)


@dataclass
class Node:
    span: dict[str, Any]
    children: list[Node] = field(default_factory=list)


def build_tree(spans: list[dict[str, Any]]) -> list[Node]:
    """Spans arranged by parent, siblings in start order."""
    nodes = {s["span_id"]: Node(s) for s in spans}
    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.span.get("parent_id") or "")
        (parent.children if parent is not None else roots).append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: n.span.get("start") or 0)
    roots.sort(key=lambda n: n.span.get("start") or 0)
    return roots


def _duration(span: dict[str, Any]) -> str:
    start, end = span.get("start"), span.get("end")
    if start is None or end is None:
        return "?"
    ms = (end - start) / 1e6
    return f"{ms:.0f}ms" if ms < 10_000 else f"{ms / 1000:.1f}s"


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_STATUS = re.compile(r"\[([^\[\]]*\bcwd [^\[\]]*)\]\s*$")
"""The status line the sandbox shell tool appends: ``[exit code 1; cwd /workspace]``."""


def _shell_command(attrs: dict[str, Any]) -> str | None:
    if attrs.get("gen_ai.tool.name") != "shell" or "gen_ai.tool.call.arguments" not in attrs:
        return None
    try:
        args = json.loads(str(attrs["gen_ai.tool.call.arguments"]))
    except ValueError:
        return None
    command = args.get("command") if isinstance(args, dict) else None
    return command if isinstance(command, str) else None


def _details(span: dict[str, Any], color: bool) -> tuple[list[str], str | None]:
    """The facts shown after the span name, and the color of the line (None: default)."""
    a: dict[str, Any] = span.get("attributes", {})
    op = a.get("gen_ai.operation.name")
    facts: list[str] = []
    tint: str | None = None
    if op == "chat":
        facts.append(
            f"in={a.get('gen_ai.usage.input_tokens', 0)} out={a.get('gen_ai.usage.output_tokens', 0)}"
        )
        for key, label in (
            ("gen_ai.usage.cache_read.input_tokens", "cached"),
            ("gen_ai.usage.reasoning.output_tokens", "reasoning"),
        ):
            if a.get(key):
                facts.append(f"{label}={a[key]}")
        if a.get("gen_ai.provider.name"):
            facts.append(str(a["gen_ai.provider.name"]))
        reasons = a.get("gen_ai.response.finish_reasons")
        if reasons:
            facts.append(f"finish={','.join(map(str, reasons))}")
        if a.get("agentcore.retry.attempt"):
            facts.append(f"retry #{a['agentcore.retry.attempt']}")
            tint = YELLOW
    elif op == "invoke_agent":
        if "agentcore.usage.input_tokens" in a:
            facts.append(
                f"tokens in={a['agentcore.usage.input_tokens']} out={a.get('agentcore.usage.output_tokens', 0)}"
            )
        if a.get("agentcore.turns"):
            facts.append(f"turns={a['agentcore.turns']}")
        tint = BOLD
    elif op == "execute_tool":
        if a.get("gen_ai.transfer.target.name"):
            facts.append(f"→ {a['gen_ai.transfer.target.name']}")
            tint = CYAN
        if a.get("gen_ai.tool.call.id"):
            facts.append(f"id={a['gen_ai.tool.call.id']}")
        command = _shell_command(a)
        if command is not None:  # the sandbox shell: show the command line and its exit code
            facts.append(f"$ {_short(command, 120)}")
            result = str(a.get("gen_ai.tool.call.result", ""))
            status = _STATUS.search(result)
            if status:
                code = re.search(r"exit code (-?\d+)", status.group(1))
                if code:
                    facts.append(f"exit={code.group(1)}")
                if "timed out" in status.group(1):
                    facts.append("timed out")
                if (code and code.group(1) != "0") or "timed out" in status.group(1):
                    tint = RED
                result = result[: status.start()]
            if "gen_ai.tool.call.result" in a:
                facts.append(f"output={_short(result, 80)}")
        else:
            if "gen_ai.tool.call.arguments" in a:
                facts.append(f"args={_short(a['gen_ai.tool.call.arguments'], 100)}")
            if "gen_ai.tool.call.result" in a:
                facts.append(f"result={_short(a['gen_ai.tool.call.result'], 100)}")
        if a.get("agentcore.approval"):
            facts.append(f"approval={a['agentcore.approval']}")
        if a.get("agentcore.tool.is_error"):
            tint = RED
    elif op == "apply_guardrail":
        facts.append(str(a.get("gen_ai.guardrail.source", "")))
        action = a.get("agentcore.guardrail.action")
        if action:
            facts.append(str(action))
            tint = {"tripwire": RED, "retry": YELLOW, "rewrite": YELLOW}.get(str(action))
        for event in span.get("events", []):
            reason = event.get("attributes", {}).get("agentcore.guardrail.reason")
            if reason and action != "allow":
                facts.append(_short(reason, 100))
    elif "agentcore.verifier.passed" in a:
        passed = bool(a["agentcore.verifier.passed"])
        facts.append("passed" if passed else "failed")
        tint = GREEN if passed else RED
    if "process.command_line" in a:
        facts.append(f"$ {_short(a['process.command_line'], 100)}")
    if "process.exit.code" in a:
        facts.append(f"exit={a['process.exit.code']}")
        if a["process.exit.code"] not in (0, "0"):
            tint = RED
    if "agentcore.sandbox.backend" in a:
        facts.append(str(a["agentcore.sandbox.backend"]))
    if span.get("status") == "ERROR":
        tint = RED
        error = a.get("error.type") or "error"
        message = span.get("status_message")
        facts.append(f"ERROR {error}" + (f": {_short(message, 140)}" if message else ""))
    return facts, tint


def _events(span: dict[str, Any]) -> list[str]:
    out = []
    for event in span.get("events", []):
        if event.get("name") == "gen_ai.guardrail.result":
            continue
        attrs = event.get("attributes", {})
        shown = " ".join(f"{k.rsplit('.', 1)[-1]}={_short(v, 60)}" for k, v in attrs.items())
        out.append(f"· {event.get('name')}" + (f" {shown}" if shown else ""))
    return out


def render(spans: list[dict[str, Any]], *, color: bool = False) -> str:
    """The trace as an indented tree (ANSI colors when ``color``)."""

    def paint(text: str, tint: str | None) -> str:
        return f"{tint}{text}{RESET}" if color and tint else text

    lines: list[str] = []

    def walk(node: Node, prefix: str, last: bool, top: bool, agent: str | None) -> None:
        span = node.span
        facts, tint = _details(span, color)
        attrs = span.get("attributes", {})
        own = attrs.get("gen_ai.agent.name")
        if attrs.get("gen_ai.operation.name") == "invoke_agent":
            agent = own
        elif (
            own and agent and own != agent and attrs.get("gen_ai.operation.name") in ("chat", "execute_tool")
        ):
            facts.insert(0, f"agent={own}")  # after a handoff, spans of the new agent say whose they are
        branch = "" if top else ("└─ " if last else "├─ ")
        head = f"{span['name']}  [{_duration(span)}]"
        tail = "  " + "  ".join(f for f in facts if f) if facts else ""
        lines.append(prefix + branch + paint(head + tail, tint))
        child_prefix = prefix if top else prefix + ("   " if last else "│  ")
        for note in _events(span):
            lines.append(child_prefix + ("│  " if node.children else "   ") + paint(note, DIM))
        for i, child in enumerate(node.children):
            walk(child, child_prefix, i == len(node.children) - 1, False, agent)

    for root in build_tree(spans):
        walk(root, "", True, True, None)
    return "\n".join(lines)


def to_json(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tree as nested dicts (``agentcore trace show --json``)."""

    def convert(node: Node) -> dict[str, Any]:
        return {**node.span, "children": [convert(c) for c in node.children]}

    return [convert(r) for r in build_tree(spans)]
