"""Feishu card JSON 2.0 builders (pure).

Owns what cclark's cards look like; knows nothing of sending them (the outbox and its
senders), lark-oapi, channels or the gateway beyond the event types it renders.
"""

from __future__ import annotations

from cclark.cards.elements import (
    CARD_LIMIT_BYTES,
    MARKDOWN_ELEMENT_BYTES,
    SAFE_CARD_BYTES,
    CardJson,
    HeaderTemplate,
    card_bytes,
    escape_markdown,
    sanitize_markdown,
    wire_bytes,
)
from cclark.cards.prompt_card import answered_prompt_card, prompt_card, reply_hint
from cclark.cards.turn_card import TurnCard, TurnState, turn_title

__all__ = [
    "CARD_LIMIT_BYTES",
    "MARKDOWN_ELEMENT_BYTES",
    "SAFE_CARD_BYTES",
    "CardJson",
    "HeaderTemplate",
    "TurnCard",
    "TurnState",
    "answered_prompt_card",
    "card_bytes",
    "escape_markdown",
    "prompt_card",
    "reply_hint",
    "sanitize_markdown",
    "turn_title",
    "wire_bytes",
]
