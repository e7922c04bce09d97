"""The hook events file: reading new hook events incrementally, and compacting it.

Owns parsing of the lines ``python -m unified_icc.hook`` appends; knows nothing of what the
gateway does with them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EVENTS_FILE_NAME", "HookEvent", "HookEventsFile"]

logger = logging.getLogger(__name__)

EVENTS_FILE_NAME = "hook-events.jsonl"
# Once everything is consumed and the file is larger than this, it is emptied.
_COMPACT_BYTES = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class HookEvent:
    """One hook call of an agent, as the hook process recorded it."""

    ts: float
    record_id: str
    pane_id: str
    name: str
    session_id: str | None = None
    transcript_path: str | None = None
    source: str | None = None
    notification_type: str | None = None

    @classmethod
    def from_line(cls, line: str) -> HookEvent | None:
        """Parse one line; None (logged) for anything that is not a hook record."""
        try:
            data = json.loads(line)
        except ValueError:
            logger.warning("skipping an unreadable hook event line")
            return None
        if not isinstance(data, dict) or not isinstance(data.get("payload"), dict):
            return None
        payload: dict[str, Any] = data["payload"]
        return cls(
            ts=float(data.get("ts") or 0.0),
            record_id=str(data.get("record_id") or ""),
            pane_id=str(data.get("pane_id") or ""),
            name=str(payload.get("hook_event_name") or ""),
            session_id=_text(payload.get("session_id")),
            transcript_path=_text(payload.get("transcript_path")),
            source=_text(payload.get("source")),
            notification_type=_text(payload.get("notification_type")),
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class HookEventsFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def ensure(self) -> None:
        """Create the file (mode 0600) and its folder, so watching can start at once."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.close(fd)

    def read_from(self, offset: int) -> tuple[list[HookEvent], int]:
        """Complete events after ``offset`` and the offset after the last complete line.

        A file shorter than ``offset`` was compacted or replaced: it is read from the start.
        """
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size < offset:
                    offset = 0
                handle.seek(offset)
                data = handle.read()
        except FileNotFoundError:
            return [], 0
        end = data.rfind(b"\n") + 1
        events = [
            event
            for raw in data[:end].splitlines()
            if raw.strip() and (event := HookEvent.from_line(raw.decode("utf-8", "replace")))
        ]
        return events, offset + end

    def compact_if_consumed(self, offset: int) -> int:
        """Empty the file if it is big and fully consumed; returns the offset to keep."""
        with contextlib.suppress(FileNotFoundError):
            if self.path.stat().st_size < _COMPACT_BYTES:
                return offset
            fd = os.open(self.path, os.O_RDWR)
            try:
                # Hooks append under the same lock, so no line can slip in between.
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_size == offset:
                    os.ftruncate(fd, 0)
                    return 0
            finally:
                os.close(fd)
        return offset
