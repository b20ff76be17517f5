"""The example agent the README's first command runs: two tools, a typed answer, any provider.

python examples/hello.py "What is 17% of 2,340, and what time is it in UTC?"
python examples/hello.py --model anthropic:claude-sonnet-4-5 "..."
python examples/hello.py --base-url http://127.0.0.1:11434/v1 --model llama3.2 "..."   # any OpenAI-compatible server
python examples/hello.py --base-url http://127.0.0.1:4000 --model anthropic:claude-sonnet-4-5 "..."  # a proxy

--model and --base-url mean what they mean in `agentcore run`: a bare NAME with a base URL is a model on
an OpenAI-compatible server; provider:model with a base URL is that vendor's API at that URL; a base URL on
this machine (localhost, 127.0.0.1) never needs a vendor key.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from pydantic import BaseModel

from agentcore import Agent, Model, Runner, tool
from agentcore.errors import UnknownModelError
from agentcore.registry import NO_KEY, is_loopback, model_address, resolve_model

KEYS = {
    "OPENAI_API_KEY": "openai:gpt-5-mini",
    "ANTHROPIC_API_KEY": "anthropic:claude-sonnet-4-5",
    "GEMINI_API_KEY": "google:gemini-2.5-flash",
    "GOOGLE_API_KEY": "google:gemini-2.5-flash",
}

HELP = """\
agentcore example: no model provider is configured.

Set one of these and run again:
  export OPENAI_API_KEY=...       # uses openai:gpt-5-mini
  export ANTHROPIC_API_KEY=...    # uses anthropic:claude-sonnet-4-5
  export GEMINI_API_KEY=...       # uses google:gemini-2.5-flash

Or point it at any OpenAI-compatible server (vLLM, Ollama, llama.cpp, OpenRouter…):
  bash examples/quickstart.sh --base-url http://127.0.0.1:11434/v1 --model llama3.2

Choose a model explicitly with --model provider:model (e.g. anthropic:claude-opus-4-1).
"""


@tool
def calculate(expression: str) -> float:
    """Evaluate an arithmetic expression with + - * / ( ) and decimals.

    Args:
        expression: For example "0.17 * 2340".
    """
    if not set(expression) <= set("0123456789.+-*/() "):
        raise ValueError("only numbers and + - * / ( ) are allowed")
    return float(eval(expression, {"__builtins__": {}}, {}))


@tool
def utc_now() -> str:
    """The current date and time in UTC (ISO 8601)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Answer(BaseModel):
    answer: str
    tools_used: list[str]


def choose_model(model: str | None, base_url: str | None) -> str | Model | None:
    """``--model``/``--base-url`` mean what they mean in ``agentcore run`` (``model_address``): a bare name
    with a base URL is a model on an OpenAI-compatible server; a server on this machine needs no key."""
    if base_url or model:
        address = model_address(model or "default", base_url)
        if base_url and is_loopback(base_url):
            return resolve_model(address, lazy=True, api_key=NO_KEY)
        return address
    return next((m for key, m in KEYS.items() if os.environ.get(key)), None)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("prompt", nargs="?", default="What is 17% of 2,340, and what time is it in UTC?")
    parser.add_argument("--model", help="provider:model (openai:gpt-5-mini), or a NAME served at --base-url")
    parser.add_argument("--base-url", help="the server's URL; with a bare --model NAME, an OpenAI-compatible /v1")
    args = parser.parse_args()
    try:
        model = choose_model(args.model, args.base_url)
    except UnknownModelError as exc:
        print(f"{exc}\n\n{HELP}", file=sys.stderr)
        return 2
    if model is None:
        print(HELP, file=sys.stderr)
        return 2
    agent = Agent(
        name="helper",
        instructions="Answer precisely. Use the tools for arithmetic and time; list the tools you used.",
        model=model,
        tools=[calculate, utc_now],
        output_type=Answer,
    )
    result = Runner.run_sync(agent, args.prompt)
    print(result.final_output.answer if result.final_output else result.output_text)
    name = model if isinstance(model, str) else f"{model.provider}:{model.model_name}@{args.base_url}"
    print(f"[{name} · {result.turns} turns · {result.usage.total_tokens} tokens]", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
