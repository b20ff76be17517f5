"""``agentcore completion bash|zsh|fish``: shell completion generated from the command's own parser.

The scripts complete commands, subcommands and options; the values of options with choices
(``init --template``); files for a command's FILE argument (``agentcore run ag<TAB>``); and the agent
names of the definition already on the command line after ``--agent``
(``agentcore run agent.yaml --agent <TAB>``), which they ask ``agentcore completion --agents FILE`` for.
That call reads only the file's ``agents:`` keys (YAML, no validation), so it answers in a few tens of
milliseconds. zsh runs the bash script through ``bashcompinit``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_OK, EXIT_USAGE

AGENT_OPTIONS = ("--agent",)
"""Options whose value is an agent of the definition on the command line."""
DEFINITION_SUFFIXES = (".yaml", ".yml", ".json")


def add_completion_parser(sub: Any) -> None:
    completion = sub.add_parser("completion", help="print a shell completion script")
    completion.add_argument("shell", nargs="?", choices=["bash", "zsh", "fish"])
    # what the scripts call for ``--agent <TAB>``: not for people, so not in --help or in the scripts
    completion.add_argument("--agents", metavar="FILE", help=argparse.SUPPRESS)


def agent_names(path: str) -> list[str]:
    """The keys of the ``agents:`` mapping of a definition file; nothing when it cannot be read."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    agents = data.get("agents") if isinstance(data, dict) else None
    return [str(name) for name in agents] if isinstance(agents, dict) else []


def cmd_completion(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.agents is not None:
        print("\n".join(agent_names(args.agents)))
        return EXIT_OK
    if args.shell not in ("bash", "zsh", "fish"):
        print("usage: agentcore completion bash|zsh|fish", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(completion_script(args.shell, parser))
    return EXIT_OK


def completion_script(shell: str, parser: argparse.ArgumentParser) -> str:
    tree = _tree(parser)
    if shell == "fish":
        return _fish(tree)
    if shell == "zsh":
        return "autoload -U +X bashcompinit && bashcompinit\n" + _bash(tree) + ZSH
    return _bash(tree) + "complete -o filenames -F _agentcore agentcore\n"


# (zsh ties ``path`` to ``PATH`` and gives ``words`` to its completion system: the bash function names
# its variables ``cmd`` and ``offer``.)


ZSH = """\
# zsh: the bash function runs under bashcompinit's emulation; files go through zsh's own _files
# (directories get their slash, other words their space)
_agentcore_bash() {
    emulate -L sh
    setopt kshglob noshglob braceexpand
    _agentcore
}
_agentcore_zsh() {
    local -a COMP_WORDS COMPREPLY
    local COMP_CWORD _agentcore_files=""
    COMP_WORDS=( "${words[@]}" )
    (( COMP_CWORD = CURRENT - 1 ))
    _agentcore_bash
    if [[ -n $_agentcore_files ]]; then
        _files
    else
        compadd -a COMPREPLY
    fi
}
compdef _agentcore_zsh agentcore
"""


# --------------------------------------------------------------------------- the parser as a tree


def _tree(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """``{"options": [(option, help, takes_value)], "commands": {name: tree}, "choices": [...],
    "values": {option: choices}, "help": str}`` of a parser (hidden options left out)."""
    node: dict[str, Any] = {
        "options": [],
        "commands": {},
        "choices": [],
        "values": {},
        "help": parser.description or "",
    }
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                child = _tree(sub)
                child["help"] = helps.get(name, "")
                node["commands"][name] = child
        elif action.option_strings:
            if action.help == argparse.SUPPRESS:
                continue
            takes = action.nargs != 0
            node["options"] += [
                (o, action.help or "", takes) for o in action.option_strings if o.startswith("--")
            ]
            if action.choices:  # --template coding|chat|…: the option's values
                node["values"].update({o: list(action.choices) for o in action.option_strings})
        elif action.choices:
            node["choices"] += list(action.choices)
    return node


def _walk(node: dict[str, Any], path: tuple[str, ...]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    out = [(path, node)]
    for name, child in node["commands"].items():
        out += _walk(child, (*path, name))
    return out


def _leaf(node: dict[str, Any]) -> bool:
    """A command whose positional arguments are files (no subcommands, no fixed choices)."""
    return not node["commands"] and not node["choices"]


def _agent_paths(tree: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    return [
        (path, option)
        for path, node in _walk(tree, ())
        for option, _, _ in node["options"]
        if option in AGENT_OPTIONS
    ]


# --------------------------------------------------------------------------- bash (and zsh)


def _bash(tree: dict[str, Any]) -> str:
    values, words = [], []
    agents = " | ".join(f'"{" ".join(p)} {o}"' for p, o in _agent_paths(tree))
    if agents:
        values.append(
            f"        {agents}) "
            'offer="$("${COMP_WORDS[0]}" completion --agents "$file" 2>/dev/null)"; leaf="" ;;'
        )
    for path, node in _walk(tree, ()):
        at = " ".join(path)
        for option, choices in node["values"].items():
            values.append(f'        "{at} {option}") offer="{" ".join(choices)}" ;;')
        offered = [*node["commands"], *(o for o, _, _ in node["options"]), *node["choices"]]
        leaf = "; leaf=1" if path and _leaf(node) else ""
        words.append(f'        "{at}") offer="{" ".join(offered)}"{leaf} ;;')
    known = "\n".join(f'        "{" ".join(p)}") return 0 ;;' for p, _ in _walk(tree, ()) if p)
    suffixes = "|".join(f"*{s}" for s in DEFINITION_SUFFIXES)
    return f"""# agentcore completion for bash: eval "$(agentcore completion bash)"
_agentcore() {{
    local cur prev cmd="" offer="" leaf="" file="" w i
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${{COMP_WORDS[i]}}"
        case "$w" in
            -*) continue ;;
            {suffixes}) [ -z "$file" ] && file="$w" ;;
        esac
        if _agentcore_has "${{cmd:+$cmd }}$w"; then cmd="${{cmd:+$cmd }}$w"; fi
    done
    case "$cmd $prev" in
{chr(10).join(values)}
        *)
            case "$cmd" in
{chr(10).join("    " + line for line in words)}
            esac
            # a FILE argument: files unless an option is being typed
            if [ -n "$leaf" ] && [[ "$cur" != -* ]]; then offer=""; fi ;;
    esac
    COMPREPLY=($(compgen -W "$offer" -- "$cur"))
    if [ ${{#COMPREPLY[@]}} -eq 0 ] && [[ "$cur" != -* ]]; then
        _agentcore_files=1  # zsh completes these itself
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}}
_agentcore_has() {{
    case "$1" in
{known}
    esac
    return 1
}}
"""


# --------------------------------------------------------------------------- fish


def _fish(tree: dict[str, Any]) -> str:
    definition = "|".join(s.replace(".", "[.]") for s in DEFINITION_SUFFIXES)
    lines = [
        "# agentcore completion for fish: agentcore completion fish | source",
        "complete -c agentcore -f",
        "function __agentcore_agents",
        "    # the agents of the first definition file on the command line",
        "    set -l words (commandline -opc)",
        "    for w in $words[2..-1]",
        f"        if string match -q -r -- '({definition})$' $w",
        "            $words[1] completion --agents $w 2>/dev/null",
        "            return",
        "        end",
        "    end",
        "end",
    ]
    for path, node in _walk(tree, ()):
        where = "; and ".join(f"__fish_seen_subcommand_from {p}" for p in path) or "__fish_use_subcommand"
        offer = where
        if path and node["commands"]:
            offer += "; and not __fish_seen_subcommand_from " + " ".join(node["commands"])
        for name, child in node["commands"].items():
            lines.append(f"complete -c agentcore -n {_q(offer)} -a {name} -d {_q(child['help'])}")
        for option, text, takes in node["options"]:
            spec = f"complete -c agentcore -n {_q(where)} -l {option[2:]} -d {_q(text)}"
            if option in AGENT_OPTIONS:
                spec += " -x -a '(__agentcore_agents)'"
            elif option in node["values"]:
                spec += f" -x -a {_q(' '.join(node['values'][option]))}"
            elif takes:
                spec += " -r"
            lines.append(spec)
        for choice in node["choices"]:
            lines.append(f"complete -c agentcore -n {_q(where)} -a {choice}")
        if path and _leaf(node):
            lines.append(f"complete -c agentcore -n {_q(where)} -F")  # FILE arguments
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
