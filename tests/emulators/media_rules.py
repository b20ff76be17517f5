"""Strict checks of images in tool results, shared by the emulators (issue 16): each returns the problem
as text (the emulator raises its own vendor error with it) or ``None``.

Grounded in the vendors' documented shapes (SDK types of the installed clients, docs):

* OpenAI Responses: ``function_call_output.output`` is a string or a list of ``input_text`` {text},
  ``input_image`` {image_url | file_id, detail} and ``input_file`` parts; ``computer_call_output.output``
  is ``{type: "computer_screenshot", image_url | file_id}``.
* OpenAI Chat: a ``tool`` message carries text only; images go in a ``user`` message as ``image_url``
  parts ``{type, image_url: {url, detail?}}``.
* Anthropic: ``tool_result.content`` is a string or a list of ``text`` / ``image`` / ``document`` blocks;
  an image's ``source`` is ``{type: base64, media_type, data}`` or ``{type: url, url}``.
* Gemini: ``functionResponse.parts`` holds ``inlineData`` {mimeType, data} (or ``fileData``) parts only
  (multimodal function responses, Gemini 3 models).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_DATA_URL = re.compile(r"^data:(image/[a-z]+);base64,([A-Za-z0-9+/=]+)$")


def _b64_problem(data: Any, where: str) -> str | None:
    if not isinstance(data, str) or not data:
        return f"{where}: image data must be a non-empty base64 string"
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return f"{where}: image data is not valid base64"
    return None


def image_url_problem(url: Any, where: str) -> str | None:
    """An image URL: http(s) or a base64 ``data:image/...`` URL."""
    if not isinstance(url, str):
        return f"{where}: expected a string URL"
    if url.startswith(("https://", "http://")):
        return None
    m = _DATA_URL.match(url)
    if m is None:
        return f"{where}: Invalid image URL: expected a fully qualified URL or a base64 data URL"
    if m.group(1) not in IMAGE_TYPES:
        return f"{where}: unsupported image type {m.group(1)}"
    return _b64_problem(m.group(2), where)


def responses_output_problem(output: Any, where: str) -> str | None:
    """``function_call_output.output`` of the Responses API."""
    if isinstance(output, str):
        return None
    if not isinstance(output, list):
        return f"{where}: expected a string or an array of content parts"
    for j, part in enumerate(output):
        at = f"{where}[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "input_text":
            if set(part) - {"type", "text"} or not isinstance(part.get("text"), str):
                return f"{at}: input_text takes exactly a string 'text'"
        elif kind == "input_image":
            extra = set(part) - {"type", "image_url", "file_id", "detail"}
            if extra:
                return f"{at}: unknown parameter '{sorted(extra)[0]}'"
            if part.get("detail") not in (None, "low", "high", "auto", "original"):
                return f"{at}.detail: invalid value"
            if part.get("file_id") is None:
                problem = image_url_problem(part.get("image_url"), f"{at}.image_url")
                if problem:
                    return problem
        elif kind == "input_file":
            if set(part) - {"type", "file_data", "file_id", "file_url", "filename", "detail"}:
                return f"{at}: unknown input_file parameter"
        else:
            return f"{at}.type: invalid value '{kind}' (input_text, input_image, input_file)"
    return None


def screenshot_output_problem(output: Any, where: str) -> str | None:
    """``computer_call_output.output`` of the Responses API."""
    if not isinstance(output, dict) or output.get("type") != "computer_screenshot":
        return f"{where}: expected {{'type': 'computer_screenshot', 'image_url': ...}}"
    extra = set(output) - {"type", "image_url", "file_id"}
    if extra:
        return f"{where}: unknown parameter '{sorted(extra)[0]}'"
    if output.get("file_id") is None:
        return image_url_problem(output.get("image_url"), f"{where}.image_url")
    return None


def chat_image_part_problem(part: dict[str, Any], where: str) -> str | None:
    """A Chat Completions ``image_url`` content part (user messages only)."""
    if set(part) - {"type", "image_url"}:
        return f"{where}: unknown parameter"
    inner = part.get("image_url")
    if not isinstance(inner, dict) or set(inner) - {"url", "detail"}:
        return f"{where}.image_url: expected an object with 'url' (and 'detail')"
    if inner.get("detail") not in (None, "low", "high", "auto"):
        return f"{where}.image_url.detail: invalid value"
    return image_url_problem(inner.get("url"), f"{where}.image_url.url")


def anthropic_result_content_problem(content: Any, where: str) -> str | None:
    """``tool_result.content``: a string or text / image / document blocks."""
    if content is None or isinstance(content, str):
        return None
    if not isinstance(content, list):
        return f"{where}: Input should be a valid list"
    for j, block in enumerate(content):
        at = f"{where}.{j}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            if not isinstance(block.get("text"), str) or not block["text"]:
                return f"{at}.text: text content blocks must be non-empty"
        elif kind == "image":
            source = block.get("source")
            if set(block) - {"type", "source", "cache_control"} or not isinstance(source, dict):
                return f"{at}: image blocks take a 'source'"
            if source.get("type") == "base64":
                if set(source) != {"type", "media_type", "data"}:
                    return f"{at}.source: base64 sources take exactly media_type and data"
                if source.get("media_type") not in IMAGE_TYPES:
                    return f"{at}.source.media_type: Input should be {', '.join(IMAGE_TYPES)}"
                problem = _b64_problem(source.get("data"), f"{at}.source.data")
                if problem:
                    return problem
            elif source.get("type") == "url":
                if not isinstance(source.get("url"), str):
                    return f"{at}.source.url: Field required"
            else:
                return f"{at}.source.type: Input tag '{source.get('type')}' does not match 'base64', 'url'"
        elif kind not in ("document", "search_result"):
            return (
                f"{at}.type: Input tag '{kind}' does not match 'text', 'image', 'document', 'search_result'"
            )
    return None


def gemini_response_parts_problem(parts: Any, where: str, model: str) -> str | None:
    """``functionResponse.parts``: only Gemini 3 models take them; ``inlineData`` / ``fileData`` only."""
    if parts is None:
        return None
    version = re.search(r"gemini-(\d+)", model)
    if "computer-use" not in model and (version is None or int(version.group(1)) < 3):
        return f"{where}: multimodal function responses are not supported by model {model}"
    if not isinstance(parts, list):
        return f"{where}: expected a list of parts"
    for j, part in enumerate(parts):
        at = f"{where}[{j}]"
        if not isinstance(part, dict) or len(part) != 1:
            return f"{at}: exactly one of inlineData, fileData"
        ((key, value),) = part.items()
        if key in ("inlineData", "inline_data"):
            if not isinstance(value, dict):
                return f"{at}.inlineData: expected an object"
            mime = value.get("mimeType", value.get("mime_type"))
            if mime not in IMAGE_TYPES and mime not in ("application/pdf", "text/plain"):
                return f"{at}.inlineData.mimeType: unsupported {mime}"
            problem = _b64_problem(value.get("data"), f"{at}.inlineData.data")
            if problem:
                return problem
        elif key not in ("fileData", "file_data"):
            return f'{at}: Invalid JSON payload received. Unknown name "{key}" in a function response part'
    return None
