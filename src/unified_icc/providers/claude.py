"""Claude Code: launched with a session id we choose, in one of its permission modes.

Owns Claude's argv and key conventions; knows nothing of tmux.
"""

from __future__ import annotations

from typing import ClassVar

from unified_icc.ids import SessionId
from unified_icc.providers.base import HookWiring, Mode, Provider

__all__ = ["ClaudeProvider"]


class ClaudeProvider(Provider):
    name: ClassVar[str] = "claude"
    default_command: ClassVar[str] = "claude"
    process_names: ClassVar[frozenset[str]] = frozenset({"claude", "claude.exe"})
    # Claude takes an immediate Enter after typed or pasted text.
    submit_delay: ClassVar[float] = 0.0
    assigns_session_id: ClassVar[bool] = True
    # Escape before any reply puts the prompt back in the input box; Esc Esc clears it.
    clear_input_hint: ClassVar[str | None] = "Esc again to clear"
    hook_events: ClassVar[tuple[str, ...]] = (
        "SessionStart",
        "UserPromptSubmit",
        "PermissionRequest",
        "Notification",
        "Stop",
        "SessionEnd",
    )
    hook_settings_file: ClassVar[bool] = True
    # @path attaches the file to the prompt (an image as an image), read without a tool call.
    file_mention: ClassVar[str | None] = "@{path}"
    modes: ClassVar[frozenset[Mode]] = frozenset(Mode)
    # Shift-Tab cycles these (bypass joins the cycle only when launched with it).
    mode_cycle: ClassVar[tuple[Mode, ...]] = (Mode.NORMAL, Mode.ACCEPT_EDITS, Mode.PLAN)

    def hook_args(self, hooks: HookWiring) -> tuple[str, ...]:
        # --settings adds our hooks for this process only; ~/.claude/settings.json is untouched.
        return ("--settings", str(hooks.settings_file)) if hooks.settings_file else ()

    def launch_args(self, mode: Mode, session_id: SessionId | None) -> tuple[str, ...]:
        session = ("--session-id", session_id) if session_id else ()
        return (*session, *_mode_args(mode))

    def resume_args(self, mode: Mode, session_id: SessionId) -> tuple[str, ...]:
        return ("--resume", session_id, *_mode_args(mode))


_PERMISSION_MODES = {Mode.NORMAL: "default", Mode.ACCEPT_EDITS: "acceptEdits", Mode.PLAN: "plan"}


def _mode_args(mode: Mode) -> tuple[str, ...]:
    if mode is Mode.YOLO:
        return ("--dangerously-skip-permissions",)
    return ("--permission-mode", _PERMISSION_MODES[mode])
