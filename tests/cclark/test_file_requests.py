"""What #get may send, and what it refuses with which reason (real files in a temp folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cclark.handlers.file_requests import FILE_BYTES, IMAGE_BYTES, Requested, requested_file
from unified_icc import Workspace


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    (folder / "app").mkdir(parents=True)
    return folder


def _get(root: Path, raw: str, refuse: tuple[str, ...] = ()) -> Requested | str:
    return requested_file(raw, folder=root / "app", workspace=Workspace((root,)), refuse=refuse)


def test_a_file_of_the_folder_is_sent_with_its_bytes(root: Path) -> None:
    (root / "app" / "report.pdf").write_bytes(b"%PDF-1.7")

    found = _get(root, "report.pdf")

    assert found == Requested(name="report.pdf", data=b"%PDF-1.7", image=False)


def test_an_image_is_sent_as_an_image_up_to_10_mb_and_as_a_file_above(root: Path) -> None:
    (root / "app" / "small.png").write_bytes(b"png")
    with (root / "app" / "big.png").open("wb") as big:
        big.truncate(IMAGE_BYTES + 1)

    small, big_one = _get(root, "small.png"), _get(root, "big.png")

    assert isinstance(small, Requested)
    assert small.image
    assert isinstance(big_one, Requested)
    assert not big_one.image


def test_a_path_to_a_sibling_folder_inside_the_roots_is_allowed(root: Path) -> None:
    (root / "shared.txt").write_text("x")

    assert isinstance(_get(root, "../shared.txt"), Requested)
    assert isinstance(_get(root, str(root / "shared.txt")), Requested)


@pytest.mark.parametrize(
    ("name", "pattern"),
    [(".env", ".env"), (".env.local", ".env.*"), ("prod.env", "*.env"),
     ("id_ed25519", "id_ed25519*"), ("server.pem", "*.pem"),
     ("aws-credentials.json", "*credentials*"),
     ("CLIENT_SECRET.txt", "*secret*"), ("notes.vault", "*.vault")],
)  # fmt: skip
def test_files_that_look_like_secrets_are_refused_naming_the_pattern(
    root: Path, name: str, pattern: str
) -> None:
    (root / "app" / name).write_text("x")

    answer = _get(root, name, refuse=("*.vault",))

    assert answer == (f"{name!r} looks like a secret (it matches {pattern}), so it is not sent. "
                      "Copy what you need into another file first.")  # fmt: skip


def test_a_link_with_an_innocent_name_to_a_secret_is_refused(root: Path) -> None:
    (root / "app" / ".env").write_text("x")
    (root / "app" / "config.txt").symlink_to(root / "app" / ".env")

    answer = _get(root, "config.txt")

    assert isinstance(answer, str)
    assert "looks like a secret" in answer


def test_paths_out_of_the_roots_and_odd_requests_are_refused(root: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("x")
    (root / "app" / "out").symlink_to(tmp_path)
    with (root / "app" / "huge.bin").open("wb") as huge:
        huge.truncate(FILE_BYTES + 1)

    asked = ("", "../../outside.txt", "out/outside.txt", "huge.bin", "missing", "app\x00x")
    answers = {raw: _get(root, raw) for raw in asked}

    assert answers[""] == ("Send #get <path>: a file of this session's folder, e.g. "
                           "#get out/report.pdf.")  # fmt: skip
    assert answers["../../outside.txt"] == (
        "'../../outside.txt' is outside the workspace folders: not sent."
    )
    assert answers["out/outside.txt"] == (
        "'out/outside.txt' is outside the workspace folders: not sent."
    )
    assert str(answers["huge.bin"]).startswith("'huge.bin' is 30.0 MB")
    assert str(answers["missing"]).startswith("There is no file 'missing' in ")
    assert str(answers["app\x00x"]).startswith("Cannot send ")
