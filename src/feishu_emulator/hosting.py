"""A private event loop on a thread of its own, driven from another loop.

Owns the thread, the loop's life and the hop of coroutines onto it; knows nothing of what
runs there (the emulator's server, in practice).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from feishu_emulator.errors import EmulatorStateError

__all__ = ["LoopThread"]

T = TypeVar("T")
JOIN_TIMEOUT = 10.0


class LoopThread:
    """One loop on one daemon thread; ``run`` awaits a coroutine executed on it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    async def start(self, setup: Coroutine[Any, Any, T]) -> T:
        """Start the thread and run ``setup`` first on its loop; a failure stops it again.

        Raises: EmulatorStateError (already started), whatever ``setup`` raises.
        """
        if self._thread is not None:
            setup.close()
            raise EmulatorStateError(f"{self._name} was already started")
        started: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve, args=(self._loop, setup, started), name=self._name, daemon=True
        )
        self._thread.start()
        return await asyncio.wrap_future(started)

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run on the thread's loop; cancelling the caller cancels it there too."""
        loop = self._loop
        if loop is None or loop.is_closed():
            coroutine.close()
            raise EmulatorStateError(f"{self._name} is not running")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))

    async def stop(self, teardown: Coroutine[Any, Any, None]) -> None:
        """Run ``teardown`` on the loop, then stop the loop and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or loop.is_closed():
            teardown.close()
            return
        try:
            await self.run(teardown)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join, JOIN_TIMEOUT)

    @staticmethod
    def _serve(
        loop: asyncio.AbstractEventLoop,
        setup: Coroutine[Any, Any, T],
        started: concurrent.futures.Future[T],
    ) -> None:
        asyncio.set_event_loop(loop)
        try:
            started.set_result(loop.run_until_complete(setup))
        except BaseException as error:  # noqa: BLE001 - handed to start()'s caller
            started.set_exception(error)
            loop.close()
            return
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
