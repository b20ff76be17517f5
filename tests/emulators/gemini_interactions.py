"""The Interactions API half of the Gemini emulator (``POST /v1beta/interactions``).

Stores every interaction created with ``store`` on (the default) and continues from it with
``previous_interaction_id``; rejects unknown ids with 404 ``NOT_FOUND``, camelCase fields (this API is
snake_case only), function results that answer no call and pending calls left unanswered. Streams
``event:``/``data:`` SSE with the step events the real service sends.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from agentcore.messages import new_id
from tests.emulators.base import HTTPReply, RecordedRequest, Reply
from tests.emulators.computer_rules import check_gemini_interactions_computer, gemini_call_problem
from tests.emulators.context_window import gemini_refusal
from tests.emulators.gemini_hosted import (
    IA_HOSTED_STEPS,
    add_steps,
    check_ia_step,
    check_ia_tools,
    hosted_step_events,
)
from tests.emulators.gemini_wire import _FN_NAME, BadRequest, _named, _only, _thought_tokens

_IA_REQUEST = {
    "model", "agent", "agent_config", "input", "previous_interaction_id", "system_instruction", "tools",
    "generation_config", "response_format", "response_mime_type", "response_modalities", "safety_settings",
    "store", "stream", "background", "cached_content", "labels", "service_tier", "webhook_config",
    "continuation_token", "environment",
}  # fmt: skip
_IA_GEN = {
    "temperature", "top_p", "max_output_tokens", "stop_sequences", "seed", "thinking_level",
    "thinking_summaries", "tool_choice", "image_config", "speech_config", "video_config", "transcription_config",
}  # fmt: skip
_IA_STEPS: dict[str, set[str]] = {
    "user_input": {"type", "content"},
    "model_output": {"type", "content", "error"},
    "thought": {"type", "signature", "summary"},
    "function_call": {"type", "id", "name", "arguments"},
    "function_result": {"type", "call_id", "result", "is_error", "name"},
}
_IA_CONTENT: dict[str, set[str]] = {
    "text": {"type", "text", "annotations"},
    "image": {"type", "data", "mime_type", "uri", "resolution"},
    "document": {"type", "data", "mime_type", "uri", "processing", "resolution"},
}


class InteractionsAPI:
    """Mixed into ``GeminiEmulator``: the Interactions endpoint and its stored interactions."""

    interactions: dict[str, dict[str, Any]]

    if TYPE_CHECKING:  # provided by Emulator / GeminiEmulator

        def next_reply(self) -> Reply: ...
        def _scripted_error(self, reply: Reply) -> HTTPReply | None: ...
        def _signature(self, model: str) -> str: ...
        def _validate_schema(self, schema: Any, where: str) -> None: ...

    def _interact(self, request: RecordedRequest) -> HTTPReply:
        body = request.body
        if not isinstance(body, dict):
            raise BadRequest("Invalid JSON payload received.")
        _only(body, _IA_REQUEST, "CreateInteractionRequest")
        model = body.get("model")
        if not isinstance(model, str):
            raise BadRequest("model is required.")
        history: list[dict[str, Any]] = []
        pending: list[str] = []
        prev_id = body.get("previous_interaction_id")
        if prev_id is not None:
            stored = self.interactions.get(prev_id)
            if stored is None:
                raise BadRequest(f"Interaction {prev_id} not found.", 404)
            history = list(stored["history"])
            pending = list(stored["pending"])
        steps = self._ia_input(body.get("input"))
        self._ia_validate(body, steps, history, pending)
        held = max(1, (len(json.dumps(history)) if history else 0) // 4 + len(request.raw) // 4)  # history counts
        if (refused := gemini_refusal(self, held)) is not None:
            return refused
        reply = self.next_reply()
        scripted = self._scripted_error(reply)
        if scripted is not None:
            return scripted
        store = body.get("store", True)
        out: list[dict[str, Any]] = []
        thinking = model.startswith("gemini-3") or reply.reasoning is not None
        if thinking:
            thought: dict[str, Any] = {"type": "thought", "signature": self._signature(model)}
            if reply.reasoning:
                thought["summary"] = [{"type": "text", "text": reply.reasoning}]
            out.append(thought)
        if reply.text:
            out.append({"type": "model_output", "content": [{"type": "text", "text": reply.text}]})
        for call in reply.tool_calls:
            cid = call.call_id or new_id()[:8]
            problem = gemini_call_problem(body, call.name, json.loads(call.arguments_json))
            assert problem is None, f"scripted computer-use call: {problem}"  # documented calls only
            out.append(
                {
                    "type": "function_call",
                    "id": cid,
                    "name": call.name,
                    "arguments": json.loads(call.arguments_json),
                }
            )
        hosted = add_steps(out, self.next_steps())  # scripted hosted steps: tests/emulators/gemini_hosted.py
        prompt = reply.input_tokens if reply.input_tokens is not None else held
        thoughts = _thought_tokens(reply)
        usage = {
            "total_tokens": prompt + reply.output_tokens,
            "total_input_tokens": prompt,
            "input_tokens_by_modality": [{"modality": "text", "tokens": prompt}],
            "total_cached_tokens": reply.cached_tokens,
            "total_output_tokens": reply.output_tokens - thoughts,
            "total_tool_use_tokens": 0,
            "total_thought_tokens": thoughts,
            **(hosted.usage if hosted else {}),
        }
        calls = [s["id"] for s in out if s["type"] == "function_call"]
        resource: dict[str, Any] = {
            "status": "requires_action" if calls else "completed",
            "usage": usage,
            "created": "2026-11-27T18:00:00Z",
            "updated": "2026-11-27T18:00:00Z",
            "service_tier": "standard",
            "steps": out,
            "object": "interaction",
            "model": model,
        }
        if store:
            iid = "v1_" + base64.urlsafe_b64encode(new_id().encode()).decode().rstrip("=")
            resource = {"id": iid, **resource}
            if prev_id:
                resource["previous_interaction_id"] = prev_id
            self.interactions[iid] = {
                "history": [*history, *steps, *out],
                "pending": calls,
                "resource": resource,
            }
        if not body.get("stream"):
            if reply.malformed == "body":  # a proxy's error page with status 200
                return HTTPReply(
                    200, raw=b"<html><body>502 Bad Gateway</body></html>", headers=dict(reply.headers)
                )
            return HTTPReply(200, resource, headers=dict(reply.headers))
        events = self._ia_events(resource, out, reply)
        if reply.malformed == "stream":  # a line cut in two, after the first event
            events.insert(1, (None, b'{"event_type": "step.start", "index": 0, "st'))
        return HTTPReply(200, sse=events, headers=dict(reply.headers))

    def _ia_events(self, resource: dict[str, Any], out: list[dict[str, Any]], reply: Reply) -> list[Any]:
        head = {k: v for k, v in resource.items() if k in ("id", "model", "object")}
        events: list[Any] = [
            (None, {"event_type": "interaction.created", "interaction": {**head, "status": "in_progress"}})
        ]
        for index, step in enumerate(out):
            kind = step["type"]
            if kind == "thought":
                events.append(
                    (None, {"event_type": "step.start", "index": index, "step": {"type": "thought"}})
                )
                for s in step.get("summary", []):
                    delta = {"type": "thought_summary", "content": s}
                    events.append((None, {"event_type": "step.delta", "index": index, "delta": delta}))
                delta = {"type": "thought_signature", "signature": step["signature"]}
                events.append((None, {"event_type": "step.delta", "index": index, "delta": delta}))
            elif kind == "model_output":
                events.append(
                    (None, {"event_type": "step.start", "index": index, "step": {"type": "model_output"}})
                )
                text = step["content"][0]["text"]
                half = len(text) // 2 or len(text)
                for piece in (text[:half], text[half:]):
                    if piece:
                        delta = {"type": "text", "text": piece}
                        events.append((None, {"event_type": "step.delta", "index": index, "delta": delta}))
                    if reply.stream_error:
                        events.append(
                            (None, {"event_type": "error", "error": {"code": "internal", "message": "boom"}})
                        )
                        return events
                annotations = step["content"][0].get("annotations")
                if annotations:
                    delta = {"type": "text_annotation_delta", "annotations": annotations}
                    events.append((None, {"event_type": "step.delta", "index": index, "delta": delta}))
            elif kind in IA_HOSTED_STEPS:
                events.extend((None, e) for e in hosted_step_events(index, step))
            else:
                start = {"type": "function_call", "id": step["id"], "name": step["name"], "arguments": {}}
                events.append((None, {"event_type": "step.start", "index": index, "step": start}))
                delta = {"type": "arguments_delta", "arguments": json.dumps(step["arguments"])}
                events.append((None, {"event_type": "step.delta", "index": index, "delta": delta}))
            events.append((None, {"event_type": "step.stop", "index": index}))
        done = {k: v for k, v in resource.items() if k != "steps"}
        events.append((None, {"event_type": "interaction.completed", "interaction": done}))
        return _named(events)

    def _ia_input(self, value: Any) -> list[dict[str, Any]]:
        if value is None:
            raise BadRequest("input is required.")
        if isinstance(value, str):
            return [{"type": "user_input", "content": [{"type": "text", "text": value}]}]
        if not isinstance(value, list):
            raise BadRequest("input must be a string or a list of steps.")
        return value

    def _ia_validate(
        self,
        body: dict[str, Any],
        steps: list[dict[str, Any]],
        history: list[dict[str, Any]],
        pending: list[str],
    ) -> None:
        gc = body.get("generation_config")
        if gc is not None:
            _only(gc, _IA_GEN, "generation_config")
        check_ia_tools(body, self._validate_schema)  # built-in tools: tests/emulators/gemini_hosted.py
        check_gemini_interactions_computer(body, steps, BadRequest)
        for i, tool in enumerate(body.get("tools") or []):
            if tool.get("type") != "function":
                continue
            if not _FN_NAME.match(str(tool.get("name", ""))):
                raise BadRequest(f"tools[{i}]: invalid function tool.")
        rf = body.get("response_format")
        if rf is not None:
            _only(rf, {"type", "mime_type", "schema"}, "response_format")
            self._validate_schema(rf.get("schema") or {}, "response_format.schema")
        known = {s["id"] for s in history if s.get("type") == "function_call"}
        answered = {s["call_id"] for s in history if s.get("type") == "function_result"}
        for i, step in enumerate(steps):
            kind = step.get("type") if isinstance(step, dict) else None
            if kind in IA_HOSTED_STEPS:
                check_ia_step(step, f"input[{i}]", getattr(self, "issued_steps", {}))
                continue
            if kind not in _IA_STEPS:
                raise BadRequest(f"input[{i}]: unknown step type {kind!r}.")
            _only(step, _IA_STEPS[kind], f"input[{i}]")
            for j, c in enumerate(step.get("content") or []):
                ctype = c.get("type") if isinstance(c, dict) else None
                if ctype not in _IA_CONTENT:
                    raise BadRequest(f"input[{i}].content[{j}]: unknown content type {ctype!r}.")
                _only(c, _IA_CONTENT[ctype], f"input[{i}].content[{j}]")
            if kind == "function_call":
                if not isinstance(step.get("id"), str) or not isinstance(step.get("arguments"), dict):
                    raise BadRequest(f"input[{i}]: function_call needs an id and an arguments object.")
                known.add(step["id"])
            elif kind == "function_result":
                cid = step.get("call_id")
                if cid not in known:
                    raise BadRequest(f"input[{i}]: function_result call_id {cid!r} matches no function call.")
                result = step.get("result")
                if not isinstance(result, str | dict | list):
                    raise BadRequest(f"input[{i}].result: required (a string, an object or a content list).")
                for j, c in enumerate(result if isinstance(result, list) else []):
                    ctype = c.get("type") if isinstance(c, dict) else None
                    if ctype not in _IA_CONTENT:
                        raise BadRequest(f"input[{i}].result[{j}]: unknown content type {ctype!r}.")
                    _only(c, _IA_CONTENT[ctype], f"input[{i}].result[{j}]")
                    if ctype == "image" and not (
                        isinstance(c.get("data"), str) or isinstance(c.get("uri"), str)
                    ):
                        raise BadRequest(f"input[{i}].result[{j}]: an image needs data or uri.")
                answered.add(cid)
        missing = [c for c in pending if c not in answered]
        if missing:
            raise BadRequest(f"function_result missing for pending function call(s): {missing}")
