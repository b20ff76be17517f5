"""The ``agentcore`` command: :mod:`.main` (parser, validate, schema, trace, sessions), :mod:`.run`
(run and chat), :mod:`.progress` (live progress), :mod:`.common` (exit codes, error printing)."""

from .main import main

__all__ = ["main"]
