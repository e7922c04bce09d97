"""The options of ``#new``: ``--idle N`` and ``--timeout N`` before the text to send.

Owns reading them (``--idle 10m``, ``--timeout=90``; a duration is seconds or a number with
s, m, h or d; 0 or off turns the limit off), the refusals that say what to send instead, and
saying a session's limits back (limits_line). Pure: no I/O, knows nothing of windows or Feishu.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from cclark.handlers.user_input import quoted
from unified_icc import describe_seconds

__all__ = ["MAX_LIMIT", "NewOptions", "limits_line", "parse_new_options"]

MAX_LIMIT: Final = 30 * 86400.0
"""The longest limit either option takes, in seconds (30 days)."""

_UNITS: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION: Final = re.compile(r"(\d{1,7})([smhd]?)")
_OPTION: Final = re.compile(r"--([A-Za-z-]+)(?:=(\S*))?")
USAGE: Final = ("Send #new [--idle N] [--timeout N] [text]: N in seconds or with a unit "
                "(90, 10m, 2h, 1d); 0 or off for no limit.")  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOptions:
    """What ``#new`` was asked for: the limits in seconds (None: the config's; 0: none) and
    the text to send to the agent once it runs."""

    idle: float | None = None
    timeout: float | None = None
    text: str = ""


def parse_new_options(argument: str) -> NewOptions | str:
    """The options at the start of ``argument`` and the text after them; or why not."""
    rest = argument.strip()
    found: dict[str, float] = {}
    while rest.startswith("--"):
        word, rest = _first_word(rest)
        match = _OPTION.fullmatch(word)
        name = match.group(1).lower() if match else ""
        if match is None or name not in ("idle", "timeout"):
            return f"Unknown option {quoted(word, limit=20)}. {USAGE}"
        if name in found:
            return f"--{name} is given twice. {USAGE}"
        value = match.group(2)
        if value is None:  # "--idle 10m": the value is the next word
            if not rest:
                return f"--{name} needs a duration. {USAGE}"
            value, rest = _first_word(rest)
        seconds = _seconds(value)
        if isinstance(seconds, str):
            return f"--{name} {quoted(value, limit=20)}: {seconds}. {USAGE}"
        found[name] = seconds
    return NewOptions(idle=found.get("idle"), timeout=found.get("timeout"), text=rest)


def _first_word(text: str) -> tuple[str, str]:
    """The first word of text and the rest (its own spacing and lines kept)."""
    parts = text.split(maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def _seconds(value: str) -> float | str:
    """A duration in seconds, or what is wrong with it."""
    lowered = value.strip().lower()
    if lowered in ("0", "off", "none"):
        return 0.0
    match = _DURATION.fullmatch(lowered)
    if match is None:
        return "not a duration"
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_LIMIT:
        return "longer than 30 days"
    return float(seconds)


def limits_line(limits: tuple[float | None, float | None]) -> str:
    """A session's limits as one sentence: when it sleeps, when a turn is stopped."""
    idle, turn = limits
    sleep = (f"Sleeps after {describe_seconds(idle)} idle (your next message wakes it)"
             if idle else "Never sleeps")  # fmt: skip
    stop = f"a turn is stopped after {describe_seconds(turn)}" if turn else "no turn time limit"
    return f"{sleep}; {stop}."
