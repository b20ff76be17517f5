"""Gemini: images in function responses, and the computer-use tool (issue 16).

**Images in tool results.** Gemini 3 models (and the computer-use models) take multimodal function
responses: ``functionResponse.parts`` with ``inlineData`` (generateContent) or a ``function_result``
whose ``result`` is a list of text and image contents (Interactions). Older models get the image as a
user part right after the function response.

**Computer use.** ``{"computerUse": {"environment": ..., "excludedPredefinedFunctions": [...]}}``
(Interactions: ``{"type": "computer_use", ...}``). The model calls predefined functions with
coordinates normalised to 0-999; each becomes the neutral ``computer`` call (coordinates mapped to
the pixels of the screenshot the model sees) and is answered by a function response that carries the
screenshot. The browser-only functions (``open_web_browser``, ``search``, ``navigate``) are excluded;
``go_back`` / ``go_forward`` are Alt+Left / Alt+Right. A call carrying ``safety_decision``
``require_confirmation`` pauses the run for a human (``safety_checks`` in the neutral arguments) and
its response says ``safety_acknowledgement: "true"`` only once the call ran after that decision.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agentcore.messages import ImagePart, Item, Part, ProviderState, TextPart, ToolCall, ToolResult
from agentcore.model import ModelRequest, ModelResponse

from .._computer import computer_view, neutral_call
from .common import safe_call_id

KIND = "computer_call"
"""``ProviderState.kind`` on a neutral ``computer`` call that came from a predefined function."""
EXCLUDED = ("open_web_browser", "search", "navigate")
"""Predefined functions a desktop has no equivalent for: not offered to the model."""
PREDEFINED = frozenset(
    {
        "open_web_browser",
        "wait_5_seconds",
        "go_back",
        "go_forward",
        "search",
        "navigate",
        "click_at",
        "hover_at",
        "type_text_at",
        "key_combination",
        "scroll_document",
        "scroll_at",
        "drag_and_drop",
    }
)
_VERSION = re.compile(r"gemini-(\d+)(?:\.(\d+))?")
SCROLL_CLICKS = 5
"""Wheel clicks of ``scroll_document`` (one screenful, roughly)."""


def _version(model: str) -> tuple[int, int]:
    m = _VERSION.search(model.lower())
    return (int(m.group(1)), int(m.group(2) or 0)) if m else (0, 0)


def computer_model(model: str) -> bool:
    """Whether ``model`` takes the computer-use tool: the ``*computer-use*`` models, Gemini 3 and later."""
    return "computer-use" in model.lower() or _version(model) >= (3, 0)


def multimodal_responses(model: str) -> bool:
    """Whether ``model`` takes images inside a function response."""
    return computer_model(model)


def environment(model: str) -> str:
    """``desktop`` for the models that operate desktops (Gemini 3.5 and later), else ``browser``."""
    return "desktop" if _version(model) >= (3, 5) else "browser"


def tool_entry(model: str) -> dict[str, Any]:
    """The generateContent tool entry."""
    env = "ENVIRONMENT_" + environment(model).upper()
    return {"computerUse": {"environment": env, "excludedPredefinedFunctions": list(EXCLUDED)}}


def interactions_tool(model: str) -> dict[str, Any]:
    """The Interactions tool entry."""
    return {
        "type": "computer_use",
        "environment": environment(model),
        "excluded_predefined_functions": list(EXCLUDED),
    }


def _px(value: Any, size: int) -> int:
    """A 0-999 normalised coordinate → a pixel of a ``size``-pixel image side."""
    try:
        norm = float(value)
    except (TypeError, ValueError):
        return -1  # the neutral tool reports the bad coordinate to the model
    return min(max(int(norm * size / 1000), 0), size - 1)


def _direction(name: str, args: dict[str, Any], clicks: int) -> dict[str, int]:
    direction = str(args.get("direction", "down")).lower()
    return {
        "up": {"dy": -clicks},
        "down": {"dy": clicks},
        "left": {"dx": -clicks},
        "right": {"dx": clicks},
    }.get(direction, {"dy": clicks})


def neutral_action(name: str, args: dict[str, Any], view: tuple[int, int]) -> dict[str, Any]:
    """One predefined function call → a neutral action (an unknown one keeps its name: the tool then
    answers the model with an error naming the actions it has)."""
    w, h = view

    def point(xk: str = "x", yk: str = "y") -> dict[str, int]:
        return {"x": _px(args.get(xk), w), "y": _px(args.get(yk), h)}

    if name == "click_at":
        return {"action": "click", **point()}
    if name == "hover_at":
        return {"action": "move", **point()}
    if name == "type_text_at":
        return {
            "action": "type",
            "text": str(args.get("text", "")),
            **point(),
            "clear": bool(args.get("clear_before_typing", True)),
            "enter": bool(args.get("press_enter", True)),
        }
    if name == "key_combination":
        return {"action": "key", "keys": str(args.get("keys", ""))}
    if name == "scroll_document":
        return {"action": "scroll", "x": w // 2, "y": h // 2, **_direction(name, args, SCROLL_CLICKS)}
    if name == "scroll_at":
        magnitude = args.get("magnitude", 800)
        clicks = max(1, min(50, round(float(magnitude) / 100))) if isinstance(magnitude, int | float) else 8
        return {"action": "scroll", **point(), **_direction(name, args, clicks)}
    if name == "drag_and_drop":
        start, end = point(), point("destination_x", "destination_y")
        return {"action": "drag", "path": [[start["x"], start["y"]], [end["x"], end["y"]]]}
    if name == "wait_5_seconds":
        return {"action": "wait", "seconds": 5}
    if name == "go_back":
        return {"action": "key", "keys": "alt+Left"}
    if name == "go_forward":
        return {"action": "key", "keys": "alt+Right"}
    return {"action": name}


def to_neutral(
    call_id: str, name: str, args: dict[str, Any], view: tuple[int, int], state: tuple[ProviderState, ...]
) -> ToolCall:
    """A predefined function call as the neutral ``computer`` call; ``state`` gets the vendor call."""
    action = neutral_action(name, args, view)
    decision = args.get("safety_decision")
    if isinstance(decision, dict) and decision.get("decision") == "require_confirmation":
        action["safety_checks"] = [
            {
                "id": "safety_decision",
                "code": "require_confirmation",
                "message": str(decision.get("explanation")),
            }
        ]
    return neutral_call(call_id, action, state)


def vendor_call(call: ToolCall, provider: str) -> dict[str, Any] | None:
    """The predefined call (``{"name", "args"}``) a neutral ``computer`` call came from, else None."""
    st = call.state_for(provider, kind=KIND)
    return st.payload if st is not None and isinstance(st.payload, dict) else None


def acknowledged(call: ToolCall, result: ToolResult) -> bool:
    """A call that asked for confirmation ran after a human (or an explicit policy) approved it, even if
    the action then failed: the ``computer`` tool's result says so (``acknowledged safety checks: ``)."""
    try:
        asked = bool(json.loads(call.arguments).get("safety_checks"))
    except (ValueError, AttributeError):
        return False
    return asked and "acknowledged safety checks: " in result.output


# --------------------------------------------------------------------------- images in results


def content_part(p: Part) -> dict[str, Any] | None:
    """A content part as a generateContent part (None for an image with neither data nor URL)."""
    if isinstance(p, TextPart):
        return {"text": p.text}
    if isinstance(p, ImagePart):
        if p.data is not None:
            return {"inlineData": {"mimeType": p.media_type, "data": p.data}}
        if p.url is not None:
            return {"fileData": {"mimeType": p.media_type, "fileUri": p.url}}
        return None
    return {"inlineData": {"mimeType": p.media_type, "data": p.data}}


def interactions_content(p: Part) -> dict[str, Any]:
    """A content part as an Interactions content (text, image or document)."""
    if isinstance(p, TextPart):
        return {"type": "text", "text": p.text}
    if isinstance(p, ImagePart):
        img: dict[str, Any] = {"type": "image", "mime_type": p.media_type}
        if p.data is not None:
            img["data"] = p.data
        else:
            img["uri"] = p.url
        return img
    return {"type": "document", "mime_type": p.media_type, "data": p.data}


def inline_parts(parts: tuple[Part, ...]) -> list[dict[str, Any]]:
    """Images (and files) of a tool result as generateContent parts (text parts are left out)."""
    return [c for p in parts if not isinstance(p, TextPart) and (c := content_part(p)) is not None]


def function_response_parts(
    item: ToolResult, model: str, resp: dict[str, Any], *, ack: bool = False
) -> list[dict[str, Any]]:
    """The user parts answering a call: the ``functionResponse`` (with the images inside for models
    that take them, else followed by them as user parts)."""
    if ack:
        resp["response"]["safety_acknowledgement"] = "true"
    images = inline_parts(item.parts)
    notes = [p.text for p in item.parts if isinstance(p, TextPart)]
    if notes:
        resp["response"]["notes"] = notes
    if not images:
        return [{"functionResponse": resp}]
    if multimodal_responses(model):
        return [{"functionResponse": {**resp, "parts": images}}]
    return [{"functionResponse": resp}, {"text": f"[image returned by {item.name}]"}, *images]


def interactions_result(item: ToolResult, model: str) -> str | list[dict[str, Any]]:
    """``function_result.result``: the text, or text and image contents."""
    if not item.parts:
        return item.output
    content: list[dict[str, Any]] = [{"type": "text", "text": item.output}] if item.output else []
    return content + [interactions_content(p) for p in item.parts]


def neutralize(response: ModelResponse, provider: str, view: tuple[int, int] | None) -> ModelResponse:
    """``response`` (a ModelResponse) with its predefined computer-use calls as neutral ``computer``
    calls (in place); unchanged when the request did not declare the tool."""
    if view is None:
        return response
    items: list[Item] = []
    for item in response.items:
        if isinstance(item, ToolCall) and item.name in PREDEFINED:
            args = json.loads(item.arguments or "{}")
            state = (
                *item.state,
                ProviderState(provider=provider, kind=KIND, payload={"name": item.name, "args": args}),
            )
            item = to_neutral(item.call_id, item.name, args, view, state)
        items.append(item)
    response.items = items
    return response


def request_view(model: str, request: ModelRequest) -> tuple[int, int] | None:
    """The screenshot size when a request to ``model`` declares the computer-use tool, else None."""
    return computer_view(request.native_tools, request.tools) if computer_model(model) else None


def interactions_answer(
    item: Item, calls: dict[str, ToolCall], provider: str, model: str
) -> dict[str, Any] | None:
    """The Interactions ``function_result`` answering a predefined computer-use function (its name,
    the screenshot), else None."""
    if not isinstance(item, ToolResult) or item.call_id not in calls:
        return None
    vendor = vendor_call(calls[item.call_id], provider) or {}
    result: dict[str, Any] = {
        "type": "function_result",
        "call_id": safe_call_id(item.call_id),
        "name": vendor.get("name", item.name),
        "result": interactions_result(item, model),
    }
    if item.is_error:
        result["is_error"] = True
    return result
