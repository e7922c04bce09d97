"""FileWatcher: watchfiles over a changing set of files, reporting which ones changed.

Owns the watchfiles loop, rebuilding it when the set of watched files changes, and watching
the nearest existing folder of a file that does not exist yet. Knows nothing of what the
files mean.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import watchfiles

__all__ = ["FileWatcher"]

logger = logging.getLogger(__name__)

# watchfiles yields a batch once no change came for _STEP_MS, or after _DEBOUNCE_MS of steady
# changes (its defaults, 50 ms and 1.6 s, are too slow for streaming a reply). The step is the
# floor of the output latency, and its wake-ups cost a little CPU when idle (docs/performance.md).
_DEBOUNCE_MS = 50
_STEP_MS = 10
# watchfiles yields (empty) after this long without changes; the first yield tells us the
# watch is running.
_READY_MS = 500


class FileWatcher:
    """Calls ``on_change(paths)`` with the watched files that changed."""

    def __init__(
        self, *, on_change: Callable[[set[Path]], Awaitable[None]], home: Path | None = None
    ) -> None:
        self._on_change = on_change
        self._home = home
        self._files: frozenset[Path] = frozenset()
        self._rebuild = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def watch(self, files: Iterable[Path]) -> None:
        """Replace the set of watched files; the watch is rebuilt if the folders change."""
        files = frozenset(Path(f) for f in files)
        if files != self._files:
            before = self._roots(self._files)
            self._files = files
            if self._roots(files) != before:
                self._rebuild.set()

    async def start(self) -> None:
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name="unified-icc-file-watcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        self._rebuild.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while not self._stop.is_set():
            self._rebuild.clear()
            roots = self._roots(self._files)
            if not roots:
                await self._rebuild.wait()
                continue
            try:
                await self._watch(roots)
            except Exception:  # supervisor: keep watching after a failure
                logger.exception("file watch on %s failed; retrying", sorted(map(str, roots)))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await self._stop.wait()

    async def _watch(self, roots: frozenset[Path]) -> None:
        # Changes made while no watch was running are caught by reading every file once
        # before the watch starts and once more when it is known to be running.
        await self._on_change(set(self._files))
        caught_up = False
        async for changes in watchfiles.awatch(
            *roots,
            stop_event=self._rebuild,
            debounce=_DEBOUNCE_MS,
            step=_STEP_MS,
            rust_timeout=_READY_MS,
            yield_on_timeout=True,
            recursive=True,
            watch_filter=None,
        ):
            changed = {Path(path) for _, path in changes} & self._files
            if not caught_up:
                caught_up, changed = True, set(self._files)
            # A folder created on the way to a file means the watch can move closer to it.
            if self._roots(self._files) != roots:
                self._rebuild.set()
            if changed:
                await self._on_change(changed)

    def _roots(self, files: frozenset[Path]) -> frozenset[Path]:
        return frozenset(root for f in files if (root := self._nearest_existing(f.parent)))

    def _nearest_existing(self, folder: Path) -> Path | None:
        """The folder itself, or its closest existing parent below $HOME and above /."""
        for candidate in (folder, *folder.parents):
            if candidate == Path(candidate.anchor):
                return None
            home = self._home
            if home is not None and candidate != home and home.is_relative_to(candidate):
                return None
            if candidate.is_dir():
                return candidate
        return None
