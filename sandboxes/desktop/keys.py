"""Key names: the vendors' spellings mapped to xdotool's (X keysyms joined by ``+``).

Anthropic's computer tool already speaks xdotool (``ctrl+s``, ``Return``). OpenAI sends a list of keys
held together (``["CTRL", "A"]``, ``["ENTER"]``). Gemini sends ``control+a``-style combinations with
lower-case names (``enter``, ``backspace``). :func:`xdotool_combo` takes any of these.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentcore.errors import UserError

__all__ = ["xdotool_combo", "xdotool_keys"]

_ALIASES = {
    "ctrl": "ctrl", "control": "ctrl", "ctl": "ctrl", "lctrl": "Control_L", "rctrl": "Control_R",
    "alt": "alt", "option": "alt", "opt": "alt",
    "shift": "shift",
    "super": "super", "meta": "super", "cmd": "super", "command": "super", "win": "super", "windows": "super",
    "enter": "Return", "return": "Return", "kp_enter": "KP_Enter",
    "esc": "Escape", "escape": "Escape",
    "tab": "Tab", "space": "space", " ": "space",
    "backspace": "BackSpace", "back_space": "BackSpace", "bksp": "BackSpace",
    "delete": "Delete", "del": "Delete", "insert": "Insert", "ins": "Insert",
    "home": "Home", "end": "End",
    "pageup": "Prior", "page_up": "Prior", "pgup": "Prior", "prior": "Prior",
    "pagedown": "Next", "page_down": "Next", "pgdn": "Next", "next": "Next",
    "up": "Up", "down": "Down", "left": "Left", "right": "Right",
    "arrowup": "Up", "arrowdown": "Down", "arrowleft": "Left", "arrowright": "Right",
    "capslock": "Caps_Lock", "caps_lock": "Caps_Lock", "numlock": "Num_Lock",
    "printscreen": "Print", "print": "Print", "pause": "Pause", "menu": "Menu",
    "minus": "minus", "-": "minus", "plus": "plus", "equal": "equal", "=": "equal",
    "comma": "comma", ",": "comma", "period": "period", ".": "period", "slash": "slash", "/": "slash",
    "backslash": "backslash", "\\": "backslash", "semicolon": "semicolon", ";": "semicolon",
    "apostrophe": "apostrophe", "'": "apostrophe", "grave": "grave", "`": "grave",
    "bracketleft": "bracketleft", "[": "bracketleft", "bracketright": "bracketright", "]": "bracketright",
}


def _one(name: str) -> str:
    key = name.strip()
    if not key:
        raise UserError("empty key name")
    alias = _ALIASES.get(key.lower())
    if alias is not None:
        return alias
    if len(key) == 1:
        return key.lower() if key.isalpha() else key
    lower = key.lower()
    if lower[0] == "f" and lower[1:].isdigit() and 1 <= int(lower[1:]) <= 35:
        return "F" + lower[1:]
    if all(c.isalnum() or c == "_" for c in key):
        return key  # an X keysym as is (XF86AudioMute, KP_1, ...)
    raise UserError(f"unknown key name {name!r}")


def xdotool_combo(keys: str | Sequence[str]) -> list[str]:
    """xdotool ``key`` arguments for ``keys``: ``"ctrl+a"``, ``"Return"``, ``"ctrl+a Delete"`` (a
    sequence of combos), or a list of keys pressed together (``["CTRL", "A"]``)."""
    if isinstance(keys, str):
        combos = keys.split()
        if not combos:
            raise UserError("no key given")
        return ["+".join(_one(k) for k in _split(combo)) for combo in combos]
    if not keys:
        raise UserError("no key given")
    return ["+".join(_one(k) for k in keys)]


def xdotool_keys(names: Sequence[str]) -> list[str]:
    """One xdotool key name per key for ``keydown``/``keyup``: ``["SHIFT"]``, ``["ctrl", "shift"]`` or
    ``["ctrl+shift"]`` (the keys a pointer action holds down)."""
    return [_one(k) for name in names for k in _split(name)]


def _split(combo: str) -> list[str]:
    parts = combo.split("+")
    if combo.endswith("+") and len(combo) > 1:  # "ctrl++"
        parts = [*combo[:-2].split("+"), "plus"] if combo.endswith("++") else parts
    return [p for p in parts if p] or ["plus"]
