"""OpenAI Chat Completions adapter: OpenAI itself and OpenAI-compatible servers.

``openai-chat:<model>@<base_url>`` talks to anything that serves ``POST /chat/completions``: OpenAI,
vLLM, Ollama (``/v1``), llama.cpp ``llama-server``, OpenRouter, DeepSeek, Gemini's compatibility
endpoint. Chat Completions keeps no server-side state, so every call resends the transcript; the
messages are pre-encoded once per item (see :mod:`.openai_chat_wire`) and the body is sent as raw bytes
over ``httpx2`` (:mod:`.chat_transport`: the request the SDK's low-level ``post`` would send, without
importing the SDK, which would add ~0.4 s to every start), or through the user's own
``openai.AsyncOpenAI`` client when one is passed. Neither retries: agentcore's retry policy does.

Compatibility choices (each one an option):

* ``max_tokens_param``: OpenAI wants ``max_completion_tokens`` (reasoning models reject ``max_tokens``);
  many compatible servers only read ``max_tokens``. ``"auto"`` picks the former for OpenAI hosts and the
  latter elsewhere.
* ``replay_reasoning``: servers that emit ``reasoning_content``/``reasoning`` get it echoed back only where
  they need it. ``"auto"`` echoes it on assistant messages of user turns that contain tool calls (DeepSeek's
  thinking mode answers 400 "Missing `reasoning_content` field" otherwise; gpt-oss/Qwen chat templates
  read it there too), in the field the server used, and only for reasoning this provider+model produced.
* ``thinking_toggle`` (default: on for DeepSeek's host): when the transcript holds tool-call turns without
  reasoning this model can replay (another vendor's, or another model's), send ``thinking: disabled`` so
  DeepSeek's thinking-mode rule cannot reject the request.
* ``system_role``: instructions go in a ``system`` message; ``"developer"`` for OpenAI reasoning models
  that prefer it, ``"user"`` for models that accept neither (o1-mini).
* ``structured_output``: ``"json_schema"`` (native ``response_format``) or ``"json_object"`` for servers
  without schema support (the schema then goes into the system message).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from agentcore import errors, tracing
from agentcore.model import (
    Model,
    ModelRequest,
    ModelResponse,
    ModelResponseDone,
    ModelSettings,
    ModelStreamEvent,
    OutputSchema,
    ToolSpec,
)

from .._common import dumps, json_body, server_address
from .auth import api_key_for, is_openai_host
from .chat_parse import DEFAULT_REASONING_FIELDS, ResponseBuilder
from .chat_transport import ChatTransport, HTTPTransport, SDKTransport, map_error
from .chat_transport import by_status as _by_status
from .chat_wire import MessageEncoder, ReplayReasoning

if TYPE_CHECKING:
    import openai

__all__ = ["OpenAIChatModel", "map_error"]

MaxTokensParam = Literal["auto", "max_completion_tokens", "max_tokens"]

_SYSTEMS = {  # gen_ai.provider.name by well-known host
    "api.deepseek.com": "deepseek",
    "api.groq.com": "groq",
    "api.mistral.ai": "mistral_ai",
    "api.x.ai": "x_ai",
    "api.perplexity.ai": "perplexity",
    "generativelanguage.googleapis.com": "gcp.gemini",
}
_NAME_RE = re.compile(r"[^a-zA-Z0-9_-]")
_REGISTERED_SECRETS: set[str] = set()


class OpenAIChatModel(Model):
    """A model served through the Chat Completions API (``openai-chat:`` in model strings).

    Without ``api_key``/``client``, OpenAI's own host needs ``OPENAI_API_KEY`` (building the adapter
    raises :class:`~agentcore.errors.MissingCredentialsError` without it); another ``base_url`` gets a
    placeholder key, never the user's OpenAI key (see :mod:`.auth`).
    """

    provider = "openai-chat"
    system = "openai"

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        client: openai.AsyncOpenAI | None = None,
        timeout: float | None = None,
        max_tokens_param: MaxTokensParam = "auto",
        system_role: Literal["system", "developer", "user"] = "system",
        replay_reasoning: ReplayReasoning = "auto",
        reasoning_field: str | None = None,
        structured_output: Literal["json_schema", "json_object"] = "json_schema",
        stream_usage: bool = True,
        thinking_toggle: bool | None = None,
        extra_body: dict[str, Any] | None = None,
        default_headers: dict[str, str] | None = None,
    ) -> None:
        self.model_name = model_name
        self._sdk_client: openai.AsyncOpenAI | None = None
        self._transport: ChatTransport
        if client is not None:
            sdk = SDKTransport(client, self.provider)
            self._transport = sdk
            self._sdk_client = sdk.client
        else:
            if api_key is not None and api_key not in _REGISTERED_SECRETS:
                _REGISTERED_SECRETS.add(api_key)
                tracing.add_secret(api_key)  # never in a trace
            self._api_key = api_key_for(self.provider, api_key, base_url)
            self._timeout = timeout
            self._default_headers = default_headers
            self._transport = HTTPTransport(
                provider=self.provider,
                api_key=self._api_key,
                base_url=base_url,
                timeout=timeout,
                default_headers=default_headers,
            )
        self.server_address, self.server_port = server_address(self._transport.base_url)
        host = self.server_address or ""
        self.system = _SYSTEMS.get(host, "openai")
        if max_tokens_param == "auto":
            max_tokens_param = "max_completion_tokens" if is_openai_host(host) else "max_tokens"
        self.max_tokens_param = max_tokens_param
        self.structured_output = structured_output
        self.stream_usage = stream_usage
        self.thinking_toggle = self.system == "deepseek" if thinking_toggle is None else thinking_toggle
        self.extra_body = dict(extra_body or {})
        self.reasoning_fields = (
            (reasoning_field, *DEFAULT_REASONING_FIELDS) if reasoning_field else DEFAULT_REASONING_FIELDS
        )
        self._encoder = MessageEncoder(
            self.provider, model_name, system_role=system_role, replay_reasoning=replay_reasoning
        )
        self._model_json = dumps(model_name)
        self._tools: dict[tuple[int, ...], tuple[tuple[ToolSpec, ...], bytes]] = {}
        self.last_request_bytes = 0
        """Size of the last request body (benchmarks read it)."""
        self.last_request_messages = 0

    @property
    def client(self) -> openai.AsyncOpenAI:
        """An ``openai.AsyncOpenAI`` client for this server (the one passed in; otherwise one built on
        first use with the same key, base URL, timeout and headers, and no retries)."""
        if self._sdk_client is None:
            import openai

            self._sdk_client = openai.AsyncOpenAI(
                api_key=self._api_key,
                base_url=self._transport.base_url,
                max_retries=0,
                timeout=self._timeout if self._timeout is not None else openai.NOT_GIVEN,
                default_headers=self._default_headers,
            )
        return self._sdk_client

    # ------------------------------------------------------------------ request body

    def _tools_json(self, tools: Sequence[ToolSpec]) -> bytes:
        key = tuple(map(id, tools))  # agents keep their ToolSpec objects; the entry holds them alive
        cached = self._tools.get(key)
        if cached is not None:
            return cached[1]
        specs = []
        for t in tools:
            fn: dict[str, Any] = {"name": t.name, "description": t.description, "parameters": t.parameters}
            if t.strict:
                fn["strict"] = True
            specs.append({"type": "function", "function": fn})
        data = dumps(specs)
        if len(self._tools) >= 64:
            self._tools.pop(next(iter(self._tools)))
        self._tools[key] = (tuple(tools), data)
        return data

    def _settings_fields(self, settings: ModelSettings, has_tools: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if settings.temperature is not None:
            out["temperature"] = settings.temperature
        if settings.top_p is not None:
            out["top_p"] = settings.top_p
        if settings.max_tokens is not None:
            out[self.max_tokens_param] = settings.max_tokens
        if settings.seed is not None:
            out["seed"] = settings.seed
        if settings.stop:
            out["stop"] = list(settings.stop)
        if settings.reasoning_effort is not None:
            out["reasoning_effort"] = settings.reasoning_effort
        if settings.reasoning_summary:
            tracing.note("openai_chat.setting_dropped", setting="reasoning_summary")
        if settings.background:
            tracing.note("openai_chat.setting_dropped", setting="background")
        if has_tools:
            choice = settings.tool_choice
            if choice in ("auto", "required", "none"):
                out["tool_choice"] = choice
            elif choice:
                out["tool_choice"] = {"type": "function", "function": {"name": choice}}
            if settings.parallel_tool_calls is not None:
                out["parallel_tool_calls"] = settings.parallel_tool_calls
        elif settings.tool_choice is not None or settings.parallel_tool_calls is not None:
            # The API rejects both without tools.
            tracing.note("openai_chat.setting_dropped", setting="tool_choice/parallel_tool_calls (no tools)")
        return out

    def _response_format(self, schema: OutputSchema) -> dict[str, Any]:
        if self.structured_output == "json_object":
            return {"type": "json_object"}
        name = _NAME_RE.sub("_", schema.name)[:64] or "output"
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema.schema, "strict": schema.strict},
        }

    def build_body(self, request: ModelRequest, *, stream: bool) -> bytes:
        """The request body as JSON bytes (public so tests and benchmarks can inspect it)."""
        instructions = request.instructions
        schema = request.output_schema
        if schema is not None and self.structured_output == "json_object":
            hint = (
                "Respond with a JSON object that matches this JSON Schema:\n" + dumps(schema.schema).decode()
            )
            instructions = f"{instructions}\n\n{hint}" if instructions else hint
        messages, count = self._encoder.encode(instructions, request.items)
        self.last_request_messages = count

        fields: dict[str, Any] = dict(self.extra_body)
        fields.update(self._settings_fields(request.settings, bool(request.tools)))
        if schema is not None:
            fields["response_format"] = self._response_format(schema)
        if stream:
            fields["stream"] = True
            if self.stream_usage:
                fields["stream_options"] = {"include_usage": True}
        if self.thinking_toggle and self._encoder.bare_tool_turns and "thinking" not in fields:
            # DeepSeek's thinking mode answers 400 unless every tool-call turn carries its reasoning_content;
            # a turn from another vendor (or model) has none to give, so this request runs without thinking.
            fields["thinking"] = {"type": "disabled"}
            tracing.note(
                "openai_chat.thinking_disabled", tool_turns_without_reasoning=self._encoder.bare_tool_turns
            )
        if request.settings.extra:
            fields.update(request.settings.extra)
        for reserved in ("model", "messages"):
            fields.pop(reserved, None)

        parts = [b'{"model":', self._model_json, b',"messages":', messages]
        if request.tools and "tools" not in fields:
            parts += [b',"tools":', self._tools_json(request.tools)]
        if fields:
            parts += [b",", dumps(fields)[1:-1]]
        parts.append(b"}")
        body = b"".join(parts)
        self.last_request_bytes = len(body)
        return body

    # ------------------------------------------------------------------ calls

    def _builder(self) -> ResponseBuilder:
        return ResponseBuilder(self.provider, self.model_name, reasoning_fields=self.reasoning_fields)

    async def respond(self, request: ModelRequest) -> ModelResponse:
        body = self.build_body(request, stream=False)
        raw = await self._transport.post(body)
        data = json_body(raw, self.provider)
        _raise_body_error(data, self.provider)
        builder = self._builder()
        builder.add_completion(data)
        if not data.get("choices"):
            raise errors.ServerError("the server answered without choices", provider=self.provider, body=data)
        return builder.build()

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        body = self.build_body(request, stream=True)
        builder = self._builder()
        chunks = self._transport.stream(body)  # typed errors, malformed lines included
        try:
            async for chunk in chunks:
                if not isinstance(chunk, dict):
                    continue
                for event in builder.add_chunk(chunk):
                    yield event
        finally:
            await chunks.aclose()
        if builder.finish is None:
            if builder.usage is None:  # neither a finish_reason nor the closing usage chunk arrived
                raise errors.ModelStreamError(
                    "the stream ended before a finish_reason (connection cut?)", provider=self.provider
                )
            builder.finish = "tool_calls" if builder.calls else "stop"  # lenient servers omit it
        yield ModelResponseDone(builder.build())

    async def aclose(self) -> None:
        await self._transport.aclose()
        if self._sdk_client is not None and not isinstance(self._transport, SDKTransport):
            await self._sdk_client.close()


# --------------------------------------------------------------------------- helpers


def _raise_body_error(data: dict[str, Any], provider: str) -> None:
    """Some gateways (OpenRouter) answer 200 with an ``error`` object instead of choices."""
    err = data.get("error")
    if not err or data.get("choices"):
        return
    code = err.get("code") if isinstance(err, dict) else None
    message = (err.get("message") if isinstance(err, dict) else None) or str(err)
    status = code if isinstance(code, int) else 500
    raise _by_status(status, message, provider=provider, body=err, retry_after=None, kind="")
