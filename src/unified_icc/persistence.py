"""state.json: the versioned, atomically written record of windows, bindings and settings.

Owns the file format, atomic writes (write_private_file: mode 0600), moving a corrupt
file aside, and the lock that keeps a second gateway off the same folder. Knows nothing of
tmux; the gateway decides what goes in.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pydantic import TypeAdapter, ValidationError

from unified_icc.channel_router import SettingValue
from unified_icc.errors import GatewayBusyError, StateError
from unified_icc.ids import ChannelId, WindowId
from unified_icc.private_files import write_private_file
from unified_icc.transcripts import TranscriptCursor
from unified_icc.window_store import WindowRecord

__all__ = ["STATE_VERSION", "StateFile", "StateLock", "StateSnapshot"]

logger = logging.getLogger(__name__)

STATE_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class StateSnapshot:
    """Everything state.json holds, at one version."""

    version: int = STATE_VERSION
    windows: tuple[WindowRecord, ...] = ()
    bindings: dict[ChannelId, WindowId] = field(default_factory=dict)
    channel_settings: dict[ChannelId, dict[str, SettingValue]] = field(default_factory=dict)
    # Read only, from files older versions wrote: the watermarks now live in state.db.
    offsets: dict[str, TranscriptCursor] = field(default_factory=dict)
    hook_offset: int = 0


_ADAPTER: TypeAdapter[StateSnapshot] = TypeAdapter(StateSnapshot)


class StateFile:
    """Reads and writes one state.json."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, *, repair: bool = True) -> StateSnapshot:
        """The saved state; an empty state when there is none.

        With ``repair``, a file that cannot be read as this version's state is moved aside
        as ``state.json.corrupt-<timestamp>`` and logged; the gateway then rebuilds from tmux.
        Without it (read-only tools), such a file is only logged and left in place.
        """
        try:
            raw = self.path.read_bytes()
            data = json.loads(raw)
            version = data.get("version") if isinstance(data, dict) else None
            if version != STATE_VERSION:
                problem = f"has version {version!r}, expected {STATE_VERSION}"
            else:
                return _ADAPTER.validate_python(data)
        except FileNotFoundError:
            return StateSnapshot()
        except (OSError, ValueError, ValidationError) as exc:
            problem = f"is not readable state ({_first_line(exc)})"
        if repair:
            return self._set_aside(problem)
        logger.warning("state file %s %s; showing no records", self.path, problem)
        return StateSnapshot()

    def save(self, snapshot: StateSnapshot) -> None:
        """Write atomically: temp file in the same folder, fsync, rename, fsync the folder.

        Raises:
            StateError: the folder cannot be written.
        """
        data = _ADAPTER.dump_python(snapshot, mode="json")
        payload = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).encode()
        try:
            write_private_file(self.path, payload)
        except OSError as exc:
            raise StateError(f"cannot write {self.path}: {exc}") from exc

    def _set_aside(self, reason: str) -> StateSnapshot:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        counter = 1
        while aside.exists():
            counter += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{counter}")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            raise StateError(f"{self.path} {reason} and could not be moved aside: {exc}") from exc
        logger.error(
            "state file %s %s; moved it to %s and rebuilding from live tmux",
            self.path,
            reason,
            aside,
        )
        return StateSnapshot()


class StateLock:
    """An exclusive lock on the config folder, held for a gateway's lifetime."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock.

        Raises:
            GatewayBusyError: another live process holds it (its pid is named).
        """
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        handle = os.fdopen(fd, "a+", encoding="utf-8")  # held until release()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise GatewayBusyError(
                f"another unified-icc gateway (pid {holder}) is using {self.path.parent}; "
                "stop it first, or point UNIFIED_ICC_DIR at another folder"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is None:
            return
        with contextlib.suppress(OSError):
            self._handle.seek(0)
            self._handle.truncate()
        fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        self._handle.close()
        self._handle = None



def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
