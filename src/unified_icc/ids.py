"""Typed identifiers: tmux window and pane ids, channel ids, session ids, window record ids.

Owns parsing, validation and generation of ids; knows nothing of what they point at.
A channel id is opaque to the gateway (the frontend builds it); it is only checked for shape.
"""

from __future__ import annotations

import re
import uuid
from typing import NewType

__all__ = [
    "ChannelId",
    "PaneId",
    "RecordId",
    "SessionId",
    "WindowId",
    "new_record_id",
    "new_session_id",
    "parse_channel_id",
    "parse_pane_id",
    "parse_record_id",
    "parse_session_id",
    "parse_window_id",
]

WindowId = NewType("WindowId", str)
"""tmux's window id, ``@N``. Re-used by tmux after a server restart; see RecordId."""

PaneId = NewType("PaneId", str)
"""tmux's pane id, ``%N``."""

ChannelId = NewType("ChannelId", str)
"""A frontend's conversation, e.g. ``feishu:<app>:<chat_id>[:<thread_id>]``."""

SessionId = NewType("SessionId", str)
"""An agent CLI's session id (a UUID for Claude)."""

RecordId = NewType("RecordId", str)
"""The gateway's own id for a window it created, stored in a tmux user option on the window."""

_WINDOW_ID = re.compile(r"@\d+")
_PANE_ID = re.compile(r"%\d+")
_RECORD_ID = re.compile(r"[0-9a-f]{12}")
_CHANNEL_ID = re.compile(r"[^\s\x00-\x1f\x7f]{1,512}")
_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def parse_window_id(value: str) -> WindowId:
    """Return value as a WindowId, or raise ValueError naming the expected ``@N`` form."""
    if not _WINDOW_ID.fullmatch(value):
        raise ValueError(f"not a tmux window id: {value!r} (expected @ and a number, e.g. @3)")
    return WindowId(value)


def parse_pane_id(value: str) -> PaneId:
    """Return value as a PaneId, or raise ValueError naming the expected ``%N`` form."""
    if not _PANE_ID.fullmatch(value):
        raise ValueError(f"not a tmux pane id: {value!r} (expected % and a number, e.g. %7)")
    return PaneId(value)


def parse_channel_id(value: str) -> ChannelId:
    """Return value as a ChannelId: 1-512 printable characters without spaces."""
    if not _CHANNEL_ID.fullmatch(value):
        raise ValueError(
            f"not a channel id: {value!r} (expected 1-512 printable characters without spaces)"
        )
    return ChannelId(value)


def parse_session_id(value: str) -> SessionId:
    """Return value as a SessionId (UUIDs and the CLIs' other id shapes)."""
    if not _SESSION_ID.fullmatch(value):
        raise ValueError(f"not an agent session id: {value!r}")
    return SessionId(value)


def parse_record_id(value: str) -> RecordId:
    """Return value as a RecordId (12 lowercase hex digits)."""
    if not _RECORD_ID.fullmatch(value):
        raise ValueError(f"not a window record id: {value!r}")
    return RecordId(value)


# The record id prefix of a smoke test's scratch window: no record has one (theirs are 12 hex
# digits), so the monitor passes it by and it is nobody's orphan.
SCRATCH_PREFIX = "smoke-test-"


def new_record_id() -> RecordId:
    """A fresh random record id."""
    return RecordId(uuid.uuid4().hex[:12])


def new_session_id() -> SessionId:
    """A fresh UUID4 for an agent session the gateway launches."""
    return SessionId(str(uuid.uuid4()))
