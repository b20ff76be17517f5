"""The ``computer`` tool: one neutral tool a model drives a sandbox's desktop with.

Each call is one :data:`~.actions.Action` in the coordinates of the screenshot the model was shown;
they are mapped to the screen (:class:`~.desktop.Scaling`), executed, and the result comes back as a
short text plus a PNG screenshot (an :class:`~agentcore.messages.ImagePart` in ``ToolResult.parts``).
Only the last ``keep_screenshots`` screenshots stay in the model's view; older ones are replaced by a
placeholder when the next request is built (:func:`agentcore.messages.keep_last_images`).

The vendors' native computer tools (Anthropic ``computer_*``, OpenAI ``computer_call``, Gemini computer
use) translate to and from these actions in the provider adapters.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from agentcore import tracing
from agentcore.context import RunContext
from agentcore.errors import SandboxError, ToolError, UserError
from agentcore.messages import ImagePart
from agentcore.tools import ApprovalPredicate, Tool, ToolOutput

from . import actions as a
from .config import DesktopError

if TYPE_CHECKING:
    from .desktop import Desktop

__all__ = ["ComputerTool", "SafetyPolicy", "computer_tool", "outside_region", "run_action"]

ACKNOWLEDGED = "acknowledged safety checks: "
"""In the result of a flagged action that ran (or failed while running) after the decision: the
vendor's adapter acknowledges the checks only in front of it."""
SafetyPolicy = Callable[[list[dict[str, Any]]], bool]
"""An explicit policy on vendor safety checks: True acknowledges them without asking a human."""

DESCRIPTION = (
    "Use a computer's screen, mouse and keyboard. Each call does one action and returns a screenshot. "
    "Coordinates are pixels of the latest screenshot ({w}x{h}). Start with action=screenshot."
)


async def run_action(desktop: Desktop, action: a.Action) -> tuple[str, bytes | None]:
    """Execute ``action`` (model coordinates) on ``desktop``: (text for the model, PNG or None).

    When the display's X server died (killed in the sandbox), the display is started again and the
    action runs once more on the fresh, empty screen; the text says so. If it does not come back, a
    :class:`DesktopError` says that."""
    if isinstance(action, a.Screenshot) and not await desktop.alive():
        await _restart(desktop)  # a stale framebuffer would show a screen that is gone
        text, png = await _run_action(desktop, action)
        return f"{text} (the display had stopped and was restarted: applications on it are gone)", png
    try:
        return await _run_action(desktop, action)
    except DesktopError:
        if await desktop.alive():
            raise  # the display is fine: the action itself failed
    await _restart(desktop)
    text, png = await _run_action(desktop, action)
    return f"{text} (the display had stopped and was restarted: applications on it are gone)", png


async def _restart(desktop: Desktop) -> None:
    try:
        await desktop.restart()
    except SandboxError as exc:
        raise DesktopError(f"the display stopped and could not be restarted: {exc}") from None


async def _run_action(desktop: Desktop, action: a.Action) -> tuple[str, bytes | None]:
    if isinstance(action, a.Batch):  # in order; the screenshot after the last one
        texts: list[str] = []
        png: bytes | None = None
        for step in action.actions:
            text, png = await _run_one(desktop, step)
            texts.append(text)
        return "; ".join(texts), png if png is not None else await desktop.screenshot()
    return await _run_one(desktop, action)


async def _run_one(desktop: Desktop, action: a.Single) -> tuple[str, bytes | None]:
    scale = desktop.scaling

    def pt(x: int | None, y: int | None) -> tuple[int | None, int | None]:
        if x is None or y is None:
            if (x is None) != (y is None):
                raise ToolError("give both x and y, or neither")
            return None, None
        vw, vh = scale.view
        if not (0 <= x < vw and 0 <= y < vh):
            raise ToolError(f"({x}, {y}) is outside the {vw}x{vh} screenshot")
        return scale.to_screen(x, y)

    text = ""
    match action:
        case a.Screenshot():
            text = "screenshot"
        case a.Click(x=x, y=y, button=button, count=count, modifiers=mods):
            sx, sy = pt(x, y)
            await desktop.click(sx, sy, button, count, modifiers=mods)
            text = f"clicked {button} x{count}" + (f" at ({x}, {y})" if x is not None else "") + _held(mods)
        case a.Move(x=x, y=y, modifiers=mods):
            sx, sy = pt(x, y)
            assert sx is not None and sy is not None
            await desktop.move(sx, sy, modifiers=mods)
            text = f"moved to ({x}, {y})" + _held(mods)
        case a.Drag(path=path, button=button, modifiers=mods):
            points = [pt(x, y) for x, y in path]
            await desktop.drag(
                [(x, y) for x, y in points if x is not None and y is not None], button, modifiers=mods
            )
            text = f"dragged through {len(path)} points" + _held(mods)
        case a.MouseDown(button=button, x=x, y=y) | a.MouseUp(button=button, x=x, y=y):
            sx, sy = pt(x, y)
            if sx is not None and sy is not None:
                await desktop.move(sx, sy)
            down = isinstance(action, a.MouseDown)
            await (desktop.mouse_down(button) if down else desktop.mouse_up(button))
            text = f"{button} button {'down' if down else 'up'}"
        case a.Type(text=typed, delay_ms=delay, x=x, y=y, clear=clear, enter=enter):
            if x is not None or y is not None:
                sx, sy = pt(x, y)
                await desktop.click(sx, sy, "left", 1)
            if clear:  # select the line from its end to its start and delete it (any toolkit, one line)
                await desktop.key("End shift+Home BackSpace")
            await desktop.type(typed, delay)
            if enter:
                await desktop.key("Return")
            text = f"typed {len(typed)} characters" + (" and pressed Enter" if enter else "")
        case a.Key(keys=keys, hold_s=hold):
            await desktop.key(keys, hold_s=hold)
            text = f"pressed {keys}"
        case a.Scroll(x=x, y=y, dx=dx, dy=dy, modifiers=mods):
            sx, sy = pt(x, y)
            await desktop.scroll(sx, sy, dx, dy, modifiers=mods)
            text = f"scrolled dx={dx} dy={dy}" + _held(mods)
        case a.CursorPosition():
            cx, cy = scale.to_view(*await desktop.cursor_position())
            return f"cursor at ({cx}, {cy})", None
        case a.Wait(seconds=seconds):
            await desktop.wait(seconds)
            text = f"waited {seconds:g}s"
        case a.Zoom(region=region):
            left, top = scale.to_screen(region[0], region[1])
            right, bottom = scale.to_screen(region[2] - 1, region[3] - 1)
            return f"zoomed on {list(region)}", await desktop.zoom((left, top, right + 1, bottom + 1))
    if not isinstance(action, a.Screenshot | a.Wait) and desktop.config.settle_s:
        await desktop.wait(desktop.config.settle_s)
    return text, await desktop.screenshot()


def _held(modifiers: tuple[str, ...]) -> str:
    return f" holding {'+'.join(modifiers)}" if modifiers else ""


class ComputerTool(Tool):
    """The ``computer`` tool bound to one desktop (see the module docstring)."""

    def __init__(
        self,
        desktop: Desktop,
        *,
        name: str = "computer",
        keep_screenshots: int = 3,
        needs_approval: bool | ApprovalPredicate | None = None,
        acknowledge_safety_checks: SafetyPolicy | None = None,
    ) -> None:
        """``needs_approval``: True pauses the run before every action, a predicate
        ``(ctx, arguments) -> bool`` before the actions it picks (:func:`outside_region`); None: True
        when ``"computer"`` is in the sandbox's ``approve_tools``.

        ``acknowledge_safety_checks``: an action the vendor flagged (OpenAI ``pending_safety_checks``,
        Gemini ``require_confirmation``; ``safety_checks`` in the arguments) always pauses for a human,
        unless this explicit policy ``(checks) -> bool`` acknowledges those checks."""
        if keep_screenshots < 1:
            raise UserError("keep_screenshots must be at least 1")
        w, h = desktop.scaling.view
        if needs_approval is None:
            needs_approval = name in desktop.sandbox.config.approve_tools
        super().__init__(
            name=name,
            description=DESCRIPTION.format(w=w, h=h),
            parameters=a.action_schema(w, h),
            needs_approval=needs_approval,
            metadata={
                "sandbox": True,
                "sandbox_backend": desktop.sandbox.backend,
                "sandbox_id": desktop.sandbox.id,
                "keep_images": keep_screenshots,
                "in_order": True,  # a turn's actions (a vendor's batch) run one after the other, in order
                "computer": {"width": w, "height": h},
            },
        )
        self.desktop = desktop
        self.acknowledge_safety_checks = acknowledge_safety_checks

    async def requires_approval(self, ctx: RunContext[Any], arguments: dict[str, Any]) -> bool:
        checks = arguments.get("safety_checks")
        if checks:  # flagged by the vendor: a human decides unless an explicit policy acknowledges
            policy = self.acknowledge_safety_checks
            return policy is None or not policy(list(checks))
        return await super().requires_approval(ctx, arguments)

    def parse_arguments(self, raw: str) -> dict[str, Any]:
        data = super().parse_arguments(raw)
        try:
            a.parse_action(data)
        except ValidationError as exc:
            from agentcore.tools import ToolArgumentsError

            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()
            )
            raise ToolArgumentsError(f"invalid computer action: {problems}") from None
        return data

    async def invoke(self, ctx: RunContext[Any], arguments: dict[str, Any]) -> ToolOutput:
        # Reaching here, a flagged action was approved by a human or acknowledged by the explicit policy:
        # its result says so, failed or not (the OpenAI adapter acknowledges the checks only then).
        checks = arguments.get("safety_checks")
        acked = ACKNOWLEDGED + ", ".join(str(c.get("id")) for c in checks) if checks else ""
        try:
            action = a.parse_action(arguments)
        except ValidationError as exc:
            problem = f"invalid computer action: {exc.errors()[0]['msg']}"
            raise ToolError(f"{problem}; {acked}" if acked else problem) from None
        try:
            text, png = await run_action(self.desktop, action)
        except (DesktopError, UserError, ToolError) as exc:
            raise ToolError(f"{exc}; {acked}" if acked else str(exc)) from None
        await _trace(action, png)
        if acked:
            text += "; " + acked
        if png is None:
            return ToolOutput(text)
        return ToolOutput(text, [ImagePart(data=base64.b64encode(png).decode(), media_type="image/png")])


async def _trace(action: a.Action, png: bytes | None) -> None:
    """On the tool's span: the action, and (content capture on) the screenshot's file, written next to
    the local traces (``<traces>/screens/<sha256>.png``, once per image); never the image bytes."""
    from opentelemetry import trace

    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attribute("agentcore.computer.action", action.action)
    if png is None or not tracing.capture_content():
        return
    from agentcore.tracing.store import traces_dir

    def write() -> str:
        folder = traces_dir() / "screens"
        folder.mkdir(exist_ok=True)
        path = folder / f"{hashlib.sha256(png).hexdigest()}.png"
        if not path.exists():
            path.write_bytes(png)
        return str(path)

    span.set_attribute("agentcore.computer.screenshot", await asyncio.to_thread(write))


def computer_tool(
    desktop: Desktop, *, keep_screenshots: int = 3, needs_approval: bool | ApprovalPredicate | None = None
) -> ComputerTool:
    """The neutral ``computer`` tool for ``desktop`` (``sandbox.desktop``)."""
    return ComputerTool(desktop, keep_screenshots=keep_screenshots, needs_approval=needs_approval)


_POINTER_ACTIONS = ("click", "move", "scroll", "drag")


def outside_region(left: int, top: int, right: int, bottom: int) -> ApprovalPredicate:
    """An approval rule: pause for a human before any pointer action (click, move, scroll, drag) that
    lands outside the region (model coordinates, right/bottom exclusive), and before typing or a key
    press when the pointer was last sent outside it. ``ComputerTool(desktop, needs_approval=...)``."""
    last: dict[str, bool] = {"outside": False}

    def outside(x: Any, y: Any) -> bool:
        return not (isinstance(x, int) and isinstance(y, int) and left <= x < right and top <= y < bottom)

    def rule(ctx: RunContext[Any], arguments: dict[str, Any]) -> bool:
        action = arguments.get("action")
        if action == "batch":  # every step is judged, in order
            steps = [rule(ctx, s) for s in arguments.get("actions") or [] if isinstance(s, dict)]
            return any(steps)
        placed = action in ("type", "mouse_down", "mouse_up") and arguments.get("x") is not None
        if action in _POINTER_ACTIONS or placed:  # (typing or pressing at a point: a pointer action too)
            points = arguments.get("path") or [[arguments.get("x"), arguments.get("y")]]
            if all(p[0] is None for p in points if isinstance(p, list | tuple) and p):
                return last["outside"]  # where the pointer already is
            last["outside"] = any(
                outside(*p[:2]) for p in points if isinstance(p, list | tuple) and len(p) >= 2
            )
            return last["outside"]
        if action in ("type", "key", "mouse_down", "mouse_up"):
            return last["outside"]
        return False

    return rule
