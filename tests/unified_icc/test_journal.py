"""state.db: units of work commit whole or not at all; the file is private; corruption is
survived."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from unified_icc import Batch, Journal, StateError

SCHEMA = "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER);"


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[Journal]:
    opened = Journal(tmp_path / "state" / "state.db")
    opened.open()
    opened.define(SCHEMA)
    yield opened
    await opened.close()


def _rows(journal: Journal) -> list[tuple[object, ...]]:
    return journal.rows("SELECT k, v FROM t ORDER BY k")


async def test_what_a_unit_staged_commits_together_with_its_own_writes(journal: Journal) -> None:
    async with journal.unit(("INSERT INTO t VALUES ('watermark', 2)", ())) as batch:
        journal.stage("INSERT INTO t VALUES ('a', 1)")
        assert _rows(journal) == []  # nothing before the unit ends

    assert batch.committed.is_set()
    assert _rows(journal) == [("a", 1), ("watermark", 2)]


async def _failing_unit(journal: Journal, seen: list[Batch]) -> None:
    async with journal.unit(("INSERT INTO t VALUES ('watermark', 2)", ())) as batch:
        seen.append(batch)
        journal.stage("INSERT INTO t VALUES ('a', 1)")
        raise RuntimeError("the callback failed")


async def _unit_with_a_bad_statement(journal: Journal) -> None:
    async with journal.unit():
        journal.stage("INSERT INTO t VALUES ('a', 1)")
        journal.stage("INSERT INTO missing VALUES (1)")


async def test_a_unit_that_raises_commits_nothing_and_keeps_no_one_waiting(
    journal: Journal,
) -> None:
    seen: list[Batch] = []
    with pytest.raises(RuntimeError):
        await _failing_unit(journal, seen)

    assert _rows(journal) == []
    assert seen[0].committed.is_set()


async def test_a_failing_statement_rolls_back_the_whole_unit(journal: Journal) -> None:
    with pytest.raises(StateError, match="cannot write"):
        await _unit_with_a_bad_statement(journal)

    assert _rows(journal) == []


async def test_an_inner_unit_joins_the_outer_one(journal: Journal) -> None:
    async with journal.unit() as outer:
        async with journal.unit(("INSERT INTO t VALUES ('inner', 1)", ())) as inner:
            assert inner is outer
        assert _rows(journal) == []

    assert _rows(journal) == [("inner", 1)]


async def test_a_write_staged_outside_any_unit_is_committed_on_its_own(journal: Journal) -> None:
    batch = journal.stage("INSERT INTO t VALUES ('loose', 1)")
    await batch.committed.wait()

    assert _rows(journal) == [("loose", 1)]


async def test_the_database_is_private_and_a_corrupt_one_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not SQLite" * 300)
    journal = Journal(path)
    journal.open()
    journal.define(SCHEMA)
    await journal.commit(("INSERT INTO t VALUES ('fresh', 1)", ()))
    rows = _rows(journal)
    await journal.close()

    assert rows == [("fresh", 1)]
    assert path.stat().st_mode & 0o777 == 0o600
    aside = [name for name in os.listdir(tmp_path) if name.startswith("state.db.corrupt-")]
    assert len(aside) == 1
