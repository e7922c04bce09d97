"""Codex CLI: on-request approvals in a workspace-write sandbox, or bypass both in yolo.

Owns Codex's argv and key conventions; knows nothing of tmux.
"""

from __future__ import annotations

from typing import ClassVar

from unified_icc.ids import SessionId
from unified_icc.providers.base import Mode, Provider

__all__ = ["CodexProvider"]


class CodexProvider(Provider):
    name: ClassVar[str] = "codex"
    default_command: ClassVar[str] = "codex"
    process_names: ClassVar[frozenset[str]] = frozenset({"codex"})
    # Codex treats a fast burst as a paste and swallows an Enter sent sooner than ~0.5 s.
    submit_delay: ClassVar[float] = 0.6

    def launch_args(self, mode: Mode, session_id: SessionId | None) -> tuple[str, ...]:
        return _mode_args(mode)

    def resume_args(self, mode: Mode, session_id: SessionId) -> tuple[str, ...]:
        return (*_mode_args(mode), "resume", session_id)


def _mode_args(mode: Mode) -> tuple[str, ...]:
    if mode is Mode.YOLO:
        return ("--dangerously-bypass-approvals-and-sandbox",)
    return ("--ask-for-approval", "on-request", "--sandbox", "workspace-write")
