"""Journal: state.db, the one SQLite file (WAL) for the small state that changes per event.

Owns the connection, its file (0600 in the 0700 state folder; a corrupt one is moved aside and
start-up goes on with an empty one), the single writer thread, and units of work: every write
staged while a unit is open (in the same task, or in a callback the unit's task awaits) is
committed in one transaction when the unit closes. That is what lets a frontend's record of an
event and the gateway's watermark after it land together or not at all. Knows nothing of what
the tables mean; their owners define them.

Commits use ``synchronous=NORMAL``: a commit survives the process being killed (it is in the
WAL before commit returns); a power cut may roll back the last few, always whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

from unified_icc.errors import StateError

__all__ = ["Batch", "Journal", "Write"]

logger = logging.getLogger(__name__)

Write = tuple[str, Sequence[Any]]
"""One SQL statement and its parameters."""

_SIDE_FILES: Final = ("-wal", "-shm")


class Batch:
    """Writes committed together; ``committed`` is set once they are, or once they never will
    be (the unit raised, or the commit failed)."""

    def __init__(self) -> None:
        self.writes: list[Write] = []
        self.committed = asyncio.Event()
        self.closed = False


_CURRENT: contextvars.ContextVar[Batch | None] = contextvars.ContextVar(
    "unified_icc_journal_batch", default=None
)


class Journal:
    """One SQLite database, written by one thread in units of work."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # the connection is used by the loop and the writer
        self._writer: ThreadPoolExecutor | None = None
        self._loose: set[asyncio.Task[None]] = set()

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    def open(self) -> None:
        """Open (creating, or replacing a corrupt file); idempotent.

        Raises: StateError (the folder cannot be written).
        """
        if self._conn is not None:
            return
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            self._set_aside(exc)
            self._conn = self._connect()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="unified-icc-journal")

    def define(self, schema: str) -> None:
        """Create the owner's tables and indexes if missing (``CREATE ... IF NOT EXISTS``)."""
        with self._lock:
            self._connection().executescript(schema)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query now, on the caller's thread (start-up reads)."""
        with self._lock:
            return self._connection().execute(sql, params).fetchall()

    def stage(self, sql: str, params: Sequence[Any] = ()) -> Batch:
        """Add a write to the open unit of work (see unit()), or commit it soon on its own."""
        batch = _CURRENT.get()
        if batch is None or batch.closed:
            batch = Batch()
            task = asyncio.get_running_loop().create_task(self._commit(batch))
            self._loose.add(task)
            task.add_done_callback(self._loose.discard)
        batch.writes.append((sql, params))
        return batch

    @contextlib.asynccontextmanager
    async def unit(self, *writes: Write) -> AsyncIterator[Batch]:
        """Stage writes in one batch, committed with ``writes`` when the block ends.

        A unit inside a unit joins it. Nothing is committed if the block raises.
        """
        outer = _CURRENT.get()
        if outer is not None and not outer.closed:
            outer.writes.extend(writes)
            yield outer
            return
        batch = Batch()
        token = _CURRENT.set(batch)
        try:
            yield batch
        except BaseException:
            batch.committed.set()  # nothing will be: whoever waits for it must not wait forever
            raise
        finally:
            _CURRENT.reset(token)
            batch.closed = True
        batch.writes.extend(writes)
        await self._commit(batch)

    async def commit(self, *writes: Write) -> None:
        """Commit writes (and anything staged in the current unit) in one transaction."""
        async with self.unit(*writes):
            pass

    async def close(self) -> None:
        """Wait for loose commits, then close. Idempotent; later stages are dropped."""
        if self._loose:
            await asyncio.gather(*self._loose, return_exceptions=True)
        writer, self._writer = self._writer, None
        if writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, writer.shutdown)
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()

    async def _commit(self, batch: Batch) -> None:
        batch.closed = True
        try:
            if batch.writes and self._writer is not None:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self._writer, self._apply, list(batch.writes))
            elif batch.writes:
                logger.debug("journal %s is closed; %d writes dropped", self.path,
                             len(batch.writes))  # fmt: skip
        except sqlite3.Error as exc:
            raise StateError(f"cannot write {self.path}: {exc}") from exc
        finally:
            batch.committed.set()

    def _apply(self, writes: Iterable[Write]) -> None:
        with self._lock:
            conn = self._connection()
            with conn:  # one transaction: all or nothing
                for sql, params in writes:
                    conn.execute(sql, params)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StateError(f"the journal {self.path} is not open")
        return self._conn

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            os.chmod(self.path, 0o600)
        except OSError as exc:
            raise StateError(f"cannot create {self.path}: {exc}") from exc
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=5000")
            problem = conn.execute("PRAGMA quick_check").fetchone()
            if problem is None or problem[0] != "ok":
                raise sqlite3.DatabaseError(f"quick_check says {problem}")
        except BaseException:
            conn.close()
            raise
        conn.isolation_level = "DEFERRED"  # ``with conn`` opens and commits transactions again
        return conn

    def _set_aside(self, exc: sqlite3.DatabaseError) -> None:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        try:
            for suffix in ("", *_SIDE_FILES):
                source = self.path.with_name(self.path.name + suffix)
                if source.exists():
                    os.replace(source, aside.with_name(aside.name + suffix))
        except OSError as err:
            raise StateError(f"{self.path} is corrupt ({exc}) and could not be moved aside: "
                             f"{err}") from err  # fmt: skip
        logger.error("%s is corrupt (%s); moved it to %s and starting with an empty one; "
                     "output not yet shown may be shown again or not at all", self.path, exc,
                     aside)  # fmt: skip
