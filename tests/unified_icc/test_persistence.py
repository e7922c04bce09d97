"""state.json: round trip, atomic private writes, corrupt files set aside, the folder lock."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from unified_icc import ChannelId, GatewayBusyError, WindowId
from unified_icc.ids import RecordId
from unified_icc.persistence import StateFile, StateLock, StateSnapshot
from unified_icc.transcripts import TranscriptCursor
from unified_icc.window_store import WindowRecord

RECORD = WindowRecord(
    record_id=RecordId("0123456789ab"),
    window_id=WindowId("@4"),
    provider="claude",
    mode="yolo",
    cwd="/srv/app",
    created_at="2026-11-21T04:00:00.000+00:00",
    channel_id=ChannelId("feishu:default:oc_1"),
)


def test_state_round_trips_every_section(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json")
    snapshot = StateSnapshot(
        windows=(RECORD,),
        bindings={ChannelId("feishu:default:oc_1"): WindowId("@4")},
        channel_settings={ChannelId("feishu:default:oc_1"): {"verbose": True}},
        offsets={
            "/home/u/.claude/projects/x/s.jsonl": TranscriptCursor(
                offset=1234, identity="2049:77:ab12", recent_ids=("u1", "u2")
            )
        },
        hook_offset=99,
    )

    state.save(snapshot)

    assert state.load() == snapshot
    assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{ not json", "not readable state"),
        (b'{"version": 99}', "has version 99"),
        (b'{"version": 1, "windows": [{"record_id": 5}]}', "not readable state"),
        (b"\xff\xfe garbage", "not readable state"),
    ],
)
def test_corrupt_state_is_set_aside_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes, why: str
) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)

    with caplog.at_level(logging.ERROR):
        assert StateFile(path).load() == StateSnapshot()

    aside = list(tmp_path.glob("state.json.corrupt-*"))
    assert [a.read_bytes() for a in aside] == [content]
    assert not path.exists()
    assert why in caplog.text


def test_read_only_load_leaves_a_corrupt_file_in_place(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{ not json")

    assert StateFile(path).load(repair=False) == StateSnapshot()
    assert path.read_text() == "{ not json"


def test_saved_file_is_plain_versioned_json(tmp_path: Path) -> None:
    StateFile(tmp_path / "state.json").save(StateSnapshot(windows=(RECORD,)))

    data = json.loads((tmp_path / "state.json").read_text())
    assert data["version"] == 1
    assert data["windows"][0]["window_id"] == "@4"


def test_lock_refuses_a_second_holder_and_names_the_first(tmp_path: Path) -> None:
    first = StateLock(tmp_path / "gateway.lock")
    first.acquire()
    try:
        with pytest.raises(GatewayBusyError, match=r"pid \d+"):
            StateLock(tmp_path / "gateway.lock").acquire()
    finally:
        first.release()
    second = StateLock(tmp_path / "gateway.lock")
    second.acquire()
    second.release()
