"""The web chat page: a browser UI on the emulator through which a person talks to the bot.

Owns the page's routes (``/`` and ``/chat``, its static files, its settings as JSON), opening
the page's chats when the emulator is built, and the message feed: a version counter over the
world's message changes and the long-poll that waits for it, woken on the server's loop.
Posting uses ``POST /_emulator/messages`` (control_http.py) and rendering is the browser's
(``page/*.js``). Must not know the bot: the page shows what the emulated platform holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from feishu_emulator.control_http import CONTROL_PREFIX, to_json
from feishu_emulator.models import ChatType, Message, PageSettings
from feishu_emulator.state import World

__all__ = ["PAGE_DIR", "PAGE_PREFIX", "ChatPage", "MessageFeed"]

PAGE_DIR: Final = Path(__file__).with_name("page")
PAGE_PREFIX: Final = f"{CONTROL_PREFIX}/page"
DEFAULT_WAIT: Final = 25.0
MAX_WAIT: Final = 60.0
NO_CACHE: Final = {"Cache-Control": "no-cache"}


class MessageFeed:
    """Numbers every change to a message of the page's chats; long-polls wait for the next.

    The world tells the feed from whichever thread changed a message; waiters live on the
    server's loop, which the feed learns in open() and wakes with call_soon_threadsafe.
    """

    def __init__(self, *, world: World, chat_ids: frozenset[str]) -> None:
        self._world = world
        self._chat_ids = chat_ids
        self._lock = threading.Lock()
        self._version = 0
        self._changed_at: dict[str, int] = {}  # message_id -> version of its last change
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._closed = False
        self._waiting = 0
        world.add_listener(self._on_change)

    @property
    def version(self) -> int:
        with self._lock:
            return self._version

    @property
    def waiting(self) -> int:
        """How many long-polls are parked now."""
        return self._waiting

    def open(self) -> None:
        """Wake waiters on the running loop from now on (the server's)."""
        self._loop = asyncio.get_running_loop()
        self._closed = False

    def close(self) -> None:
        """End every wait now and every later one at once (the server is shutting down)."""
        self._closed = True
        self._notify()

    def changes_since(self, after: int) -> tuple[int, tuple[Message, ...]]:
        """The version now and the page's messages changed after version ``after``, as they
        stand now, oldest first."""
        with self._lock:
            version = self._version
            changed = [mid for mid, at in self._changed_at.items() if at > after]
        return version, tuple(self._world.message(message_id) for message_id in changed)

    async def wait_past(self, after: int, *, within: float) -> None:
        """Return once the version passes ``after``, the feed closes, or ``within`` s pass.

        Runs on the server's loop; cancel-safe.
        """
        self._waiting += 1
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    while self.version <= after and not self._closed:
                        await self._wake.wait()
        finally:
            self._waiting -= 1

    def _on_change(self, message_id: str) -> None:
        if self._world.message(message_id).chat_id not in self._chat_ids:
            return
        with self._lock:
            self._version += 1
            self._changed_at[message_id] = self._version
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._notify)

    def _notify(self) -> None:
        # Waiters hold the old event; a fresh one is armed for the next change.
        woken, self._wake = self._wake, asyncio.Event()
        woken.set()


class ChatPage:
    """The page's routes and chats for one PageSettings over one world."""

    def __init__(self, *, settings: PageSettings, world: World, loopback_only: bool) -> None:
        self.settings = settings
        self._world = world
        self._loopback_only = loopback_only
        self.feed = MessageFeed(world=world, chat_ids=settings.chat_ids)

    def open_chats(self) -> None:
        """Create the users (with their names), their p2p chats with the bot and the group.

        Raises: UnknownRecordError (the app is not registered), ValueError (a chat id is
        taken by another chat).
        """
        app = self._world.app(self.settings.app_id)
        for user in self.settings.users:
            self._world.user(user.open_id, user.name)
            chat = self._world.p2p_chat(app.app_id, user.open_id, user.p2p_chat_id)
            if chat.chat_id != user.p2p_chat_id:
                raise ValueError(f"{user.open_id} already has the p2p chat {chat.chat_id}")
        group = self._world.open_chat(
            self.settings.group_chat_id, ChatType.GROUP, self.settings.group_name
        )
        if group.chat_type is not ChatType.GROUP:
            raise ValueError(f"chat {group.chat_id} exists and is not a group")

    def install(self, application: web.Application) -> None:
        """Add the page's routes, and open/close the feed with the application."""
        application.add_routes(
            [
                web.get("/", self.index),
                web.get("/chat", self.index),
                web.get(f"{PAGE_PREFIX}/config", self.config),
                web.get(f"{PAGE_PREFIX}/updates", self.updates),
                web.static(f"{PAGE_PREFIX}/static", PAGE_DIR),
            ]
        )
        application.on_startup.append(self._open_feed)
        application.on_shutdown.append(self._close_feed)

    async def index(self, _: web.Request) -> web.StreamResponse:
        return web.FileResponse(PAGE_DIR / "index.html", headers=NO_CACHE)

    async def config(self, _: web.Request) -> web.StreamResponse:
        return web.json_response(self.config_json(), headers=NO_CACHE)

    def config_json(self) -> dict[str, Any]:
        """The settings as the page reads them, plus the bot's open_id and the exposure."""
        settings = self.settings
        app = self._world.app(settings.app_id)
        return {
            "app_id": settings.app_id,
            "app_name": settings.app_name or settings.bot_name,
            "bot_name": settings.bot_name,
            "bot_open_id": app.bot_open_id,
            "users": to_json(settings.users),
            "group_chat_id": settings.group_chat_id,
            "group_name": settings.group_name,
            "loopback_only": self._loopback_only,
        }

    async def updates(self, request: web.Request) -> web.StreamResponse:
        """``?after=<version>&wait=<s>``: the page's messages changed since that version,
        answered at once when there are some, else when the next change comes or after
        ``wait`` seconds (then with none)."""
        try:
            after, wait = _after(request), _wait(request)
        except ValueError as error:
            return web.json_response({"error": str(error)}, status=400)
        reset = after > self.feed.version  # a page older than this emulator: resend all
        if reset:
            after = 0
        await self.feed.wait_past(after, within=wait)
        version, messages = self.feed.changes_since(after)
        body = {"version": version, "reset": reset, "messages": to_json(messages)}
        return web.json_response(body, headers=NO_CACHE)

    async def _open_feed(self, _: web.Application) -> None:
        self.feed.open()

    async def _close_feed(self, _: web.Application) -> None:
        self.feed.close()


def _after(request: web.Request) -> int:
    raw = request.query.get("after", "0")
    if not (raw.isascii() and raw.isdigit()):
        raise ValueError("after must be a version number (0 or more)")
    return int(raw)


def _wait(request: web.Request) -> float:
    raw = request.query.get("wait")
    if raw is None:
        return DEFAULT_WAIT
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("wait must be a number of seconds") from None
    if not 0 <= value <= MAX_WAIT:
        raise ValueError(f"wait must be within 0..{MAX_WAIT:g} seconds")
    return value
