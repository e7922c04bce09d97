"""PromptCards: the card of each prompt on an agent's screen, and how it was answered.

Owns, per window: the prompt shown, the outbox key of its card in each of its chats, and an
answer from chat in flight; when the prompt leaves the screen its cards are updated with the
choice, or with "answered in the terminal" when no chat answer was under way. A prompt that
comes back identical after it left is a new prompt with a new card. Knows nothing of
answering itself (the message handler calls answer_prompt) nor of Feishu (cards go through
the Outbox); callers serialise calls per window.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from cclark.cards import answered_prompt_card, prompt_card
from cclark.outbox import Outbox
from unified_icc import ChannelId, PromptInfo, WindowId

__all__ = ["PromptCards", "same_question"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Answer:
    choice: int
    by: str


@dataclass(slots=True, kw_only=True)
class _Shown:
    prompt: PromptInfo
    label: str
    cards: dict[ChannelId, str] = field(default_factory=dict)  # chat -> outbox key
    answer: _Answer | None = None


class PromptCards:
    def __init__(self, *, outbox: Outbox) -> None:
        self._outbox = outbox
        self._shown: dict[WindowId, _Shown] = {}
        # An answer that overtook its prompt's card (the screen is read before the event is shown).
        self._early: dict[WindowId, tuple[PromptInfo, _Answer]] = {}

    def showing(self, window_id: WindowId) -> PromptInfo | None:
        shown = self._shown.get(window_id)
        return shown.prompt if shown else None

    def show(
        self, window_id: WindowId, channels: Sequence[ChannelId], prompt: PromptInfo, label: str
    ) -> None:
        """Post a card for prompt to each channel, closing the window's previous prompt.

        The same question seen again (the cursor moved) only updates its cards.
        """
        shown = self._shown.get(window_id)
        if shown is not None and same_question(shown.prompt, prompt):
            shown.prompt = prompt
            moved = prompt_card(prompt, window_label=shown.label)
            for channel, key in shown.cards.items():
                self._outbox.put_card(key, channel, moved)
            return
        self.close(window_id)
        shown = self._shown[window_id] = _Shown(prompt=prompt, label=label)
        early = self._early.pop(window_id, None)
        if early is not None and same_question(early[0], prompt):
            shown.answer = early[1]
        card, prompt_id = prompt_card(prompt, window_label=label), secrets.token_hex(8)
        for channel in channels:
            key = shown.cards[channel] = f"prompt:{prompt_id}:{channel}"
            self._outbox.put_card(key, channel, card)

    def answering(self, window_id: WindowId, prompt: PromptInfo, choice: int, by: str) -> None:
        """A chat is answering prompt with choice (called before the key is sent)."""
        shown = self._shown.get(window_id)
        if shown is not None and same_question(shown.prompt, prompt):
            shown.answer = _Answer(choice, by)
        else:
            self._early[window_id] = (prompt, _Answer(choice, by))

    def not_answered(self, window_id: WindowId) -> None:
        """The chat's answer failed: a later disappearance was the terminal's doing."""
        self._early.pop(window_id, None)
        shown = self._shown.get(window_id)
        if shown is not None:
            shown.answer = None

    def close(self, window_id: WindowId) -> None:
        """The window's prompt left the screen: patch its cards with how it was answered."""
        shown = self._shown.pop(window_id, None)
        if shown is None:
            return
        answer = shown.answer
        card = answered_prompt_card(
            shown.prompt,
            choice=answer.choice if answer else None,
            by=answer.by if answer else "",
            window_label=shown.label,
        )
        for channel, key in shown.cards.items():
            self._outbox.put_card(key, channel, card)
            self._outbox.release(key)


def same_question(a: PromptInfo, b: PromptInfo) -> bool:
    """Whether two looks at a screen show one prompt: moving the cursor over its options, or
    a redraw, is not a new question."""
    return (a.kind, a.title, a.body, [(o.number, o.label) for o in a.options]) == (
        b.kind, b.title, b.body, [(o.number, o.label) for o in b.options]
    )  # fmt: skip
