"""Gemini's built-in tools in the emulator: the tool entries, their parts and steps, scripted answers.

Grounded in the google-genai types (``types.Tool``, ``GoogleSearch``, ``FileSearch``, ``Part``,
``GroundingMetadata``, ``UrlContextMetadata``; the Interactions ``Tool`` / ``Step`` unions), the docs
(ai.google.dev: "Built-in and custom tools combinations are … supported for Gemini 3 models only", with
``toolConfig.includeServerSideToolInvocations`` on generateContent; ``exclude_domains`` "is not
supported in Gemini API") and the recorded code-execution answer in
``../shared/cassettes/anthropic/test_anthropic_server_tool_receive_history_from_another_provider.yaml``.

generateContent rules (400 ``INVALID_ARGUMENT`` like the API):

* ``googleSearch`` takes only ``searchTypes`` / ``timeRangeFilter``; ``excludeDomains`` and
  ``blockingConfidence`` are Vertex AI only; ``urlContext`` and ``codeExecution`` take no field;
  ``fileSearch`` needs ``fileSearchStoreNames`` (``fileSearchStores/…``), takes ``topK``,
  ``metadataFilter``;
* built-in tools with function declarations: Gemini 3 only, and only with
  ``includeServerSideToolInvocations``;
* ``executableCode`` / ``codeExecutionResult`` / ``toolCall`` / ``toolResponse`` parts: their fields,
  model turns only, each ``toolCall`` answered by its ``toolResponse`` in the same turn, and a part
  this emulator issued with a signature comes back exactly as issued (byte-exact replay).

Interactions rules: the typed tool entries with their fields, the same model rule, hosted call/result
steps with their fields in ``input``.
"""

from __future__ import annotations

import copy
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tests.emulators.gemini_wire import BadRequest, _get, _names, _only

BUILT_IN = _names("googleSearch", "codeExecution", "urlContext", "fileSearch", "googleMaps")
_SEARCH = _names("searchTypes", "timeRangeFilter")
_VERTEX_ONLY = _names("excludeDomains", "blockingConfidence")
_FILE_SEARCH = _names("fileSearchStoreNames", "topK", "metadataFilter")
_EXEC_CODE = _names("code", "language", "id")
_EXEC_RESULT = _names("outcome", "output", "id")
_TOOL_CALL = _names("id", "toolType", "args")
_TOOL_RESPONSE = _names("id", "toolType", "response")
_OUTCOMES = {"OUTCOME_UNSPECIFIED", "OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED"}
_TOOL_TYPES = {
    "TOOL_TYPE_UNSPECIFIED",
    "GOOGLE_SEARCH_WEB",
    "GOOGLE_SEARCH_IMAGE",
    "URL_CONTEXT",
    "GOOGLE_MAPS",
    "FILE_SEARCH",
}
_MAJOR = re.compile(r"gemini-(\d+)")

IA_TOOLS: dict[str, set[str]] = {
    "function": {"type", "name", "description", "parameters"},
    "google_search": {"type", "search_types"},
    "url_context": {"type"},
    "code_execution": {"type"},
    "file_search": {"type", "file_search_store_names", "top_k", "metadata_filter"},
    "google_maps": {"type", "enable_widget", "latitude", "longitude"},
    "mcp_server": {"type", "name", "url", "headers", "allowed_tools", "defer_loading"},
    "computer_use": {
        "type",
        "environment",
        "excluded_predefined_functions",
        "disabled_safety_policies",
        "enable_prompt_injection_detection",
    },
}
IA_HOSTED_STEPS: dict[str, set[str]] = {
    "google_search_call": {"type", "id", "arguments", "search_type", "signature"},
    "google_search_result": {"type", "call_id", "result", "is_error", "signature"},
    "code_execution_call": {"type", "id", "arguments", "signature"},
    "code_execution_result": {"type", "call_id", "result", "is_error", "signature"},
    "url_context_call": {"type", "id", "arguments", "signature"},
    "url_context_result": {"type", "call_id", "result", "is_error", "signature"},
    "file_search_call": {"type", "id", "signature"},
    "file_search_result": {"type", "call_id", "signature"},
    "mcp_server_tool_call": {"type", "id", "name", "server_name", "arguments", "signature"},
    "mcp_server_tool_result": {"type", "call_id", "name", "server_name", "result", "signature"},
}


def _major(model: str) -> int:
    m = _MAJOR.search(model)
    return int(m.group(1)) if m else 0


# --------------------------------------------------------------------------- generateContent


def check_tools(body: dict[str, Any], model: str) -> None:
    """The built-in tool entries of a generateContent body and the combination rule."""
    built_in: list[str] = []
    functions = False
    for i, tool in enumerate(_get(body, "tools") or []):
        if not isinstance(tool, dict):
            continue
        if _get(tool, "functionDeclarations"):
            functions = True
        for key in tool:
            if key not in BUILT_IN:
                continue
            built_in.append(key)
            value, where = tool[key], f"tools[{i}].{key}"
            if key in _names("googleSearch"):
                if isinstance(value, dict) and any(k in _VERTEX_ONLY for k in value):
                    bad = next(k for k in value if k in _VERTEX_ONLY)
                    raise BadRequest(f"{bad} parameter is not supported in Gemini API.")
                _only(value, _SEARCH, where)
            elif key in _names("urlContext", "codeExecution"):
                _only(value, set(), where)
            elif key in _names("fileSearch"):
                _only(value, _FILE_SEARCH, where)
                stores = _get(value, "fileSearchStoreNames")
                if not isinstance(stores, list) or not stores:
                    raise BadRequest(f"* {where}.file_search_store_names: required")
                if any(not str(s).startswith("fileSearchStores/") for s in stores):
                    raise BadRequest(f"* {where}.file_search_store_names: invalid store name {stores}")
    if built_in and functions:
        if _major(model) < 3:
            raise BadRequest(
                f"Tool use with function calling is unsupported for model {model} "
                "(built-in and custom tool combinations need Gemini 3)."
            )
        tc = _get(body, "toolConfig") or {}
        if not _get(tc, "includeServerSideToolInvocations"):
            raise BadRequest(
                "Built-in tools combined with function declarations require "
                "tool_config.include_server_side_tool_invocations."
            )


def check_part(part: dict[str, Any], role: str | None, where: str) -> None:
    """The fields of a server-side tool part, and that it sits in a model turn."""
    for key, allowed in (
        ("executableCode", _EXEC_CODE),
        ("codeExecutionResult", _EXEC_RESULT),
        ("toolCall", _TOOL_CALL),
        ("toolResponse", _TOOL_RESPONSE),
    ):
        value = _get(part, key)
        if value is None:
            continue
        _only(value, allowed, f"{where}.{key}")
        if role != "model":
            raise BadRequest(f"{key} parts are only allowed in model turns ({where}).")
        if key == "codeExecutionResult" and value.get("outcome") not in _OUTCOMES:
            raise BadRequest(f"Invalid value at '{where}.code_execution_result.outcome'")
        if key in ("toolCall", "toolResponse") and _get(value, "toolType") not in _TOOL_TYPES:
            raise BadRequest(f"Invalid value at '{where}.{key}.tool_type'")


def check_contents(contents: list[dict[str, Any]], issued: dict[str, dict[str, Any]]) -> None:
    """Each ``toolCall`` answered in its turn; parts this emulator signed come back unchanged."""
    for i, content in enumerate(contents):
        parts = content.get("parts") or []
        calls = [_get(p, "toolCall") for p in parts if _get(p, "toolCall") is not None]
        answered = {_get(p, "toolResponse").get("id") for p in parts if _get(p, "toolResponse") is not None}
        for call in calls:
            if call.get("id") not in answered:
                raise BadRequest(
                    f"contents[{i}]: tool_call {call.get('id')!r} is not followed by its tool_response."
                )
        for j, part in enumerate(parts):
            sig = _get(part, "thoughtSignature")
            original = issued.get(sig) if isinstance(sig, str) else None
            if original is not None and part != original:
                raise BadRequest(
                    f"contents[{i}].parts[{j}]: a server-side tool part was changed on replay "
                    "(Corrupted thought signature)."
                )


# --------------------------------------------------------------------------- scripted answers


@dataclass
class Candidate:
    """What the next generateContent answer carries besides the ``Reply``: ``parts`` before its text
    (``executableCode``…), candidate metadata, extra usage fields."""

    parts: list[dict[str, Any]] = field(default_factory=list)
    grounding_metadata: dict[str, Any] | None = None
    url_context_metadata: dict[str, Any] | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    sign: bool = False
    """Put a fresh signature on the first scripted part (as Gemini 3 signs its parts)."""

    def metadata(self) -> dict[str, Any]:
        """The fields the final candidate carries."""
        out: dict[str, Any] = {}
        if self.grounding_metadata is not None:
            out["groundingMetadata"] = copy.deepcopy(self.grounding_metadata)
        if self.url_context_metadata is not None:
            out["urlContextMetadata"] = copy.deepcopy(self.url_context_metadata)
        return out


@dataclass
class Steps:
    """Steps the next interaction's answer starts with (hosted calls and results), extra usage."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)


class HostedScripts:
    """Mixed into ``GeminiEmulator``: ``script_candidate`` / ``script_steps`` and the parts issued."""

    def __init__(self) -> None:
        super().__init__()
        self.candidates: deque[Candidate] = deque()
        self.step_scripts: deque[Steps] = deque()
        self.issued_parts: dict[str, dict[str, Any]] = {}
        self.issued_steps: dict[str, dict[str, Any]] = {}
        self._hosted_lock = threading.Lock()

    def script_candidate(
        self,
        *parts: dict[str, Any],
        grounding_metadata: dict[str, Any] | None = None,
        url_context_metadata: dict[str, Any] | None = None,
        usage: dict[str, Any] | None = None,
        sign: bool = False,
    ) -> None:
        """The next generateContent answer's server-side parts and metadata (the queued ``Reply``'s
        text follows the parts)."""
        with self._hosted_lock:
            self.candidates.append(
                Candidate(list(parts), grounding_metadata, url_context_metadata, dict(usage or {}), sign)
            )

    def script_steps(
        self,
        *steps: dict[str, Any],
        annotations: list[dict[str, Any]] | None = None,
        usage: dict[str, Any] | None = None,
    ) -> None:
        """The next interaction's hosted steps (before its text) and the text's annotations."""
        with self._hosted_lock:
            self.step_scripts.append(Steps(list(steps), list(annotations or []), dict(usage or {})))

    def next_candidate(self) -> Candidate | None:
        with self._hosted_lock:
            return self.candidates.popleft() if self.candidates else None

    def next_steps(self) -> Steps | None:
        """The next scripted steps; the signed ones are kept as sent, to check their replay."""
        with self._hosted_lock:
            script = self.step_scripts.popleft() if self.step_scripts else None
        for step in script.steps if script else []:
            if isinstance(step.get("signature"), str):
                self.issued_steps[step["signature"]] = copy.deepcopy(step)
        return script

    def add_scripted(self, parts: list[dict[str, Any]], at: int) -> Candidate | None:
        """Put the next scripted candidate's parts into ``parts`` at ``at`` (before the text)."""
        cand = self.next_candidate()
        if cand is not None:
            parts[at:at] = copy.deepcopy(cand.parts)
        return cand

    def finish_scripted(
        self, cand: Candidate | None, parts: list[dict[str, Any]], usage: dict[str, Any], signature: Any
    ) -> None:
        """Sign (when asked) and remember the scripted parts as sent; their usage fields."""
        if cand is None:
            return
        first = next((p for p in parts if any(k in p for k in ("executableCode", "toolCall"))), None)
        if cand.sign and first is not None and "thoughtSignature" not in first:
            first["thoughtSignature"] = signature()
        for key, value in cand.usage.items():
            usage[key] = value
            if key == "toolUsePromptTokenCount":
                usage["totalTokenCount"] += int(value)
        self.remember_issued(parts)

    def remember_issued(self, parts: list[dict[str, Any]]) -> None:
        """Keep the signed server-side parts as sent, to check their replay."""
        for part in parts:
            sig = part.get("thoughtSignature")
            if isinstance(sig, str) and any(
                k in part for k in ("executableCode", "codeExecutionResult", "toolCall", "toolResponse")
            ):
                self.issued_parts[sig] = copy.deepcopy(part)


# --------------------------------------------------------------------------- Interactions


def check_ia_tools(body: dict[str, Any], validate_schema: Any) -> None:
    """The typed tool entries of an interaction and the combination rule."""
    model = str(body.get("model") or "")
    kinds: list[str] = []
    for i, tool in enumerate(body.get("tools") or []):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind not in IA_TOOLS:
            raise BadRequest(f"tools[{i}]: unknown tool type {kind!r}.")
        _only(tool, IA_TOOLS[kind], f"tools[{i}]")
        kinds.append(kind)
        if kind == "function":
            validate_schema(tool.get("parameters") or {}, f"tools[{i}].parameters")
        elif kind == "file_search":
            stores = tool.get("file_search_store_names")
            if not isinstance(stores, list) or not stores:
                raise BadRequest(f"tools[{i}].file_search_store_names: required")
        elif kind == "mcp_server":
            if not str(tool.get("url", "")).startswith(("http://", "https://")) or not tool.get("name"):
                raise BadRequest(f"tools[{i}]: an mcp_server needs a name and an http(s) url.")
    built_in = [k for k in kinds if k not in ("function", "computer_use")]
    if "function" in kinds and built_in and _major(model) < 3:
        raise BadRequest(f"Built-in tools combined with function calling are unsupported for model {model}.")


def check_ia_step(step: dict[str, Any], where: str, issued: dict[str, dict[str, Any]]) -> None:
    """A hosted call/result step sent back in ``input``: its fields, and unchanged when this emulator
    signed it."""
    kind = str(step.get("type"))
    _only(step, IA_HOSTED_STEPS[kind], where)
    original = issued.get(step["signature"]) if isinstance(step.get("signature"), str) else None
    if original is not None and step != original:
        raise BadRequest(f"{where}: a server-side tool step was changed on replay (invalid signature).")
    if kind.endswith("_call") and not isinstance(step.get("id"), str):
        raise BadRequest(f"{where}: {kind} needs an id.")
    if kind.endswith("_result") and not isinstance(step.get("call_id"), str):
        raise BadRequest(f"{where}: {kind} needs a call_id.")


def add_steps(out: list[dict[str, Any]], script: Steps | None) -> Steps | None:
    """Put scripted hosted steps after the answer's thought (before its text); the annotations on its
    text."""
    if script is None:
        return None
    at = 1 if out and out[0].get("type") == "thought" else 0
    out[at:at] = copy.deepcopy(script.steps)
    texts = [s for s in out if s.get("type") == "model_output"]
    if script.annotations and texts:
        texts[0]["content"][0]["annotations"] = copy.deepcopy(script.annotations)
    return script


def hosted_step_events(index: int, step: dict[str, Any]) -> list[dict[str, Any]]:
    """A hosted step as the stream sends it: ``step.start`` with its identity, one ``step.delta``
    (typed like the step) with its arguments or result and signature, ``step.stop``."""
    head = {k: v for k, v in step.items() if k in ("type", "id", "call_id", "name", "server_name")}
    body = {k: v for k, v in step.items() if k not in head or k == "type"}
    if step["type"].endswith("_call"):
        head["arguments"] = {}
    elif "result" in step:  # the start carries an empty result of the right shape, the delta the result
        head["result"] = "" if isinstance(step["result"], str) else []
    events = [{"event_type": "step.start", "index": index, "step": head}]
    if len(body) > 1:
        events.append({"event_type": "step.delta", "index": index, "delta": body})
    return events
