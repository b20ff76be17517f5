"""Module paths from before the package layout (0.1): ``agentcore.runner`` and friends still import.

A meta-path finder answers the old dotted names with the module at its new place (the same module
object, so patching either name patches both). New code imports the new paths.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

OLD_PATHS: dict[str, str] = {
    "agentcore.run_loop": "agentcore.run.loop",
    "agentcore.runner": "agentcore.run.runner",
    "agentcore.modelcall": "agentcore.run.modelcall",
    "agentcore.toolexec": "agentcore.run.toolexec",
    "agentcore.retry": "agentcore.run.retry",
    "agentcore.guardrails": "agentcore.control.guardrails",
    "agentcore.handoffs": "agentcore.control.handoffs",
    "agentcore.verifiers": "agentcore.control.verifiers",
    "agentcore.approvals": "agentcore.control.approvals",
    "agentcore.trace_store": "agentcore.tracing.store",
    "agentcore.trace_view": "agentcore.tracing.view",
    "agentcore.session": "agentcore.sessions.base",
    "agentcore.sqlite_session": "agentcore.sessions.sqlite",
    "agentcore.config": "agentcore.definitions",
    "agentcore.config_yaml": "agentcore.definitions.loader",
    "agentcore.config_schema": "agentcore.definitions.schema",
    "agentcore.config_check": "agentcore.definitions.check",
    "agentcore.config_build": "agentcore.definitions.build",
    "agentcore.config_dump": "agentcore.definitions.dump",
    "agentcore.config_refs": "agentcore.definitions.refs",
    "agentcore.config_jsonschema": "agentcore.definitions.jsonschema",
    "agentcore.cli_run": "agentcore.cli.run",
    "agentcore.cli_progress": "agentcore.cli.progress",
    "agentcore.providers.openai_responses": "agentcore.providers.openai.responses",
    "agentcore.providers.openai_responses_wire": "agentcore.providers.openai.responses_wire",
    "agentcore.providers.openai_chat": "agentcore.providers.openai.chat",
    "agentcore.providers.openai_chat_wire": "agentcore.providers.openai.chat_wire",
    "agentcore.providers.openai_chat_parse": "agentcore.providers.openai.chat_parse",
    "agentcore.providers.anthropic_encode": "agentcore.providers.anthropic.encode",
    "agentcore.providers.anthropic_decode": "agentcore.providers.anthropic.decode",
    "agentcore.providers.anthropic_items": "agentcore.providers.anthropic.items",
    "agentcore.providers.gemini_interactions": "agentcore.providers.gemini.interactions",
    "agentcore.providers.gemini_common": "agentcore.providers.gemini.common",
    "agentcore.sandboxes.e2b": "agentcore.sandboxes.remote.e2b",
    "agentcore.sandboxes.modal": "agentcore.sandboxes.remote.modal",
}


class _Alias:
    """A meta-path finder and loader (duck-typed: ``importlib.abc`` costs 40 ms of start-up)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None, /
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in OLD_PATHS:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)  # type: ignore[arg-type]  # a Loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(OLD_PATHS[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        return None


def install() -> None:
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
