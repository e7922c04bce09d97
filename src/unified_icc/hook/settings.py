"""The hook command line, and the per-window settings file that declares it (Claude).

Owns the command our hooks run and the settings JSON written into the gateway's state
folder; the user's ``~/.claude/settings.json`` is never read or written.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Sequence
from pathlib import Path

__all__ = ["hook_command", "write_hook_settings"]

# Seconds Claude may wait for our hook; it only appends a line, so this is generous.
_HOOK_TIMEOUT = 10


def hook_command(*, python: str, events_file: Path, record_id: str) -> str:
    """The shell command a hook runs: our hook module under the gateway's own Python."""
    return shlex.join(
        [python, "-m", "unified_icc.hook", "--events", str(events_file), "--record", record_id]
    )


def write_hook_settings(path: Path, *, command: str, events: Sequence[str]) -> Path:
    """Write a settings file running ``command`` for each of ``events`` (mode 0600)."""
    handler = {"type": "command", "command": command, "timeout": _HOOK_TIMEOUT}
    hooks = {event: [{"hooks": [handler]}] for event in events}
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"hooks": hooks}, handle, indent=1)
    return path
