"""A local emulator of the OpenAI Responses API (``POST /v1/responses``, JSON and SSE).

Modelled on the recorded exchanges in ``shared/cassettes/openai_responses/``. It is strict the way the
real API is: unknown top-level parameters, unknown or malformed input items, tool outputs whose
``call_id`` matches no call in the conversation, function calls left without an output, reasoning
items it did not issue (``invalid_encrypted_content``) or not followed by their output item, strict
schemas that are not strict-compatible, and unknown ``previous_response_id`` values (the vendor's
``previous_response_not_found``) are answered with a 400 in the vendor's error shape.

Responses created with ``store`` (the default) are kept, so ``previous_response_id`` chains work and
``GET /v1/responses/{id}`` returns them. :meth:`OpenAIResponsesEmulator.expire` forgets stored
responses, the way the real service does after its retention period.

As the service does, it returns a reasoning item's ``encrypted_content`` only when the request asked
for it (``include: ["reasoning.encrypted_content"]``, or ``include[]=`` on ``GET``), and answers 400
(``param: "include"``, "Encrypted content is not supported with this model.") when a model that does
not reason (gpt-4o, gpt-4.1…) is asked for it.

Background mode (``background: true``, from the recorded ``test_background_mode_with_tool_vcr.yaml``):
the create call answers ``queued`` with no output and no usage; ``GET /v1/responses/{id}`` answers
``in_progress`` for :attr:`~OpenAIResponsesEmulator.background_polls` polls, then the finished
response; ``POST /v1/responses/{id}/cancel`` cancels it. A scripted 5xx/429 ``Reply.error`` makes a
background response end ``failed``; :attr:`~OpenAIResponsesEmulator.background_outcomes` forces
``cancelled`` or ``incomplete``.

Server-side compaction (``context_management: [{type: compaction, compact_threshold: N}]``): once a
response's tokens pass the threshold its output gains a ``compaction`` item after the message; a
replayed compaction item must be one this server issued, and stands for everything before it.

Hosted tools (:mod:`tests.emulators.openai_responses_hosted`): hosted MCP (tool listing, approval requests
and answers, approved calls), hosted containers (``/v1/containers`` and their files; a scripted
``shell_call`` in a request whose ``shell`` tool names a container runs server-side and is followed by
its ``shell_call_output``) and progress events of server-run items.

Faults (``Reply.malformed``): ``"body"`` answers 200 with an HTML page instead of JSON, ``"stream"``
puts a line that is not JSON into the SSE stream after its first event. Call ids the server issued are
accepted back whatever they look like (``ToolCallReply(call_id=…)`` scripts the ids an
OpenAI-compatible server would issue); foreign ids must match OpenAI's pattern.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections import deque
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

from tests.emulators import context_window as ctxwin
from tests.emulators.base import Emulator, HTTPReply, RecordedRequest, Reply
from tests.emulators.computer_rules import computer_call_problem
from tests.emulators.openai_responses_hosted import ContainersAPI, HostedState, hosted_output
from tests.emulators.openai_responses_rules import APIFailure, RequestRules, error_body, follower_key
from tests.providers.harness import Harness

MODEL = "gpt-5.5"


class OpenAIResponsesEmulator(ContainersAPI, RequestRules, Emulator):
    vendor = "openai"

    def __init__(self) -> None:
        super().__init__()
        self.stored: dict[str, dict[str, Any]] = {}
        """Stored responses: id -> {"context": all items up to and including its output, "response"}."""
        self.issued_reasoning: dict[str, tuple[str, str, str | None]] = {}
        """encrypted_content -> (reasoning item id, model, key of the item it produced) for every
        reasoning item this server issued (see :func:`follower_key`)."""
        self.issued_compactions: dict[str, str] = {}
        """encrypted_content -> compaction item id, for every compaction item this server issued."""
        self.issued_call_ids: set[str] = set()
        self.jobs: dict[str, dict[str, Any]] = {}
        """Background responses: id -> {"final", "snapshot", "polls", "context", "store", "done"}."""
        self.background_polls = 1
        """How many polls of a background response see it ``in_progress`` before it ends."""
        self.background_outcomes: deque[str] = deque()
        """Terminal statuses to force on the next background responses (``cancelled``, ``incomplete``)."""
        self._ids = itertools.count(1)
        self.scripted_items: deque[list[dict[str, Any]]] = deque()
        """Raw output items for the next responses (``script_items``), before a scripted text."""
        self.hosted = HostedState()
        """Hosted MCP tool lists and outputs, approval responses received, hosted containers."""

    # ------------------------------------------------------------------ helpers for tests

    def script_items(self, *items: dict[str, Any]) -> None:
        """The next response's output: these items as given (``shell_call``, ``apply_patch_call``,
        ``web_search_call``… in the recorded shapes); a missing ``id``/``call_id``/``status`` is filled
        in. The response's ``Reply`` still applies (its text comes after the items)."""
        with self._lock:
            self.scripted_items.append([dict(i) for i in items])

    def expire(self, response_id: str | None = None) -> None:
        """Forget one stored response (or all), as the service does after its retention period."""
        with self._lock:
            if response_id is None:
                self.stored.clear()
            else:
                self.stored.pop(response_id, None)

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{os.urandom(4).hex()}{next(self._ids):08x}{os.urandom(12).hex()}"

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: RecordedRequest) -> HTTPReply:
        path = request.path.split("?", 1)[0]
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return HTTPReply(
                401,
                error_body(
                    "You didn't provide an API key. You need to provide your API key in an Authorization "
                    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    "invalid_request_error",
                ),
            )
        if request.method == "POST" and path == "/v1/responses":
            return self._create(request)
        if request.method == "POST" and path == "/v1/responses/input_tokens":
            return ctxwin.openai_responses_count(self, request.body)
        if request.method == "POST" and path == "/v1/responses/compact":
            return ctxwin.openai_responses_compact(self, request.body)
        if path.startswith("/v1/containers"):
            with self._lock:
                routed = self.containers_route(request, path)
            if routed is not None:
                return routed
        m = re.fullmatch(r"/v1/responses/([^/]+)(/cancel)?", path)
        if m and request.method == "POST" and m.group(2):
            return self._cancel(m.group(1))
        if request.method == "GET" and m and not m.group(2):
            query = parse_qs(request.path.split("?", 1)[1]) if "?" in request.path else {}
            include = query.get("include[]", []) + query.get("include", [])
            response = self._retrieve(m.group(1))
            if response is None:
                return HTTPReply(
                    404,
                    error_body(
                        f"Response with id '{m.group(1)}' not found.", "invalid_request_error", None, None
                    ),
                )
            return HTTPReply(200, _view(response, include), headers=self._headers())
        return HTTPReply(
            404, error_body(f"Invalid URL ({request.method} {path})", "invalid_request_error", None, None)
        )

    def _create(self, request: RecordedRequest) -> HTTPReply:
        body = request.body
        try:
            if not isinstance(body, dict):
                raise APIFailure(
                    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                    "using your HTTP library correctly. The OpenAI API expects a JSON payload.)"
                )
            context, withheld = self._validate(body)
            refused = ctxwin.openai_responses_refusal(self, ctxwin.responses_tokens(body, context))
            if refused is not None:
                return refused
        except APIFailure as exc:
            return HTTPReply(
                exc.status, error_body(exc.message, "invalid_request_error", exc.param, exc.code)
            )
        reply = self.next_reply()
        headers = self._headers()
        background = bool(body.get("background")) and not body.get("stream")
        if reply.error is not None and not (background and (reply.error[0] >= 500 or reply.error[0] == 429)):
            return self._error_reply(reply, headers)
        response = self._response(body, reply, context, withheld)
        include = body.get("include") or []
        if background:
            return HTTPReply(200, self._enqueue(body, reply, response, context), headers=headers)
        if reply.malformed == "body" and not body.get("stream"):
            return HTTPReply(200, raw=b"<html><body>502 Bad Gateway</body></html>", headers=headers)
        if body.get("stream"):
            return HTTPReply(200, sse=self._events(_view(response, include), reply), headers=headers)
        return HTTPReply(200, _view(response, include), headers=headers)

    # ------------------------------------------------------------------ background mode

    def _enqueue(
        self, body: dict[str, Any], reply: Reply, response: dict[str, Any], context: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Keep the finished ``response`` for later polls and answer with its ``queued`` snapshot."""
        final = dict(response)
        with self._lock:
            outcome = self.background_outcomes.popleft() if self.background_outcomes else None
        if reply.error is not None:
            status, message = reply.error
            code = "rate_limit_exceeded" if status == 429 else "server_error"
            final.update(status="failed", output=[], usage=None, error={"code": code, "message": message})
        elif outcome == "incomplete":
            final.update(status="incomplete", incomplete_details={"reason": "max_output_tokens"})
        elif outcome == "cancelled":
            final.update(status="cancelled", output=[], usage=None)
        snapshot = {
            **response,
            "status": "queued",
            "output": [],
            "usage": None,
            "completed_at": None,
            "service_tier": "auto",
        }
        snapshot.pop("billing", None)
        snapshot.pop("input_transformations", None)
        with self._lock:
            self.stored.pop(response["id"], None)  # visible to previous_response_id once it is done
            self.jobs[response["id"]] = {
                "final": final,
                "snapshot": snapshot,
                "polls": self.background_polls,
                "context": [*context, *response["output"]],
                "store": body.get("store", True),
                "done": False,
            }
        return snapshot

    def _retrieve(self, response_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self.jobs.get(response_id)
            if job is None:
                stored = self.stored.get(response_id)
                return None if stored is None else stored["response"]
            if not job["done"]:
                if job["polls"] > 0:
                    job["polls"] -= 1
                    job["snapshot"] = {**job["snapshot"], "status": "in_progress"}
                    return job["snapshot"]
                job["done"] = True
                final = job["final"]
                if job["store"] and final["status"] == "completed":
                    self.stored[response_id] = {"context": job["context"], "response": final}
            return job["final"] if job["done"] else job["snapshot"]

    def _cancel(self, response_id: str) -> HTTPReply:
        with self._lock:
            job = self.jobs.get(response_id)
            if job is None:
                known = response_id in self.stored
            elif not job["done"]:
                job["done"] = True
                job["final"] = {**job["snapshot"], "status": "cancelled"}
                return HTTPReply(200, job["final"], headers=self._headers())
            else:
                return HTTPReply(200, job["final"], headers=self._headers())  # idempotent
        if known:
            return HTTPReply(
                400,
                error_body(
                    "Only responses created with background=true can be cancelled.",
                    "invalid_request_error",
                    None,
                    None,
                ),
            )
        return HTTPReply(
            404,
            error_body(f"Response with id '{response_id}' not found.", "invalid_request_error", None, None),
        )

    def _headers(self) -> dict[str, str]:
        return {
            "x-request-id": f"req_{os.urandom(16).hex()}",
            "openai-processing-ms": "1",
            "openai-version": "2020-10-01",
            "x-ratelimit-limit-requests": "15000",
            "x-ratelimit-remaining-requests": "14999",
            "x-ratelimit-reset-requests": "4ms",
            "x-ratelimit-limit-tokens": "40000000",
            "x-ratelimit-remaining-tokens": "40000000",
            "x-ratelimit-reset-tokens": "0s",
        }

    def _error_reply(self, reply: Reply, headers: dict[str, str]) -> HTTPReply:
        assert reply.error is not None
        status, message = reply.error
        headers = {**headers, **reply.headers}
        code: str | None = reply.error_type
        if status == 429:
            type_ = "insufficient_quota" if code == "insufficient_quota" else "requests"
            code = code or "rate_limit_exceeded"
        elif status == 401:
            type_, code = "invalid_request_error", code or "invalid_api_key"
        elif status == 403:
            type_ = "permission_denied"
        elif status >= 500:
            type_ = "server_error"
            code = code or "server_error"
        else:
            type_ = "invalid_request_error"
        return HTTPReply(status, error_body(message, type_, None, code), headers=headers)

    # ------------------------------------------------------------------ responses

    def _validate(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        context, withheld = super()._validate(body)
        with self._lock:
            self.check_hosted(body)  # hosted MCP labels, container references; records approval answers
        return context, withheld

    def _output(
        self,
        reply: Reply,
        model: str,
        body: dict[str, Any] | None = None,
        context: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        output: list[dict[str, Any]] = []
        with self._lock:
            scripted = self.scripted_items.popleft() if self.scripted_items else []
        for item in scripted:
            prefix = _ID_PREFIX.get(item["type"], "it")
            item.setdefault("id", self._id(prefix))
            if item["type"] == "computer_call":  # only the documented action shapes (computer_rules)
                problem = computer_call_problem(item)
                assert problem is None, f"scripted computer_call: {problem}"
                item.setdefault("pending_safety_checks", [])
            if item["type"] in ("shell_call", "apply_patch_call", "local_shell_call", "computer_call"):
                item.setdefault("call_id", f"call_{os.urandom(12).hex()}")
                item.setdefault("status", "completed")
                with self._lock:
                    self.issued_call_ids.add(item["call_id"])
            output.append(item)
        if body is not None:
            with self._lock:
                output = hosted_output(output, body, context or [], self.hosted, self._id)
        if reply.text is not None:
            output.append(
                {
                    "id": self._id("msg"),
                    "type": "message",
                    "status": "completed",
                    "content": [
                        {"type": "output_text", "annotations": [], "logprobs": [], "text": reply.text}
                    ],
                    "phase": "commentary" if reply.tool_calls else "final_answer",
                    "role": "assistant",
                }
            )
        for call in reply.tool_calls:
            call_id = call.call_id or f"call_{os.urandom(12).hex()}"
            with self._lock:
                self.issued_call_ids.add(call_id)
            output.append(
                {
                    "id": self._id("fc"),
                    "type": "function_call",
                    "status": "completed",
                    "arguments": call.arguments_json,
                    "call_id": call_id,
                    "name": call.name,
                }
            )
        if reply.reasoning is not None:
            rid = self._id("rs")
            enc = "gAAAAAB" + os.urandom(48).hex()
            with self._lock:
                self.issued_reasoning[enc] = (rid, model, follower_key(output[0]) if output else None)
            summary = [{"type": "summary_text", "text": reply.reasoning}] if reply.reasoning else []
            output.insert(0, {"id": rid, "type": "reasoning", "encrypted_content": enc, "summary": summary})
        return output

    def _response(
        self,
        body: dict[str, Any],
        reply: Reply,
        context: list[dict[str, Any]],
        withheld: list[dict[str, Any]],
    ) -> dict[str, Any]:
        model = body["model"]
        output = self._output(reply, model, body, context)
        input_tokens = reply.input_tokens
        if input_tokens is None:
            # A compaction item stands for everything before it.
            start = max((i for i, it in enumerate(context) if it.get("type") == "compaction"), default=0)
            visible = context[start:]
            input_tokens = max(1, len(json.dumps(visible)) // 4 + len(body.get("instructions") or "") // 4)
        reasoning_tokens = max(1, len(reply.reasoning.split())) if reply.reasoning else 0
        output_tokens = reply.output_tokens + reasoning_tokens
        threshold = _compact_threshold(body.get("context_management"))
        if threshold is not None and input_tokens + output_tokens > threshold:
            enc = "gAAAAAB" + os.urandom(64).hex()
            cid = self._id("cmp")
            with self._lock:
                self.issued_compactions[enc] = cid
            output.append({"id": cid, "type": "compaction", "encrypted_content": enc})
        cache_write = int(getattr(reply, "cache_write_tokens", 0) or 0)
        now = int(time.time())
        store = body.get("store", True)
        response: dict[str, Any] = {
            "id": self._id("resp"),
            "object": "response",
            "created_at": now,
            "status": "completed",
            "background": bool(body.get("background")),
            "billing": {"payer": "developer"},
            "completed_at": now,
            "error": None,
            "frequency_penalty": 0.0,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": body.get("max_tool_calls"),
            "model": f"{model}-2026-04-23",
            "moderation": None,
            "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "presence_penalty": 0.0,
            "previous_response_id": body.get("previous_response_id"),
            "prompt_cache_key": body.get("prompt_cache_key"),
            "prompt_cache_retention": "24h",
            "reasoning": {"effort": (body.get("reasoning") or {}).get("effort"), "summary": None},
            "safety_identifier": None,
            "service_tier": "default",
            "store": store,
            "temperature": body.get("temperature", 1.0),
            "text": {**(body.get("text") or {"format": {"type": "text"}}), "verbosity": "medium"},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [],
            "top_logprobs": 0,
            "top_p": body.get("top_p", 0.98),
            "truncation": "disabled",
            "usage": {
                "input_tokens": input_tokens,
                "input_tokens_details": {
                    "cached_tokens": reply.cached_tokens,
                    "cache_write_tokens": cache_write,
                    "cache_write_tokens_details": {"ttl_30m_tokens": cache_write, "ttl_12h_tokens": 0},
                },
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
                "total_tokens": input_tokens + output_tokens,
            },
            "user": None,
            "metadata": body.get("metadata") or {},
        }
        if withheld:
            response["input_transformations"] = withheld
        if store and not reply.stream_error:
            with self._lock:
                self.stored[response["id"]] = {"context": [*context, *output], "response": response}
        return response

    def _events(self, response: dict[str, Any], reply: Reply) -> Iterator[tuple[str | None, Any]]:
        seq = itertools.count()

        def ev(kind: str, **data: Any) -> tuple[str, dict[str, Any]]:
            return kind, {"type": kind, **data, "sequence_number": next(seq)}

        def pad() -> str:
            return os.urandom(6).hex()[: 4 + next(self._ids) % 8]

        start = {**response, "status": "in_progress", "output": [], "usage": None, "completed_at": None}
        start.pop("input_transformations", None)
        yield ev("response.created", response=start)
        if reply.malformed == "stream":
            yield "response.in_progress", b'{"type": "response.in_progress", "response": {"id": <truncated'
        yield ev("response.in_progress", response=start)
        broke = False
        for index, item in enumerate(response["output"]):
            kind = item["type"]
            if kind == "reasoning":
                yield ev("response.output_item.added", output_index=index, item={**item, "summary": []})
                for s, part in enumerate(item["summary"]):
                    ids = {"item_id": item["id"], "output_index": index, "summary_index": s}
                    yield ev(
                        "response.reasoning_summary_part.added",
                        **ids,
                        part={"type": "summary_text", "text": ""},
                    )
                    for chunk in _chunks(part["text"]):
                        yield ev(
                            "response.reasoning_summary_text.delta", **ids, delta=chunk, obfuscation=pad()
                        )
                    yield ev("response.reasoning_summary_text.done", **ids, text=part["text"])
                    yield ev("response.reasoning_summary_part.done", **ids, part=part)
            elif kind == "message":
                yield ev(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "content": []},
                )
                ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
                text = item["content"][0]["text"]
                empty = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
                yield ev("response.content_part.added", **ids, part=empty)
                for chunk in _chunks(text):
                    yield ev("response.output_text.delta", **ids, delta=chunk, logprobs=[], obfuscation=pad())
                    if reply.stream_error:
                        broke = True
                        break
                if broke:
                    break
                yield ev("response.output_text.done", **ids, text=text, logprobs=[])
                yield ev("response.content_part.done", **ids, part=item["content"][0])
            elif kind == "compaction":
                yield ev("response.output_item.added", output_index=index, item=item)
                yield ev("response.compaction.compacting", item_id=item["id"], output_index=index)
            elif kind in _PROGRESS:  # a server-run tool: its progress events, as the service sends them
                yield ev(
                    "response.output_item.added", output_index=index, item={**item, "status": "in_progress"}
                )
                for stage in _PROGRESS[kind]:
                    yield ev(f"response.{kind}.{stage}", item_id=item["id"], output_index=index)
            elif kind != "function_call":
                yield ev("response.output_item.added", output_index=index, item=item)
            elif kind == "function_call":
                yield ev(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "arguments": ""},
                )
                ids = {"item_id": item["id"], "output_index": index}
                for chunk in _chunks(item["arguments"], size=8):
                    yield ev("response.function_call_arguments.delta", **ids, delta=chunk, obfuscation=pad())
                yield ev("response.function_call_arguments.done", **ids, arguments=item["arguments"])
            yield ev("response.output_item.done", output_index=index, item=item)
        if reply.stream_error or broke:
            err = {
                "type": "server_error",
                "code": "server_error",
                "message": "The server had an error processing your request.",
                "param": None,
            }
            yield ev("error", error=err)
            failed = {
                **start,
                "status": "failed",
                "error": {"code": "server_error", "message": err["message"]},
            }
            yield ev("response.failed", response=failed)
            return
        yield ev("response.completed", response=response)


_PROGRESS = {
    "web_search_call": ("in_progress", "searching", "completed"),
    "file_search_call": ("in_progress", "searching", "completed"),
    "code_interpreter_call": ("in_progress", "interpreting", "completed"),
    "mcp_call": ("in_progress", "completed"),
}
"""Progress events of server-run items (``response.web_search_call.searching``…)."""

_ID_PREFIX = {
    "shell_call": "sh",
    "computer_call": "cu",
    "shell_call_output": "sho",
    "apply_patch_call": "apc",
    "local_shell_call": "lsh",
    "web_search_call": "ws",
    "file_search_call": "fs",
    "code_interpreter_call": "ci",
    "image_generation_call": "ig",
    "mcp_call": "mcp",
    "mcp_list_tools": "mcpl",
    "mcp_approval_request": "mcpr",
}


def _view(response: dict[str, Any], include: list[str]) -> dict[str, Any]:
    """``response`` as a client sees it: reasoning items carry ``encrypted_content`` only when the
    request asked for it."""
    if "reasoning.encrypted_content" in include:
        return response
    output = response.get("output") or []
    if not any(o.get("type") == "reasoning" and "encrypted_content" in o for o in output):
        return response
    stripped = [
        {k: v for k, v in o.items() if k != "encrypted_content"} if o.get("type") == "reasoning" else o
        for o in output
    ]
    return {**response, "output": stripped}


def _compact_threshold(management: Any) -> int | None:
    for entry in management if isinstance(management, list) else []:
        if isinstance(entry, dict) and entry.get("type") == "compaction":
            value = entry.get("compact_threshold")
            return int(value) if isinstance(value, int | float) else 0
    return None


def _chunks(text: str, size: int = 0) -> list[str]:
    if size:
        return [text[i : i + size] for i in range(0, len(text), size)] or [""]
    return re.findall(r"\s*\S+|\s+", text) or [""]


def harness() -> Harness:
    from agentcore.providers.openai.responses import OpenAIResponsesModel

    emulator = OpenAIResponsesEmulator()
    return Harness(
        name="openai",
        emulator=emulator,
        make_model=lambda **kw: OpenAIResponsesModel(
            MODEL, base_url=emulator.base_url + "/v1", api_key="test-key", **kw
        ),
    )
