"""Dispatcher: from a raw Feishu event to a handler, once, in order, for allowed people only.

Owns the inbound filters (in a group, only messages that @mention the bot unless the app
takes every group message; text or rich text only, not from a bot, sender on allowed_users,
not from before this process started), de-duplication by message id, auditing of every
inbound message and refusal, and one ordered queue per chat (chats run in parallel), which
taps' work joins too. Knows nothing of commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from cclark.audit import AuditKind, AuditLog, AuditRecord
from cclark.cards import CardJson
from cclark.config import GroupMessages
from cclark.errors import CclarkError
from cclark.event_parsers import Attachment, ChatType, FeishuMessageEvent, parse_message_event
from cclark.seen_messages import SeenMessages
from unified_icc import ChannelId

__all__ = ["Dispatcher", "InboundPolicy", "Job", "Receipt", "Replier", "audit_event"]

logger = logging.getLogger(__name__)

NOT_TEXT = ("I can read text, rich text, photos and files, not this kind of message: please "
            "send your request as text.")  # fmt: skip
WHILE_DOWN = (
    "Your message ({preview}) arrived while cclark was not running, so it was not acted on. "
    "Send it again if it is still wanted."
)


class Receipt(StrEnum):
    """What became of a message meant for the agent, as a reaction on it (an emoji type)."""

    TYPED = "OK"  # typed into the agent
    NOT_TYPED = "CrossMark"  # could not be (the chat is told why in words too)


# Something a chat asked for, run in the chat's order: a message's handling, a tap's work.
Job = Callable[[], Awaitable[None]]


class Replier(Protocol):
    async def reply_text(self, event: FeishuMessageEvent, text: str) -> None: ...

    async def reply_card(self, event: FeishuMessageEvent, key: str, card: CardJson) -> None:
        """Show card in the event's chat as the card named key (a second call updates it)."""
        ...

    async def reply_image(self, event: FeishuMessageEvent, png: bytes) -> None: ...

    async def reply_file(self, event: FeishuMessageEvent, data: bytes, file_name: str) -> None: ...

    async def download(
        self, event: FeishuMessageEvent, attachment: Attachment
    ) -> tuple[str | None, bytes]:
        """A photo or file the event's message carries: its name (when Feishu gives one)
        and its bytes."""
        ...

    async def react(self, event: FeishuMessageEvent, receipt: Receipt) -> None:
        """Mark the person's message with a receipt (a reaction, which notifies no one)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundPolicy:
    app_name: str
    allows: Callable[[str], bool]
    # Messages created before this moment (ms since the epoch) predate this process.
    started_at_ms: int
    # Clocks differ a little between Feishu and this machine.
    grace_ms: int = 2_000
    group_messages: GroupMessages = GroupMessages.MENTION
    # The bot's own open_id, asked of Feishu (and remembered) by the client; None: any
    # @mention counts, which is what Feishu delivers to an app without the all-messages scope.
    bot_open_id: Callable[[], Awaitable[str]] | None = None


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
        self._queues: dict[ChannelId, asyncio.Queue[tuple[str, Job]]] = {}
        self._workers: dict[ChannelId, asyncio.Task[None]] = {}

    async def accept(self, data: Any) -> None:
        """Filter one raw event and queue it on its chat. Returns without waiting for it."""
        event = parse_message_event(self._policy.app_name, data)
        if event is None or event.sender_type != "user" or not event.sender_open_id:
            return  # bots, including this one, and system events
        if not await self._addressed(event):
            logger.debug("group message %s does not @mention the bot", event.message_id)
            return  # people talking among themselves: not for the bot, not audited
        if not await self._seen.first_time(event.message_id):
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
        self.enqueue(event.channel_id, event.message_id, lambda: self._handle(event))

    def enqueue(self, channel: ChannelId, label: str, job: Job) -> None:
        """Run job after everything the chat asked for before (label names it in logs)."""
        self._queue_for(channel).put_nowait((label, job))

    async def _addressed(self, event: FeishuMessageEvent) -> bool:
        """Whether the bot should act on the message: always in a one-to-one chat; in a group
        when it @mentions the bot, or always when the app is set to take every group message."""
        policy = self._policy
        if event.chat_type is ChatType.P2P or policy.group_messages is GroupMessages.ALL:
            return True
        if not event.mentioned_open_ids:
            return False
        if policy.bot_open_id is None:
            return True
        try:
            bot = await policy.bot_open_id()
        except CclarkError as exc:
            logger.warning("cannot tell whether message %s @mentions the bot (%s); taking any "
                           "@mention as the bot's", event.message_id, exc)  # fmt: skip
            return True
        return bot in event.mentioned_open_ids

    async def stop(self) -> None:
        """Cancel every chat's worker and wait for them."""
        workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    def _queue_for(self, channel: ChannelId) -> asyncio.Queue[tuple[str, Job]]:
        queue = self._queues.get(channel)
        if queue is None:
            queue = self._queues[channel] = asyncio.Queue()
            self._workers[channel] = asyncio.create_task(
                self._work(queue), name=f"cclark-chat-{channel}"
            )
        return queue

    async def _work(self, queue: asyncio.Queue[tuple[str, Job]]) -> None:
        while True:
            label, job = await queue.get()
            try:
                await job()
            except Exception:  # supervisor: one failed message must not stop the chat
                logger.exception("handling %s failed", label)


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
