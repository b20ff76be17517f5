"""``agentcore init [DIR] [--template coding|chat|data|mcp]``: a runnable project to start from, and
``agentcore completion bash|zsh|fish``: shell completion generated from the command's own parser."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_ERROR, EXIT_OK, EXIT_USAGE

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
    completion = sub.add_parser("completion", help="print a shell completion script")
    completion.add_argument("shell", choices=["bash", "zsh", "fish"])


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
        name=name, title=spec["title"], template=template, example=spec["example"], model=model,
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
    print(f"  {here}agentcore run agent.yaml \"{_example(args.template)}\"", file=sys.stderr)
    if not keyed:
        print("  (set OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY first, or add "
              "--model NAME --base-url URL for a local server)", file=sys.stderr)
    print(f"  {here}python -m pytest test_agent.py", file=sys.stderr)
    return EXIT_OK


def _example(template: str) -> str:
    from .templates import TEMPLATES

    return str(TEMPLATES[template]["example"])


# --------------------------------------------------------------------------- completion


def _tree(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """``{"options": [...], "commands": {name: tree}, "help": str}`` of a parser."""
    node: dict[str, Any] = {
        "options": [], "commands": {}, "choices": [], "values": {}, "help": parser.description or ""
    }
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                child = _tree(sub)
                child["help"] = helps.get(name, "")
                node["commands"][name] = child
        elif action.option_strings:
            node["options"] += [(o, action.help or "") for o in action.option_strings if o.startswith("--")]
            if action.choices:  # --template coding|chat|…: the option's values
                node["values"].update({o: list(action.choices) for o in action.option_strings})
        elif action.choices:
            node["choices"] += list(action.choices)
    return node


def completion_script(shell: str, parser: argparse.ArgumentParser) -> str:
    tree = _tree(parser)
    if shell == "fish":
        return _fish(tree)
    script = _bash(tree)
    if shell == "zsh":
        return "autoload -U +X bashcompinit && bashcompinit\n" + script
    return script


def _bash(tree: dict[str, Any]) -> str:
    values, words = [], []
    for path, node in _walk(tree, ()):
        at = " ".join(path)
        for option, choices in node["values"].items():
            values.append(f'        "{at} {option}") words="{" ".join(choices)}" ;;')
        offered = [*node["commands"], *(o for o, _ in node["options"]), *node["choices"]]
        words.append(f'        "{at}") words="{" ".join(offered)}" ;;')
    known = "\n".join(f'        "{" ".join(p)}") return 0 ;;' for p, _ in _walk(tree, ()) if p)
    return f"""# agentcore completion for bash: eval "$(agentcore completion bash)"
_agentcore() {{
    local cur prev path="" words="" w i
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${{COMP_WORDS[i]}}"
        case "$w" in -*) continue ;; esac
        if _agentcore_has "${{path:+$path }}$w"; then path="${{path:+$path }}$w"; fi
    done
    case "$path $prev" in
{chr(10).join(values)}
        *)
            case "$path" in
{chr(10).join("    " + line for line in words)}
            esac ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    if [ ${{#COMPREPLY[@]}} -eq 0 ] && [[ "$cur" != -* ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}}
_agentcore_has() {{
    case "$1" in
{known}
    esac
    return 1
}}
complete -o filenames -F _agentcore agentcore
"""


def _fish(tree: dict[str, Any]) -> str:
    lines = ["# agentcore completion for fish: agentcore completion fish | source", "complete -c agentcore -f"]
    for path, node in _walk(tree, ()):
        where = "; and ".join(f"__fish_seen_subcommand_from {p}" for p in path) or "__fish_use_subcommand"
        offer = where
        if path and node["commands"]:
            offer += "; and not __fish_seen_subcommand_from " + " ".join(node["commands"])
        for name, child in node["commands"].items():
            lines.append(f"complete -c agentcore -n {_q(offer)} -a {name} -d {_q(child['help'])}")
        for option, text in node["options"]:
            lines.append(f"complete -c agentcore -n {_q(where)} -l {option[2:]} -d {_q(text)}")
        for choice in node["choices"]:
            lines.append(f"complete -c agentcore -n {_q(where)} -a {choice}")
        if path and not node["commands"]:
            lines.append(f"complete -c agentcore -n {_q(where)} -F")  # FILE arguments
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _walk(node: dict[str, Any], path: tuple[str, ...]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    out = [(path, node)]
    for name, child in node["commands"].items():
        out += _walk(child, (*path, name))
    return out


def cmd_completion(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.shell not in ("bash", "zsh", "fish"):
        return EXIT_USAGE
    sys.stdout.write(completion_script(args.shell, parser))
    return EXIT_OK
