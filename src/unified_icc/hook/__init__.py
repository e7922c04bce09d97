"""Agent hooks: the per-window hook settings we launch Claude with, and the events file.

Owns the hook command line, the settings JSON and the format of the events file; the hook
process itself (``python -m unified_icc.hook``) lives in ``__main__`` and loads nothing else.
"""

from __future__ import annotations

from unified_icc.hook.events_file import EVENTS_FILE_NAME, HookEvent, HookEventsFile
from unified_icc.hook.settings import hook_command, write_hook_settings

__all__ = [
    "EVENTS_FILE_NAME",
    "HookEvent",
    "HookEventsFile",
    "hook_command",
    "write_hook_settings",
]
