"""The cells a phone screenshot keeps: content, the cursor's line, a margin, whole wide chars.

Rules and frames (box drawing, bar blocks) count for the rows but not the columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from unified_icc.terminal.crop import CellBox, ContentCrop, crop_box
from unified_icc.terminal.screenshot import _emulate

SCREENS = Path(__file__).resolve().parent.parent / "fixtures" / "screens"
E = "\x1b["
TIGHT = ContentCrop(margin=0, min_columns=1)  # the content alone, however small


class BoxCase(NamedTuple):
    test_id: str
    ansi: str
    size: tuple[int, int]  # the pane's columns, rows
    crop: ContentCrop
    expected: CellBox


def box(left: int, top: int, columns: int, rows: int) -> CellBox:
    return CellBox(left=left, top=top, columns=columns, rows=rows)


BOX_CASES = [
    BoxCase(
        "10x60-at-top-left-clamps-the-margin-at-the-pane-edge",
        "\n".join(["x" * 60] * 10) + "\n",
        (200, 50),
        ContentCrop(cursor=(0, 9)),
        box(0, 0, 61, 11),
    ),
    BoxCase(
        "10x60-inside-the-pane-has-a-margin-on-every-side",
        "\n" * 5 + "\n".join([" " * 30 + "y" * 60] * 10),
        (200, 50),
        ContentCrop(cursor=(31, 14)),
        box(29, 4, 62, 12),
    ),
    BoxCase(
        "blank-cursor-line-below-the-content-is-kept",
        "$ ls\nREADME.md\n",
        (200, 50),
        ContentCrop(cursor=(0, 7)),
        box(0, 0, 20, 9),
    ),
    BoxCase(
        "cursor-column-right-of-the-content-is-kept",
        "$ echo\n",
        (200, 50),
        ContentCrop(cursor=(40, 0), min_columns=1),
        box(0, 0, 42, 2),
    ),
    BoxCase(
        "blank-pane-is-its-cursor-line", "", (200, 50), ContentCrop(cursor=(0, 0)), box(0, 0, 20, 2)
    ),
    BoxCase(
        "blank-pane-hidden-cursor-is-the-top-line", "", (200, 50), ContentCrop(), box(0, 0, 20, 2)
    ),
    BoxCase(
        "narrow-box-at-the-right-edge-grows-leftwards",
        "",
        (200, 50),
        ContentCrop(cursor=(199, 49)),
        box(180, 48, 20, 2),
    ),
    BoxCase(
        "cursor-beyond-the-pane-is-clamped",
        "",
        (20, 5),
        ContentCrop(cursor=(99, 99)),
        box(0, 3, 20, 2),
    ),
    BoxCase(
        "min-columns-wider-than-the-pane-is-the-pane",
        "ab",
        (10, 3),
        ContentCrop(),
        box(0, 0, 10, 2),
    ),
    BoxCase(
        "background-without-text-is-content",
        f"\n   {E}41m   {E}0m",
        (200, 50),
        TIGHT,
        box(3, 1, 3, 1),
    ),
    BoxCase(
        "true-colour-background-is-content",
        f"{E}48;2;1;2;3m  {E}0m",
        (200, 50),
        TIGHT,
        box(0, 0, 2, 1),
    ),
    BoxCase(
        "reverse-space-is-content",
        f"    {E}7m {E}0m",
        (200, 50),
        TIGHT,
        box(4, 0, 1, 1),
    ),
    BoxCase(
        "underlined-space-is-content",
        f"  {E}4m {E}0m",
        (200, 50),
        TIGHT,
        box(2, 0, 1, 1),
    ),
    BoxCase(
        "coloured-text-default-background-spaces-are-not",
        f"{E}31mab   {E}0m",
        (200, 50),
        TIGHT,
        box(0, 0, 2, 1),
    ),
    BoxCase(
        "wide-character-at-the-edge-is-whole",
        "  中文",
        (200, 50),
        TIGHT,
        box(2, 0, 4, 1),
    ),
    BoxCase(
        "blank-wide-character-is-never-cut-in-half",
        "\u3000国",  # an ideographic space: only its right half reads as content
        (200, 50),
        TIGHT,
        box(0, 0, 4, 1),
    ),
    BoxCase(
        "box-drawing-alone-is-content",
        "\n\n     ┌─┐\n     └─┘",
        (200, 50),
        ContentCrop(margin=2, min_columns=1),
        box(3, 0, 7, 6),
    ),
    BoxCase(
        "screen-of-only-rules-keeps-the-whole-rules",
        "─" * 200 + "\n\n" + "━" * 200,
        (200, 50),
        ContentCrop(),
        box(0, 0, 200, 4),
    ),
    BoxCase(
        "full-width-rule-below-30-columns-of-text-is-cut-at-the-text",
        "  " + "a" * 30 + "\n\n" + "─" * 200,
        (200, 50),
        ContentCrop(),
        box(1, 0, 32, 4),  # the rule's row counts for the height, not the width
    ),
    BoxCase(
        "full-width-input-box-is-cut-at-its-text",
        f"╭{'─' * 198}╮\n│ > summarise the last commit{' ' * 169}│\n╰{'─' * 198}╯",
        (200, 50),
        ContentCrop(cursor=(30, 1)),
        box(1, 0, 31, 4),  # "> summarise the last commit" at columns 2-29, the cursor at 30
    ),
    BoxCase(
        "rule-left-of-the-text-is-cut-too",
        "═" * 200 + "\n" + " " * 150 + "right-aligned",
        (200, 50),
        TIGHT,
        box(150, 0, 13, 2),
    ),
    BoxCase(
        "box-drawing-inside-the-text-width-is-drawn",
        "name │ size\n─────┼─────────\nx.py │ 1.2 kB",
        (200, 50),
        TIGHT,
        box(0, 0, 13, 3),  # the rule's last 2 cells pass "1.2 kB" and are cut
    ),
    BoxCase(
        "bar-block-rule-is-cut-like-box-drawing",
        "a" * 30 + "\n" + "▄" * 200 + "\n" + "▔" * 200,
        (200, 50),
        TIGHT,
        box(0, 0, 30, 3),
    ),
    BoxCase(
        "full-block-bar-is-content",
        "ab\n" + " " * 40 + "███░░",
        (200, 50),
        TIGHT,
        box(0, 0, 45, 2),
    ),
    BoxCase(
        "half-blocks-on-a-background-are-a-picture",
        f"ab\n{E}44m" + "▀" * 60 + f"{E}0m",
        (200, 50),
        TIGHT,
        box(0, 0, 60, 2),
    ),
    BoxCase(
        "reversed-rule-is-a-bar",
        f"ab\n{E}7m" + "─" * 60 + f"{E}0m",
        (200, 50),
        TIGHT,
        box(0, 0, 60, 2),
    ),
]


@pytest.mark.parametrize("case", BOX_CASES, ids=lambda case: case.test_id)
def test_crop_box(case: BoxCase) -> None:
    columns, rows = case.size
    screen = _emulate(case.ansi, columns=columns, rows=rows)
    assert crop_box(screen, case.crop) == case.expected


@pytest.mark.parametrize(
    "kwargs",
    [{"cursor": (-1, 0)}, {"margin": -1}, {"margin": 101}, {"min_columns": 0}],
    ids=["cursor", "margin-negative", "margin-large", "min-columns"],
)
def test_content_crop_rejects_invalid_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 -- each case has its own message
        ContentCrop(**kwargs)  # type: ignore[arg-type]


class CaptureCase(NamedTuple):
    test_id: str
    capture: str  # under tests/fixtures/screens/, a 200 x 50 pane
    columns: int  # the crop's width in cells with the default ContentCrop


# Measured on the captures: before rules and frames were left out of the width, each of these
# was 200 columns wide (4048 px at scale 2), the rules across the pane setting it.
CAPTURE_CASES = [
    # The welcome banner's text ends at column 101: a one-cell margin makes 103 columns.
    CaptureCase("claude-permission-prompt", "claude/2.1.197/07-permission-prompt.ansi", 103),
    # The banner has scrolled away: the widest text is a tool result ending at column 64.
    CaptureCase("claude-later-permission", "claude/2.1.197/10-permission-prompt-python.ansi", 66),
    CaptureCase("claude-api-key-dialog", "claude/2.1.197/02-apikey-dialog.ansi", 51),
    CaptureCase("gemini-approval", "gemini/0.61.0/g03-gemini-approval.ansi", 57),
    # Not narrowed: the right-aligned status hint "● high · /effort" ends at column 197. That
    # is text, which the crop never cuts.
    CaptureCase("claude-idle-status-hint-keeps-the-width", "claude/2.1.197/03-idle.ansi", 199),
]


@pytest.mark.parametrize("case", CAPTURE_CASES, ids=lambda case: case.test_id)
def test_crop_box_of_a_real_capture_is_as_wide_as_its_text(case: CaptureCase) -> None:
    ansi = (SCREENS / case.capture).read_text(encoding="utf-8")
    screen = _emulate(ansi, columns=200, rows=50)
    assert crop_box(screen, ContentCrop()).columns == case.columns
