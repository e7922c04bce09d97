"""Codex CLI: on-request approvals in a workspace-write sandbox, or bypass both in yolo.

Owns Codex's argv and key conventions; knows nothing of tmux. Codex 0.169 runs hooks given
with ``-c hooks.<Event>=…`` for this process only (``~/.codex`` is untouched); SessionStart
fires at the first prompt with the rollout's path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import ClassVar

from unified_icc.ids import SessionId
from unified_icc.providers.base import HookWiring, Mode, Provider

__all__ = ["CodexProvider"]


class CodexProvider(Provider):
    name: ClassVar[str] = "codex"
    default_command: ClassVar[str] = "codex"
    process_names: ClassVar[frozenset[str]] = frozenset({"codex"})
    # Codex treats a fast burst as a paste and swallows an Enter sent sooner than ~0.5 s.
    submit_delay: ClassVar[float] = 0.6
    suggests_input: ClassVar[bool] = True
    hook_events: ClassVar[tuple[str, ...]] = ("SessionStart", "UserPromptSubmit", "Stop")

    # /permissions: 1 asks for approval (our normal), 3 is Full Access (yolo), which it
    # confirms with its own "Enable full access?" (1: yes); the history then says so.
    mode_menu: ClassVar[Mapping[Mode, tuple[tuple[str, ...], str]]] = {
        Mode.NORMAL: (("/permissions", "Enter", "1"),
                      "Permission selection requested: Ask for approval"),
        Mode.YOLO: (("/permissions", "Enter", "3", "1"),
                    "Permission selection requested: Full Access"),
    }  # fmt: skip

    def hook_args(self, hooks: HookWiring) -> tuple[str, ...]:
        # Hooks from -c would otherwise wait behind Codex's "Hooks need review" dialog.
        args: list[str] = ["--dangerously-bypass-hook-trust"]
        handler = f"[{{hooks=[{{type=\"command\",command={json.dumps(hooks.command)}}}]}}]"
        for event in self.hook_events:
            args += ["-c", f"hooks.{event}={handler}"]
        return tuple(args)

    def launch_args(self, mode: Mode, session_id: SessionId | None) -> tuple[str, ...]:
        return _mode_args(mode)

    def resume_args(self, mode: Mode, session_id: SessionId) -> tuple[str, ...]:
        return (*_mode_args(mode), "resume", session_id)


def _mode_args(mode: Mode) -> tuple[str, ...]:
    # --no-daemon keeps Codex in its window's process instead of a daemon that outlives it.
    if mode is Mode.YOLO:
        return ("--no-daemon", "--dangerously-bypass-approvals-and-sandbox")
    return ("--no-daemon", "--ask-for-approval", "on-request", "--sandbox", "workspace-write")
