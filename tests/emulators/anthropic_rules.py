"""What the Anthropic Messages API (version 2026-10-21) rejects, as the emulator checks it.

Allowed fields follow the installed SDK's request types (``anthropic/types/*_param.py``, 2.14.0).

Each check raises :class:`Rejected` with the status, error type and a message worded like the real
API's (``messages.1.content.0: ...``). Modelled on the SDK's request types, the research notes
(WIRE.md §3) and the recorded exchanges in ``../shared/cassettes/anthropic``.
"""

from __future__ import annotations

import collections.abc
import hashlib
import json
import re
import types
import typing
from functools import cache
from typing import Any, Literal, Required, Union, get_args, get_origin

import anthropic.types as sdk
import anthropic.types.beta as sdk_beta
from typing_extensions import is_typeddict

from tests.emulators.anthropic_tool_types import tool_entry_problem
from tests.emulators.media_rules import anthropic_result_content_problem

TOOL_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
NEW_VERSION = "2026-10-21"
SAMPLING = ("temperature", "top_p", "top_k")
TOP_LEVEL = {
    "model",
    "max_tokens",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "thinking",
    "output_config",
    "stop_sequences",
    "metadata",
    "service_tier",
    "speed",
    "container",
    "cache_control",
    "inference_geo",
    "diagnostics",
    "stream",
    *SAMPLING,
}
BLOCK_KEYS: dict[str, set[str]] = {
    "text": {"type", "text", "cache_control", "citations"},
    "image": {"type", "source", "cache_control", "transformations"},
    "document": {"type", "source", "cache_control", "title", "context", "citations"},
    "thinking": {"type", "thinking", "signature"},
    "redacted_thinking": {"type", "data"},
    "tool_use": {"type", "id", "name", "input", "cache_control", "caller", "toolset_name"},
    "tool_result": {"type", "tool_use_id", "content", "is_error", "cache_control", "toolset_name"},
}
USER_ONLY = {"tool_result", "image", "document", "search_result"}
ASSISTANT_ONLY = {"thinking", "redacted_thinking", "tool_use"}
SERVER_TOOL_ID = re.compile(r"^srvtoolu_[a-zA-Z0-9_]+$")
SERVER_RESULTS = {
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
}
TYPED_BLOCKS: dict[str, Any] = {
    "server_tool_use": sdk.ServerToolUseBlockParam,
    "web_search_tool_result": sdk.WebSearchToolResultBlockParam,
    "web_fetch_tool_result": sdk.WebFetchToolResultBlockParam,
    "code_execution_tool_result": sdk.CodeExecutionToolResultBlockParam,
    "bash_code_execution_tool_result": sdk.BashCodeExecutionToolResultBlockParam,
    "text_editor_code_execution_tool_result": sdk.TextEditorCodeExecutionToolResultBlockParam,
    "tool_search_tool_result": sdk.ToolSearchToolResultBlockParam,
    "container_upload": sdk.ContainerUploadBlockParam,
    "search_result": sdk.SearchResultBlockParam,
}
"""Request blocks checked field by field against the installed SDK's param types (unknown keys,
missing required keys, wrong literals and nested shapes are rejected, as the API's schema does)."""
BETA_BLOCKS: dict[str, tuple[Any, str]] = {
    "compaction": (sdk_beta.BetaCompactionBlockParam, "compact-"),
    "mcp_tool_use": (sdk_beta.BetaMCPToolUseBlockParam, "mcp-client-"),
    "mcp_tool_result": (sdk_beta.BetaRequestMCPToolResultBlockParam, "mcp-client-"),
}
"""Beta request blocks: accepted only with an ``anthropic-beta`` of that family, checked like the above."""
SERVER_SIDE = {"server_tool_use", *SERVER_RESULTS, "compaction", "mcp_tool_use", "mcp_tool_result"}
"""Blocks only the model (the assistant turn) produces."""
TOOL_KEYS = {
    "name",
    "description",
    "input_schema",
    "strict",
    "cache_control",
    "type",
    "input_examples",
    "allowed_callers",
    "defer_loading",
    "eager_input_streaming",
}


class Rejected(Exception):
    def __init__(self, message: str, *, status: int = 400, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message


def _extra(where: str, keys: set[str]) -> None:
    if keys:
        raise Rejected(f"{where}{sorted(keys)[0]}: Extra inputs are not permitted")


def check_cache_control(where: str, value: Any) -> int:
    if value is None:
        return 0
    if not isinstance(value, dict) or value.get("type") != "ephemeral":
        raise Rejected(f"{where}cache_control.type: Input should be 'ephemeral'")
    _extra(f"{where}cache_control.", set(value) - {"type", "ttl"})
    if value.get("ttl", "5m") not in ("5m", "1h"):
        raise Rejected(f"{where}cache_control.ttl: Input should be '5m' or '1h'")
    return 1


BETA_TOP_LEVEL = {"context_management": ("context-management-", "compact-"), "mcp_servers": ("mcp-client-",)}
"""Beta request fields and the ``anthropic-beta`` families that unlock them."""


def check_top_level(body: Any, version: str, betas: frozenset[str] = frozenset()) -> None:
    if not isinstance(body, dict):
        raise Rejected("request body must be a JSON object")
    for key in SAMPLING:
        if key in body and version >= NEW_VERSION:
            raise Rejected(f"{key}: Extra inputs are not permitted")
    unlocked = {k for k, fams in BETA_TOP_LEVEL.items() if any(b.startswith(fams) for b in betas)}
    _extra("", set(body) - TOP_LEVEL - unlocked)
    for key in unlocked & set(body):
        if not isinstance(body[key], dict | list):
            raise Rejected(f"{key}: Input should be a valid object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise Rejected("model: Field required")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        raise Rejected("max_tokens: Field required")
    if max_tokens < 1:
        raise Rejected("max_tokens: Input should be greater than or equal to 1")
    if not isinstance(body.get("messages"), list):
        raise Rejected("messages: Field required")
    thinking = body.get("thinking")
    if thinking is not None:
        kind = thinking.get("type") if isinstance(thinking, dict) else None
        if kind not in ("enabled", "adaptive", "disabled", "between_tools"):
            raise Rejected(
                "thinking.type: Input should be 'enabled', 'adaptive', 'disabled' or 'between_tools'"
            )
        if kind == "enabled":
            budget = thinking.get("budget_tokens")
            if not isinstance(budget, int) or budget < 1024:
                raise Rejected(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
                )
            if budget >= max_tokens:
                raise Rejected("`max_tokens` must be greater than `thinking.budget_tokens`.")
    choice = body.get("tool_choice")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled" and isinstance(choice, dict):
        if choice.get("type") in ("any", "tool"):
            raise Rejected("Thinking may not be enabled when tool_choice forces tool use.")
    output_config = body.get("output_config")
    if output_config is not None:
        if not isinstance(output_config, dict):
            raise Rejected("output_config: Input should be an object")
        _extra("output_config.", set(output_config) - {"effort", "format"})
        if output_config.get("effort") not in (None, "low", "medium", "high", "xhigh", "max"):
            raise Rejected("output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'")
        fmt = output_config.get("format")
        if fmt is not None and (
            not isinstance(fmt, dict)
            or fmt.get("type") != "json_schema"
            or not isinstance(fmt.get("schema"), dict)
        ):
            raise Rejected("output_config.format: expected {type: 'json_schema', schema: {...}}")
        if fmt is not None:
            check_closed_schema("output_config.format.schema", fmt["schema"])
    stops = body.get("stop_sequences")
    if stops is not None and (not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)):
        raise Rejected("stop_sequences: Input should be a valid list of strings")


def check_tools(body: dict[str, Any]) -> tuple[set[str], int]:
    """Tool definitions and tool_choice. Returns the tool names and the number of breakpoints used."""
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise Rejected("tools: Input should be a valid list")
    names: set[str] = set()
    marks = 0
    for n, tool in enumerate(tools):
        where = f"tools.{n}."
        if not isinstance(tool, dict):
            raise Rejected(f"tools.{n}: Input should be an object")
        if tool.get("type") not in (None, "custom"):  # bash_20250124, web_search_20250305…: closed shapes
            problem = tool_entry_problem(where, tool)
            if problem is not None:
                raise Rejected(problem)
            label = tool.get("name", tool.get("mcp_server_name"))
            if label in names:
                raise Rejected("tools: Tool names must be unique.")
            names.add(str(label))
            marks += check_cache_control(where, tool.get("cache_control"))
            continue
        _extra(where, set(tool) - TOOL_KEYS)
        name = tool.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise Rejected(f"{where}custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
        if name in names:
            raise Rejected("tools: Tool names must be unique.")
        names.add(name)
        schema = tool.get("input_schema")
        if tool.get("type") in (None, "custom"):
            if not isinstance(schema, dict) or schema.get("type") != "object":
                raise Rejected(f"{where}custom.input_schema.type: Input should be 'object'")
        if tool.get("strict"):
            check_closed_schema(f"{where}custom.input_schema", schema)
        marks += check_cache_control(where, tool.get("cache_control"))
    choice = body.get("tool_choice")
    if choice is not None:
        kind = choice.get("type") if isinstance(choice, dict) else None
        if kind not in ("auto", "any", "tool", "none"):
            raise Rejected("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
        allowed = {"type", "disable_parallel_tool_use"} | ({"name"} if kind == "tool" else set())
        if kind == "none":
            allowed = {"type"}
        _extra(f"tool_choice.{kind}.", set(choice) - allowed)
        if kind == "tool" and choice.get("name") not in names:
            raise Rejected(f"tool_choice.tool.name: Tool '{choice.get('name')}' not found in provided tools")
    return names, marks


def check_system(body: dict[str, Any]) -> int:
    system = body.get("system")
    if system is None or isinstance(system, str):
        return 0
    if not isinstance(system, list):
        raise Rejected("system: Input should be a valid string or list of text blocks")
    marks = 0
    for n, block in enumerate(system):
        if (
            not isinstance(block, dict)
            or block.get("type") != "text"
            or not isinstance(block.get("text"), str)
        ):
            raise Rejected(f"system.{n}: Input should be a text block")
        _extra(f"system.{n}.", set(block) - BLOCK_KEYS["text"])
        if not block["text"]:
            raise Rejected(f"system.{n}: text content blocks must be non-empty")
        marks += check_cache_control(f"system.{n}.", block.get("cache_control"))
    return marks


def check_messages(body: dict[str, Any], version: str, betas: frozenset[str] = frozenset()) -> int:
    """Shapes, roles, block types, tool pairing (client tools across messages, server tools within
    the assistant turn). ``betas``: the request's ``anthropic-beta`` values. Returns the number of
    breakpoints used."""
    messages = body["messages"]
    if not messages:
        raise Rejected("messages: at least one message is required")
    marks = 0
    prev_role: str | None = None
    pending: list[str] = []
    server_pending: set[str] = set()
    from tests.emulators.anthropic_server_tools import check_server_pairing  # it imports this module

    for n, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise Rejected(f"messages.{n}: Input should be an object")
        _extra(f"messages.{n}.", set(msg) - {"role", "content"})
        role = msg.get("role")
        if role not in ("user", "assistant"):
            raise Rejected(f"messages.{n}.role: Input should be 'user' or 'assistant'")
        if role == prev_role:
            raise Rejected(
                f"messages.{n}: roles must alternate between 'user' and 'assistant'; "
                f"found two consecutive '{role}' messages"
            )
        content = msg.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list) or not blocks:
            raise Rejected(f"messages.{n}: all messages must have non-empty content")
        results: list[str] = []
        seen_other = False
        tool_uses: list[str] = []
        for m, block in enumerate(blocks):
            where = f"messages.{n}.content.{m}."
            marks += check_block(where, block, role, version, betas)
            kind = block["type"]
            if kind == "tool_result":
                if seen_other:
                    raise Rejected(
                        f"messages.{n}: `tool_result` blocks must come first in the user message content, "
                        "before any other content"
                    )
                results.append(block["tool_use_id"])
            else:
                seen_other = True
            if kind == "tool_use":
                if block["id"] in tool_uses:
                    raise Rejected(f"messages.{n}.content.{m}: `tool_use` ids must be unique")
                tool_uses.append(block["id"])
        if pending:
            missing = [t for t in pending if t not in results]
            if role != "user" or missing:
                raise Rejected(
                    f"messages.{n}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                    f"{', '.join(missing or pending)}. Each `tool_use` block must have a corresponding "
                    "`tool_result` block in the next message."
                )
        for m, rid in enumerate(results):
            if rid not in pending:
                raise Rejected(
                    f"messages.{n}.content.{m}: unexpected `tool_use_id` found in `tool_result` blocks: {rid}. "
                    "Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                )
            if results.count(rid) > 1:
                raise Rejected(f"messages.{n}: duplicate `tool_result` blocks for tool_use_id {rid}")
        if role == "assistant":
            server_pending = check_server_pairing(
                n, blocks, last=n == len(messages) - 1, pending=server_pending
            )
        pending = tool_uses
        prev_role = role
    if pending:
        raise Rejected(
            f"messages.{len(messages) - 1}: `tool_use` ids were found without `tool_result` blocks immediately "
            f"after: {', '.join(pending)}. Each `tool_use` block must have a corresponding `tool_result` block "
            "in the next message."
        )
    return marks


@cache
def _hints(td: Any) -> dict[str, Any]:
    return typing.get_type_hints(td)


@cache
def _required(td: Any) -> frozenset[str]:
    """Keys marked ``Required[...]`` (the SDK's string annotations hide them from ``__required_keys__``)."""
    extras = typing.get_type_hints(td, include_extras=True)
    marked = {k for k, v in extras.items() if get_origin(v) is Required}
    return frozenset(marked | set(getattr(td, "__required_keys__", ())))


_SEQUENCES = (list, collections.abc.Iterable, collections.abc.Sequence)


def typed_problem(value: Any, tp: Any, where: str) -> str | None:
    """The first way ``value`` does not fit the SDK param type ``tp`` (TypedDicts closed: no key
    they do not declare), worded as the API's schema errors are; ``None`` when it fits. Written
    out instead of pydantic because pydantic validates ``Iterable`` fields lazily (never, here)."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any or tp is object:
        return None
    if tp is type(None):
        return None if value is None else f"{where}: Input should be None"
    if origin is Union or origin is types.UnionType:
        problems = [typed_problem(value, arg, where) for arg in args]
        if any(p is None for p in problems):
            return None
        tag = value.get("type") if isinstance(value, dict) else None
        for arg, problem in zip(args, problems, strict=True):  # the member the block says it is
            if is_typeddict(arg) and tag in get_args(_hints(arg).get("type", Any)):
                return problem
        return next((p for p in problems if p is not None), None)
    if origin is Literal:
        if value in args and type(value) in {type(a) for a in args}:
            return None
        return f"{where}: Input should be " + " or ".join(repr(a) for a in args)
    if is_typeddict(tp):
        if not isinstance(value, dict):
            return f"{where}: Input should be a valid dictionary"
        hints = _hints(tp)
        for key in value:
            if key not in hints:
                return f"{where}.{key}: Extra inputs are not permitted"
        for key in sorted(_required(tp)):
            if key not in value:
                return f"{where}.{key}: Field required"
        for key, item in value.items():
            problem = typed_problem(item, hints[key], f"{where}.{key}")
            if problem is not None:
                return problem
        return None
    if origin in _SEQUENCES or tp in _SEQUENCES:
        if not isinstance(value, list):
            return f"{where}: Input should be a valid list"
        inner = args[0] if args else Any
        for n, item in enumerate(value):
            problem = typed_problem(item, inner, f"{where}.{n}")
            if problem is not None:
                return problem
        return None
    if origin in (dict, collections.abc.Mapping) or tp is dict:
        return None if isinstance(value, dict) else f"{where}: Input should be a valid dictionary"
    if tp is str:
        return None if isinstance(value, str) else f"{where}: Input should be a valid string"
    if tp is bool:
        return None if isinstance(value, bool) else f"{where}: Input should be a valid boolean"
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{where}: Input should be a valid integer"
    if tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else f"{where}: Input should be a valid number"
    return None  # a type these blocks do not use: not checked


def check_typed_block(where: str, kind: str, block: dict[str, Any], param: Any) -> None:
    """``block`` against the SDK's param type (its first problem, as the API's schema words it)."""
    problem = typed_problem(block, param, f"{where}{kind}")
    if problem is not None:
        raise Rejected(problem)


def check_block(where: str, block: Any, role: str, version: str, betas: frozenset[str] = frozenset()) -> int:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        raise Rejected(f"{where}type: Field required")
    kind = block["type"]
    if kind in TYPED_BLOCKS or kind in BETA_BLOCKS:
        return check_server_block(where, block, role, betas)
    if kind not in BLOCK_KEYS:
        raise Rejected(
            f"{where}type: Input tag '{kind}' found using 'type' does not match any of the expected tags"
        )
    _extra(f"{where}{kind}.", set(block) - BLOCK_KEYS[kind])
    if role == "assistant" and kind in USER_ONLY:
        if kind == "document" and version >= NEW_VERSION:
            raise Rejected(f"{where}document: `document` blocks are not allowed in `assistant` messages")
        raise Rejected(f"{where}{kind}: `{kind}` blocks can only be in `user` messages")
    if role == "user" and kind in ASSISTANT_ONLY:
        raise Rejected(f"{where}{kind}: `{kind}` blocks can only be in `assistant` messages")
    if kind == "text":
        if not isinstance(block.get("text"), str) or not block["text"]:
            raise Rejected(f"{where[:-1]}: text content blocks must be non-empty")
        if role == "user" and block.get("citations") and version >= NEW_VERSION:
            raise Rejected(f"{where}text.citations: citations are not allowed on `user` text blocks")
    elif kind == "tool_use":
        if not isinstance(block.get("id"), str) or not TOOL_ID.match(block["id"]):
            raise Rejected(f"{where}tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'")
        if not isinstance(block.get("name"), str) or not block["name"]:
            raise Rejected(f"{where}tool_use.name: Field required")
        if not isinstance(block.get("input"), dict):
            raise Rejected(f"{where}tool_use.input: Input should be a valid dictionary")
    elif kind == "tool_result":
        if not isinstance(block.get("tool_use_id"), str) or not TOOL_ID.match(block["tool_use_id"]):
            raise Rejected(f"{where}tool_result.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'")
        content = block.get("content")
        if content is not None and not isinstance(content, str):
            if not isinstance(content, list):
                raise Rejected(f"{where}tool_result.content: Input should be a valid string or list")
            for i, part in enumerate(content):
                if not isinstance(part, dict) or part.get("type") not in ("text", "image", "document"):
                    raise Rejected(f"{where}tool_result.content.{i}: unsupported block type")
            problem = anthropic_result_content_problem(content, f"{where}tool_result.content")
            if problem:
                raise Rejected(problem)
        if "is_error" in block and not isinstance(block["is_error"], bool):
            raise Rejected(f"{where}tool_result.is_error: Input should be a valid boolean")
    elif kind == "thinking":
        if not isinstance(block.get("thinking"), str) or not isinstance(block.get("signature"), str):
            raise Rejected(f"{where}thinking: `thinking` and `signature` are required")
    elif kind == "redacted_thinking":
        if not isinstance(block.get("data"), str):
            raise Rejected(f"{where}redacted_thinking.data: Field required")
    elif kind in ("image", "document"):
        source = block.get("source")
        if not isinstance(source, dict) or source.get("type") not in (
            "base64",
            "url",
            "text",
            "content",
            "file",
        ):
            raise Rejected(f"{where}{kind}.source: Input should be a valid source")
    return check_cache_control(where, block.get("cache_control"))


def check_server_block(where: str, block: dict[str, Any], role: str, betas: frozenset[str]) -> int:
    kind = block["type"]
    if kind in BETA_BLOCKS:
        param, family = BETA_BLOCKS[kind]
        if not any(b.startswith(family) for b in betas):
            raise Rejected(
                f"{where}type: Input tag '{kind}' found using 'type' does not match any of the expected "
                f"tags (it needs the `anthropic-beta: {family}…` header)"
            )
    else:
        param = TYPED_BLOCKS[kind]
    check_typed_block(where, kind, block, param)
    if role == "user" and kind in SERVER_SIDE:
        raise Rejected(f"{where}{kind}: `{kind}` blocks can only be in `assistant` messages")
    if role == "assistant" and kind in USER_ONLY:
        raise Rejected(f"{where}{kind}: `{kind}` blocks can only be in `user` messages")
    if kind == "server_tool_use" and not SERVER_TOOL_ID.match(block["id"]):
        raise Rejected(f"{where}server_tool_use.id: String should match pattern '^srvtoolu_[a-zA-Z0-9_]+$'")
    if kind in SERVER_RESULTS and not SERVER_TOOL_ID.match(block["tool_use_id"]):
        raise Rejected(f"{where}{kind}.tool_use_id: String should match pattern '^srvtoolu_[a-zA-Z0-9_]+$'")
    if kind in ("mcp_tool_use", "mcp_tool_result"):
        key = "id" if kind == "mcp_tool_use" else "tool_use_id"
        if not TOOL_ID.match(block[key]):
            raise Rejected(f"{where}{kind}.{key}: String should match pattern '^[a-zA-Z0-9_-]+$'")
    if kind == "compaction" and block.get("content") == "":
        raise Rejected(f"{where}compaction.content: empty string content is not allowed")
    return check_cache_control(where, block.get("cache_control"))


# --------------------------------------------------------------------------- prefix binding


def _canon(value: Any) -> bytes:
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "cache_control"}
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


class PrefixHasher:
    """Hashes system + tools + messages block by block; ``digest()`` at any point names the prefix so far.

    ``cache_control`` markers are not part of a prefix (moving a breakpoint changes nothing).
    """

    def __init__(self, body: dict[str, Any]) -> None:
        self._h = hashlib.sha256()
        self.bytes = 0
        system = body.get("system")
        if isinstance(system, str):
            system = [{"type": "text", "text": system}]
        self.feed(b"S", _canon([_canon_block(b) for b in system or []]))
        self.feed(b"T", _canon([_canon_block(t) for t in body.get("tools") or []]))

    def feed(self, tag: bytes, data: bytes) -> None:
        self._h.update(tag + len(data).to_bytes(8, "big") + data)
        self.bytes += len(data)

    def role(self, role: str) -> None:
        self.feed(b"R", role.encode())

    def block(self, block: dict[str, Any]) -> None:
        self.feed(b"B", _canon(block))

    def digest(self) -> str:
        return self._h.copy().hexdigest()


def _canon_block(block: Any) -> Any:
    return {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block


def check_thinking_turn(body: dict[str, Any]) -> None:
    """With extended thinking on, a tool loop in flight must continue from an assistant turn that
    starts with its thinking block (the API cannot resume thinking mid-loop otherwise)."""
    thinking = body.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
        return
    messages = body["messages"]
    last = messages[-1]
    content = last["content"] if isinstance(last["content"], list) else []
    if last["role"] != "user" or not content or content[0].get("type") != "tool_result":
        return
    n = len(messages) - 2
    blocks = messages[n]["content"] if n >= 0 and isinstance(messages[n]["content"], list) else []
    # a compaction block stands for what came before it: the turn proper starts after it
    skip = next(
        (i for i, b in enumerate(blocks) if b.get("type") != "compaction" or b.get("content") is None), 0
    )
    if blocks[skip:] and blocks[skip].get("type") not in ("thinking", "redacted_thinking"):
        raise Rejected(
            f"messages.{n}.content.{skip}.type: Expected `thinking` or `redacted_thinking`, but found "
            f"`{blocks[skip].get('type')}`. When `thinking` is enabled, a final `assistant` message must start "
            "with a thinking block (preceding the lastmost set of `tool_use` and `tool_result` blocks). "
            "We recommend you include thinking blocks from previous turns. To avoid this requirement, "
            "disable `thinking`."
        )


def check_closed_schema(where: str, schema: Any) -> None:
    """Structured outputs (``output_config.format`` and ``strict`` tools) need every object closed."""
    if isinstance(schema, list):
        for n, sub in enumerate(schema):
            check_closed_schema(f"{where}.{n}", sub)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "object" or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            raise Rejected(
                f"{where}: For 'object' type, 'additionalProperties' must be explicitly set to false"
            )
    for key in ("properties", "$defs", "definitions"):
        for name, sub in (schema.get(key) or {}).items():
            check_closed_schema(f"{where}.{key}.{name}", sub)
    for key in ("items", "anyOf", "allOf", "oneOf"):
        if key in schema:
            check_closed_schema(f"{where}.{key}", schema[key])
