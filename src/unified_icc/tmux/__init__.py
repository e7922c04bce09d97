"""The tmux layer: the backend seam, its libtmux implementation, and key names.

Owns every conversation with tmux; knows nothing of providers, channels or state.
"""

from __future__ import annotations

from unified_icc.tmux.backend import CreatedWindow, PaneInfo, PaneProbe, TmuxBackend, WindowSpec
from unified_icc.tmux.keys import (
    KEY_NAMES,
    DeliveryMethod,
    TextDelivery,
    normalise_key,
    plan_text,
)
from unified_icc.tmux.libtmux_backend import LibtmuxBackend

__all__ = [
    "KEY_NAMES",
    "CreatedWindow",
    "DeliveryMethod",
    "LibtmuxBackend",
    "PaneInfo",
    "PaneProbe",
    "TextDelivery",
    "TmuxBackend",
    "WindowSpec",
    "normalise_key",
    "plan_text",
]
