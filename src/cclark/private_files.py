"""Small JSON files of the bot's own state (seen message ids, topic roots), kept private.

Owns writing them atomically (temp file, fsync, rename) with mode 0600 in a 0700 folder, and
reading them back; knows nothing of what they hold.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["read_json", "write_private_json"]


def write_private_json(path: Path, value: Any) -> None:
    """Replace path with value as JSON, atomically, readable by this user only.

    Raises: OSError (the old file, if any, is left as it was).
    """
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(value, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def read_json(path: Path) -> Any:
    """The JSON value in path; None when there is no file.

    Raises: OSError, ValueError (unreadable or not JSON).
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
