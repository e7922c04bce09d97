"""Screenshots: ANSI pane captures → PNG, checked by size, colours, cells and golden images.

UPDATE_GOLDEN=1 rewrites the golden PNGs from the renderer before comparing: do it only after
an intended change to the drawing, and look at the pictures before committing them.
"""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path
from typing import NamedTuple

import pytest
from PIL import Image, ImageChops, ImageStat

from unified_icc.terminal.crop import ContentCrop
from unified_icc.terminal.fonts import FontFiles
from unified_icc.terminal.screenshot import (
    RGB,
    ScreenshotRenderer,
    ScreenshotStyle,
    _emulate,
    render_screenshot,
    xterm_palette,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CAPTURES = sorted((FIXTURES / "screens").rglob("*.ansi"))
GOLDEN_ANSI = FIXTURES / "screenshots" / "golden.ansi"
GOLDEN_PNG = FIXTURES / "screenshots" / "golden.png"
GOLDEN_COLUMNS, GOLDEN_ROWS = 64, 14
# A 10 x 60 framed panel at rows 3-12, columns 8-67 of a 200 x 50 pane; the cursor follows its
# prompt. Its text spans columns 10-52, and the frame's sides are cut as any rule beyond the
# text is: cropped with a one-cell margin to rows 2-13 and columns 9-53.
CROP_ANSI = FIXTURES / "screenshots" / "crop-10x60.ansi"
CROP_PNG = FIXTURES / "screenshots" / "crop-10x60.png"
CROP_CURSOR = (37, 11)
CROP_CELLS = (45, 12)
# A different FreeType or Pillow patch release moves anti-aliasing a little, never a glyph,
# a colour or a line: compare the whole picture loosely and every half cell more tightly.
GOLDEN_MEAN_TOLERANCE = 2.0  # mean absolute difference per channel, 0-255
GOLDEN_HALF_CELL_TOLERANCE = 16  # largest difference of one half cell's mean colour
E = "\x1b["
STYLE = ScreenshotStyle()
BACKGROUND = STYLE.background


@pytest.fixture(scope="module")
def renderer() -> ScreenshotRenderer:
    return ScreenshotRenderer(style=ScreenshotStyle(padding=0))


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def cell_pixel(image: Image.Image, renderer: ScreenshotRenderer, column: int) -> RGB:
    """The colour at the middle of a cell of the first row (padding 0)."""
    cell = renderer.cell
    pixel = image.getpixel((column * cell.width + cell.width // 2, cell.height // 2))
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def ink_columns(image: Image.Image, left: int, right: int) -> int:
    """How many pixel columns between left and right hold anything but the background."""
    box = image.crop((left, 0, right, image.height))
    return sum(
        1
        for x in range(box.width)
        if any(box.getpixel((x, y)) != BACKGROUND for y in range(box.height))
    )


# --- real captures ------------------------------------------------------------------------


def capture_id(path: Path) -> str:
    return str(path.relative_to(FIXTURES / "screens"))


def sgr_colours(ansi: str) -> set[RGB]:
    """The colours the capture paints: a 256-colour foreground only when a visible character
    follows it (a CLI may set one and write nothing), any background, any true colour."""
    palette = xterm_palette()
    fg = re.findall(r"\x1b\[38;5;(\d+)m([^\x1b]*)", ansi)
    bg = re.findall(r"\x1b\[48;5;(\d+)m", ansi)
    indexed = {palette[int(n)] for n, text in fg if text.strip()}
    indexed |= {palette[int(n)] for n in bg}
    direct = re.findall(r"\x1b\[48;2;(\d+);(\d+);(\d+)m", ansi)
    return indexed | {(int(r), int(g), int(b)) for r, g, b in direct}


def test_real_captures_are_all_exercised() -> None:
    clis = {path.relative_to(FIXTURES / "screens").parts[0] for path in CAPTURES}
    assert clis == {"claude", "codex", "gemini"}
    assert len(CAPTURES) >= 40


@pytest.mark.parametrize("path", CAPTURES, ids=capture_id)
def test_render_screenshot_real_capture_has_exact_size_and_its_colours(path: Path) -> None:
    ansi = path.read_text(encoding="utf-8")
    image = decode(render_screenshot(ansi, columns=200, rows=50))
    cell = ScreenshotRenderer().cell
    assert image.size == (
        200 * cell.width + 2 * STYLE.padding,
        50 * cell.height + 2 * STYLE.padding,
    )
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 24) or []}
    assert len(colours) > 16  # text, anti-aliasing and the capture's colours: not blank
    assert sgr_colours(ansi) <= colours  # every 256-colour and true-colour SGR shows exactly


@pytest.mark.parametrize("path", CAPTURES, ids=capture_id)
def test_emulated_capture_reads_as_tmux_plain_capture(path: Path) -> None:
    """The escapes are understood, lines neither wrap nor scroll: text equals `capture-pane -p`."""
    screen = _emulate(path.read_text(encoding="utf-8"), columns=200, rows=50)
    plain = path.with_suffix(".txt").read_text(encoding="utf-8").split("\n")[:50]
    assert [line.rstrip() for line in screen.display] == [
        line.rstrip() for line in plain + [""] * (50 - len(plain))
    ]


def test_render_screenshot_200x50_is_well_under_a_second() -> None:
    ansi = (FIXTURES / "screens/codex/0.169.0/c05-codex-spinner.ansi").read_text(encoding="utf-8")
    start = time.perf_counter()
    render_screenshot(ansi, columns=200, rows=50)  # cold: loads fonts, draws every glyph
    assert time.perf_counter() - start < 1.0


# --- golden image -------------------------------------------------------------------------


def assert_matches_golden(
    png: bytes, golden_path: Path, *, cells: tuple[int, int], scale: int = 1
) -> None:
    """The picture equals the golden PNG within GOLDEN_*_TOLERANCE (cells: its columns, rows).

    The blocks compared are half a cell of scale 1 whatever the scale, so that a changed glyph
    weighs as much in a scaled picture. With UPDATE_GOLDEN=1 the golden file is rewritten first.
    """
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden_path.write_bytes(png)
    image = decode(png)
    golden = Image.open(golden_path).convert("RGB")
    assert image.size == golden.size
    mean = sum(ImageStat.Stat(ImageChops.difference(image, golden)).mean) / 3
    assert mean < GOLDEN_MEAN_TOLERANCE
    half_cells = (cells[0] * 2 * scale, cells[1] * 2 * scale)
    coarse = ImageChops.difference(
        image.resize(half_cells, Image.Resampling.BOX),
        golden.resize(half_cells, Image.Resampling.BOX),
    )
    assert max(high for _, high in ImageStat.Stat(coarse).extrema) <= GOLDEN_HALF_CELL_TOLERANCE


def test_render_screenshot_matches_golden_image() -> None:
    """16/256/true colour, bold, faint, italic, underline, strike, reverse, CJK, box, braille."""
    ansi = GOLDEN_ANSI.read_text(encoding="utf-8")
    png = render_screenshot(ansi, columns=GOLDEN_COLUMNS, rows=GOLDEN_ROWS)
    assert_matches_golden(png, GOLDEN_PNG, cells=(GOLDEN_COLUMNS, GOLDEN_ROWS))


def test_cropped_screenshot_of_10x60_content_matches_golden_at_twice_the_cell_size() -> None:
    """The phone picture: the panel's text and a one-cell margin, every cell twice as large."""
    ansi = CROP_ANSI.read_text(encoding="utf-8")
    crop = ContentCrop(cursor=CROP_CURSOR)
    png = render_screenshot(ansi, columns=200, rows=50, style=ScreenshotStyle(scale=2), crop=crop)
    cell, padding = ScreenshotRenderer().cell, STYLE.padding
    columns, rows = CROP_CELLS
    assert decode(png).size == (
        columns * 2 * cell.width + 2 * 2 * padding,
        rows * 2 * cell.height + 2 * 2 * padding,
    )
    assert_matches_golden(png, CROP_PNG, cells=CROP_CELLS, scale=2)


# --- phone crop at twice the scale ---------------------------------------------------------


@pytest.fixture(scope="module")
def phone() -> ScreenshotRenderer:
    return ScreenshotRenderer(style=ScreenshotStyle(padding=0, scale=2))


def cell_centre(image: Image.Image, renderer: ScreenshotRenderer, column: int, row: int) -> RGB:
    """The colour at the middle of a cell of a picture with padding 0."""
    cell = renderer.cell
    pixel = image.getpixel(
        (column * cell.width + cell.width // 2, row * cell.height + cell.height // 2)
    )
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def test_full_screenshot_of_a_200x50_pane_keeps_todays_size() -> None:
    ansi = (FIXTURES / "screens/codex/0.169.0/c05-codex-spinner.ansi").read_text(encoding="utf-8")
    assert decode(render_screenshot(ansi, columns=200, rows=50)).size == (2024, 974)


def test_scale_two_doubles_cell_and_padding_exactly() -> None:
    normal, double = ScreenshotRenderer(), ScreenshotRenderer(style=ScreenshotStyle(scale=2))
    assert (double.cell.width, double.cell.height, double.cell.baseline) == (
        2 * normal.cell.width, 2 * normal.cell.height, 2 * normal.cell.baseline
    )  # fmt: skip
    assert double.padding == 2 * normal.padding
    image = decode(double.render("x", columns=200, rows=50))
    assert image.size == (2 * 2024, 2 * 974)


def test_scale_two_draws_a_larger_font_not_an_enlarged_picture() -> None:
    small = ScreenshotRenderer(style=ScreenshotStyle(padding=0)).render_image(
        "Ag", columns=2, rows=1
    )
    large = ScreenshotRenderer(style=ScreenshotStyle(padding=0, scale=2)).render_image(
        "Ag", columns=2, rows=1
    )
    enlarged = small.resize(large.size, Image.Resampling.NEAREST)
    assert large.size == enlarged.size
    assert ImageChops.difference(large, enlarged).getbbox() is not None


def test_crop_keeps_true_colour_and_256_colour_cells(phone: ScreenshotRenderer) -> None:
    ansi = "\n" * 20 + " " * 100 + f"{E}48;2;12;34;56m  {E}48;5;208m  {E}38;2;200;10;90m█{E}0m"
    image = phone.render_image(ansi, columns=200, rows=50, crop=ContentCrop(cursor=None))
    # The box starts one cell before the first coloured cell, one row above it.
    assert cell_centre(image, phone, 1, 1) == (12, 34, 56)
    assert cell_centre(image, phone, 3, 1) == (255, 135, 0)
    assert cell_centre(image, phone, 5, 1) == (200, 10, 90)
    assert cell_centre(image, phone, 0, 1) == BACKGROUND  # the margin


def test_crop_keeps_wide_characters_whole(phone: ScreenshotRenderer) -> None:
    crop = ContentCrop(cursor=None, margin=0, min_columns=1)
    image = phone.render_image(" " * 50 + "国", columns=80, rows=3, crop=crop)
    width = phone.cell.width
    assert image.width == 2 * width
    assert ink_columns(image, 0, width) > width // 2
    assert ink_columns(image, width, 2 * width) > width // 2  # the right half is drawn too


def test_crop_keeps_box_drawing_lines_joined(phone: ScreenshotRenderer) -> None:
    cell = phone.cell
    box = "\n".join(" " * 30 + line for line in ("┌───┐", "│   │", "└───┘"))
    image = phone.render_image(
        box, columns=80, rows=10, crop=ContentCrop(cursor=None, margin=0, min_columns=1)
    )
    assert image.size == (5 * cell.width, 3 * cell.height)
    assert any(
        all(
            image.getpixel((x, y)) != BACKGROUND
            for x in range(cell.width // 2, image.width - cell.width // 2)
        )
        for y in range(cell.height)
    )  # the top edge is one unbroken line, corner to corner


def test_crop_keeps_the_blank_cursor_line_below_the_content(phone: ScreenshotRenderer) -> None:
    crop = ContentCrop(cursor=(0, 7))
    image = phone.render_image("$ ls\nREADME.md\n", columns=200, rows=50, crop=crop)
    assert image.size == (20 * phone.cell.width, 9 * phone.cell.height)  # rows 0-7 and a margin


# --- colours ------------------------------------------------------------------------------


class ColourCase(NamedTuple):
    test_id: str
    ansi: str
    expected: RGB


THEME_RED, THEME_BRIGHT_RED = (0xCD, 0x31, 0x31), (0xF1, 0x4C, 0x4C)
COLOUR_CASES = [
    ColourCase("bg-16", f"{E}41m ", THEME_RED),
    ColourCase("bg-bright-16", f"{E}101m ", THEME_BRIGHT_RED),
    ColourCase("bg-256-low-is-theme", f"{E}48;5;1m ", THEME_RED),
    ColourCase("bg-256-cube-red", f"{E}48;5;196m ", (255, 0, 0)),
    ColourCase("bg-256-cube-mixed", f"{E}48;5;174m ", (215, 135, 135)),
    ColourCase("bg-256-grey-first", f"{E}48;5;232m ", (8, 8, 8)),
    ColourCase("bg-256-grey-last", f"{E}48;5;255m ", (238, 238, 238)),
    ColourCase("bg-true-colour", f"{E}48;2;1;2;3m ", (1, 2, 3)),
    ColourCase("bg-true-colour-colon-form", f"{E}48:2::10:20:30m ", (10, 20, 30)),
    ColourCase("bg-default-after-reset", f"{E}41m{E}0m ", BACKGROUND),
    ColourCase("reverse-default", f"{E}7m ", STYLE.foreground),
    ColourCase("reverse-swaps-fg-into-bg", f"{E}31;7m ", THEME_RED),
    ColourCase("fg-16", f"{E}31m█", THEME_RED),
    ColourCase("fg-bold-is-bright", f"{E}1;31m█", THEME_BRIGHT_RED),
    ColourCase("fg-256-cube", f"{E}38;5;208m█", (255, 135, 0)),
    ColourCase("fg-true-colour", f"{E}38;2;9;8;7m█", (9, 8, 7)),
    ColourCase("fg-faint-halfway-to-bg", f"{E}2;38;2;200;100;50m█", (115, 65, 40)),
    ColourCase("fg-faint-ends-with-22", f"{E}2m{E}22;38;2;200;100;50m█", (200, 100, 50)),
    ColourCase("fg-reverse-draws-in-bg", f"{E}7;48;2;90;90;90m█", (90, 90, 90)),
    ColourCase("fg-256-out-of-range-ignored", f"{E}38;5;300m█", STYLE.foreground),
    ColourCase("fg-underline-colour-ignored", f"{E}58;5;1m{E}38;5;196m█", (255, 0, 0)),
]


@pytest.mark.parametrize("case", COLOUR_CASES, ids=lambda case: case.test_id)
def test_render_colours(renderer: ScreenshotRenderer, case: ColourCase) -> None:
    image = decode(renderer.render(case.ansi, columns=2, rows=1))
    assert cell_pixel(image, renderer, 0) == case.expected


def test_style_palette_override_and_default_colours() -> None:
    style = ScreenshotStyle(
        padding=4, foreground=(1, 1, 1), background=(250, 250, 250), palette=((1, (0, 0, 9)),)
    )
    renderer = ScreenshotRenderer(style=style)
    image = decode(renderer.render(f"{E}41m {E}0m█", columns=3, rows=1))
    cell = renderer.cell
    middle = 4 + cell.height // 2
    assert image.getpixel((0, 0)) == (250, 250, 250)  # padding has the default background
    assert image.getpixel((4 + cell.width // 2, middle)) == (0, 0, 9)
    assert image.getpixel((4 + cell.width + cell.width // 2, middle)) == (1, 1, 1)


def test_xterm_palette_computes_cube_and_grey_ramp() -> None:
    palette = xterm_palette()
    assert len(palette) == 256
    assert palette[16] == (0, 0, 0)
    assert palette[21] == (0, 0, 255)
    assert palette[196] == (255, 0, 0)
    assert palette[231] == (255, 255, 255)
    assert palette[232] == (8, 8, 8)
    assert palette[255] == (238, 238, 238)


# --- cells: wide characters, box drawing --------------------------------------------------


def test_cjk_wide_character_fills_two_cells(renderer: ScreenshotRenderer) -> None:
    image = decode(renderer.render("国A", columns=4, rows=1))
    width = renderer.cell.width
    assert ink_columns(image, 0, width) > width // 2
    assert ink_columns(image, width, 2 * width) > width // 2  # the second cell is drawn
    assert ink_columns(image, 2 * width, 3 * width) > 0  # "A" is in the third cell
    assert ink_columns(image, 3 * width, 4 * width) == 0


def test_cjk_after_wide_characters_columns_stay_aligned(renderer: ScreenshotRenderer) -> None:
    wide = decode(renderer.render("中文|", columns=5, rows=1))
    narrow = decode(renderer.render("    |", columns=5, rows=1))
    bar = (4 * renderer.cell.width, 0, 5 * renderer.cell.width, renderer.cell.height)
    assert wide.crop(bar).tobytes() == narrow.crop(bar).tobytes()


def test_box_drawing_lines_meet_across_cells(renderer: ScreenshotRenderer) -> None:
    cell = renderer.cell
    image = decode(renderer.render("┌───┐\n│   │\n└───┘", columns=5, rows=3))
    rows = {
        y: all(
            image.getpixel((x, y)) != BACKGROUND
            for x in range(cell.width // 2, image.width - cell.width // 2)
        )
        for y in range(cell.height)
    }
    assert any(rows.values())  # the top edge is one unbroken line, corner to corner
    left = next(
        x for x in range(cell.width) if image.getpixel((x, image.height // 2)) != BACKGROUND
    )
    top, bottom = cell.height // 2 + 1, image.height - cell.height // 2 - 1
    assert all(image.getpixel((left, y)) != BACKGROUND for y in range(top, bottom))


@pytest.mark.parametrize("box", ["╭─╮\n╰─╯", "╔═╗\n╚═╝", "┏━┓\n┗━┛", "╓─╖\n╙─╜", "╒═╕\n╘═╛"])
def test_box_corners_join_their_neighbours(renderer: ScreenshotRenderer, box: str) -> None:
    cell = renderer.cell
    image = decode(renderer.render(box, columns=3, rows=2))

    def inked(x: int, ys: range) -> bool:
        return any(image.getpixel((x, y)) != BACKGROUND for y in ys)

    top_row, left_column = range(cell.height), range(cell.width)
    for x in (cell.width - 1, cell.width, 2 * cell.width - 1, 2 * cell.width):
        assert inked(x, top_row)  # the top edge crosses both cell boundaries
    for y in (cell.height - 1, cell.height):
        assert any(image.getpixel((x, y)) != BACKGROUND for x in left_column)  # and the rows'


# --- robustness -----------------------------------------------------------------------------


NASTY = [
    f"{E}?5m",
    f"{E}>4;2m",
    f"{E}1;2;3;4;5;6A",
    f"{E}?1;2K",
    f"{E}5J",
    f"{E}99999999999@",
    f"{E}38;5m",
    f"{E}38;2;1m",
    f"{E}48;2;300;300;300m",
    f"{E}38:5:174m",
    f"{E}4:3m",
    f"{E}999999999999999999999m",
    "\x1b]0;title\x07",
    "\x1b]8;;https://example.com\x1b\\",
    "\x1bP1$r0m\x1b\\",
    "\x1b]unterminated",
    "\x1b(0",
    "\x1b#8",
    "\x1b",
    f"{E}",
    "\x9b31m",
    "\x00\x01\x07\x08\r\x7f",
    "\U0001f600",
    "e\u0301",
    "\ufe0f\u200d",
]


@pytest.mark.parametrize("junk", NASTY, ids=lambda junk: repr(junk)[1:-1][:30])
def test_unknown_and_invalid_escapes_do_not_crash(junk: str) -> None:
    # At a line's end, alone, and before a tab (after a lone ESC, "O" would be its final byte).
    ansi = f"OK{junk}\n{junk}\n{junk}\tOK{junk}\n"
    image = decode(render_screenshot(ansi, columns=20, rows=3))
    assert image.getbbox() is not None
    display = _emulate(ansi, columns=20, rows=3).display
    assert display[0].startswith("OK")
    assert "OK" in display[2]


def test_trailing_newline_does_not_scroll_and_extra_lines_scroll() -> None:
    assert [line.rstrip() for line in _emulate("a\nb\n", columns=3, rows=2).display] == ["a", "b"]
    assert [line.rstrip() for line in _emulate("a\nb\nc\n", columns=3, rows=2).display] == [
        "b",
        "c",
    ]


def test_lines_wider_than_columns_are_cut_not_wrapped() -> None:
    screen = _emulate(f"ABCDEFGH\nX中文\n{E}31mabc{E}0mdef\n", columns=4, rows=3)
    assert [line.rstrip() for line in screen.display] == ["ABCD", "X中", "abcd"]


# --- style and set-up -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"font_size": 0},
        {"padding": -1},
        {"foreground": (256, 0, 0)},
        {"palette": ((300, (0, 0, 0)),)},
        {"scale": 0},
        {"scale": 5},
    ],
    ids=["font-size", "padding", "foreground", "palette-index", "scale-0", "scale-5"],
)
def test_style_rejects_invalid_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 -- each case has its own message
        ScreenshotStyle(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("columns", "rows"), [(0, 10), (10, 0), (100_000, 1_000)])
def test_render_screenshot_rejects_impossible_sizes(columns: int, rows: int) -> None:
    with pytest.raises(ValueError, match="cannot render"):
        render_screenshot("x", columns=columns, rows=rows)


def test_bundled_fonts_and_their_licences_ship_in_the_package() -> None:
    files = FontFiles.bundled()
    folder = files.regular.parent
    assert folder.name == "fonts"
    for path in (files.regular, files.bold, files.wide):
        assert path.is_file()
    assert "Bitstream Vera" in (folder / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")
    assert "Apache License" in (folder / "LICENSE-WenQuanYi.txt").read_text(encoding="utf-8")


def test_missing_font_file_is_reported() -> None:
    files = FontFiles.bundled()
    broken = FontFiles(
        regular=files.regular, bold=files.bold, wide=files.regular.parent / "none.ttc"
    )
    with pytest.raises(OSError):  # noqa: PT011 -- Pillow's own message names the file
        ScreenshotRenderer(style=ScreenshotStyle(fonts=broken))
