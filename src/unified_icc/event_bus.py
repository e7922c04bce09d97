"""EventBus: hands gateway events to the callbacks registered for their type.

Owns subscription and fan-out; knows nothing of where events come from. Callbacks run in
registration order and are awaited, inside one journal unit of work: what they stage is
committed together with the caller's own writes (the transcript watermark after the messages),
so the event's effects and the watermark land together or not at all. Callbacks must record
and return, never wait on the network. A failing callback is logged and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from unified_icc.events import AgentMessageEvent, GatewayEvent, StatusEvent, WindowEvent
from unified_icc.journal import Journal, Write

__all__ = ["Callback", "EventBus"]

logger = logging.getLogger(__name__)

_E = TypeVar("_E", AgentMessageEvent, StatusEvent, WindowEvent)
Callback = Callable[[_E], Awaitable[None]]


class EventBus:
    def __init__(self, journal: Journal | None = None) -> None:
        self._journal = journal
        self._messages: list[Callable[[AgentMessageEvent], Awaitable[None]]] = []
        self._statuses: list[Callable[[StatusEvent], Awaitable[None]]] = []
        self._windows: list[Callable[[WindowEvent], Awaitable[None]]] = []

    def on_message(self, callback: Callable[[AgentMessageEvent], Awaitable[None]]) -> None:
        self._messages.append(callback)

    def on_status(self, callback: Callable[[StatusEvent], Awaitable[None]]) -> None:
        self._statuses.append(callback)

    def on_window_change(self, callback: Callable[[WindowEvent], Awaitable[None]]) -> None:
        self._windows.append(callback)

    async def emit(self, event: GatewayEvent, *, writes: tuple[Write, ...] = ()) -> bool:
        """Deliver to every subscriber of the event's type, then commit what they staged with
        ``writes``; False if any callback failed. Raises: StateError (the commit failed)."""
        if self._journal is None or not self._journal.is_open:
            return await self._fan_out(event)
        async with self._journal.unit(*writes):
            return await self._fan_out(event)

    async def _fan_out(self, event: GatewayEvent) -> bool:
        match event:
            case AgentMessageEvent():
                return await _deliver(self._messages, event)
            case StatusEvent():
                return await _deliver(self._statuses, event)
            case WindowEvent():
                return await _deliver(self._windows, event)


async def _deliver(callbacks: list[Callable[[_E], Awaitable[None]]], event: _E) -> bool:
    ok = True
    for callback in list(callbacks):
        try:
            await callback(event)
        except Exception:  # supervisor: one subscriber must not starve the rest
            ok = False
            logger.exception(
                "event callback %s failed for %s of window %s",
                callback,
                type(event).__name__,
                event.window_id,
            )
    return ok
