"""A local emulator of the Chat Completions API (``POST /v1/chat/completions``), JSON and SSE.

Modelled on the recorded exchanges in ``../shared/cassettes/openai_chat/``: OpenAI's own responses
(gpt-4o), DeepSeek reasoner streaming (``reasoning_content`` deltas, ``call_00_`` ids, usage on the
finish chunk), Gemini's compatibility endpoint (empty tool-call ids, ``extra_content``), OpenRouter
(ids repeated on every chunk). Each server's quirks are a :class:`ChatQuirks` preset.

It validates requests the way the servers do and answers 400 in OpenAI's error shape: unknown top-level
fields, invalid roles, unknown message fields (strict OpenAI), tool messages that answer no pending
call, assistant ``tool_calls`` not answered before the next message, over-long tool-call ids,
``tool_choice``/``parallel_tool_calls`` without tools, ``stream_options`` without ``stream``,
``max_tokens`` on reasoning models, and DeepSeek's thinking-mode rule that assistant messages with
tool calls carry their ``reasoning_content``.

Faults (``Reply.malformed``): ``"body"`` answers 200 with an HTML page, ``"stream"`` puts a line cut
in two (not JSON) into the SSE stream after its first chunk.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any, Literal

from tests.emulators.base import HTTPReply, RecordedRequest, Reply, TimedEmulator
from tests.emulators.context_window import openai_chat_refusal
from tests.emulators.media_rules import chat_image_part_problem
from tests.providers.harness import Harness

IdStyle = Literal["openai", "deepseek", "vllm", "ollama", "index", "empty", "missing"]

TOP_LEVEL = frozenset(
    "messages model audio frequency_penalty function_call functions logit_bias logprobs max_completion_tokens "
    "max_tokens metadata modalities moderation n parallel_tool_calls prediction presence_penalty "
    "prompt_cache_key prompt_cache_options prompt_cache_retention reasoning_effort response_format "
    "safety_identifier seed service_tier stop store stream stream_options temperature tool_choice tools "
    "top_logprobs top_p user verbosity web_search_options".split()
)
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
ROLE_FIELDS = {
    "system": {"role", "content", "name"},
    "developer": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "refusal", "tool_calls", "function_call", "name", "audio"},
    "tool": {"role", "content", "tool_call_id"},
    "function": {"role", "content", "name"},
}
USER_PART_TYPES = {"text", "image_url", "input_audio", "file"}
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_TOOL_CALL_ID = 40


@dataclass(frozen=True)
class ChatQuirks:
    """What distinguishes one OpenAI-compatible server from another (see the presets below)."""

    name: str = "compatible"
    reasoning_field: str | None = "reasoning_content"
    """Field carrying reasoning in messages/deltas (``None``: the server never returns reasoning)."""
    tool_call_ids: IdStyle = "openai"
    message_extras: frozenset[str] | None = frozenset({"reasoning_content", "reasoning", "extra_content"})
    """Extra assistant-message fields accepted (and ignored); ``None`` accepts anything."""
    tool_call_extras: frozenset[str] = frozenset({"extra_content"})
    extra_top_level: frozenset[str] = frozenset()
    require_reasoning_replay: bool = False
    """DeepSeek thinking mode: assistant messages with tool_calls must carry ``reasoning_content`` (unless
    the request sends ``thinking: {"type": "disabled"}``)."""
    reject_max_tokens: bool = False
    """OpenAI reasoning models: ``max_tokens`` is rejected, ``max_completion_tokens`` required."""
    repeat_ids_in_chunks: bool = False
    whole_tool_calls_in_stream: bool = False
    usage_on_final_chunk: bool = False
    thought_signatures: bool = False
    require_tool_call_id: bool = True
    api_key: str | None = "test-key"

    @classmethod
    def openai(cls, **kw: Any) -> ChatQuirks:
        base = cls(
            name="openai", reasoning_field=None, message_extras=frozenset(), tool_call_extras=frozenset()
        )
        return replace(base, **kw)

    @classmethod
    def deepseek(cls, **kw: Any) -> ChatQuirks:
        base = cls(
            name="deepseek",
            tool_call_ids="deepseek",
            require_reasoning_replay=True,
            usage_on_final_chunk=True,
            extra_top_level=frozenset({"thinking"}),
        )
        return replace(base, **kw)

    @classmethod
    def vllm(cls, **kw: Any) -> ChatQuirks:
        base = cls(
            name="vllm",
            reasoning_field="reasoning",
            tool_call_ids="vllm",
            message_extras=None,
            extra_top_level=frozenset({"top_k", "min_p", "repetition_penalty"}),
        )
        return replace(base, **kw)

    @classmethod
    def ollama(cls, **kw: Any) -> ChatQuirks:
        base = cls(
            name="ollama",
            reasoning_field="reasoning",
            tool_call_ids="ollama",
            whole_tool_calls_in_stream=True,
        )
        return replace(base, **kw)

    @classmethod
    def gemini(cls, **kw: Any) -> ChatQuirks:
        base = cls(
            name="gemini",
            reasoning_field=None,
            tool_call_ids="empty",
            thought_signatures=True,
            require_tool_call_id=False,
        )
        return replace(base, **kw)

    @classmethod
    def openrouter(cls, **kw: Any) -> ChatQuirks:
        base = cls(
            name="openrouter", reasoning_field="reasoning", tool_call_ids="index", repeat_ids_in_chunks=True
        )
        return replace(base, **kw)


class BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


def error_body(message: str, type_: str, param: str | None = None, code: Any = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    503: ("server_error", "overloaded"),
}


class ChatCompletionsEmulator(TimedEmulator):
    vendor = "openai-chat"

    def __init__(self, quirks: ChatQuirks | None = None) -> None:
        super().__init__()
        self.quirks = quirks or ChatQuirks()
        self.finish_reasons: deque[str] = deque()
        """Finish reasons to force on the next replies (``length``, ``content_filter``)."""
        self._counter = 0

    # ------------------------------------------------------------------ ids

    def _token(self, n: int) -> str:
        self._counter += 1
        return hashlib.sha256(f"{self.quirks.name}:{self._counter}".encode()).hexdigest()[:n]

    def _call_id(self, index: int, scripted: str | None) -> str | None:
        style = self.quirks.tool_call_ids
        if style == "missing":
            return None
        if style == "empty":
            return ""
        if scripted:
            return scripted
        if style == "deepseek":
            return f"call_{index:02d}_{self._token(22)}"
        if style == "vllm":
            return f"chatcmpl-tool-{self._token(32)}"
        if style == "ollama":
            return f"call_{self._token(8)}"
        if style == "index":
            return str(index)
        return f"call_{self._token(24)}"

    # ------------------------------------------------------------------ validation

    def validate(self, request: RecordedRequest) -> None:
        body = request.body
        if not isinstance(body, dict):
            raise BadRequest("We could not parse the JSON body of your request.")
        for key in body:
            if key not in TOP_LEVEL and key not in self.quirks.extra_top_level:
                raise BadRequest(f"Unrecognized request argument supplied: {key}")
        if not isinstance(body.get("model"), str) or not body["model"]:
            raise BadRequest("you must provide a model parameter")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise BadRequest("[] is too short - 'messages'", "messages", "empty_array")
        tools = body.get("tools")
        names = self._validate_tools(tools)
        thinking_off = (body.get("thinking") or {}).get("type") == "disabled"
        self._validate_messages(
            messages, reasoning_required=self.quirks.require_reasoning_replay and not thinking_off
        )
        if "tool_choice" in body:
            if not tools:
                raise BadRequest(
                    "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                    "tool_choice",
                )
            choice = body["tool_choice"]
            if isinstance(choice, dict):
                name = (choice.get("function") or {}).get("name")
                if choice.get("type") != "function" or name not in names:
                    raise BadRequest(
                        f"Invalid value for 'tool_choice': no function named {name!r} in 'tools'."
                    )
            elif choice not in ("auto", "required", "none"):
                raise BadRequest(
                    f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'."
                )
        if "parallel_tool_calls" in body and not tools:
            raise BadRequest(
                "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' "
                "are specified.",
                "parallel_tool_calls",
            )
        if "stream_options" in body and not body.get("stream"):
            raise BadRequest(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options"
            )
        if "max_tokens" in body and self.quirks.reject_max_tokens:
            raise BadRequest(
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                "max_tokens",
                "unsupported_parameter",
            )
        fmt = body.get("response_format")
        if fmt is not None:
            kind = fmt.get("type") if isinstance(fmt, dict) else None
            if kind not in ("text", "json_object", "json_schema"):
                raise BadRequest(
                    f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', 'json_schema'."
                )
            if kind == "json_schema":
                spec = fmt.get("json_schema") or {}
                if not TOOL_NAME.match(str(spec.get("name", ""))) or not isinstance(spec.get("schema"), dict):
                    raise BadRequest(
                        "Invalid 'response_format.json_schema': needs a valid 'name' and a 'schema' object."
                    )

    def _validate_tools(self, tools: Any) -> set[str]:
        names: set[str] = set()
        if tools is None:
            return names
        if not isinstance(tools, list):
            raise BadRequest("Invalid type for 'tools': expected an array.", "tools")
        for i, tool in enumerate(tools):
            fn = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(fn, dict):
                raise BadRequest(
                    f"Missing required parameter: 'tools[{i}].function'.", f"tools[{i}].function"
                )
            if not TOOL_NAME.match(str(fn.get("name", ""))):
                raise BadRequest(f"Invalid 'tools[{i}].function.name': string does not match pattern.")
            unknown = set(fn) - {"name", "description", "parameters", "strict"}
            if unknown:
                raise BadRequest(
                    f"Unrecognized request argument supplied: tools[{i}].function.{sorted(unknown)[0]}"
                )
            names.add(fn["name"])
        return names

    def _validate_messages(self, messages: list[Any], *, reasoning_required: bool) -> None:
        q = self.quirks
        pending: list[str] = []
        for i, msg in enumerate(messages):
            role = msg.get("role") if isinstance(msg, dict) else None
            if role not in ROLES:
                raise BadRequest(
                    f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', "
                    "'tool', and 'developer'.",
                    f"messages[{i}].role",
                    "invalid_value",
                )
            if pending and role != "tool":
                raise BadRequest(
                    "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                    f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}",
                    f"messages.[{i}].role",
                )
            allowed = ROLE_FIELDS[role]
            extras = set(msg) - allowed
            if role == "assistant" and q.message_extras is None:
                extras = set()
            elif role == "assistant":
                extras -= q.message_extras
            if extras:
                raise BadRequest(
                    f"Additional properties are not allowed ('{sorted(extras)[0]}' was unexpected) - 'messages.{i}'",
                    f"messages[{i}]",
                )
            content = msg.get("content")
            if role in ("system", "developer", "user", "tool"):
                if not isinstance(content, str | list):
                    raise BadRequest(f"Invalid type for 'messages[{i}].content': expected a string or array.")
                if isinstance(content, list):
                    kinds = USER_PART_TYPES if role == "user" else {"text"}
                    for j, part in enumerate(content):
                        if not isinstance(part, dict) or part.get("type") not in kinds:
                            raise BadRequest(f"Invalid value for 'messages[{i}].content[{j}].type'.")
                        if part["type"] == "image_url":
                            problem = chat_image_part_problem(part, f"messages[{i}].content[{j}]")
                            if problem:
                                raise BadRequest(f"Invalid {problem}")
            if role == "tool":
                cid = msg.get("tool_call_id")
                if cid not in pending:
                    raise BadRequest(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                        "with 'tool_calls'.",
                        f"messages.[{i}].role",
                    )
                pending.remove(cid)
            if role == "assistant":
                calls = msg.get("tool_calls")
                if content is None and not calls and "function_call" not in msg:
                    raise BadRequest(
                        f"Missing required parameter: 'messages[{i}].content'.", f"messages[{i}].content"
                    )
                if calls:
                    pending = self._validate_tool_calls(i, calls)
                    if reasoning_required and "reasoning_content" not in msg:
                        raise BadRequest(
                            f"Missing `reasoning_content` field in the assistant message at message index {i}. "
                            "For more information, please refer to the thinking mode guide (tool calls).",
                        )
        if pending:
            raise BadRequest(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}",
                "messages",
            )

    def _validate_tool_calls(self, i: int, calls: Any) -> list[str]:
        if not isinstance(calls, list):
            raise BadRequest(f"Invalid type for 'messages[{i}].tool_calls': expected an array.")
        ids: list[str] = []
        for j, call in enumerate(calls):
            where = f"messages[{i}].tool_calls[{j}]"
            if not isinstance(call, dict) or call.get("type") != "function":
                raise BadRequest(f"Missing required parameter: '{where}.type'.", f"{where}.type")
            unknown = set(call) - {"id", "type", "function"} - self.quirks.tool_call_extras
            if unknown:
                raise BadRequest(f"Unrecognized request argument supplied: {where}.{sorted(unknown)[0]}")
            cid = call.get("id")
            if not isinstance(cid, str) or (self.quirks.require_tool_call_id and not cid):
                raise BadRequest(f"Missing required parameter: '{where}.id'.", f"{where}.id")
            if len(cid) > MAX_TOOL_CALL_ID:
                raise BadRequest(
                    f"Invalid '{where}.id': string too long. Expected a string with maximum length "
                    f"{MAX_TOOL_CALL_ID}, but got a string with length {len(cid)} instead.",
                    f"{where}.id",
                    "string_above_max_length",
                )
            fn = call.get("function") or {}
            if not isinstance(fn.get("name"), str) or not isinstance(fn.get("arguments"), str):
                raise BadRequest(f"Invalid '{where}.function': 'name' and 'arguments' must be strings.")
            ids.append(cid)
        return ids

    # ------------------------------------------------------------------ replies

    def _handle(self, request: RecordedRequest) -> HTTPReply:
        if request.method != "POST" or request.path.split("?")[0] != "/v1/chat/completions":
            return HTTPReply(
                404, error_body(f"Invalid URL ({request.method} {request.path})", "invalid_request_error")
            )
        key = self.quirks.api_key
        if key is not None and request.headers.get("authorization") != f"Bearer {key}":
            return HTTPReply(
                401,
                error_body("Incorrect API key provided.", "invalid_request_error", None, "invalid_api_key"),
            )
        try:
            self.validate(request)
        except BadRequest as exc:
            return HTTPReply(400, error_body(exc.message, "invalid_request_error", exc.param, exc.code))
        if (refused := openai_chat_refusal(self, max(1, len(request.raw) // 4))) is not None:
            return refused
        reply = self.next_reply()
        if reply.error is not None:
            status, message = reply.error
            type_, code = _ERROR_TYPES.get(status, ("server_error", None))
            return HTTPReply(
                status, error_body(message, reply.error_type or type_, None, code), headers=reply.headers
            )
        body = request.body
        finish = self.finish_reasons.popleft() if self.finish_reasons else None
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks, done = self._chunks(body, reply, finish, include_usage, len(request.raw))
            sse: list[tuple[str | None, Any]] = [(None, c) for c in chunks]
            if reply.malformed == "stream":  # a proxy that cut a line in two
                sse.insert(1, (None, b'{"id": "chatcmpl-x", "choices": [{"delta": {"content": "Hel'))
            return HTTPReply(200, sse=sse, headers=reply.headers, sse_done_marker=done)
        if reply.malformed == "body":  # a proxy's error page with status 200
            return HTTPReply(200, raw=b"<html><body>upstream error</body></html>", headers=reply.headers)
        return HTTPReply(200, self._completion(body, reply, finish, len(request.raw)), headers=reply.headers)

    def _usage(self, reply: Reply, request_size: int) -> dict[str, Any]:
        prompt = reply.input_tokens if reply.input_tokens is not None else max(1, request_size // 4)
        reasoning = min(len((reply.reasoning or "").split()), reply.output_tokens)
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": reply.output_tokens,
            "total_tokens": prompt + reply.output_tokens,
            "prompt_tokens_details": {"cached_tokens": reply.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        if self.quirks.name == "deepseek":
            usage["prompt_cache_hit_tokens"] = reply.cached_tokens
            usage["prompt_cache_miss_tokens"] = prompt - reply.cached_tokens
        return usage

    def _tool_calls(self, reply: Reply) -> list[dict[str, Any]]:
        calls = []
        for index, tc in enumerate(reply.tool_calls):
            call: dict[str, Any] = {"index": index}
            cid = self._call_id(index, tc.call_id)
            if cid is not None:
                call["id"] = cid
            call["type"] = "function"
            call["function"] = {"name": tc.name, "arguments": tc.arguments_json}
            if self.quirks.thought_signatures and index == 0:
                call["extra_content"] = {"google": {"thought_signature": "sig-" + self._token(16)}}
            calls.append(call)
        return calls

    def _header(self, body: dict[str, Any], obj: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-" + self._token(29),
            "object": obj,
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_emulator",
        }

    def _completion(
        self, body: dict[str, Any], reply: Reply, finish: str | None, size: int
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text,
            "refusal": None,
            "annotations": [],
        }
        if reply.reasoning and self.quirks.reasoning_field:
            message[self.quirks.reasoning_field] = reply.reasoning
        if reply.tool_calls:
            message["tool_calls"] = [
                {k: v for k, v in c.items() if k != "index"} for c in self._tool_calls(reply)
            ]
        if self.quirks.thought_signatures:
            message["extra_content"] = {
                "google": {"thought": True, "thought_signature": "msg-" + self._token(16)}
            }
        finish = finish or ("tool_calls" if reply.tool_calls else "stop")
        return {
            **self._header(body, "chat.completion"),
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": self._usage(reply, size),
            "service_tier": "default",
        }

    def _chunks(
        self, body: dict[str, Any], reply: Reply, finish: str | None, include_usage: bool, size: int
    ) -> tuple[list[dict[str, Any]], bool]:
        q = self.quirks
        head = self._header(body, "chat.completion.chunk")
        if q.reasoning_field is None or q.name == "compatible":
            head = {**head, "service_tier": "default"}  # as OpenAI sends it
        if q.usage_on_final_chunk or include_usage:
            head["usage"] = None  # OpenAI and DeepSeek put ``usage: null`` on every chunk

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return {**head, "choices": [choice]}

        field_name = q.reasoning_field
        first: dict[str, Any] = {"role": "assistant", "content": "" if not field_name else None}
        if field_name:
            first[field_name] = ""
        else:
            first["refusal"] = None
        calls = self._tool_calls(reply)
        only_calls = (
            calls and not reply.text and not (reply.reasoning and field_name) and not reply.stream_error
        )
        out = [] if only_calls and not q.whole_tool_calls_in_stream else [chunk(first)]
        if reply.reasoning and field_name:
            for piece in _pieces(reply.reasoning):
                out.append(chunk({"content": None, field_name: piece}))
        for n, piece in enumerate(_pieces(reply.text or "")):
            out.append(chunk({"content": piece}))
            if reply.stream_error and n == 0:
                break
        if reply.stream_error:
            if not reply.text:
                out.append(chunk({"content": "…"}))
            err = error_body("The server had an error while processing your request.", "server_error")
            return [*out, err], False
        for call in calls:
            args = call["function"]["arguments"]
            opening = {k: v for k, v in call.items() if k != "function"}
            if q.whole_tool_calls_in_stream:
                out.append(chunk({"tool_calls": [call]}))
                continue
            opening["function"] = {"name": call["function"]["name"], "arguments": ""}
            if not out:  # OpenAI opens a tool-call-only answer with role and the first call together
                out.append(
                    chunk({"role": "assistant", "content": None, "tool_calls": [opening], "refusal": None})
                )
            else:
                out.append(chunk({"tool_calls": [opening]}))
            for piece in _pieces(args, size=4):
                if q.repeat_ids_in_chunks:
                    again = {**opening, "function": {"name": call["function"]["name"], "arguments": piece}}
                    out.append(chunk({"tool_calls": [again]}))
                else:
                    out.append(
                        chunk({"tool_calls": [{"index": call["index"], "function": {"arguments": piece}}]})
                    )
        done = chunk(
            {"content": "", field_name: None} if field_name else {},
            finish or ("tool_calls" if reply.tool_calls else "stop"),
        )
        if q.usage_on_final_chunk:
            done["usage"] = self._usage(reply, size)
        out.append(done)
        if include_usage and not q.usage_on_final_chunk:
            out.append({**head, "choices": [], "usage": self._usage(reply, size)})
        return out, True


def _pieces(text: str, size: int = 0) -> list[str]:
    """Split text the way servers stream it: word by word (or in fixed-size fragments)."""
    if not text:
        return []
    if size:
        return [text[i : i + size] for i in range(0, len(text), size)]
    return re.findall(r"\S+\s*|\s+", text)


def harness(quirks: ChatQuirks | None = None, model: str = "llama3") -> Harness:
    """The contract suite's view: a compatible server that emits ``reasoning_content``."""
    from agentcore.providers.openai.chat import OpenAIChatModel

    emulator = ChatCompletionsEmulator(quirks)
    key = emulator.quirks.api_key or "test-key"
    return Harness(
        name="openai-chat",
        emulator=emulator,
        make_model=lambda **kw: OpenAIChatModel(model, base_url=emulator.base_url + "/v1", api_key=key, **kw),
    )


__all__ = ["ChatCompletionsEmulator", "ChatQuirks", "harness"]
