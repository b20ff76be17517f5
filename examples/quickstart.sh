#!/usr/bin/env bash
# Set up agentcore in ./.venv (first run only) and run the example agent.
#   bash examples/quickstart.sh ["your question"] [--model provider:model | --model NAME --base-url URL]
# Needs OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY, or --base-url to an OpenAI-compatible server
# (a bare --model NAME with --base-url is a model on that server; one on this machine needs no key).
# --model and --base-url mean what they mean in `agentcore run`.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'quickstart: %s\n' "$*" >&2; }
if [ ! -x .venv/bin/agentcore ]; then
    say "first run: setting up ./.venv (about 100 s on a fresh machine; later runs start at once)"
    say "creating the virtual environment"
    python3 -m venv .venv
    say "installing agentcore and its dependencies with pip"
    .venv/bin/python -m pip install --disable-pip-version-check -e . 2>&1 | while IFS= read -r line; do
        case "$line" in
            Collecting*) say "  ${line#Collecting }" ;;
            Successfully*) say "  done" ;;
            ERROR*|error*) printf '%s\n' "$line" >&2 ;;
        esac
    done
    say "set up; running the example agent"
fi
exec .venv/bin/python examples/hello.py "$@"
