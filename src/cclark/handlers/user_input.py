"""What a person typed, read safely: numbers, folder names and paths, and quoting it back.

Owns the rules every handler applies to raw chat text before acting on it: a number is ASCII
digits of a sane length (``²`` and ``①`` pass ``str.isdigit`` but are not numbers), a folder
name or path is checked in bytes before the file system sees it, and the person's words are
shortened when an answer repeats them. Pure: no I/O, knows nothing of chats or windows.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "MAX_CHOICE_DIGITS",
    "MAX_NAME_BYTES",
    "MAX_PATH_BYTES",
    "folder_name_problem",
    "is_number",
    "parse_choice",
    "path_problem",
    "quoted",
    "shortened",
]

MAX_CHOICE_DIGITS: Final = 6
"""A numbered choice (an option, a folder, a session) has at most this many digits."""
MAX_NAME_BYTES: Final = 255
"""The longest file name Linux and macOS accept, in bytes of UTF-8."""
MAX_PATH_BYTES: Final = 4095
"""The longest path the kernel accepts (PATH_MAX less its NUL), in bytes of UTF-8."""
QUOTE_CHARS: Final = 60

_ASCII_DIGITS: Final = re.compile(r"[0-9]+")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
# What a shell would expand or treat specially; #mkdir takes names literally, so a name with
# these is almost always a person expecting a shell, and would surprise them.
_SHELL_SYNTAX: Final = re.compile(r"[$`\\*?|;&<>\"']")


def is_number(text: str) -> bool:
    """Whether text is nothing but ASCII digits (any length)."""
    return _ASCII_DIGITS.fullmatch(text) is not None


def parse_choice(text: str) -> int | None:
    """text as a choice number: 1 to 6 ASCII digits, nothing else; None otherwise."""
    if not is_number(text) or len(text) > MAX_CHOICE_DIGITS:
        return None
    return int(text)


def shortened(text: str, *, limit: int = QUOTE_CHARS) -> str:
    """text cut to ``limit`` characters (and an ellipsis), so an answer never echoes an essay."""
    return text if len(text) <= limit else text[:limit] + "…"


def quoted(text: str, *, limit: int = QUOTE_CHARS) -> str:
    """The person's words in quotes, shortened, with invisible characters shown as escapes."""
    return repr(shortened(text, limit=limit))


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a path on this machine, or None. Touches no file.

    Checks what the kernel would refuse with an exception rather than an answer: a NUL or
    other control character, text that is not valid Unicode, a name over 255 bytes, a path
    over 4095 bytes.
    """
    if _CONTROL.search(path):
        return "it contains control characters: send a plain path"
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        return "it contains characters that cannot be part of a file name"
    if len(encoded) > MAX_PATH_BYTES:
        return f"the path is longer than {MAX_PATH_BYTES} bytes"
    if any(len(part) > MAX_NAME_BYTES for part in encoded.split(b"/")):
        return f"a folder name in it is longer than {MAX_NAME_BYTES} bytes"
    return None


def folder_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be the one new folder ``#mkdir`` creates, or None. Touches no file."""
    if not name:
        return "a name is needed (#mkdir <name>)"
    if name in (".", "..") or "/" in name or _CONTROL.search(name):
        return "use a single folder name without '/', '..' or control characters"
    if name.startswith("~"):
        return ("'~' means your home folder only in a shell; #mkdir creates the name "
                "exactly as written. Go to a folder with the wizard first, then #mkdir a "
                "plain name")  # fmt: skip
    if _SHELL_SYNTAX.search(name) or name.startswith("-"):
        return ("#mkdir does not run a shell, so nothing in the name would be expanded; "
                "use a plain name (letters, digits, spaces, '.', '-', '_')")  # fmt: skip
    if not name.isprintable():
        return "the name contains invisible or formatting characters: type a plain name"
    return path_problem(name)
