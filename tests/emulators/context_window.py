"""Context windows and token counting, shared by the vendor emulators.

An emulator with ``context_window`` set (``Emulator.context_window``, per test) refuses a request whose
input tokens pass it, before any scripted reply is used, with the vendor's own error:

* OpenAI Responses: 400 ``invalid_request_error``, ``code: context_length_exceeded``, ``param: input``,
  "Your input exceeds the context window of this model. Please adjust your input and try again."
* OpenAI Chat Completions: 400 ``code: context_length_exceeded``, ``param: messages``, "This model's
  maximum context length is W tokens. However, your messages resulted in N tokens. …"
* Anthropic: 400 ``invalid_request_error`` "prompt is too long: N tokens > W maximum".
* Gemini (generateContent and Interactions): 400 ``INVALID_ARGUMENT`` "The input token count (N)
  exceeds the maximum number of tokens allowed (W)."

Input tokens are counted the way each emulator reports them in ``usage`` (about four bytes of the
request's conversation per token; server-side state counts: a ``previous_response_id`` chain, a
``previous_interaction_id`` history; an OpenAI ``compaction`` item stands for everything before it), so
a client calibrating on reported usage measures what the emulator enforces.

The counting endpoints answer with the same count: ``POST /v1/responses/input_tokens`` (``{"object":
"response.input_tokens", "input_tokens": N}``), ``POST /v1/messages/count_tokens`` (``{"input_tokens":
N}``), ``POST /v1beta/models/{model}:countTokens`` (``{"totalTokens": N, ...}``, the body holding
``contents`` or a whole ``generateContentRequest``). Unknown body fields are refused as on the real
endpoints (their parameter lists are the SDKs' ``count`` / ``count_tokens`` signatures).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tests.emulators.base import HTTPReply, RecordedRequest

if TYPE_CHECKING:
    from tests.emulators.base import Emulator

RESPONSES_COUNT_PARAMS = frozenset(
    {
        "conversation",
        "input",
        "instructions",
        "model",
        "parallel_tool_calls",
        "personality",
        "previous_response_id",
        "reasoning",
        "text",
        "tool_choice",
        "tools",
        "truncation",
    }
)
ANTHROPIC_COUNT_PARAMS = frozenset(
    {
        "messages",
        "model",
        "cache_control",
        "output_config",
        "speed",
        "system",
        "thinking",
        "tool_choice",
        "tools",
        "context_management",
        "mcp_servers",
    }
)
GEMINI_COUNT_PARAMS = frozenset({"contents", "generateContentRequest"})


def window_of(emulator: Emulator) -> int | None:
    value = getattr(emulator, "context_window", None)
    return int(value) if value is not None else None


# --------------------------------------------------------------------------- token counts


def responses_tokens(body: dict[str, Any], context: list[dict[str, Any]]) -> int:
    """Input tokens of a Responses request whose whole conversation (chain included) is ``context``."""
    start = max((i for i, it in enumerate(context) if it.get("type") == "compaction"), default=0)
    return max(1, len(json.dumps(context[start:])) // 4 + len(body.get("instructions") or "") // 4)


def bytes_tokens(size: int) -> int:
    return max(1, size // 4)


# --------------------------------------------------------------------------- refusals


def openai_responses_refusal(emulator: Emulator, tokens: int) -> HTTPReply | None:
    window = window_of(emulator)
    if window is None or tokens <= window:
        return None
    message = "Your input exceeds the context window of this model. Please adjust your input and try again."
    error = {
        "message": message,
        "type": "invalid_request_error",
        "param": "input",
        "code": "context_length_exceeded",
    }
    return HTTPReply(400, {"error": error})


def openai_chat_refusal(emulator: Emulator, tokens: int) -> HTTPReply | None:
    window = window_of(emulator)
    if window is None or tokens <= window:
        return None
    message = (
        f"This model's maximum context length is {window} tokens. However, your messages resulted in {tokens} "
        "tokens. Please reduce the length of the messages."
    )
    error = {
        "message": message,
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }
    return HTTPReply(400, {"error": error})


def anthropic_refusal(emulator: Emulator, tokens: int) -> HTTPReply | None:
    window = window_of(emulator)
    if window is None or tokens <= window:
        return None
    error = emulator.error(400, f"prompt is too long: {tokens} tokens > {window} maximum")  # type: ignore[attr-defined]
    assert isinstance(error, HTTPReply)
    return error


def gemini_refusal(emulator: Emulator, tokens: int) -> HTTPReply | None:
    window = window_of(emulator)
    if window is None or tokens <= window:
        return None
    message = f"The input token count ({tokens}) exceeds the maximum number of tokens allowed ({window})."
    return HTTPReply(400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})


# --------------------------------------------------------------------------- counting endpoints


def openai_responses_count(emulator: Any, body: Any) -> HTTPReply:
    """``POST /v1/responses/input_tokens``."""
    from tests.emulators.openai_responses_rules import APIFailure, error_body

    try:
        if not isinstance(body, dict):
            raise APIFailure("We could not parse the JSON body of your request.")
        for key in body:
            if key not in RESPONSES_COUNT_PARAMS:
                raise APIFailure(f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")
        context, _ = emulator._validate(body)
    except APIFailure as exc:
        return HTTPReply(exc.status, error_body(exc.message, "invalid_request_error", exc.param, exc.code))
    return HTTPReply(
        200, {"object": "response.input_tokens", "input_tokens": responses_tokens(body, context)}
    )


def anthropic_count(emulator: Any, request: RecordedRequest) -> HTTPReply:
    """``POST /v1/messages/count_tokens``: the request is checked like ``/v1/messages`` (without the
    fields only generation takes) and counted like its ``usage``."""
    from tests.emulators.anthropic_rules import Rejected, check_messages, check_system, check_tools

    headers = request.headers
    if not headers.get("x-api-key") and not headers.get("authorization", "").startswith("Bearer "):
        return emulator.error(401, "x-api-key header is required", "authentication_error")  # type: ignore[no-any-return]
    version = headers.get("anthropic-version", "")
    if not version:
        return emulator.error(400, "anthropic-version: header is required")  # type: ignore[no-any-return]
    betas = frozenset(b.strip() for b in headers.get("anthropic-beta", "").split(",") if b.strip())
    body = request.body
    if not isinstance(body, dict):
        return emulator.error(400, "Invalid JSON body")  # type: ignore[no-any-return]
    for key in body:
        if key not in ANTHROPIC_COUNT_PARAMS:
            return emulator.error(400, f"{key}: Extra inputs are not permitted")  # type: ignore[no-any-return]
    for key in ("model", "messages"):
        if key not in body:
            return emulator.error(400, f"{key}: Field required")  # type: ignore[no-any-return]
    try:
        check_tools(body)
        check_system(body)
        check_messages(body, version, betas)
        hasher, _ = emulator._check_thinking(body)
    except Rejected as exc:
        return emulator.error(exc.status, exc.message, exc.kind)  # type: ignore[no-any-return]
    return HTTPReply(200, {"input_tokens": bytes_tokens(hasher.bytes)})


def gemini_count(emulator: Any, body: Any, model: str) -> HTTPReply:
    """``POST /v1beta/models/{model}:countTokens``."""
    from tests.emulators.gemini_wire import error_body

    if not isinstance(body, dict):
        return HTTPReply(400, error_body(400, "Invalid JSON payload received."))
    for key in body:
        if key not in GEMINI_COUNT_PARAMS:
            return HTTPReply(
                400,
                error_body(400, f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.'),
            )
    request = body.get("generateContentRequest")  # when set, ``contents`` is ignored (models.countTokens)
    if request is None and "contents" not in body:
        return HTTPReply(400, error_body(400, "Either contents or generateContentRequest must be set."))
    if request is not None:
        if request.get("model") != f"models/{model}":  # GenerateContentRequest.model is required here
            return HTTPReply(
                400, error_body(400, "generateContentRequest.model must name the model in the URL.")
            )
        emulator._validate_generate({k: v for k, v in request.items() if k != "model"}, model)
        size = len(json.dumps({k: v for k, v in request.items() if k != "model"}, separators=(",", ":")))
    else:
        size = len(json.dumps({"contents": body["contents"]}, separators=(",", ":")))
    tokens = bytes_tokens(size)
    return HTTPReply(
        200,
        {"totalTokens": tokens, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": tokens}]},
    )


RESPONSES_COMPACT_PARAMS = frozenset(
    {
        "model",
        "image",
        "input",
        "instructions",
        "previous_response_id",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "safety_identifier",
        "service_tier",
    }
)


def openai_responses_compact(emulator: Any, body: Any) -> HTTPReply:
    """``POST /v1/responses/compact`` (recorded in ``test_openai_responses_compact_messages.yaml``): the
    conversation is checked like a create request; the answer is ``object: "response.compaction"`` whose
    output is the conversation's user messages then one ``compaction`` item this server issued (accepted
    back later, standing for everything before it)."""
    import os
    import time

    from tests.emulators.openai_responses_rules import APIFailure, error_body

    try:
        if not isinstance(body, dict):
            raise APIFailure("We could not parse the JSON body of your request.")
        for key in body:
            if key not in RESPONSES_COMPACT_PARAMS:
                raise APIFailure(f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")
        context, _ = emulator._validate(body)
    except APIFailure as exc:
        return HTTPReply(exc.status, error_body(exc.message, "invalid_request_error", exc.param, exc.code))
    output: list[dict[str, Any]] = []
    for item in context:
        if item.get("role") == "user" and item.get("type", "message") == "message":
            content = item.get("content")
            parts = [{"type": "input_text", "text": content}] if isinstance(content, str) else content
            output.append(
                {
                    "id": emulator._id("msg"),
                    "type": "message",
                    "role": "user",
                    "status": "completed",
                    "content": parts,
                }
            )
    enc = "gAAAAAB" + os.urandom(64).hex()
    cid = emulator._id("cmp")
    with emulator._lock:
        emulator.issued_compactions[enc] = cid
    output.append({"id": cid, "type": "compaction", "encrypted_content": enc})
    tokens = responses_tokens(body, context)
    usage = {
        "input_tokens": tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 190,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": tokens + 190,
    }
    return HTTPReply(
        200,
        {
            "id": emulator._id("resp"),
            "object": "response.compaction",
            "created_at": int(time.time()),
            "output": output,
            "usage": usage,
        },
    )


# --------------------------------------------------------------------------- Anthropic context editing

_EDIT_FIELDS = {
    "clear_tool_uses_20250919": {
        "type",
        "trigger",
        "keep",
        "clear_at_least",
        "exclude_tools",
        "clear_tool_inputs",
    },
    "clear_thinking_20251015": {"type", "keep"},
}


def anthropic_edits(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``context_management.edits`` of a Messages request, checked like the API (its beta is checked
    with the other top-level betas); raises ``Rejected``."""
    from tests.emulators import anthropic_compaction as compaction
    from tests.emulators.anthropic_rules import Rejected

    management = body.get("context_management")
    if management is None:
        return []
    if not isinstance(management, dict) or set(management) - {"edits"}:
        raise Rejected("context_management: Extra inputs are not permitted")
    edits = management.get("edits") or []
    if not isinstance(edits, list):
        raise Rejected("context_management.edits: Input should be a valid list")
    for n, edit in enumerate(edits):
        where = f"context_management.edits.{n}"
        if isinstance(edit, dict) and edit.get("type") == compaction.EDIT:
            compaction.check_edit(where, edit)  # server-side compaction (anthropic_compaction.py)
            continue
        fields = _EDIT_FIELDS.get(edit.get("type")) if isinstance(edit, dict) else None
        if fields is None:
            raise Rejected(
                f"{where}.type: Input should be 'clear_tool_uses_20250919', 'clear_thinking_20251015' "
                "or 'compact_20260112'"
            )
        for key in edit:
            if key not in fields:
                raise Rejected(f"{where}.{key}: Extra inputs are not permitted")
        for key, kinds in (("trigger", ("input_tokens", "tool_uses")), ("clear_at_least", ("input_tokens",))):
            value = edit.get(key)
            if value is not None and (
                not isinstance(value, dict)
                or value.get("type") not in kinds
                or not isinstance(value.get("value"), int)
            ):
                raise Rejected(f"{where}.{key}: Input should be an object {{type: {kinds[0]}, value: int}}")
        keep = edit.get("keep")
        kinds = ("tool_uses",) if edit["type"] == "clear_tool_uses_20250919" else ("thinking_turns",)
        if (
            keep is not None
            and keep != "all"
            and (
                not isinstance(keep, dict)
                or keep.get("type") not in kinds
                or not isinstance(keep.get("value"), int)
            )
        ):
            raise Rejected(f"{where}.keep: Input should be an object {{type: {kinds[0]}, value: int}}")
    return edits


def apply_anthropic_edits(
    edits: list[dict[str, Any]], body: dict[str, Any], tokens: int
) -> tuple[int, list[Any]]:
    """Tool-result clearing as the API applies it before the prompt reaches the model: past the trigger
    (default 100,000 input tokens), the oldest tool results beyond the last ``keep`` tool uses (default 3;
    ``exclude_tools`` spared) are replaced by a placeholder; nothing is cleared when that would free fewer
    than ``clear_at_least`` tokens. Returns the input tokens left and the ``applied_edits``."""
    applied: list[dict[str, Any]] = []
    for edit in edits:
        if edit["type"] != "clear_tool_uses_20250919":
            continue
        trigger = (edit.get("trigger") or {}).get("value", 100_000)
        if tokens <= trigger:
            continue
        names: dict[str, str] = {}
        uses: list[tuple[str, int]] = []  # (tool_use id, tokens freed when cleared), oldest first
        inputs: dict[str, int] = {}
        for message in body.get("messages") or []:
            content = message.get("content")
            for block in content if isinstance(content, list) else []:
                if block.get("type") == "tool_use":
                    names[block["id"]] = block.get("name", "")
                    inputs[block["id"]] = len(json.dumps(block.get("input"))) // 4
                elif block.get("type") == "tool_result":
                    uses.append((block["tool_use_id"], len(json.dumps(block.get("content"))) // 4))
        keep = (edit.get("keep") or {}).get("value", 3)
        spared = set(edit.get("exclude_tools") or [])
        clearable = [(i, t) for i, t in uses[: max(len(uses) - keep, 0)] if names.get(i) not in spared]
        freed = sum(t for _, t in clearable)
        if edit.get("clear_tool_inputs") is True:
            freed += sum(inputs.get(i, 0) for i, _ in clearable)
        if not clearable or freed < (edit.get("clear_at_least") or {}).get("value", 0):
            continue
        tokens = max(1, tokens - freed)
        applied.append(
            {
                "type": "clear_tool_uses_20250919",
                "cleared_tool_uses": len(clearable),
                "cleared_input_tokens": freed,
            }
        )
    return tokens, applied


def note_anthropic_edits(message: dict[str, Any], applied: list[Any], freed: int) -> None:
    """The response says which edits were applied; its usage counts the edited prompt."""
    if not applied:
        return
    message["context_management"] = {"applied_edits": applied}
    usage = message.get("usage") or {}
    if "input_tokens" in usage:
        usage["input_tokens"] = max(0, usage["input_tokens"] - freed)
