"""Pacer: at most ``rate`` starts in any ``period`` per key (a chat, a card, the whole app).

Owns the sliding windows of recent starts, bounded in number of keys; knows nothing of what is
started. The REST client waits on it; the chat senders ask it and skip what is not due.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from unified_icc import Clock

__all__ = ["Pacer"]

_KEYS_KEPT: Final = 1024  # beyond this, keys idle for a whole period are forgotten


class Pacer:
    def __init__(self, clock: Clock, rate: int, period: float) -> None:
        if rate < 1 or period <= 0:
            raise ValueError("a pacer needs rate >= 1 and period > 0")
        self._clock, self._rate, self._period = clock, rate, period
        self._starts: dict[str, deque[float]] = {}

    def delay(self, key: str) -> float:
        """Seconds until key may start again (0: now). A query: reserves nothing."""
        starts = self._starts.get(key)
        if starts is None or len(starts) < self._rate:
            return 0.0
        return max(0.0, starts[0] + self._period - self._clock.monotonic())

    def note(self, key: str) -> None:
        """Record that key starts now (the caller checked delay())."""
        self._window(key).append(self._clock.monotonic())

    def forget(self, key: str) -> None:
        self._starts.pop(key, None)

    async def wait(self, key: str) -> None:
        """Reserve key's next allowed start, in call order, and sleep until it."""
        now = self._clock.monotonic()
        starts = self._window(key)
        start = now if len(starts) < self._rate else max(now, starts[0] + self._period)
        starts.append(start)
        if start > now:
            await self._clock.sleep(start - now)

    def _window(self, key: str) -> deque[float]:
        starts = self._starts.get(key)
        if starts is None:
            if len(self._starts) >= _KEYS_KEPT:
                now = self._clock.monotonic()
                self._starts = {k: s for k, s in self._starts.items()
                                if s and s[-1] + self._period > now}  # fmt: skip
            starts = self._starts[key] = deque(maxlen=self._rate)
        return starts
