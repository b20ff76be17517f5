"""Desktop settings (no imports from the rest of the sandboxes package: ``SandboxConfig`` refers to it)."""

from __future__ import annotations

from dataclasses import dataclass

from agentcore.errors import SandboxError, UserError

__all__ = ["DesktopConfig", "DesktopError"]


class DesktopError(SandboxError):
    """The desktop could not start, or an action failed inside the sandbox."""


@dataclass(frozen=True)
class DesktopConfig:
    """A virtual X display inside a sandbox (``SandboxConfig(desktop=DesktopConfig())``).

    The display is Xvfb at ``width`` x ``height`` (24-bit), reachable only inside the sandbox (no TCP
    listener; the sandbox's network settings are unchanged). Screenshots and actions go through the
    sandbox's ``exec`` as the sandbox user.
    """

    width: int = 1280
    height: int = 800
    display: int = 1
    """X display number (``DISPLAY=:1``)."""
    max_image: tuple[int, int] | None = None
    """Largest screenshot the model is shown, (width, height). A larger display is downscaled to fit
    (aspect kept) and the model's coordinates are mapped back to real pixels. None: real size."""
    window_manager: tuple[str, ...] | None = None
    """Command of a window manager to start with the display (e.g. ``("matchbox-window-manager",)``);
    None runs none: windows keep the geometry they ask for and keyboard focus follows the pointer."""
    type_chunk: int = 50
    """Characters per ``xdotool type`` call when typing text."""
    type_delay_ms: int = 12
    """Delay between typed characters."""
    settle_s: float = 0.05
    """Pause after an action before the screenshot that follows it (lets the app redraw)."""
    png_level: int | None = None
    """zlib level of screenshots; None: the fastest good one (2 with zlib-ng, 1 with the standard zlib)."""
    start_timeout_s: float = 20.0

    def __post_init__(self) -> None:
        if not (16 <= self.width <= 8192 and 16 <= self.height <= 8192):
            raise UserError(f"DesktopConfig: display size {self.width}x{self.height} is out of range")
        if not 0 <= self.display < 1000:
            raise UserError("DesktopConfig.display must be between 0 and 999")
        if self.max_image is not None and (self.max_image[0] < 16 or self.max_image[1] < 16):
            raise UserError("DesktopConfig.max_image must be at least 16x16")
        if self.type_chunk <= 0 or self.type_delay_ms < 0 or self.settle_s < 0:
            raise UserError("DesktopConfig: type_chunk must be positive, delays not negative")

    @property
    def view_size(self) -> tuple[int, int]:
        """The size of the screenshots the model sees: the display, fitted into ``max_image``."""
        if self.max_image is None:
            return self.width, self.height
        scale = min(self.max_image[0] / self.width, self.max_image[1] / self.height, 1.0)
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))
