"""PromptCards: the card of each prompt on an agent's screen, and how it was answered.

Owns, per window: the prompt shown (with an id its cards' buttons carry), the outbox key of
its card in each of its chats, and an answer from chat in flight, which the cards show at
once; when the prompt leaves the screen its cards are updated with the choice, or with
"answered in the terminal" when no chat answer was under way, and its id is remembered so a
late tap can be told so. A prompt that comes back identical after it left is a new prompt
with a new card. Knows nothing of
answering itself (the message handler calls answer_prompt) nor of Feishu (cards go through
the Outbox); callers serialise calls per window.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from cclark.cards import answered_prompt_card, prompt_card
from cclark.cards.buttons import ClickKind
from cclark.outbox import Outbox
from unified_icc import ChannelId, PromptInfo, WindowId

__all__ = ["Answer", "PromptCards", "PromptLookup", "PromptState", "same_question"]

logger = logging.getLogger(__name__)

_CLOSED_KEPT: Final = 512  # closed prompts remembered, so a late tap hears what became of them


@dataclass(frozen=True, slots=True)
class Answer:
    choice: int
    by: str


class PromptState(StrEnum):
    OPEN = "open"  # on screen, not answered from chat yet
    ANSWERING = "answering"  # on screen, a chat's answer is under way
    CLOSED = "closed"  # left the screen (answer says whether a chat answered it)
    UNKNOWN = "unknown"  # never shown by this process (a card from before a restart)


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptLookup:
    state: PromptState
    prompt: PromptInfo | None = None
    answer: Answer | None = None


@dataclass(slots=True, kw_only=True)
class _Shown:
    prompt: PromptInfo
    label: str
    prompt_id: str
    cards: dict[ChannelId, str] = field(default_factory=dict)  # chat -> outbox key
    answer: Answer | None = None


class PromptCards:
    def __init__(self, *, outbox: Outbox) -> None:
        self._outbox = outbox
        self._shown: dict[WindowId, _Shown] = {}
        # An answer that overtook its prompt's card (the screen is read before the event is shown).
        self._early: dict[WindowId, tuple[PromptInfo, Answer]] = {}
        self._closed: OrderedDict[str, Answer | None] = OrderedDict()  # prompt id -> answer

    def showing(self, window_id: WindowId) -> PromptInfo | None:
        shown = self._shown.get(window_id)
        return shown.prompt if shown else None

    def lookup(self, window_id: WindowId, prompt_id: str) -> PromptLookup:
        """What became of the prompt a card showed (a tap on one of its buttons asks)."""
        shown = self._shown.get(window_id)
        if shown is not None and shown.prompt_id == prompt_id:
            state = PromptState.ANSWERING if shown.answer else PromptState.OPEN
            return PromptLookup(state=state, prompt=shown.prompt, answer=shown.answer)
        if prompt_id in self._closed:
            return PromptLookup(state=PromptState.CLOSED, answer=self._closed[prompt_id])
        return PromptLookup(state=PromptState.UNKNOWN)

    def show(
        self, window_id: WindowId, channels: Sequence[ChannelId], prompt: PromptInfo, label: str
    ) -> None:
        """Post a card for prompt to each channel, closing the window's previous prompt.

        The same question seen again (the cursor moved) only updates its cards.
        """
        shown = self._shown.get(window_id)
        if shown is not None and same_question(shown.prompt, prompt):
            shown.prompt = prompt
            self._put_cards(window_id, shown)
            return
        self.close(window_id)
        shown = _Shown(prompt=prompt, label=label, prompt_id=secrets.token_hex(8))
        self._shown[window_id] = shown
        early = self._early.pop(window_id, None)
        if early is not None and same_question(early[0], prompt):
            shown.answer = early[1]
        for channel in channels:
            shown.cards[channel] = f"prompt:{shown.prompt_id}:{channel}"
        self._put_cards(window_id, shown)

    def answering(self, window_id: WindowId, prompt: PromptInfo, choice: int, by: str) -> None:
        """A chat is answering prompt with choice (called before the key is sent): its cards
        show the choice at once."""
        shown = self._shown.get(window_id)
        if shown is not None and same_question(shown.prompt, prompt):
            shown.answer = Answer(choice, by)
            self._put_cards(window_id, shown)
        else:
            self._early[window_id] = (prompt, Answer(choice, by))

    def not_answered(self, window_id: WindowId) -> None:
        """The chat's answer failed: its cards ask again, and a later disappearance was the
        terminal's doing."""
        self._early.pop(window_id, None)
        shown = self._shown.get(window_id)
        if shown is not None and shown.answer is not None:
            shown.answer = None
            self._put_cards(window_id, shown)

    def close(self, window_id: WindowId) -> None:
        """The window's prompt left the screen: patch its cards with how it was answered."""
        shown = self._shown.pop(window_id, None)
        if shown is None:
            return
        self._closed[shown.prompt_id] = shown.answer
        while len(self._closed) > _CLOSED_KEPT:
            self._closed.popitem(last=False)
        card = _answered(shown)
        for channel, key in shown.cards.items():
            self._outbox.put_card(key, channel, card)
            self._outbox.release(key)

    def card_for(self, window_id: WindowId, channel: ChannelId) -> dict[str, Any] | None:
        """The card the chat's prompt card of this window should show now, if it has one."""
        shown = self._shown.get(window_id)
        if shown is None or channel not in shown.cards:
            return None
        return _current(window_id, shown, channel)

    def _put_cards(self, window_id: WindowId, shown: _Shown) -> None:
        for channel, key in shown.cards.items():
            self._outbox.put_card(key, channel, _current(window_id, shown, channel))


def _current(window_id: WindowId, shown: _Shown, channel: ChannelId) -> dict[str, Any]:
    """The open card (with a button per option) or, once a chat answered, the answered one."""
    if shown.answer is not None:
        return _answered(shown)
    click = {"k": ClickKind.PROMPT.value, "c": channel, "w": window_id, "p": shown.prompt_id}
    return prompt_card(shown.prompt, window_label=shown.label, click=click)


def _answered(shown: _Shown) -> dict[str, Any]:
    answer = shown.answer
    return answered_prompt_card(
        shown.prompt,
        choice=answer.choice if answer else None,
        by=answer.by if answer else "",
        window_label=shown.label,
    )


def same_question(a: PromptInfo, b: PromptInfo) -> bool:
    """Whether two looks at a screen show one prompt: moving the cursor over its options, or
    a redraw, is not a new question."""
    return (a.kind, a.title, a.body, [(o.number, o.label) for o in a.options]) == (
        b.kind, b.title, b.body, [(o.number, o.label) for o in b.options]
    )  # fmt: skip
