"""Watermarks: how far each transcript and the hook events file were delivered, in state.db.

Owns the two tables and the writes that move a watermark (one row per transcript, so a move
costs one small write, never a rewrite of everything). Knows nothing of reading transcripts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from unified_icc.journal import Journal, Write
from unified_icc.transcripts import TranscriptCursor

__all__ = ["Watermarks"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transcript_cursors (
    path TEXT PRIMARY KEY, byte_offset INTEGER NOT NULL, identity TEXT NOT NULL,
    recent_ids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gateway_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class Watermarks:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def load(
        self, legacy_cursors: Mapping[str, TranscriptCursor], legacy_hook_offset: int
    ) -> tuple[dict[str, TranscriptCursor], int]:
        """The saved cursors and hook offset; state.json's (older versions kept them there)
        when state.db has none yet."""
        self._journal.define(_SCHEMA)
        rows = self._journal.rows(
            "SELECT path, byte_offset, identity, recent_ids FROM transcript_cursors"
        )
        cursors = {
            path: TranscriptCursor(
                offset=offset, identity=identity, recent_ids=tuple(json.loads(recent))
            )
            for path, offset, identity, recent in rows
        }
        counter = self._journal.rows("SELECT value FROM gateway_counters WHERE name='hooks'")
        if not rows and not counter:
            return dict(legacy_cursors), legacy_hook_offset
        return cursors, counter[0][0] if counter else 0

    @staticmethod
    def cursor(path: str, cursor: TranscriptCursor) -> Write:
        """The write that records cursor as the transcript's watermark."""
        return (
            "INSERT OR REPLACE INTO transcript_cursors VALUES (?, ?, ?, ?)",
            (path, cursor.offset, cursor.identity, json.dumps(list(cursor.recent_ids))),
        )

    @staticmethod
    def hook_offset(offset: int) -> Write:
        """The write that records how far the hook events file was applied."""
        return ("INSERT OR REPLACE INTO gateway_counters VALUES ('hooks', ?)", (offset,))
