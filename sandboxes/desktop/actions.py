"""The neutral action vocabulary of the ``computer`` tool: a typed union, one model per action.

The model-facing schema is one flat object (``action`` plus the fields each action uses), which every
vendor's function-calling accepts; it is validated into one of these models. Coordinates are in the
pixels of the screenshot the model was shown (the tool maps them to the screen).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = ["ACTIONS", "Action", "action_schema", "parse_action"]

Point = tuple[int, int]
Modifiers = tuple[str, ...]
"""Keys held down during a pointer action (``("shift",)``, ``("ctrl", "shift")``; any spelling
:mod:`.keys` maps), pressed before it and always released after it."""


class _Action(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Screenshot(_Action):
    action: Literal["screenshot"] = "screenshot"


class Click(_Action):
    action: Literal["click"] = "click"
    x: int | None = None
    y: int | None = None
    button: Literal["left", "middle", "right", "back", "forward"] = "left"
    count: int = Field(1, ge=1, le=3)
    modifiers: Modifiers = Field((), max_length=4)


class Move(_Action):
    action: Literal["move"] = "move"
    x: int
    y: int
    modifiers: Modifiers = Field((), max_length=4)


class Drag(_Action):
    action: Literal["drag"] = "drag"
    path: list[Point] = Field(min_length=2)
    button: Literal["left", "middle", "right"] = "left"
    modifiers: Modifiers = Field((), max_length=4)


class MouseDown(_Action):
    """Press a button (at ``x``, ``y`` when given: the pointer moves there first)."""

    action: Literal["mouse_down"] = "mouse_down"
    button: Literal["left", "middle", "right"] = "left"
    x: int | None = None
    y: int | None = None


class MouseUp(_Action):
    action: Literal["mouse_up"] = "mouse_up"
    button: Literal["left", "middle", "right"] = "left"
    x: int | None = None
    y: int | None = None


class Type(_Action):
    """Type ``text``; with ``x``/``y`` click there first, ``clear`` empties the field (select all,
    delete) before typing, ``enter`` presses Enter after (Gemini's ``type_text_at``)."""

    action: Literal["type"] = "type"
    text: str = Field(max_length=10_000)
    delay_ms: int | None = Field(None, ge=0, le=1000)
    x: int | None = None
    y: int | None = None
    clear: bool = False
    enter: bool = False


class Key(_Action):
    action: Literal["key"] = "key"
    keys: str | list[str]
    hold_s: float = Field(0.0, ge=0, le=10)


class Scroll(_Action):
    action: Literal["scroll"] = "scroll"
    x: int | None = None
    y: int | None = None
    dx: int = Field(0, ge=-50, le=50)
    dy: int = Field(0, ge=-50, le=50)
    modifiers: Modifiers = Field((), max_length=4)


class CursorPosition(_Action):
    action: Literal["cursor_position"] = "cursor_position"


class Wait(_Action):
    action: Literal["wait"] = "wait"
    seconds: float = Field(1.0, ge=0, le=60)


class Zoom(_Action):
    action: Literal["zoom"] = "zoom"
    region: tuple[int, int, int, int]


Single = Annotated[
    Screenshot | Click | Move | Drag | MouseDown | MouseUp | Type | Key | Scroll | CursorPosition | Wait | Zoom,
    Field(discriminator="action"),
]  # fmt: skip


class Batch(_Action):
    """Several actions in order, one screenshot after the last (a vendor's batched call: OpenAI's GA
    ``computer`` tool). Not offered in the function tool's schema."""

    action: Literal["batch"] = "batch"
    actions: list[Single] = Field(min_length=1, max_length=50)


Action = Annotated[Single | Batch, Field(discriminator="action")]
_adapter: TypeAdapter[Action] = TypeAdapter(Action)
ACTIONS = (
    "screenshot", "click", "move", "drag", "mouse_down", "mouse_up", "type", "key", "scroll",
    "cursor_position", "wait", "zoom",
)  # fmt: skip


def parse_action(data: dict[str, Any]) -> Action:
    """Validate the model's arguments into an :data:`Action` (pydantic's ``ValidationError`` if not)."""
    clean = {k: v for k, v in data.items() if v is not None and k != "safety_checks"}
    return _adapter.validate_python(clean)


def action_schema(width: int, height: int) -> dict[str, Any]:
    """The flat JSON schema the model sees, for a screenshot of ``width`` x ``height``."""
    coord = {"type": "integer", "description": f"pixels of the screenshot (0..{width - 1} / 0..{height - 1})"}
    return {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "x": {**coord, "description": f"x in the screenshot, 0..{width - 1} (pointer actions, type)"},
            "y": {**coord, "description": f"y in the screenshot, 0..{height - 1} (click, move, scroll)"},
            "button": {"type": "string", "enum": ["left", "middle", "right", "back", "forward"]},
            "count": {"type": "integer", "description": "clicks: 1, 2 (double) or 3"},
            "path": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                "description": "drag: [[x, y], ...] from press to release",
            },
            "text": {"type": "string", "description": "type: the text to type (at x, y when given)"},
            "clear": {"type": "boolean", "description": "type: empty the field first"},
            "enter": {"type": "boolean", "description": "type: press Enter after the text"},
            "delay_ms": {"type": "integer", "description": "type: delay between keystrokes"},
            "keys": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                "description": "key: 'ctrl+a', 'Return', or keys pressed together ['CTRL', 'A']",
            },
            "hold_s": {"type": "number", "description": "key: hold the keys this long"},
            "modifiers": {
                "type": "array",
                "items": {"type": "string"},
                "description": "click, move, drag, scroll: keys held during the action, e.g. ['shift']",
            },
            "dx": {"type": "integer", "description": "scroll: wheel clicks right (+) / left (-)"},
            "dy": {"type": "integer", "description": "scroll: wheel clicks down (+) / up (-)"},
            "seconds": {"type": "number", "description": "wait: how long"},
            "region": {
                "type": "array",
                "items": {"type": "integer"},
                "minItems": 4,
                "maxItems": 4,
                "description": "zoom: [left, top, right, bottom] to see in full detail",
            },
        },
        "required": ["action"],
    }
