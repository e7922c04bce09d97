"""``#get <path>``: which file of a session may be sent to the chat, and how.

Owns the rules: a path relative to the session's folder (or absolute), inside the workspace
roots after resolving ``..`` and symlinks, a regular file, not one that looks like a secret
(``.env*``, private keys, ``*credentials*``, and the configured patterns) by its own name or
the name it resolves to, within Feishu's size limits (an image ≤ 10 MB is sent as an image,
any other file ≤ 30 MB as a file). Each refusal says why. Reads the file; sends nothing.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cclark.handlers.user_input import path_problem, quoted
from unified_icc import Workspace

__all__ = ["FILE_BYTES", "IMAGE_BYTES", "SECRET_PATTERNS", "Requested", "requested_file"]

IMAGE_BYTES: Final = 10 * 1024 * 1024
FILE_BYTES: Final = 30 * 1024 * 1024
IMAGE_SUFFIXES: Final = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tiff"})
SECRET_PATTERNS: Final = (
    ".env", ".env.*", "*.env", "*credentials*", "*secret*", "*.pem", "*.key", "*.p12", "*.pfx",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", ".netrc", ".npmrc", ".pypirc",
    ".git-credentials", "*.keystore", "*.jks",
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Requested:
    """A file that may be sent: its name as shown, its bytes, and whether it is an image."""

    name: str
    data: bytes
    image: bool


def requested_file(
    raw: str, *, folder: Path, workspace: Workspace, refuse: Sequence[str] = ()
) -> Requested | str:
    """The file #get asked for, or the answer saying why it is not sent."""
    raw = raw.strip()
    if not raw:
        return "Send #get <path>: a file of this session's folder, e.g. #get out/report.pdf."
    problem = path_problem(raw)
    if problem:
        return f"Cannot send {quoted(raw)}: {problem}."
    given = Path(raw) if os.path.isabs(raw) else folder / raw
    resolved = Path(os.path.realpath(given))
    if not workspace.contains(resolved):
        if workspace.contains(Path(os.path.realpath(given.parent))):
            return (f"{quoted(raw)} is a link to {resolved}, outside the workspace folders: "
                    "not sent.")  # fmt: skip
        return f"{quoted(raw)} is outside the workspace folders: not sent."
    secret = _secret(given.name, refuse) or _secret(resolved.name, refuse)
    if secret:
        return (f"{quoted(raw)} looks like a secret (it matches {secret}), so it is not sent. "
                "Copy what you need into another file first.")  # fmt: skip
    try:
        if not resolved.is_file():
            return f"There is no file {quoted(raw)} in {folder}."
        size = resolved.stat().st_size
        image = resolved.suffix.lower() in IMAGE_SUFFIXES and size <= IMAGE_BYTES
        if size > FILE_BYTES:
            return (f"{quoted(raw)} is {size / 1024 / 1024:.1f} MB: Feishu takes files up to "
                    f"{FILE_BYTES // 1024 // 1024} MB (images up to "
                    f"{IMAGE_BYTES // 1024 // 1024} MB).")  # fmt: skip
        data = resolved.read_bytes()
    except OSError as exc:
        return f"Cannot read {quoted(raw)}: {exc.strerror or exc}."
    return Requested(name=resolved.name, data=data, image=image)


def _secret(name: str, refuse: Sequence[str]) -> str | None:
    lowered = name.lower()
    return next((p for p in (*SECRET_PATTERNS, *refuse) if fnmatch.fnmatch(lowered, p)), None)
