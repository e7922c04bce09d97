"""TurnCards: one growing card (or more) per agent turn and chat, and the turn's end.

Owns, per (window, channel): the turn now shown, the message ids of its cards, whether the
phone was already told the turn ended, and the rule that the person's own words in the
transcript start a new turn. New cards are sent at once (their id is needed); changes to sent
cards go through the CardUpdater, so they are coalesced. Knows nothing of the gateway, prompts
or Feishu beyond the CardOutput protocol; callers serialise calls per window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, Protocol

from cclark.cards import CardJson, CardUpdater, TurnCard, TurnState
from cclark.errors import CclarkError
from unified_icc import AgentMessage, ChannelId, MessageKind, MessageRole, WindowId

__all__ = ["CardOutput", "TurnCards", "TurnKey", "done_notice"]

logger = logging.getLogger(__name__)

TurnKey = tuple[WindowId, ChannelId]

NOTICE_PREVIEW_CHARS: Final = 160
"""Characters of the turn's last reply quoted in the "done" message (the phone's preview)."""


class CardOutput(Protocol):
    async def send_card(self, channel_id: ChannelId, card: CardJson) -> str: ...

    async def send_text(self, channel_id: ChannelId, text: str) -> tuple[str, ...]: ...


@dataclass(slots=True, kw_only=True)
class _Turn:
    card: TurnCard
    message_ids: list[str] = field(default_factory=list)
    last_reply: str = ""
    shown: bool = False  # has content worth a card
    notified: bool = False  # the phone was told this turn ended


class TurnCards:
    """The turn cards of every (window, channel) pair."""

    def __init__(
        self,
        *,
        output: CardOutput,
        updater: CardUpdater,
        verbose: Callable[[ChannelId], bool],
    ) -> None:
        self._output = output
        self._updater = updater
        self._verbose = verbose
        self._turns: dict[TurnKey, _Turn] = {}

    async def add(
        self, key: TurnKey, title: str, messages: Sequence[AgentMessage], *, turn_over: bool
    ) -> None:
        """Append a batch of the window's transcript; the person's words start a new turn.

        turn_over: the agent's turn had ended when the batch came. A finished turn that gets
        more output is reopened unless it is over (then the output is late, shown in place).
        """
        turn = self._turns.get(key)
        for message in messages:
            if message.role is MessageRole.USER and message.kind is MessageKind.TEXT:
                if turn is not None and turn.shown:
                    await self._end(key, turn, ok=True, notify=False)
                turn = self._turns[key] = self._new_turn(key, title)
                continue
            if turn is None:
                turn = self._turns[key] = self._new_turn(key, title)
            if turn.card.state is not TurnState.WORKING and not turn_over:
                turn.card, turn.notified = replace(turn.card, state=TurnState.WORKING), False
            turn.card = turn.card.add([message])
            turn.shown = True
            if message.kind is MessageKind.TEXT and message.text.strip():
                turn.last_reply = message.text
            elif message.kind is MessageKind.OUTPUT and message.text.strip():
                turn.last_reply = message.text.strip().splitlines()[-1]
        if turn is not None and turn.shown:
            await self._show(key, turn)

    async def end(self, key: TurnKey, *, ok: bool = True) -> None:
        """The agent stopped (idle, or exited when not ok): close the turn, tell the phone once."""
        turn = self._turns.get(key)
        if turn is not None and turn.shown and turn.card.state is TurnState.WORKING:
            await self._end(key, turn, ok=ok, notify=not turn.notified)

    def forget_window(self, window_id: WindowId) -> None:
        for key in [k for k in self._turns if k[0] == window_id]:
            turn = self._turns.pop(key)
            for message_id in turn.message_ids:
                self._updater.forget(message_id)

    def _new_turn(self, key: TurnKey, title: str) -> _Turn:
        return _Turn(card=TurnCard(title=title, verbose=self._verbose(key[1])))

    async def _end(self, key: TurnKey, turn: _Turn, *, ok: bool, notify: bool) -> None:
        turn.card = turn.card.finish(ok=ok)
        await self._show(key, turn)
        if notify and ok:
            turn.notified = True
            await self._say(key[1], done_notice(turn.card.title, turn.last_reply))

    async def _show(self, key: TurnKey, turn: _Turn) -> None:
        """Send the turn's new cards and queue updates of the ones already sent."""
        for index, card in enumerate(turn.card.render()):
            if index < len(turn.message_ids):
                self._updater.submit(turn.message_ids[index], card)
                continue
            try:
                message_id = await self._output.send_card(key[1], card)
            except CclarkError as exc:
                logger.error("turn card for window %s not sent to %s: %s", key[0], key[1], exc)
                return  # the next change tries again with the whole turn
            self._updater.mark_sent(message_id, card)
            turn.message_ids.append(message_id)

    async def _say(self, channel_id: ChannelId, text: str) -> None:
        try:
            await self._output.send_text(channel_id, text)
        except CclarkError as exc:
            logger.error("turn notice not sent to %s: %s", channel_id, exc)


def done_notice(title: str, last_reply: str) -> str:
    """The short message that makes the phone notify: ``✅ claude · demo: <reply's start>``."""
    preview = " ".join(last_reply.split())
    if len(preview) > NOTICE_PREVIEW_CHARS:
        preview = preview[: NOTICE_PREVIEW_CHARS - 1] + "…"
    return f"✅ {title}: {preview}" if preview else f"✅ {title}: done"
