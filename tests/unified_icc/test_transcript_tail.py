"""Incremental transcript reading: offsets, partial lines, restarts and de-duplication."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pytest
from pydantic import TypeAdapter

from unified_icc.events import AgentMessage
from unified_icc.transcripts import (
    TailChunk,
    TranscriptCursor,
    advance,
    cursor_at_end,
    is_new,
    parser_for,
    read_new,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "transcripts"
E2E = FIXTURES / "claude" / "claude-transcript-e2e.jsonl"
# A snapshot of the same session taken earlier: byte for byte a prefix of E2E.
AT_PROMPT = FIXTURES / "claude" / "claude-transcript-at-permission-prompt.jsonl"


def read_all(path: Path, cursor: TranscriptCursor, *, max_bytes: int = 8 << 20) -> TailChunk:
    return read_new(path, cursor, max_bytes=max_bytes)


def deliver(path: Path, cursor: TranscriptCursor) -> tuple[list[AgentMessage], TranscriptCursor]:
    """What the session monitor does: read, parse, keep new ids, deliver, then advance."""
    chunk = read_new(path, cursor)
    parser = parser_for("claude")
    messages = [m for line in chunk.lines for m in parser.parse(line) if is_new(cursor, m.id)]
    return messages, advance(cursor, chunk, [m.id for m in messages])


def replace_file(path: Path, data: bytes) -> None:
    """Write data to a new inode and rename it over path, as an atomic rewrite does."""
    fresh = path.with_suffix(".new")
    fresh.write_bytes(data)
    os.replace(fresh, path)


class ReadCase(NamedTuple):
    test_id: str
    content: bytes
    offset: int
    lines: tuple[str, ...]
    end_offset: int


READ_CASES = [
    ReadCase("whole-lines", b"a\nbb\n", 0, ("a", "bb"), 5),
    ReadCase("partial-last-line-waits", b"a\nbb", 0, ("a",), 2),
    ReadCase("only-a-partial-line", b'{"type":', 0, (), 0),
    ReadCase("from-the-offset", b"a\nbb\nccc\n", 2, ("bb", "ccc"), 9),
    ReadCase("nothing-new", b"a\n", 2, (), 2),
    ReadCase("crlf-endings", b"a\r\nb\r\n", 0, ("a", "b"), 6),
    ReadCase("blank-lines-kept", b"a\n\nb\n", 0, ("a", "", "b"), 5),
    ReadCase(
        "invalid-utf8-replaced", b'{"t":"\xff\xfe ok"}\n', 0, ('{"t":"\ufffd\ufffd ok"}',), 14
    ),
    ReadCase("split-multibyte-char-waits", "é\nà".encode()[:-1], 0, ("é",), 3),
    ReadCase("offset-mid-line-skips-to-next", b"first line\nsecond\n", 3, ("second",), 18),
    ReadCase("offset-mid-last-line-waits", b"a\nbroken", 4, (), 4),
    ReadCase("offset-mid-line-to-end", b"a\nbroken\n", 4, (), 9),
]


@pytest.mark.parametrize("case", READ_CASES, ids=[c.test_id for c in READ_CASES])
def test_read_new_returns_complete_lines_after_the_offset(case: ReadCase, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(case.content)

    chunk = read_new(path, TranscriptCursor(offset=case.offset))

    assert (chunk.lines, chunk.end_offset, chunk.restarted) == (
        case.lines,
        case.end_offset,
        False,
    )


def test_partial_last_line_is_returned_once_it_is_complete(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"a":1}\n{"b":')
    first = read_new(path, TranscriptCursor())
    cursor = advance(TranscriptCursor(), first)
    with path.open("ab") as handle:
        handle.write(b'2}\n{"c":3}\n')

    second = read_new(path, cursor)

    assert first.lines == ('{"a":1}',)
    assert second.lines == ('{"b":2}', '{"c":3}')
    assert (second.end_offset, second.restarted) == (path.stat().st_size, False)


def test_appended_lines_are_read_incrementally(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    path.write_bytes(AT_PROMPT.read_bytes())
    first, cursor = deliver(path, TranscriptCursor())
    path.write_bytes(E2E.read_bytes())  # same inode: the CLI appended the rest of the session

    second, cursor = deliver(path, cursor)

    assert [m.text for m in first] == [
        "Say hello DELAY=3",
        "FAKE-REPLY: you said 'Say hello DELAY=3'",
        "BASH: touch x.txt",
    ]
    assert [m.text for m in second][:2] == ["I'll run that command.", "Bash: touch x.txt"]
    assert len(first) + len(second) == 9
    assert cursor.offset == E2E.stat().st_size


def test_reading_does_not_move_the_cursor(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"a\nb\n")
    cursor = TranscriptCursor()

    assert read_new(path, cursor) == read_new(path, cursor)
    assert cursor == TranscriptCursor()


def test_truncated_file_is_read_again_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"one\ntwo\nthree\n")
    cursor = advance(TranscriptCursor(), read_new(path, TranscriptCursor()))
    with path.open("r+b") as handle:
        handle.truncate(0)
        handle.write(b"new\n")

    chunk = read_new(path, cursor)

    assert (chunk.lines, chunk.end_offset, chunk.restarted) == (("new",), 4, True)


class ReplaceCase(NamedTuple):
    test_id: str
    before: bytes
    after: bytes


REPLACE_CASES = [
    ReplaceCase("new-inode-same-size", b'{"id":"a"}\n', b'{"id":"b"}\n'),
    ReplaceCase("new-inode-same-bytes", b'{"id":"a"}\n', b'{"id":"a"}\n'),
    ReplaceCase("new-inode-longer", b'{"id":"a"}\n', b'{"id":"b"}\n{"id":"c"}\n'),
]


@pytest.mark.parametrize("case", REPLACE_CASES, ids=[c.test_id for c in REPLACE_CASES])
def test_replaced_file_is_read_again_from_the_start(case: ReplaceCase, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(case.before)
    cursor = advance(TranscriptCursor(), read_new(path, TranscriptCursor()))
    replace_file(path, case.after)

    chunk = read_new(path, cursor)

    assert chunk.restarted
    assert chunk.lines == tuple(case.after.decode().splitlines())
    assert chunk.identity != cursor.identity


def test_rewritten_in_place_with_other_first_bytes_restarts(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"id":"a"}\n')
    cursor = advance(TranscriptCursor(), read_new(path, TranscriptCursor()))
    with path.open("r+b") as handle:  # same inode, same size, other content
        handle.write(b'{"id":"z"}\n{"id":"y"}\n')

    chunk = read_new(path, cursor)

    assert (chunk.restarted, chunk.lines) == (True, ('{"id":"z"}', '{"id":"y"}'))


def test_duplicates_after_a_restart_are_skipped_through_recent_ids(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    path.write_bytes(AT_PROMPT.read_bytes())
    delivered, cursor = deliver(path, TranscriptCursor())
    replace_file(path, E2E.read_bytes())  # the whole session again, in a new file

    chunk = read_new(path, cursor)
    again, cursor = deliver(path, cursor)

    assert chunk.restarted
    assert {m.id for m in delivered}.isdisjoint(m.id for m in again)
    assert again[0].text == "I'll run that command."
    assert len(delivered) + len(again) == 9


def test_ids_from_before_a_restart_are_still_skipped_in_later_chunks(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    path.write_bytes(E2E.read_bytes())
    _, cursor = deliver(path, TranscriptCursor())
    replace_file(path, E2E.read_bytes())
    parser = parser_for("claude")
    redelivered: list[AgentMessage] = []

    chunks = 0
    while chunks < 100:  # a small max_bytes re-reads the file in many chunks
        chunk = read_all(path, cursor, max_bytes=2048)
        if not chunk.lines and chunk.end_offset == cursor.offset:
            break
        chunks += 1
        fresh = [m for line in chunk.lines for m in parser.parse(line) if is_new(cursor, m.id)]
        redelivered += fresh
        cursor = advance(cursor, chunk, [m.id for m in fresh])

    assert redelivered == []
    assert chunks > 3
    assert cursor.offset == E2E.stat().st_size


def test_missing_file_gives_an_empty_chunk_and_keeps_the_cursor(tmp_path: Path) -> None:
    cursor = TranscriptCursor(offset=120, identity="1:2:120:abc", recent_ids=("x",))

    chunk = read_new(tmp_path / "absent.jsonl", cursor)

    assert chunk == TailChunk(lines=(), end_offset=120, identity="1:2:120:abc", restarted=False)
    assert advance(cursor, chunk) == cursor


def test_max_bytes_limits_a_chunk_but_a_longer_line_is_still_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    long_line = "x" * 100_000
    path.write_text(f"a\nb\n{long_line}\nc\n")
    cursor = TranscriptCursor()
    seen: list[tuple[str, ...]] = []

    for _ in range(4):
        chunk = read_all(path, cursor, max_bytes=3)
        seen.append(chunk.lines)
        cursor = advance(cursor, chunk)

    assert seen == [("a",), ("b",), (long_line,), ("c",)]


def test_legacy_cursor_without_identity_is_trusted(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"a\nb\n")

    chunk = read_new(path, TranscriptCursor(offset=2))

    assert (chunk.lines, chunk.restarted) == (("b",), False)
    assert chunk.identity


def test_unreadable_identity_restarts(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"a\nb\n")

    chunk = read_new(path, TranscriptCursor(offset=2, identity="garbage"))

    assert (chunk.lines, chunk.restarted) == (("a", "b"), True)


class AdvanceCase(NamedTuple):
    test_id: str
    recent: tuple[str, ...]
    delivered: tuple[str, ...]
    keep: int
    expected: tuple[str, ...]


ADVANCE_CASES = [
    AdvanceCase("appends", ("a", "b"), ("c",), 512, ("a", "b", "c")),
    AdvanceCase("keeps-the-newest", ("a", "b"), ("c", "d"), 3, ("b", "c", "d")),
    AdvanceCase("repeat-moves-to-the-end", ("a", "b"), ("a",), 512, ("b", "a")),
    AdvanceCase("duplicates-in-one-batch", (), ("x", "x", "y"), 512, ("x", "y")),
    AdvanceCase("nothing-delivered", ("a",), (), 512, ("a",)),
]


@pytest.mark.parametrize("case", ADVANCE_CASES, ids=[c.test_id for c in ADVANCE_CASES])
def test_advance_moves_to_the_chunk_end_and_remembers_ids(case: AdvanceCase) -> None:
    chunk = TailChunk(lines=("l",), end_offset=42, identity="1:2:42:ff", restarted=False)

    cursor = advance(
        TranscriptCursor(recent_ids=case.recent), chunk, case.delivered, keep=case.keep
    )

    assert cursor == TranscriptCursor(offset=42, identity="1:2:42:ff", recent_ids=case.expected)
    assert not any(is_new(cursor, entry_id) for entry_id in case.expected)


def test_advance_after_a_restart_keeps_the_ids_delivered_before() -> None:
    chunk = TailChunk(lines=("l",), end_offset=10, identity="1:3:10:aa", restarted=True)

    cursor = advance(TranscriptCursor(offset=99, recent_ids=("old",)), chunk, ["new"])

    assert (cursor.offset, cursor.recent_ids) == (10, ("old", "new"))
    assert not is_new(cursor, "old")
    assert is_new(cursor, "other")


def test_cursor_round_trips_through_pydantic_json(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"a\n")
    cursor = advance(TranscriptCursor(), read_new(path, TranscriptCursor()), ["id-1", "id-2"])
    adapter = TypeAdapter(TranscriptCursor)

    assert adapter.validate_json(adapter.dump_json(cursor)) == cursor
    assert adapter.validate_python({}) == TranscriptCursor()


def test_cursor_at_end_delivers_only_what_is_written_later(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"old 1\nold 2\npartial")
    cursor = cursor_at_end(path)
    with path.open("ab") as handle:
        handle.write(b" done\nnew\n")

    chunk = read_new(path, cursor)

    assert cursor.offset == len(b"old 1\nold 2\n")
    assert (chunk.lines, chunk.restarted) == (("partial done", "new"), False)


def test_cursor_at_end_of_a_missing_file_starts_at_zero(tmp_path: Path) -> None:
    assert cursor_at_end(tmp_path / "absent.jsonl") == TranscriptCursor()
