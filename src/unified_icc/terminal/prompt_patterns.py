"""What each agent CLI's screen looks like: the data the status parser reads, per CLI and version.

Owns the markers (input line, busy signal, option lines, panel edges, hints) and the wordings
that name a prompt's kind. Holds no logic and knows nothing of tmux: status_parser applies it.
Wordings come from real captures (tests/fixtures/screens/<cli>/<version>/); a wording not seen
there is marked as such. Change a table when a pinned CLI version changes its screen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from unified_icc.events import PromptKind

__all__ = [
    "BLANK_RUN_ENDS_PANEL",
    "CLAUDE",
    "CODEX",
    "GEMINI",
    "MAX_OPTION_GAP",
    "PANEL_TAIL",
    "PROVIDERS",
    "SCREEN_PATTERNS",
    "SEPARATOR_LINE",
    "SHELL",
    "PanelRule",
    "ScreenPatterns",
    "captured_version",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PanelRule:
    """A panel wording we recognise: it is `kind` when every pattern matches some panel line.

    Patterns are searched in the panel's lines with box borders removed and ends stripped.
    """

    kind: PromptKind
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreenPatterns:
    """How one CLI draws its input box, its busy signal and its numbered-choice panels."""

    version: str
    # The line the user types into. The CLI draws its history's user lines the same way, so
    # the input line is the last such line (and, with input_rule, the one framed by rules).
    input_line: re.Pattern[str]
    # Claude frames its input box with rules; a user line in the history has none above it.
    input_rule: re.Pattern[str] | None
    busy: re.Pattern[str]
    # Non-blank lines above the input line where the busy marker may sit (Codex and Gemini
    # draw their spinner above the input; Claude writes its busy hint in the footer below).
    busy_lines_above_input: int
    # Groups: cursor (the selection glyph, empty when not selected), number, label.
    option_line: re.Pattern[str]
    # A key hint under a panel's options: with it, options without a cursor are a panel too.
    panel_hint: re.Pattern[str]
    # A line that always starts a panel (matched stripped), when the CLI has one.
    panel_heading: re.Pattern[str] | None
    # A line that bounds a panel from above, matched against the stripped screen line.
    panel_top: re.Pattern[str]
    # Whether that line is the panel's own frame (Gemini's box) or a separator above it.
    panel_top_in_panel: bool
    panel_bottom: re.Pattern[str] | None
    # A status glyph the CLI puts before a panel's heading, not part of the title.
    heading_glyph: re.Pattern[str] | None
    rules: tuple[PanelRule, ...]
    # The permission mode the CLI shows near its input box: (mode name, pattern) in the order
    # tried, matched against the stripped lines around the input line; a CLI that shows no
    # mode (Codex) has none. Names are the gateway's modes, plus ones it cannot launch.
    modes: tuple[tuple[str, re.Pattern[str]], ...] = ()
    # The mode of an idle screen that names none (its footer busy with a tip or a hint).
    unmarked_mode: str | None = None


# A panel's options may be separated by description lines or a separator; never by more.
MAX_OPTION_GAP = 4
# Lines under the last option that may still belong to the panel (its hint or bottom border).
PANEL_TAIL = 4
# Without a frame or separator, a run of this many blank lines ends a panel upwards.
BLANK_RUN_ENDS_PANEL = 3
# Rules, dashed rules and box corners: layout, not content, so never part of a title or body.
SEPARATOR_LINE = re.compile(r"^[─━═╌┄╭╮╰╯┌┐└┘\s]*[─━═╌┄][─━═╌┄╭╮╰╯┌┐└┘\s]*$")

SHELL = "shell"

CLAUDE = ScreenPatterns(
    version="2.1.197",
    # Glyphs that look like ">" are written as code points: U+276F is Claude's prompt and
    # cursor. The empty input line is U+276F + NBSP (U+00A0); typed text follows the NBSP.
    input_line=re.compile(r"^\u276f(?:[ \u00a0].*)?$"),
    input_rule=re.compile(r"^─{3,}$"),
    # Not the spinner glyph: "✻ Cogitated for 4s" is a finished turn with the same glyph.
    busy=re.compile(r"\besc to interrupt\b"),
    busy_lines_above_input=0,
    option_line=re.compile(
        r"^\s*(?:(?P<cursor>\u276f)\s+)?(?P<number>\d+)\.\s+(?P<label>\S.*?)\s*$"
    ),
    panel_hint=re.compile(r"\b(?:Esc to cancel|Enter to confirm|Enter to select)\b"),
    panel_heading=None,
    panel_top=re.compile(r"^─{3,}$"),
    panel_top_in_panel=False,
    panel_bottom=None,
    # AskUserQuestion heads its question with a checkbox chip (not seen in a capture).
    heading_glyph=re.compile(r"^[☐☒✔]\s+"),
    rules=(
        PanelRule(
            kind=PromptKind.TRUST,
            patterns=(
                re.compile(r"^Accessing workspace:$"),
                re.compile(r"\d+\.\s+Yes, I trust this folder$"),
            ),
        ),
        # Plan approval and AskUserQuestion were not captured: written from the CLI's known
        # wording, and each needs a marker beyond its question so a lookalike stays "other".
        PanelRule(
            kind=PromptKind.PLAN,
            patterns=(
                re.compile(r"^Would you like to proceed\?$"),
                re.compile(
                    r"\d+\.\s+(?:Yes, .*(?:auto-accept|manually approve) edits|No, keep planning)\b"
                ),
            ),
        ),
        PanelRule(
            kind=PromptKind.QUESTION,
            patterns=(re.compile(r"^Enter to select · .*\bto navigate\b.*\bEsc to cancel$"),),
        ),
        PanelRule(
            kind=PromptKind.PERMISSION,
            patterns=(re.compile(r"^Do you want to proceed\?$"),),
        ),
        PanelRule(
            kind=PromptKind.PERMISSION,
            patterns=(re.compile(r"^Do you want to create .+\?$"),),
        ),
        PanelRule(
            kind=PromptKind.PERMISSION,
            patterns=(re.compile(r"^Do you want to make this edit to .+\?$"),),
        ),
    ),
    # The footer under the input box; Shift-Tab cycles default, accept edits, plan and auto.
    modes=(
        ("yolo", re.compile(r"^⏵⏵ bypass permissions on\b")),
        ("accept-edits", re.compile(r"^⏵⏵ accept edits on\b")),
        ("plan", re.compile(r"^⏸ plan mode on\b")),
        ("auto", re.compile(r"^⏵⏵ auto mode on\b")),
        ("normal", re.compile(r"^\? for shortcuts\b")),
    ),
    unmarked_mode="normal",
)

CODEX = ScreenPatterns(
    version="0.169.0",
    # U+203A is both the composer's prompt and the option cursor: a line starting with it and
    # a number ("1. Yes, proceed (y)") is the selected option, not the composer.
    input_line=re.compile(r"^\u203a(?:[ \u00a0](?!\d+\.\s).*)?$"),
    input_rule=None,
    busy=re.compile(r"\besc to interrupt\)"),
    busy_lines_above_input=1,
    option_line=re.compile(
        r"^(?:(?P<cursor>\u203a)\s+|\s*)(?P<number>\d+)\.\s+(?P<label>\S.*?)\s*$"
    ),
    panel_hint=re.compile(r"\bPress enter to confirm\b|\besc to cancel$"),
    # The approval panel opens with its question (seen: "... run the following command?";
    # other approvals are assumed to open alike). History cells start with a bullet, which
    # bounds a panel that opens otherwise.
    panel_heading=re.compile(r"^Would you like to .+\?$"),
    panel_top=re.compile(r"^[•✔✗■⚠\u203a◦]\s"),
    panel_top_in_panel=False,
    panel_bottom=None,
    heading_glyph=None,
    rules=(
        PanelRule(
            kind=PromptKind.PERMISSION,
            patterns=(re.compile(r"^Would you like to run the following command\?$"),),
        ),
    ),
)

GEMINI = ScreenPatterns(
    version="0.61.0",
    # ">" in every mode but YOLO, which draws "*".
    input_line=re.compile(r"^ ?[>*] "),
    input_rule=None,
    busy=re.compile(r"\(esc to cancel, "),
    busy_lines_above_input=4,
    option_line=re.compile(r"^\s*(?:(?P<cursor>●)\s+)?(?P<number>\d+)\.\s+(?P<label>\S.*?)\s*$"),
    panel_hint=re.compile(r"\bEnter to confirm\b|\bEsc to cancel\b"),
    panel_heading=None,
    panel_top=re.compile(r"^╭"),
    panel_top_in_panel=True,
    panel_bottom=re.compile(r"^╰"),
    # The tool-call header starts with its status: "?" means awaiting confirmation.
    heading_glyph=re.compile(r"^\?\s+"),
    rules=(
        PanelRule(
            kind=PromptKind.TRUST,
            patterns=(re.compile(r"^Do you trust the files in this folder\?$"),),
        ),
        PanelRule(kind=PromptKind.PERMISSION, patterns=(re.compile(r"^Allow execution of .+\?$"),)),
        # A spent quota (the API's 429 with a daily QuotaFailure): keep trying, or stop.
        PanelRule(
            kind=PromptKind.LIMIT,
            patterns=(
                re.compile(r"^Usage limit reached for .+\.$"),
                re.compile(r"\d+\.\s+Keep trying$"),
            ),
        ),
    ),
    # The line above the input box; Shift-Tab cycles manual, auto-accept edits and plan,
    # Ctrl-Y toggles YOLO.
    modes=(
        ("yolo", re.compile(r"^YOLO\b.*Ctrl\+Y")),
        ("accept-edits", re.compile(r"^auto-accept edits\b")),
        ("plan", re.compile(r"^plan Shift\+Tab\b")),
        ("normal", re.compile(r"^Shift\+Tab to accept edits$")),
    ),
    unmarked_mode="normal",
)

SCREEN_PATTERNS: Mapping[str, ScreenPatterns] = MappingProxyType(
    {"claude": CLAUDE, "codex": CODEX, "gemini": GEMINI}
)
PROVIDERS: tuple[str, ...] = (*SCREEN_PATTERNS, SHELL)


def captured_version(provider: str) -> str | None:
    """The CLI version provider's screen patterns were captured from (None: no patterns)."""
    patterns = SCREEN_PATTERNS.get(provider)
    return patterns.version if patterns is not None else None
