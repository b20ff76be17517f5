"""The desktop of a sandbox: Xvfb, an optional window manager, xdotool, and fast PNG screenshots.

Everything runs inside the sandbox as the sandbox user, started through the sandbox's ``exec`` (so the
same code serves the local and docker backends, with their isolation: no network, limits, non-root).
The display listens on a Unix socket inside the sandbox only (``-nolisten tcp``).

Screenshots read Xvfb's memory-mapped framebuffer file (``-fbdir``) with one ``cat`` and encode the PNG
here in a worker thread: measured faster than ``xwd``, ImageMagick ``import`` or any encoder inside the
sandbox (see docs/computer-use.md and ``bench/desktop.py``).

Coordinates: every method takes **screen** pixels. :class:`Scaling` maps between the screen and the
smaller image a model is shown (``DesktopConfig.max_image``); the ``computer`` tool uses it.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from agentcore.errors import SandboxError, UserError

from .config import DesktopConfig, DesktopError
from .framebuffer import HostFramebuffer
from .image import encode_png, parse_xwd
from .keys import xdotool_combo, xdotool_keys

if TYPE_CHECKING:
    from ..base import ExecResult, Sandbox
    from .tool import ComputerTool

__all__ = ["BUTTONS", "Button", "Desktop", "DesktopError", "Scaling", "start_desktop"]

FB_DIR = "/tmp/.agentcore-desktop"
SHELL_SESSION = "_desktop"
"""The persistent shell session xdotool runs in (the agent's shell tool uses ``default``)."""
Button = Literal["left", "middle", "right", "back", "forward"]
BUTTONS: dict[str, int] = {"left": 1, "middle": 2, "right": 3, "back": 8, "forward": 9}


@dataclass(frozen=True)
class Scaling:
    """Maps coordinates between the screen (``screen``) and the image a model sees (``view``)."""

    screen: tuple[int, int]
    view: tuple[int, int]

    @property
    def identity(self) -> bool:
        return self.screen == self.view

    def to_screen(self, x: float, y: float) -> tuple[int, int]:
        """A point of the model's image → the screen pixel under it (clamped to the screen)."""
        sx = int(x * self.screen[0] / self.view[0]) if not self.identity else int(x)
        sy = int(y * self.screen[1] / self.view[1]) if not self.identity else int(y)
        return min(max(sx, 0), self.screen[0] - 1), min(max(sy, 0), self.screen[1] - 1)

    def to_view(self, x: float, y: float) -> tuple[int, int]:
        """A screen pixel → the point of the model's image that shows it."""
        vx, vy = int(x * self.view[0] / self.screen[0]), int(y * self.view[1] / self.screen[1])
        return min(max(vx, 0), self.view[0] - 1), min(max(vy, 0), self.view[1] - 1)


async def start_desktop(desktop: Desktop) -> None:
    """Start the desktop of its just-started sandbox; on failure the sandbox is closed."""
    try:
        await desktop.start()
    except BaseException:
        await desktop.sandbox.close()
        raise


class Desktop:
    """The virtual display of one sandbox. Built and started by the sandbox when its config has
    ``desktop=DesktopConfig(...)``; reach it as ``sandbox.desktop``."""

    def __init__(self, sandbox: Sandbox, config: DesktopConfig) -> None:
        self.sandbox = sandbox
        self.config = config
        self.scaling = Scaling((config.width, config.height), config.view_size)
        self.env = {"DISPLAY": f":{config.display}"}
        self._fb = f"{FB_DIR}/Xvfb_screen0"
        self._fb_max = config.width * config.height * 4 + 65536
        self._host_fb: HostFramebuffer | None = None
        self._last_png: tuple[Any, bytes, bytes] | None = None
        self.started = False
        self.restarts = 0
        """How many times the display was started again after its X server died (:meth:`restart`)."""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start Xvfb (and the window manager) and wait until the display accepts clients."""
        cfg = self.config
        xvfb = [
            "Xvfb", f":{cfg.display}", "-screen", "0", f"{cfg.width}x{cfg.height}x24", "-fbdir", FB_DIR,
            "-nolisten", "tcp", "-noreset", "-dpi", "96", "-displayfd", "3",
        ]
        # -displayfd: Xvfb writes its display number to fd 3 once it accepts clients; `head -n1` waits
        # for that line, so start() returns exactly when the display is ready (no polling).
        script = (
            f"mkdir -p {FB_DIR} && "
            f"{{ setsid {shlex.join(xvfb)} 3>&1 >/dev/null 2>{FB_DIR}/xvfb.log </dev/null & }} | head -n1"
        )
        if cfg.window_manager:
            script += f"; setsid {shlex.join(cfg.window_manager)} >{FB_DIR}/wm.log 2>&1 </dev/null &"
        result = await self.sandbox.exec(["sh", "-c", script], timeout=cfg.start_timeout_s)
        if not result.ok or not result.stdout.strip():
            log = await self.sandbox.exec(["cat", f"{FB_DIR}/xvfb.log"], timeout=5)
            raise DesktopError(
                "the desktop did not start (are xvfb and xdotool installed in the sandbox?): "
                f"{(result.stderr + log.stdout).decode(errors='replace').strip()[-800:]}"
            )
        self.started = True
        self._host_fb = await asyncio.to_thread(self._open_host_framebuffer)
        await self.sandbox.open_shell(SHELL_SESSION)

    def _open_host_framebuffer(self) -> HostFramebuffer | None:
        """The framebuffer file opened host-side, so that a screenshot starts no process: on the local
        backend, and on docker when the engine runs on this machine and we are root (the container's
        init through ``/proc``). None otherwise, or when it cannot be opened (screenshots then go
        through ``exec``). Blocking."""
        try:
            pid = self._sandbox_pid()
            if pid is None:
                return None
            fb = HostFramebuffer.open(pid, self._fb, self._fb_max)
        except Exception:  # any failure: the exec path works everywhere
            return None
        try:
            parse_xwd(fb.read(), width=self.config.width, height=self.config.height)
        except DesktopError:
            fb.close()  # not our display's file (a remote engine, a runtime with its own kernel)
            return None
        return fb

    def _sandbox_pid(self) -> int | None:
        sandbox: Any = self.sandbox
        if sandbox.backend == "local":
            return int(sandbox._root_pid())
        if sandbox.backend == "docker" and os.geteuid() == 0 and sandbox.container_id:
            pid = sandbox._api.inspect_container(sandbox.container_id)["State"]["Pid"]
            return int(pid) if pid else None
        return None

    async def alive(self) -> bool:
        """Whether the X server answers (one xdotool round trip in the desktop's shell)."""
        if not self.started:
            return False
        command = f"DISPLAY=:{self.config.display} xdotool getdisplaygeometry"
        try:
            result = await self.sandbox.shell(command, session=SHELL_SESSION, timeout=10)
        except SandboxError:
            return False
        return result.ok

    async def restart(self) -> None:
        """Start the display again after its X server died (``kill -9 -1`` in the sandbox, an OOM kill):
        the old server's leftovers (lock file, socket) are removed and the applications it showed are
        gone. Raises :class:`DesktopError` when the display does not come back."""
        n = self.config.display
        lock = f"/tmp/.X{n}-lock"
        cleanup = f'[ -f {lock} ] && kill -9 "$(cat {lock})" 2>/dev/null; rm -f {lock} /tmp/.X11-unix/X{n}; true'
        await self.sandbox.exec(["sh", "-c", cleanup], timeout=10)
        await self.close()
        self._last_png = None
        self.started = False
        await self.sandbox.reset_shell(SHELL_SESSION)  # its shell may have died with the display
        self.restarts += 1
        await self.start()

    async def close(self) -> None:
        """Forget the host-side handle (the processes end with the sandbox)."""
        if self._host_fb is not None:
            self._host_fb.close()
            self._host_fb = None

    async def launch(self, argv: Sequence[str]) -> None:
        """Start an application on the display, in the background (it lives until the sandbox closes)."""
        if not argv:
            raise UserError("launch needs a command")
        await self._run(["sh", "-c", 'setsid "$@" >/dev/null 2>&1 </dev/null &', "launch", *argv])

    def tool(
        self, *, keep_screenshots: int = 3, needs_approval: Any = None, acknowledge_safety_checks: Any = None
    ) -> ComputerTool:
        """The neutral ``computer`` tool on this desktop (``Sandbox.tools()`` includes it); see
        :class:`~.tool.ComputerTool` for ``needs_approval`` and ``acknowledge_safety_checks``."""
        from .tool import ComputerTool

        return ComputerTool(
            self,
            keep_screenshots=keep_screenshots,
            needs_approval=needs_approval,
            acknowledge_safety_checks=acknowledge_safety_checks,
        )

    # ------------------------------------------------------------------ seeing

    async def screenshot(self, *, scaled: bool = True) -> bytes:
        """PNG of the screen; downscaled to :attr:`Scaling.view` when ``scaled`` (the model's view)."""
        size = self.scaling.view if scaled else None
        return await self._capture(size=size)

    async def zoom(self, region: tuple[int, int, int, int], *, size: tuple[int, int] | None = None) -> bytes:
        """PNG of a screen ``region`` (left, top, right, bottom), resized to ``size`` (default: fitted
        into the model's view size)."""
        left, top, right, bottom = region
        w, h = self.config.width, self.config.height
        if not (0 <= left < right <= w and 0 <= top < bottom <= h):
            raise UserError(f"zoom region {region} is not inside the {w}x{h} screen")
        if size is None:
            vw, vh = self.scaling.view
            scale = min(vw / (right - left), vh / (bottom - top))
            size = (max(1, round((right - left) * scale)), max(1, round((bottom - top) * scale)))
        return await self._capture(size=size, crop=region)

    async def raw_frame(self) -> bytes:
        """The framebuffer file as it is (XWD)."""
        if self._host_fb is not None and not self.sandbox.closed:
            return await asyncio.to_thread(self._host_fb.read)
        return (await self._run(["cat", self._fb], max_output_bytes=self._fb_max)).stdout

    async def _capture(self, *, size: tuple[int, int] | None, crop: tuple[int, int, int, int] | None = None) -> bytes:
        data = await self.raw_frame()
        cached = self._last_png
        if cached is not None and cached[0] == (size, crop) and cached[1] == data:
            return cached[2]  # the screen did not change: the same PNG (comparing costs ~1 ms)
        cfg = self.config
        frame = parse_xwd(data, width=cfg.width, height=cfg.height)
        png = await asyncio.to_thread(encode_png, frame, size=size, crop=crop, level=cfg.png_level)
        self._last_png = ((size, crop), data, png)
        return png

    async def cursor_position(self) -> tuple[int, int]:
        """Where the pointer is, in screen pixels."""
        out = await self._xdotool("getmouselocation", "--shell")
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        try:
            return int(values["X"]), int(values["Y"])
        except (KeyError, ValueError):
            raise DesktopError(f"xdotool getmouselocation said {out!r}") from None

    async def active_window_name(self) -> str:
        """The name (title) of the window under keyboard focus ('' when none)."""
        result = await self.sandbox.exec(["xdotool", "getwindowfocus", "getwindowname"], env=self.env, timeout=10)
        return result.text.strip() if result.ok else ""

    # ------------------------------------------------------------------ acting

    def _point(self, x: int, y: int) -> list[str]:
        if not (0 <= x < self.config.width and 0 <= y < self.config.height):
            raise UserError(f"point ({x}, {y}) is outside the {self.config.width}x{self.config.height} screen")
        return [str(x), str(y)]

    async def move(self, x: int, y: int, *, modifiers: Sequence[str] = ()) -> None:
        await self._xdotool("mousemove", *self._point(x, y), hold=modifiers)

    async def click(
        self,
        x: int | None = None,
        y: int | None = None,
        button: Button = "left",
        count: int = 1,
        *,
        modifiers: Sequence[str] = (),
    ) -> None:
        """Click ``count`` times (2: double click) at (x, y), or where the pointer is when omitted.
        ``modifiers`` (``["shift"]``, ``["ctrl", "alt"]``) are held down during the click and always
        released after it (as for ``move``, ``drag`` and ``scroll``)."""
        if button not in BUTTONS:
            raise UserError(f"unknown mouse button {button!r} (one of {', '.join(BUTTONS)})")
        if not 1 <= count <= 3:
            raise UserError("click count must be 1, 2 or 3")
        move = ["mousemove", *self._point(x, y)] if x is not None and y is not None else []
        # xdotool sleeps --delay (default 100 ms) after every click, the last one included
        repeat = ["--repeat", str(count), "--delay", "60"] if count > 1 else ["--delay", "0"]
        await self._xdotool(*move, "click", *repeat, str(BUTTONS[button]), hold=modifiers)

    async def mouse_down(self, button: Button = "left") -> None:
        await self._xdotool("mousedown", str(BUTTONS[button]))

    async def mouse_up(self, button: Button = "left") -> None:
        await self._xdotool("mouseup", str(BUTTONS[button]))

    async def drag(
        self, path: Sequence[tuple[int, int]], button: Button = "left", *, modifiers: Sequence[str] = ()
    ) -> None:
        """Press at the first point, move through the others, release at the last."""
        if len(path) < 2:
            raise UserError("a drag needs at least two points")
        args = ["mousemove", *self._point(*path[0]), "mousedown", str(BUTTONS[button])]
        for x, y in path[1:]:
            args += ["sleep", "0.02", "mousemove", *self._point(x, y)]
        args += ["sleep", "0.02", "mouseup", str(BUTTONS[button])]
        await self._xdotool(*args, hold=modifiers)

    async def type(self, text: str, delay_ms: int | None = None) -> None:
        """Type ``text`` (any Unicode) in chunks of ``type_chunk`` characters."""
        delay = self.config.type_delay_ms if delay_ms is None else delay_ms
        if "\0" in text:
            raise UserError("text contains a NUL character")
        step = self.config.type_chunk
        for start in range(0, len(text), step):
            await self._xdotool("type", "--delay", str(delay), "--", text[start : start + step])

    async def key(self, keys: str | Sequence[str], *, hold_s: float = 0.0) -> None:
        """Press a key combination (``"ctrl+a"``, ``"Return"``, ``["CTRL", "A"]``…; see :mod:`.keys`).
        ``hold_s`` keeps it down that long."""
        combos = xdotool_combo(keys)
        if hold_s > 0:
            for combo in combos:
                await self._xdotool("keydown", combo, "sleep", f"{hold_s:.3f}", "keyup", combo)
            return
        await self._xdotool("key", "--clearmodifiers", "--", *combos)

    async def scroll(
        self, x: int | None, y: int | None, dx: int = 0, dy: int = 0, *, modifiers: Sequence[str] = ()
    ) -> None:
        """Scroll by wheel clicks at (x, y): ``dy`` > 0 down, < 0 up; ``dx`` > 0 right, < 0 left."""
        args = ["mousemove", *self._point(x, y)] if x is not None and y is not None else []
        for amount, neg, pos in ((dy, "4", "5"), (dx, "6", "7")):
            if amount:
                args += ["click", "--repeat", str(min(abs(amount), 50)), "--delay", "5", pos if amount > 0 else neg]
        if args:
            await self._xdotool(*args, hold=modifiers)

    async def wait(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, min(seconds, 60.0)))

    # ------------------------------------------------------------------ plumbing

    async def _xdotool(self, *args: str, hold: Sequence[str] = ()) -> str:
        """Run xdotool in the desktop's own persistent shell session: a shell round trip costs a few ms
        where a one-shot ``exec`` costs 10 (local) to 150 (docker, measured).

        ``hold``: keys pressed (``keydown``) before ``args`` and released (``keyup``) after them in the
        same round trip, whether ``args`` succeeded or not (the exit status stays that of ``args``)."""
        if not self.started:
            raise DesktopError("the desktop is not started")
        xdotool = f"DISPLAY=:{self.config.display} xdotool"
        command = f"{xdotool} {shlex.join(args)}"
        if hold:
            keys = shlex.quote("+".join(xdotool_keys(hold)))
            command = f"{xdotool} keydown {keys} && {command}; rc=$?; {xdotool} keyup {keys}; (exit $rc)"
        result = await self.sandbox.shell(command, session=SHELL_SESSION, timeout=30)
        if not result.ok:
            raise DesktopError(
                f"xdotool {args[0]} failed (exit {result.exit_code}, timed out: {result.timed_out}): "
                f"{result.output.strip()[-500:]}"
            )
        return result.output

    async def _run(self, argv: Sequence[str], *, max_output_bytes: int | None = None) -> ExecResult:
        if not self.started:
            raise DesktopError("the desktop is not started")
        result = await self.sandbox.exec(argv, env=self.env, timeout=30, max_output_bytes=max_output_bytes)
        if not result.ok:
            err = (result.stderr or result.stdout).decode(errors="replace").strip()[-500:]
            raise DesktopError(f"{argv[0]} failed (exit {result.exit_code}, timed out: {result.timed_out}): {err}")
        return result
