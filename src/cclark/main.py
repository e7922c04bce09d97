"""The composition root: config, FeishuClient, FeishuAdapter, UnifiedICC, the outbox and its
chat senders, the #ask orchestrator, handlers, WS, /health.

Owns building every object in the documented order, wiring the gateway's events back to the
chats, and an orderly stop (reverse order, on SIGINT or SIGTERM). Holds no logic of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any
from uuid import uuid4

from cclark.adapter import FeishuAdapter
from cclark.ask_model import ChatModel
from cclark.audit import AuditLog
from cclark.cards import CardJson
from cclark.chat_senders import ChatSenders
from cclark.config import CclarkConfig, FeishuApp
from cclark.errors import CclarkError
from cclark.event_parsers import Attachment, FeishuMessageEvent
from cclark.feishu_client import FeishuClient
from cclark.handlers import Dispatcher, InboundPolicy, MessageHandler
from cclark.handlers.ask import Orchestrator
from cclark.handlers.dispatch import Receipt
from cclark.handlers.taps import Taps
from cclark.health import HealthServer
from cclark.outbox import Outbox
from cclark.relay import ChatRelay
from cclark.seen_messages import SeenMessages
from cclark.ws_client import FeishuWsClient
from unified_icc import Journal, UnifiedICC

__all__ = ["ChatReplies", "run", "run_until_signal", "serve"]

logger = logging.getLogger(__name__)

BOT_INFO_WAIT = 5.0  # seconds start-up waits for Feishu to say who the bot is
SEND_ON_STOP = 3.0  # seconds a stop gives the chat senders to send what is pending


class ChatReplies:
    """Answers a chat (or its topic): texts, cards and receipts through the outbox (recorded,
    never awaited on Feishu), images through the adapter."""

    def __init__(self, adapter: FeishuAdapter, outbox: Outbox, journal: Journal) -> None:
        self._adapter = adapter
        self._outbox = outbox
        self._journal = journal

    async def reply_text(self, event: FeishuMessageEvent, text: str) -> None:
        async with self._journal.unit():
            self._outbox.put_text(f"reply:{uuid4().hex}", event.channel_id, text)

    async def reply_card(self, event: FeishuMessageEvent, key: str, card: CardJson) -> None:
        async with self._journal.unit():
            self._outbox.put_card(key, event.channel_id, card)

    async def reply_image(self, event: FeishuMessageEvent, png: bytes) -> None:
        await self._adapter.send_image(event.channel_id, png)

    async def reply_file(self, event: FeishuMessageEvent, data: bytes, file_name: str) -> None:
        await self._adapter.send_file(event.channel_id, data, file_name)

    async def download(
        self, event: FeishuMessageEvent, attachment: Attachment
    ) -> tuple[str | None, bytes]:
        got = await self._adapter.download(event.message_id, attachment.key, attachment.kind)
        return got.name, got.data

    async def react(self, event: FeishuMessageEvent, receipt: Receipt) -> None:
        async with self._journal.unit():
            self._outbox.put_reaction(f"receipt:{event.message_id}", event.channel_id,
                                      event.message_id, receipt.value)  # fmt: skip


async def serve(
    config: CclarkConfig,
    app: FeishuApp,
    *,
    stop: asyncio.Event,
    on_ready: Callable[[HealthServer], None] | None = None,
) -> None:
    """Run the bot for ``app`` until ``stop`` is set; everything is stopped in reverse order."""
    folder = config.gateway.config_dir
    audit = AuditLog(folder / "audit.jsonl")
    async with AsyncExitStack() as stack:
        client = FeishuClient(app)
        stack.push_async_callback(client.close)
        gateway = UnifiedICC(config.gateway)
        journal = gateway.journal
        seen = SeenMessages()
        gateway.on_open(seen.load)
        adapter = FeishuAdapter(client, app_name=app.name)
        gateway.on_open(adapter.load_roots)
        outbox = Outbox(journal)
        relay = ChatRelay(app_name=app.name, outbox=outbox, gateway=gateway)
        relay.subscribe()  # before start: output written while the bot was down is shown
        senders = ChatSenders(app_name=app.name, outbox=outbox, journal=journal, surface=adapter)
        await gateway.start()
        stack.push_async_callback(gateway.stop)
        senders.start()
        stack.push_async_callback(senders.stop, SEND_ON_STOP)
        replies = ChatReplies(adapter, outbox, journal)
        orchestrator = Orchestrator(settings=config.orchestrator, model=_ask_model(config),
                                    gateway=gateway, replier=replies, audit=audit)  # fmt: skip
        stack.push_async_callback(orchestrator.stop)
        handler = MessageHandler(gateway=gateway, replier=replies, audit=audit,
                                 prompts=relay.prompts, files=config.files,
                                 orchestrator=orchestrator)  # fmt: skip
        await _learn_bot_open_id(client)
        policy = InboundPolicy(
            app_name=app.name,
            allows=app.allows,
            started_at_ms=int(time.time() * 1000),
            group_messages=app.group_messages,
            bot_open_id=client.bot_open_id,
        )
        taps: Taps | None = None

        def observe(event: FeishuMessageEvent) -> None:
            adapter.note_inbound(event)
            if taps is not None:
                taps.note_inbound(event)

        dispatcher = Dispatcher(policy=policy, seen=seen, audit=audit, replier=replies,
                                handle=handler.handle, observe=observe)  # fmt: skip
        stack.push_async_callback(dispatcher.stop)
        taps = Taps(policy=policy, seen=seen, audit=audit, handler=handler,
                    prompts=relay.prompts, enqueue=dispatcher.enqueue)  # fmt: skip

        async def accept(data: Any) -> None:
            await dispatcher.accept(data)

        ws = FeishuWsClient(app=app, on_event=accept, on_tap=taps.answer,
                            watchdog_seconds=config.feishu.watchdog_seconds)  # fmt: skip
        await ws.start()
        stack.push_async_callback(ws.stop)
        health = HealthServer(gateway=gateway, link=ws, host=config.health.host,
                              port=config.health.port)  # fmt: skip
        await health.start()
        stack.push_async_callback(health.stop)
        logger.info("cclark serving app %s; health on %s:%s", app.name, config.health.host,
                    health.port)  # fmt: skip
        if on_ready is not None:
            on_ready(health)
        await stop.wait()


def _ask_model(config: CclarkConfig) -> ChatModel | None:
    """The #ask orchestrator's endpoint, when config.yaml has one."""
    if config.orchestrator is None:
        return None
    # Imported only when configured: the SDK adds about a second to start-up.
    from cclark.openai_model import OpenAIChatModel

    return OpenAIChatModel(config.orchestrator)


async def _learn_bot_open_id(client: FeishuClient) -> None:
    """Ask Feishu who the bot is before the first group message needs it; if Feishu cannot
    answer within BOT_INFO_WAIT, start anyway: the dispatcher asks again when a group message
    @mentions someone."""
    try:
        async with asyncio.timeout(BOT_INFO_WAIT):
            await client.bot_open_id()
    except (CclarkError, TimeoutError) as exc:
        logger.warning("could not learn the bot's open_id yet: %s", exc or "no answer")


def run(config: CclarkConfig, app: FeishuApp) -> int:
    """Serve app until SIGINT or SIGTERM; returns the exit status."""
    return run_until_signal(lambda stop: serve(config, app, stop=stop))


def run_until_signal(service: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    """Run service(stop) on a new event loop; SIGINT or SIGTERM sets stop. Returns 0."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await service(stop)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0
