"""Terminal screens: what an agent CLI's pane text says about its state.

Owns the public names of the screen parser; knows nothing of tmux or of how panes are captured.
"""

from __future__ import annotations

from unified_icc.terminal.status_parser import ScreenStatus, parse_screen

__all__ = ["ScreenStatus", "parse_screen"]
