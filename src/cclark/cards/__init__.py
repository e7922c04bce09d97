"""Feishu card JSON 2.0 builders (pure) and the per-card update coalescer.

Owns what cclark's cards look like and how card updates are paced; knows nothing of
lark-oapi, channels or the gateway beyond the event types it renders.
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
from cclark.cards.updater import CardUpdater, Clock, SystemClock, UpdateCard

__all__ = [
    "CARD_LIMIT_BYTES",
    "MARKDOWN_ELEMENT_BYTES",
    "SAFE_CARD_BYTES",
    "CardJson",
    "CardUpdater",
    "Clock",
    "HeaderTemplate",
    "SystemClock",
    "TurnCard",
    "TurnState",
    "UpdateCard",
    "answered_prompt_card",
    "card_bytes",
    "escape_markdown",
    "prompt_card",
    "reply_hint",
    "sanitize_markdown",
    "turn_title",
    "wire_bytes",
]
