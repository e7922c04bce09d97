"""The local app's secret: random per installation, in a file only this user can read."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest

from cclark.local_mode import SECRET_FILE, local_app_secret


def test_the_secret_is_made_once_private_and_kept(tmp_path: Path) -> None:
    first = local_app_secret(tmp_path / "icc")
    again = local_app_secret(tmp_path / "icc")

    path = tmp_path / "icc" / SECRET_FILE
    assert first == again
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_each_installation_gets_its_own_secret(tmp_path: Path) -> None:
    assert local_app_secret(tmp_path / "one") != local_app_secret(tmp_path / "two")


def test_a_secret_others_could_read_is_replaced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = local_app_secret(tmp_path)
    (tmp_path / SECRET_FILE).chmod(0o644)

    with caplog.at_level(logging.WARNING):
        new = local_app_secret(tmp_path)

    assert new != old
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    assert "readable by others" in caplog.text
    assert old not in caplog.text
    assert new not in caplog.text


@pytest.mark.parametrize("content", ["not json", "[]", '{"app_secret": 5}', '{"app_secret": "x"}'])
def test_a_broken_secret_file_is_replaced(tmp_path: Path, content: str) -> None:
    path = tmp_path / SECRET_FILE
    path.write_text(content)
    path.chmod(0o600)

    secret = local_app_secret(tmp_path)

    assert json.loads(path.read_text())["app_secret"] == secret
    assert len(secret) >= 32
