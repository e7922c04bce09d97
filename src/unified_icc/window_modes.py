"""WindowModes: switching a running agent's permission mode, and reading the mode it shows.

Owns how a switch is made for each CLI: in place by the CLI's own keys where it has them
(Claude and Gemini cycle normal → accept edits → plan with Shift-Tab; Gemini toggles YOLO with
Ctrl-Y; Codex picks from its /permissions menu), verified on the screen; otherwise (Claude to
or from YOLO, which needs its launch flag) by restarting the agent in the new mode with its
session resumed (window_sleep). The record keeps the mode the agent now runs in, so a later
resume keeps it. Knows nothing of chats.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from unified_icc.errors import WindowBusyError
from unified_icc.events import AgentStatus
from unified_icc.providers import Mode, Provider, ProviderRegistry
from unified_icc.session_monitor import SessionMonitor
from unified_icc.terminal import ScreenStatus
from unified_icc.window_input import WindowInput
from unified_icc.window_sleep import WindowSleep
from unified_icc.window_store import WindowRecord, WindowStore

__all__ = ["WindowModes"]

logger = logging.getLogger(__name__)

# Seconds a key press gets to show its mode, and a restarted agent to show its input box.
_KEY_SECONDS: Final = 5.0
_RESTART_SECONDS: Final = 30.0
# Shift-Tab presses before giving up (Claude's cycle has four stops, one we never target).
_MAX_CYCLE_PRESSES: Final = 5


class WindowModes:
    def __init__(
        self,
        *,
        store: WindowStore,
        monitor: SessionMonitor,
        window_input: WindowInput,
        sleep: WindowSleep,
        providers: ProviderRegistry,
        save: Callable[[], None],
    ) -> None:
        self._store = store
        self._monitor = monitor
        self._input = window_input
        self._sleep = sleep
        self._providers = providers
        self._save = save

    async def shown(self, record: WindowRecord) -> str | None:
        """The mode the agent's screen shows now (None: it shows none, or not now)."""
        return (await self._monitor.screens.look_now(record)).mode

    async def switch(self, record: WindowRecord, mode: Mode) -> str | None:
        """Put the agent in ``mode``; the mode its screen then shows (None: it shows none).

        Raises: UnsupportedModeError, WindowBusyError (a restart would cut a turn short),
        WindowDeadError, WindowNotFoundError, TmuxError.
        """
        provider = self._providers.get(record.provider)
        provider.check_mode(mode)
        current = Mode(record.mode)
        if mode in provider.mode_menu:
            return await self._by_menu(record, provider, mode)
        if _by_keys(provider, current, mode):
            shown = await self._by_keys(record, provider, mode)
            if shown == mode.value:
                self._remember(record, mode)
                return shown
            logger.warning("window %s: keys did not reach %s mode (shows %s); restarting",
                           record.window_id, mode.value, shown)  # fmt: skip
        restarted = await self._sleep.restart_in(record, mode)
        return await self._await_shown(restarted, mode, within=_RESTART_SECONDS)

    async def _by_keys(self, record: WindowRecord, provider: Provider, mode: Mode) -> str | None:
        shown = await self.shown(record)
        if shown is None:
            return None  # no mode on screen (a turn, a question): keys would land blind
        if provider.yolo_toggle_key and (mode is Mode.YOLO or shown == Mode.YOLO.value):
            await self._input.press(record, provider.yolo_toggle_key)
            shown = await self._changed(record, shown)
        for _ in range(_MAX_CYCLE_PRESSES):
            if shown == mode.value:
                break
            await self._input.press(record, provider.mode_cycle_key)
            shown = await self._changed(record, shown)
        return shown

    async def _by_menu(self, record: WindowRecord, provider: Provider, mode: Mode) -> str | None:
        """The CLI's own menu (Codex's /permissions), used only on an idle screen: the mode
        once the screen confirms it, else None."""
        status = await self._monitor.screens.look_now(record)
        if status.status is not AgentStatus.IDLE:
            raise WindowBusyError(
                f"the {record.provider} agent in window {record.window_id} is busy (a turn or "
                "a question): its mode can be switched once it is idle",
                window_id=record.window_id,
            )
        steps, confirmed = provider.mode_menu[mode]
        await self._input.press_sequence(record, steps)
        if not await self._input.capture_until(record, lambda screen: confirmed in screen,
                                               within=_KEY_SECONDS):  # fmt: skip
            logger.warning("window %s: %s did not confirm %s mode", record.window_id,
                           record.provider, mode.value)  # fmt: skip
            return None
        self._remember(record, mode)
        return mode.value

    async def _changed(self, record: WindowRecord, before: str | None) -> str | None:
        """The mode shown once it differs from ``before`` (or what shows after a while)."""
        seen = await self._input.screen_until(record, lambda shown: shown.mode != before,
                                              within=_KEY_SECONDS)  # fmt: skip
        return seen.mode if seen is not None else await self.shown(record)

    async def _await_shown(self, record: WindowRecord, mode: Mode, *, within: float) -> str | None:
        """The mode shown once the restarted agent's input box is back (None: no mode)."""

        def back(shown: ScreenStatus) -> bool:
            return shown.status is AgentStatus.IDLE and shown.mode in (mode.value, None)

        seen = await self._input.screen_until(record, back, within=within)
        return seen.mode if seen is not None else await self.shown(record)

    def _remember(self, record: WindowRecord, mode: Mode) -> None:
        self._store.update(record.record_id, mode=mode.value)
        self._save()
        logger.info("window %s (%s) switched to %s mode", record.window_id, record.provider,
                    mode.value)  # fmt: skip


def _by_keys(provider: Provider, current: Mode, target: Mode) -> bool:
    """Whether the CLI's own keys can take it from ``current`` to ``target``: both in its
    Shift-Tab cycle, or one of them YOLO when it toggles YOLO with a key."""
    reachable = set(provider.mode_cycle)
    if provider.yolo_toggle_key:
        reachable.add(Mode.YOLO)
    return current in reachable and target in reachable
