"""OpenAI's computer-use tool in the Responses API (issue 16).

``computer-use-preview`` models take ``{"type": "computer_use_preview", "display_width",
"display_height", "environment": "linux"}`` (the size of the screenshot the model sees) and require
``truncation: "auto"``. The model answers with ``computer_call`` items (one ``action``: click,
double_click, drag, keypress, move, screenshot, scroll, type, wait), each of which becomes the neutral
``computer`` call (the raw item kept for a byte-exact replay) and is answered with
``computer_call_output`` ``{call_id, output: {type: "computer_screenshot", image_url: <data URL>}}``.

**Safety checks.** A ``computer_call`` with ``pending_safety_checks`` carries them into the neutral
arguments (``safety_checks``: id, code, message); the ``computer`` tool then always pauses the run for
a human (the interruption shows the messages), unless the tool was given an explicit policy
(``acknowledge_safety_checks``). The output acknowledges the checks (``acknowledged_safety_checks``)
only when the action ran, i.e. after that decision. A rejected action (or one refused before any
decision) is never answered: OpenAI continues a flagged call only with its checks acknowledged, so
building that request raises :class:`~agentcore.errors.SafetyChecksDeclined` and the run ends with
``ModelCallFailed`` (no request is sent, no acknowledgement is made up).

GPT-5.4 and later take the GA tool, ``{"type": "computer"}`` (no display fields: the model reads the
size off the screenshots); its ``computer_call`` carries a batch, ``actions``, which becomes one neutral
``batch`` action (the steps in order, one screenshot after the last). Other models keep the neutral
function tool.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from agentcore.errors import SafetyChecksDeclined
from agentcore.messages import ProviderState, ToolCall, ToolResult
from agentcore.model import ToolSpec

from .._common import dumps
from .._computer import COMPUTER, computer_view, data_url, neutral_call, screenshot_of

PROVIDER = "openai"
KIND = "computer_call"
BLANK_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC"
"""A 1x1 PNG: the screenshot of an output whose action did not run (refused, failed), since
``computer_call_output`` must carry an image."""
SCROLL_PX_PER_CLICK = 100
ACKNOWLEDGED = "acknowledged safety checks: "
"""What the ``computer`` tool's result says when a flagged action ran after a human's (or an explicit
policy's) decision (``sandboxes/desktop/tool.py``): only then are the checks acknowledged."""


_GPT = re.compile(r"^gpt-(\d+)(?:\.(\d+))?")


def preview_model(model: str) -> bool:
    return model.rsplit("/", 1)[-1].lower().startswith("computer-use-preview")


def ga_model(model: str) -> bool:
    """GPT-5.4 and later (not the ``-chat`` models): the GA ``computer`` tool."""
    name = model.rsplit("/", 1)[-1].lower()
    m = _GPT.match(name)
    if m is None or "-chat" in name:
        return False
    return (int(m.group(1)), int(m.group(2) or 0)) >= (5, 4)


def computer_model(model: str) -> bool:
    return preview_model(model) or ga_model(model)


def view_for(model: str, native: Sequence[str], tools: Sequence[ToolSpec]) -> tuple[int, int] | None:
    """The screenshot size when this request declares the computer-use tool, else None."""
    return computer_view(native, tools) if computer_model(model) else None


def tool_entry(model: str, view: tuple[int, int]) -> dict[str, Any]:
    if not preview_model(model):
        return {"type": "computer"}
    return {
        "type": "computer_use_preview",
        "display_width": view[0],
        "display_height": view[1],
        "environment": "linux",
    }


def without_function(tools: Sequence[ToolSpec]) -> list[ToolSpec]:
    return [t for t in tools if t.name != COMPUTER]


def _clicks(pixels: Any) -> int:
    if not isinstance(pixels, int | float) or pixels == 0:
        return 0
    clicks = round(pixels / SCROLL_PX_PER_CLICK) or (1 if pixels > 0 else -1)
    return max(-50, min(50, clicks))


def _held(action: dict[str, Any]) -> dict[str, Any]:
    """``keys`` on a click, double_click, drag, move or scroll: the keys held during it."""
    keys = action.get("keys")
    return {"modifiers": [str(k) for k in keys]} if isinstance(keys, list) and keys else {}


def neutral_action(action: dict[str, Any]) -> dict[str, Any]:
    """A ``computer_call.action`` → a neutral action (an unknown type keeps its name: the tool answers
    the model with an error naming the actions it has)."""
    kind = str(action.get("type", ""))
    if kind in ("click", "double_click"):
        button = action.get("button", "left")
        return {
            "action": "click",
            "x": action.get("x"),
            "y": action.get("y"),
            "button": "middle" if button == "wheel" else button,
            "count": 2 if kind == "double_click" else 1,
            **_held(action),
        }
    if kind == "drag":
        path = [[p.get("x"), p.get("y")] for p in action.get("path") or [] if isinstance(p, dict)]
        return {"action": "drag", "path": path, **_held(action)}
    if kind == "keypress":
        return {"action": "key", "keys": list(action.get("keys") or [])}
    if kind == "move":
        return {"action": "move", "x": action.get("x"), "y": action.get("y"), **_held(action)}
    if kind == "scroll":
        return {
            "action": "scroll",
            "x": action.get("x"),
            "y": action.get("y"),
            "dx": _clicks(action.get("scroll_x")),
            "dy": _clicks(action.get("scroll_y")),
            **_held(action),
        }
    if kind == "type":
        return {"action": "type", "text": action.get("text", "")}
    if kind == "wait":
        return {"action": "wait", "seconds": 2}
    if kind == "screenshot":
        return {"action": "screenshot"}
    return {"action": kind}


def computer_call(out: dict[str, Any], model: str) -> ToolCall:
    """A ``computer_call`` output item as the neutral ``computer`` call."""
    action, batch = out.get("action"), out.get("actions")
    if isinstance(batch, list) and (len(batch) != 1 or not isinstance(action, dict)):
        steps = [neutral_action(a if isinstance(a, dict) else {}) for a in batch]
        neutral = {"action": "batch", "actions": steps} if len(steps) != 1 else steps[0]
    else:
        picked = action if isinstance(action, dict) else (batch[0] if batch else {})
        neutral = neutral_action(picked if isinstance(picked, dict) else {})
    checks = [
        {"id": c.get("id"), "code": c.get("code"), "message": c.get("message")}
        for c in out.get("pending_safety_checks") or []
        if isinstance(c, dict)
    ]
    if checks:
        neutral["safety_checks"] = checks
    state = (ProviderState(provider=PROVIDER, model=model, kind=KIND, payload=out),)
    return neutral_call(str(out.get("call_id") or ""), neutral, state)


def replay(item: ToolCall) -> bytes | None:
    """The raw ``computer_call`` a neutral call came from, else None."""
    st = item.state_for(PROVIDER, kind=KIND)
    return dumps(st.payload) if st is not None and isinstance(st.payload, dict) else None


def is_computer_call(call: ToolCall | None) -> bool:
    return call is not None and call.state_for(PROVIDER, kind=KIND) is not None


def output_item(result: ToolResult, call: ToolCall) -> dict[str, Any]:
    """The ``computer_call_output`` answering ``call``."""
    image = screenshot_of(result)
    url = data_url(image) if image is not None else f"data:image/png;base64,{BLANK_PNG}"
    wire: dict[str, Any] = {
        "type": "computer_call_output",
        "call_id": result.call_id,
        "output": {"type": "computer_screenshot", "image_url": url},
    }
    try:
        checks = json.loads(call.arguments).get("safety_checks") or []
    except (ValueError, AttributeError):
        checks = []
    if not checks:
        return wire
    checks = [{k: v for k, v in c.items() if v is not None} for c in checks if isinstance(c, dict)]
    if ACKNOWLEDGED not in result.output:  # it never ran: declined, or refused before any decision
        raise SafetyChecksDeclined(
            f"the computer action of call {result.call_id} was flagged by OpenAI's safety checks "
            f"({'; '.join(str(c.get('message') or c.get('code')) for c in checks)}) and did not run "
            f"({result.output}); OpenAI continues a flagged call only with its checks acknowledged, "
            "so the run ends here instead of acknowledging them for the user",
            call_id=result.call_id,
            checks=checks,
            outcome=result.output,
            provider=PROVIDER,
        )
    wire["acknowledged_safety_checks"] = checks  # it ran: a human or an explicit policy acknowledged them
    return wire
