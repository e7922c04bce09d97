"""Events out: the gateway's messages and statuses as turn cards, prompt cards and notices.

Knows the gateway's public API and cclark's cards; records into the Outbox, which the chat
senders drain into Feishu.
"""

from __future__ import annotations

from cclark.relay.chat_relay import ChatRelay
from cclark.relay.prompts import PromptCards
from cclark.relay.turns import TurnCards, done_notice

__all__ = ["ChatRelay", "PromptCards", "TurnCards", "done_notice"]
