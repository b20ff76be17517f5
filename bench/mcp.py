"""MCP client cost: connect time of a stdio server, and the per-call overhead of agentcore's MCP tools
over the bare SDK ``ClientSession`` on the same connection.

    python bench/mcp.py               # tests/mcp/toy_server.py (the SDK's server, in Python)
    python bench/mcp.py --calls 1000

Connect time: spawn + handshake + first tools/list (median of --connects). Round trip: the same
connection is called through ``ClientSession.call_tool`` (bare) and through the ``MCPTool`` agentcore
builds (``Tool.invoke``: the SDK's ``Client.call_tool``, typed error mapping, timeout guard, result to
text), interleaved in rounds so machine noise hits both alike; the difference of the medians is
agentcore's overhead per call (target: < 0.5 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# this file is named mcp.py: its folder must not shadow the SDK's ``mcp`` package
sys.path = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from agentcore import Agent  # noqa: E402
from agentcore.context import RunContext  # noqa: E402
from agentcore.mcp import MCPServer, connect  # noqa: E402
from agentcore.mcp.runtime import ToolCache  # noqa: E402
from agentcore.messages import Usage  # noqa: E402

TOY = ROOT / "tests" / "mcp" / "toy_server.py"


async def connect_times(server: MCPServer, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        conn = await connect(server)
        await conn.list_tools()
        out.append(time.perf_counter() - started)
        await conn.close()
    return out


Samples = dict[str, list[float]]


async def round_trips(server: MCPServer, calls: int, rounds: int) -> Samples:
    conn = await connect(server)
    try:
        tools = {t.name: t for t in await ToolCache(server, conn).tools()}
        echo = tools[server.tool_name("echo")]
        session = conn._client.session  # type: ignore[union-attr]  # the bare SDK session under it
        ctx: RunContext[Any] = RunContext(deps=None, agent=Agent(name="bench"), run_id="bench", usage=Usage(), items=[])
        args = {"text": "ping"}
        for _ in range(50):  # warm both paths
            await session.call_tool("echo", args)
            await echo.invoke(ctx, args)
        out: Samples = {"bare": [], "ours": [], "bare_cpu": [], "ours_cpu": []}
        per_round = max(1, calls // rounds)
        for _ in range(rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(per_round):
                await session.call_tool("echo", args)
            t1, c1 = time.perf_counter(), time.process_time()
            for _ in range(per_round):
                assert await echo.invoke(ctx, args) == "ping"
            t2, c2 = time.perf_counter(), time.process_time()
            out["bare"].append((t1 - t0) / per_round)
            out["ours"].append((t2 - t1) / per_round)
            out["bare_cpu"].append((c1 - c0) / per_round)
            out["ours_cpu"].append((c2 - c1) / per_round)
        return out
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--connects", type=int, default=5)
    args = parser.parse_args()
    server = MCPServer(name="toy", command=sys.executable, args=[str(TOY)])
    candidates = [server]
    cache = Path(os.environ.get("AGENTCORE_MCP_SERVERS") or Path.home() / ".cache" / "agentcore-mcp")
    if (cache / "venv/bin/mcp-server-time").exists():  # third-party servers, where .ci/mcp-servers.sh put them
        candidates.append(MCPServer(name="mcp-server-time", command=str(cache / "venv/bin/mcp-server-time")))
    if (cache / "node_modules/.bin/mcp-server-filesystem").exists():
        candidates.append(MCPServer(name="server-filesystem",
                                    command=str(cache / "node_modules/.bin/mcp-server-filesystem"), args=["/tmp"]))
    for candidate in candidates:
        times = await connect_times(candidate, args.connects)
        print(f"stdio connect (spawn + handshake + tools/list), {candidate.name}: "
              f"median {statistics.median(times) * 1000:.1f} ms  (min {min(times) * 1000:.1f}, n={len(times)})")
    samples = await round_trips(server, args.calls, args.rounds)
    med = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    print(f"tool call round trip, bare ClientSession.call_tool: median {med['bare']:.3f} ms/call wall, "
          f"{med['bare_cpu']:.3f} ms/call CPU of this process")
    print(f"tool call round trip, agentcore MCPTool.invoke:     median {med['ours']:.3f} ms/call wall, "
          f"{med['ours_cpu']:.3f} ms/call CPU of this process")
    print(f"agentcore overhead: {med['ours'] - med['bare']:+.3f} ms/call wall, "
          f"{med['ours_cpu'] - med['bare_cpu']:+.3f} ms/call CPU (target < 0.5 ms; {args.rounds} rounds x "
          f"{max(1, args.calls // args.rounds)} calls, interleaved; CPU time is what load elsewhere cannot skew)")


if __name__ == "__main__":
    asyncio.run(main())
