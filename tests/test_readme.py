"""The README's Python snippets run as written (the vendor model is swapped for a scripted one)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentcore import registry
from agentcore.testing import ScriptedModel, reply, tool_call

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_quickstart_and_testing_snippets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    quickstart = next(b for b in BLOCKS if "Runner.run_sync(agent" in b and "class Forecast" in b)
    testing = next(b for b in BLOCKS if "ScriptedModel" in b)
    scripted = ScriptedModel(
        [
            reply(None, ("get_weather", {"city": "Oslo"})),
            tool_call("celsius_to_fahrenheit", {"celsius": 18}),
            '{"city": "Oslo", "fahrenheit": 64.4, "summary": "Sunny and mild"}',
        ]
    )
    monkeypatch.setitem(registry._providers, "openai", lambda name, **kw: scripted)
    namespace: dict[str, object] = {}
    exec(compile(quickstart, "README.md", "exec"), namespace)
    assert "city='Oslo' fahrenheit=64.4" in capsys.readouterr().out
    assert scripted.requests[0].output_schema is not None
    exec(compile(testing, "README.md", "exec"), namespace)
