"""CardStreams: outbox cards shown as CardKit card entities, their growing text typed out.

Owns how one streamed card reaches Feishu: a card whose JSON says ``config.streaming_mode``
(a working turn) becomes a card entity, recorded before the message that shows it is sent
(with the item's idempotency uuid, so a crash in between cannot show two); then each change
is one CardKit operation: when only one markdown element changed (the agent wrote more), its
whole text is streamed and Feishu types out what was added; otherwise the card is replaced, after
ending streaming when the card no longer streams (the turn ended). Operations on a card carry
strictly increasing sequence numbers: the last one Feishu confirmed is kept with the item, and
after a restart numbering goes on SEQUENCE_GAP past it (an operation sent just before a crash
may have been applied unrecorded). Knows nothing of turns; ChatSenders decides when to send.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Final, Protocol

from cclark.outbox import Item
from unified_icc import ChannelId

__all__ = [
    "SEQUENCE_GAP",
    "CardStreams",
    "StreamSurface",
    "changed_element",
    "streams",
    "with_element_ids",
]

logger = logging.getLogger(__name__)

SEQUENCE_GAP: Final = 16
_STREAM_OFF: Final = {"config": {"streaming_mode": False}}


class StreamSurface(Protocol):
    """The CardKit calls, through the adapter."""

    async def create_card_entity(self, card: Mapping[str, Any]) -> str: ...

    async def send_card_entity(
        self, channel_id: ChannelId, card_id: str, *, uuid: str | None = None
    ) -> str: ...

    async def stream_card_text(
        self, card_id: str, element_id: str, text: str, *, sequence: int
    ) -> None: ...

    async def set_card_settings(
        self, card_id: str, settings: Mapping[str, Any], *, sequence: int
    ) -> None: ...

    async def replace_card_entity(
        self, card_id: str, card: Mapping[str, Any], *, sequence: int
    ) -> None: ...


def streams(card: Mapping[str, Any]) -> bool:
    """Whether a card asks to be streamed (its config names streaming_mode, on or off)."""
    config = card.get("config")
    return isinstance(config, Mapping) and "streaming_mode" in config


class CardStreams:
    """Sends streamed cards; the caller records what each call returns, in order per card."""

    def __init__(self, surface: StreamSurface) -> None:
        self._surface = surface
        self._shown: dict[str, dict[str, Any]] = {}  # key -> the card Feishu confirmed
        self._sequences: dict[str, int] = {}  # key -> the last sequence used since start

    async def create(self, item: Item) -> str:
        """The card entity for item's content (the caller records its id before sending)."""
        return await self._surface.create_card_entity(with_element_ids(json.loads(item.content)))

    async def show(self, item: Item, card_id: str, uuid: str) -> str:
        """Send the message that shows the entity; returns its message id."""
        message_id = await self._surface.send_card_entity(item.channel, card_id, uuid=uuid)
        self._shown[item.key] = with_element_ids(json.loads(item.content))
        return message_id

    async def update(self, item: Item) -> int:
        """Bring the entity to item's content; returns the last sequence number used.

        Call reserve (and record what it returns) first."""
        assert item.card_id is not None
        new = with_element_ids(json.loads(item.content))
        old = self._shown.get(item.key)
        grown = changed_element(old, new) if old is not None else None
        if grown is not None:
            element_id, text = grown
            sequence = self._next(item)
            await self._surface.stream_card_text(item.card_id, element_id, text,
                                                 sequence=sequence)  # fmt: skip
        else:
            if not new["config"].get("streaming_mode", False):
                await self._surface.set_card_settings(item.card_id, _STREAM_OFF,
                                                      sequence=self._next(item))  # fmt: skip
            sequence = self._next(item)
            await self._surface.replace_card_entity(item.card_id, new, sequence=sequence)
        self._shown[item.key] = new
        return sequence

    def reserve(self, item: Item) -> int | None:
        """Before this process's first operation on item: the number to record first (the
        last one recorded plus SEQUENCE_GAP), so that a process killed after using numbers
        it had not recorded yet cannot hand them out again; None when already reserved."""
        if item.key in self._sequences:
            return None
        self._sequences[item.key] = item.sequence + SEQUENCE_GAP
        return self._sequences[item.key]

    def forget(self, key: str) -> None:
        self._shown.pop(key, None)
        self._sequences.pop(key, None)

    def _next(self, item: Item) -> int:
        self._sequences[item.key] += 1
        return self._sequences[item.key]


def with_element_ids(card: dict[str, Any]) -> dict[str, Any]:
    """The card with an ``element_id`` on each body element that has none (``e0``, ``e1``…):
    the same position gets the same id in every version of a card."""
    elements = card.get("body", {}).get("elements", [])
    for index, element in enumerate(elements):
        if isinstance(element, dict):
            element.setdefault("element_id", f"e{index}")
    return card


def changed_element(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, str] | None:
    """(element id, new text) when the only change is the text of one markdown element of a
    streaming card; else None (the card must be replaced). Feishu types out the new part when
    the old text is a prefix of the new (an agent's reply growing); otherwise it shows the
    new text at once (a shell's code block, whose closing fence moves down)."""
    if not (old["config"].get("streaming_mode") and new["config"].get("streaming_mode")):
        return None
    if {k: v for k, v in old.items() if k != "body"} != {k: v for k, v in new.items()
                                                        if k != "body"}:  # fmt: skip
        return None
    before, after = old["body"]["elements"], new["body"]["elements"]
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]
    if len(before) != len(after) or len(changed) != 1:
        return None
    a, b = before[changed[0]], after[changed[0]]
    if a.get("tag") != "markdown" or {**a, "content": ""} != {**b, "content": ""}:
        return None
    return str(b["element_id"]), str(b["content"])
