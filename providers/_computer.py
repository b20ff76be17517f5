"""What the three vendors' native computer tools share (issue 16).

The transcript holds one neutral tool call, ``computer``, whose arguments are one action of the
neutral vocabulary (``sandboxes/desktop/actions.py``): ``{"action": "click", "x": 10, "y": 20}``. Each
vendor module (``providers/<vendor>/computer.py``) maps its native action to that form when a response
comes in, keeps the vendor's exact call in ``ProviderState`` (so its own vendor gets it back as it
came) and answers the call in the vendor's form with the screenshot the tool returned.

An agent whose sandbox has a desktop asks for the native tool with ``"computer"`` in
``ModelRequest.native_tools``; the size of the image the model sees comes from the neutral tool's
description (``Coordinates are pixels of the latest screenshot (WxH)``, written by
``sandboxes/desktop/tool.py``). A model that knows no native computer tool keeps the function tool.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from agentcore.messages import ImagePart, ProviderState, ToolCall, ToolResult
from agentcore.model import ToolSpec

COMPUTER = "computer"
"""The neutral tool's name, and the ``native_tools`` kind of a desktop."""
_SIZE = re.compile(r"\((\d+)x(\d+)\)")


def computer_view(native: Sequence[str], tools: Sequence[ToolSpec]) -> tuple[int, int] | None:
    """The (width, height) of the screenshots the model sees, when the request asks for the native
    computer tool and carries the neutral one; else None (no native tool to declare)."""
    if COMPUTER not in native:
        return None
    for spec in tools:
        if spec.name == COMPUTER:
            m = _SIZE.search(spec.description)
            if m is not None:
                return int(m.group(1)), int(m.group(2))
    return None


def without_computer(tools: Sequence[ToolSpec]) -> list[ToolSpec]:
    """The function tools minus the neutral ``computer`` (declared natively instead)."""
    return [t for t in tools if t.name != COMPUTER]


def neutral_call(call_id: str, action: dict[str, Any], state: tuple[ProviderState, ...]) -> ToolCall:
    """The neutral ``computer`` call for one vendor action (``None`` fields dropped)."""
    clean = {k: v for k, v in action.items() if v is not None}
    return ToolCall(call_id=call_id, name=COMPUTER, arguments=json.dumps(clean), state=state)


def screenshot_of(result: ToolResult) -> ImagePart | None:
    """The last image a computer tool result carries (the screenshot after the action)."""
    images = [p for p in result.parts if isinstance(p, ImagePart)]
    return images[-1] if images else None


def data_url(image: ImagePart) -> str:
    return image.url if image.url is not None else f"data:{image.media_type};base64,{image.data or ''}"

