"""SeenMessages: the message ids already handled, so a redelivered Feishu event runs once.

Owns a bounded, time-limited set of ids persisted atomically (temp file, fsync, rename; mode
0600) so that a restart does not run redelivered events again; knows nothing of Feishu.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from cclark.private_files import read_json, write_private_json

__all__ = ["SeenMessages"]

logger = logging.getLogger(__name__)


class SeenMessages:
    def __init__(
        self,
        path: Path,
        *,
        ttl: float = 24 * 3600,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def load(self) -> None:
        """Read the saved ids; an unreadable file is logged and ignored (then overwritten)."""
        try:
            data = read_json(self.path)
            if data is None:
                return
            entries = [(str(k), float(v)) for k, v in data.items()]
        except (OSError, ValueError, AttributeError) as exc:
            logger.warning("ignoring unreadable %s (%s)", self.path, exc)
            return
        self._seen = OrderedDict(sorted(entries, key=lambda item: item[1]))
        self._expire()

    def first_time(self, message_id: str) -> bool:
        """Mark ``message_id`` seen; True only the first time (within the ttl)."""
        self._expire()
        if message_id in self._seen:
            return False
        self._seen[message_id] = self._clock()
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        self._save()
        return True

    def _expire(self) -> None:
        horizon = self._clock() - self._ttl
        while self._seen and next(iter(self._seen.values())) < horizon:
            self._seen.popitem(last=False)

    def _save(self) -> None:
        try:
            write_private_json(self.path, dict(self._seen))
        except OSError as exc:
            # Losing the record costs at most one duplicate after a restart; keep serving.
            logger.error("cannot save %s: %s", self.path, exc)
