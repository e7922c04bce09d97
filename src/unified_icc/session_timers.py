"""SessionTimers: when an idle agent goes to sleep, and when a running turn is stopped.

Owns each window's last activity and the start of its running turn, and one task that acts at
the earliest deadline: an agent idle (no keystroke, no output, no status change) for its idle
timeout is put to sleep; a turn WORKING past its turn timeout is interrupted; a turn WORKING
with no activity for gateway.stall_notice is reported once. A window showing a prompt is never
put to sleep, and a prompt ends the turn's clock (the person is in the loop).
Limits come from the window's record (0 = off) or else the gateway's config. Knows nothing of
how to sleep or interrupt (the callbacks given) or of chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from unified_icc.config import GatewaySettings
from unified_icc.events import AgentMessageEvent, AgentStatus, StatusEvent
from unified_icc.ids import RecordId
from unified_icc.timing import Clock, SystemClock
from unified_icc.window_store import WindowRecord, WindowStore

__all__ = ["SessionTimers", "describe_seconds"]

logger = logging.getLogger(__name__)

Act = Callable[[WindowRecord, float], Awaitable[object]]

# The longest the timer task sleeps without looking: new windows and changed limits are
# picked up by then even when nothing woke it.
_MAX_WAIT = 30.0


@dataclass(slots=True)
class _Clocks:
    last_active: float
    status: AgentStatus | None = None
    working_since: float | None = None
    stall_told: bool = False  # this turn's stall was reported


class SessionTimers:
    def __init__(
        self,
        *,
        store: WindowStore,
        settings: GatewaySettings,
        sleep: Act,
        stop_turn: Act,
        stalled: Act | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._sleep = sleep
        self._stop_turn = stop_turn
        self._stalled = stalled
        self._clock = clock or SystemClock()
        self._clocks: dict[RecordId, _Clocks] = {}
        self._acting: set[RecordId] = set()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._acts: set[asyncio.Task[None]] = set()

    # -- what happened ---------------------------------------------------------------------

    def touch(self, record_id: RecordId) -> None:
        """Something went into or came out of the window: its idle clock starts again."""
        self._of(record_id).last_active = self._clock.monotonic()
        self._changed.set()

    async def on_status(self, event: StatusEvent) -> None:
        record = self._store.by_window(event.window_id)
        if record is None:
            return
        clocks = self._of(record.record_id)
        now = self._clock.monotonic()
        clocks.last_active, clocks.status = now, event.status
        if event.status is AgentStatus.WORKING:
            clocks.working_since = clocks.working_since or now
        else:
            clocks.working_since, clocks.stall_told = None, False
        self._changed.set()

    async def on_message(self, event: AgentMessageEvent) -> None:
        record = self._store.by_window(event.window_id)
        if record is not None:
            self.touch(record.record_id)

    def idle_for(self, record_id: RecordId) -> float:
        """Seconds since the window's last activity (keystroke, output, status change)."""
        return self._clock.monotonic() - self._of(record_id).last_active

    def limits(self, record: WindowRecord) -> tuple[float | None, float | None]:
        """The window's idle and turn timeouts in seconds (None: off)."""
        return (
            _limit(record.idle_timeout, self._settings.idle_timeout),
            _limit(record.turn_timeout, self._settings.turn_timeout),
        )

    # -- the task --------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="unified-icc-session-timers")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._acts) if t is not None]
        self._task = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            wait = self._act_on_due(self._clock.monotonic())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._changed.wait()

    def _act_on_due(self, now: float) -> float:
        """Start the acts that are due; the seconds until the next deadline."""
        soonest = _MAX_WAIT
        live = {record.record_id for record in self._store}
        for gone in self._clocks.keys() - live:
            del self._clocks[gone]
        for record in self._store:
            if record.dead or record.asleep or record.record_id in self._acting:
                continue
            clocks = self._of(record.record_id)
            idle, turn = self.limits(record)
            if idle is not None and clocks.status is AgentStatus.IDLE:
                left = clocks.last_active + idle - now
                if left <= 0:
                    self._begin(self._sleep, record, idle)
                    continue
                soonest = min(soonest, left)
            if turn is not None and clocks.working_since is not None:
                left = clocks.working_since + turn - now
                if left <= 0:
                    clocks.working_since = now
                    self._begin(self._stop_turn, record, turn)
                    continue
                soonest = min(soonest, left)
            stall = self._settings.stall_notice
            watching = clocks.working_since is not None and not clocks.stall_told
            if stall is not None and self._stalled is not None and watching:
                left = clocks.last_active + stall - now
                if left <= 0:
                    clocks.stall_told = True
                    self._begin(self._stalled, record, stall)
                    continue
                soonest = min(soonest, left)
        return max(soonest, 0.01)

    def _begin(self, act: Act, record: WindowRecord, limit: float) -> None:
        self._acting.add(record.record_id)
        task = asyncio.create_task(self._guarded(act, record, limit))
        self._acts.add(task)
        task.add_done_callback(self._acts.discard)

    async def _guarded(self, act: Act, record: WindowRecord, limit: float) -> None:
        try:
            await act(record, limit)
        except Exception:  # supervisor: one window's failure must not stop the timers
            logger.exception("timer act on window %s failed", record.window_id)
        finally:
            self._acting.discard(record.record_id)
            self._changed.set()

    def _of(self, record_id: RecordId) -> _Clocks:
        clocks = self._clocks.get(record_id)
        if clocks is None:
            clocks = self._clocks[record_id] = _Clocks(last_active=self._clock.monotonic())
        return clocks


def _limit(own: float | None, default: float | None) -> float | None:
    value = default if own is None else own
    return value if value else None


def describe_seconds(seconds: float) -> str:
    """A duration as a person would say it: 45 s, 10 min, 1 h 30 min."""
    if seconds < 120:
        return f"{round(seconds)} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    parts = [f"{hours} h"] if hours else []
    return " ".join([*parts, f"{minutes} min"] if minutes or not hours else parts)
