"""The composition root: config, FeishuClient, FeishuAdapter, UnifiedICC, handlers, WS, /health.

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

from cclark.adapter import FeishuAdapter
from cclark.audit import AuditLog
from cclark.config import CclarkConfig, FeishuApp
from cclark.errors import CclarkError
from cclark.event_parsers import FeishuMessageEvent, parse_feishu_channel
from cclark.feishu_client import FeishuClient
from cclark.handlers import (
    Dispatcher,
    InboundPolicy,
    MessageHandler,
    render_messages,
    render_prompt,
)
from cclark.health import HealthServer
from cclark.seen_messages import SeenMessages
from cclark.ws_client import FeishuWsClient
from unified_icc import AgentMessageEvent, AgentStatus, ChannelId, StatusEvent, UnifiedICC

__all__ = ["ChatReplies", "run", "serve"]

logger = logging.getLogger(__name__)


class ChatReplies:
    """Answers a chat (or its topic) through the adapter."""

    def __init__(self, adapter: FeishuAdapter) -> None:
        self._adapter = adapter

    async def reply_text(self, event: FeishuMessageEvent, text: str) -> None:
        await self._adapter.send_text(event.channel_id, text)

    async def reply_image(self, event: FeishuMessageEvent, png: bytes) -> None:
        await self._adapter.send_image(event.channel_id, png)


Relay = Callable[[AgentMessageEvent], Awaitable[None]]


def _relay(app: FeishuApp, adapter: FeishuAdapter, gateway: UnifiedICC) -> Relay:
    async def relay(event: AgentMessageEvent) -> None:
        for channel_id in _ours(app, event.channel_ids):
            verbose = bool(gateway.channel_setting(channel_id, "verbose", False))
            text = render_messages(event.messages, verbose=verbose)
            if text:
                await _post(adapter, channel_id, text, event.window_id)

    return relay


StatusRelay = Callable[[StatusEvent], Awaitable[None]]


def _prompt_relay(app: FeishuApp, adapter: FeishuAdapter) -> StatusRelay:
    async def relay(event: StatusEvent) -> None:
        if event.status is AgentStatus.PROMPT and event.prompt is not None:
            text = render_prompt(event.prompt)
        elif event.status is AgentStatus.DEAD:
            text = "The agent has exited. Send #new to start a new session."
        else:
            return
        for channel_id in _ours(app, event.channel_ids):
            await _post(adapter, channel_id, text, event.window_id)

    return relay


def _ours(app: FeishuApp, channels: tuple[ChannelId, ...]) -> list[ChannelId]:
    # Another app's chats are answered by that app's own process.
    return [c for c in channels if parse_feishu_channel(c).app == app.name]


async def _post(adapter: FeishuAdapter, channel_id: ChannelId, text: str, window: str) -> None:
    try:
        await adapter.send_text(channel_id, text)
    except CclarkError as exc:
        logger.error("could not post for window %s to %s: %s", window, channel_id, exc)


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
    seen = SeenMessages(folder / f"seen-{app.name}.json")
    seen.load()
    async with AsyncExitStack() as stack:
        client = FeishuClient(app)
        stack.push_async_callback(client.close)
        adapter = FeishuAdapter(client, app_name=app.name)
        gateway = UnifiedICC(config.gateway)
        await gateway.start()
        stack.push_async_callback(gateway.stop)
        gateway.on_message(_relay(app, adapter, gateway))
        gateway.on_status(_prompt_relay(app, adapter))
        replies = ChatReplies(adapter)
        handler = MessageHandler(gateway=gateway, replier=replies, audit=audit)
        dispatcher = Dispatcher(
            policy=InboundPolicy(
                app_name=app.name, allows=app.allows, started_at_ms=int(time.time() * 1000)
            ),
            seen=seen,
            audit=audit,
            replier=replies,
            handle=handler.handle,
            observe=adapter.note_inbound,
        )
        stack.push_async_callback(dispatcher.stop)

        async def accept(data: Any) -> None:
            await dispatcher.accept(data)

        ws = FeishuWsClient(
            app=app, on_event=accept, watchdog_seconds=config.feishu.watchdog_seconds
        )
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


def run(config: CclarkConfig, app: FeishuApp) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(config, app, stop=stop)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0
