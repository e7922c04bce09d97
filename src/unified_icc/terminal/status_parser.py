"""Pane text → what the agent is doing: idle, working, or asking a numbered-choice question.

Owns reading a `tmux capture-pane -p` text with the tables of prompt_patterns; pure and
I/O-free. Does not know tmux, windows or events delivery, and never says DEAD (tmux does).

Only the bottom of the screen decides. An agent CLI either shows its input box (idle, or
working when its busy marker shows) or replaces it with a panel of numbered options. Old
panels and text in the scrollback above the input box are history and are ignored.

How a panel becomes a PromptInfo (the same rule for every CLI and kind):
- ``title``: the panel's first line of text (for Claude "Bash command", "Create file",
  "Accessing workspace:"; for Codex its question; for Gemini the tool-call header without
  its status glyph, or the trust question). The question a permission panel asks stays in
  the body, since it is part of what the user reads.
- ``body``: the panel's lines between the title and the first option, box borders and
  rules removed, common indentation removed, runs of blank lines collapsed to one.
- ``options``: every numbered line, its label verbatim after "N. " (key hints such as
  "(y)", "(esc)" or "(shift+tab)" are kept); ``selected`` where the CLI draws its cursor.
  A description or wrapped line under an option is not part of its label (it is in ``raw``).
- ``raw``: the panel's screen lines, from its first line (or its box's top border) to its
  key hint (or bottom border), with trailing spaces removed.
- ``kind``: from the CLI's known wordings; any other panel is ``other``, never a guess.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from unified_icc.errors import UnknownProviderError
from unified_icc.events import AgentStatus, PromptInfo, PromptKind, PromptOption
from unified_icc.terminal.prompt_patterns import (
    BLANK_RUN_ENDS_PANEL,
    MAX_OPTION_GAP,
    PANEL_TAIL,
    PROVIDERS,
    SCREEN_PATTERNS,
    SEPARATOR_LINE,
    SHELL,
    ScreenPatterns,
)

__all__ = ["ScreenStatus", "parse_screen"]

_LEFT_BORDERS = re.compile(r"^(?:\s*│)+")
# Lines above and below the input line where a CLI shows its permission mode.
_MODE_REACH = 3
_INPUT_GLYPH = re.compile(r"^\s*[\u276f\u203a>*][ \u00a0]?")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreenStatus:
    """What one screen says: IDLE, WORKING or PROMPT, with the prompt exactly when PROMPT.

    input_text is the first line of what the input box shows after its prompt glyph ("" when
    it is empty or not on screen). A CLI may show a grey suggestion there (Codex, Gemini): the
    text alone cannot tell that from typed text, so compare it with what you typed.
    """

    status: AgentStatus
    prompt: PromptInfo | None
    input_text: str = ""
    # The permission mode shown by the input box ("normal", "yolo", ...); None when the CLI
    # shows none or its input box is not on screen.
    mode: str | None = None

    def __post_init__(self) -> None:
        if self.status is AgentStatus.DEAD:
            raise ValueError("a screen never says DEAD: tmux reports a dead pane")
        if (self.status is AgentStatus.PROMPT) != (self.prompt is not None):
            raise ValueError("prompt must be set exactly when status is PROMPT")


@dataclass(frozen=True, slots=True, kw_only=True)
class _OptionBlock:
    first: int
    last: int
    options: tuple[PromptOption, ...]


def parse_screen(provider: str, screen: str) -> ScreenStatus:
    """Read one pane capture of `provider`'s CLI.

    A panel of numbered options with no input box under it is a PROMPT. Otherwise the input
    box decides: WORKING while the CLI's busy marker shows, IDLE without it. A screen with
    neither (blank, starting up, mid-redraw) is WORKING: it is not ready for input.
    A "shell" has no TUI and is always IDLE.
    Raises: UnknownProviderError (a ValueError) for a provider not in PROVIDERS.
    """
    if provider == SHELL:
        return ScreenStatus(status=AgentStatus.IDLE, prompt=None)
    patterns = SCREEN_PATTERNS.get(provider)
    if patterns is None:
        raise UnknownProviderError(
            f"no screen patterns for provider {provider!r}; valid: {', '.join(PROVIDERS)}",
            provider=provider,
        )
    raw = _screen_lines(screen)
    flat = [_unframe(line) for line in raw]
    prompt = _find_prompt(raw, flat, patterns)
    if prompt is not None:
        return ScreenStatus(status=AgentStatus.PROMPT, prompt=prompt)
    index = _input_line_index(raw, patterns, start=0)
    typed = "" if index is None else _INPUT_GLYPH.sub("", raw[index], count=1).strip()
    status = _input_status(raw, patterns)
    mode = None if index is None else _shown_mode(raw, index, patterns)
    if mode is None and index is not None and status is AgentStatus.IDLE:
        mode = patterns.unmarked_mode
    return ScreenStatus(status=status, prompt=None, input_text=typed, mode=mode)


def _shown_mode(raw: list[str], index: int, patterns: ScreenPatterns) -> str | None:
    """The mode named in the few lines around the input line (Gemini above, Claude below)."""
    near = [line.strip() for line in raw[max(0, index - _MODE_REACH) : index + _MODE_REACH + 1]]
    for name, pattern in patterns.modes:
        if any(pattern.search(line) for line in near):
            return name
    return None


def _screen_lines(screen: str) -> list[str]:
    # Not splitlines(): it also splits at characters a pane can show (U+0085, U+2028, ...).
    lines = [line.rstrip() for line in screen.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _unframe(line: str) -> str:
    """The line with box side borders blanked, columns kept, so content can be matched."""
    text = line.rstrip()
    while text.endswith("│"):
        text = text[:-1].rstrip()
    borders = _LEFT_BORDERS.match(text)
    if borders is not None:
        text = " " * borders.end() + text[borders.end() :]
    return text.rstrip()


def _find_prompt(raw: list[str], flat: list[str], patterns: ScreenPatterns) -> PromptInfo | None:
    block = _find_option_block(flat, patterns)
    if block is None:
        return None
    # An input box drawn below the options means the panel is gone: it is scrollback.
    if _input_line_index(raw, patterns, start=block.first) is not None:
        return None
    bottom, hinted = _panel_bottom(raw, flat, block.last, patterns)
    # A numbered list in the agent's answer has neither a cursor nor a key hint.
    if not hinted and not any(option.selected for option in block.options):
        return None
    top = _panel_top(raw, block.first, patterns)
    title_index = _title_index(flat, top, block.first)
    title, body = "", ""
    if title_index is not None:
        title = _title(flat[title_index], patterns)
        body = _body(flat[title_index + 1 : block.first])
    return PromptInfo(
        kind=_kind([line.strip() for line in flat[top : bottom + 1]], patterns),
        title=title,
        body=body,
        options=block.options,
        raw=_trimmed_text(raw[top : bottom + 1]),
    )


def _find_option_block(flat: list[str], patterns: ScreenPatterns) -> _OptionBlock | None:
    """The last run of numbered lines counting 1, 2, ... n, read upwards from the bottom."""
    found = [(i, m) for i, line in enumerate(flat) if (m := patterns.option_line.match(line))]
    if not found:
        return None
    chain = [found[-1]]
    for index, match in reversed(found[:-1]):
        previous_index, previous = chain[-1]
        if int(previous["number"]) == 1:
            break
        too_far = previous_index - index - 1 > MAX_OPTION_GAP
        if too_far or int(match["number"]) != int(previous["number"]) - 1:
            return None
        chain.append((index, match))
    if len(chain) < 2 or int(chain[-1][1]["number"]) != 1:
        return None
    chain.reverse()
    options = tuple(
        PromptOption(number=int(m["number"]), label=m["label"], selected=m["cursor"] is not None)
        for _, m in chain
    )
    return _OptionBlock(first=chain[0][0], last=chain[-1][0], options=options)


def _input_line_index(raw: list[str], patterns: ScreenPatterns, *, start: int) -> int | None:
    """The last line at or after `start` that is the CLI's input line, if any."""
    for index in range(len(raw) - 1, start - 1, -1):
        if not patterns.input_line.match(raw[index]):
            continue
        if patterns.input_rule is None or _rule_above(raw, index, patterns.input_rule):
            return index
    return None


def _rule_above(raw: list[str], index: int, rule: re.Pattern[str]) -> bool:
    for line in reversed(raw[:index]):
        if line.strip():
            return rule.match(line.strip()) is not None
    return False


def _panel_bottom(
    raw: list[str], flat: list[str], last_option: int, patterns: ScreenPatterns
) -> tuple[int, bool]:
    """The panel's last line (its hint or bottom border) and whether a key hint was seen.

    A panel sits at the bottom of the screen, so the few lines under its options are its own.
    """
    bottom, hinted = last_option, False
    for index in range(last_option + 1, min(len(raw), last_option + 1 + PANEL_TAIL)):
        if raw[index].strip():
            bottom = index
        hinted = hinted or patterns.panel_hint.search(flat[index]) is not None
        if patterns.panel_bottom is not None and patterns.panel_bottom.match(raw[index].strip()):
            break
    return bottom, hinted


def _panel_top(raw: list[str], first_option: int, patterns: ScreenPatterns) -> int:
    """The panel's first line, found by reading upwards from its first option.

    That is its heading, the line under its separator, its top border, or the line after a
    gap of blank lines; the top of the screen when there is none of these.
    """
    blank_run = 0
    for index in range(first_option - 1, -1, -1):
        text = raw[index].strip()
        if patterns.panel_heading is not None and patterns.panel_heading.match(text):
            return index
        if patterns.panel_top.match(text):
            return index if patterns.panel_top_in_panel else index + 1
        blank_run = 0 if text else blank_run + 1
        if blank_run >= BLANK_RUN_ENDS_PANEL:
            return index + blank_run
    return 0


def _title_index(flat: list[str], top: int, first_option: int) -> int | None:
    for index in range(top, first_option):
        text = flat[index].strip()
        if text and not SEPARATOR_LINE.match(text):
            return index
    return None


def _title(line: str, patterns: ScreenPatterns) -> str:
    text = line.strip()
    if patterns.heading_glyph is not None:
        text = patterns.heading_glyph.sub("", text, count=1)
    return text


def _body(lines: Sequence[str]) -> str:
    kept: list[str] = []
    for line in lines:
        if line.strip() and SEPARATOR_LINE.match(line):
            continue
        if not line.strip() and (not kept or not kept[-1]):
            continue
        kept.append(line if line.strip() else "")
    return textwrap.dedent("\n".join(kept)).strip("\n")


def _kind(lines: list[str], patterns: ScreenPatterns) -> PromptKind:
    for rule in patterns.rules:
        if all(any(p.search(line) for line in lines) for p in rule.patterns):
            return rule.kind
    return PromptKind.OTHER


def _trimmed_text(lines: list[str]) -> str:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[start:end])


def _input_status(raw: list[str], patterns: ScreenPatterns) -> AgentStatus:
    index = _input_line_index(raw, patterns, start=0)
    if index is None:
        return AgentStatus.WORKING
    zone = _busy_zone(raw, index, patterns)
    if any(patterns.busy.search(line) for line in zone):
        return AgentStatus.WORKING
    return AgentStatus.IDLE


def _busy_zone(raw: list[str], input_index: int, patterns: ScreenPatterns) -> list[str]:
    """Where the busy marker may be: the footer under the input box and a few lines above."""
    below_from = input_index + 1
    if patterns.input_rule is not None:
        # Skip the input box itself (typed text may say anything) up to its closing rule.
        for index in range(input_index + 1, len(raw)):
            if patterns.input_rule.match(raw[index].strip()):
                below_from = index + 1
                break
    above = [line for line in raw[:input_index] if line.strip()]
    nearest_above = above[max(0, len(above) - patterns.busy_lines_above_input) :]
    return nearest_above + raw[below_from:]
