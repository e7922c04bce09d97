"""WindowStore: the records of the windows this gateway created.

Owns WindowRecord and lookups by record id and tmux window id; pure, no I/O
(persistence.py saves it, the gateway reconciles it with live tmux).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from unified_icc.ids import ChannelId, RecordId, SessionId, WindowId

__all__ = ["WindowRecord", "WindowStore"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowRecord:
    """What the gateway knows of one window it created (or adopted)."""

    record_id: RecordId
    window_id: WindowId
    provider: str
    mode: str
    cwd: str
    created_at: str
    channel_id: ChannelId | None = None
    session_id: SessionId | None = None
    transcript_path: str | None = None
    dead: bool = False
    exit_status: int | None = None
    # Stopped by the gateway for idleness (dead too once the CLI has quit): the next
    # message resumes it. Timeouts in seconds: None = the config's, 0 = none.
    asleep: bool = False
    idle_timeout: float | None = None
    turn_timeout: float | None = None


class WindowStore:
    """Records keyed by record id, with a window-id index that follows updates."""

    def __init__(self, records: tuple[WindowRecord, ...] = ()) -> None:
        self._records: dict[RecordId, WindowRecord] = {r.record_id: r for r in records}

    def __iter__(self) -> Iterator[WindowRecord]:
        return iter(list(self._records.values()))

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: WindowRecord) -> None:
        self._records[record.record_id] = record

    def get(self, record_id: str) -> WindowRecord | None:
        return self._records.get(RecordId(record_id))

    def by_window(self, window_id: WindowId) -> WindowRecord | None:
        for record in self._records.values():
            if record.window_id == window_id:
                return record
        return None

    def owned_by(self, channel_id: ChannelId) -> tuple[WindowRecord, ...]:
        return tuple(r for r in self._records.values() if r.channel_id == channel_id)

    def update(self, record_id: RecordId, **changes: object) -> WindowRecord:
        """Replace fields of a record; raises KeyError for an unknown record id."""
        record = dataclasses.replace(self._records[record_id], **changes)  # type: ignore[arg-type]
        self._records[record_id] = record
        return record

    def remove(self, record_id: RecordId) -> WindowRecord | None:
        return self._records.pop(record_id, None)

    def snapshot(self) -> tuple[WindowRecord, ...]:
        return tuple(self._records.values())
