"""SessionMonitor: keeps window records true to tmux and turns what agents do into events.

Owns the watch loops: one ``list-panes`` call per tick for every window (deaths, screens),
hook events (session ids, /clear, "a prompt is coming", "the turn ended") and file changes
(transcripts, the hook events file). It does not create, type into or kill windows (the
gateway does); parsing belongs to terminal/ and transcripts/.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from unified_icc.channel_router import ChannelRouter
from unified_icc.errors import TmuxError, WindowNotFoundError
from unified_icc.event_bus import EventBus
from unified_icc.events import AgentStatus, StatusEvent, WindowChange, WindowEvent
from unified_icc.file_watcher import FileWatcher
from unified_icc.hook import HookEvent, HookEventsFile
from unified_icc.ids import RecordId, SessionId, WindowId, parse_session_id
from unified_icc.journal import Journal
from unified_icc.screen_watch import ScreenWatch
from unified_icc.tmux import PaneInfo, TmuxBackend
from unified_icc.transcript_feed import TranscriptFeed
from unified_icc.watermarks import Watermarks
from unified_icc.window_store import WindowRecord, WindowStore

__all__ = ["SessionMonitor"]

logger = logging.getLogger(__name__)

# Ticks to wait for tmux to report how a dead pane's process ended before reporting it anyway.
_EXIT_STATUS_TICKS = 3
# While a window is working or a hook said its screen will change, look this often (s).
_HOT_INTERVAL = 0.2
_SCREEN_HOOKS = frozenset(
    {"UserPromptSubmit", "PermissionRequest", "Notification", "Stop", "SessionEnd"}
)


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
        feed: TranscriptFeed,
        hooks: HookEventsFile,
        hook_offset: int,
        persist: Callable[[], None],
        interval: float,
        journal: Journal | None = None,
        home: Path | None = None,
        locate: Callable[[WindowRecord], Path | None] | None = None,
        stop_hooked: frozenset[str] = frozenset(),
    ) -> None:
        self._backend = backend
        self._session = session
        self._store = store
        self._router = router
        self._bus = bus
        self.feed = feed
        self._hooks = hooks
        self.hook_offset = hook_offset
        self._persist = persist
        self._journal = journal
        self._interval = interval
        self._locate = locate
        self._stop_hooked = stop_hooked
        self.screens = ScreenWatch(
            backend=backend,
            store=store,
            router=router,
            bus=bus,
            settle=feed.deliver,
            stop_hooked=stop_hooked,
            transcripts=feed,
        )
        self._watcher = FileWatcher(on_change=self._on_files_changed, home=home)
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._exiting: dict[RecordId, int] = {}
        self._submitted: dict[RecordId, asyncio.Event] = {}
        self._hook_lock = asyncio.Lock()

    # -- questions ---------------------------------------------------------------------------

    def detect_session_id(self, window_id: WindowId) -> SessionId | None:
        """The agent session id of one of our windows: the id we launched it with, moved by
        the agent's SessionStart hooks (``/clear`` starts a new one). Never typed for.

        Raises:
            WindowNotFoundError: the window is not one of ours.
        """
        record = self._store.by_window(window_id)
        if record is None:
            raise WindowNotFoundError(
                f"window {window_id} is not a window this gateway created", window_id=window_id
            )
        return record.session_id

    def expect_submit(self, record_id: RecordId) -> asyncio.Event:
        """An event set by the next submission seen of the window: its UserPromptSubmit
        hook (Claude, Codex), or the person's words in its transcript (note_submitted)."""
        event = self._submitted[record_id] = asyncio.Event()
        return event

    def note_submitted(self, record_id: RecordId) -> None:
        """The window's agent took a submission (a hook said so, or its transcript shows it)."""
        submitted = self._submitted.get(record_id)
        if submitted is not None:
            submitted.set()

    def forget(self, record: WindowRecord) -> None:
        self.screens.forget(record.record_id)
        self.feed.forget(record)
        self._submitted.pop(record.record_id, None)
        self._exiting.pop(record.record_id, None)
        self.rewatch()

    def rewatch(self) -> None:
        self._watcher.watch({self._hooks.path, *self.feed.paths()})

    @property
    def hooks_path(self) -> Path:
        return self._hooks.path

    def wake(self) -> None:
        self._wake.set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def reconcile(self, *, startup: bool) -> None:
        """Match every record to live tmux once, report deaths, then look at changed screens.

        A dead window keeps its bindings (its agent can be resumed, and a chat that writes is
        told it exited); a vanished one is unbound. An agent put to sleep is not a death.
        Raises: TmuxError when tmux cannot be asked (not when its server is simply gone).
        """
        known = {record.record_id for record in self._store}
        panes = await self._backend.list_panes(self._session)
        losses = [loss for loss in self._apply(panes, known, patient=not startup)
                  if await self._still_lost(loss)]  # fmt: skip
        for loss in losses:
            await self._report(loss, unbind=loss.vanished)
        if losses:
            self._persist()
            self.rewatch()
        await self._locate_transcripts()
        await self.screens.update(panes)

    async def _locate_transcripts(self) -> None:
        """Find the transcripts no hook reported (CLIs whose file is named by our id)."""
        if self._locate is None:
            return
        for record in self._store:
            if record.transcript_path or record.dead or record.session_id is None:
                continue
            found = await asyncio.to_thread(self._locate, record)
            if found is not None:
                logger.info("window %s writes its transcript to %s", record.window_id, found)
                self._store.update(record.record_id, transcript_path=str(found))
                self._persist()
                self.rewatch()

    async def catch_up(self) -> None:
        """Apply hook events and transcript entries written while the gateway was down."""
        self._hooks.ensure()
        await self._read_hooks()
        for record in self._store:
            await self.feed.deliver(record)

    async def start(self) -> None:
        if self._task is not None:
            return
        self._stop.clear()
        self.rewatch()
        await self._watcher.start()
        self._task = asyncio.create_task(self._run(), name=f"unified-icc-monitor-{self._session}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await self._watcher.stop()
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
            except Exception:  # supervisor: the watch loop must keep running
                logger.exception("monitor tick for session %s failed", self._session)
            self._wake.clear()
            interval = _HOT_INTERVAL if self.screens.busy else self._interval
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._wake.wait()

    # -- files and hooks ---------------------------------------------------------------------

    async def _on_files_changed(self, paths: set[Path]) -> None:
        if self._hooks.path in paths:
            await self._read_hooks()
        wrote = await self.feed.deliver_changed(paths - {self._hooks.path})
        self._output_seen(wrote)

    def _output_seen(self, wrote: set[RecordId]) -> None:
        """New output of an agent without a Stop hook (a shell, Gemini) may end its turn:
        report the next idle look as the turn's end, even when the screen never looked busy
        (a quick reply, a command that ended between two looks).

        The person's words are not output (the agent may not have started on them yet)."""
        unhooked = [r for r in self._store
                    if r.record_id in wrote and r.provider not in self._stop_hooked]  # fmt: skip
        for record in unhooked:
            self.screens.flag(record.record_id, turn_ended=True)
        if unhooked:
            self.wake()

    async def _read_hooks(self) -> None:
        async with self._hook_lock:
            events, offset = await asyncio.to_thread(self._hooks.read_from, self.hook_offset)
            for event in events:
                await self._apply_hook(event)
            moved = await asyncio.to_thread(self._hooks.compact_if_consumed, offset)
            if moved != self.hook_offset and self._journal is not None and self._journal.is_open:
                await self._journal.commit(Watermarks.hook_offset(moved))
            self.hook_offset = moved

    async def _apply_hook(self, event: HookEvent) -> None:
        record = self._store.get(event.record_id)
        if record is None:
            return
        if event.name == "SessionStart":
            await self._session_started(record, event)
        elif event.name == "UserPromptSubmit":
            self.feed.prompt_taken(record.record_id)
            self.note_submitted(record.record_id)
        if event.name in ("Stop", "SessionEnd"):
            await self.feed.deliver(self._store.get(record.record_id) or record)
        if event.name in _SCREEN_HOOKS:
            self.screens.flag(record.record_id, turn_ended=event.name == "Stop")
            self.wake()

    async def _session_started(self, record: WindowRecord, event: HookEvent) -> None:
        if event.session_id is None or event.transcript_path is None:
            return
        try:
            session_id = parse_session_id(event.session_id)
        except ValueError:
            logger.warning("window %s: ignoring odd session id from a hook", record.window_id)
            return
        if (session_id, event.transcript_path) == (record.session_id, record.transcript_path):
            return
        if record.transcript_path and record.transcript_path != event.transcript_path:
            await self.feed.deliver(record)  # the rest of the old session comes first
        if event.source == "resume":
            self.feed.start_at_end(event.transcript_path)
        logger.info("window %s now runs session %s (%s)", record.window_id, session_id,
                    event.source or "start")  # fmt: skip
        self._store.update(
            record.record_id, session_id=session_id, transcript_path=event.transcript_path
        )
        self._persist()
        self.rewatch()

    # -- deaths ------------------------------------------------------------------------------

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
            if pane.dead and record.asleep and not record.dead:
                self._store.update(record_id, dead=True, exit_status=pane.dead_status)
                self._persist()
                continue
            if pane.dead and not record.dead and not self._still_exiting(pane, record, patient):
                losses.append(_Loss(record=record, vanished=False, exit_status=pane.dead_status,
                                    exit_signal=pane.dead_signal))  # fmt: skip
        return losses

    async def _still_lost(self, loss: _Loss) -> bool:
        """Whether a death seen in a pane listing still holds: the agent may have been
        started again (resumed) while tmux was being asked."""
        record = self._store.get(loss.record.record_id)
        if record is None:
            return False
        if loss.vanished:
            return True
        if record.dead:
            return False
        try:
            probe = await self._backend.probe(record.window_id)
        except (TmuxError, WindowNotFoundError):
            return True
        return probe.dead and probe.record_id == record.record_id

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
        await self.feed.deliver(record)  # the agent's last words come before its death
        if loss.vanished:
            self._store.remove(record.record_id)
            self.screens.forget(record.record_id)
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
