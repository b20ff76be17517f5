#!/usr/bin/env bash
# Set up agentcore in ./.venv (first run only) and run the example agent.
#   bash examples/quickstart.sh ["your question"] [--model provider:model] [--base-url URL]
# Needs OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY, or --base-url to an OpenAI-compatible server.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/agentcore ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --disable-pip-version-check -e .
fi
exec .venv/bin/python examples/hello.py "$@"
