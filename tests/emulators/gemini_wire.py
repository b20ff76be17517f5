"""Shared pieces of the Gemini emulator: field tables, Google's error shape, small helpers."""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.emulators.base import Reply

MODEL = "gemini-3-pro-preview"
DUMMY_SIGNATURES = {
    base64.b64encode(b"skip_thought_signature_validator").decode(),
    base64.b64encode(b"context_engineering_is_the_way_to_go").decode(),
}
_RPC = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    529: "UNAVAILABLE",
}
_FN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:\-]{0,63}$")
_REJECTED_SCHEMA_KEYS = {"$schema", "const", "discriminator", "exclusiveMinimum", "exclusiveMaximum"}


def _names(*camel: str) -> set[str]:
    """Each lowerCamel field name plus its snake_case spelling (proto JSON accepts both)."""
    out = set()
    for name in camel:
        out.add(name)
        out.add(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name))
    return out


_REQUEST = _names(
    "contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings",
    "cachedContent", "serviceTier", "store",
)  # fmt: skip
_CONTENT = _names("role", "parts")
_PART_DATA = _names(
    "text", "functionCall", "functionResponse", "inlineData", "fileData", "executableCode",
    "codeExecutionResult", "toolCall", "toolResponse",
)  # fmt: skip
_PART_META = _names("thought", "thoughtSignature", "videoMetadata", "partMetadata", "mediaResolution")
_FUNCTION_CALL = _names("id", "name", "args")
_FUNCTION_RESPONSE = _names("id", "name", "response", "parts", "willContinue", "scheduling")
_BLOB = _names("mimeType", "data", "displayName")
_FILE_DATA = _names("mimeType", "fileUri", "displayName")
_TOOL = _names(
    "functionDeclarations", "googleSearch", "codeExecution", "urlContext", "fileSearch", "googleMaps",
    "computerUse",
)  # fmt: skip
_DECL = _names(
    "name", "description", "parameters", "parametersJsonSchema", "response", "responseJsonSchema", "behavior"
)
_TOOL_CONFIG = _names("functionCallingConfig", "includeServerSideToolInvocations")
_FCC = _names("mode", "allowedFunctionNames")
_GEN = _names(
    "temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences", "seed",
    "presencePenalty", "frequencyPenalty", "responseMimeType", "responseSchema", "responseJsonSchema",
    "responseModalities", "thinkingConfig", "responseLogprobs", "logprobs", "mediaResolution",
    "speechConfig", "imageConfig",
)  # fmt: skip
_THINKING = _names("includeThoughts", "thinkingBudget", "thinkingLevel")


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _get(obj: dict[str, Any], camel: str) -> Any:
    if camel in obj:
        return obj[camel]
    return obj.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel))


def _only(obj: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise BadRequest(f"Invalid value at '{where}', expected an object.")
    for key in obj:
        if key not in allowed:
            raise BadRequest(
                f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find field."
            )
    return obj


def error_body(status: int, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": status, "message": message, "status": _RPC.get(status, "UNKNOWN")}
    if details:
        err["details"] = details
    return {"error": err}


def _thought_tokens(reply: Reply) -> int:
    """Gemini counts thoughts apart from the answer; ``Reply.output_tokens`` is the normalized total."""
    return reply.output_tokens // 2 if reply.reasoning else 0


def _named(events: list[Any]) -> list[Any]:
    """Each SSE event with its ``event:`` line, as the Interactions API sends them."""
    return [(data["event_type"], data) for _, data in events]


def _std_b64(sig: str) -> str:
    """Signatures may come back URL-safe encoded (as google-genai serializes bytes); compare canonically."""
    raw = sig.replace("-", "+").replace("_", "/")
    return raw + "=" * (-len(raw) % 4)
