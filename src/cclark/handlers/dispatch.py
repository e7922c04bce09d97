"""Dispatcher: from a raw Feishu event to a handler, once, in order, for allowed people only.

Owns the inbound filters (text only, not from a bot, sender on allowed_users, not from before
this process started), de-duplication by message id, auditing of every inbound message and
refusal, and one ordered queue per chat (chats run in parallel). Knows nothing of commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cclark.audit import AuditKind, AuditLog, AuditRecord
from cclark.event_parsers import FeishuMessageEvent, parse_message_event
from cclark.seen_messages import SeenMessages
from unified_icc import ChannelId

__all__ = ["Dispatcher", "InboundPolicy", "Replier", "audit_event"]

logger = logging.getLogger(__name__)

NOT_TEXT = "I can only read text messages for now: please send your request as text."
WHILE_DOWN = (
    "Your message ({preview}) arrived while cclark was not running, so it was not acted on. "
    "Send it again if it is still wanted."
)


class Replier(Protocol):
    async def reply_text(self, event: FeishuMessageEvent, text: str) -> None: ...

    async def reply_image(self, event: FeishuMessageEvent, png: bytes) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundPolicy:
    app_name: str
    allows: Callable[[str], bool]
    # Messages created before this moment (ms since the epoch) predate this process.
    started_at_ms: int
    # Clocks differ a little between Feishu and this machine.
    grace_ms: int = 2_000


class Dispatcher:
    def __init__(
        self,
        *,
        policy: InboundPolicy,
        seen: SeenMessages,
        audit: AuditLog,
        replier: Replier,
        handle: Callable[[FeishuMessageEvent], Awaitable[None]],
        observe: Callable[[FeishuMessageEvent], None] | None = None,
    ) -> None:
        self._policy = policy
        self._seen = seen
        self._audit = audit
        self._replier = replier
        self._handle = handle
        # Told of every message from an allowed person (the adapter learns topic roots).
        self._observe = observe
        self._queues: dict[ChannelId, asyncio.Queue[FeishuMessageEvent]] = {}
        self._workers: dict[ChannelId, asyncio.Task[None]] = {}

    async def accept(self, data: Any) -> None:
        """Filter one raw event and queue it on its chat. Returns without waiting for it."""
        event = parse_message_event(self._policy.app_name, data)
        if event is None or event.sender_type != "user" or not event.sender_open_id:
            return  # bots, including this one, and system events
        if not self._seen.first_time(event.message_id):
            logger.info("skipping redelivered message %s", event.message_id)
            return
        if not self._policy.allows(event.sender_open_id):
            audit_event(self._audit, AuditKind.REFUSAL, event, "sender is not on allowed_users")
            return
        audit_event(self._audit, AuditKind.INBOUND, event, event.text or f"<{event.message_type}>")
        if self._observe is not None:
            self._observe(event)
        if event.create_time_ms < self._policy.started_at_ms - self._policy.grace_ms:
            preview = (event.text or event.message_type)[:40]
            await self._replier.reply_text(event, WHILE_DOWN.format(preview=repr(preview)))
            return
        if event.text is None:
            await self._replier.reply_text(event, NOT_TEXT)
            return
        self._queue_for(event.channel_id).put_nowait(event)

    async def stop(self) -> None:
        """Cancel every chat's worker and wait for them."""
        workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    def _queue_for(self, channel: ChannelId) -> asyncio.Queue[FeishuMessageEvent]:
        queue = self._queues.get(channel)
        if queue is None:
            queue = self._queues[channel] = asyncio.Queue()
            self._workers[channel] = asyncio.create_task(
                self._work(queue), name=f"cclark-chat-{channel}"
            )
        return queue

    async def _work(self, queue: asyncio.Queue[FeishuMessageEvent]) -> None:
        while True:
            event = await queue.get()
            try:
                await self._handle(event)
            except Exception:  # supervisor: one failed message must not stop the chat
                logger.exception("handling message %s failed", event.message_id)


def audit_event(
    audit: AuditLog,
    kind: AuditKind,
    event: FeishuMessageEvent,
    detail: str,
    window_id: str | None = None,
) -> None:
    """One audit line for something a chat message made the bot do (or refuse)."""
    audit.record(
        AuditRecord(
            kind=kind,
            app=event.app_name,
            user=event.sender_open_id or "",
            chat=event.channel_id,
            detail=detail,
            window_id=window_id,
            message_id=event.message_id,
        )
    )
