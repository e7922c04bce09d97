"""WindowOwnership: which channel owns which window, and the acts that change it.

Owns killing a window of ours (record, bindings, watches and files dropped, CLOSED reported),
binding a channel under the ownership rule (a window owned by another channel is refused),
and adopting an orphaned agent window (marking it in tmux, recording it for the channel).
Knows nothing of launching, typing or parsing; the gateway facade checks its lifecycle first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from unified_icc.channel_router import ChannelRouter
from unified_icc.errors import TmuxError, WindowNotFoundError, WindowOwnershipError
from unified_icc.event_bus import EventBus
from unified_icc.events import WindowChange, WindowEvent
from unified_icc.ids import ChannelId, WindowId, new_record_id
from unified_icc.session_monitor import SessionMonitor
from unified_icc.tmux import TmuxBackend
from unified_icc.window_input import WindowInput
from unified_icc.window_launch import WindowLauncher
from unified_icc.window_store import WindowRecord, WindowStore
from unified_icc.window_views import OrphanWindow

__all__ = ["WindowOwnership"]

logger = logging.getLogger(__name__)


class WindowOwnership:
    def __init__(
        self,
        *,
        backend: TmuxBackend,
        store: WindowStore,
        router: ChannelRouter,
        bus: EventBus,
        monitor: SessionMonitor,
        window_input: WindowInput,
        launcher: WindowLauncher,
        save: Callable[[], None],
    ) -> None:
        self._backend = backend
        self._store = store
        self._router = router
        self._bus = bus
        self._monitor = monitor
        self._input = window_input
        self._launcher = launcher
        self._save = save

    async def kill(self, record: WindowRecord) -> None:
        """Kill the record's window, forget it everywhere and report it CLOSED.

        Raises: TmuxError (the record is kept when tmux could not kill the window).
        """
        self._store.remove(record.record_id)
        try:
            await self._input.verify_ours(record)
            await self._backend.kill_window(record.window_id)
        except WindowNotFoundError:
            pass  # already gone: the record goes all the same
        except TmuxError:
            self._store.add(record)
            raise
        channels = self._router.unbind_window(record.window_id)
        self._input.forget(record)
        self._monitor.forget(record)
        self._launcher.discard(record)
        self._save()
        logger.info("killed window %s (%s)", record.window_id, record.provider)
        closed = WindowEvent(window_id=record.window_id, kind=WindowChange.CLOSED,
                             channel_ids=channels, provider=record.provider)  # fmt: skip
        await self._bus.emit(closed)

    async def kill_channel_windows(self, channel_id: ChannelId) -> tuple[WindowId, ...]:
        """Kill every window the channel owns and drop its binding; returns their ids."""
        killed = []
        for record in self._store.owned_by(channel_id):
            await self.kill(record)
            killed.append(record.window_id)
        if self._router.unbind(channel_id) is not None:
            self._save()
        return tuple(killed)

    def bind(self, channel_id: ChannelId, record: WindowRecord) -> None:
        """Bind the channel to the record's window; an unowned window becomes the channel's.

        Raises: WindowOwnershipError (the window is another channel's).
        """
        if record.channel_id not in (None, channel_id):
            raise WindowOwnershipError(
                f"window {record.window_id} belongs to another chat; start your own with #new",
                window_id=record.window_id,
            )
        if record.channel_id is None:
            self._store.update(record.record_id, channel_id=channel_id)
        self._router.bind(channel_id, record.window_id)
        self._save()

    async def adopt(self, orphan: OrphanWindow, channel_id: ChannelId) -> WindowRecord:
        """Record an orphaned agent window as the channel's, marked as ours in tmux.

        Raises: TmuxError.
        """
        record = WindowRecord(
            record_id=new_record_id(), window_id=orphan.window_id, provider=orphan.provider,
            mode="normal", cwd=orphan.cwd, channel_id=channel_id,
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        )  # fmt: skip
        await self._backend.mark_window(orphan.window_id, record.record_id)
        self._store.add(record)
        self._router.bind(channel_id, orphan.window_id)
        self._save()
        self._monitor.rewatch()
        adopted = WindowEvent(window_id=orphan.window_id, kind=WindowChange.ADOPTED,
                              channel_ids=(channel_id,), provider=orphan.provider)  # fmt: skip
        await self._bus.emit(adopted)
        return record
