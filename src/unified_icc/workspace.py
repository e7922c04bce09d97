"""Workspace: the directories agents may be started in.

Owns path confinement to the configured workspace roots (after resolving symlinks and
``..``); knows nothing of tmux or chats.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from unified_icc.errors import PathRejectedError

__all__ = ["Workspace"]


class Workspace:
    """An empty set of roots means the gateway itself does not confine paths."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots: tuple[Path, ...] = tuple(Path(os.path.realpath(root)) for root in roots)

    def contains(self, path: Path) -> bool:
        """Whether the resolved ``path`` lies inside a root (always, when there are none)."""
        if not self.roots:
            return True
        resolved = Path(os.path.realpath(path))
        return any(resolved == root or resolved.is_relative_to(root) for root in self.roots)

    def check_directory(self, path: Path | str) -> Path:
        """The resolved directory, if agents may run there.

        Raises:
            PathRejectedError: the path has a NUL, does not exist, is not a directory, or
                resolves outside every workspace root; the message says which.
        """
        text = str(path)
        if "\x00" in text:
            raise PathRejectedError("the path contains a NUL character", path=text)
        candidate = Path(os.path.expanduser(text))
        if not candidate.is_absolute():
            raise PathRejectedError(f"{text!r} is not an absolute path", path=text)
        if not candidate.exists():
            raise PathRejectedError(f"{text} does not exist", path=text)
        if not candidate.is_dir():
            raise PathRejectedError(f"{text} is not a directory", path=text)
        resolved = Path(os.path.realpath(candidate))
        if not self.contains(resolved):
            roots = ", ".join(str(root) for root in self.roots)
            raise PathRejectedError(
                f"{text} is outside the workspace roots ({roots}); pick a directory inside them",
                path=text,
            )
        return resolved
