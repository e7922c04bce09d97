"""What CardStreams decides from two versions of a streamed card: stream one element or replace."""

from __future__ import annotations

import copy
import json
from typing import Any

from cclark.card_streams import CardStreams, changed_element, streams, with_element_ids
from cclark.cards import TurnCard
from cclark.outbox import Item, ItemKind
from unified_icc import AgentMessage, ChannelId, MessageKind, MessageRole


def _turn(*texts: str, done: bool = False) -> dict[str, Any]:
    turn = TurnCard(title="claude · demo", keys={"c": "feishu:main:oc_1", "w": "@1"})
    messages = [AgentMessage(id=f"m{i}", role=MessageRole.ASSISTANT, kind=MessageKind.TEXT,
                             text=text) for i, text in enumerate(texts)]  # fmt: skip
    card = (turn.add(messages).finish() if done else turn.add(messages)).render()[-1]
    return with_element_ids(copy.deepcopy(card))


def test_a_reply_that_grows_is_streamed_into_its_element() -> None:
    old, new = _turn("Hello"), _turn("Hello", "and more")

    assert changed_element(old, new) == ("e0", "Hello\n\nand more")


def test_the_end_of_a_turn_replaces_the_card() -> None:
    old, new = _turn("Hello"), _turn("Hello", done=True)

    assert streams(new)
    assert not new["config"]["streaming_mode"]
    assert changed_element(old, new) is None


def test_a_new_element_replaces_the_card() -> None:
    old = _turn("Hello")
    new = copy.deepcopy(old)
    new["body"]["elements"].insert(1, {"tag": "markdown", "content": "x", "element_id": "e9"})

    assert changed_element(old, new) is None


def test_element_ids_follow_positions_and_keep_given_ones() -> None:
    card = {"body": {"elements": [{"tag": "markdown"}, {"tag": "hr", "element_id": "rule"}]}}

    ids = [e["element_id"] for e in with_element_ids(card)["body"]["elements"]]

    assert ids == ["e0", "rule"]


def test_a_card_without_streaming_in_its_config_is_not_streamed() -> None:
    assert not streams({"config": {"update_multi": True}})
    assert streams({"config": {"streaming_mode": False}})


class _Numbers:
    """Records the sequence numbers of CardKit operations (numbering only; the real calls are
    tested against the emulator, and under kill -9 in test_kill_and_restart.py)."""

    def __init__(self) -> None:
        self.used: list[int] = []

    async def stream_card_text(self, card_id: str, element_id: str, text: str, *,
                               sequence: int) -> None:  # fmt: skip
        self.used.append(sequence)

    async def set_card_settings(self, card_id: str, settings: Any, *, sequence: int) -> None:
        self.used.append(sequence)

    async def replace_card_entity(self, card_id: str, card: Any, *, sequence: int) -> None:
        self.used.append(sequence)


async def test_a_restart_never_reuses_a_number_the_killed_process_used_unrecorded() -> None:
    item = Item(key="turn:t:0", channel=ChannelId("feishu:main:oc_1"), seq=1,
                kind=ItemKind.CARD, content=json.dumps(_turn("a")), card_id="card_1",
                message_id="om_1")  # fmt: skip
    numbers = _Numbers()
    for _process in range(3):  # each one killed after its operation, before recording it
        streams = CardStreams(numbers)  # type: ignore[arg-type]
        reserved = streams.reserve(item)
        assert reserved is not None
        item.sequence = reserved  # what the sender commits before the first operation
        await streams.update(item)

    assert numbers.used == sorted(set(numbers.used))  # strictly increasing across processes
