"""CardUpdater: per-card coalescing of card updates in front of an async update callable.

Owns, per card (message id): the newest card waiting to go out, the one update in flight, the
minimum interval between two updates and a digest of the last card sent, so that an unchanged
card is never sent again. Knows nothing of Feishu, card layout or retries (the REST client
retries and honours rate limits; a failed update is logged and the next one is tried).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

__all__ = ["DEFAULT_INTERVAL", "CardUpdater", "Clock", "SystemClock", "UpdateCard"]

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL: Final = 1.0
"""Seconds between the starts of two updates of the same card."""

_REMEMBERED: Final = 1024  # cards whose last-sent digest is kept; older ones are forgotten

UpdateCard = Callable[[str, Mapping[str, Any]], Awaitable[None]]


class Clock(Protocol):
    """Time as the updater sees it; tests inject a fake."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: time.monotonic and asyncio.sleep."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(slots=True, kw_only=True)
class _CardState:
    pending: str | None = None  # canonical JSON of the newest card not yet sent
    sent: str | None = None  # digest of the last card sent successfully
    started: float | None = None  # when the last update started
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class CardUpdater:
    """Sends card updates so that each card sees at most one in flight and one per interval.

    submit() never waits: the newest card replaces any card of the same message still waiting
    (latest wins); a card equal to the last one sent is skipped. Each message id gets one
    worker task, alive only while it has something to send; flush() waits for all of them and
    stop() cancels them. Use ``async with CardUpdater(...)`` to flush and stop on exit.
    """

    def __init__(
        self,
        update: UpdateCard,
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Clock | None = None,
    ) -> None:
        self._update = update
        self._clock: Clock = clock or SystemClock()
        self._cards: OrderedDict[str, _CardState] = OrderedDict()
        self._stopped = False
        self.interval = interval

    @property
    def interval(self) -> float:
        """Minimum seconds between the starts of two updates of one card."""
        return self._interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("interval must not be negative")
        self._interval = seconds

    @property
    def busy(self) -> bool:
        """Whether some card has an update waiting or in flight."""
        return any(state.task is not None for state in self._cards.values())

    def submit(self, message_id: str, card: Mapping[str, Any]) -> None:
        """Queue card as the newest content of message_id; returns at once.

        The card is serialised now, so later changes to the mapping do not leak into it.
        Must be called from the event loop. Raises: RuntimeError after stop().
        """
        if self._stopped:
            raise RuntimeError("the card updater is stopped")
        content = _canonical(card)
        state = self._state(message_id)
        if state.task is None and _digest(content) == state.sent:
            return  # nothing new and nothing waiting
        state.pending = content
        if state.task is None:
            state.task = asyncio.create_task(
                self._run(message_id, state), name=f"card-update-{message_id}"
            )

    def mark_sent(self, message_id: str, card: Mapping[str, Any]) -> None:
        """Record that message_id was just created with card: an equal update is skipped, and
        the first update waits out the interval from now."""
        content = _canonical(card)
        state = self._state(message_id)
        state.sent, state.started = _digest(content), self._clock.monotonic()

    def forget(self, message_id: str) -> None:
        """Drop what is remembered of a card that will not be updated again (idle cards only)."""
        state = self._cards.get(message_id)
        if state is not None and state.task is None:
            del self._cards[message_id]

    async def flush(self) -> None:
        """Wait until every submitted card is sent (or its update failed and was logged).

        Waits as long as the intervals require; cancelling the wait cancels no update.
        """
        while tasks := [s.task for s in self._cards.values() if s.task is not None]:
            await asyncio.wait(tasks)

    async def stop(self) -> None:
        """Cancel waiting and in-flight updates and refuse new ones. Idempotent."""
        self._stopped = True
        tasks = [s.task for s in self._cards.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)  # a cancelled stop() still raises CancelledError

    async def __aenter__(self) -> CardUpdater:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if exc_info[0] is None:
                await self.flush()
        finally:
            await self.stop()

    def _state(self, message_id: str) -> _CardState:
        state = self._cards.get(message_id)
        if state is None:
            state = self._cards[message_id] = _CardState()
            self._evict(keep=message_id)
        self._cards.move_to_end(message_id)
        return state

    def _evict(self, *, keep: str) -> None:
        idle = [key for key, s in self._cards.items() if s.task is None and key != keep]
        for key in idle[: max(0, len(self._cards) - _REMEMBERED)]:
            del self._cards[key]

    async def _run(self, message_id: str, state: _CardState) -> None:
        """Send the newest pending card of one message until none is left."""
        try:
            while state.pending is not None:
                if state.started is not None:
                    wait = state.started + self._interval - self._clock.monotonic()
                    if wait > 0:
                        await self._clock.sleep(wait)
                content, state.pending = state.pending, None
                if _digest(content) == state.sent:
                    continue
                state.started = self._clock.monotonic()
                await self._send(message_id, state, content)
        finally:
            state.task = None

    async def _send(self, message_id: str, state: _CardState, content: str) -> None:
        try:
            await self._update(message_id, json.loads(content))
        except asyncio.CancelledError:
            raise
        except Exception:  # a worker root: log with context, keep serving newer cards
            logger.exception("card update failed message_id=%s", message_id)
        else:
            state.sent = _digest(content)


def _canonical(card: Mapping[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _digest(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()
