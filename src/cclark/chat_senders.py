"""ChatSenders: one sender per chat, draining the outbox into Feishu.

Owns, per chat, the task that sends the chat's pending items in the order they were first put
(a card is created with an idempotency uuid derived from its key, then patched whole with its
newest content, at most card_updates_per_second times in any second: the first changes go at
once, a steady stream is coalesced; a text or a reaction is sent once), retries what Feishu
could not take yet, and records in the journal what Feishu confirmed. A slow chat delays only
itself. Knows nothing of turns, prompts or card layout; Feishu is reached through the Surface
protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from cclark.card_streams import CardStreams, StreamSurface, streams
from cclark.errors import (
    CclarkError,
    FeishuApiError,
    FeishuAuthError,
    FeishuPermissionError,
    FeishuRateLimited,
)
from cclark.outbox import Item, ItemKind, Outbox
from cclark.pacing import Pacer
from unified_icc import ChannelId, Clock, Journal, SystemClock

__all__ = ["ChatSenders", "SenderSettings", "Surface", "idempotency_key"]

logger = logging.getLogger(__name__)

_UUID_CHARS: Final = 32  # Feishu takes at most 50


class Surface(StreamSurface, Protocol):
    """Where the items go: Feishu, through the adapter."""

    async def send_card(
        self, channel_id: ChannelId, card: Mapping[str, Any], *, uuid: str | None = None
    ) -> str: ...

    async def update_card(self, message_id: str, card: Mapping[str, Any]) -> None: ...

    async def send_text(
        self, channel_id: ChannelId, text: str, *, uuid: str | None = None
    ) -> tuple[str, ...]: ...

    async def add_reaction(self, message_id: str, emoji: str) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SenderSettings:
    card_updates_per_second: int = 4  # per card; Feishu allows 5 PATCHes a second per message
    stream_updates_per_second: int = 8  # per streamed card; CardKit allows 10 operations
    retry_initial: float = 1.0  # first wait after Feishu could not take an item (s)
    retry_max: float = 30.0


def idempotency_key(app_name: str, key: str) -> str:
    """The Feishu ``uuid`` of the message named key: the same after a restart."""
    return hashlib.sha256(f"{app_name}\x00{key}".encode()).hexdigest()[:_UUID_CHARS]


class ChatSenders:
    def __init__(
        self,
        *,
        app_name: str,
        outbox: Outbox,
        journal: Journal,
        surface: Surface,
        settings: SenderSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._app_name = app_name
        self._outbox = outbox
        self._journal = journal
        self._surface = surface
        self._settings = settings or SenderSettings()
        self._clock: Clock = clock or SystemClock()
        self._wakes: dict[ChannelId, asyncio.Event] = {}
        self._tasks: dict[ChannelId, asyncio.Task[None]] = {}
        self._updates = Pacer(self._clock, self._settings.card_updates_per_second, 1.0)
        self._stream_updates = Pacer(self._clock, self._settings.stream_updates_per_second, 1.0)
        self._streams = CardStreams(surface)
        self._cardkit = True  # until Feishu says the app may not use CardKit
        self._stopped = False
        outbox.on_change(self.wake)

    def start(self) -> None:
        """Start a sender for every chat with items left from before a restart."""
        for channel in self._outbox.channels():
            self.wake(channel)

    def wake(self, channel: ChannelId) -> None:
        """The chat has something new: make sure its sender looks (never waits)."""
        if self._stopped:
            return
        wake = self._wakes.setdefault(channel, asyncio.Event())
        wake.set()
        task = self._tasks.get(channel)
        if task is None or task.done():
            self._tasks[channel] = asyncio.get_running_loop().create_task(
                self._run(channel, wake), name=f"cclark-send-{channel}"
            )

    async def flush(self) -> None:
        """Wait until every chat's sender has nothing left it can send now."""
        while tasks := [t for t in self._tasks.values() if not t.done()]:
            await asyncio.wait(tasks)

    async def stop(self, grace: float = 0.0) -> None:
        """Give the senders up to grace seconds to send what is pending, then cancel them;
        unsent items stay in the outbox for the next start."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self.flush()
        self._stopped = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, channel: ChannelId, wake: asyncio.Event) -> None:
        """Send the chat's items until none is left; sleep out card intervals and retries."""
        retry = self._settings.retry_initial
        while True:
            wake.clear()
            wait = await self._pass(channel)
            if wait is None:
                retry = self._settings.retry_initial
                if not self._outbox.pending(channel) and not wake.is_set():
                    return
                continue
            if wait < 0:  # Feishu could not take an item: back off
                wait, retry = retry, min(retry * 2, self._settings.retry_max)
            else:
                retry = self._settings.retry_initial
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await wake.wait()

    async def _pass(self, channel: ChannelId) -> float | None:
        """Send what is due. Returns None when all was sent, seconds until the next card
        update is due, or -1 after a failure that should be retried later."""
        soonest: float | None = None
        for item in self._outbox.pending(channel):
            if item.batch is not None:
                await item.batch.committed.wait()  # never show what a crash could take back
            if item.kind is ItemKind.CARD and item.message_id is not None:
                wait = self._pacer(item).delay(item.key)
                if wait > 0:
                    soonest = wait if soonest is None else min(soonest, wait)
                    continue
            if not await self._send(item):
                return -1.0
        return soonest

    async def _send(self, item: Item) -> bool:
        """Send one item; False when it should be tried again later."""
        content, message_id = item.content, item.message_id
        uuid = idempotency_key(self._app_name, item.key)
        sequence: int | None = None
        try:
            if item.kind is ItemKind.TEXT:
                await self._surface.send_text(item.channel, content, uuid=uuid)
            elif item.kind is ItemKind.REACTION:
                reaction = json.loads(content)
                await self._surface.add_reaction(reaction["message_id"], reaction["emoji"])
            elif self._streamed(item):
                message_id, sequence = await self._send_streamed(item, uuid)
            elif message_id is None:
                self._updates.note(item.key)
                message_id = await self._surface.send_card(
                    item.channel, _plain(json.loads(content)), uuid=uuid
                )
            else:
                self._updates.note(item.key)
                await self._surface.update_card(message_id, _plain(json.loads(content)))
        except FeishuPermissionError as exc:
            if item.card_id is None and self._cardkit:
                logger.warning("app %s may not use CardKit (%s): turn cards are patched, not "
                               "streamed", self._app_name, exc)  # fmt: skip
                self._cardkit = False
                return await self._send(item)
            return await self._refused(item, exc)
        except (FeishuRateLimited, FeishuAuthError) as exc:
            logger.warning("%s to %s waits: %s", item.kind, item.channel, exc)
            return False
        except FeishuApiError as exc:
            if exc.http_status is None or exc.http_status >= 500:
                logger.warning("%s to %s waits: %s", item.kind, item.channel, exc)
                return False
            return await self._refused(item, exc)
        except (CclarkError, ValueError) as exc:
            logger.error("cannot send %s %s to %s: %s", item.kind, item.key, item.channel, exc)
            await self._record(self._outbox.abandon, item)
            return True
        await self._record(self._outbox.confirmed, item, content, message_id, sequence=sequence)
        if item.released and not item.pending:
            self._pacer(item).forget(item.key)
            self._streams.forget(item.key)
        return True

    def _streamed(self, item: Item) -> bool:
        """A card already streamed, or a new one that asks to be, while CardKit is allowed."""
        if item.kind is not ItemKind.CARD:
            return False
        return item.card_id is not None or (
            self._cardkit and item.message_id is None and streams(json.loads(item.content))
        )

    async def _send_streamed(self, item: Item, uuid: str) -> tuple[str, int | None]:
        """Create (and record) the entity, send its message, or stream the change."""
        self._stream_updates.note(item.key)
        if item.card_id is None:
            card_id = await self._streams.create(item)
            await self._record(self._outbox.entity_created, item, card_id)
        assert item.card_id is not None
        if item.message_id is None:
            return await self._streams.show(item, item.card_id, uuid), None
        reserved = self._streams.reserve(item)
        if reserved is not None:
            await self._record(self._outbox.sequence_reserved, item, reserved)
        return item.message_id, await self._streams.update(item)

    def _pacer(self, item: Item) -> Pacer:
        return self._stream_updates if item.card_id is not None else self._updates

    async def _refused(self, item: Item, exc: FeishuApiError) -> bool:
        logger.error("Feishu refused %s %s for %s: %s", item.kind, item.key, item.channel, exc)
        await self._record(self._outbox.abandon, item)
        return True

    async def _record(self, change: Any, *args: Any, **kwargs: Any) -> None:
        async with self._journal.unit():
            change(*args, **kwargs)


def _plain(card: dict[str, Any]) -> dict[str, Any]:
    """A card to create or patch as a message: streaming is CardKit's alone."""
    config = card.get("config")
    if isinstance(config, dict):
        config.pop("streaming_mode", None)
    return card
