"""The web chat page: a browser UI on the emulator through which a person talks to the bot.

Owns the page's routes under ``/chat`` (the page, its static files, its settings as JSON, the
message feed, posting as one of its users, the images in its chats), opening the page's chats
when the emulator is built, and the message feed: a version counter over the world's message
changes and the long-poll that waits for it, woken on the server's loop. Who may use the routes
is page_access.py's; rendering is the browser's (``page/*.js``). Must not know the bot: the
page shows what the emulated platform holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from feishu_emulator.control_http import image_type, to_json
from feishu_emulator.errors import UnknownRecordError
from feishu_emulator.models import (
    CardClick,
    ChatType,
    Clicked,
    Message,
    PageSettings,
    PageUser,
    Posted,
    UserMessage,
)
from feishu_emulator.page_access import PageAccess
from feishu_emulator.state import World

__all__ = ["PAGE_DIR", "PAGE_PREFIX", "ChatPage", "MessageFeed"]

PAGE_DIR: Final = Path(__file__).with_name("page")
PAGE_PREFIX: Final = "/chat"
STATIC_FILES: Final = frozenset({"chat.js", "card.js", "markdown.js", "page.css"})
DEFAULT_WAIT: Final = 25.0
MAX_WAIT: Final = 60.0
NO_CACHE: Final = {"Cache-Control": "no-cache"}
# The page is served only to itself: no framing, no inline script, nothing fetched elsewhere.
PAGE_HEADERS: Final = {
    **NO_CACHE,
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

Post = Callable[[UserMessage], Awaitable[Posted]]
Click = Callable[[CardClick], Awaitable[Clicked]]


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

    def __init__(
        self,
        *,
        settings: PageSettings,
        world: World,
        post: Post,
        click: Click,
        loopback_only: bool,
        access: PageAccess | None = None,
    ) -> None:
        self.settings = settings
        self._world = world
        self._post = post
        self._click = click
        self._loopback_only = loopback_only
        self.access = access or PageAccess()
        self.feed = MessageFeed(world=world, chat_ids=settings.chat_ids)

    @property
    def path_with_token(self) -> str:
        """``/chat?token=…``: what a person opens to get in."""
        return f"{PAGE_PREFIX}?token={self.access.token}"

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
        """Add the page's routes, each behind the access check, and open/close the feed with
        the application."""
        page, api, p = self.access.page, self.access.api, PAGE_PREFIX
        application.add_routes(
            [
                web.get("/", page(self.index)),
                web.get(p, page(self.index)),
                web.get(f"{p}/config", api(self.config)),
                web.get(f"{p}/updates", api(self.updates)),
                web.post(f"{p}/messages", api(self.post)),
                web.post(f"{p}/clicks", api(self.click)),
                web.get(f"{p}/images/{{image_key}}", api(self.image)),
                web.get(f"{p}/static/{{name}}", api(self.static)),
            ]
        )
        application.on_startup.append(self._open_feed)
        application.on_shutdown.append(self._close_feed)

    async def index(self, _: web.Request) -> web.StreamResponse:
        return web.FileResponse(PAGE_DIR / "index.html", headers=PAGE_HEADERS)

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        return web.FileResponse(PAGE_DIR / name, headers=NO_CACHE)

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

    async def post(self, request: web.Request) -> web.StreamResponse:
        """One of the page's users writes in their p2p chat or the group (a new topic, or a
        reply in one); nothing else can be posted from the page."""
        try:
            raw: Any = json.loads(await request.read())
            message = self._user_message(raw)
            posted = await self._post(message)
        except (ValueError, UnknownRecordError) as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response(to_json(posted))

    async def click(self, request: web.Request) -> web.StreamResponse:
        """One of the page's users taps a button of a card in one of the page's chats; the
        answer is what the bot said (its toast), or that it did not answer in time."""
        try:
            raw: Any = json.loads(await request.read())
            clicked = await self._click(self._card_click(raw))
        except (ValueError, UnknownRecordError) as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response(to_json(clicked))

    async def image(self, request: web.Request) -> web.StreamResponse:
        try:
            data = self._world.image(request.match_info["image_key"])
        except UnknownRecordError:
            raise web.HTTPNotFound() from None
        return web.Response(body=data, content_type=image_type(data))

    def _user_message(self, raw: Any) -> UserMessage:
        """The page's post as a UserMessage. Raises: ValueError naming what is wrong."""
        if not isinstance(raw, dict):
            raise ValueError("the body must be a JSON object")
        text, chat = raw.get("text"), raw.get("chat")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text must be a non-empty string")
        user = self._user(raw.get("sender_open_id"))
        thread_id, reply_to = _optional_id(raw, "thread_id"), _optional_id(raw, "reply_to")
        base = UserMessage(
            msg_type="text", content={"text": text}, sender_open_id=user.open_id,
            app_id=self.settings.app_id,
        )  # fmt: skip
        if chat == "p2p" and thread_id is None and reply_to is None:
            return dataclasses.replace(base, chat_id=user.p2p_chat_id, chat_type=ChatType.P2P)
        if chat != "group":
            raise ValueError('chat must be "p2p" or "group" (topics are in the group only)')
        return dataclasses.replace(
            base, chat_id=self.settings.group_chat_id, chat_type=ChatType.GROUP,
            mention_bot=True, thread_id=thread_id, reply_to=reply_to,
            start_thread=thread_id is None and reply_to is None,
        )  # fmt: skip

    def _card_click(self, raw: Any) -> CardClick:
        """The page's tap as a CardClick. Raises: ValueError naming what is wrong."""
        if not isinstance(raw, dict):
            raise ValueError("the body must be a JSON object")
        message_id, value = raw.get("message_id"), raw.get("value")
        if not isinstance(value, dict):
            raise ValueError("value must be the button's callback value (an object)")
        user = self._user(raw.get("sender_open_id"))
        if not isinstance(message_id, str) or not self._world.has_message(message_id):
            raise ValueError("message_id must name a card in one of the page's chats")
        message = self._world.message(message_id)
        if message.chat_id not in self.feed_chats or message.msg_type != "interactive":
            raise ValueError("message_id must name a card in one of the page's chats")
        return CardClick(message_id=message_id, value=value, operator_open_id=user.open_id)

    @property
    def feed_chats(self) -> frozenset[str]:
        return self.settings.chat_ids

    def _user(self, open_id: object) -> PageUser:
        for user in self.settings.users:
            if user.open_id == open_id:
                return user
        raise ValueError("sender_open_id must be one of the page's users")

    async def _open_feed(self, _: web.Application) -> None:
        self.feed.open()

    async def _close_feed(self, _: web.Application) -> None:
        self.feed.close()


def _optional_id(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is not None and not (isinstance(value, str) and value):
        raise ValueError(f"{name} must be a message or thread id")
    return value


def _after(request: web.Request) -> int:
    raw = request.query.get("after", "0")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
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
