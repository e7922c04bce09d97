"""The inbox: files a person sent to an agent, saved where the agent can read them.

Owns where they go (``<session folder>/.unified-icc/inbox/``, inside the folder the agent
works in, so it reads them without asking; ``.unified-icc/.gitignore`` holds ``*``, so git
never commits them by accident), safe file names (the last part of the name given, letters,
digits, ``.-_`` only, at most 100 characters, a time prefix, never overwriting), and writing
them (private, atomic). Blocking: call it in a thread. Knows nothing of chats or providers.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Final

from unified_icc.private_files import write_private_file

__all__ = ["INBOX", "inbox_name", "save_to_inbox"]

INBOX: Final = Path(".unified-icc") / "inbox"
_MAX_NAME = 100
_UNSAFE: Final = re.compile(r"[^\w.\-]+")
# The first bytes of the image formats a phone sends, and the suffix each is saved with.
_IMAGE_MAGIC: Final = ((b"\x89PNG", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"GIF8", ".gif"),
                       (b"RIFF", ".webp"), (b"BM", ".bmp"))  # fmt: skip


def save_to_inbox(folder: Path, files: Sequence[tuple[str | None, bytes]]) -> tuple[Path, ...]:
    """Write each (name, data) into folder's inbox under a new safe name; their paths.

    Raises: OSError (files written before the failure stay).
    """
    inbox = folder / INBOX
    inbox.mkdir(mode=0o700, parents=True, exist_ok=True)
    ignore = inbox.parent / ".gitignore"
    if not ignore.exists():
        write_private_file(ignore, b"# files sent to the agent from a chat: never commit them\n*\n")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    saved = []
    for name, data in files:
        path = _unused(inbox, f"{stamp}-{inbox_name(name, data)}")
        write_private_file(path, data)
        saved.append(path)
    return tuple(saved)


def inbox_name(name: str | None, data: bytes) -> str:
    """A file name safe on any file system and in an agent's @path: the last part of name,
    other characters than letters, digits and ``.-_`` replaced by ``_``, no leading dot, at
    most 100 characters with its suffix kept; an unnamed image gets its format's suffix."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", unicodedata.normalize("NFC", base)).lstrip("._-")
    if not cleaned:
        suffix = next((s for magic, s in _IMAGE_MAGIC if data.startswith(magic)), "")
        cleaned = f"photo{suffix}" if suffix else "file"
    if len(cleaned) > _MAX_NAME:
        suffix = PurePosixPath(cleaned).suffix[:20]
        cleaned = cleaned[: _MAX_NAME - len(suffix)] + suffix
    return cleaned


def _unused(inbox: Path, name: str) -> Path:
    path, number = inbox / name, 1
    while path.exists():
        number += 1
        stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
        path = inbox / f"{stem}-{number}{suffix}"
    return path
