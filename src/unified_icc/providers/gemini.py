"""Gemini CLI: default approvals, or ``--yolo``.

Owns Gemini's argv and key conventions; knows nothing of tmux.
"""

from __future__ import annotations

from typing import ClassVar

from unified_icc.ids import SessionId
from unified_icc.providers.base import Mode, Provider

__all__ = ["GeminiProvider"]


class GeminiProvider(Provider):
    name: ClassVar[str] = "gemini"
    default_command: ClassVar[str] = "gemini"
    # Gemini is a node script: the pane's command is node, its start command names gemini.
    process_names: ClassVar[frozenset[str]] = frozenset({"gemini"})
    submit_delay: ClassVar[float] = 0.3

    def launch_args(self, mode: Mode, session_id: SessionId | None) -> tuple[str, ...]:
        return ("--yolo",) if mode is Mode.YOLO else ()

    def resume_args(self, mode: Mode, session_id: SessionId) -> tuple[str, ...]:
        return ("--resume", session_id, *self.launch_args(mode, None))
