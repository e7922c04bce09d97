"""What every transcript parser answers, and the conventions the three parsers share.

Owns the TranscriptParser Protocol, the message-id rules, the error marker, one-line summaries
and bounded per-parser memory. Knows nothing of files, offsets or any one CLI's format.

Conventions (all parsers):
  * role USER is what the human caused: typed prompts, slash and ``!`` commands, their output,
    interrupts. Everything the agent did (text, thinking, tool calls, tool results) is ASSISTANT.
  * kind LOCAL_COMMAND is a notice written by the CLI itself rather than the model.
  * a failed or rejected tool result starts with ERROR_PREFIX.
  * ids are stable (the same line always yields the same ids) and a parser never yields the same
    id twice; the tail's recent_ids catch repeats across parser instances.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Final, Generic, Protocol, TypeVar

from unified_icc.events import AgentMessage, ApiProblem, MessageKind, MessageRole

__all__ = [
    "ERROR_PREFIX",
    "BoundedMemo",
    "Draft",
    "EmittedIds",
    "TranscriptParser",
    "compact_json",
    "line_digest",
    "load_json_object",
    "number_drafts",
    "one_line",
]

logger = logging.getLogger(__name__)

ERROR_PREFIX: Final = "[error] "
"""Starts the text of a tool result that failed or that the user rejected."""

SUMMARY_LIMIT: Final = 200
"""Characters kept of a tool-call summary, which must fit on one line of a card."""

MEMORY_LIMIT: Final = 4096
"""Tool names and emitted ids a parser remembers; enough for any turn, bounded for long sessions."""

V = TypeVar("V")


class TranscriptParser(Protocol):
    """Turns one transcript line into the messages a chat shows.

    Stateful: a tool result is paired with the tool call seen in an earlier call. Use one
    parser per transcript file, and a fresh one when the tail restarts a file.
    """

    def parse(self, line: str) -> tuple[AgentMessage, ...]:
        """The messages of one line (often none). Never raises on bad input."""
        ...

    def order(self, lines: tuple[str, ...]) -> tuple[str, ...]:
        """The lines of one read in the order their entries were made (parse them so). Most
        CLIs write in that order; Claude may not. Never raises on bad input."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """A message before its id is known."""

    role: MessageRole
    kind: MessageKind
    text: str
    tool_name: str | None = None
    tool_id: str | None = None
    problem: ApiProblem | None = None

    def with_id(self, message_id: str) -> AgentMessage:
        return AgentMessage(
            id=message_id,
            role=self.role,
            kind=self.kind,
            text=self.text,
            tool_name=self.tool_name,
            tool_id=self.tool_id,
            problem=self.problem,
        )


class BoundedMemo(Generic[V]):
    """A small insertion-ordered map that forgets its oldest keys beyond ``limit``."""

    def __init__(self, *, limit: int = MEMORY_LIMIT) -> None:
        self._limit = limit
        self._items: dict[str, V] = {}

    def put(self, key: str, value: V) -> None:
        self._items.pop(key, None)
        self._items[key] = value
        if len(self._items) > self._limit:
            del self._items[next(iter(self._items))]

    def get(self, key: str) -> V | None:
        return self._items.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._items


class EmittedIds:
    """Remembers the ids a parser has yielded, so a repeated or rewritten entry yields nothing."""

    def __init__(self, *, limit: int = MEMORY_LIMIT) -> None:
        self._seen: BoundedMemo[None] = BoundedMemo(limit=limit)

    def keep_new(self, messages: list[AgentMessage]) -> tuple[AgentMessage, ...]:
        fresh: list[AgentMessage] = []
        for message in messages:
            if message.id not in self._seen:
                self._seen.put(message.id, None)
                fresh.append(message)
        return tuple(fresh)


def number_drafts(base_id: str, drafts: list[Draft]) -> list[AgentMessage]:
    """Give drafts from one entry their ids: the entry id alone, or ``<id>:<index>`` for several."""
    if len(drafts) == 1:
        return [drafts[0].with_id(base_id)]
    return [draft.with_id(f"{base_id}:{index}") for index, draft in enumerate(drafts)]


def load_json_object(line: str) -> dict[str, Any] | None:
    """The line as a JSON object; None (logged at debug) if blank, malformed or not an object."""
    if not line.strip():
        return None
    try:
        value = json.loads(line)
    except ValueError as exc:
        logger.debug("skipping a malformed transcript line (%s, %d chars)", exc, len(line))
        return None
    if not isinstance(value, dict):
        logger.debug("skipping a transcript line that is not an object")
        return None
    return value


def line_digest(line: str) -> str:
    """A stable id for an entry that carries none: a hash of its exact text."""
    return "sha256:" + hashlib.sha256(line.strip().encode("utf-8", "replace")).hexdigest()[:32]


def one_line(text: str, *, limit: int = SUMMARY_LIMIT) -> str:
    """The first non-blank line of text, marked with an ellipsis if anything was left out."""
    lines = [part.strip() for part in text.strip().splitlines()]
    first = next((part for part in lines if part), "")
    cut = len(first) > limit or sum(1 for part in lines if part) > 1
    return first[:limit].rstrip() + " …" if cut else first


def compact_json(value: object, *, limit: int = SUMMARY_LIMIT) -> str:
    """Value as compact one-line JSON, cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + "…"
