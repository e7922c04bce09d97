"""Which cells of a captured screen a cropped screenshot shows.

Owns the content box: the rows that hold something, the columns that hold something but
rules and frames, the cursor's line, a margin, whole wide characters. Reads an emulated pyte
screen; knows no ANSI, colours or pixels (screenshot.py owns those).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pyte
from pyte.screens import Char

__all__ = ["CellBox", "ContentCrop", "crop_box"]

_BOX_DRAWING: Final = range(0x2500, 0x2580)  # ─ │ ┌ ╭ ═ ║ ╔ ━ ┃ …
_BAR_BLOCKS: Final = frozenset("▀▁▄▔")  # upper and lower halves and eighths


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentCrop:
    """Show only the cells that hold something, the cursor's cell and a margin around them.

    cursor is the pane's (column, row) from the top left, as tmux's #{cursor_x},#{cursor_y}:
    its line is kept even when blank (None: the application hides it). margin blank cells stay
    on each side, within the pane. A box narrower than min_columns grows to it, so a nearly
    blank pane still reads as a terminal line.
    """

    cursor: tuple[int, int] | None = None
    margin: int = 1
    min_columns: int = 20

    def __post_init__(self) -> None:
        if self.cursor is not None and min(self.cursor) < 0:
            raise ValueError(f"cursor must be two integers >= 0, got {self.cursor!r}")
        if not 0 <= self.margin <= 100:
            raise ValueError(f"margin must be 0-100, got {self.margin}")
        if self.min_columns < 1:
            raise ValueError(f"min_columns must be at least 1, got {self.min_columns}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CellBox:
    """The cells a picture shows: columns from left and rows from top, zero-based."""

    left: int
    top: int
    columns: int
    rows: int


def crop_box(screen: pyte.Screen, crop: ContentCrop) -> CellBox:
    """The cells of an emulated screen that a cropped picture shows.

    The rows from the first to the last that hold content (a character, a background colour,
    reverse video, an underline) or the cursor, and the columns from the first to the last
    such cell of any of them, plus crop.margin, clamped to the pane; widened to
    crop.min_columns, and so that no wide (CJK) character is cut in half. A blank pane gives
    the cursor's line (the top line when the cursor is hidden).

    Rules and frames (box drawing, and bar blocks, on the default background) count for the
    rows but not the columns, unless the screen holds nothing else: agent CLIs draw them
    across the whole pane, which would keep every picture as wide as the pane. They show
    within the other content's columns and are cut beyond them.
    """
    columns, rows = screen.columns, screen.lines
    drawn, span = _content(screen)
    if crop.cursor is not None:
        x, y = min(crop.cursor[0], columns - 1), min(crop.cursor[1], rows - 1)
        drawn.append(y)
        span = (min(span[0], x), max(span[1], x)) if span else (x, x)
    if span is None:
        drawn, span = [0], (0, 0)
    margin = crop.margin
    top, bottom = max(0, min(drawn) - margin), min(rows - 1, max(drawn) + margin)
    left, right = max(0, span[0] - margin), min(columns - 1, span[1] + margin)
    left, right = _widen(left, right, min(crop.min_columns, columns), columns)
    lines = [screen.buffer[row] for row in range(top, bottom + 1)]
    left, right = _whole_wide_characters(lines, left, right, columns)
    return CellBox(left=left, top=top, columns=right - left + 1, rows=bottom - top + 1)


def _content(screen: pyte.Screen) -> tuple[list[int], tuple[int, int] | None]:
    """The rows that hold content, and the first and last column of its cells but rules'.

    The columns are the rules' when the screen holds nothing else.
    """
    drawn: list[int] = []
    text: list[int] = []
    rules: list[int] = []
    for row in range(screen.lines):
        shown = [
            (x, char)
            for x, char in screen.buffer[row].items()
            if x < screen.columns and _shows(char)
        ]
        if not shown:
            continue
        drawn.append(row)
        for x, char in shown:
            (rules if _is_rule(char) else text).append(x)
    measured = text or rules
    return drawn, (min(measured), max(measured)) if measured else None


def _shows(char: Char) -> bool:
    # data "" is the right half of a wide character, which counts as the character does.
    return (
        not char.data.isspace()
        or char.bg != "default"
        or char.reverse
        or char.underscore
        or char.strikethrough
    )


def _is_rule(char: Char) -> bool:
    """A rule's or a frame's cell: box drawing, or a bar block, on the default background.

    Only the half and eighth blocks that draw a cell-wide bar count: the others, and any block
    on a background colour, draw pictures (logos, progress bars, half-block images).
    """
    data = char.data[:1]
    if not data or char.bg != "default" or char.reverse:
        return False
    return ord(data) in _BOX_DRAWING or data in _BAR_BLOCKS


def _widen(left: int, right: int, width: int, columns: int) -> tuple[int, int]:
    """Columns left..right grown to width: rightwards, then leftwards at the pane's edge."""
    if right - left + 1 >= width:
        return left, right
    right = min(columns - 1, left + width - 1)
    return right - width + 1, right


def _whole_wide_characters(
    lines: Sequence[dict[int, Char]], left: int, right: int, columns: int
) -> tuple[int, int]:
    """Moves an edge out by one where it would cut a wide character in half."""
    if left > 0 and any(line[left].data == "" for line in lines):
        left -= 1
    if right < columns - 1 and any(
        line[right].data != "" and line[right + 1].data == "" for line in lines
    ):
        right += 1
    return left, right
