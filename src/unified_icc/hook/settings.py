"""The per-window Claude settings file that declares our hooks.

Owns the hook command line and the settings JSON written into the gateway's state folder;
the user's ``~/.claude/settings.json`` is never read or written.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

__all__ = ["CLAUDE_HOOK_EVENTS", "hook_command", "write_claude_settings"]

CLAUDE_HOOK_EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PermissionRequest",
    "Notification",
    "Stop",
    "SessionEnd",
)
# Seconds Claude may wait for our hook; it only appends a line, so this is generous.
_HOOK_TIMEOUT = 10


def hook_command(*, python: str, events_file: Path, record_id: str) -> str:
    """The shell command a hook runs: our hook module under the gateway's own Python."""
    return shlex.join(
        [python, "-m", "unified_icc.hook", "--events", str(events_file), "--record", record_id]
    )


def write_claude_settings(
    path: Path, *, python: str, events_file: Path, record_id: str
) -> Path:
    """Write the settings file for one window (mode 0600) and return its path."""
    command = {
        "type": "command",
        "command": hook_command(python=python, events_file=events_file, record_id=record_id),
        "timeout": _HOOK_TIMEOUT,
    }
    hooks = {event: [{"hooks": [command]}] for event in CLAUDE_HOOK_EVENTS}
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"hooks": hooks}, handle, indent=1)
    return path
