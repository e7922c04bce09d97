"""The audit log and the store of handled message ids."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cclark.audit import AuditKind, AuditLog, AuditRecord
from cclark.seen_messages import SeenMessages
from unified_icc import Journal


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_audit_lines_are_private_json_with_who_where_what(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", clock=lambda: 12.5)

    log.record(AuditRecord(kind=AuditKind.INBOUND, app="main", user="ou_1", chat="oc_9",
                           detail="hello 你好", message_id="om_1"))  # fmt: skip
    log.record(AuditRecord(kind=AuditKind.REFUSAL, app="main", user="ou_2", chat="oc_9",
                           detail="sender not on allowed_users"))  # fmt: skip

    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(r["kind"], r["user"], r["detail"]) for r in lines] == [
        ("inbound", "ou_1", "hello 你好"), ("refusal", "ou_2", "sender not on allowed_users")
    ]
    assert lines[0]["ts"] == 12.5
    assert (tmp_path / "audit.jsonl").stat().st_mode & 0o777 == 0o600


async def test_a_message_id_is_handled_once_even_across_a_restart(tmp_path: Path) -> None:
    clock, journal = Clock(), Journal(tmp_path / "state.db")
    journal.open()
    seen = SeenMessages(clock=clock)
    seen.load(journal)

    assert await seen.first_time("om_1")
    assert not await seen.first_time("om_1")
    await journal.close()
    journal.open()  # the bot restarted
    again = SeenMessages(clock=clock)
    again.load(journal)
    assert not await again.first_time("om_1")
    assert await again.first_time("om_2")
    await journal.close()
    assert (tmp_path / "state.db").stat().st_mode & 0o777 == 0o600


async def test_seen_ids_expire_and_stay_bounded(tmp_path: Path) -> None:
    clock, journal = Clock(), Journal(tmp_path / "state.db")
    journal.open()
    seen = SeenMessages(ttl=60, capacity=3, clock=clock)
    seen.load(journal)
    for message in ("a", "b", "c", "d"):
        await seen.first_time(message)

    assert await seen.first_time("a")  # pushed out by capacity
    clock.now += 61
    assert await seen.first_time("d")  # expired
    assert len(journal.rows("SELECT message_id FROM seen_messages")) <= 3
    await journal.close()


async def test_a_corrupt_state_database_is_set_aside_and_ids_start_afresh(tmp_path: Path) -> None:
    (tmp_path / "state.db").write_bytes(b"not a database at all" * 100)
    journal = Journal(tmp_path / "state.db")
    journal.open()
    seen = SeenMessages()
    seen.load(journal)

    assert await seen.first_time("om_1")
    await journal.close()
    assert any(name.startswith("state.db.corrupt-") for name in os.listdir(tmp_path))
