"""WindowSleep: stopping an idle agent, and starting an ended one again where it left off.

Owns putting a window to sleep (its CLI hung up as a closed terminal would; the record, its
bindings and session id kept, marked asleep), resuming an agent whose process ended (asleep
or exited) in the same window with its CLI's resume arguments, and reporting both; and
restarting an idle agent in another mode the same way (no report: it never looked ended). Both hold
the window's keystroke lock, so no text is typed into an agent while it stops or starts.
Knows nothing of when to sleep (session_timers decides) or of chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
from collections.abc import Callable

from unified_icc.channel_router import ChannelRouter
from unified_icc.errors import (
    TmuxError,
    WindowBusyError,
    WindowDeadError,
    WindowNotFoundError,
    WindowRunningError,
)
from unified_icc.event_bus import EventBus
from unified_icc.events import WindowChange, WindowEvent
from unified_icc.providers import Mode, ProviderRegistry
from unified_icc.session_monitor import SessionMonitor
from unified_icc.tmux import PaneInfo, TmuxBackend
from unified_icc.window_input import WindowInput
from unified_icc.window_launch import WindowLauncher, resumable
from unified_icc.window_store import WindowRecord, WindowStore

__all__ = ["WindowSleep"]

logger = logging.getLogger(__name__)

# Seconds a hung-up CLI gets to save and exit before it is killed.
_HANGUP_GRACE = 10.0


class WindowSleep:
    def __init__(
        self,
        *,
        backend: TmuxBackend,
        session: str,
        store: WindowStore,
        router: ChannelRouter,
        bus: EventBus,
        monitor: SessionMonitor,
        window_input: WindowInput,
        launcher: WindowLauncher,
        providers: ProviderRegistry,
        save: Callable[[], None],
    ) -> None:
        self._backend = backend
        self._session = session
        self._store = store
        self._router = router
        self._bus = bus
        self._monitor = monitor
        self._input = window_input
        self._launcher = launcher
        self._providers = providers
        self._save = save

    async def sleep(
        self, record: WindowRecord, *, reason: str, still_due: Callable[[], bool] = lambda: True
    ) -> bool:
        """Stop the window's agent if it is still idle (and ``still_due()``, asked once the
        keystroke lock is held: text typed meanwhile counts as activity); False (nothing
        done) when it is not, or is already stopped. Reports WindowEvent(asleep) with
        ``reason``.

        Raises: TmuxError.
        """
        async with self._input.lock(record):
            if not still_due():
                return False
            current = self._store.get(record.record_id)
            pane = await self._pane(current) if current is not None else None
            if current is None or pane is None or current.dead or pane.dead or pane.pid is None:
                return False
            if not await self._idle_now(current, pane):
                return False
            # Marked first: the monitor then takes the pane's death for sleep, not an exit.
            current = self._store.update(current.record_id, asleep=True)
            self._save()
            status = await self._hang_up(current, pane.pid)
            current = self._store.update(current.record_id, dead=True, exit_status=status)
            self._input.restarted(current)
            self._monitor.screens.forget(current.record_id)
            self._save()
        logger.info("window %s (%s) is asleep: %s", current.window_id, current.provider, reason)
        await self._bus.emit(self._event(current, WindowChange.ASLEEP, reason))
        return True

    async def restart_in(self, record: WindowRecord, mode: Mode) -> WindowRecord:
        """Stop the window's idle agent and start it again in ``mode``, reopening its
        session (a mode switch the CLI cannot make in place). Reports nothing: the agent
        never looked ended. Returns the record as it now is.

        Raises: WindowBusyError (a turn runs, a prompt waits, or text sits in its box),
        WindowDeadError, WindowNotFoundError, TmuxError.
        """
        async with self._input.lock(record):
            current = self._store.get(record.record_id)
            if current is None:
                raise WindowNotFoundError(
                    f"window {record.window_id} is gone", window_id=record.window_id
                )
            pane = await self._pane(current)
            if pane is None or pane.dead or pane.pid is None or current.dead or current.asleep:
                raise WindowDeadError(
                    f"the agent in window {current.window_id} is not running: resume it first",
                    window_id=current.window_id, exit_status=current.exit_status,
                )  # fmt: skip
            if not await self._idle_now(current, pane):
                raise WindowBusyError(
                    f"the {current.provider} agent in window {current.window_id} is busy (a "
                    "turn, a question, or text in its input box): switching its mode restarts "
                    "it, so wait for it to finish or stop it first",
                    window_id=current.window_id,
                )
            # Marked first: the monitor then takes the pane's death for a pause, not an exit.
            current = self._store.update(current.record_id, asleep=True)
            await self._hang_up(current, pane.pid)
            restarted = await self._relaunch(dataclasses.replace(current, mode=mode.value))
        logger.info("window %s (%s) restarted in %s mode", restarted.window_id,
                    restarted.provider, mode.value)  # fmt: skip
        return restarted

    async def wake(self, record: WindowRecord) -> WindowRecord:
        """Resume the window's agent if it is asleep; the record as it now is.

        Raises: TmuxError, WindowNotFoundError.
        """
        return await self._restart(record, only_asleep=True)

    async def resume(self, record: WindowRecord) -> WindowRecord:
        """Start the agent of a window whose agent ended (asleep or exited) again, reopening
        its session. Raises: WindowRunningError, WindowNotFoundError, TmuxError."""
        return await self._restart(record, only_asleep=False)

    async def _restart(self, record: WindowRecord, *, only_asleep: bool) -> WindowRecord:
        async with self._input.lock(record):
            current = self._store.get(record.record_id)
            if current is None:
                raise WindowNotFoundError(
                    f"window {record.window_id} is gone", window_id=record.window_id
                )
            probe = await self._input.verify_ours(current)
            if only_asleep and not current.asleep:
                return current
            if not (current.dead or current.asleep or probe.dead):
                raise WindowRunningError(
                    f"the {current.provider} agent in window {current.window_id} is running: "
                    "there is nothing to resume",
                    window_id=current.window_id,
                )
            provider = self._providers.get(current.provider)
            reopened = resumable(current, provider)
            resumed = await self._relaunch(current)
        if reopened:
            reason = f"session {resumed.session_id} reopened"
        elif provider.resumable:
            reason = "a new session: the last one had nothing to reopen"
        else:
            reason = f"a new {provider.name} in {resumed.cwd}"
        logger.info("window %s (%s) resumed: %s", resumed.window_id, resumed.provider, reason)
        await self._bus.emit(self._event(resumed, WindowChange.RESUMED, reason))
        return resumed

    async def _relaunch(self, record: WindowRecord) -> WindowRecord:
        """Start the record's agent again (its session reopened) and watch it afresh."""
        started = await self._launcher.relaunch(record, self._providers.get(record.provider))
        self._store.add(started)
        self._input.restarted(started)
        self._monitor.screens.forget(started.record_id)
        self._save()
        self._monitor.rewatch()
        self._monitor.wake()
        return started

    async def _idle_now(self, record: WindowRecord, pane: PaneInfo) -> bool:
        provider = self._providers.get(record.provider)
        return await self._monitor.screens.idle_now(
            record, pane, box_is_typed=not provider.suggests_input,
            unsent=lambda shown: self._input.unsent(record, shown),
        )  # fmt: skip

    async def _pane(self, record: WindowRecord) -> PaneInfo | None:
        panes = await self._backend.list_panes(self._session)
        return next((p for p in panes if p.record_id == record.record_id), None)

    async def _hang_up(self, record: WindowRecord, pid: int) -> int | None:
        """Hang up the agent's process group (as closing its terminal would), then kill it
        if it is still there after the grace period; its exit status when tmux knows it."""
        _signal_group(pid, signal.SIGHUP)
        ended, status = await self._await_end(record)
        if not ended:
            logger.warning("window %s: the agent ignored the hang-up; killing it",
                           record.window_id)  # fmt: skip
            _signal_group(pid, signal.SIGKILL)
            ended, status = await self._await_end(record)
        if not ended:
            raise TmuxError(f"the agent in window {record.window_id} did not stop",
                            subcommand="list-panes")  # fmt: skip
        return status

    async def _await_end(self, record: WindowRecord) -> tuple[bool, int | None]:
        """Whether the pane died (or went) within the grace period, and its exit status."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_HANGUP_GRACE):
                while True:
                    pane = await self._pane(record)
                    if pane is None:
                        return True, None
                    if pane.dead and not pane.exit_unknown:
                        return True, pane.dead_status
                    await asyncio.sleep(0.05)
        return False, None

    def _event(self, record: WindowRecord, kind: WindowChange, reason: str) -> WindowEvent:
        return WindowEvent(
            window_id=record.window_id,
            kind=kind,
            channel_ids=self._router.channels_for(record.window_id),
            provider=record.provider,
            reason=reason,
        )


def _signal_group(pid: int, sent: signal.Signals) -> None:
    # tmux starts a pane's command as the leader of its own process group: the CLI and the
    # helpers it started (Gemini re-executes itself) go together.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sent)
