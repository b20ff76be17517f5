"""Computer use: a virtual display in a sandbox and the neutral ``computer`` tool (docs/computer-use.md)."""

from .actions import Action, parse_action
from .config import DesktopConfig
from .desktop import Desktop, DesktopError, Scaling
from .image import DesktopImageError
from .keys import xdotool_combo
from .tool import ComputerTool, computer_tool, outside_region, run_action

__all__ = [
    "Action",
    "ComputerTool",
    "Desktop",
    "DesktopConfig",
    "DesktopError",
    "DesktopImageError",
    "Scaling",
    "computer_tool",
    "outside_region",
    "parse_action",
    "run_action",
    "xdotool_combo",
]
