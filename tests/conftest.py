"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import tempfile

import pytest

from tests.spans import spans_fixture

# The suite never writes into the developer's data directory, and the local trace store (on by default
# for users) is off unless a test turns it on.
os.environ["AGENTCORE_HOME"] = tempfile.mkdtemp(prefix="agentcore-tests-")
os.environ.setdefault("AGENTCORE_TRACES", "off")

spans = pytest.fixture(spans_fixture, name="spans")
