"""Terminal screens: what an agent CLI's pane says about its state, and the pane as a picture.

Owns the public names of the screen parser and the screenshot renderer; knows nothing of tmux
or of how panes are captured.
"""

from __future__ import annotations

from unified_icc.terminal.screenshot import ScreenshotRenderer, ScreenshotStyle, render_screenshot
from unified_icc.terminal.status_parser import ScreenStatus, parse_screen

__all__ = [
    "ScreenStatus",
    "ScreenshotRenderer",
    "ScreenshotStyle",
    "parse_screen",
    "render_screenshot",
]
