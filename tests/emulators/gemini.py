"""A local emulator of the Gemini API: ``generateContent``, ``streamGenerateContent`` and Interactions.

Modelled on the real recordings in ``../shared/cassettes/gemini/`` and WIRE.md §4. It validates the
way the real service does and answers 400 ``INVALID_ARGUMENT`` in Google's error shape when a request
would be rejected:

* unknown fields (generateContent accepts proto JSON, so lowerCamel *and* snake_case names; the
  Interactions API takes snake_case only);
* ``functionResponse`` parts that do not answer the ``functionCall`` parts of the previous model turn
  (count, then id when both carry one, else name in order);
* on Gemini 3 models, a model turn of the current turn whose first ``functionCall`` has no
  ``thoughtSignature`` (the documented 400), and signatures the emulator never issued for this model
  (the documented stand-ins ``skip_thought_signature_validator`` / ``context_engineering_is_the_way_to_go``
  pass);
* tool schemas with keywords Gemini rejects, bad function names, bad tool_config;
* Interactions: ``previous_interaction_id`` that was never stored (404 ``NOT_FOUND``), function
  results that answer no call, pending calls left unanswered.

Function calls come back without ids (as on the Gemini API) unless the scripted reply names one.

Faults (``Reply.malformed``, both APIs): ``"body"`` answers 200 with an HTML page, ``"stream"`` puts a
line cut in two (not JSON) into the SSE stream after its first event.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

from agentcore.messages import new_id
from tests.emulators.base import Emulator, HTTPReply, RecordedRequest, Reply
from tests.emulators.computer_rules import check_gemini_computer, gemini_call_problem
from tests.emulators.context_window import gemini_count, gemini_refusal
from tests.emulators.gemini_hosted import HostedScripts, check_contents, check_part, check_tools
from tests.emulators.gemini_interactions import InteractionsAPI
from tests.emulators.gemini_wire import (
    _BLOB,
    _CONTENT,
    _DECL,
    _FCC,
    _FILE_DATA,
    _FN_NAME,
    _FUNCTION_CALL,
    _FUNCTION_RESPONSE,
    _GEN,
    _PART_DATA,
    _PART_META,
    _REJECTED_SCHEMA_KEYS,
    _REQUEST,
    _THINKING,
    _TOOL,
    _TOOL_CONFIG,
    DUMMY_SIGNATURES,
    MODEL,
    BadRequest,
    _get,
    _only,
    _std_b64,
    _thought_tokens,
    error_body,
)
from tests.emulators.media_rules import gemini_response_parts_problem
from tests.providers.harness import Harness

__all__ = ["MODEL", "GeminiEmulator", "harness", "interactions_harness"]


class GeminiEmulator(HostedScripts, InteractionsAPI, Emulator):
    """Scripted Gemini. ``emulator.interactions`` holds stored interactions by id."""

    vendor = "gemini"

    def __init__(self) -> None:
        super().__init__()
        self.interactions: dict[str, dict[str, Any]] = {}
        self.signatures: dict[str, str] = {}  # issued signature -> model
        self._counter = itertools.count(1)

    # ------------------------------------------------------------------ routing

    def handle(self, request: RecordedRequest) -> HTTPReply:
        url = urlparse(request.path)
        query = parse_qs(url.query)
        if not request.headers.get("x-goog-api-key") and "key" not in query:
            return HTTPReply(403, error_body(403, "Method doesn't allow unregistered callers."))
        m = re.fullmatch(r"/(v1beta|v1)/models/([^/:]+):(generateContent|streamGenerateContent)", url.path)
        try:
            if m and request.method == "POST":
                return self._generate(request, m.group(2), m.group(3) == "streamGenerateContent", query)
            if (c := re.fullmatch(r"/(v1beta|v1)/models/([^/:]+):countTokens", url.path)) and request.method == "POST":
                return gemini_count(self, request.body, c.group(2))
            m = re.fullmatch(r"/(v1beta|v1)/interactions(?:/([^/]+))?", url.path)
            if m:
                if request.method == "POST" and m.group(2) is None:
                    return self._interact(request)
                if request.method == "GET" and m.group(2):
                    stored = self.interactions.get(m.group(2))
                    if stored is None:
                        raise BadRequest("Requested entity was not found.", 404)
                    return HTTPReply(200, stored["resource"])
                if request.method == "DELETE" and m.group(2):
                    self.interactions.pop(m.group(2), None)
                    return HTTPReply(200, {})
        except BadRequest as exc:
            return HTTPReply(exc.status, error_body(exc.status, exc.message))
        return HTTPReply(404, error_body(404, f"Method not found: {request.method} {url.path}"))

    def _scripted_error(self, reply: Reply) -> HTTPReply | None:
        if reply.error is None:
            return None
        status, message = reply.error
        details: list[dict[str, Any]] = []
        if status == 429:
            details.append({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []})
            delay = reply.headers.get("retry-after")
            if delay:
                details.append(
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{delay}s"}
                )
        return HTTPReply(status, error_body(status, message, details), headers=dict(reply.headers))

    def _signature(self, model: str) -> str:
        sig = base64.b64encode(f"emulated-signature-{model}-{next(self._counter)}".encode()).decode()
        self.signatures[sig] = model
        return sig

    def _valid_signature(self, sig: str, model: str) -> bool:
        """A documented stand-in, or a signature issued for ``model`` (by any emulator instance: a
        conversation may move between harnesses), or one registered in ``signatures`` (recordings)."""
        canonical = _std_b64(sig)
        if canonical in DUMMY_SIGNATURES or self.signatures.get(canonical) == model:
            return True
        try:
            raw = base64.b64decode(canonical)
        except ValueError:
            return False
        return raw.startswith(f"emulated-signature-{model}-".encode())

    # ------------------------------------------------------------------ generateContent

    def _generate(
        self, request: RecordedRequest, model: str, streaming: bool, query: dict[str, Any]
    ) -> HTTPReply:
        body = request.body
        if not isinstance(body, dict):
            raise BadRequest("Invalid JSON payload received.")
        self._validate_generate(body, model)
        if (refused := gemini_refusal(self, max(1, len(request.raw) // 4))) is not None:
            return refused
        reply = self.next_reply()
        scripted = self._scripted_error(reply)
        if scripted is not None:
            return scripted
        thinking = model.startswith("gemini-3") or reply.reasoning is not None
        parts: list[dict[str, Any]] = []
        if reply.reasoning:
            parts.append({"text": reply.reasoning, "thought": True})
        if reply.text:
            parts.append({"text": reply.text})
        for call in reply.tool_calls:
            fc: dict[str, Any] = {"name": call.name, "args": json.loads(call.arguments_json)}
            problem = gemini_call_problem(body, call.name, fc["args"])  # documented computer-use calls only
            assert problem is None, f"scripted computer-use call: {problem}"
            if call.call_id:
                fc["id"] = call.call_id
            parts.append({"functionCall": fc})
        hosted = self.add_scripted(parts, 1 if reply.reasoning else 0)
        if thinking and parts:
            target = next((p for p in parts if "functionCall" in p), parts[-1])
            target["thoughtSignature"] = self._signature(model)
        prompt = reply.input_tokens if reply.input_tokens is not None else max(1, len(request.raw) // 4)
        thoughts = _thought_tokens(reply)
        usage: dict[str, Any] = {
            "promptTokenCount": prompt,
            "candidatesTokenCount": reply.output_tokens - thoughts,
            "totalTokenCount": prompt + reply.output_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
        }
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        if reply.cached_tokens:
            usage["cachedContentTokenCount"] = reply.cached_tokens
        self.finish_scripted(hosted, parts, usage, lambda: self._signature(model))
        response_id = new_id()

        def chunk(chunk_parts: list[dict[str, Any]], final: bool) -> dict[str, Any]:
            cand: dict[str, Any] = {"content": {"parts": chunk_parts, "role": "model"}, "index": 0}
            if final:
                cand["finishReason"] = "STOP"
                cand.update(hosted.metadata() if hosted else {})
            return {
                "candidates": [cand],
                "usageMetadata": usage,
                "modelVersion": model,
                "responseId": response_id,
            }

        if not streaming:
            if reply.malformed == "body":  # a proxy's error page with status 200
                return HTTPReply(
                    200, raw=b"<html><body>502 Bad Gateway</body></html>", headers=dict(reply.headers)
                )
            return HTTPReply(200, chunk(parts or [{"text": ""}], True), headers=dict(reply.headers))
        chunks: list[Any] = []
        for part in parts:
            if "text" in part and len(part["text"]) > 3:
                sig = part.pop("thoughtSignature", None)
                half = len(part["text"]) // 2
                chunks.append(chunk([{**part, "text": part["text"][:half]}], False))
                chunks.append(chunk([{**part, "text": part["text"][half:]}], False))
                if sig:  # as observed: a signature can come on its own empty-text chunk
                    chunks.append(chunk([{"text": "", "thoughtSignature": sig}], False))
            else:
                chunks.append(chunk([part], False))
        if reply.stream_error:
            first_text = next(
                (i for i, c in enumerate(chunks) if "text" in c["candidates"][0]["content"]["parts"][0]), 0
            )
            chunks = [*chunks[: first_text + 1], error_body(500, "An internal error has occurred.")]
        else:
            chunks.append(chunk([{"text": ""}], True))
        if query.get("alt") == ["sse"]:
            sse: list[tuple[str | None, Any]] = [(None, c) for c in chunks]
            if reply.malformed == "stream":  # a line cut in two, after the first chunk
                sse.insert(1, (None, b'{"candidates": [{"content": {"parts": [{"text": "Hel'))
            return HTTPReply(200, sse=sse, headers=dict(reply.headers))
        return HTTPReply(200, chunks, headers=dict(reply.headers))  # without alt=sse: one JSON array

    def _validate_generate(self, body: dict[str, Any], model: str) -> None:
        _only(body, _REQUEST, "GenerateContentRequest")
        contents = _get(body, "contents")
        if not isinstance(contents, list) or not contents:
            raise BadRequest("* GenerateContentRequest.contents: contents is not specified")
        sysi = _get(body, "systemInstruction")
        if sysi is not None:
            _only(sysi, _CONTENT, "system_instruction")
            for p in _get(sysi, "parts") or []:
                self._validate_part(p, "system_instruction.parts")
        declared = self._validate_tools(body)
        check_tools(body, model)
        check_gemini_computer(body, model, BadRequest)
        for i, content in enumerate(contents):
            where = f"contents[{i}]"
            _only(content, _CONTENT, where)
            role = _get(content, "role")
            if role not in ("user", "model"):
                raise BadRequest(f"Please use a valid role: user, model. (at {where})")
            parts = _get(content, "parts")
            if not isinstance(parts, list) or not parts:
                raise BadRequest(f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty.")
            for j, p in enumerate(parts):
                self._validate_part(p, f"{where}.parts[{j}]")
                check_part(p, role, f"{where}.parts[{j}]")
                if _get(p, "functionCall") is not None and role != "model":
                    raise BadRequest(f"functionCall parts are only allowed in model turns ({where}).")
                if _get(p, "functionResponse") is not None and role != "user":
                    raise BadRequest(f"functionResponse parts are only allowed in user turns ({where}).")
                if _get(p, "functionResponse") is not None:  # images inside: Gemini 3 / computer use only
                    problem = gemini_response_parts_problem(
                        _get(p, "functionResponse").get("parts"),
                        f"{where}.parts[{j}].function_response.parts",
                        model,
                    )
                    if problem:
                        raise BadRequest(f"* {problem}")
                fc = _get(p, "functionCall")
                if fc is not None and declared is not None and fc.get("name") not in declared:
                    pass  # history may name tools no longer declared; the real API accepts it
        self._validate_pairing(contents)
        check_contents(contents, self.issued_parts)
        if model.startswith("gemini-3"):
            self._validate_signatures(contents, model)

    def _validate_part(self, part: Any, where: str) -> None:
        _only(part, _PART_DATA | _PART_META, where)
        data = [k for k in part if k in _PART_DATA]
        if len(data) != 1:
            raise BadRequest(f"* {where}: a part must hold exactly one data field (got {data or 'none'}).")
        fc = _get(part, "functionCall")
        if fc is not None:
            _only(fc, _FUNCTION_CALL, f"{where}.function_call")
            if not isinstance(fc.get("name"), str) or not isinstance(fc.get("args", {}), dict):
                raise BadRequest(f"* {where}.function_call: name must be a string and args an object.")
        fr = _get(part, "functionResponse")
        if fr is not None:
            _only(fr, _FUNCTION_RESPONSE, f"{where}.function_response")
            if not isinstance(fr.get("response"), dict):
                raise BadRequest(f"* {where}.function_response.response: must be an object.")
        for key, allowed in (("inlineData", _BLOB), ("fileData", _FILE_DATA)):
            if _get(part, key) is not None:
                _only(_get(part, key), allowed, f"{where}.{key}")
        sig = _get(part, "thoughtSignature")
        if sig is not None:
            try:
                base64.b64decode(sig.replace("-", "+").replace("_", "/"), validate=True)
            except (ValueError, AttributeError):
                raise BadRequest(
                    f"Invalid value at '{where}.thought_signature' (TYPE_BYTES), Base64 decoding failed."
                ) from None

    def _validate_tools(self, body: dict[str, Any]) -> set[str] | None:
        tools = _get(body, "tools")
        names: set[str] | None = None
        if tools is not None:
            names = set()
            for i, tool in enumerate(tools):
                _only(tool, _TOOL, f"tools[{i}]")
                for j, decl in enumerate(_get(tool, "functionDeclarations") or []):
                    where = f"tools[{i}].function_declarations[{j}]"
                    _only(decl, _DECL, where)
                    name = decl.get("name")
                    if not isinstance(name, str) or not _FN_NAME.match(name):
                        raise BadRequest(
                            f"* GenerateContentRequest.{where}.name: Invalid function name. Must start with a letter "
                            "or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and "
                            "dashes, with a maximum length of 64."
                        )
                    if (
                        _get(decl, "parameters") is not None
                        and _get(decl, "parametersJsonSchema") is not None
                    ):
                        raise BadRequest(
                            f"* {where}: parameters and parameters_json_schema are mutually exclusive."
                        )
                    schema = _get(decl, "parametersJsonSchema")
                    if schema is not None:
                        self._validate_schema(schema, f"{where}.parameters_json_schema")
                    names.add(name)
        tc = _get(body, "toolConfig")
        if tc is not None:
            _only(tc, _TOOL_CONFIG, "tool_config")
            fcc = _get(tc, "functionCallingConfig")
            if fcc is not None:
                _only(fcc, _FCC, "tool_config.function_calling_config")
                mode = fcc.get("mode")
                if mode not in ("AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"):
                    raise BadRequest(f"Invalid value at 'tool_config.function_calling_config.mode', {mode!r}")
                allowed = _get(fcc, "allowedFunctionNames")
                if allowed:
                    if mode not in ("ANY", "VALIDATED"):
                        raise BadRequest(
                            "allowed_function_names may only be set when mode is ANY or VALIDATED."
                        )
                    unknown = [n for n in allowed if names is None or n not in names]
                    if unknown:
                        raise BadRequest(f"allowed_function_names names undeclared functions: {unknown}")
        gc = _get(body, "generationConfig")
        if gc is not None:
            _only(gc, _GEN, "generation_config")
            th = _get(gc, "thinkingConfig")
            if th is not None:
                _only(th, _THINKING, "generation_config.thinking_config")
                if _get(th, "thinkingBudget") is not None and _get(th, "thinkingLevel") is not None:
                    raise BadRequest("You can only set one of thinking budget and thinking level.")
            if _get(gc, "responseSchema") is not None and _get(gc, "responseJsonSchema") is not None:
                raise BadRequest("response_schema and response_json_schema are mutually exclusive.")
            if _get(gc, "responseJsonSchema") is not None:
                if _get(gc, "responseMimeType") != "application/json":
                    raise BadRequest("response_json_schema requires response_mime_type application/json.")
                self._validate_schema(
                    _get(gc, "responseJsonSchema"), "generation_config.response_json_schema"
                )
        return names

    def _validate_schema(self, schema: Any, where: str) -> None:
        if isinstance(schema, list):
            for s in schema:
                self._validate_schema(s, where)
            return
        if not isinstance(schema, dict):
            return
        for key, value in schema.items():
            if key in _REJECTED_SCHEMA_KEYS:
                raise BadRequest(f"* {where}: JSON schema keyword {key!r} is not supported.")
            if key == "enum" and any(not isinstance(v, str) for v in value):
                raise BadRequest(f"* {where}.enum: only string enum values are supported.")
            if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
                for sub in value.values():
                    self._validate_schema(sub, where)
            elif isinstance(value, dict | list):
                self._validate_schema(value, where)

    def _validate_pairing(self, contents: list[dict[str, Any]]) -> None:
        for i, content in enumerate(contents):
            responses = [_get(p, "functionResponse") for p in content["parts"] if _get(p, "functionResponse")]
            if not responses:
                continue
            prev = contents[i - 1] if i > 0 else None
            calls = [
                _get(p, "functionCall") for p in (prev or {}).get("parts", []) if _get(p, "functionCall")
            ]
            if prev is None or prev.get("role") != "model" or not calls:
                raise BadRequest(
                    "Please ensure that function response turn comes immediately after a function call turn."
                )
            if len(calls) != len(responses):
                raise BadRequest(
                    "Please ensure that the number of function response parts is equal to the number of "
                    "function call parts of the function call turn."
                )
            by_id = {c["id"]: c for c in calls if c.get("id")}
            unmatched = [c for c in calls if not c.get("id")]
            for r in responses:
                rid = r.get("id")
                if rid and rid in by_id:
                    if by_id.pop(rid)["name"] != r.get("name"):
                        raise BadRequest(
                            f"function response {rid!r} names a different function than its call."
                        )
                    continue
                if rid and by_id and not unmatched:
                    raise BadRequest(
                        f"function response id {rid!r} matches no function call of the previous turn."
                    )
                match = next((c for c in unmatched if c.get("name") == r.get("name")), None)
                if match is None:
                    raise BadRequest(
                        f"function response {r.get('name')!r} matches no function call of the previous turn."
                    )
                unmatched.remove(match)

    def _validate_signatures(self, contents: list[dict[str, Any]], model: str) -> None:
        start = 0
        for i, content in enumerate(contents):
            if content.get("role") == "user" and any(
                _get(p, "functionResponse") is None for p in content["parts"]
            ):
                start = i  # the current turn begins at the last user message with standard content
        for i in range(start, len(contents)):
            content = contents[i]
            if content.get("role") != "model":
                continue
            for j, part in enumerate(content["parts"]):
                sig = _get(part, "thoughtSignature")
                if sig is not None and not self._valid_signature(sig, model):
                    raise BadRequest("Corrupted thought signature.")
                if _get(part, "functionCall") is not None:
                    if sig is None:
                        name = _get(part, "functionCall").get("name")
                        raise BadRequest(
                            "Function call is missing a thought_signature in functionCall parts. This is required "
                            "for tools to work correctly, and missing thought_signature may lead to degraded model "
                            f"performance. Additional data, function call `default_api:{name}` , position {j + 1}. "
                            "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
                        )
                    break  # only the first call of each step carries (and needs) one


def harness() -> Harness:
    """The ``google`` (generateContent) adapter against this emulator."""
    from agentcore.providers.gemini.generate_content import GeminiModel

    emulator = GeminiEmulator()
    return Harness(
        name="google",
        emulator=emulator,
        make_model=lambda **kw: GeminiModel(MODEL, base_url=emulator.base_url, api_key="test-key", **kw),
    )


def interactions_harness() -> Harness:
    """The ``google-interactions`` (Interactions API) adapter against this emulator."""
    from agentcore.providers.gemini.interactions import GeminiInteractionsModel

    emulator = GeminiEmulator()
    return Harness(
        name="google-interactions",
        emulator=emulator,
        make_model=lambda **kw: GeminiInteractionsModel(
            MODEL, base_url=emulator.base_url, api_key="test-key", **kw
        ),
    )
