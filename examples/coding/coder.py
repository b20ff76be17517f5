"""A coding agent that uses each vendor's native tools, on whichever vendor it is given.

python examples/coding/coder.py --model anthropic:claude-sonnet-4-5 "Write wordfreq.py with tests"
python examples/coding/coder.py --model openai:gpt-5.2 --workspace ./myproject "Fix the failing tests"
python examples/coding/coder.py --model google:gemini-3-pro-preview "..."     # function tools on Gemini
python examples/coding/coder.py --native off --model openai:gpt-5.2 "..."     # function tools everywhere
python examples/coding/coder.py --base-url http://127.0.0.1:4000 --model anthropic:claude-sonnet-4-5 "..."

The agent is ``examples/coding/agent.yaml`` (a local bubblewrap sandbox, a shell policy, a budget, and a
verifier that runs the tests after the agent says it is done). Claude gets ``bash`` and the text editor,
GPT-5.1 and later ``shell`` and ``apply_patch``, other models the function tools; the commands run in the
same sandbox whatever the form. ``--workspace DIR`` copies DIR into the sandbox first and the result back
afterwards. The tools the model called are listed on stderr, with the form they came in.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from agentcore import Runner
from agentcore.definitions import load
from agentcore.messages import ToolCall

HERE = Path(__file__).resolve().parent


def wire_form(call: ToolCall) -> str:
    """How a call reached us: the native tool it came as (``bash``, ``apply_patch``…) or a function call."""
    marker = next((s for s in call.state if s.provider == "native"), None)
    return f"native {marker.kind}" if marker is not None else "function"


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("task")
    parser.add_argument("--model", required=True, help="provider:model, e.g. anthropic:claude-sonnet-4-5")
    parser.add_argument("--base-url", help="the vendor's API (or a proxy) at another address")
    parser.add_argument("--native", choices=["auto", "off"], default="auto")
    parser.add_argument("--workspace", type=Path, help="a directory to work on (copied in and back)")
    args = parser.parse_args(argv)

    # --model/--base-url replace the file's models, as `agentcore run --model/--base-url` does
    template = load(HERE / "agent.yaml").build(model=args.model, base_url=args.base_url)
    agent = template.clone(native_tools=args.native)
    sandbox = agent.sandbox
    await sandbox.start()  # started here, so the workspace can be copied back after the run
    try:
        if args.workspace is not None:
            await sandbox.upload(args.workspace, ".")
        result = await Runner.run(agent, args.task)
        if args.workspace is not None:
            await sandbox.download(".", args.workspace)
    finally:
        await sandbox.close()
    for call in (i for i in result.new_items if isinstance(i, ToolCall)):
        print(f"  {call.name:<30} {wire_form(call)}", file=sys.stderr)
    print(result.final_output)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
