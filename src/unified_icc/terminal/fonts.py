"""Glyphs for terminal cells: the bundled fonts, and the shapes drawn instead of font glyphs.

Owns finding the font files bundled in this package (never the system font list), the cell
size a font size gives, and one alpha mask per cell text. Knows nothing of ANSI, pyte or
colours. Box drawing (U+2500-257F), block elements (U+2580-259F) and braille (U+2800-28FF)
are drawn, not taken from a font, so that lines meet exactly across cells.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from PIL import Image, ImageDraw, ImageFont

__all__ = ["CellSize", "FontFiles", "GlyphCache"]

_FONT_DIR: Final = Path(__file__).parent / "fonts"
_MISSING: Final = "\U0010fffd"  # a private-use code point no bundled font maps: its .notdef
_CACHE_LIMIT: Final = 16_384
_SLANT: Final = 0.2
_SUPERSAMPLE: Final = 4

# Stand-ins for symbols no bundled font has (Claude Code draws "⏵⏵ accept edits").
_SUBSTITUTES: Final = MappingProxyType({"⏵": "▶", "⏴": "◀", "⏶": "▲", "⏷": "▼", "\u2139": "i"})
# Bracket pieces that read as box corners ("  ⎿  Read 3 files" under a tool call).
_DRAWN_ALIASES: Final = MappingProxyType({"⎿": "└", "⎾": "┌", "⏐": "│"})

# Block elements as rectangles in eighths of the cell: (left, top, right, bottom), plus shades.
_QUARTERS: Final = MappingProxyType(
    {"ul": (0, 0, 4, 4), "ur": (4, 0, 8, 4), "ll": (0, 4, 4, 8), "lr": (4, 4, 8, 8)}
)
_BLOCKS: Final = MappingProxyType(
    {
        0x2580: ((0, 0, 8, 4),),
        **{0x2580 + k: ((0, 8 - k, 8, 8),) for k in range(1, 9)},
        **{0x2590 - k: ((0, 0, k, 8),) for k in range(1, 8)},
        0x2590: ((4, 0, 8, 8),),
        0x2594: ((0, 0, 8, 1),),
        0x2595: ((7, 0, 8, 8),),
        **{
            code: tuple(_QUARTERS[q] for q in quads.split())
            for code, quads in {
                0x2596: "ll",
                0x2597: "lr",
                0x2598: "ul",
                0x2599: "ul ll lr",
                0x259A: "ul lr",
                0x259B: "ul ur ll",
                0x259C: "ul ur lr",
                0x259D: "ur",
                0x259E: "ur ll",
                0x259F: "ur ll lr",
            }.items()
        },
    }
)
_SHADES: Final = MappingProxyType({0x2591: 64, 0x2592: 128, 0x2593: 192})
_BRAILLE_DOTS: Final = ((0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3))

_UP, _RIGHT, _DOWN, _LEFT = range(4)
_WEIGHTS: Final = MappingProxyType({"LIGHT": 1, "SINGLE": 1, "HEAVY": 2, "DOUBLE": 3})
_DIRECTIONS: Final = MappingProxyType(
    {
        "UP": (_UP,),
        "RIGHT": (_RIGHT,),
        "DOWN": (_DOWN,),
        "LEFT": (_LEFT,),
        "VERTICAL": (_UP, _DOWN),
        "HORIZONTAL": (_LEFT, _RIGHT),
    }
)
_DASHES: Final = MappingProxyType({"DOUBLE": 2, "TRIPLE": 3, "QUADRUPLE": 4})
# Rounded corners: (goes right, goes down, where its quarter circle starts in degrees).
_ARCS: Final = MappingProxyType(
    {
        "╭": (True, True, 180),
        "╮": (False, True, 270),
        "╯": (False, False, 0),
        "╰": (True, False, 90),
    }
)

Interval = tuple[int, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class FontFiles:
    """The font files a screenshot draws with: a monospace pair, and a wide (CJK) fallback."""

    regular: Path
    bold: Path
    wide: Path
    wide_index: int = 0

    @classmethod
    def bundled(cls) -> FontFiles:
        """DejaVu Sans Mono and WenQuanYi Micro Hei, shipped in this package's fonts/ folder.

        Raises: FileNotFoundError when a file is missing (a broken install).
        """
        files = cls(
            regular=_FONT_DIR / "DejaVuSansMono.ttf",
            bold=_FONT_DIR / "DejaVuSansMono-Bold.ttf",
            wide=_FONT_DIR / "wqy-microhei.ttc",
            wide_index=1,  # "WenQuanYi Micro Hei Mono": its Latin fallbacks fit one cell
        )
        for path in (files.regular, files.bold, files.wide):
            if not path.is_file():
                raise FileNotFoundError(f"bundled font missing: {path}")
        return files


@dataclass(frozen=True, slots=True, kw_only=True)
class CellSize:
    """One terminal cell in pixels; baseline is measured from the cell's top."""

    width: int
    height: int
    baseline: int


class GlyphCache:
    """Alpha masks one cell (two for wide text) in size, made on first use and kept.

    Not for concurrent use (FreeType faces are not thread-safe): ScreenshotRenderer holds a
    lock around it. At scale n the fonts are loaded n times as large and the cell is exactly n
    times the cell of font_size, so a scaled picture keeps the layout and stays sharp.
    """

    def __init__(self, *, files: FontFiles, font_size: int, scale: int = 1) -> None:
        layout = ImageFont.Layout.BASIC
        size = font_size * scale
        self._regular = ImageFont.truetype(str(files.regular), size, layout_engine=layout)
        self._bold = ImageFont.truetype(str(files.bold), size, layout_engine=layout)
        self._wide = ImageFont.truetype(
            str(files.wide), size, index=files.wide_index, layout_engine=layout
        )
        # Measured at font_size, then multiplied: the font's own rounding at the larger size
        # would give a cell a pixel narrower than twice today's (19 px instead of 20 at 32).
        base = self._regular
        if scale != 1:
            base = ImageFont.truetype(str(files.regular), font_size, layout_engine=layout)
        ascent, descent = base.getmetrics()
        width = max(1, round(base.getlength("M")))
        self._cell = CellSize(
            width=width * scale, height=(ascent + descent) * scale, baseline=ascent * scale
        )
        self._light = max(1, font_size // 14) * scale
        self._masks: dict[tuple[str, int, bool, bool], Image.Image | None] = {}
        self._covers: dict[tuple[int, str], bool] = {}  # (id of font, char) -> has a glyph
        self._notdef: dict[int, _Probe] = {}

    @property
    def cell(self) -> CellSize:
        return self._cell

    @property
    def line_width(self) -> int:
        """Thickness in pixels of a light line (box drawing, underline)."""
        return self._light

    def mask(self, text: str, *, span: int, bold: bool, italic: bool) -> Image.Image | None:
        """An "L" mask of span cells for text, or None when it draws nothing."""
        key = (text, span, bold, italic)
        if key not in self._masks:
            if len(self._masks) >= _CACHE_LIMIT:
                self._masks.clear()
            self._masks[key] = self._make(text, span, bold=bold, italic=italic)
        return self._masks[key]

    def _make(self, text: str, span: int, *, bold: bool, italic: bool) -> Image.Image | None:
        if not text or text.isspace():
            return None
        width, height = span * self._cell.width, self._cell.height
        mask = _draw_shape(text, width, height, self._light)
        if mask is None:
            mask = self._from_font(text, width, bold=bold)
            if italic:
                affine = (1, _SLANT, -_SLANT * self._cell.baseline, 0, 1, 0)
                mask = mask.transform(
                    mask.size, Image.Transform.AFFINE, affine, Image.Resampling.BILINEAR
                )
        return mask if mask.getbbox() else None

    def _from_font(self, text: str, width: int, *, bold: bool) -> Image.Image:
        font = self._pick(text[0], bold=bold, wide=width > self._cell.width)
        substitute = _SUBSTITUTES.get(text)
        if font is None and substitute is not None:
            return self._from_font(substitute, width, bold=bold)
        font = font or self._regular  # draws the font's .notdef box: visibly missing
        smear = bold and font is not self._bold  # no bold face: strike twice, 1 px apart
        advance = font.getlength(text) + (1 if smear else 0)
        canvas = max(width, math.ceil(advance))
        mask = Image.new("L", (canvas, self._cell.height), 0)
        draw = ImageDraw.Draw(mask)
        left = (canvas - advance) / 2
        for shift in (0, 1) if smear else (0,):
            draw.text((left + shift, self._cell.baseline), text, font=font, fill=255, anchor="ls")
        if canvas > width:  # wider than its cells (a CJK font's "narrow" glyph): squeeze
            mask = mask.resize((width, self._cell.height), Image.Resampling.LANCZOS)
        return mask

    def _pick(self, char: str, *, bold: bool, wide: bool) -> ImageFont.FreeTypeFont | None:
        """The first font with a glyph for char; wide text tries the CJK font first."""
        mono = self._bold if bold else self._regular
        for font in (self._wide, mono) if wide else (mono, self._wide):
            key = (id(font), char)
            if key not in self._covers:
                self._covers[key] = self._has_glyph(font, char)
            if self._covers[key]:
                return font
        return None

    def _has_glyph(self, font: ImageFont.FreeTypeFont, char: str) -> bool:
        """Whether font draws char as something other than its .notdef glyph."""
        notdef = self._notdef.get(id(font))
        if notdef is None:
            notdef = self._notdef[id(font)] = _Probe.of(font, _MISSING)
        metrics = (font.getbbox(char), font.getlength(char))
        return metrics != notdef.metrics or _Probe.of(font, char).pixels != notdef.pixels


@dataclass(frozen=True, slots=True)
class _Probe:
    metrics: tuple[tuple[float, float, float, float], float]
    pixels: bytes

    @classmethod
    def of(cls, font: ImageFont.FreeTypeFont, text: str) -> _Probe:
        size = math.ceil(font.size) * 3
        image = Image.new("L", (size, size), 0)
        ImageDraw.Draw(image).text((0, 0), text, font=font, fill=255)
        return cls(metrics=(font.getbbox(text), font.getlength(text)), pixels=image.tobytes())


def _draw_shape(text: str, width: int, height: int, light: int) -> Image.Image | None:
    """Draws box drawing, block and braille characters; None for any other text."""
    text = _DRAWN_ALIASES.get(text, text)
    if len(text) != 1:
        return None
    code = ord(text)
    if 0x2500 <= code <= 0x257F:
        return _box(text, width, height, light)
    if code in _BLOCKS or code in _SHADES:
        return _block(code, width, height)
    if 0x2800 <= code <= 0x28FF:
        return _braille(code - 0x2800, width, height)
    return None


def _block(code: int, width: int, height: int) -> Image.Image:
    mask = Image.new("L", (width, height), 0)
    if code in _SHADES:
        mask.paste(_SHADES[code], (0, 0, width, height))
    for left, top, right, bottom in _BLOCKS.get(code, ()):
        box = (round(left * width / 8), round(top * height / 8))
        mask.paste(255, (*box, round(right * width / 8), round(bottom * height / 8)))
    return mask


def _braille(bits: int, width: int, height: int) -> Image.Image:
    scale = _SUPERSAMPLE
    big = Image.new("L", (width * scale, height * scale), 0)
    draw = ImageDraw.Draw(big)
    radius = max(1.0, width * scale * 0.15)
    for bit, (column, row) in enumerate(_BRAILLE_DOTS):
        if bits & (1 << bit):
            x = (column * 2 + 1) * width * scale / 4
            y = (row * 2 + 1) * height * scale / 8
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return big.resize((width, height), Image.Resampling.BOX)


def _box(char: str, width: int, height: int, light: int) -> Image.Image:
    words = unicodedata.name(char).removeprefix("BOX DRAWINGS ").split()
    if "ARC" in words:
        return _arc(char, width, height, light)
    if "DIAGONAL" in words:
        return _diagonal(char, width, height, light)
    mask = Image.new("L", (width, height), 0)
    if "DASH" in words:
        _dashes(mask, words, light)
        return mask
    arms = _arms(" ".join(words))
    for direction in range(4):
        if arms[direction]:
            for left, top, right, bottom in _arm_rects(arms, direction, width, height, light):
                mask.paste(255, (left, top, right, bottom))
    return mask


def _arms(name: str) -> tuple[int, int, int, int]:
    """Weights (0 none, 1 light, 2 heavy, 3 double) of up/right/down/left from a Unicode name.

    A clause ("DOWN LIGHT", "LEFT UP HEAVY") takes the weight it names, or the one before it.
    """
    arms = [0, 0, 0, 0]
    weight = 1
    for clause in name.split(" AND "):
        words = clause.split()
        weight = next((_WEIGHTS[w] for w in words if w in _WEIGHTS), weight)
        for word in words:
            for direction in _DIRECTIONS.get(word, ()):
                arms[direction] = weight
    return arms[0], arms[1], arms[2], arms[3]


def _strokes(weight: int, length: int, light: int) -> list[Interval]:
    """Where across an axis of this length the line(s) of one weight lie, lowest first."""
    centre = (length - light) // 2
    if weight == 3:
        gap = light + 1
        return [(centre - gap, centre - gap + light), (centre + gap, centre + gap + light)]
    thick = 2 * light if weight == 2 else light
    start = (length - thick) // 2
    return [(start, start + thick)]


def _reach(lines: Sequence[Interval], *, forward: bool, near: bool) -> int:
    """Where an arm stops at the centre: at the perpendicular line nearest or farthest from it."""
    line = lines[-1] if near == forward else lines[0]
    return line[0] if forward else line[1]


def _arm_rects(
    arms: tuple[int, int, int, int], direction: int, width: int, height: int, light: int
) -> list[tuple[int, int, int, int]]:
    horizontal = direction in (_LEFT, _RIGHT)
    along, across = (width, height) if horizontal else (height, width)
    side_a, side_b = (_UP, _DOWN) if horizontal else (_LEFT, _RIGHT)
    forward = direction in (_RIGHT, _DOWN)
    perp = {side: _strokes(arms[side], along, light) for side in (side_a, side_b) if arms[side]}
    lines = _strokes(arms[direction], across, light)
    rects = []
    for index, (low, high) in enumerate(lines):
        if len(lines) == 2:  # a double line turns at the perpendicular line on its own side
            side, other = (side_a, side_b) if index == 0 else (side_b, side_a)
            if side in perp:
                stop = _reach(perp[side], forward=forward, near=True)
            else:
                fallback = perp.get(other, _strokes(3, along, light))
                stop = _reach(fallback, forward=forward, near=False)
        elif perp:
            opposite = arms[(direction + 2) % 4]
            crossing = sorted(line for lines_ in perp.values() for line in lines_)
            near = len(perp) == 2 and not opposite  # a T onto a double line meets its near line
            stop = _reach(crossing, forward=forward, near=near)
        else:
            stop = _reach(_strokes(arms[direction], along, light), forward=forward, near=False)
        start, end = (stop, along) if forward else (0, stop)
        rects.append((start, low, end, high) if horizontal else (low, start, high, end))
    return rects


def _dashes(mask: Image.Image, words: Sequence[str], light: int) -> None:
    width, height = mask.size
    count = next(_DASHES[w] for w in words if w in _DASHES)
    thick = 2 * light if "HEAVY" in words else light
    horizontal = "HORIZONTAL" in words
    along, across = (width, height) if horizontal else (height, width)
    low = (across - thick) // 2
    segment = along / count
    for index in range(count):
        start = round(segment * (index + 0.2))
        end = round(segment * (index + 0.8))
        box = (start, low, end, low + thick) if horizontal else (low, start, low + thick, end)
        mask.paste(255, box)


def _arc(char: str, width: int, height: int, light: int) -> Image.Image:
    scale = _SUPERSAMPLE
    big = Image.new("L", (width * scale, height * scale), 0)
    draw = ImageDraw.Draw(big)
    x0, y0 = (width - light) // 2 * scale, (height - light) // 2 * scale
    thick = light * scale
    cx, cy = x0 + thick / 2, y0 + thick / 2
    radius = min(cx, width * scale - cx, cy, height * scale - cy)
    right, down, start = _ARCS[char]
    ox, oy = cx + radius if right else cx - radius, cy + radius if down else cy - radius
    outer = radius + thick / 2  # Pillow draws the stroke inside the box
    bbox = (ox - outer, oy - outer, ox + outer, oy + outer)
    draw.arc(bbox, start, start + 90, fill=255, width=thick)
    # The straight parts from where the arc ends to the cell's edges.
    left, right_end = (round(ox), width * scale) if right else (0, round(ox))
    top, bottom = (round(oy), height * scale) if down else (0, round(oy))
    big.paste(255, (left, y0, max(left, right_end), y0 + thick))
    big.paste(255, (x0, top, x0 + thick, max(top, bottom)))
    return big.resize((width, height), Image.Resampling.BOX)


def _diagonal(char: str, width: int, height: int, light: int) -> Image.Image:
    scale = _SUPERSAMPLE
    big = Image.new("L", (width * scale, height * scale), 0)
    draw = ImageDraw.Draw(big)
    w, h = width * scale, height * scale
    if ord(char) in (0x2571, 0x2573):  # rising
        draw.line((w, 0, 0, h), fill=255, width=light * scale)
    if ord(char) in (0x2572, 0x2573):  # falling
        draw.line((0, 0, w, h), fill=255, width=light * scale)
    return big.resize((width, height), Image.Resampling.BOX)
