"""SeenMessages: the message ids already handled, so a redelivered Feishu event runs once.

Owns a bounded, time-limited set of ids, each kept in state.db's ``seen_messages`` (one row
per id, committed before the message is handled) so that a restart does not run redelivered
events again; knows nothing of Feishu.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from unified_icc import Journal

__all__ = ["SeenMessages"]

logger = logging.getLogger(__name__)

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS seen_messages (message_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS seen_messages_at ON seen_messages (at);
"""


class SeenMessages:
    def __init__(
        self,
        *,
        ttl: float = 24 * 3600,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._journal: Journal | None = None

    def load(self, journal: Journal) -> None:
        """Read the saved ids (at gateway start) and keep new ones in journal from now on."""
        journal.define(_SCHEMA)
        horizon = self._clock() - self._ttl
        rows = journal.rows(
            "SELECT message_id, at FROM seen_messages WHERE at >= ? ORDER BY at", (horizon,)
        )
        self._seen = OrderedDict(rows[-self._capacity :])
        self._journal = journal

    async def first_time(self, message_id: str) -> bool:
        """Mark ``message_id`` seen; True only the first time (within the ttl).

        The mark is committed before this returns, so a crash while the message is handled
        cannot make it run twice.
        """
        self._expire()
        if message_id in self._seen:
            return False
        now = self._seen[message_id] = self._clock()
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        if self._journal is not None:
            oldest = next(iter(self._seen.values()))
            await self._journal.commit(
                ("INSERT OR REPLACE INTO seen_messages VALUES (?, ?)", (message_id, now)),
                ("DELETE FROM seen_messages WHERE at < ?", (oldest,)),
            )
        return True

    def _expire(self) -> None:
        horizon = self._clock() - self._ttl
        while self._seen and next(iter(self._seen.values())) < horizon:
            self._seen.popitem(last=False)
