"""Gemini CLI: default approvals, ``--approval-mode`` auto_edit or plan, or ``--yolo``;
launched with a session id we choose.

Owns Gemini's argv, key conventions and where its chat file lives; knows nothing of tmux.
Its hooks can only be declared in settings files (the user's, or a root-owned system file),
so the gateway finds the chat by the id it gave: ``~/.gemini/tmp/<project>/chats/
session-<time>-<first 8 of id>.jsonl``, confirmed by the id in the file's first line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from unified_icc.ids import SessionId
from unified_icc.providers.base import Mode, Provider

__all__ = ["GeminiProvider"]


class GeminiProvider(Provider):
    name: ClassVar[str] = "gemini"
    default_command: ClassVar[str] = "gemini"
    # Gemini is a node script: the pane's command is node, its start command names gemini.
    process_names: ClassVar[frozenset[str]] = frozenset({"gemini"})
    # Like Codex, Gemini takes an Enter that follows typed text too closely as pasted text.
    submit_delay: ClassVar[float] = 0.6
    suggests_input: ClassVar[bool] = True
    assigns_session_id: ClassVar[bool] = True
    # Gemini will not draw its TUI (it exits 42) when $CI says it runs in a CI job, which the
    # gateway's own environment may claim; the window is interactive whatever the parent is.
    base_env: ClassVar[Mapping[str, str]] = {"CI": "false"}

    modes: ClassVar[frozenset[Mode]] = frozenset(Mode)
    # Shift-Tab cycles manual, auto-accept edits and plan; Ctrl-Y toggles YOLO.
    mode_cycle: ClassVar[tuple[Mode, ...]] = (Mode.NORMAL, Mode.ACCEPT_EDITS, Mode.PLAN)
    yolo_toggle_key: ClassVar[str | None] = "C-y"

    def launch_args(self, mode: Mode, session_id: SessionId | None) -> tuple[str, ...]:
        session = ("--session-id", session_id) if session_id else ()
        return (*session, *_mode_args(mode))

    def resume_args(self, mode: Mode, session_id: SessionId) -> tuple[str, ...]:
        return ("--resume", session_id, *_mode_args(mode))

    def find_transcript(self, home: Path, session_id: SessionId) -> Path | None:
        pattern = f"*/chats/session-*-{session_id[:8]}.jsonl"
        for candidate in sorted((home / ".gemini" / "tmp").glob(pattern)):
            if _header_session(candidate) == session_id:
                return candidate
        return None


_APPROVAL_MODES = {Mode.ACCEPT_EDITS: "auto_edit", Mode.PLAN: "plan"}


def _mode_args(mode: Mode) -> tuple[str, ...]:
    if mode is Mode.YOLO:
        return ("--yolo",)
    return ("--approval-mode", _APPROVAL_MODES[mode]) if mode in _APPROVAL_MODES else ()


def _header_session(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8") as handle:
            header = json.loads(handle.readline() or "null")
    except (OSError, ValueError):
        return None
    return header.get("sessionId") if isinstance(header, dict) else None
