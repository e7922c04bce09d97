"""Events out: the gateway's messages and statuses as turn cards, prompt cards and notices.

Knows the gateway's public API and cclark's cards; sends through a CardOutput (the adapter).
"""

from __future__ import annotations

from cclark.relay.chat_relay import DIED, ChatRelay
from cclark.relay.prompts import PromptCards
from cclark.relay.turns import CardOutput, TurnCards, done_notice

__all__ = ["DIED", "CardOutput", "ChatRelay", "PromptCards", "TurnCards", "done_notice"]
