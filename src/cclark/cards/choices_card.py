"""The card of a question the bot itself asks (a #new wizard step, the session list, whether
to resume an agent that exited, whether #ask may close a session).

Owns its layout: a header naming the question, the text (which also says what may be typed),
a row of buttons, and once answered the answer in place of the buttons. Pure; the buttons'
values are the caller's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from cclark.cards.buttons import button_row
from cclark.cards.elements import CardJson, Element, HeaderTemplate, card, escape_markdown, markdown

__all__ = ["CONFIRM_TITLE", "ENDED_TITLE", "SESSIONS_TITLE", "WIZARD_TITLE", "choices_card"]

WIZARD_TITLE: Final = "New session"
SESSIONS_TITLE: Final = "Sessions"
ENDED_TITLE: Final = "Session ended"
CONFIRM_TITLE: Final = "Please confirm"


def choices_card(
    *, title: str, text: str, buttons: Sequence[Element], outcome: str | None = None
) -> CardJson:
    """text (shown as written) above the buttons; with outcome, the answer instead of them."""
    elements: list[Element] = [markdown(escape_markdown(text))]
    if outcome is not None:
        elements.append(markdown(f"**→ {escape_markdown(outcome)}**"))
    elif buttons:
        elements.append(button_row(buttons))
    template = HeaderTemplate.GREY if outcome is not None else HeaderTemplate.INDIGO
    return card(title=title, template=template, elements=elements, summary=title)
