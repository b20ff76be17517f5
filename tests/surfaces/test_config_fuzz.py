"""Whatever is wrong with a file, loading and building raise ConfigError with positions, never another exception."""

from __future__ import annotations

import pytest

from agentcore.definitions import loads
from agentcore.errors import ConfigError
from tests.surfaces.test_config_build import FULL, PKG, fake_local_sandbox  # noqa: F401

REPLACEMENTS = ["[1, 2]", "{}", "null", "123", "'x y'", "{a: 1}", "${UNSET_VAR_X}", "-"]


def mutations() -> list[tuple[int, str]]:
    lines = FULL.strip("\n").splitlines()
    out = []
    for index, line in enumerate(lines):
        if ":" in line and not line.strip().startswith("#"):
            for replacement in REPLACEMENTS:
                out.append((index, line.split(":", 1)[0] + ": " + replacement))
        out.append((index, ""))  # the line deleted
    return out


@pytest.mark.usefixtures("fake_local_sandbox")
def test_every_mutation_is_loaded_or_reported() -> None:
    lines = FULL.strip("\n").splitlines()
    reported = 0
    for index, replacement in mutations():
        text = "\n".join([*lines[:index], replacement, *lines[index + 1 :]]) + "\n"
        try:
            loads(text, filename="m.yaml", allow=[PKG], env={}).build()
        except ConfigError as exc:
            reported += 1
            assert exc.errors, text
            for file, line, col, msg in exc.errors:
                assert file == "m.yaml" and line >= 1 and col >= 1 and msg
    assert reported > 100
