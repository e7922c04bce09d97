"""TurnCards: one growing card (or more) per agent turn and chat, and the turn's end.

Owns, per (window, channel): the turn now shown, whether the phone was already told it ended,
the rule that the person's own words in the transcript start a new turn, and the record of
the open turn in state.db (``relay_turns``, plus one ``relay_batches`` row per batch of
messages), so that after a restart output continues in the card the chat already shows. What
the chat should show goes into the Outbox under keys named for the turn and the part; nothing
here waits on the network. Callers serialise calls per window and run them in a journal unit.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final

from pydantic import TypeAdapter

from cclark.cards import TurnCard, TurnState
from cclark.outbox import Outbox
from unified_icc import AgentMessage, ChannelId, Journal, MessageKind, MessageRole, WindowId

__all__ = ["TurnCards", "TurnKey", "done_notice"]

logger = logging.getLogger(__name__)

TurnKey = tuple[WindowId, ChannelId]

NOTICE_PREVIEW_CHARS: Final = 160
"""Characters of the turn's last reply quoted in the "done" message (the phone's preview)."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS relay_turns (
    window TEXT NOT NULL, channel TEXT NOT NULL, turn_id TEXT NOT NULL, title TEXT NOT NULL,
    verbose INTEGER NOT NULL, state TEXT NOT NULL, last_reply TEXT NOT NULL,
    shown INTEGER NOT NULL, notified INTEGER NOT NULL, ends INTEGER NOT NULL,
    PRIMARY KEY (window, channel));
CREATE TABLE IF NOT EXISTS relay_batches (
    turn_id TEXT NOT NULL, n INTEGER NOT NULL, messages TEXT NOT NULL, PRIMARY KEY (turn_id, n));
"""
_MESSAGES: Final = TypeAdapter(tuple[AgentMessage, ...])


@dataclass(slots=True, kw_only=True)
class _Turn:
    turn_id: str
    card: TurnCard
    last_reply: str = ""
    shown: bool = False  # has content worth a card
    notified: bool = False  # the phone was told this turn ended
    ends: int = 0  # done notices posted for this turn
    batches: int = 0


class TurnCards:
    """The turn cards of every (window, channel) pair."""

    def __init__(
        self, *, outbox: Outbox, journal: Journal, verbose: Callable[[ChannelId], bool]
    ) -> None:
        self._outbox = outbox
        self._journal = journal
        self._verbose = verbose
        self._turns: dict[TurnKey, _Turn] = {}

    def load(self, journal: Journal) -> None:
        """Read back the open turns (at gateway start, before any event)."""
        journal.define(_SCHEMA)
        rows = journal.rows("SELECT window, channel, turn_id, title, verbose, state, last_reply, "
                            "shown, notified, ends FROM relay_turns")  # fmt: skip
        for row in rows:
            window, channel, turn_id, title, verbose, state, last_reply, shown, notified, ends = row
            key = (WindowId(window), ChannelId(channel))
            card = TurnCard(title=title, verbose=bool(verbose), keys=_keys(key))
            batches = journal.rows(
                "SELECT messages FROM relay_batches WHERE turn_id=? ORDER BY n", (turn_id,)
            )
            for (messages,) in batches:
                for message in _MESSAGES.validate_json(messages):
                    card = card.add([message])  # as they came: the same cards, cut alike
            self._turns[key] = _Turn(
                turn_id=turn_id, card=replace(card, state=TurnState(state)),
                last_reply=last_reply, shown=bool(shown), notified=bool(notified), ends=ends,
                batches=len(batches),
            )  # fmt: skip

    def add(
        self, key: TurnKey, title: str, messages: Sequence[AgentMessage], *, turn_over: bool
    ) -> None:
        """Append a batch of the window's transcript; the person's words start a new turn.

        turn_over: the agent's turn had ended when the batch came. A finished turn that gets
        more output is reopened unless it is over (then the output is late, shown in place).
        """
        turn = self._turns.get(key)
        kept: list[AgentMessage] = []
        for message in messages:
            if message.role is MessageRole.USER and message.kind is MessageKind.TEXT:
                if turn is not None:
                    self._record_batch(turn, kept)
                    if turn.shown:
                        self._end(key, turn, ok=True, notify=False)
                    self._close(turn)
                turn, kept = self._new_turn(key, title), []
                continue
            if turn is None:
                turn = self._new_turn(key, title)
            if turn.card.state is not TurnState.WORKING and not turn_over:
                turn.card, turn.notified = replace(turn.card, state=TurnState.WORKING), False
            turn.card = turn.card.add([message])
            kept.append(message)
            turn.shown = True
            if message.kind is MessageKind.TEXT and message.text.strip():
                turn.last_reply = message.text
            elif message.kind is MessageKind.OUTPUT and message.text.strip():
                turn.last_reply = message.text.strip().splitlines()[-1]
        if turn is not None:
            self._record_batch(turn, kept)
            self._save(key, turn)
            if turn.shown:
                self._show(turn, key[1])

    def end(self, key: TurnKey, *, ok: bool = True) -> None:
        """The agent stopped (idle, or exited when not ok): close the turn, tell the phone once."""
        turn = self._turns.get(key)
        if turn is not None and turn.shown and turn.card.state is TurnState.WORKING:
            self._end(key, turn, ok=ok, notify=not turn.notified)
            self._save(key, turn)

    def forget_window(self, window_id: WindowId) -> None:
        for key in [k for k in self._turns if k[0] == window_id]:
            self._close(self._turns.pop(key))
            self._journal.stage("DELETE FROM relay_turns WHERE window=? AND channel=?", key)

    def _new_turn(self, key: TurnKey, title: str) -> _Turn:
        turn = _Turn(
            turn_id=secrets.token_hex(8),
            card=TurnCard(title=title, verbose=self._verbose(key[1]), keys=_keys(key)),
        )
        self._turns[key] = turn
        self._save(key, turn)
        return turn

    def _close(self, turn: _Turn) -> None:
        """The turn will not change again: its cards are final, its batches not needed."""
        for part in range(turn.card.card_count):
            self._outbox.release(_card_key(turn, part))
        self._journal.stage("DELETE FROM relay_batches WHERE turn_id=?", (turn.turn_id,))

    def _end(self, key: TurnKey, turn: _Turn, *, ok: bool, notify: bool) -> None:
        turn.card = turn.card.finish(ok=ok)
        self._show(turn, key[1])
        if notify and ok:
            turn.notified, turn.ends = True, turn.ends + 1
            notice = done_notice(turn.card.title, turn.last_reply)
            self._outbox.put_text(f"done:{turn.turn_id}:{turn.ends}", key[1], notice)

    def _show(self, turn: _Turn, channel: ChannelId) -> None:
        for part, card in enumerate(turn.card.render()):
            self._outbox.put_card(_card_key(turn, part), channel, card)

    def _record_batch(self, turn: _Turn, messages: list[AgentMessage]) -> None:
        if messages:
            turn.batches += 1
            self._journal.stage("INSERT OR REPLACE INTO relay_batches VALUES (?, ?, ?)",
                                (turn.turn_id, turn.batches,
                                 _MESSAGES.dump_json(tuple(messages)).decode()))  # fmt: skip

    def _save(self, key: TurnKey, turn: _Turn) -> None:
        card = turn.card
        self._journal.stage(
            "INSERT OR REPLACE INTO relay_turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key[0], key[1], turn.turn_id, card.title, int(card.verbose), card.state.value,
             turn.last_reply, int(turn.shown), int(turn.notified), turn.ends),
        )  # fmt: skip


def _keys(key: TurnKey) -> dict[str, str]:
    """What the key buttons of the turn's card carry: its chat and window."""
    return {"c": key[1], "w": key[0]}


def _card_key(turn: _Turn, part: int) -> str:
    return f"turn:{turn.turn_id}:{part}"


def done_notice(title: str, last_reply: str) -> str:
    """The short message that makes the phone notify: ``✅ claude · demo: <reply's start>``."""
    preview = " ".join(last_reply.split())
    if len(preview) > NOTICE_PREVIEW_CHARS:
        preview = preview[: NOTICE_PREVIEW_CHARS - 1] + "…"
    return f"✅ {title}: {preview}" if preview else f"✅ {title}: done"
