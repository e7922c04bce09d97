"""AuditLog: one JSON line per thing a person made the bot do, in ``audit.jsonl`` (mode 0600).

Owns the audit record format and appending it; knows nothing of Feishu or tmux. Records carry
who, where and what (message text, commands, keystroke batches, prompt answers, #ask's tool
calls, refusals),
never secrets: callers pass only what a user typed or chose.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

__all__ = ["AuditKind", "AuditLog", "AuditRecord"]


class AuditKind(StrEnum):
    INBOUND = "inbound"
    COMMAND = "command"
    KEYSTROKES = "keystrokes"
    PROMPT_ANSWER = "prompt_answer"
    REFUSAL = "refusal"
    TOOL_CALL = "tool_call"  # one the #ask orchestrator made (a refused one is a refusal)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    kind: AuditKind
    app: str
    user: str
    chat: str
    detail: str
    window_id: str | None = None
    message_id: str | None = None


class AuditLog:
    """Appends records to one file; each append is a single write on an O_APPEND descriptor."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock

    def record(self, entry: AuditRecord) -> None:
        """Append one line. Raises OSError when the folder cannot be written."""
        line = json.dumps({"ts": self._clock(), **asdict(entry)}, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
