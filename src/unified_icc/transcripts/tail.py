"""Incremental, crash-safe reading of an append-only JSONL transcript.

Owns byte offsets, partial lines, file identity (replacement and truncation) and the recent-id
window used for de-duplication. Knows nothing of what a line means, nor of async: every function
here blocks on file I/O, so the caller runs it in a thread.

The protocol ("nothing lost, nothing doubled"):
  1. ``chunk = read_new(path, cursor)``: reading moves nothing.
  2. parse ``chunk.lines`` (a fresh parser if ``chunk.restarted``) and keep only the messages for
     which ``is_new(cursor, message.id)`` holds. Filter always, not only after a restart: agents
     do rewrite entries (Claude after ``--resume``, Gemini's upserts).
  3. deliver them, and only once delivery succeeded persist
     ``advance(cursor, chunk, [m.id for m in delivered])``. A crash in between re-reads and
     re-delivers that one chunk: at-least-once, with duplicates bounded by a chunk.

Limit: after a restart, entries that left the recent-id window (``RECENT_IDS_KEEP``) long ago are
delivered again. Restarts are rare (a transcript is appended to, never rewritten, by the CLIs
seen so far); use ``cursor_at_end`` for a transcript first seen at startup to avoid replaying it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

__all__ = [
    "RECENT_IDS_KEEP",
    "TailChunk",
    "TranscriptCursor",
    "advance",
    "cursor_at_end",
    "is_new",
    "read_new",
]

logger = logging.getLogger(__name__)

RECENT_IDS_KEEP: Final = 512
"""Delivered ids a cursor remembers for de-duplication after a re-read."""

# The identity hashes at most this many delivered bytes: enough to tell two transcripts apart
# (the first line holds a session id and a timestamp) without reading big files on every tick.
_FINGERPRINT_BYTES: Final = 4096
_READ_STEP: Final = 1 << 16


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptCursor:
    """How far a transcript has been delivered. Persisted by the gateway; plain JSON types only.

    ``identity`` is ``"<st_dev>:<st_ino>:<n>:<sha256 of the first n delivered bytes>"`` with
    n = min(offset, 4096); an empty identity (a legacy cursor) is trusted as long as the file is
    not shorter than ``offset``.
    """

    offset: int = 0
    identity: str = ""
    recent_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TailChunk:
    """Complete lines read from a transcript, and where the cursor goes once they are delivered."""

    lines: tuple[str, ...]
    end_offset: int
    identity: str
    restarted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class _Identity:
    device: int
    inode: int
    length: int
    digest: str

    @classmethod
    def parse(cls, text: str) -> _Identity | None:
        parts = text.split(":")
        if len(parts) != 4 or not all(part.isdigit() for part in parts[:3]):
            return None
        return cls(device=int(parts[0]), inode=int(parts[1]), length=int(parts[2]), digest=parts[3])

    def format(self) -> str:
        return f"{self.device}:{self.inode}:{self.length}:{self.digest}"


def read_new(path: Path, cursor: TranscriptCursor, *, max_bytes: int = 8 << 20) -> TailChunk:
    """Read the complete lines after ``cursor.offset`` (about ``max_bytes`` at most).

    A partial last line is left for a later call. A file shorter than the offset, or a different
    file (other inode, or other first bytes), is read again from 0 with ``restarted=True``. An
    offset inside a line skips to the next line. A missing file gives an empty chunk that leaves
    the cursor where it is. Bytes that are not UTF-8 become U+FFFD. Blocking.

    Raises:
        OSError: the file exists but cannot be read (permissions, I/O error).
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return TailChunk(lines=(), end_offset=cursor.offset, identity=cursor.identity)
    with handle:
        # fstat of the open handle, not stat of the path: both then describe the same file
        # even if it is replaced while we read.
        stat = os.fstat(handle.fileno())
        restarted = _must_restart(handle, stat, cursor)
        if restarted:
            logger.info(
                "transcript %s was truncated or replaced; re-reading from the start "
                "(offset was %d, size is %d)",
                path,
                cursor.offset,
                stat.st_size,
            )
        begin, data = _read_whole_lines(handle, 0 if restarted else cursor.offset, max_bytes)
        end = begin + len(data)
        identity = _identity_of(handle, stat, end)
    lines = tuple(
        raw.removesuffix(b"\r").decode("utf-8", "replace") for raw in data.split(b"\n")[:-1]
    )
    return TailChunk(lines=lines, end_offset=end, identity=identity, restarted=restarted)


def advance(
    cursor: TranscriptCursor,
    chunk: TailChunk,
    delivered_ids: Iterable[str] = (),
    *,
    keep: int = RECENT_IDS_KEEP,
) -> TranscriptCursor:
    """The cursor after ``chunk`` was delivered: its end offset and identity, and the ids added.

    Old ids are kept after a restart too: a big file is re-read in several chunks, and the ids
    delivered before the restart must still be skipped in the later ones.
    """
    added = tuple(dict.fromkeys(delivered_ids))
    added_set = set(added)
    merged = tuple(old for old in cursor.recent_ids if old not in added_set) + added
    return TranscriptCursor(
        offset=chunk.end_offset,
        identity=chunk.identity,
        recent_ids=merged[-keep:] if keep > 0 else (),
    )


def is_new(cursor: TranscriptCursor, entry_id: str) -> bool:
    """Whether a message with this id still has to be delivered (it is not among recent_ids)."""
    return entry_id not in cursor.recent_ids


def cursor_at_end(path: Path) -> TranscriptCursor:
    """A cursor after the last complete line, so only what is written from now on is delivered.

    For a transcript first seen at startup: replaying its whole history would flood the chat.
    A missing file gives the start cursor (everything it will hold is new). Blocking.

    Raises:
        OSError: the file exists but cannot be read.
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return TranscriptCursor()
    with handle:
        stat = os.fstat(handle.fileno())
        end = _end_of_last_line(handle, stat.st_size)
        return TranscriptCursor(offset=end, identity=_identity_of(handle, stat, end))


def _must_restart(handle: BinaryIO, stat: os.stat_result, cursor: TranscriptCursor) -> bool:
    if stat.st_size < cursor.offset:
        return True
    if not cursor.identity:
        return False
    known = _Identity.parse(cursor.identity)
    if known is None:
        logger.warning("unreadable transcript identity %r; re-reading", cursor.identity)
        return True
    if (known.device, known.inode) != (stat.st_dev, stat.st_ino):
        return True
    if stat.st_size < known.length:
        return True
    handle.seek(0)
    return _digest(handle.read(known.length)) != known.digest


def _read_whole_lines(handle: BinaryIO, start: int, max_bytes: int) -> tuple[int, bytes]:
    """Return where the first whole line at or after ``start`` begins, and the whole lines from it.

    At most ``max_bytes``, except that one line longer than that is returned whole, so a huge
    line still makes progress.
    """
    if start > 0 and _byte_at(handle, start - 1) != b"\n":
        # The offset points into a line (a corrupt or hand-edited cursor): that line's head was
        # never seen, so its tail is skipped rather than parsed as garbage.
        next_line = _after_next_newline(handle, start)
        if next_line is None:
            return start, b""
        start = next_line
    handle.seek(start)
    buffer = handle.read(max(max_bytes, 1))
    end = buffer.rfind(b"\n") + 1
    while end == 0:
        more = handle.read(_READ_STEP)
        if not more:
            break
        newline = more.find(b"\n")
        if newline >= 0:
            end = len(buffer) + newline + 1
        buffer += more
    return start, buffer[:end]


def _after_next_newline(handle: BinaryIO, start: int) -> int | None:
    handle.seek(start)
    position = start
    while block := handle.read(_READ_STEP):
        newline = block.find(b"\n")
        if newline >= 0:
            return position + newline + 1
        position += len(block)
    return None


def _byte_at(handle: BinaryIO, offset: int) -> bytes:
    handle.seek(offset)
    return handle.read(1)


def _end_of_last_line(handle: BinaryIO, size: int) -> int:
    position = size
    while position > 0:
        step = min(_READ_STEP, position)
        handle.seek(position - step)
        block = handle.read(step)
        newline = block.rfind(b"\n")
        if newline >= 0:
            return position - step + newline + 1
        position -= step
    return 0


def _identity_of(handle: BinaryIO, stat: os.stat_result, end: int) -> str:
    length = min(end, _FINGERPRINT_BYTES)
    handle.seek(0)
    return _Identity(
        device=stat.st_dev, inode=stat.st_ino, length=length, digest=_digest(handle.read(length))
    ).format()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]
