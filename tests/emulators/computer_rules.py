"""Strict rules for the vendors' native computer-use tools, shared by the emulators (issue 16).

Grounded in the installed SDKs' request types and the vendors' computer-use guides (docs corpus):

* OpenAI Responses: ``{"type": "computer_use_preview", "display_width", "display_height",
  "environment"}`` (all required; ``computer-use-preview`` models only; the request must set
  ``truncation: "auto"``). ``computer_call`` actions: click (button left/right/wheel/back/forward),
  double_click, drag (path of {x, y}), keypress (keys), move, screenshot, scroll (x, y, scroll_x,
  scroll_y), type (text), wait. ``computer_call_output``: ``{call_id, output: {type:
  "computer_screenshot", image_url | file_id}, acknowledged_safety_checks?}``; every pending safety
  check of the call must be acknowledged (the service refuses to continue otherwise), and only those.
* Anthropic: ``{"type": "computer_20250124" | "computer_20251124", "name": "computer",
  "display_width_px", "display_height_px", "display_number"?, "enable_zoom"? (20251124 only)}``, each
  with its beta header (``computer-use-2025-01-24`` / ``computer-use-2025-11-24``); ``tool_use`` input
  actions per version.
* Gemini: ``{"computerUse": {"environment": "ENVIRONMENT_BROWSER" | ..., "excludedPredefinedFunctions",
  ...}}`` on computer-use models; a function response to a predefined function carries the screenshot
  in its ``parts``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.emulators.media_rules import screenshot_output_problem

Fail = Callable[[str], Exception]

# --------------------------------------------------------------------------- OpenAI

OPENAI_COMPUTER_TOOLS = frozenset({"computer_use_preview", "computer"})
OPENAI_ITEM_KEYS: dict[str, frozenset[str]] = {
    "computer_call": frozenset(
        {"type", "id", "call_id", "action", "actions", "pending_safety_checks", "status"}
    ),
    "computer_call_output": frozenset(
        {"type", "id", "call_id", "output", "acknowledged_safety_checks", "status"}
    ),
}
_OPENAI_ACTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # action type -> (required keys, optional keys), besides "type"
    "click": (frozenset({"button", "x", "y"}), frozenset({"keys"})),
    "double_click": (frozenset({"x", "y"}), frozenset({"keys"})),
    "drag": (frozenset({"path"}), frozenset({"keys"})),
    "keypress": (frozenset({"keys"}), frozenset()),
    "move": (frozenset({"x", "y"}), frozenset({"keys"})),
    "screenshot": (frozenset(), frozenset()),
    "scroll": (frozenset({"x", "y", "scroll_x", "scroll_y"}), frozenset({"keys"})),
    "type": (frozenset({"text"}), frozenset()),
    "wait": (frozenset(), frozenset()),
}


def openai_action_problem(action: Any) -> str | None:
    """A ``computer_call.action`` in the documented shape (the emulator emits only these)."""
    kind = action.get("type") if isinstance(action, dict) else None
    if kind not in _OPENAI_ACTIONS:
        return f"unknown computer action {kind!r}"
    required, optional = _OPENAI_ACTIONS[kind]
    keys = set(action) - {"type"}
    if required - keys or keys - required - optional:
        return f"computer action {kind}: expected {sorted(required)} (optional {sorted(optional)})"
    if kind == "click" and action["button"] not in ("left", "right", "wheel", "back", "forward"):
        return "click.button: invalid"
    keys = action.get("keys")  # keypress: the keys pressed; pointer actions: the keys held during them
    if "keys" in action and not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
        return f"computer action {kind}: keys must be an array of strings"
    return None


def _ga_model(model: str) -> bool:
    m = re.match(r"^gpt-(\d+)(?:\.(\d+))?", model)
    return m is not None and "-chat" not in model and (int(m.group(1)), int(m.group(2) or 0)) >= (5, 4)


def computer_call_problem(item: dict[str, Any]) -> str | None:
    """A ``computer_call``: one ``action`` (preview) or a batch of ``actions`` (GA), each documented."""
    batch = item.get("actions")
    if batch is not None:
        if not isinstance(batch, list) or not batch:
            return "actions must be a non-empty array"
        return next((p for p in map(openai_action_problem, batch) if p), None)
    return openai_action_problem(item.get("action"))


def check_openai_tool(tool: dict[str, Any], i: int, model: str, fail: Fail) -> None:
    if tool["type"] == "computer":  # the GA tool: no options; GPT-5.4 and later
        if set(tool) != {"type"}:
            raise fail(f"Unknown parameter: 'tools[{i}].{sorted(set(tool) - {'type'})[0]}'.")
        if not _ga_model(model):
            raise fail(f"Tool 'computer' is not supported with model '{model}'.")
        return
    extra = set(tool) - {"type", "display_width", "display_height", "environment"}
    if extra:
        raise fail(f"Unknown parameter: 'tools[{i}].{sorted(extra)[0]}'.")
    for key in ("display_width", "display_height"):
        if not isinstance(tool.get(key), int) or tool[key] <= 0:
            raise fail(f"Missing required parameter: 'tools[{i}].{key}'.")
    if tool.get("environment") not in ("windows", "mac", "linux", "ubuntu", "browser"):
        raise fail(f"Invalid value for 'tools[{i}].environment'.")
    if not model.startswith("computer-use-preview"):
        raise fail(f"Tool 'computer_use_preview' is not supported with model '{model}'.")


def check_openai_body(body: dict[str, Any], fail: Fail) -> None:
    tools = body.get("tools") or []
    if any(isinstance(t, dict) and t.get("type") == "computer_use_preview" for t in tools):
        if body.get("truncation") != "auto":
            raise fail("The computer_use_preview tool requires truncation to be set to 'auto'.")


def check_openai_item(
    kind: str, item: dict[str, Any], i: int, calls: dict[str, dict[str, Any]], fail: Fail
) -> None:
    """A ``computer_call`` (replayed) or ``computer_call_output``; ``calls``: call_id -> computer_call
    of everything before it (answered calls are removed)."""
    cid = item.get("call_id")
    if not isinstance(cid, str):
        raise fail(f"Missing required parameter: 'input[{i}].call_id'.")
    if kind == "computer_call":
        problem = computer_call_problem(item)
        if problem:
            raise fail(f"Invalid 'input[{i}].action': {problem}.")
        calls[cid] = item
        return
    call = calls.pop(cid, None)
    if call is None:
        raise fail(f"No tool call found for computer call output with call_id {cid}.")
    problem = screenshot_output_problem(item.get("output"), f"input[{i}].output")
    if problem:
        raise fail(f"Invalid {problem}")
    pending = {c["id"] for c in call.get("pending_safety_checks") or []}
    acked = item.get("acknowledged_safety_checks") or []
    if not isinstance(acked, list) or not all(
        isinstance(c, dict) and isinstance(c.get("id"), str) for c in acked
    ):
        raise fail(f"Invalid 'input[{i}].acknowledged_safety_checks'.")
    ids = {c["id"] for c in acked}
    if ids - pending:
        raise fail(f"Safety check {sorted(ids - pending)[0]} was not pending for call {cid}.")
    if pending - ids:
        raise fail(
            f"Pending safety checks for call {cid} were not acknowledged: {', '.join(sorted(pending - ids))}."
        )


def openai_open_call(context: list[dict[str, Any]]) -> str | None:
    answered = {it.get("call_id") for it in context if it.get("type") == "computer_call_output"}
    for it in context:
        if it.get("type") == "computer_call" and it.get("call_id") not in answered:
            return str(it.get("call_id"))
    return None


# --------------------------------------------------------------------------- Anthropic

ANTHROPIC_COMPUTER_TOOLS = {
    "computer_20250124": "computer-use-2025-01-24",
    "computer_20251124": "computer-use-2025-11-24",
}
_ANTHROPIC_ACTIONS_20250124 = frozenset(
    {
        "screenshot", "left_click", "right_click", "middle_click", "double_click", "triple_click",
        "mouse_move", "left_click_drag", "left_mouse_down", "left_mouse_up", "key", "hold_key", "type",
        "scroll", "cursor_position", "wait",
    }
)  # fmt: skip
_ANTHROPIC_ACTIONS_20251124 = _ANTHROPIC_ACTIONS_20250124 | {"zoom"}


ANTHROPIC_TOOLSET = "computer_toolset_20260801"
"""One entry for the computer tool family, GA (no beta); its fields are checked against the SDK's
param type elsewhere. Claude 5.5 and later take only this (a ``computer_*`` tool is a 400 for them)."""
_CLAUDE = re.compile(r"claude-(?:(?:opus|sonnet|haiku|fable|mythos)-)?(\d+)(?:-(\d)(?!\d))?")


def _toolset_only(model: str) -> bool:
    m = _CLAUDE.search(model)
    return m is not None and (int(m.group(1)), int(m.group(2) or 0)) >= (5, 5)


def check_anthropic_computer(body: dict[str, Any], betas: frozenset[str], fail: Fail) -> None:
    """Every ``computer_*`` tool entry (the SDK-typed field check runs elsewhere): its beta header, and
    the model takes it."""
    for n, tool in enumerate(body.get("tools") or []):
        if isinstance(tool, dict) and tool.get("type") in ANTHROPIC_COMPUTER_TOOLS:
            check_anthropic_tool(tool, f"tools.{n}.", betas, fail)
            if _toolset_only(str(body.get("model") or "")):
                raise fail(
                    f"tools.{n}: '{tool['type']}' is not supported on {body.get('model')}; "
                    f"use '{ANTHROPIC_TOOLSET}'"
                )


def check_anthropic_tool(tool: dict[str, Any], where: str, betas: frozenset[str], fail: Fail) -> None:
    kind = tool["type"]
    allowed = {"type", "name", "display_width_px", "display_height_px", "display_number", "cache_control"}
    allowed |= {"allowed_callers", "defer_loading", "input_examples", "strict"}
    if kind == "computer_20251124":
        allowed.add("enable_zoom")
    extra = set(tool) - allowed
    if extra:
        raise fail(f"{where}{kind}.{sorted(extra)[0]}: Extra inputs are not permitted")
    if tool.get("name") != "computer":
        raise fail(f"{where}{kind}.name: Input should be 'computer'")
    for key in ("display_width_px", "display_height_px"):
        if not isinstance(tool.get(key), int) or tool[key] < 1:
            raise fail(f"{where}{kind}.{key}: Field required")
    if ANTHROPIC_COMPUTER_TOOLS[kind] not in betas:
        raise fail(
            f"{where}type: tool type '{kind}' requires the beta header '{ANTHROPIC_COMPUTER_TOOLS[kind]}'"
        )


def anthropic_action_problem(kind: str, data: Any) -> str | None:
    """A computer ``tool_use`` input (what the emulator lets the scripted model send)."""
    actions = _ANTHROPIC_ACTIONS_20251124 if kind == "computer_20251124" else _ANTHROPIC_ACTIONS_20250124
    action = data.get("action") if isinstance(data, dict) else None
    if action not in actions:
        return f"computer action {action!r} is not one of {kind}'s"
    return None


# --------------------------------------------------------------------------- Gemini

GEMINI_PREDEFINED = frozenset(
    {
        "open_web_browser", "wait_5_seconds", "go_back", "go_forward", "search", "navigate", "click_at",
        "hover_at", "type_text_at", "key_combination", "scroll_document", "scroll_at", "drag_and_drop",
    }
)  # fmt: skip
_GEMINI_CU_KEYS = {
    "environment",
    "excludedPredefinedFunctions",
    "enablePromptInjectionDetection",
    "disabledSafetyPolicies",
}
_VERSION = re.compile(r"gemini-(\d+)(?:\.(\d+))?")


def _gemini_version(model: str) -> tuple[int, int]:
    m = _VERSION.search(model)
    return (int(m.group(1)), int(m.group(2) or 0)) if m else (0, 0)


def check_gemini_computer(body: dict[str, Any], model: str, fail: Fail) -> None:
    """The ``computerUse`` tool entry, and that every function response to a predefined function
    carries the screenshot."""
    declared = False
    for i, tool in enumerate(body.get("tools") or []):
        cu = tool.get("computerUse", tool.get("computer_use")) if isinstance(tool, dict) else None
        if cu is None:
            continue
        declared = True
        where = f"tools[{i}].computer_use"
        if not isinstance(cu, dict) or set(cu) - _GEMINI_CU_KEYS:
            raise fail(f"Invalid JSON payload received. Unknown name at '{where}': Cannot find field.")
        env = cu.get("environment")
        if env not in ("ENVIRONMENT_BROWSER", "ENVIRONMENT_MOBILE", "ENVIRONMENT_DESKTOP"):
            raise fail(f"* {where}.environment: a supported environment is required")
        if "computer-use" not in model and _gemini_version(model) < (3, 0):
            raise fail(f"Computer Use is not supported by model {model}.")
        if env == "ENVIRONMENT_DESKTOP" and _gemini_version(model) < (3, 5):
            raise fail(f"* {where}.environment: ENVIRONMENT_DESKTOP is not supported by model {model}.")
        for name in cu.get("excludedPredefinedFunctions") or []:
            if name not in GEMINI_PREDEFINED:
                raise fail(f"* {where}.excluded_predefined_functions: unknown function {name!r}")
    if not declared or not body.get("contents"):
        return
    # the latest turn's responses (older ones may have had their screenshots trimmed, as the reference
    # implementation does to keep the request small)
    n = len(body["contents"]) - 1
    for content in body["contents"][-1:]:
        for m, part in enumerate(content.get("parts") or []):
            fr = part.get("functionResponse") if isinstance(part, dict) else None
            if not isinstance(fr, dict) or fr.get("name") not in GEMINI_PREDEFINED:
                continue
            images = [p for p in fr.get("parts") or [] if "inlineData" in p]
            if not images and not (fr.get("response") or {}).get("error"):
                raise fail(
                    f"* contents[{n}].parts[{m}].function_response: a computer use function response must "
                    "include the screenshot of the current state in its parts"
                )


# --------------------------------------------------------------------------- what a scripted model may send

_GEMINI_ARGS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # predefined function -> (required args, optional args); coordinates on the 0-999 grid
    "open_web_browser": (frozenset(), frozenset()),
    "wait_5_seconds": (frozenset(), frozenset()),
    "go_back": (frozenset(), frozenset()),
    "go_forward": (frozenset(), frozenset()),
    "search": (frozenset(), frozenset()),
    "navigate": (frozenset({"url"}), frozenset()),
    "click_at": (frozenset({"x", "y"}), frozenset()),
    "hover_at": (frozenset({"x", "y"}), frozenset()),
    "type_text_at": (frozenset({"x", "y", "text"}), frozenset({"press_enter", "clear_before_typing"})),
    "key_combination": (frozenset({"keys"}), frozenset()),
    "scroll_document": (frozenset({"direction"}), frozenset()),
    "scroll_at": (frozenset({"x", "y", "direction"}), frozenset({"magnitude"})),
    "drag_and_drop": (frozenset({"x", "y", "destination_x", "destination_y"}), frozenset()),
}


def gemini_call_problem(body: dict[str, Any], name: str, args: dict[str, Any]) -> str | None:
    """A predefined computer-use call the emulated model sends, in its documented shape (when the
    request declared the tool)."""
    declared = any(
        isinstance(t, dict) and ("computerUse" in t or "computer_use" in t or t.get("type") == "computer_use")
        for t in body.get("tools") or []
    )
    if not declared or name not in _GEMINI_ARGS:
        return None
    required, optional = _GEMINI_ARGS[name]
    keys = set(args) - {"safety_decision"}
    if required - keys or keys - required - optional:
        return f"{name}: expected {sorted(required)} (optional {sorted(optional)}), got {sorted(keys)}"
    for key in ("x", "y", "destination_x", "destination_y"):
        if key in args and not (isinstance(args[key], int) and 0 <= args[key] <= 999):
            return f"{name}.{key}: an integer on the 0-999 grid"
    if "direction" in args and args["direction"] not in ("up", "down", "left", "right"):
        return f"{name}.direction: up, down, left or right"
    return None


_ANTHROPIC_FIELDS: dict[str, frozenset[str]] = {
    "screenshot": frozenset(),
    "cursor_position": frozenset(),
    "left_click": frozenset({"coordinate", "text"}),
    "right_click": frozenset({"coordinate", "text"}),
    "middle_click": frozenset({"coordinate", "text"}),
    "double_click": frozenset({"coordinate", "text"}),
    "triple_click": frozenset({"coordinate", "text"}),
    "mouse_move": frozenset({"coordinate"}),
    "left_click_drag": frozenset({"start_coordinate", "coordinate"}),
    "left_mouse_down": frozenset({"coordinate"}),
    "left_mouse_up": frozenset({"coordinate"}),
    "key": frozenset({"text"}),
    "hold_key": frozenset({"text", "duration"}),
    "type": frozenset({"text"}),
    "scroll": frozenset({"coordinate", "scroll_direction", "scroll_amount", "text"}),
    "wait": frozenset({"duration"}),
    "zoom": frozenset({"region"}),
}


def _toolset_declared(body: dict[str, Any]) -> bool:
    return any(isinstance(t, dict) and t.get("type") == ANTHROPIC_TOOLSET for t in body.get("tools") or [])


def _member_input(name: str) -> Any:
    """The SDK's input model of a toolset member (``left_click`` -> ``ComputerLeftClickInput``)."""
    import anthropic.types as sdk

    return getattr(sdk, "Computer" + "".join(p.title() for p in name.split("_")) + "Input", None)


def anthropic_toolset_fields(body: dict[str, Any], name: str) -> dict[str, Any]:
    """What a ``tool_use`` of a declared toolset's member carries besides the usual fields."""
    return {"toolset_name": "computer"} if _toolset_declared(body) and _member_input(name) else {}


def _toolset_call_problem(name: str, data: Any) -> str | None:
    """A toolset member's ``tool_use`` input against the SDK's input model (closed, required fields)."""
    model = _member_input(name)
    if not isinstance(data, dict):
        return f"{name}: input must be an object"
    fields = model.model_fields
    missing = [k for k, f in fields.items() if f.is_required() and k not in data]
    extra = set(data) - set(fields)
    if missing or extra:
        return (
            f"{name}: expected {sorted(fields)} (required {missing or 'present'}), unexpected {sorted(extra)}"
        )
    for key in ("coordinate", "start_coordinate"):
        point = data.get(key)
        if point is not None and not (
            isinstance(point, list) and len(point) == 2 and all(isinstance(v, int) and v >= 0 for v in point)
        ):
            return f"{name}.{key}: [x, y] non-negative integers"
    for key in ("text", "scroll_direction"):
        if key in data and not isinstance(data[key], str):
            return f"{name}.{key}: a string"
    return None


def anthropic_call_problem(body: dict[str, Any], name: str, data: Any) -> str | None:
    """A ``tool_use`` of a declared ``computer_*`` tool (or toolset member) the emulated model sends:
    its version's actions, their fields, coordinates inside the declared display."""
    if _toolset_declared(body) and _member_input(name) is not None:
        return _toolset_call_problem(name, data)
    tool = next(
        (
            t
            for t in body.get("tools") or []
            if isinstance(t, dict) and t.get("name") == name and t.get("type") in ANTHROPIC_COMPUTER_TOOLS
        ),
        None,
    )
    if tool is None:
        return None
    problem = anthropic_action_problem(tool["type"], data)
    if problem:
        return problem
    action = data["action"]
    extra = set(data) - {"action"} - _ANTHROPIC_FIELDS[action]
    if extra:
        return f"{action}: unexpected {sorted(extra)}"
    if "text" in data and not isinstance(data["text"], str):  # type/key: the text; clicks, scroll: modifiers
        return f"{action}.text: a string"
    for key in ("coordinate", "start_coordinate"):
        point = data.get(key)
        if point is None:
            continue
        if not (isinstance(point, list) and len(point) == 2 and all(isinstance(v, int) for v in point)):
            return f"{action}.{key}: [x, y] integers"
        if not (0 <= point[0] < tool["display_width_px"] and 0 <= point[1] < tool["display_height_px"]):
            return (
                f"{action}.{key}: outside the {tool['display_width_px']}x{tool['display_height_px']} display"
            )
    return None


def check_gemini_interactions_computer(body: dict[str, Any], steps: list[dict[str, Any]], fail: Fail) -> None:
    """The Interactions ``computer_use`` tool (environment browser | mobile | desktop, on computer-use
    models), and a screenshot in every ``function_result`` answering a predefined function."""
    model = str(body.get("model") or "")
    declared = False
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or tool.get("type") != "computer_use":
            continue
        declared = True
        env = tool.get("environment")
        if env not in ("browser", "mobile", "desktop"):
            raise fail(f"tools[{i}].environment: browser, mobile or desktop is required")
        if "computer-use" not in model and _gemini_version(model) < (3, 0):
            raise fail(f"Computer Use is not supported by model {model}.")
        if env == "desktop" and _gemini_version(model) < (3, 5):
            raise fail(f"tools[{i}].environment: desktop is not supported by model {model}.")
        for name in tool.get("excluded_predefined_functions") or []:
            if name not in GEMINI_PREDEFINED:
                raise fail(f"tools[{i}].excluded_predefined_functions: unknown function {name!r}")
    if not declared:
        return
    tail = len(steps)
    while tail > 0 and steps[tail - 1].get("type") == "function_result":
        tail -= 1  # the results answering the latest calls (older ones may have been trimmed)
    for i, step in enumerate(steps[tail:], start=tail):
        if step.get("name") not in GEMINI_PREDEFINED:
            continue
        result = step.get("result")
        images = (
            [c for c in result if isinstance(c, dict) and c.get("type") == "image"]
            if isinstance(result, list)
            else []
        )
        if not images and not step.get("is_error"):
            raise fail(
                f"input[{i}]: a computer use function_result must include the screenshot of the current state"
            )
