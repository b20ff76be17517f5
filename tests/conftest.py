"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest

from tests.spans import spans_fixture

spans = pytest.fixture(spans_fixture, name="spans")
