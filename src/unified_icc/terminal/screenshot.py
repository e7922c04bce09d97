"""ANSI pane capture → PNG: the pane as a person sees it, to send as a picture.

Owns turning a `tmux capture-pane -e -p` text into PNG bytes: emulating it on a pyte screen
of the pane's size, the terminal's colours (16 ANSI, xterm 256, true colour, reverse, bold,
faint), choosing the cells to show (the whole pane, or a crop to its content for a phone) and
composing the picture at any scale. Pure and CPU-bound: knows no tmux and no event loop
(callers use asyncio.to_thread), nor font files and glyph shapes (fonts.py owns those).
"""

from __future__ import annotations

import io
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import pyte
from PIL import Image
from pyte.screens import Char, wcwidth

from unified_icc.terminal.crop import CellBox, ContentCrop, crop_box
from unified_icc.terminal.fonts import CellSize, FontFiles, GlyphCache

__all__ = ["RGB", "ScreenshotRenderer", "ScreenshotStyle", "render_screenshot", "xterm_palette"]

RGB = tuple[int, int, int]

# After VS Code's dark terminal colours (bright white made pure white): black, red, green,
# yellow, blue, magenta, cyan, white, then their bright forms.
_THEME: Final[tuple[RGB, ...]] = (
    (0x00, 0x00, 0x00), (0xCD, 0x31, 0x31), (0x0D, 0xBC, 0x79), (0xE5, 0xE5, 0x10),
    (0x24, 0x72, 0xC8), (0xBC, 0x3F, 0xBC), (0x11, 0xA8, 0xCD), (0xE5, 0xE5, 0xE5),
    (0x66, 0x66, 0x66), (0xF1, 0x4C, 0x4C), (0x23, 0xD1, 0x8B), (0xF5, 0xF5, 0x43),
    (0x3B, 0x8E, 0xEA), (0xD6, 0x70, 0xD6), (0x29, 0xB8, 0xDB), (0xFF, 0xFF, 0xFF),
)  # fmt: skip
_CUBE_LEVELS: Final = (0, 95, 135, 175, 215, 255)
_MAX_PIXELS: Final = 40_000_000
_PNG_COMPRESS_LEVEL: Final = 6
_CACHE_LIMIT: Final = 4096

# Colour tokens kept in pyte's Char.fg/bg: "default", "p<index>" (palette) or "rrggbb".
# SGR 2 (faint), which Char has no field for, rides on fg as a prefix.
_FAINT: Final = "~"
_LOW_ANSI: Final = frozenset(f"p{i}" for i in range(8))
_HEX: Final = re.compile(r"[0-9a-f]{6}")
_FLAGS_ON: Final = MappingProxyType(
    {1: "bold", 2: "faint", 3: "italics", 4: "underscore", 5: "blink", 6: "blink",
     7: "reverse", 9: "strikethrough", 21: "underscore"}
)  # fmt: skip
_FLAGS_OFF: Final = MappingProxyType(
    {22: ("bold", "faint"), 23: ("italics",), 24: ("underscore",), 25: ("blink",),
     27: ("reverse",), 29: ("strikethrough",)}
)  # fmt: skip
_BASIC_COLOURS: Final = ((30, "fg", 0), (40, "bg", 0), (90, "fg", 8), (100, "bg", 8))

# Everything but text, tabs, newlines and plain SGR is dropped before pyte sees it: a capture is
# a finished screen, and pyte raises on malformed cursor and mode sequences.
_ESCAPE: Final = re.compile(
    r"\x1b\[(?P<params>[0-?]*)(?P<inter>[ -/]*)(?P<final>[@-~])"  # CSI
    r"|\x1b[\]P_^X][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC, DCS, APC, PM, SOS strings
    r"|\x1b[ -/]*[0-~]?"  # any other escape sequence, or a lone ESC
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # C0 and C1 controls but \t and \n (a CR too)
)
_SGR_PARAMS: Final = re.compile(r"[0-9:;]*")


def xterm_palette(ansi16: Sequence[RGB] = _THEME) -> tuple[RGB, ...]:
    """The 256-colour palette: the 16 ANSI colours, the 6x6x6 xterm cube, the 24-step greys."""
    levels = _CUBE_LEVELS
    cube = [(levels[i // 36], levels[i // 6 % 6], levels[i % 6]) for i in range(216)]
    greys = [(v, v, v) for v in range(8, 248, 10)]
    return (*ansi16, *cube, *greys)


def _check_rgb(name: str, colour: RGB) -> None:
    if len(colour) != 3 or not all(isinstance(v, int) and 0 <= v <= 255 for v in colour):
        raise ValueError(f"{name} must be three integers 0-255, got {colour!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreenshotStyle:
    """How a screenshot looks. Colours are (r, g, b) tuples of 0-255.

    palette overrides entries of the 256-colour palette as (index, colour) pairs; 0-15 are
    the ANSI colours of SGR 30-37, 90-97 and 38;5;0-15 (a VS Code-like dark theme by default).
    bold_is_bright draws bold text in ANSI colours 0-7 with colours 8-15, as xterm does.
    fonts replaces the bundled fonts (None: FontFiles.bundled()).
    scale multiplies cells and padding by drawing the fonts larger: sharp, not enlarged.
    """

    font_size: int = 16
    padding: int = 12
    scale: int = 1
    foreground: RGB = (0xCC, 0xCC, 0xCC)
    background: RGB = (0x1E, 0x1E, 0x1E)
    palette: tuple[tuple[int, RGB], ...] = ()
    bold_is_bright: bool = True
    fonts: FontFiles | None = None

    def __post_init__(self) -> None:
        if not 6 <= self.font_size <= 96:
            raise ValueError(f"font_size must be 6-96, got {self.font_size}")
        if not 0 <= self.padding <= 256:
            raise ValueError(f"padding must be 0-256, got {self.padding}")
        if not 1 <= self.scale <= 4:
            raise ValueError(f"scale must be 1-4, got {self.scale}")
        _check_rgb("foreground", self.foreground)
        _check_rgb("background", self.background)
        for index, colour in self.palette:
            if not 0 <= index <= 255:
                raise ValueError(f"palette index must be 0-255, got {index}")
            _check_rgb(f"palette[{index}]", colour)


def render_screenshot(
    ansi: str,
    *,
    columns: int,
    rows: int,
    style: ScreenshotStyle | None = None,
    crop: ContentCrop | None = None,
) -> bytes:
    """Render a `tmux capture-pane -e -p` text of a columns x rows pane as a PNG.

    Without crop the picture is the whole pane: columns x cell width by rows x cell height
    pixels, plus the style's padding on every side; with crop, only the cells crop_box picks
    (content, cursor line, margin). Lines beyond rows scroll the top ones away, as the pane
    would; lines wider than columns are cut. CPU-bound (tens of milliseconds for 200 x 50):
    from async code, run it with asyncio.to_thread. To render many captures, keep a
    ScreenshotRenderer instead.

    Raises: ValueError for columns or rows below 1 or a pane over 40 megapixels;
    FileNotFoundError when the bundled fonts are missing.
    """
    return ScreenshotRenderer(style=style).render(ansi, columns=columns, rows=rows, crop=crop)


class ScreenshotRenderer:
    """Renders captures with one style, keeping loaded fonts and drawn glyphs between calls.

    Safe to share between threads: drawing takes turns on a lock (FreeType faces are not
    thread-safe), while emulating the capture and encoding the PNG run concurrently.
    """

    def __init__(self, *, style: ScreenshotStyle | None = None) -> None:
        self._style = style or ScreenshotStyle()
        files = self._style.fonts or FontFiles.bundled()
        scale = self._style.scale
        self._glyphs = GlyphCache(files=files, font_size=self._style.font_size, scale=scale)
        self._padding = self._style.padding * scale
        palette = list(xterm_palette())
        for index, colour in self._style.palette:
            palette[index] = colour
        self._palette: tuple[RGB, ...] = tuple(palette)
        self._pairs: dict[tuple[str, str, bool, bool], tuple[RGB, RGB]] = {}
        self._lock = threading.Lock()

    @property
    def cell(self) -> CellSize:
        """The size of one cell in pixels for this style's font size and scale."""
        return self._glyphs.cell

    @property
    def padding(self) -> int:
        """The blank border around the cells in pixels, scaled with them."""
        return self._padding

    def render(
        self, ansi: str, *, columns: int, rows: int, crop: ContentCrop | None = None
    ) -> bytes:
        """Like render_screenshot, with this renderer's style. Raises: ValueError."""
        image = self.render_image(ansi, columns=columns, rows=rows, crop=crop)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=_PNG_COMPRESS_LEVEL)
        return buffer.getvalue()

    def content_box(self, ansi: str, *, columns: int, rows: int, crop: ContentCrop) -> CellBox:
        """The cells a cropped picture of this screen would show."""
        return crop_box(_emulate(ansi, columns=columns, rows=rows), crop)

    def render_image(
        self, ansi: str, *, columns: int, rows: int, crop: ContentCrop | None = None
    ) -> Image.Image:
        """The screenshot as an RGB Pillow image. Raises: ValueError."""
        cell, padding = self._glyphs.cell, self._padding
        size = (columns * cell.width + 2 * padding, rows * cell.height + 2 * padding)
        if columns < 1 or rows < 1 or size[0] * size[1] > _MAX_PIXELS:
            raise ValueError(f"cannot render {columns}x{rows} cells ({size[0]}x{size[1]} px)")
        screen = _emulate(ansi, columns=columns, rows=rows)
        box = CellBox(left=0, top=0, columns=columns, rows=rows)
        if crop is not None:
            box = crop_box(screen, crop)
            size = (box.columns * cell.width + 2 * padding, box.rows * cell.height + 2 * padding)
        image = Image.new("RGB", size, self._style.background)
        with self._lock:
            for row in range(box.rows):
                self._draw_row(image, screen.buffer[box.top + row], row, box)
        return image

    def _draw_row(self, image: Image.Image, line: dict[int, Char], row: int, box: CellBox) -> None:
        cell, padding = self._glyphs.cell, self._padding
        top = padding + row * cell.height
        column, end = box.left, box.left + box.columns
        while column < end:
            char = line[column]
            wide = char.data != "" and column + 1 < end and line[column + 1].data == ""
            span = 2 if wide else 1
            left = padding + (column - box.left) * cell.width
            foreground, background = self._colours(char)
            if background != self._style.background:
                image.paste(background, (left, top, left + span * cell.width, top + cell.height))
            mask = self._glyphs.mask(char.data, span=span, bold=char.bold, italic=char.italics)
            if mask is not None:
                image.paste(foreground, (left, top), mask)
            if char.underscore or char.strikethrough:
                self._decorate(image, char, (left, top, left + span * cell.width), foreground)
            column += span

    def _decorate(
        self, image: Image.Image, char: Char, where: tuple[int, int, int], colour: RGB
    ) -> None:
        left, top, right = where
        cell, thick = self._glyphs.cell, self._glyphs.line_width
        if char.underscore:
            y = top + min(cell.baseline + 1, cell.height - thick)
            image.paste(colour, (left, y, right, y + thick))
        if char.strikethrough:
            y = top + cell.baseline - round(cell.height * 0.3)
            image.paste(colour, (left, y, right, y + thick))

    def _colours(self, char: Char) -> tuple[RGB, RGB]:
        key = (char.fg, char.bg, char.bold, char.reverse)
        pair = self._pairs.get(key)
        if pair is None:
            if len(self._pairs) >= _CACHE_LIMIT:
                self._pairs.clear()
            pair = self._pairs[key] = self._resolve(*key)
        return pair

    def _resolve(self, fg: str, bg: str, bold: bool, reverse: bool) -> tuple[RGB, RGB]:
        faint = fg.startswith(_FAINT)
        fg = fg.removeprefix(_FAINT)
        if bold and self._style.bold_is_bright and fg in _LOW_ANSI:
            fg = f"p{int(fg[1:]) + 8}"
        foreground = self._colour(fg, self._style.foreground)
        background = self._colour(bg, self._style.background)
        if reverse:
            foreground, background = background, foreground
        if faint:
            foreground = _mix(foreground, background)
        return foreground, background

    def _colour(self, token: str, default: RGB) -> RGB:
        if token.startswith("p") and token[1:].isdigit() and int(token[1:]) < 256:
            return self._palette[int(token[1:])]
        if _HEX.fullmatch(token):
            return int(token[0:2], 16), int(token[2:4], 16), int(token[4:6], 16)
        return default


def _mix(colour: RGB, other: RGB) -> RGB:
    return (colour[0] + other[0]) // 2, (colour[1] + other[1]) // 2, (colour[2] + other[2]) // 2


class _CaptureScreen(pyte.Screen):
    """A pyte screen that cuts text at the right edge and keeps palette indices and faint."""

    def draw(self, data: str) -> None:
        # pyte stops drawing at a zero-width character that does not combine (VS16 in "⚠️",
        # ZWJ): drop those, and cut what would pass the right edge instead of overwriting it.
        kept: list[str] = []
        room = self.columns - self.cursor.x
        for char in data:
            width = wcwidth(char)
            if width > 0:
                room -= width
                if room < 0:
                    break
            elif width < 0 or not unicodedata.combining(char):
                continue
            kept.append(char)
        super().draw("".join(kept))

    def select_graphic_rendition(self, *attrs: int, private: bool = False) -> None:
        if not private:
            self.cursor.attrs = _apply_sgr(self.cursor.attrs, attrs, self.default_char)


def _emulate(ansi: str, *, columns: int, rows: int) -> _CaptureScreen:
    screen = _CaptureScreen(columns, rows)
    screen.mode.discard(pyte.modes.DECAWM)  # a capture's lines never wrap
    lines = _ESCAPE.sub(_keep_sgr, ansi).split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the capture's final newline would scroll the top line away
    pyte.Stream(screen).feed("\r\n".join(lines))
    return screen


def _keep_sgr(match: re.Match[str]) -> str:
    params = match.group("params")
    if match.group("final") != "m" or match.group("inter") or params is None:
        return ""
    if not _SGR_PARAMS.fullmatch(params):
        return ""  # private SGR-like sequences ("\x1b[>4;2m") set keyboard modes, not colours
    parts = [_colon_to_semicolons(part) for part in params.split(";")]
    return "\x1b[" + ";".join(part for part in parts if part) + "m"


def _colon_to_semicolons(part: str) -> str:
    """ITU T.416 sub-parameters ("38:2::r:g:b", "4:3") in the semicolon form pyte reads."""
    if ":" not in part:
        return part or "0"
    head, *rest = part.split(":")
    if head in {"38", "48", "58"} and rest[:1] == ["5"] and len(rest) >= 2:
        return f"{head};5;{rest[1] or 0}"
    if head in {"38", "48", "58"} and rest[:1] == ["2"] and len(rest) >= 4:
        red, green, blue = rest[-3:]
        return f"{head};2;{red or 0};{green or 0};{blue or 0}"
    if head == "4":
        return "24" if rest[:1] == ["0"] else "4"
    return "" if head in {"38", "48", "58"} else head


def _apply_sgr(attrs: Char, params: Sequence[int], default: Char) -> Char:
    """The cursor's attributes after one SGR sequence."""
    if not params:
        return default
    fg, bg = attrs.fg.removeprefix(_FAINT), attrs.bg
    flags = {name for name, on in _flag_items(attrs) if on}
    index = 0
    while index < len(params):
        code, index = params[index], index + 1
        if code == 0:
            fg, bg, flags = (
                default.fg,
                default.bg,
                {name for name, on in _flag_items(default) if on},
            )
        elif code in _FLAGS_ON:
            flags.add(_FLAGS_ON[code])
        elif code in _FLAGS_OFF:
            flags.difference_update(_FLAGS_OFF[code])
        elif code in (38, 48, 58):
            colour, index = _extended_colour(params, index)
            if colour is not None and code == 38:
                fg = colour
            elif colour is not None and code == 48:
                bg = colour
        else:
            fg, bg = _basic_colour(code, fg, bg)
    return attrs._replace(
        fg=_FAINT + fg if "faint" in flags else fg,
        bg=bg,
        bold="bold" in flags,
        italics="italics" in flags,
        underscore="underscore" in flags,
        strikethrough="strikethrough" in flags,
        reverse="reverse" in flags,
        blink="blink" in flags,
    )


def _flag_items(char: Char) -> tuple[tuple[str, bool], ...]:
    return (
        ("faint", char.fg.startswith(_FAINT)),
        ("bold", char.bold),
        ("italics", char.italics),
        ("underscore", char.underscore),
        ("strikethrough", char.strikethrough),
        ("reverse", char.reverse),
        ("blink", char.blink),
    )


def _basic_colour(code: int, fg: str, bg: str) -> tuple[str, str]:
    if code == 39:
        return "default", bg
    if code == 49:
        return fg, "default"
    for base, target, offset in _BASIC_COLOURS:
        if base <= code <= base + 7:
            token = f"p{code - base + offset}"
            return (token, bg) if target == "fg" else (fg, token)
    return fg, bg  # SGR codes a screenshot cannot show (fonts, frames, blink rates)


def _extended_colour(params: Sequence[int], index: int) -> tuple[str | None, int]:
    """Reads "5;n" or "2;r;g;b" after 38/48/58; returns the colour token and the next index."""
    if index >= len(params):
        return None, index
    mode = params[index]
    if mode == 5:
        value = params[index + 1 : index + 2]
        return (f"p{value[0]}" if value and value[0] <= 255 else None), index + 2
    if mode == 2:
        rgb = params[index + 1 : index + 4]
        if len(rgb) == 3 and all(v <= 255 for v in rgb):
            return f"{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}", index + 4
        return None, index + 4
    return None, index + 1
