"""write_private_file: replace a file atomically, readable by this user only.

Owns the one way both packages write a small file of their own (state.json, the local app's
secret): a temp file in the same folder (mode 0600, whatever the umask), fsync, rename, fsync
of the folder (created 0700). Knows nothing of what the file holds.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["write_private_file"]


def write_private_file(path: Path, data: bytes) -> None:
    """Replace path with data, atomically: a reader sees the old file or the new one.

    Raises: OSError (the old file, if any, is left as it was).
    """
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)  # a file left by an earlier crash keeps its mode through O_CREAT
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
