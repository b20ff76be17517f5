"""Clean-install check: the package with only its declared dependencies builds and calls every adapter.

Run by CI (``.ci/run``) with the dev venv's python, given the python of a fresh venv into which
``pip install .`` (no extras) installed agentcore:

    .venv/bin/python tests/clean_install_check.py /tmp/agentcore-clean/bin/python

This process starts every vendor emulator (they need the dev dependencies) on 127.0.0.1; the clean
python then imports every module of the installed package and, for each adapter (``openai:``,
``openai-chat:``, ``anthropic:``, ``google:``, ``google-interactions:``), builds it with
``agentcore.resolve_model`` and makes one real call against its emulator. A module that imports
something the package does not declare fails here (``ModuleNotFoundError``), as it would for a user.
Modules that need an optional extra (``e2b``, ``modal``, ``otlp``) may miss exactly that extra.
Exits non-zero on any failure. Not collected by pytest (the file name does not start with ``test_``).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.providers import harness as harnesses  # noqa: E402

BASE_PATH = {"openai": "/v1", "openai-chat": "/v1"}
"""What each adapter's base URL adds to its emulator's root."""


def extras_modules() -> dict[str, list[str]]:
    """Each optional extra of pyproject.toml but ``dev`` (tooling the package must never import) and
    the module names its distributions may be imported as: a module of the package may fail to
    import for want of exactly these (``opentelemetry-exporter-otlp-proto-http`` ->
    ``opentelemetry.exporter.otlp.proto.http``, ``opentelemetry_exporter_otlp_proto_http``)."""
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    out: dict[str, list[str]] = {}
    for extra, requirements in project.get("optional-dependencies", {}).items():
        if extra == "dev":
            continue
        names = [re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower() for r in requirements]
        out[extra] = [m for n in names for m in (n.replace("-", "."), n.replace("-", "_"))]
    return out


CHILD = r"""
import asyncio, importlib, json, pkgutil, sys, time, traceback

specs, extras = json.loads(sys.argv[1]), json.loads(sys.argv[2])
failures = []

import agentcore
if "site-packages" not in (agentcore.__file__ or ""):
    failures.append(f"agentcore was imported from {agentcore.__file__}, not from the clean install")
for info in pkgutil.walk_packages(agentcore.__path__, "agentcore."):
    if info.name.endswith("__main__"):
        continue
    try:
        importlib.import_module(info.name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if not any(
            m == missing or m.startswith(missing + ".") or missing.startswith(m + ".")
            for mods in extras.values() for m in mods
        ):
            failures.append(f"import {info.name}: {exc!r} (an undeclared dependency)")

from agentcore import resolve_model
from agentcore.messages import UserMessage
from agentcore.model import ModelRequest

async def call(spec):
    model = resolve_model(spec, api_key="test-key")
    try:
        response = await model.respond(ModelRequest(None, [UserMessage.of("Say ok.")]))
        if not response.text:
            raise AssertionError(f"empty answer: {response!r}")
    finally:
        await model.aclose()

print(f"imported every module of {agentcore.__file__.rsplit('/', 2)[0]}")
for spec in specs:
    started = time.perf_counter()
    try:
        asyncio.run(call(spec))
        print(f"ok  {spec.split('@')[0]} ({time.perf_counter() - started:.2f}s)")
    except BaseException as exc:
        failures.append(f"{spec}: {''.join(traceback.format_exception(exc))}")

for failure in failures:
    print("FAIL", failure, file=sys.stderr)
sys.exit(1 if failures else 0)
"""


def main(python: str) -> int:
    started = time.perf_counter()
    running = []
    specs = []
    try:
        for name in harnesses.HARNESS_MODULES:
            h = harnesses.make(name)
            h.emulator.start()
            running.append(h.emulator)
            model = h.model()
            specs.append(f"{name}:{model.model_name}@{h.emulator.base_url}{BASE_PATH.get(name, '')}")
            asyncio.run(model.aclose())
        # from /: the clean python must find agentcore in its own site-packages, not in this checkout
        done = subprocess.run(
            [python, "-c", CHILD, json.dumps(specs), json.dumps(extras_modules())], cwd="/", timeout=300
        )
    finally:
        for emulator in running:
            emulator.stop()
    print(
        f"clean install check: {'passed' if done.returncode == 0 else 'FAILED'} "
        f"({len(specs)} adapters, {time.perf_counter() - started:.1f}s)"
    )
    return done.returncode


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: clean_install_check.py PYTHON_OF_A_CLEAN_VENV")
    sys.exit(main(sys.argv[1]))
