"""What CardStreams decides from two versions of a streamed card: stream one element or replace."""

from __future__ import annotations

import copy
from typing import Any

from cclark.card_streams import changed_element, streams, with_element_ids
from cclark.cards import TurnCard
from unified_icc import AgentMessage, MessageKind, MessageRole


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
