"""Inbound handling: the dispatcher (filters, de-duplication, per-chat order) and handlers."""

from __future__ import annotations

from cclark.handlers.dispatch import Dispatcher, InboundPolicy, Replier
from cclark.handlers.message import MessageHandler, render_messages, render_prompt

__all__ = [
    "Dispatcher",
    "InboundPolicy",
    "MessageHandler",
    "Replier",
    "render_messages",
    "render_prompt",
]
