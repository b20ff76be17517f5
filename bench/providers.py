"""Client time per model call for every provider adapter, next to the bare vendor SDK and raw httpx.

Runs each vendor's benchmark module (``bench/providers_<vendor>.py``, each against its local emulator at
zero latency) for a 10-turn and a 50-turn tool loop and prints one table per vendor: agentcore's client
time per call, the bare SDK loop and the raw-httpx loop measured in the same run, request bytes and
items per call (with server-side state on and off where the vendor has it).

    python bench/providers.py                 # all vendors
    python bench/providers.py anthropic       # one vendor
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VENDORS = ["openai_responses", "openai_chat", "anthropic", "gemini"]
TURNS = (10, 50)


def main() -> None:
    chosen = [v for v in VENDORS if not sys.argv[1:] or v in sys.argv[1:]]
    for vendor in chosen:
        module = importlib.import_module(f"bench.providers_{vendor}")
        rows = {turns: module.run(turns) for turns in TURNS}
        keys = [k for k in rows[TURNS[0]] if k != "turns"]
        print(f"\n{vendor}: per model call (ms of client time unless the name says otherwise)")
        print(f"  {'metric':<44}" + "".join(f"{'turn ' + str(t):>12}" for t in TURNS))
        for key in keys:
            print(f"  {key:<44}" + "".join(f"{rows[t].get(key, float('nan')):>12.2f}" for t in TURNS))


if __name__ == "__main__":
    main()
