"""FeishuWsClient: lark-oapi's long-connection client on a thread of its own, watched.

Owns the SDK's WebSocket client, its thread and event loop, a watchdog that replaces a client
whose connection stayed down (the SDK's reconnect task can die silently), and the connection's
state for /health. Every event is handed to the application's loop at once, so the SDK's ack
goes back well within Feishu's 3 s; nothing is handled on the SDK's thread. A card tap is the
one event whose ack carries an answer: the SDK's thread waits for the application's answer
(computed from memory) for at most TAP_ANSWER_WITHIN seconds. Knows nothing of what the events
mean.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any

import lark_oapi as lark
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse
from lark_oapi.ws import client as lark_ws_client

from cclark.config import FeishuApp
from cclark.health import LinkStatus

__all__ = ["FeishuWsClient"]

logger = logging.getLogger(__name__)

# Seconds stop() waits for the SDK's thread to end.
_STOP_TIMEOUT = 5.0
# The watchdog's back-off between fresh clients, in seconds.
_BACKOFF_FIRST = 1.0
_BACKOFF_MAX = 60.0
# Seconds the SDK's thread waits for a tap's answer: Feishu shows an error after 3 s.
TAP_ANSWER_WITHIN = 2.5
TAP_LATE = {"toast": {"type": "info", "content": "Received: the bot is busy and will act on "
                                                 "it shortly."}}  # fmt: skip
TAP_FAILED = {"toast": {"type": "error", "content": "That tap could not be handled (the bot "
                                                    "logged why): nothing was done."}}  # fmt: skip


class FeishuWsClient:
    """One per process: the SDK keeps its loop in a module global (a second client hijacks it)."""

    def __init__(
        self,
        *,
        app: FeishuApp,
        on_event: Callable[[Any], Coroutine[Any, Any, None]],
        on_tap: Callable[[Any], Coroutine[Any, Any, dict[str, Any]]] | None = None,
        watchdog_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app = app
        self._on_event = on_event
        self._on_tap = on_tap
        self._clock = clock
        self._main_loop: asyncio.AbstractEventLoop | None = None
        self._ws_loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self._thread: threading.Thread | None = None
        self._connected_since: float | None = None
        self._last_event_at: float | None = None
        self._reconnects = 0
        self._watchdog_seconds = watchdog_seconds
        self._watchdog: asyncio.Task[None] | None = None
        self._down_since: float | None = None

    def status(self) -> LinkStatus:
        connected = self._client is not None and _has_socket(self._client)
        if connected and self._connected_since is None:
            self._connected_since = self._clock()
        return LinkStatus(
            connected=connected,
            connected_since=self._connected_since if connected else None,
            last_event_at=self._last_event_at,
            reconnects=self._reconnects,
        )

    async def start(self) -> None:
        """Start the SDK's client on its own thread and the watchdog; returns at once."""
        if self._watchdog is not None:
            return
        self._main_loop = asyncio.get_running_loop()
        self._down_since = self._clock()
        self._spawn()
        self._watchdog = asyncio.create_task(self._watch(), name="feishu-ws-watchdog")

    async def stop(self) -> None:
        """Stop the watchdog and the SDK's loop, and wait for its thread."""
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
        await self._halt()

    def _spawn(self) -> None:
        self._client = None
        self._thread = threading.Thread(target=self._run, name="feishu-ws", daemon=True)
        self._thread.start()

    async def _halt(self) -> None:
        """Stop the SDK's loop (it has no stop of its own) and wait for its thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._ws_loop is not None:
            self._ws_loop.call_soon_threadsafe(self._ws_loop.stop)
        await asyncio.to_thread(thread.join, _STOP_TIMEOUT)

    async def _watch(self) -> None:
        backoff = _BACKOFF_FIRST
        while True:
            await asyncio.sleep(min(1.0, self._watchdog_seconds / 4))
            if self.status().connected:
                self._down_since, backoff = None, _BACKOFF_FIRST
                continue
            now = self._clock()
            if self._down_since is None:
                self._down_since = now
            if now - self._down_since < self._watchdog_seconds:
                continue
            logger.warning("feishu connection for app %s down for %.0fs; starting a fresh "
                           "client", self._app.name, now - self._down_since)  # fmt: skip
            await self._halt()
            self._spawn()
            self._reconnects += 1
            self._down_since = self._clock()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        # lark_oapi.ws.client keeps the loop it runs on in a module global, captured at import.
        lark_ws_client.loop = loop
        self._ws_loop = loop
        handler = (
            lark.EventDispatcherHandler.builder("", "")
            .register_p2_im_message_receive_v1(self._hand_over)
            .register_p2_card_action_trigger(self._tap)
            .build()
        )
        self._client = lark.ws.Client(
            self._app.app_id,
            self._app.app_secret.get_secret_value(),
            event_handler=handler,
            domain=self._app.domain.rstrip("/"),
            log_level=lark.LogLevel.WARNING,
            auto_reconnect=True,
        )
        self._client.on_reconnecting = self._lost
        self._client.on_reconnected = self._regained
        try:
            self._client.start()
        except RuntimeError:
            logger.debug("feishu ws loop stopped")  # what stop() does to a blocking start()
        except Exception:  # supervisor: the thread must end with a log line, not silently
            logger.exception("feishu ws client for app %s stopped", self._app.name)
        finally:
            self._connected_since = None
            _close_loop(loop, self._client)

    def _hand_over(self, data: Any) -> None:
        """Runs on the SDK's thread: queue the event on the app loop and return at once."""
        self._last_event_at = self._clock()
        if self._main_loop is not None:
            future = asyncio.run_coroutine_threadsafe(self._on_event(data), self._main_loop)
            future.add_done_callback(_log_failure)

    def _tap(self, data: Any) -> P2CardActionTriggerResponse:
        """Runs on the SDK's thread: the application's answer to a tap, which the SDK puts in
        the ack; the tap's slow work goes on on the application's loop."""
        self._last_event_at = self._clock()
        if self._main_loop is None or self._on_tap is None:
            return P2CardActionTriggerResponse(TAP_FAILED)
        future = asyncio.run_coroutine_threadsafe(self._on_tap(data), self._main_loop)
        try:
            answer = future.result(timeout=TAP_ANSWER_WITHIN)
        except TimeoutError:
            logger.warning("a card tap's answer took over %.1fs; acking without it",
                           TAP_ANSWER_WITHIN)  # fmt: skip
            future.add_done_callback(_log_failure)
            answer = TAP_LATE
        except Exception:  # supervisor: the SDK would ack a raise with code 500 and no toast
            logger.exception("answering a card tap failed")
            answer = TAP_FAILED
        return P2CardActionTriggerResponse(answer)

    def _lost(self) -> None:
        self._connected_since = None
        logger.warning("feishu connection lost for app %s; reconnecting", self._app.name)

    def _regained(self) -> None:
        self._reconnects += 1
        self._connected_since = self._clock()
        logger.info("feishu connection back for app %s", self._app.name)


def _log_failure(future: Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("handling a feishu event failed", exc_info=future.exception())


def _close_loop(loop: asyncio.AbstractEventLoop, client: Any) -> None:
    """End the SDK's tasks (receive loop, pings, its cache's cron) and its socket, then close
    the loop: left pending they are destroyed noisily at exit, after the loop is gone."""
    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        conn = getattr(client, "_conn", None)
        if conn is not None:
            with contextlib.suppress(Exception):  # the socket may already be broken
                loop.run_until_complete(conn.close())
        loop.run_until_complete(loop.shutdown_asyncgens())
    except Exception:  # supervisor: closing must not leave the thread with a traceback
        logger.debug("closing the feishu ws loop failed", exc_info=True)
    finally:
        loop.close()


def _has_socket(client: Any) -> bool:
    # The SDK exposes no connection state; its ``_conn`` is the live socket or None.
    return client._conn is not None
