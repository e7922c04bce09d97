"""Key names and the plan for typing text into a TUI.

Owns which keys may be sent and how text is delivered (literal keystrokes or a bracketed
paste); pure, no tmux calls.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from enum import StrEnum

from unified_icc.errors import InputRejectedError

__all__ = ["KEY_NAMES", "DeliveryMethod", "TextDelivery", "normalise_key", "plan_text"]

# Text up to this long on one line is typed key by key; longer or multi-line text is pasted,
# which TUIs treat as one unit (and which stays fast for 20 000 characters).
LITERAL_MAX_CHARS = 200

_NAMED = (
    "Enter",
    "Escape",
    "Tab",
    "BTab",
    "Space",
    "BSpace",
    "Up",
    "Down",
    "Left",
    "Right",
    "Home",
    "End",
    "PageUp",
    "PageDown",
)
_ALIASES = {
    "return": "Enter",
    "esc": "Escape",
    "shift-tab": "BTab",
    "backspace": "BSpace",
    "pgup": "PageUp",
    "pgdn": "PageDown",
}
KEY_NAMES: frozenset[str] = frozenset(
    (*_NAMED, *(f"C-{c}" for c in string.ascii_lowercase))
)
_CTRL = re.compile(r"(?:c|ctrl)[-+]([a-z])", re.IGNORECASE)
# Control characters other than tab and newline would act as keys (ESC, ^C) inside the TUI.
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Half of a UTF-16 pair on its own: not a character, and tmux cannot be sent it.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


class DeliveryMethod(StrEnum):
    LITERAL = "literal"
    PASTE = "paste"


@dataclass(frozen=True, slots=True, kw_only=True)
class TextDelivery:
    method: DeliveryMethod
    text: str


def normalise_key(name: str) -> tuple[str, bool]:
    """Return (tmux key, literal) for a key name; literal keys are sent with ``send-keys -l``.

    Accepts tmux names (``Enter``, ``Escape``, ``Up``, ``C-c``), common aliases (``esc``,
    ``ctrl-c``) and one printable character (a digit or letter answering a prompt).

    Raises:
        InputRejectedError: the name is not a key we send, listing the valid ones.
    """
    stripped = name.strip()
    if len(stripped) == 1 and stripped.isprintable():
        return stripped, True
    for known in KEY_NAMES:
        if known.lower() == stripped.lower():
            return known, False
    if stripped.lower() in _ALIASES:
        return _ALIASES[stripped.lower()], False
    ctrl = _CTRL.fullmatch(stripped)
    if ctrl:
        return f"C-{ctrl.group(1).lower()}", False
    valid = ", ".join(_NAMED)
    raise InputRejectedError(
        f"unknown key {name!r}: send one of {valid}, C-a … C-z, or a single character"
    )


def plan_text(text: str, *, max_chars: int) -> TextDelivery:
    """Decide how to deliver ``text`` literally.

    Raises:
        InputRejectedError: empty text, text over ``max_chars``, or control characters.
    """
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    if not normalised.strip():
        raise InputRejectedError("the text is empty: send some words for the agent")
    if len(normalised) > max_chars:
        raise InputRejectedError(
            f"the text has {len(normalised)} characters; the limit is {max_chars}: "
            "split it into several messages"
        )
    bad = _FORBIDDEN_CONTROL.search(normalised)
    if bad:
        raise InputRejectedError(
            f"the text contains the control character U+{ord(bad.group()):04X}; "
            "send plain text (use send_key for keys such as Escape or C-c)"
        )
    if _LONE_SURROGATE.search(normalised):
        raise InputRejectedError("the text is not valid Unicode (it holds a lone surrogate)")
    if "\n" in normalised or len(normalised) > LITERAL_MAX_CHARS:
        return TextDelivery(method=DeliveryMethod.PASTE, text=normalised)
    return TextDelivery(method=DeliveryMethod.LITERAL, text=normalised)
