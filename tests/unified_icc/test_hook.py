"""The hook process, the per-window Claude settings and the hook events file."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from unified_icc.hook import HookEventsFile, hook_command, write_hook_settings
from unified_icc.hook.record import MAX_LINE_BYTES, format_event
from unified_icc.providers.claude import ClaudeProvider

PAYLOAD = {
    "session_id": "a6fe6ae3-67bf-40cf-aecc-5217d3797c94",
    "transcript_path": "/h/.claude/projects/-srv-app/a6fe6ae3.jsonl",
    "cwd": "/srv/app",
    "hook_event_name": "SessionStart",
    "source": "startup",
}


def _hook(events: Path, stdin: bytes, *, pane: str = "%7") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "TMUX_PANE": pane}
    argv = [sys.executable, "-m", "unified_icc.hook", "--events", str(events), "--record", "r1"]
    return subprocess.run(argv, input=stdin, env=env, capture_output=True, timeout=30, check=False)


def test_hook_process_appends_payload_with_window_identity(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"

    result = _hook(events, json.dumps(PAYLOAD).encode())

    assert result.returncode == 0
    (line,) = events.read_text().splitlines()
    record = json.loads(line)
    assert (record["record_id"], record["pane_id"], record["payload"]) == ("r1", "%7", PAYLOAD)
    assert events.stat().st_mode & 0o777 == 0o600


def test_unified_icc_hook_command_does_the_same(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    command = [str(Path(sys.executable).parent / "unified-icc"), "hook", "--events", str(events),
               "--record", "r2"]  # fmt: skip

    result = subprocess.run(command, input=json.dumps(PAYLOAD).encode(), capture_output=True,
                            timeout=30, check=False)  # fmt: skip

    assert result.returncode == 0
    assert json.loads(events.read_text())["payload"]["session_id"] == PAYLOAD["session_id"]


@pytest.mark.parametrize("stdin", [b"not json", b"", b"\xff\xfe"])
def test_hook_process_exits_zero_on_bad_input(tmp_path: Path, stdin: bytes) -> None:
    assert _hook(tmp_path / "events.jsonl", stdin).returncode == 0


def test_hook_process_exits_zero_when_it_cannot_write(tmp_path: Path) -> None:
    result = _hook(tmp_path / "missing" / "dir" / "events.jsonl", b"{}")

    assert result.returncode == 0
    assert result.stderr == b""


def test_hook_process_starts_fast_without_loading_the_gateway(tmp_path: Path) -> None:
    code = "import sys, unified_icc.hook.record; print(sorted(m for m in sys.modules if m.startswith(('pydantic', 'libtmux', 'watchfiles'))))"  # noqa: E501
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert result.stdout.strip() == "[]"


def test_oversized_payload_keeps_its_identifying_fields() -> None:
    big = {**PAYLOAD, "tool_input": {"content": "x" * (MAX_LINE_BYTES + 10)}}

    line = json.loads(format_event(big, record_id="r1", pane_id="%1", now=1.0))

    assert line["payload"]["session_id"] == PAYLOAD["session_id"]
    assert line["payload"]["truncated"] is True
    assert "tool_input" not in line["payload"]


def test_claude_settings_declare_every_hook_with_a_quoted_command(tmp_path: Path) -> None:
    events = tmp_path / "state dir" / "events.jsonl"
    command = hook_command(python="/opt/py 3/bin/python", events_file=events,
                           record_id="0123456789ab")  # fmt: skip
    path = write_hook_settings(
        tmp_path / "hooks" / "s.json", command=command, events=ClaudeProvider.hook_events
    )

    settings = json.loads(path.read_text())
    assert set(settings["hooks"]) == {"SessionStart", "UserPromptSubmit", "PermissionRequest",
                                      "Notification", "Stop", "SessionEnd"}  # fmt: skip
    command = settings["hooks"]["SessionStart"][0]["hooks"][0]["command"]
    assert shlex.split(command) == [
        "/opt/py 3/bin/python", "-m", "unified_icc.hook", "--events", str(events),
        "--record", "0123456789ab",
    ]  # fmt: skip
    assert path.stat().st_mode & 0o777 == 0o600


def test_events_file_reads_complete_lines_only(tmp_path: Path) -> None:
    events = HookEventsFile(tmp_path / "events.jsonl")
    events.ensure()
    line = format_event(PAYLOAD, record_id="r1", pane_id="%1", now=time.time())
    events.path.write_text(line + "\n" + line[:20])

    first, offset = events.read_from(0)
    assert [(e.name, e.session_id, e.source) for e in first] == [
        ("SessionStart", PAYLOAD["session_id"], "startup")
    ]
    assert offset == len(line) + 1
    with events.path.open("a") as handle:
        handle.write(line[20:] + "\n")
    second, end = events.read_from(offset)
    assert [e.transcript_path for e in second] == [PAYLOAD["transcript_path"]]
    assert end == events.path.stat().st_size


def test_events_file_is_emptied_only_when_big_and_consumed(tmp_path: Path) -> None:
    events = HookEventsFile(tmp_path / "events.jsonl")
    events.path.write_bytes(b"{}\n" * 400_000)
    size = events.path.stat().st_size

    assert events.compact_if_consumed(size - 3) == size - 3
    assert events.path.stat().st_size == size
    assert events.compact_if_consumed(size) == 0
    assert events.path.stat().st_size == 0
