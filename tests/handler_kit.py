"""A recording Replier and typed chat events, for tests that drive the handlers in-process."""

from __future__ import annotations

import json
from typing import Any

from cclark.event_parsers import FeishuMessageEvent, parse_message_event
from cclark.handlers.dispatch import Receipt
from chat_view import question_text

__all__ = ["Replies", "text_event"]


class Replies:
    """What the chat got: texts, and the text of each new question card, in order."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.images: list[bytes] = []
        self.cards: dict[str, dict[str, Any]] = {}
        self.receipts: list[tuple[str, Receipt]] = []

    async def reply_text(self, event: FeishuMessageEvent, text: str) -> None:
        self.sent.append(text)

    async def react(self, event: FeishuMessageEvent, receipt: Receipt) -> None:
        self.receipts.append((event.message_id, receipt))

    async def reply_card(self, event: FeishuMessageEvent, key: str, card: dict[str, Any]) -> None:
        if key not in self.cards:
            self.sent.append(question_text(card) or "")
        self.cards[key] = card

    async def reply_image(self, event: FeishuMessageEvent, png: bytes) -> None:
        self.images.append(png)


def text_event(text: str, chat: str = "oc_1", user: str = "ou_a") -> FeishuMessageEvent:
    raw = {
        "schema": "2.0",
        "header": {"event_id": "ev", "event_type": "im.message.receive_v1",
                   "create_time": "1", "app_id": "cli_1"},
        "event": {"sender": {"sender_id": {"open_id": user}, "sender_type": "user"},
                  "message": {"message_id": f"om_{text}", "chat_id": chat, "chat_type": "p2p",
                              "message_type": "text", "content": json.dumps({"text": text}),
                              "create_time": "1"}},
    }  # fmt: skip
    parsed = parse_message_event("main", raw)
    assert parsed is not None
    return parsed
