"""SessionMonitor: keeps the window records true to live tmux and reports what changed.

Owns the watch loop (one ``list-panes`` call per tick for every window, whatever their
number), the startup reconcile, dead-window detection and session-id answers. It does not
create, type into or kill windows (the gateway does) and holds no parsing logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from unified_icc.channel_router import ChannelRouter
from unified_icc.errors import TmuxError, WindowNotFoundError
from unified_icc.event_bus import EventBus
from unified_icc.events import AgentStatus, StatusEvent, WindowChange, WindowEvent
from unified_icc.ids import RecordId, SessionId, WindowId
from unified_icc.tmux import PaneInfo, TmuxBackend
from unified_icc.window_store import WindowRecord, WindowStore

__all__ = ["SessionMonitor"]

logger = logging.getLogger(__name__)

# Ticks to wait for tmux to report how a dead pane's process ended before reporting it anyway.
_EXIT_STATUS_TICKS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class _Loss:
    """A record whose window died or vanished, found in one snapshot."""

    record: WindowRecord
    vanished: bool
    exit_status: int | None
    exit_signal: int | None = None


class SessionMonitor:
    def __init__(
        self,
        *,
        backend: TmuxBackend,
        session: str,
        store: WindowStore,
        router: ChannelRouter,
        bus: EventBus,
        persist: Callable[[], None],
        interval: float,
    ) -> None:
        self._backend = backend
        self._session = session
        self._store = store
        self._router = router
        self._bus = bus
        self._persist = persist
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._exiting: dict[RecordId, int] = {}

    def detect_session_id(self, window_id: WindowId) -> SessionId | None:
        """The agent session id of one of our windows, from what the gateway launched it with.

        Raises:
            WindowNotFoundError: the window is not one of ours.
        """
        record = self._store.by_window(window_id)
        if record is None:
            raise WindowNotFoundError(
                f"window {window_id} is not a window this gateway created", window_id=window_id
            )
        return record.session_id

    async def reconcile(self, *, startup: bool) -> None:
        """Match every record to live tmux once and report the windows that died.

        At startup a dead window is also unbound, so a chat starts fresh; while running,
        its binding stays so the chat is told the agent exited when it writes.
        Raises: TmuxError when tmux cannot be asked (not when its server is simply gone).
        """
        known = {record.record_id for record in self._store}
        panes = await self._backend.list_panes(self._session)
        losses = self._apply(panes, known, patient=not startup)
        for loss in losses:
            await self._report(loss, unbind=startup or loss.vanished)
        if losses:
            self._persist()

    async def start(self) -> None:
        if self._task is not None:
            return
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name=f"unified-icc-monitor-{self._session}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.reconcile(startup=False)
            except TmuxError as exc:
                logger.warning("pane snapshot of session %s failed: %s", self._session, exc)
            except Exception:
                logger.exception("monitor tick for session %s failed", self._session)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._stop.wait()

    def _apply(
        self, panes: tuple[PaneInfo, ...], known: set[RecordId], *, patient: bool
    ) -> list[_Loss]:
        by_record = {pane.record_id: pane for pane in panes if pane.record_id}
        losses: list[_Loss] = []
        for record_id in known:
            record = self._store.get(record_id)
            if record is None:  # killed by the gateway while tmux was being asked
                continue
            pane = by_record.get(record_id)
            if pane is None:
                losses.append(_Loss(record=record, vanished=True, exit_status=None))
                continue
            if pane.window_id != record.window_id:
                self._router.move_window(record.window_id, pane.window_id)
                record = self._store.update(record_id, window_id=pane.window_id)
                self._persist()
            if pane.dead and not record.dead and not self._still_exiting(pane, record, patient):
                losses.append(_Loss(record=record, vanished=False, exit_status=pane.dead_status,
                                    exit_signal=pane.dead_signal))  # fmt: skip
        return losses

    def _still_exiting(self, pane: PaneInfo, record: WindowRecord, patient: bool) -> bool:
        """Give tmux a few ticks to learn the exit status before reporting without one."""
        if not pane.exit_unknown or not patient:
            self._exiting.pop(record.record_id, None)
            return False
        ticks = self._exiting.get(record.record_id, 0) + 1
        if ticks >= _EXIT_STATUS_TICKS:
            self._exiting.pop(record.record_id, None)
            return False
        self._exiting[record.record_id] = ticks
        return True

    async def _report(self, loss: _Loss, *, unbind: bool) -> None:
        record = loss.record
        channels = self._router.channels_for(record.window_id)
        if loss.vanished:
            self._store.remove(record.record_id)
            reason = "the window is gone (closed outside the gateway, or tmux stopped)"
        else:
            self._store.update(record.record_id, dead=True, exit_status=loss.exit_status)
            reason = _exit_reason(loss)
        if unbind:
            self._router.unbind_window(record.window_id)
        logger.info("window %s (%s) died: %s", record.window_id, record.provider, reason)
        await self._bus.emit(
            WindowEvent(
                window_id=record.window_id,
                kind=WindowChange.DIED,
                channel_ids=channels,
                provider=record.provider,
                exit_status=loss.exit_status,
                reason=reason,
            )
        )
        await self._bus.emit(
            StatusEvent(
                window_id=record.window_id,
                channel_ids=channels,
                status=AgentStatus.DEAD,
                exit_status=loss.exit_status,
            )
        )


def _exit_reason(loss: _Loss) -> str:
    if loss.exit_status is not None:
        return f"the agent exited with status {loss.exit_status}"
    if loss.exit_signal is not None:
        return f"the agent was killed by signal {loss.exit_signal}"
    return "the agent exited (tmux did not report how)"
