"""Cutting markdown into element-sized chunks without ever leaving a code fence open.

Owns where long markdown is cut: between paragraphs, else between lines, else inside a line
(at a space when one is near); a fenced block too long for one chunk is closed at the cut and
reopened with its opening line, language kept. Also counts the tables in a piece of markdown.
Knows nothing of cards, JSON or escaping.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_TABLES_PER_CARD", "MIN_CHUNK_BYTES", "count_tables", "split_markdown"]

MAX_TABLES_PER_CARD: Final = 5
"""Feishu renders at most five markdown tables in one card."""

MIN_CHUNK_BYTES: Final = 64

_FENCE: Final = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_TABLE_RULE: Final = re.compile(r"\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*")
_ENTITY_TAIL: Final = re.compile(r"&#?\w{0,6}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Block:
    text: str  # an exact slice of the input, newlines included
    opening: str | None = None  # a fenced block's first line, without newline
    closing: str = ""  # the fence characters that close it


def split_markdown(text: str, *, limit: int, max_tables: int = MAX_TABLES_PER_CARD) -> list[str]:
    """Cut markdown into chunks of at most limit UTF-8 bytes and max_tables tables.

    Every chunk has its fences balanced. Joining the chunks gives back the text, except for
    the fence lines added where a long fenced block was cut (and a newline where a single line
    longer than limit was cut inside a code block). A fence left open at the end is treated as
    running to the end of the text and closed. An empty text gives no chunks.

    Raises: ValueError if limit is below MIN_CHUNK_BYTES.
    """
    if limit < MIN_CHUNK_BYTES:
        raise ValueError(f"limit must be at least {MIN_CHUNK_BYTES} bytes")
    chunks: list[str] = []
    current, tables = "", 0
    for piece in _pieces(text, limit):
        piece_tables = count_tables(piece)
        too_big = _size(current) + _size(piece) > limit
        if current and (too_big or tables + piece_tables > max_tables):
            chunks.append(current)
            current, tables = "", 0
        current += piece
        tables += piece_tables
    if current:
        chunks.append(current)
    return chunks


def count_tables(text: str) -> int:
    """Markdown tables outside code fences: delimiter rows under a row with a pipe."""
    count, fence, previous = 0, None, ""
    for line in text.split("\n"):
        match = _FENCE.fullmatch(line)
        if fence is not None:
            fence = None if _closes(line, fence) else fence
        elif match and not (match[2][0] == "`" and "`" in match[3]):
            fence = match[2]
        elif "|" in previous and "-" in line and _TABLE_RULE.fullmatch(line):
            count += 1
        previous = line if fence is None else ""
    return count


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _lines(text: str) -> list[str]:
    """The lines of text, each with its newline (the last one may have none)."""
    return text.splitlines(keepends=True)


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    indent = len(line) - len(line.lstrip(" "))
    return indent <= 3 and len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _blocks(text: str) -> Iterator[_Block]:
    """Paragraphs (with the blank line ending them) and whole fenced blocks."""
    lines, paragraph, i = _lines(text), "", 0
    while i < len(lines):
        fence = _FENCE.fullmatch(lines[i].rstrip("\n"))
        if fence and not (fence[2][0] == "`" and "`" in fence[3]):
            if paragraph:
                yield _Block(text=paragraph)
                paragraph = ""
            end = i + 1
            while end < len(lines) and not _closes(lines[end].rstrip("\n"), fence[2]):
                end += 1
            opening = lines[i].rstrip("\n")
            yield _Block(text="".join(lines[i : end + 1]), opening=opening, closing=fence[2])
            i = end + 1
            continue
        paragraph += lines[i]
        if not lines[i].strip():
            yield _Block(text=paragraph)
            paragraph = ""
        i += 1
    if paragraph:
        yield _Block(text=paragraph)


def _pieces(text: str, limit: int) -> Iterator[str]:
    """Slices of at most limit bytes: whole blocks where they fit, else cut blocks."""
    for block in _blocks(text):
        if block.opening is not None:
            block = _normal_fence(block, limit)
        if _size(block.text) <= limit:
            yield block.text
        elif block.opening is None:
            yield from _cut_lines(_lines(block.text), limit)
        else:
            yield from _split_fence(block, limit)


def _normal_fence(block: _Block, limit: int) -> _Block:
    """The fenced block closed if it was left open, with a short enough opening line.

    An opening line longer than a quarter of limit (a pathological info string) becomes a
    bare fence with the info string moved inside, so that reopening a cut block stays cheap.
    """
    assert block.opening is not None
    lines = _lines(block.text)
    if len(lines) < 2 or not _closes(lines[-1].rstrip("\n"), block.closing):
        lines = [*lines[:-1], _with_newline(lines[-1]), block.closing]
    opening = block.opening
    if _size(opening) > limit // 4:
        indent = opening[: len(opening) - len(opening.lstrip(" "))]
        info = opening.lstrip(" ")[len(block.closing) :]
        opening = indent + block.closing
        lines[0:1] = [opening + "\n", info + "\n"]
    return _Block(text="".join(lines), opening=opening, closing=block.closing)


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _split_fence(block: _Block, limit: int) -> Iterator[str]:
    """Cut a fenced block between lines, closing and reopening the fence at each cut."""
    assert block.opening is not None
    lines = _lines(block.text)
    opening, body, ending = lines[0], lines[1:-1], lines[-1]
    reopen, close = _with_newline(block.opening), block.closing + "\n"
    room = limit - _size(reopen) - max(_size(close), _size(ending))
    current, fresh = _with_newline(opening), True
    for line in _cut_lines(body, room, code=True):
        if not fresh and _size(current) + _size(line) > limit - _size(close):
            yield current + close
            current, fresh = reopen, True
        current += line
        fresh = False
    if _size(current) + _size(ending) > limit:
        yield current + close
        current = reopen
    yield current + ending


def _cut_lines(lines: list[str], limit: int, *, code: bool = False) -> Iterator[str]:
    """Each line, or slices of it when it alone is longer than limit bytes.

    In code a slice gets a newline so that it stays a line of its own inside the fence.
    """
    for line in lines:
        while _size(line) > limit:
            head = _head(line, limit - 1 if code else limit)
            line = line[len(head) :]
            yield head + "\n" if code else head
        if line:
            yield line


def _head(line: str, limit: int) -> str:
    """The longest prefix of line within limit bytes, cut at a space or outside an entity."""
    head = line.encode("utf-8")[:limit].decode("utf-8", errors="ignore") or line[0]
    space = head.rfind(" ")
    if space > len(head) // 2:
        return head[: space + 1]
    entity = _ENTITY_TAIL.search(head)
    if entity and entity.start() > 0:
        return head[: entity.start()]
    return head
