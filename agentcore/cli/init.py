"""``agentcore init [DIR] [--template coding|chat|data|mcp]``: a runnable project to start from (the
``completion`` command, registered next to it, is :mod:`.completion`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_ERROR, EXIT_OK

MODELS_BY_KEY = (
    ("OPENAI_API_KEY", "openai:gpt-5-mini"),
    ("ANTHROPIC_API_KEY", "anthropic:claude-sonnet-4-5"),
    ("GEMINI_API_KEY", "google:gemini-2.5-flash"),
    ("GOOGLE_API_KEY", "google:gemini-2.5-flash"),
)


def add_init_parser(sub: Any) -> None:
    from .templates import TEMPLATES

    init = sub.add_parser("init", help="write a runnable agent project (definition, tool, test, README)")
    init.add_argument("dir", nargs="?", default=".", help="where to write it (created; default: here)")
    init.add_argument("--template", choices=sorted(TEMPLATES), default="chat", help="what kind of agent")
    init.add_argument(
        "--model",
        metavar="PROVIDER:MODEL",
        help="the definition's default model (default: from the API key in the environment)",
    )
    init.add_argument("--force", action="store_true", help="overwrite files that exist")
    from .completion import add_completion_parser

    add_completion_parser(sub)


def default_model() -> str:
    return next((model for key, model in MODELS_BY_KEY if os.environ.get(key)), MODELS_BY_KEY[0][1])


def project_files(template: str, name: str, model: str) -> dict[str, str]:
    """The files of a project, by relative path."""
    from .templates import DEFINITION_HEAD, README, TEMPLATES, TEST

    spec: dict[str, Any] = dict(TEMPLATES[template])
    schema = Path(__file__).resolve().parents[1] / "schema.json"
    head = DEFINITION_HEAD.format(schema=schema, title=spec["title"], example=spec["example"])
    files = {
        "agent.yaml": head + "\n" + str(spec["agent.yaml"]).format(model=model),
        "tools.py": str(spec["tools.py"]),
    }
    test = TEST.format(**spec["test"], head=spec.get("test_head", ""))
    files["test_agent.py"] = test
    extra = [f for f in spec if f.endswith((".py", ".csv")) and f != "tools.py"]
    for f in extra:
        files[f] = str(spec[f])
    extra_files = "".join(f"; `{f}`" for f in extra)
    files["README.md"] = README.format(
        name=name,
        title=spec["title"],
        template=template,
        example=spec["example"],
        model=model,
        extra_files=extra_files,
    )
    return files


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.dir)
    name = target.resolve().name or "agent"
    model = args.model or default_model()
    files = project_files(args.template, name, model)
    existing = [f for f in files if (target / f).exists()]
    if existing and not args.force:
        print(f"{target}: {', '.join(existing)} already exist (--force overwrites them)", file=sys.stderr)
        return EXIT_ERROR
    target.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        (target / relative).write_text(text)
        print(f"wrote {target / relative}", file=sys.stderr)
    keyed = any(os.environ.get(key) for key, _ in MODELS_BY_KEY)
    here = "" if target == Path(".") else f"cd {args.dir} && "
    print(f"\na {args.template} agent using {model}. Next:", file=sys.stderr)
    print(f'  {here}agentcore run agent.yaml "{_example(args.template)}"', file=sys.stderr)
    if not keyed:
        print(
            "  (set OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY first, or add "
            "--model NAME --base-url URL for a local server)",
            file=sys.stderr,
        )
    print(f"  {here}python -m pytest test_agent.py", file=sys.stderr)
    return EXIT_OK


def _example(template: str) -> str:
    from .templates import TEMPLATES

    return str(TEMPLATES[template]["example"])
