"""TapAnswer: what the bot answers a tap on a card button within Feishu's 3 seconds.

Owns the answer's parts (a toast, the card that replaces the one tapped, the slow work to run
afterwards in the chat's order) and their wire form (lark-oapi puts it, base64-encoded, into
the ack). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cclark.cards import CardJson
from cclark.handlers.dispatch import Job

__all__ = ["TapAnswer", "ToastKind", "refused"]


class ToastKind(StrEnum):
    SUCCESS = "success"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True, kw_only=True)
class TapAnswer:
    """The toast the person sees, the card that replaces the tapped one (None: unchanged),
    and the work the tap asked for (None: nothing to do, e.g. a stale or refused tap)."""

    kind: ToastKind
    toast: str
    card: CardJson | None = None
    job: Job | None = None

    def wire(self) -> dict[str, Any]:
        """``{"toast": …, "card": {"type": "raw", "data": …}}`` as the callback returns it."""
        answer: dict[str, Any] = {"toast": {"type": self.kind.value, "content": self.toast}}
        if self.card is not None:
            answer["card"] = {"type": "raw", "data": self.card}
        return answer


def refused(text: str) -> TapAnswer:
    """A tap that changes nothing, with the reason."""
    return TapAnswer(kind=ToastKind.WARNING, toast=text)
