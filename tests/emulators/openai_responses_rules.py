"""Request rules of the OpenAI Responses emulator: what the real API refuses, and its error wording.

:class:`RequestRules` is mixed into :class:`tests.emulators.openai_responses.OpenAIResponsesEmulator`;
it reads the emulator's stored responses and issued reasoning, compaction items and call ids to check
chains, tool-call pairing and replayed opaque items.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from tests.emulators.computer_rules import (
    OPENAI_COMPUTER_TOOLS,
    OPENAI_ITEM_KEYS,
    check_openai_body,
    check_openai_item,
    check_openai_tool,
    openai_open_call,
)

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_CALL_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

KNOWN_PARAMS = frozenset(
    "access_programs background background_options context_management conversation image include input "
    "instructions max_output_tokens max_tool_calls metadata model moderation parallel_tool_calls "
    "previous_response_id prompt prompt_cache_key prompt_cache_options prompt_cache_retention reasoning "
    "safety_identifier service_tier store stream stream_options temperature text tool_choice tools "
    "top_logprobs top_p truncation user".split()
)
INCLUDABLE = frozenset(
    {
        "reasoning.encrypted_content",
        "message.output_text.logprobs",
        "file_search_call.results",
        "web_search_call.results",
        "web_search_call.action.sources",
        "message.input_image.image_url",
        "computer_call_output.output.image_url",
        "code_interpreter_call.outputs",
    }
)
NON_REASONING = re.compile(r"^(?:gpt-4|gpt-3\.5|chatgpt-|gpt-5-chat)")
"""Models that do not reason: OpenAI refuses to return encrypted reasoning for them (400, ``include``)."""
EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh", "max"})
ITEM_KEYS: dict[str, frozenset[str]] = {
    "message": frozenset({"type", "role", "content", "id", "status", "phase"}),
    "function_call": frozenset(
        {"type", "id", "call_id", "name", "arguments", "status", "namespace", "caller"}
    ),
    "function_call_output": frozenset({"type", "id", "call_id", "output", "status", "name", "namespace"}),
    "reasoning": frozenset({"type", "id", "summary", "encrypted_content", "content", "status"}),
    "compaction": frozenset({"type", "id", "encrypted_content"}),
    "item_reference": frozenset({"type", "id"}),
}
USER_PARTS = frozenset({"input_text", "input_image", "input_file"})
ASSISTANT_PARTS = frozenset({"output_text", "refusal", "input_text"})


class APIFailure(Exception):
    """A request the real API would refuse; rendered as the vendor's error body."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None, status: int = 400):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.status = status


def missing_parameter(param: str) -> APIFailure:
    """The API's refusal of a request that lacks ``param`` (a path such as ``input[3].call_id``)."""
    return APIFailure(
        f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _strict_schema_problem(schema: Any, path: str = "") -> str | None:
    """Why ``schema`` is not valid for strict mode, or ``None``."""
    if not isinstance(schema, dict):
        return None
    if schema.get("type") == "object" or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            return (
                f"'additionalProperties' is required to be supplied and to be false{path and ' at ' + path}"
            )
        props = schema.get("properties") or {}
        missing = [k for k in props if k not in (schema.get("required") or [])]
        if missing:
            return f"'required' is required to include every key in properties. Missing '{missing[0]}'"
        for name, sub in props.items():
            problem = _strict_schema_problem(sub, f"{path}/properties/{name}")
            if problem:
                return problem
    for key in ("items", "anyOf", "$defs", "definitions"):
        sub = schema.get(key)
        subs = (
            sub
            if isinstance(sub, list)
            else list(sub.values())
            if isinstance(sub, dict) and key != "items"
            else [sub]
        )
        for s in subs:
            problem = _strict_schema_problem(s, f"{path}/{key}")
            if problem:
                return problem
    return None


def follower_key(item: dict[str, Any]) -> str | None:
    """What identifies the item a reasoning item produced: a function call's ``call_id``, or an
    assistant message's text (replays may drop item ids, so ids cannot be used)."""
    kind = item.get("type", "message")
    if kind in ("function_call", "shell_call", "apply_patch_call", "local_shell_call"):
        return f"call:{item.get('call_id')}"
    if kind == "message" and item.get("role") == "assistant":
        content = item.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return f"message:{content}"
    return None


class RequestRules:
    """Validation of ``POST /v1/responses`` bodies (mixed into the emulator)."""

    stored: dict[str, dict[str, Any]]
    issued_reasoning: dict[str, tuple[str, str, str | None]]
    issued_compactions: dict[str, str]
    issued_call_ids: set[str]
    _lock: threading.Lock

    # ------------------------------------------------------------------ validation

    def _validate(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Check the request like the API does; return (full conversation context, withheld reasoning)."""
        for key in body:
            if key not in KNOWN_PARAMS:
                raise APIFailure(f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise APIFailure(
                "Missing required parameter: 'model'.", param="model", code="missing_required_parameter"
            )
        for key in ("stream", "store", "parallel_tool_calls", "background"):
            if key in body and not isinstance(body[key], bool):
                raise APIFailure(
                    f"Invalid type for '{key}': expected a boolean, but got {type(body[key]).__name__} instead.",
                    param=key,
                    code="invalid_type",
                )
        self._check_range(body, "temperature", 0, 2)
        self._check_range(body, "top_p", 0, 1)
        if "max_output_tokens" in body:
            v = body["max_output_tokens"]
            if not isinstance(v, int) or v < 16:
                raise APIFailure(
                    f"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got {v} "
                    "instead.",
                    param="max_output_tokens",
                    code="integer_below_min_value",
                )
        for inc in body.get("include") or []:
            if inc not in INCLUDABLE:
                raise APIFailure(
                    f"Invalid value: '{inc}'. Supported values are: {', '.join(sorted(INCLUDABLE))}.",
                    param="include",
                    code="invalid_value",
                )
            if inc == "reasoning.encrypted_content" and NON_REASONING.match(model):
                raise APIFailure("Encrypted content is not supported with this model.", param="include")
        self._check_reasoning(body.get("reasoning"))
        tool_names = self._check_tools(body.get("tools"), model)
        check_openai_body(body, APIFailure)
        self._check_tool_choice(body.get("tool_choice"), tool_names)
        self._check_text(body.get("text"))
        if body.get("previous_response_id") is not None and body.get("conversation") is not None:
            raise APIFailure(
                "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or "
                "'conversation'.",
                param="previous_response_id",
                code="mutually_exclusive_parameters",
            )
        context: list[dict[str, Any]] = []
        prev = body.get("previous_response_id")
        if prev is not None:
            with self._lock:
                stored = self.stored.get(prev) if isinstance(prev, str) else None
            if stored is None:
                raise APIFailure(
                    f"Previous response with id '{prev}' not found.",
                    param="previous_response_id",
                    code="previous_response_not_found",
                )
            context = list(stored["context"])
        raw = body.get("input")
        if raw is None:
            raw = []
        if isinstance(raw, str):
            raw = [{"role": "user", "content": raw}]
        if not isinstance(raw, list):
            raise APIFailure("Invalid type for 'input': expected one of a string or array.", param="input")
        items, withheld = self._check_items(raw, context, model)
        context.extend(items)
        self._check_pending_calls(context)
        return context, withheld

    @staticmethod
    def _check_range(body: dict[str, Any], key: str, low: float, high: float) -> None:
        if key not in body or body[key] is None:
            return
        v = body[key]
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise APIFailure(f"Invalid type for '{key}': expected a decimal.", param=key, code="invalid_type")
        if v < low:
            raise APIFailure(
                f"Invalid '{key}': decimal below minimum value. Expected a value >= {low}, but got {v} instead.",
                param=key,
                code="decimal_below_min_value",
            )
        if v > high:
            raise APIFailure(
                f"Invalid '{key}': decimal above maximum value. Expected a value <= {high}, but got {v} instead.",
                param=key,
                code="decimal_above_max_value",
            )

    @staticmethod
    def _check_reasoning(reasoning: Any) -> None:
        if reasoning is None:
            return
        if not isinstance(reasoning, dict):
            raise APIFailure("Invalid type for 'reasoning': expected an object.", param="reasoning")
        for key in reasoning:
            if key not in ("effort", "summary", "generate_summary", "context", "mode"):
                raise APIFailure(
                    f"Unknown parameter: 'reasoning.{key}'.",
                    param=f"reasoning.{key}",
                    code="unknown_parameter",
                )
        effort = reasoning.get("effort")
        if effort is not None and effort not in EFFORTS:
            raise APIFailure(
                f"Invalid value: '{effort}'. Supported values are: {', '.join(sorted(EFFORTS))}.",
                param="reasoning.effort",
                code="invalid_value",
            )
        summary = reasoning.get("summary")
        if summary is not None and summary not in ("auto", "concise", "detailed"):
            raise APIFailure(f"Invalid value: '{summary}'.", param="reasoning.summary", code="invalid_value")

    @staticmethod
    def _check_tools(tools: Any, model: str = "") -> set[str]:
        from tests.emulators.openai_responses_native import check_tool

        names: set[str] = set()
        if tools is None:
            return names
        if not isinstance(tools, list):
            raise APIFailure(
                "Invalid type for 'tools': expected an array.", param="tools", code="invalid_type"
            )
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict) or "type" not in tool:
                raise APIFailure(f"Missing required parameter: 'tools[{i}].type'.", param=f"tools[{i}].type")
            if tool["type"] in OPENAI_COMPUTER_TOOLS:
                check_openai_tool(tool, i, model, APIFailure)
                continue
            if tool["type"] != "function":
                check_tool(tool, i, model)  # native and hosted tools: their documented shapes only
                continue
            for key in tool:
                if key not in (
                    "type",
                    "name",
                    "description",
                    "parameters",
                    "strict",
                    "defer_loading",
                    "output_schema",
                ):
                    raise APIFailure(
                        f"Unknown parameter: 'tools[{i}].{key}'.",
                        param=f"tools[{i}].{key}",
                        code="unknown_parameter",
                    )
            name = tool.get("name")
            if not isinstance(name, str) or not _NAME.match(name):
                raise APIFailure(
                    f"Invalid 'tools[{i}].name': string does not match pattern. Expected a string that matches the "
                    "pattern '^[a-zA-Z0-9_-]+$'.",
                    param=f"tools[{i}].name",
                    code="invalid_value",
                )
            if name in names:
                raise APIFailure(f"Duplicate tool name: '{name}'.", param="tools", code="duplicate_tool_name")
            names.add(name)
            params = tool.get("parameters")
            if params is not None and not isinstance(params, dict):
                raise APIFailure(f"Invalid type for 'tools[{i}].parameters'.", param=f"tools[{i}].parameters")
            if tool.get("strict"):
                problem = _strict_schema_problem(params or {})
                if problem:
                    raise APIFailure(
                        f"Invalid schema for function '{name}': In context=(), {problem}.",
                        param=f"tools[{i}].parameters",
                        code="invalid_function_parameters",
                    )
        return names

    @staticmethod
    def _check_tool_choice(choice: Any, names: set[str]) -> None:
        if choice is None or choice in ("auto", "none", "required"):
            return
        if isinstance(choice, dict) and choice.get("type") == "function":
            if choice.get("name") not in names:
                raise APIFailure(
                    "Tool choice 'function' not found in 'tools' parameter.", param="tool_choice", code=None
                )
            return
        if isinstance(choice, dict) and choice.get("type") in ("allowed_tools", "custom", "mcp", "shell"):
            return
        raise APIFailure(f"Invalid value for 'tool_choice': {json.dumps(choice)}.", param="tool_choice")

    @staticmethod
    def _check_text(text: Any) -> None:
        if text is None:
            return
        fmt = text.get("format") if isinstance(text, dict) else None
        if fmt is None:
            return
        kind = fmt.get("type")
        if kind in ("text", "json_object"):
            return
        if kind != "json_schema":
            raise APIFailure(f"Invalid value: '{kind}'.", param="text.format.type", code="invalid_value")
        if not isinstance(fmt.get("name"), str) or not _NAME.match(fmt["name"]):
            raise APIFailure("Missing required parameter: 'text.format.name'.", param="text.format.name")
        if not isinstance(fmt.get("schema"), dict):
            raise APIFailure("Missing required parameter: 'text.format.schema'.", param="text.format.schema")
        if fmt.get("strict"):
            problem = _strict_schema_problem(fmt["schema"])
            if problem:
                raise APIFailure(
                    f"Invalid schema for response_format '{fmt['name']}': In context=(), {problem}.",
                    param="text.format.schema",
                    code="invalid_json_schema",
                )

    def _check_items(
        self, raw: list[Any], context: list[dict[str, Any]], model: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        from tests.emulators.media_rules import responses_output_problem
        from tests.emulators.openai_responses_native import NATIVE_ITEM_KEYS, check_item

        calls = {it["call_id"] for it in context if it.get("type") == "function_call"}
        native_calls = {
            it["call_id"]: it["type"]
            for it in context
            if it.get("type") in ("shell_call", "apply_patch_call", "local_shell_call")
        }
        answered = {
            it.get("approval_request_id") for it in context if it.get("type") == "mcp_approval_response"
        }
        native_calls.update(  # hosted MCP approval requests an mcp_approval_response may answer (once)
            {
                it["id"]: "answered" if it["id"] in answered else "mcp_approval_request"
                for it in context
                if it.get("type") == "mcp_approval_request"
            }
        )
        keys = {**ITEM_KEYS, **NATIVE_ITEM_KEYS, **OPENAI_ITEM_KEYS}
        computer_calls = {it["call_id"]: it for it in context if it.get("type") == "computer_call"}
        for it in context:
            if it.get("type") == "computer_call_output":
                computer_calls.pop(str(it.get("call_id")), None)
        stored_items = {it.get("id"): it for it in context if it.get("id")}
        out: list[dict[str, Any]] = []
        withheld: list[dict[str, Any]] = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise APIFailure(f"Invalid type for 'input[{i}]': expected an object.", param=f"input[{i}]")
            kind = item.get("type") or ("message" if "role" in item else None)
            if kind not in keys:
                raise APIFailure(
                    f"Invalid value: '{kind}'. Supported values are: {', '.join(sorted(keys))}.",
                    param=f"input[{i}].type",
                    code="invalid_value",
                )
            for key in item:
                if key not in keys[kind]:
                    raise APIFailure(
                        f"Unknown parameter: 'input[{i}].{key}'.",
                        param=f"input[{i}].{key}",
                        code="unknown_parameter",
                    )
            norm = {**item, "type": kind}
            if kind in OPENAI_ITEM_KEYS:
                check_openai_item(kind, item, i, computer_calls, APIFailure)
            elif kind in NATIVE_ITEM_KEYS:
                check_item(kind, item, i, native_calls)
            elif kind == "message":
                self._check_message(item, i)
            elif kind == "function_call":
                for key in ("call_id", "name", "arguments"):
                    if not isinstance(item.get(key), str):
                        raise missing_parameter(f"input[{i}].{key}")
                with self._lock:
                    issued = item["call_id"] in self.issued_call_ids
                if not issued and not _CALL_ID.match(item["call_id"]):
                    raise APIFailure(
                        f"Invalid 'input[{i}].call_id': string does not match pattern.",
                        param=f"input[{i}].call_id",
                        code="invalid_value",
                    )
                calls.add(item["call_id"])
            elif kind == "function_call_output":
                cid = item.get("call_id")
                if not isinstance(cid, str):
                    raise missing_parameter(f"input[{i}].call_id")
                if not isinstance(item.get("output"), str | list):
                    raise missing_parameter(f"input[{i}].output")
                problem = responses_output_problem(item["output"], f"input[{i}].output")
                if problem:
                    raise APIFailure(f"Invalid {problem}", param=f"input[{i}].output", code="invalid_value")
                if cid not in calls:
                    raise APIFailure(
                        f"No tool call found for function call output with call_id {cid}.", param="input"
                    )
            elif kind == "reasoning":
                norm = self._check_reasoning_item(item, i, raw, model, withheld)
            elif kind == "compaction":
                enc = item.get("encrypted_content")
                if not isinstance(enc, str):
                    raise missing_parameter(f"input[{i}].encrypted_content")
                with self._lock:
                    cid = self.issued_compactions.get(enc)
                if cid is None or item.get("id", cid) != cid:
                    raise APIFailure(
                        f"The encrypted content for item {item.get('id')} could not be verified.",
                        param=None,
                        code="invalid_encrypted_content",
                    )
            elif kind == "item_reference":
                ref = stored_items.get(item.get("id"))
                if ref is None:
                    raise APIFailure(f"Item with id '{item.get('id')}' not found.", param="input", code=None)
                norm = ref
            out.append(norm)
        return out, withheld

    @staticmethod
    def _check_message(item: dict[str, Any], i: int) -> None:
        role = item.get("role")
        if role not in ("user", "assistant", "system", "developer"):
            raise APIFailure(
                f"Invalid value: '{role}'. Supported values are: 'assistant', 'system', 'developer', and 'user'.",
                param=f"input[{i}].role",
                code="invalid_value",
            )
        content = item.get("content")
        if isinstance(content, str):
            return
        if not isinstance(content, list):
            raise missing_parameter(f"input[{i}].content")
        allowed = ASSISTANT_PARTS if role == "assistant" else USER_PARTS
        for j, part in enumerate(content):
            ptype = part.get("type") if isinstance(part, dict) else None
            if ptype not in allowed:
                raise APIFailure(
                    f"Invalid value: '{ptype}'. Supported values are: {', '.join(sorted(allowed))}.",
                    param=f"input[{i}].content[{j}].type",
                    code="invalid_value",
                )
            if ptype in ("input_text", "output_text") and not isinstance(part.get("text"), str):
                raise missing_parameter(f"input[{i}].content[{j}].text")

    def _check_reasoning_item(
        self, item: dict[str, Any], i: int, raw: list[Any], model: str, withheld: list[dict[str, Any]]
    ) -> dict[str, Any]:
        rid = item.get("id")
        if not isinstance(rid, str) or not rid.startswith("rs_"):
            raise missing_parameter(f"input[{i}].id")
        if not isinstance(item.get("summary"), list):
            raise missing_parameter(f"input[{i}].summary")
        enc = item.get("encrypted_content")
        with self._lock:
            issued = self.issued_reasoning.get(enc) if isinstance(enc, str) else None
        if enc is None:
            raise APIFailure(f"Item with id '{rid}' not found.", param="input", code=None, status=404)
        if issued is None or issued[0] != rid:
            raise APIFailure(
                f"The encrypted content for item {rid} could not be verified.",
                param=None,
                code="invalid_encrypted_content",
            )
        following = raw[i + 1] if i + 1 < len(raw) else None
        if not isinstance(following, dict) or follower_key(following) != issued[2]:
            raise APIFailure(
                f"Item '{rid}' of type 'reasoning' was provided without its required following item.",
                param="input",
            )
        if issued[1] != model:
            withheld.append({"id": rid, "action": "removed", "reason": "model_mismatch", "type": "reasoning"})
        return {**item, "type": "reasoning"}

    @staticmethod
    def _check_pending_calls(context: list[dict[str, Any]]) -> None:
        from tests.emulators.openai_responses_native import pending

        open_call = pending(context) or openai_open_call(context)
        if open_call is not None:
            raise APIFailure(f"No tool output found for call {open_call}.", param="input")
        answered = {it.get("call_id") for it in context if it.get("type") == "function_call_output"}
        for it in context:
            if it.get("type") == "function_call" and it["call_id"] not in answered:
                raise APIFailure(f"No tool output found for function call {it['call_id']}.", param="input")
