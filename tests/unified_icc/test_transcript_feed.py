"""TranscriptFeed's account of a turn: whether a prompt the agent took is still unwritten."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from unified_icc import WindowId
from unified_icc.channel_router import ChannelRouter
from unified_icc.event_bus import EventBus
from unified_icc.ids import RecordId
from unified_icc.transcript_feed import TranscriptFeed
from unified_icc.window_store import WindowRecord, WindowStore

RECORD = RecordId("0" * 12)


def _feed(tmp_path: Path) -> tuple[TranscriptFeed, WindowRecord, Path]:
    transcript = tmp_path / "session.jsonl"
    transcript.touch()
    record = WindowRecord(record_id=RECORD, window_id=WindowId("@0"), provider="claude",
                          mode="normal", cwd=str(tmp_path), created_at="t",
                          transcript_path=str(transcript))  # fmt: skip
    store = WindowStore()
    store.add(record)
    feed = TranscriptFeed(store=store, router=ChannelRouter(), bus=EventBus(), cursors={})
    return feed, record, transcript


def _write(transcript: Path, role: str, text: str) -> None:
    content: object = text if role == "user" else [{"type": "text", "text": text}]
    entry = {"type": role, "uuid": str(uuid.uuid4()), "message": {"role": role, "content": content}}
    with transcript.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


async def test_a_prompt_taken_is_unread_until_its_words_are_read(tmp_path: Path) -> None:
    feed, record, transcript = _feed(tmp_path)
    feed.prompt_taken(RECORD)
    unread_before = feed.prompt_unread(RECORD)
    _write(transcript, "assistant", "an answer without its prompt yet")
    await feed.deliver(record)
    unread_after_reply = feed.prompt_unread(RECORD)
    _write(transcript, "user", "hello")
    await feed.deliver(record)

    assert (unread_before, unread_after_reply) == (True, True)
    assert not feed.prompt_unread(RECORD)


async def test_words_read_before_their_hook_leave_nothing_unread(tmp_path: Path) -> None:
    feed, record, transcript = _feed(tmp_path)
    _write(transcript, "user", "first")
    _write(transcript, "user", "second")  # e.g. a command's own entry: no hook for it
    await feed.deliver(record)
    feed.prompt_taken(RECORD)  # the hook of "first" is read after its words
    settled = feed.prompt_unread(RECORD)
    feed.prompt_taken(RECORD)  # a later prompt: the surplus read does not hide it

    assert not settled
    assert feed.prompt_unread(RECORD)


async def test_prompts_never_written_are_waited_for_no_more(tmp_path: Path) -> None:
    feed, _, _ = _feed(tmp_path)
    feed.prompt_taken(RECORD)
    feed.prompt_taken(RECORD)
    feed.stop_waiting_for_prompts(RECORD)

    assert not feed.prompt_unread(RECORD)
