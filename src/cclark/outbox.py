"""Outbox: what each chat must show, kept in state.db until Feishu confirmed it.

Owns the ``outbox`` table and its mirror in memory: one row per card (its newest content, its
message id once created, a digest of the content Feishu confirmed), per text message and per
reaction (sent once, then deleted). Rows are keyed by a stable name (the turn, the part, the
notice), so putting the same thing twice is harmless and a request repeated after a crash
carries the same idempotency key. Writes are staged in the caller's journal unit: a gateway
callback's rows commit with the gateway's watermark. Knows nothing of Feishu calls (ChatSenders
send) nor of card layout.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from unified_icc import Batch, ChannelId, Journal

__all__ = ["Item", "ItemKind", "Outbox", "card_content"]

logger = logging.getLogger(__name__)

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS outbox (
    key TEXT PRIMARY KEY, channel TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,
    content TEXT NOT NULL, message_id TEXT, sent TEXT, released INTEGER NOT NULL DEFAULT 0,
    card_id TEXT, sequence INTEGER NOT NULL DEFAULT 0);
"""
# Columns added since the table was first made, for state.db files from before.
_ADDED: Final = (("card_id", "TEXT"), ("sequence", "INTEGER NOT NULL DEFAULT 0"))


class ItemKind(StrEnum):
    CARD = "card"
    TEXT = "text"
    REACTION = "reaction"  # content: {"message_id": …, "emoji": …}; added once


@dataclass(slots=True, kw_only=True)
class Item:
    """One card or text message of a chat, as it should stand."""

    key: str
    channel: ChannelId
    seq: int  # order in the chat: when it was first put
    kind: ItemKind
    content: str  # card JSON, the text, or a reaction's JSON
    message_id: str | None = None  # a card's, once Feishu created it
    sent: str | None = None  # digest of the content Feishu confirmed
    released: bool = False  # no further change will come: forget it once sent
    card_id: str | None = None  # a streamed card's CardKit entity, once created
    sequence: int = 0  # CardKit operations on it were numbered up to here (or reserved)
    batch: Batch | None = None  # the unit of work of the newest content

    @property
    def pending(self) -> bool:
        return self.sent != digest(self.content)


def card_content(card: Mapping[str, Any]) -> str:
    """A card as the canonical JSON the outbox keeps (equal cards, equal strings)."""
    return json.dumps(card, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:32]


class Outbox:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._items: dict[str, Item] = {}
        self._chats: dict[ChannelId, dict[str, Item]] = {}  # the same items, by chat
        self._seq = 0
        self._listeners: list[Callable[[ChannelId], None]] = []

    def load(self, journal: Journal) -> None:
        """Define the table and read back what is unsent or still open (at gateway start)."""
        journal.define(_SCHEMA)
        columns = {row[1] for row in journal.rows("PRAGMA table_info(outbox)")}
        for name, kind in _ADDED:
            if name not in columns:
                journal.define(f"ALTER TABLE outbox ADD COLUMN {name} {kind};")
        rows = journal.rows("SELECT key, channel, seq, kind, content, message_id, sent, released, "
                            "card_id, sequence FROM outbox")  # fmt: skip
        for key, channel, seq, kind, content, message_id, sent, released, card_id, sequence in rows:
            self._keep(Item(key=key, channel=ChannelId(channel), seq=seq, kind=ItemKind(kind),
                            content=content, message_id=message_id, sent=sent,
                            released=bool(released), card_id=card_id,
                            sequence=sequence))  # fmt: skip
            self._seq = max(self._seq, seq)
        waiting = sum(1 for item in self._items.values() if item.pending)
        if waiting:
            logger.info("outbox: %d messages to send or update from before the restart", waiting)

    def on_change(self, listener: Callable[[ChannelId], None]) -> None:
        """Call listener(channel) whenever that chat has something new to send."""
        self._listeners.append(listener)

    def channels(self) -> set[ChannelId]:
        """The chats with something to send."""
        return {item.channel for item in self._items.values() if item.pending}

    def pending(self, channel: ChannelId) -> list[Item]:
        """The chat's unsent items, in the order they were first put."""
        items = [i for i in self._chats.get(channel, {}).values() if i.pending]
        return sorted(items, key=lambda item: item.seq)

    def message_id(self, key: str) -> str | None:
        item = self._items.get(key)
        return item.message_id if item else None

    def put_card(self, key: str, channel: ChannelId, card: Mapping[str, Any]) -> None:
        """The card named key should show card (created, or patched whole)."""
        self._put(key, channel, ItemKind.CARD, card_content(card))

    def put_text(self, key: str, channel: ChannelId, text: str) -> None:
        """The text message named key should be sent, once (a second put is ignored)."""
        if key not in self._items:
            self._put(key, channel, ItemKind.TEXT, text)

    def put_reaction(self, key: str, channel: ChannelId, message_id: str, emoji: str) -> None:
        """The message message_id of the chat should get the bot's emoji reaction, once."""
        if key not in self._items:
            content = json.dumps({"message_id": message_id, "emoji": emoji})
            self._put(key, channel, ItemKind.REACTION, content)

    def release(self, key: str) -> None:
        """The card named key will not change again: forget it once its content is sent."""
        item = self._items.get(key)
        if item is None or item.released:
            return
        item.released = True
        if item.pending:
            self._journal.stage("UPDATE outbox SET released=1 WHERE key=?", (key,))
        else:
            self._drop(item)

    def confirmed(
        self, item: Item, content: str, message_id: str | None, *, sequence: int | None = None
    ) -> None:
        """Feishu confirmed content (and created message_id; for a streamed card, the CardKit
        operation numbered sequence): stage the record of it."""
        item.sent = digest(content)
        item.message_id = message_id or item.message_id
        item.sequence = item.sequence if sequence is None else sequence
        if item.kind is not ItemKind.CARD or (item.released and not item.pending):
            self._drop(item)
        else:
            self._journal.stage("UPDATE outbox SET sent=?, message_id=?, sequence=? WHERE key=?",
                                (item.sent, item.message_id, item.sequence,
                                 item.key))  # fmt: skip

    def sequence_reserved(self, item: Item, sequence: int) -> None:
        """A streamed card's CardKit operations go on past sequence: stage it before any is
        sent, so a restart never reuses a number."""
        item.sequence = sequence
        self._journal.stage("UPDATE outbox SET sequence=? WHERE key=?", (sequence, item.key))

    def entity_created(self, item: Item, card_id: str) -> None:
        """The streamed card's CardKit entity exists (not sent yet): stage the record of it."""
        item.card_id = card_id
        self._journal.stage("UPDATE outbox SET card_id=? WHERE key=?", (card_id, item.key))

    def abandon(self, item: Item) -> None:
        """Feishu refused the item for good: stop trying (the caller logged why)."""
        if item.kind is not ItemKind.CARD or item.message_id is None or item.released:
            self._drop(item)
        else:  # keep the card: a later change may still patch it
            self.confirmed(item, item.content, None)

    def _put(self, key: str, channel: ChannelId, kind: ItemKind, content: str) -> None:
        item = self._items.get(key)
        if item is not None and item.content == content:
            return
        if item is None:
            self._seq += 1
            item = self._keep(Item(key=key, channel=channel, seq=self._seq, kind=kind,
                                   content=content))  # fmt: skip
        item.content, item.released = content, False
        item.batch = self._journal.stage(
            "INSERT INTO outbox (key, channel, seq, kind, content) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET content=excluded.content, released=0",
            (key, channel, item.seq, kind.value, content),
        )
        for listener in self._listeners:
            listener(channel)

    def _keep(self, item: Item) -> Item:
        self._items[item.key] = self._chats.setdefault(item.channel, {})[item.key] = item
        return item

    def _drop(self, item: Item) -> None:
        self._items.pop(item.key, None)
        chat = self._chats.get(item.channel, {})
        chat.pop(item.key, None)
        if not chat:
            self._chats.pop(item.channel, None)
        self._journal.stage("DELETE FROM outbox WHERE key=?", (item.key,))
