"""Card buttons: what a tap sends back, and how a row of them is laid out.

Owns the button element of card JSON 2.0 (a ``callback`` behaviour carrying a small value
object, an optional confirmation the Feishu client asks before sending) and the shape of the
values cclark puts in them (``ClickValue``). Pure; knows nothing of what a tap does (the click
handler) nor of sending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from cclark.cards.elements import Element

__all__ = ["BUTTON_LABEL_CHARS", "ButtonStyle", "ClickKind", "Confirm", "button", "button_row"]

BUTTON_LABEL_CHARS: Final = 40
"""Characters of a button's label; a longer one is cut with an ellipsis (phones are narrow)."""


class ButtonStyle(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


class ClickKind(StrEnum):
    """What a button is about: the ``k`` of its value."""

    PROMPT = "prompt"  # pick option ``n`` of prompt ``p`` on window ``w``
    WIZARD = "wizard"  # answer step ``s`` of #new wizard ``id`` with ``say``
    SESSION = "session"  # ``op`` (switch | close | resume) window ``w``
    KEY = "key"  # ``key`` (esc | ctrl-c | screenshot) on window ``w``
    CONFIRM = "confirm"  # ``op`` (yes | no) to #ask's question ``id``


@dataclass(frozen=True, slots=True, kw_only=True)
class Confirm:
    """The question the Feishu client asks before it sends the tap."""

    title: str
    text: str


def button(
    label: str,
    value: Mapping[str, Any],
    *,
    style: ButtonStyle = ButtonStyle.DEFAULT,
    confirm: Confirm | None = None,
) -> Element:
    """A button that sends ``card.action.trigger`` with value (a JSON object) when tapped."""
    shown = label if len(label) <= BUTTON_LABEL_CHARS else label[: BUTTON_LABEL_CHARS - 1] + "…"
    element: dict[str, Any] = {
        "tag": "button",
        "text": {"tag": "plain_text", "content": shown},
        "type": style.value,
        "behaviors": [{"type": "callback", "value": dict(value)}],
    }
    if confirm is not None:
        element["confirm"] = {
            "title": {"tag": "plain_text", "content": confirm.title},
            "text": {"tag": "plain_text", "content": confirm.text},
        }
    return element


def button_row(buttons: Sequence[Element]) -> Element:
    """Buttons side by side, wrapping onto further lines on a narrow screen."""
    return {
        "tag": "column_set",
        "flex_mode": "flow",
        "horizontal_spacing": "8px",
        "columns": [
            {"tag": "column", "width": "auto", "elements": [b]} for b in buttons
        ],
    }
