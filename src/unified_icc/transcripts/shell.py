"""A plain shell's "transcript": what its pane printed (tmux pipe-pane), as terminal output.

Owns the file format (the pane's raw bytes, plus one marker line the gateway appends before it
types each submission), turning a raw line into readable text (escape sequences removed,
carriage-return overwrites applied), and the messages a line becomes: the marker is the
person's input (USER TEXT, which starts a turn), every other line is OUTPUT.

A fragment printed without a newline just before a submission (almost always the shell's
prompt) is dropped with the marker's line. Knows nothing of tmux or of watching files.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Final

from unified_icc.events import AgentMessage, MessageKind, MessageRole
from unified_icc.transcripts.base import line_digest

__all__ = ["INPUT_MARKER", "ShellParser", "append_input_marker", "clean_terminal_line"]

INPUT_MARKER: Final = "\x1funified-icc-input\x1f "
"""Starts the gateway's note of a submission (unit separators: never typed, and unlike the
record separator not a line break to str.splitlines)."""

# CSI (colours, cursor moves, bracketed paste), OSC (titles, ended by BEL or ST), other
# two-byte escapes, and the remaining C0 controls except tab.
_ESCAPES: Final = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x1b."
)
_CONTROLS: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def append_input_marker(path: Path, text: str) -> None:
    """Note in the shell's output file that text is being submitted (before it is typed)."""
    with path.open("a", encoding="utf-8") as handle:
        # On the prompt's own line: the parser drops what precedes the marker.
        handle.write(INPUT_MARKER + json.dumps(text, ensure_ascii=False) + "\n")


def clean_terminal_line(raw: str) -> str:
    """A line as a terminal leaves it: escapes removed, ``\\r`` and backspaces applied."""
    text = _ESCAPES.sub("", raw.rstrip("\r\n"))
    text = text.rstrip("\r").rsplit("\r", 1)[-1]
    kept: list[str] = []
    for char in text:
        if char != "\b":
            kept.append(char)
        elif kept:
            kept.pop()
    return _CONTROLS.sub("", "".join(kept)).rstrip()


class ShellParser:
    """One message per line. Ids are unique per parser instance: a shell repeats lines."""

    def __init__(self) -> None:
        self._nonce = secrets.token_hex(8)
        self._count = 0

    def order(self, lines: tuple[str, ...]) -> tuple[str, ...]:
        return lines  # written in the order they were made

    def parse(self, line: str) -> tuple[AgentMessage, ...]:
        self._count += 1
        message_id = line_digest(f"{self._nonce}:{self._count}")
        if INPUT_MARKER in line:
            raw = line.split(INPUT_MARKER, 1)[1].strip()
            try:
                text = json.loads(raw)
            except ValueError:
                text = raw
            return (AgentMessage(id=message_id, role=MessageRole.USER, kind=MessageKind.TEXT,
                                 text=str(text)),)  # fmt: skip
        return (AgentMessage(id=message_id, role=MessageRole.ASSISTANT, kind=MessageKind.OUTPUT,
                             text=clean_terminal_line(line)),)  # fmt: skip
