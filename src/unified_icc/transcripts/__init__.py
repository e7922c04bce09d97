"""Agent transcripts: incremental reading of JSONL files and per-CLI parsers.

Owns turning transcript bytes into AgentMessages and the cursor that says what was delivered.
Knows nothing of windows, channels, watching files or delivery (the session monitor does that).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from unified_icc.errors import UnknownProviderError
from unified_icc.transcripts.base import ERROR_PREFIX, TranscriptParser
from unified_icc.transcripts.claude import ClaudeParser
from unified_icc.transcripts.codex import CodexParser, read_session_meta
from unified_icc.transcripts.gemini import GeminiParser
from unified_icc.transcripts.shell import (
    INPUT_MARKER,
    ShellParser,
    append_input_marker,
    clean_terminal_line,
)
from unified_icc.transcripts.tail import (
    RECENT_IDS_KEEP,
    TailChunk,
    TranscriptCursor,
    advance,
    cursor_at_end,
    is_new,
    read_new,
)

__all__ = [
    "ERROR_PREFIX",
    "INPUT_MARKER",
    "RECENT_IDS_KEEP",
    "ClaudeParser",
    "CodexParser",
    "GeminiParser",
    "ShellParser",
    "TailChunk",
    "TranscriptCursor",
    "TranscriptParser",
    "advance",
    "append_input_marker",
    "clean_terminal_line",
    "cursor_at_end",
    "is_new",
    "parser_for",
    "read_new",
    "read_session_meta",
]

_PARSERS: Final[Mapping[str, Callable[[], TranscriptParser]]] = MappingProxyType(
    {"claude": ClaudeParser, "codex": CodexParser, "gemini": GeminiParser, "shell": ShellParser}
)


def parser_for(provider: str) -> TranscriptParser:
    """A new parser for the transcripts of ``provider`` (case-insensitive).

    Raises:
        UnknownProviderError: (a ValueError) for a name that is not ``claude``, ``codex``,
            ``gemini`` or ``shell`` (whose "transcript" is its pane's output).
    """
    factory = _PARSERS.get(provider.strip().lower())
    if factory is None:
        raise UnknownProviderError(
            f"no transcript parser for provider {provider!r}: use one of {', '.join(_PARSERS)}",
            provider=provider,
        )
    return factory()
