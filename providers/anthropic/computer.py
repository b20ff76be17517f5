"""Anthropic's computer-use tool (issue 16): the versions, their beta headers, and the actions.

=========================================  ======================  ==============================
model                                      tool type               beta header
=========================================  ======================  ==============================
Claude Opus 4.5, Sonnet/Opus 4.6 - 5       ``computer_20251124``   ``computer-use-2025-11-24``
                                           (adds ``zoom``)
Claude Sonnet 3.7, 4, 4.1, Sonnet/Haiku    ``computer_20250124``   ``computer-use-2025-01-24``
4.5
Claude 5.5 and later                       ``computer_toolset_``   none (GA)
                                           ``20260801``
=========================================  ======================  ==============================

A ``computer_*`` tool entry carries ``display_width_px`` / ``display_height_px`` of the image the model
sees (the screen scaled to ``DesktopConfig.max_image``); its ``tool_use`` input names the ``action``.
The toolset entry is ``{"type": "computer_toolset_20260801"}`` alone (no name, no size: coordinates are
in the pixels of the screenshots we return, already fitted to ``max_image``; every member, zoom
included, is on by default); each call is a ``tool_use`` whose ``name`` is the member (``left_click``)
with ``"toolset_name": "computer"`` and the member's parameters as input, often several in one turn
(they run in call order, see ``ComputerTool``'s ``in_order``). Either becomes the neutral ``computer``
call (the action mapped to the neutral vocabulary) that keeps the block for a byte-exact replay; the
result goes back as a ``tool_result`` whose content holds the screenshot as an image block.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agentcore.messages import ProviderState, ToolCall
from agentcore.model import ModelRequest, ToolSpec

from .._common import dumps
from .._computer import COMPUTER, computer_view, neutral_call

PROVIDER = "anthropic"
BLOCK_KIND = "native_tool_use"
"""The block is kept under the same state kind as the other native tools (replayed by ``replay_block``)."""
TOOLSET = "computer_toolset_20260801"
VERSIONS: dict[str, str | None] = {
    "computer_20250124": "computer-use-2025-01-24",
    "computer_20251124": "computer-use-2025-11-24",
    TOOLSET: None,  # GA: no beta header
}
_CLAUDE = re.compile(r"claude-(?:(opus|sonnet|haiku)-)?(\d+)(?:-(\d)(?!\d))?(?:-(opus|sonnet|haiku))?")


def tool_version(model: str) -> str | None:
    """The computer tool type ``model`` takes, else None (see the module table)."""
    m = _CLAUDE.search(model.lower())
    if m is None:
        return None
    family = m.group(1) or m.group(4) or ""
    version = (int(m.group(2)), int(m.group(3) or 0))
    if version >= (5, 5):
        return TOOLSET
    if version >= (4, 6) or (family == "opus" and version >= (4, 5)):
        return "computer_20251124"
    if version >= (3, 7):
        return "computer_20250124"
    return None


def declared(model: str, request: ModelRequest) -> tuple[str, tuple[int, int]] | None:
    """(tool type, view size) when this request declares the native computer tool."""
    version = tool_version(model)
    view = computer_view(request.native_tools, request.tools) if version else None
    return (version, view) if version and view else None


def split(
    model: str, request: ModelRequest, specs: tuple[ToolSpec, ...], entries: bytes
) -> tuple[tuple[ToolSpec, ...], bytes]:
    """The function tools without the neutral ``computer`` and the entries with the native one, when
    declared; else both unchanged."""
    found = declared(model, request)
    if found is None:
        return specs, entries
    version, (width, height) = found
    entry: dict[str, Any] = {
        "type": version,
        "name": COMPUTER,
        "display_width_px": width,
        "display_height_px": height,
    }
    if version == TOOLSET:
        entry = {"type": TOOLSET}
    elif version == "computer_20251124":
        entry["enable_zoom"] = True
    encoded = dumps(entry)
    return tuple(t for t in specs if t.name != COMPUTER), (entries + b"," + encoded if entries else encoded)


def is_call(block: dict[str, Any], native: dict[str, str]) -> bool:
    """Whether a ``tool_use`` block is a call of the declared computer tool (or toolset)."""
    if native.get(COMPUTER) != COMPUTER:
        return False
    return block.get("toolset_name") == COMPUTER or block.get("name") == COMPUTER


def beta(model: str, request: ModelRequest) -> str | None:
    """The beta header value the declared computer tool needs, else None."""
    found = declared(model, request)
    return VERSIONS[found[0]] if found else None


def _point(value: Any) -> dict[str, Any]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return {"x": value[0], "y": value[1]}
    return {}


_CLICKS = {
    "left_click": ("left", 1),
    "right_click": ("right", 1),
    "middle_click": ("middle", 1),
    "double_click": ("left", 2),
    "triple_click": ("left", 3),
}
_SCROLL = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}


def _modifiers(data: dict[str, Any]) -> dict[str, Any]:
    """``text`` on a click, drag or scroll: the keys held during it (``"shift"``, ``"ctrl+shift"``)."""
    text = data.get("text")
    keys = [k for k in text.split("+") if k.strip()] if isinstance(text, str) else []
    return {"modifiers": keys} if keys else {}


def neutral_action(data: dict[str, Any]) -> dict[str, Any]:
    """A ``computer_*`` ``tool_use`` input → a neutral action (an unknown action keeps its name; the
    tool answers the model with an error naming the actions it has)."""
    action = str(data.get("action", ""))
    where = _point(data.get("coordinate"))
    if action == "screenshot":
        return {"action": "screenshot"}
    if action in _CLICKS:
        button, count = _CLICKS[action]
        return {"action": "click", "button": button, "count": count, **where, **_modifiers(data)}
    if action == "mouse_move":
        return {"action": "move", **where}
    if action == "left_click_drag":
        start, end = _point(data.get("start_coordinate")), where
        path = [[start.get("x"), start.get("y")], [end.get("x"), end.get("y")]]
        return {"action": "drag", "path": path, **_modifiers(data)}
    if action in ("left_mouse_down", "left_mouse_up"):
        return {"action": "mouse_down" if action == "left_mouse_down" else "mouse_up", **where}
    if action == "type":
        return {"action": "type", "text": data.get("text", "")}
    if action == "key":
        repeat = data.get("repeat")  # the toolset's key: press it that many times
        times = min(max(repeat, 1), 50) if isinstance(repeat, int) else 1
        return {"action": "key", "keys": " ".join([str(data.get("text", ""))] * times)}
    if action == "hold_key":
        return {"action": "key", "keys": data.get("text", ""), "hold_s": data.get("duration", 1)}
    if action == "scroll":
        dx, dy = _SCROLL.get(str(data.get("scroll_direction", "down")), (0, 1))
        amount = data.get("scroll_amount", 3)
        amount = amount if isinstance(amount, int) else 3
        return {"action": "scroll", **where, "dx": dx * amount, "dy": dy * amount, **_modifiers(data)}
    if action == "cursor_position":
        return {"action": "cursor_position"}
    if action == "wait":
        return {"action": "wait", "seconds": data.get("duration", 1)}
    if action == "zoom":
        return {"action": "zoom", "region": data.get("region")}
    return {"action": action}


def computer_call(block: dict[str, Any], model: str, raw_input: str | None = None) -> ToolCall:
    """A ``tool_use`` of the declared computer tool as the neutral ``computer`` call; the block is kept
    for a replay as it came (not when its input was cut or malformed)."""
    data = block.get("input")
    if raw_input is not None:
        try:
            data = json.loads(raw_input)
        except ValueError:
            data = {"action": "(unreadable input)"}
    data = data if isinstance(data, dict) else {}
    if block.get("toolset_name") == COMPUTER:  # a toolset member: its name is the action
        data = {**data, "action": str(block.get("name") or "")}
    action = neutral_action(data)
    state: tuple[ProviderState, ...] = ()
    if raw_input is None:
        state = (ProviderState(provider=PROVIDER, model=model, kind=BLOCK_KIND, payload={"block": block}),)
    return neutral_call(str(block.get("id") or ""), action, state)
