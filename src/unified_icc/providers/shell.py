"""A plain shell: no modes, no transcript, no session id, nothing to resume.

Owns the shell's argv; knows nothing of tmux.
"""

from __future__ import annotations

from typing import ClassVar

from unified_icc.providers.base import Mode, Provider

__all__ = ["ShellProvider"]


class ShellProvider(Provider):
    name: ClassVar[str] = "shell"
    default_command: ClassVar[str] = "bash"
    modes: ClassVar[frozenset[Mode]] = frozenset({Mode.NORMAL})
    interrupt_key: ClassVar[str] = "C-c"
    # A shell's variables and jobs die with it: "resuming" starts a new one in the folder.
    resumable: ClassVar[bool] = False
    file_mention: ClassVar[str | None] = None
