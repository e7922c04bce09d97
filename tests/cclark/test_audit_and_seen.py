"""The audit log and the store of handled message ids."""

from __future__ import annotations

import json
from pathlib import Path

from cclark.audit import AuditKind, AuditLog, AuditRecord
from cclark.seen_messages import SeenMessages


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


def test_a_message_id_is_handled_once_even_across_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    seen = SeenMessages(tmp_path / "seen.json", clock=clock)

    assert seen.first_time("om_1")
    assert not seen.first_time("om_1")
    again = SeenMessages(tmp_path / "seen.json", clock=clock)
    again.load()
    assert not again.first_time("om_1")
    assert again.first_time("om_2")
    assert (tmp_path / "seen.json").stat().st_mode & 0o777 == 0o600


def test_seen_ids_expire_and_stay_bounded(tmp_path: Path) -> None:
    clock = Clock()
    seen = SeenMessages(tmp_path / "seen.json", ttl=60, capacity=3, clock=clock)
    for message in ("a", "b", "c", "d"):
        seen.first_time(message)

    assert seen.first_time("a")  # pushed out by capacity
    clock.now += 61
    assert seen.first_time("d")  # expired


def test_an_unreadable_seen_file_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "seen.json").write_text("{ nope")
    seen = SeenMessages(tmp_path / "seen.json")

    seen.load()

    assert seen.first_time("om_1")
