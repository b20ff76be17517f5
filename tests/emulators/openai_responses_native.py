"""Responses emulator rules for native client tools, hosted tools and server-run items (issue 13).

Shapes follow ../shared/research/WIRE.md §1.3, §1.6 and the recordings in
``../shared/cassettes/openai_responses`` (shell, apply_patch, local_shell, hosted-container shell).
Tool entries accepted: ``shell`` (environment ``local`` | ``container_auto`` | ``container_reference``),
``apply_patch``, ``local_shell``, ``web_search``, ``file_search`` (``vector_store_ids`` required),
``code_interpreter`` (``container`` required), ``mcp``; anything else is a 400 like the service's. The
option checks of hosted entries, hosted MCP items and hosted containers are in
:mod:`tests.emulators.openai_responses_hosted`.
"""

from __future__ import annotations

import re
from typing import Any

from tests.emulators.openai_responses_hosted import (
    HOSTED_ITEM_KEYS,
    check_approval_response,
    check_code_interpreter,
    check_container_env,
    check_mcp_tool,
    check_web_search,
)
from tests.emulators.openai_responses_rules import APIFailure, missing_parameter

NATIVE_ITEM_KEYS: dict[str, frozenset[str]] = {
    "shell_call": frozenset({"type", "id", "call_id", "action", "status", "environment", "caller"}),
    "shell_call_output": frozenset(
        {"type", "id", "call_id", "output", "max_output_length", "status", "caller"}
    ),
    "apply_patch_call": frozenset({"type", "id", "call_id", "operation", "status", "caller"}),
    "apply_patch_call_output": frozenset({"type", "id", "call_id", "status", "output", "caller"}),
    "local_shell_call": frozenset({"type", "id", "call_id", "action", "status"}),
    "local_shell_call_output": frozenset({"type", "id", "output", "status"}),
    "web_search_call": frozenset({"type", "id", "status", "action"}),
    "file_search_call": frozenset({"type", "id", "status", "queries", "results"}),
    "code_interpreter_call": frozenset({"type", "id", "status", "code", "container_id", "outputs"}),
    **HOSTED_ITEM_KEYS,
}
CALL_OUTPUTS = {
    "shell_call": "shell_call_output",
    "apply_patch_call": "apply_patch_call_output",
    "local_shell_call": "local_shell_call_output",
}
_TOOL_KEYS: dict[str, frozenset[str]] = {
    "shell": frozenset({"type", "environment"}),
    "apply_patch": frozenset({"type"}),
    "local_shell": frozenset({"type"}),
    "web_search": frozenset(
        {"type", "filters", "user_location", "search_context_size", "external_web_access"}
    ),
    "file_search": frozenset({"type", "vector_store_ids", "max_num_results", "filters", "ranking_options"}),
    "code_interpreter": frozenset({"type", "container"}),
    "mcp": frozenset(
        {
            "type",
            "server_label",
            "server_url",
            "connector_id",
            "tunnel_id",
            "allowed_tools",
            "require_approval",
            "authorization",
            "headers",
            "server_description",
            "defer_loading",
            "allowed_callers",
        }
    ),
}
_GPT = re.compile(r"^gpt-(\d+)(?:\.(\d+))?")


def _native_model(model: str) -> bool:
    m = _GPT.match(model)
    if m is None or "-chat" in model:
        return False
    major, minor = int(m.group(1)), int(m.group(2) or 0)
    return major > 5 or (major == 5 and minor >= 1)


def check_tool(tool: dict[str, Any], i: int, model: str) -> None:
    """A non-function tool entry, as the service checks it."""
    kind = tool["type"]
    if kind not in _TOOL_KEYS:
        raise APIFailure(
            f"Invalid value: '{kind}'. Supported values are: 'function', {', '.join(repr(k) for k in _TOOL_KEYS)}.",
            param=f"tools[{i}].type",
            code="invalid_value",
        )
    for key in tool:
        if key not in _TOOL_KEYS[kind]:
            raise APIFailure(
                f"Unknown parameter: 'tools[{i}].{key}'.", param=f"tools[{i}].{key}", code="unknown_parameter"
            )
    if kind in ("shell", "apply_patch") and not _native_model(model):
        raise APIFailure(f"Tool '{kind}' is not supported with model '{model}'.", param=f"tools[{i}].type")
    if kind == "shell" and "environment" in tool:
        env = tool["environment"]
        etype = env.get("type") if isinstance(env, dict) else None
        if etype not in ("local", "container_auto", "container_reference"):
            raise APIFailure(
                f"Invalid value for 'tools[{i}].environment.type'.", param=f"tools[{i}].environment.type"
            )
        if etype == "container_reference" and not isinstance(env.get("container_id"), str):
            raise APIFailure(
                f"Missing required parameter: 'tools[{i}].environment.container_id'.",
                param=f"tools[{i}].environment.container_id",
            )
        check_container_env(env, i)
    if kind == "mcp":
        check_mcp_tool(tool, i, set())
    if kind == "file_search":
        ids = tool.get("vector_store_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(x, str) for x in ids):
            raise APIFailure(
                f"Missing required parameter: 'tools[{i}].vector_store_ids'.",
                param=f"tools[{i}].vector_store_ids",
            )
    if kind == "code_interpreter":
        box = tool.get("container")
        if not (isinstance(box, str) or (isinstance(box, dict) and box.get("type") == "auto")):
            raise APIFailure(
                f"Missing required parameter: 'tools[{i}].container'.", param=f"tools[{i}].container"
            )
    if kind == "code_interpreter":
        check_code_interpreter(tool, i)
    if kind == "web_search":
        check_web_search(tool, i)
        filters = tool.get("filters")
        if filters is not None and (not isinstance(filters, dict) or set(filters) - {"allowed_domains"}):
            raise APIFailure(f"Invalid value for 'tools[{i}].filters'.", param=f"tools[{i}].filters")
        loc = tool.get("user_location")
        if loc is not None and (not isinstance(loc, dict) or loc.get("type") != "approximate"):
            raise APIFailure(
                f"Invalid value for 'tools[{i}].user_location'.", param=f"tools[{i}].user_location"
            )


def check_item(kind: str, item: dict[str, Any], i: int, calls: dict[str, str]) -> None:
    """A native or server-run input item. ``calls``: call_id -> call type, of everything before it."""

    def missing(key: str) -> APIFailure:
        return missing_parameter(f"input[{i}].{key}")

    if kind in CALL_OUTPUTS:
        if not isinstance(item.get("call_id"), str):
            raise missing("call_id")
        field = "operation" if kind == "apply_patch_call" else "action"
        if not isinstance(item.get(field), dict):
            raise missing(field)
        if kind == "shell_call" and not isinstance(item[field].get("commands"), list):
            raise missing("action.commands")
        calls[item["call_id"]] = kind
        return
    if kind == "local_shell_call_output":
        cid = item.get("id")
        if not isinstance(cid, str):
            raise missing("id")
        if not isinstance(item.get("output"), str):
            raise missing("output")
    elif kind in ("shell_call_output", "apply_patch_call_output"):
        cid = item.get("call_id")
        if not isinstance(cid, str):
            raise missing("call_id")
        if kind == "shell_call_output":
            out = item.get("output")
            if not isinstance(out, list):
                raise missing("output")
            for j, chunk in enumerate(out):
                outcome = chunk.get("outcome") if isinstance(chunk, dict) else None
                if (
                    not isinstance(chunk, dict)
                    or set(chunk) - {"stdout", "stderr", "outcome"}
                    or not isinstance(chunk.get("stdout"), str)
                    or not isinstance(chunk.get("stderr"), str)
                    or not isinstance(outcome, dict)
                    or outcome.get("type") not in ("exit", "timeout")
                    or (outcome["type"] == "exit" and not isinstance(outcome.get("exit_code"), int))
                ):
                    raise APIFailure(
                        f"Invalid value for 'input[{i}].output[{j}]'.", param=f"input[{i}].output[{j}]"
                    )
        else:
            if item.get("status") not in ("completed", "failed"):
                raise APIFailure(f"Invalid value for 'input[{i}].status'.", param=f"input[{i}].status")
            if "output" in item and not isinstance(item["output"], str | None):
                raise APIFailure(f"Invalid type for 'input[{i}].output'.", param=f"input[{i}].output")
    elif kind == "mcp_approval_request":
        if not isinstance(item.get("id"), str):
            raise missing("id")
        calls[item["id"]] = kind
        return
    elif kind == "mcp_approval_response":
        check_approval_response(item, i, calls)
        return
    else:
        return  # server-run items (web_search_call…) replay as they came
    want = {v: k for k, v in CALL_OUTPUTS.items()}[kind]
    if calls.get(cid) != want:
        raise APIFailure(f"No tool call found for {kind} with call_id {cid}.", param="input")
    if kind == "shell_call_output":
        calls[cid] = "answered"


def pending(context: list[dict[str, Any]]) -> str | None:
    """A client-run native call without its output, else ``None``."""
    answered = {
        it.get("id") if it.get("type") == "local_shell_call_output" else it.get("call_id")
        for it in context
        if it.get("type") in CALL_OUTPUTS.values()
    }
    for it in context:
        if it.get("type") in CALL_OUTPUTS and it.get("call_id") not in answered:
            env = it.get("environment")
            if isinstance(env, dict) and env.get("type") not in (None, "local"):
                continue  # a hosted container's call: the server answered it
            return str(it.get("call_id"))
    return None
