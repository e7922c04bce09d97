"""TranscriptFeed: turns the growth of our windows' transcripts into AgentMessageEvents, once.

Owns the per-transcript cursors (the delivered watermark), the per-window parsers, the
read-deliver-advance cycle, and what the transcript says of a window's turn (it owes a reply;
a prompt the agent took is not written yet). The cursor is committed to state.db in the same
transaction as what the on_message callbacks staged (one journal unit), and entries already
delivered are skipped by id, so a restart delivers what the agent wrote meanwhile exactly once.
Knows nothing of tmux or of how changes are noticed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import Final

from unified_icc.channel_router import ChannelRouter
from unified_icc.event_bus import EventBus
from unified_icc.events import AgentMessage, AgentMessageEvent, MessageKind, MessageRole
from unified_icc.ids import RecordId
from unified_icc.journal import Journal, Write
from unified_icc.transcripts import (
    TranscriptCursor,
    TranscriptParser,
    advance,
    cursor_at_end,
    is_new,
    parser_for,
    read_new,
)
from unified_icc.watermarks import Watermarks
from unified_icc.window_store import WindowRecord, WindowStore

__all__ = ["TranscriptFeed"]

logger = logging.getLogger(__name__)


class TranscriptFeed:
    def __init__(
        self,
        *,
        store: WindowStore,
        router: ChannelRouter,
        bus: EventBus,
        cursors: dict[str, TranscriptCursor],
        journal: Journal | None = None,
    ) -> None:
        self._store = store
        self._router = router
        self._bus = bus
        self.cursors = cursors
        self._journal = journal
        self._parsers: dict[tuple[RecordId, str], TranscriptParser] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        # Windows whose transcript ends in a tool call or a tool result.
        self._owing: set[RecordId] = set()
        # Per window: prompts its agent said it took (its UserPromptSubmit hook) less the
        # person's words read from its transcript since; -1 when the words came first.
        self._unread_prompts: dict[RecordId, int] = {}

    def owes_reply(self, record_id: RecordId) -> bool:
        """Whether the window's transcript ends in a tool call or a tool result: the agent
        runs the tool or its model answers the result next, whatever its screen looks like."""
        return record_id in self._owing

    def prompt_unread(self, record_id: RecordId) -> bool:
        """Whether the window's agent took a prompt (its hook said so) that its transcript
        does not show yet: a CLI may write the prompt and its reply after its Stop hook."""
        return self._unread_prompts.get(record_id, 0) > 0

    def prompt_taken(self, record_id: RecordId) -> None:
        """The window's UserPromptSubmit hook came: its transcript will show the prompt."""
        self._unread_prompts[record_id] = self._unread_prompts.get(record_id, 0) + 1

    def stop_waiting_for_prompts(self, record_id: RecordId) -> None:
        """Prompts the agent took and never wrote (a command of its own) are waited for no more."""
        self._unread_prompts.pop(record_id, None)

    def paths(self) -> set[Path]:
        """The transcripts of our live windows (what the file watcher should watch)."""
        return {Path(r.transcript_path) for r in self._store if r.transcript_path and not r.dead}

    def start_at_end(self, path: str) -> None:
        """Deliver only what is written from now on (a resumed session's history is old)."""
        if path not in self.cursors:
            self.cursors[path] = cursor_at_end(Path(path))

    def forget(self, record: WindowRecord) -> None:
        for key in [k for k in self._parsers if k[0] == record.record_id]:
            del self._parsers[key]
        self._owing.discard(record.record_id)
        self._unread_prompts.pop(record.record_id, None)

    async def deliver_changed(self, paths: set[Path]) -> set[RecordId]:
        """Read and deliver every window whose transcript is among ``paths``; returns the
        windows whose agent wrote something (not only the person's input)."""
        wanted = {str(p) for p in paths}
        wrote: set[RecordId] = set()
        for record in self._store:
            if record.transcript_path not in wanted:
                continue
            if any(m.role is not MessageRole.USER for m in await self.deliver(record)):
                wrote.add(record.record_id)
        return wrote

    async def deliver(self, record: WindowRecord) -> tuple[AgentMessage, ...]:
        """Read the record's transcript from its cursor and deliver new entries as one event.

        Serialised per transcript; returns the messages delivered.
        """
        path = record.transcript_path
        if path is None:
            return ()
        async with self._locks.setdefault(path, asyncio.Lock()):
            cursor = self.cursors.get(path, TranscriptCursor())
            chunk = await asyncio.to_thread(read_new, Path(path), cursor)
            if not chunk.lines and not chunk.restarted and chunk.identity == cursor.identity:
                return ()
            if chunk.restarted:
                logger.warning("transcript %s shrank or was replaced; re-reading it", path)
            messages = self._parse(record, path, chunk.lines, cursor)
            self._note_owing(record.record_id, messages)
            self._note_prompts_read(record.record_id, messages)
            moved = advance(cursor, chunk, tuple(m.id for m in messages))
            watermark = Watermarks.cursor(path, moved)
            if messages:
                await self._emit(record, messages, watermark)
            elif self._journal is not None and self._journal.is_open:
                await self._journal.commit(watermark)
            self.cursors[path] = moved
            return messages

    def _parse(
        self, record: WindowRecord, path: str, lines: tuple[str, ...], cursor: TranscriptCursor
    ) -> tuple[AgentMessage, ...]:
        parser = self._parsers.get((record.record_id, path))
        if parser is None:
            parser = self._parsers[(record.record_id, path)] = parser_for(record.provider)
        fresh: dict[str, AgentMessage] = {}
        for line in parser.order(lines):
            for message in parser.parse(line):
                if is_new(cursor, message.id) and message.id not in fresh:
                    fresh[message.id] = message
        return _merge_output(tuple(fresh.values()))

    def _note_owing(self, record_id: RecordId, messages: tuple[AgentMessage, ...]) -> None:
        if not messages:
            return
        last = messages[-1]  # the person's words (or a stop) owe nothing of the last turn
        if last.role is not MessageRole.USER and last.kind in _OWING_KINDS:
            self._owing.add(record_id)
        else:
            self._owing.discard(record_id)

    def _note_prompts_read(self, record_id: RecordId, messages: tuple[AgentMessage, ...]) -> None:
        read = sum(1 for m in messages if m.role is MessageRole.USER and m.kind is MessageKind.TEXT)
        if read:
            left = self._unread_prompts.get(record_id, 0) - read
            self._unread_prompts[record_id] = max(left, -1)

    async def _emit(
        self, record: WindowRecord, messages: tuple[AgentMessage, ...], watermark: Write
    ) -> None:
        # The record may have moved (tmux renumbered it) while the file was read.
        latest = self._store.get(record.record_id) or record
        event = AgentMessageEvent(
            window_id=latest.window_id,
            session_id=latest.session_id,
            channel_ids=self._router.channels_for(latest.window_id),
            messages=messages,
        )
        await self._bus.emit(event, writes=(watermark,))


# What an agent's model always follows with more: the tool's result, the answer to it.
_OWING_KINDS: Final = frozenset({MessageKind.TOOL_USE, MessageKind.TOOL_RESULT,
                                 MessageKind.THINKING})  # fmt: skip


def _merge_output(messages: tuple[AgentMessage, ...]) -> tuple[AgentMessage, ...]:
    """Runs of a shell's output lines as one message each (the last line's id), blank edges cut."""
    merged: list[AgentMessage] = []
    run: list[AgentMessage] = []

    def close_run() -> None:
        text = "\n".join(m.text for m in run).strip("\n")
        if text.strip():
            merged.append(replace(run[-1], text=text))
        run.clear()

    for message in messages:
        if message.kind is MessageKind.OUTPUT:
            run.append(message)
            continue
        if run:
            close_run()
        merged.append(message)
    if run:
        close_run()
    return tuple(merged)
