"""Inbound handling: the dispatcher (filters, de-duplication, per-chat order) and handlers."""

from __future__ import annotations

from cclark.handlers.dispatch import Dispatcher, InboundPolicy, Replier
from cclark.handlers.message import MessageHandler, PromptAnswers, asks_for_feedback

__all__ = [
    "Dispatcher",
    "InboundPolicy",
    "MessageHandler",
    "PromptAnswers",
    "Replier",
    "asks_for_feedback",
]
