"""Appending one hook payload to the events file: the whole job of the hook process.

Owns the line format and the locked append; imports only the standard library so the hook
starts fast and never depends on the gateway's configuration.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import sys
import time
from typing import Any

__all__ = ["append_event", "format_event", "run_hook"]

_STDIN_SECONDS = 5.0
_MAX_STDIN_BYTES = 8 * 1024 * 1024

# Events larger than this are cut to their identifying fields (tool inputs can be huge).
MAX_LINE_BYTES = 256 * 1024
_KEEP_WHEN_TRUNCATED = (
    "session_id",
    "transcript_path",
    "cwd",
    "hook_event_name",
    "source",
    "reason",
    "notification_type",
    "tool_name",
)


def format_event(payload: Any, *, record_id: str, pane_id: str, now: float) -> str:
    """One JSON line: when, which window (our record id and tmux pane), and the payload."""
    line = json.dumps(
        {"ts": now, "record_id": record_id, "pane_id": pane_id, "payload": payload},
        ensure_ascii=False,
    )
    if len(line.encode()) <= MAX_LINE_BYTES or not isinstance(payload, dict):
        return line
    kept = {key: payload[key] for key in _KEEP_WHEN_TRUNCATED if key in payload}
    kept["truncated"] = True
    return json.dumps(
        {"ts": now, "record_id": record_id, "pane_id": pane_id, "payload": kept},
        ensure_ascii=False,
    )


def append_event(path: str, payload: Any, *, record_id: str, pane_id: str) -> None:
    """Append under an exclusive lock, so concurrent hooks and a rotating reader never mix."""
    line = format_event(payload, record_id=record_id, pane_id=pane_id, now=time.time()) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def run_hook(events_file: str, record_id: str) -> int:
    """Read the hook's JSON from stdin and append it; always 0, so the agent never stalls."""
    try:
        if not events_file:
            return 0
        raw = _read_stdin()
        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            payload = {"unparsed": raw[:4096].decode("utf-8", "replace")}
        append_event(
            events_file, payload, record_id=record_id, pane_id=os.environ.get("TMUX_PANE", "")
        )
    except Exception:  # noqa: BLE001 - a hook must never fail the agent
        return 0
    return 0


def _read_stdin() -> bytes:
    """Stdin, but never more than a few seconds' wait or a few megabytes."""
    deadline = time.monotonic() + _STDIN_SECONDS
    chunks: list[bytes] = []
    size = 0
    fd = sys.stdin.fileno()
    while size < _MAX_STDIN_BYTES:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
