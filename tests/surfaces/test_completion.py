"""Shell completion in real shells: bash, zsh and fish run interactively in a tmux pane with the script
``agentcore completion SHELL`` prints loaded the way docs/cli.md says, and the test presses Tab.

Each shell completes a command (``agentcore ru<Tab>``), a definition file argument
(``agentcore run ag<Tab>``) and the agents of that definition after ``--agent`` (listed, then one
completed from its prefix)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.surfaces.first_hour import Pane, cli_env, needs_tmux, write_definition

PROMPT = "READY> "
SHELLS = {
    # shell: (command, what the user puts in their rc file, how the prompt is set)
    "bash": (
        ["bash", "--norc", "--noprofile", "-i"],
        'eval "$(agentcore completion bash)"',
        f"PS1='{PROMPT}'",
    ),
    "zsh": (
        ["zsh", "-f", "-i"],
        'autoload -U compinit && compinit -u; eval "$(agentcore completion zsh)"',
        f"PROMPT='{PROMPT}'",
    ),
    "fish": (
        ["fish", "--no-config", "-i"],
        "agentcore completion fish | source",
        f"function fish_prompt; echo -n '{PROMPT}'; end; set -g fish_greeting ''",
    ),
}


@pytest.fixture(params=list(SHELLS), name="shell")
def shell_fixture(request: pytest.FixtureRequest, tmp_path: Path, home: Path):
    name = request.param
    needs_tmux(name)
    command, setup, prompt = SHELLS[name]
    work = tmp_path / "project"
    work.mkdir()
    write_definition(work, "http://127.0.0.1:9/v1")  # agents helper and reporter; tools.py next to it
    bin_dir = str(Path(sys.executable).parent)  # the venv's `agentcore` console script
    env = cli_env(home, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
    env.pop("PROMPT_COMMAND", None)
    pane = Pane(tmp_path, command, env, cwd=work)
    try:
        pane.type(f"{prompt}; {setup}")
        pane.send("Enter")
        pane.wait_for_last_line(f"^{PROMPT}$", timeout=60)
        yield name, pane
    finally:
        pane.close()


def mark(pane: Pane) -> int:
    """Where the current (last) prompt starts in the pane's text: waits look only past it."""
    return pane.screen().rfind(PROMPT)


def tab(pane: Pane, text: str, expect: str) -> str:
    """At a fresh prompt, type ``text`` and press Tab; wait until ``expect`` (a regex) shows on the
    prompt's line and return that line."""
    start = mark(pane)
    pane.type(text)
    pane.send("Tab")
    screen = pane.wait_for(f"(?m){PROMPT}[^\n]*{expect}", after=start, timeout=30)
    return screen[start:].splitlines()[0]


def fresh_line(pane: Pane) -> None:
    pane.send("C-c")
    pane.wait_for_last_line(f"^{PROMPT}$", timeout=30)


def test_completion_in_a_real_shell(shell: tuple[str, Pane]) -> None:
    name, pane = shell

    # a command, then the definition file argument of `run`
    assert tab(pane, "agentcore ru", "agentcore run *$").rstrip().endswith("agentcore run")
    line = tab(pane, "ag", r"agentcore run agent\.yaml")
    assert "agentcore run agent.yaml" in line
    # --agent: the agents of that definition, listed (ambiguous: both shown), then one from its prefix
    start = mark(pane)
    pane.type(" --agent ")
    pane.send(*["Tab"] * (2 if name == "bash" else 1))  # bash lists on the second Tab, zsh and fish at once
    shown = pane.wait_for(r"helper(.|\n)*reporter|reporter(.|\n)*helper", after=start, timeout=30)
    assert "tools" not in shown[start:]  # agent names, not the files next to the definition
    fresh_line(pane)
    assert "--agent reporter" in tab(pane, "agentcore run agent.yaml --agent rep", "--agent reporter")
    fresh_line(pane)
    # an option's fixed values
    assert "--template coding" in tab(pane, "agentcore init --template co", "--template coding")
