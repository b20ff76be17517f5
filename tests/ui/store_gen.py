"""A large trace store in the format the local store writes (one JSON line per span), for paging tests.

Runs are spread over the last two days (the charts have something to show); every tenth one failed.
``python -m tests.ui.store_gen DIR [N]`` writes one by hand (``agentcore ui`` over a big store).
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

AGENTS = [
    ("support", "gpt-4.1-mini", 0.4, 1.6),
    ("triage", "claude-haiku-4-5", 1.0, 5.0),
    ("coder", "gpt-5", 1.25, 10.0),
    ("researcher", "gemini-2.5-pro", 1.25, 10.0),
]
QUESTIONS = [
    "refund for order",
    "reset my password",
    "fix the flaky test",
    "summarise the report",
    "why is the build red",
    "compare the two vendors",
]


def _span(
    trace: str,
    span: str,
    parent: str | None,
    name: str,
    start: int,
    end: int,
    attrs: dict[str, Any],
    status: str = "UNSET",
) -> str:
    return json.dumps(
        {
            "trace_id": trace,
            "span_id": span,
            "parent_id": parent,
            "name": name,
            "kind": "CLIENT" if name.startswith("chat") else "INTERNAL",
            "start": start,
            "end": end,
            "status": status,
            "status_message": "MaxTurnsExceeded: run exceeded max_turns=3" if status == "ERROR" else None,
            "attributes": attrs,
            "events": [],
            "service": "agentcore",
        }
    )


def write_runs(directory: Path, count: int, *, seed: int = 7) -> None:
    """``count`` runs ending now, newest last, in one JSONL file under ``directory``."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    now = time.time_ns()
    span_ns = 48 * 3600 * 10**9
    lines: list[str] = []
    for i in range(count):
        agent, model, p_in, p_out = AGENTS[i % len(AGENTS)]
        trace = f"{i + 1:032x}"
        start = now - span_ns + (span_ns * i) // count
        turns = rng.randint(1, 4)
        root = f"f{i:015x}"
        total_in = total_out = 0
        t = start + 1_000_000
        for turn in range(turns):
            tin, tout = rng.randint(300, 4000), rng.randint(20, 600)
            total_in, total_out = total_in + tin, total_out + tout
            dur = rng.randint(200, 3000) * 1_000_000
            cost = (tin * p_in + tout * p_out) / 1e6
            lines.append(
                _span(
                    trace,
                    f"{(i << 8) + turn + 1:016x}"[-16:],
                    root,
                    f"chat {model}",
                    t,
                    t + dur,
                    {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.agent.name": agent,
                        "gen_ai.request.model": model,
                        "gen_ai.usage.input_tokens": tin,
                        "gen_ai.usage.output_tokens": tout,
                        "gen_ai.usage.cost": cost,
                    },
                )
            )
            t += dur + 1_000_000
        failed = i % 10 == 9
        question = f"ticket-{i}: {QUESTIONS[i % len(QUESTIONS)]}"
        lines.append(
            _span(
                trace,
                root,
                None,
                f"invoke_agent {agent}",
                start,
                t,
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": agent,
                    "gen_ai.request.model": model,
                    "agentcore.run.id": f"run-{i}",
                    "agentcore.turns": turns,
                    "agentcore.input": question,
                    "agentcore.usage.input_tokens": total_in,
                    "agentcore.usage.output_tokens": total_out,
                },
                "ERROR" if failed else "OK",
            )
        )
    (directory / time.strftime("%Y-%m-%d.jsonl", time.gmtime())).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    write_runs(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 10_000)
