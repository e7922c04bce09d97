"""MessageHandler: ``#help``, unknown commands, and text for the chat's bound agent window.

Owns the minimal command set and turning gateway messages into chat text; calls only the
gateway's public API (never tmux) and the replier. The full command set and the wizard are
the chat-experience work.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from cclark.audit import AuditKind, AuditLog, AuditRecord
from cclark.event_parsers import FeishuMessageEvent
from cclark.handlers.dispatch import Replier
from unified_icc import AgentMessage, MessageKind, MessageRole, UnifiedICC, UnifiedICCError

__all__ = ["HELP", "MessageHandler", "render_messages"]

logger = logging.getLogger(__name__)

HELP = """cclark drives AI coding agents running in tmux on your machine.

• Any text goes to this chat's agent session.
• #help shows this message.

This chat has no agent session yet. Sessions are started with #new (being built); until then
an administrator can bind one with the unified-icc command."""

NO_SESSION = "This chat has no agent session. Send #help to see how to start one."


class MessageHandler:
    def __init__(self, *, gateway: UnifiedICC, replier: Replier, audit: AuditLog) -> None:
        self._gateway = gateway
        self._replier = replier
        self._audit = audit

    async def handle(self, event: FeishuMessageEvent) -> None:
        text = (event.text or "").strip()
        if text.startswith("#"):
            await self._command(event, text)
            return
        window = self._gateway.channel_router.resolve_window(event.channel_id)
        if window is None:
            await self._replier.reply_text(event, NO_SESSION)
            return
        self._record(AuditKind.KEYSTROKES, event, text, window)
        try:
            await self._gateway.send_to_window(window, text)
        except UnifiedICCError as exc:
            await self._replier.reply_text(event, f"Not sent: {exc}")

    async def _command(self, event: FeishuMessageEvent, text: str) -> None:
        command = text.split(maxsplit=1)[0].lower()
        self._record(AuditKind.COMMAND, event, command, None)
        if command == "#help":
            await self._replier.reply_text(event, HELP)
            return
        await self._replier.reply_text(
            event, f"Unknown command {command}. Send #help for the commands there are."
        )

    def _record(
        self, kind: AuditKind, event: FeishuMessageEvent, detail: str, window: str | None
    ) -> None:
        self._audit.record(
            AuditRecord(
                kind=kind,
                app=event.app_name,
                user=event.sender_open_id or "",
                chat=event.channel_id,
                detail=detail,
                window_id=window,
                message_id=event.message_id,
            )
        )


def render_messages(messages: Sequence[AgentMessage]) -> str:
    """The agent's side of a batch as chat text: replies, tool calls and short results."""
    parts = []
    for message in messages:
        if message.role is MessageRole.USER and message.kind is MessageKind.TEXT:
            continue  # the person's own words, already in the chat
        if message.kind is MessageKind.TEXT:
            parts.append(message.text)
        elif message.kind is MessageKind.TOOL_USE:
            parts.append(f"▸ {message.text}")
        elif message.kind is MessageKind.TOOL_RESULT:
            first = message.text.strip().splitlines()[0] if message.text.strip() else ""
            parts.append(f"  ↳ {first[:200]}")
        elif message.kind is MessageKind.LOCAL_COMMAND:
            parts.append(message.text)
    return "\n\n".join(part for part in parts if part.strip())
