"""Workspace confinement after resolving symlinks and dot-dot."""

from __future__ import annotations

from pathlib import Path

import pytest

from unified_icc import PathRejectedError, Workspace


def test_workspace_accepts_paths_inside_and_refuses_escapes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "app").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (root / "link").symlink_to(tmp_path / "secret")
    workspace = Workspace([root])

    assert workspace.check_directory(root / "app") == (root / "app").resolve()
    assert workspace.check_directory(root) == root.resolve()
    for escape in (root / "link", root / ".." / "secret", tmp_path):
        with pytest.raises(PathRejectedError, match="outside the workspace roots"):
            workspace.check_directory(escape)
    with pytest.raises(PathRejectedError, match="NUL"):
        workspace.check_directory(f"{root}/a\x00b")


def test_workspace_without_roots_does_not_confine(tmp_path: Path) -> None:
    assert Workspace([]).contains(tmp_path)
