"""The inbox: files sent to an agent land in its folder under safe names, never committed."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unified_icc.inbox import INBOX, inbox_name, save_to_inbox

PNG = b"\x89PNG\r\n\x1a\n rest"


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("report.pdf", b"%PDF", "report.pdf"),
        ("../../etc/passwd", b"x", "passwd"),
        ("C:\\Users\\me\\notes.txt", b"x", "notes.txt"),
        ("My Report (final).txt", b"x", "My_Report_final_.txt"),
        (".bashrc", b"x", "bashrc"),
        ("会议纪要.docx", b"x", "会议纪要.docx"),
        ("a\x00b\nc.txt", b"x", "a_b_c.txt"),
        (None, PNG, "photo.png"),
        (None, b"\xff\xd8\xff\xe0", "photo.jpg"),
        (None, b"plain", "file"),
        ("...", b"x", "file"),
        ("x" * 300 + ".tar.gz", b"x", "x" * 97 + ".gz"),
    ],
)
def test_a_name_is_kept_safe_for_any_file_system_and_an_at_path(
    name: str | None, data: bytes, expected: str
) -> None:
    assert inbox_name(name, data) == expected


@given(st.one_of(st.none(), st.text()))
def test_any_name_becomes_one_plain_component(name: str | None) -> None:
    safe = inbox_name(name, b"")

    assert 0 < len(safe) <= 100
    assert not safe.startswith(".")
    assert all(ch.isalnum() or ch in "._-" for ch in safe)


def test_files_are_saved_privately_never_overwritten_and_git_ignores_them(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)

    first = save_to_inbox(tmp_path, [("a.txt", b"one"), ("a.txt", b"two"), (None, PNG)])
    again = save_to_inbox(tmp_path, [("a.txt", b"three")])

    paths = [*first, *again]
    assert [p.read_bytes() for p in paths] == [b"one", b"two", PNG, b"three"]
    assert len(set(paths)) == 4
    assert all(p.parent == tmp_path / INBOX for p in paths)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in paths)
    git_status = ["git", "-C", str(tmp_path), "status", "--porcelain", "--untracked-files=all"]
    status = subprocess.run(git_status, capture_output=True, text=True, check=True)
    assert status.stdout == ""
