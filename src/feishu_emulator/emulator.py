"""``Emulator``: the Feishu emulator on a thread and loop of its own, with a Python API.

Owns the hosting thread, the hop from the caller's loop to the server's, and the wait_*
polling helpers. The server runs apart because lark-oapi fetches tokens with blocking
``requests`` even in its async calls: on the caller's loop, the two would deadlock.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypedDict, TypeVar, Unpack

from feishu_emulator.app import EmulatorServer, EmulatorSettings
from feishu_emulator.errors import EmulatorStateError, EmulatorTimeoutError
from feishu_emulator.faults import ServerErrorBody
from feishu_emulator.hosting import LoopThread
from feishu_emulator.models import (
    Ack,
    Api,
    App,
    CardClick,
    CardEntity,
    CardOp,
    Chat,
    ChatType,
    Clicked,
    ClientConfig,
    Connection,
    Delivery,
    DeliveryState,
    Limits,
    Message,
    PageSettings,
    Posted,
    Reaction,
    RefuseMode,
    Sent,
    UserMessage,
)
from feishu_emulator.state import StoredFile

__all__ = ["Emulator", "MessageOptions"]

T = TypeVar("T")
POLL_INTERVAL = 0.02
DEFAULT_TIMEOUT = 15.0


class MessageOptions(TypedDict, total=False):
    """Where and as whom a user posts: UserMessage's fields after content."""

    chat_id: str | None
    chat_type: ChatType
    sender_open_id: str | None
    mention_bot: bool
    thread_id: str | None
    reply_to: str | None
    start_thread: bool
    create_time: int | None
    app_id: str | None


class _State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


class Emulator:
    """The emulated Open Platform for one test (or one person), served on 127.0.0.1.

    ``async with Emulator() as emu:`` starts it; give ``emu.url`` as the ``domain`` of both
    lark-oapi clients and ``emu.app.app_id`` / ``emu.app.app_secret`` as credentials.
    Reads (``sent``, ``acks``, ...) are snapshots and may be taken from any thread.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        apps: Sequence[App] | None = None,
        client_config: ClientConfig | None = None,
        limits: Limits | None = None,
        pong_carries_config: bool = True,
        clock: Callable[[], float] = time.time,
        allow_remote: bool = False,
        page: PageSettings | None = None,
        page_token: str | None = None,
        test_controls: bool = False,
    ) -> None:
        """``test_controls`` mounts the /_emulator HTTP control surface (the Python API below
        works without it); ``page`` serves the chat page, behind a token (``page_url``)."""
        settings = EmulatorSettings(
            host=host,
            port=port,
            apps=tuple(apps) if apps else (App(),),
            client_config=client_config or ClientConfig(),
            limits=limits or Limits(),
            pong_carries_config=pong_carries_config,
            clock=clock,
            allow_remote=allow_remote,
            page=page,
            page_token=page_token,
            test_controls=test_controls,
        )
        self._server = EmulatorServer(settings)
        self._control = self._server.control
        self._world = self._server.world
        self._host = LoopThread("feishu-emulator")
        self._state = _State.NEW

    # lifecycle

    async def start(self) -> Self:
        """Serve on a new thread; returns once the port is bound.

        Raises: EmulatorStateError (not new), OSError (the port cannot be bound).
        """
        if self._state is not _State.NEW:
            raise EmulatorStateError(f"cannot start an emulator that is {self._state.value}")
        self._state = _State.RUNNING
        try:
            await self._host.start(self._server.start())
        except BaseException:
            self._state = _State.STOPPED
            raise
        return self

    async def stop(self) -> None:
        """Close the bots' sockets, the server, its loop and thread. Idempotent."""
        if self._state is _State.RUNNING:
            await self._host.stop(self._server.stop())
        self._state = _State.STOPPED

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # reads

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the ``domain`` for lark-oapi."""
        return self._server.url

    @property
    def page_url(self) -> str:
        """``http://127.0.0.1:PORT/chat?token=…``: the chat page, with the token that lets a
        browser in. Raises: EmulatorStateError (no page settings were given, or not running)."""
        return self._server.page_url

    @property
    def app(self) -> App:
        """The first registered app (the only one unless more were given)."""
        return self._world.app()

    @property
    def apps(self) -> tuple[App, ...]:
        return self._world.apps

    @property
    def sent(self) -> tuple[Sent, ...]:
        """Every successful create, reply and patch the bot made, in order."""
        return self._world.sent

    @property
    def acks(self) -> tuple[Ack, ...]:
        return self._world.acks

    @property
    def deliveries(self) -> tuple[Delivery, ...]:
        return self._world.deliveries

    @property
    def connections(self) -> tuple[Connection, ...]:
        """Every socket ever opened, oldest first (``.live`` for the open ones)."""
        return self._world.connections

    @property
    def live_connections(self) -> tuple[Connection, ...]:
        return tuple(c for c in self._world.connections if c.live)

    @property
    def chats(self) -> tuple[Chat, ...]:
        return self._world.chats

    @property
    def client_config(self) -> ClientConfig:
        return self._control.client_config

    def message(self, message_id: str) -> Message:
        """A message as it stands now (a patched card shows its latest content)."""
        return self._world.message(message_id)

    def messages_in(self, chat_id: str) -> tuple[Message, ...]:
        """Everything in a chat, users' and bots', in order of creation."""
        return self._world.messages_in(chat_id)

    def acks_for(self, event_id: str) -> tuple[Ack, ...]:
        return tuple(a for a in self._world.acks if a.event_id == event_id)

    def event_payload(self, event_id: str) -> bytes:
        """The envelope JSON of an event, exactly as pushed (before any split)."""
        return self._world.event(event_id).payload

    def image(self, image_key: str) -> bytes:
        return self._world.image(image_key)

    def file(self, file_key: str) -> StoredFile:
        """A file the bot uploaded: its name, Feishu file_type and bytes."""
        return self._world.file(file_key)

    # acting as users (async: they write to sockets on the server's loop)

    async def post(
        self, message: UserMessage, *, parts: int = 1, part_order: Sequence[int] | None = None
    ) -> Posted:
        """A user posts ``message``; the bot gets ``im.message.receive_v1`` if addressed.

        ``parts`` splits the event into that many frames, sent in ``part_order``.
        Raises: UnknownRecordError, ValueError.
        """
        return await self._host.run(self._control.post(message, parts=parts, part_order=part_order))

    async def post_text(
        self,
        text: str,
        *,
        parts: int = 1,
        part_order: Sequence[int] | None = None,
        **options: Unpack[MessageOptions],
    ) -> Posted:
        """A user types ``text``; with ``mention_bot=True`` it starts with ``@_user_1``.

        Options are UserMessage's fields (chat_id, chat_type, sender_open_id, mention_bot,
        thread_id, reply_to, start_thread, create_time, app_id) plus parts and part_order.
        """
        return await self.post_message(
            "text", {"text": text}, parts=parts, part_order=part_order, **options
        )

    def store_image(self, data: bytes) -> str:
        """An image a user's client uploaded, for a message to show; its image_key."""
        return self._world.store_image(data)

    def store_file(self, data: bytes, file_name: str) -> str:
        """A file a user's client uploaded, for a message to carry; its file_key."""
        return self._world.store_file(file_name=file_name, file_type="stream", data=data).file_key

    async def post_image(self, data: bytes, **options: Unpack[MessageOptions]) -> Posted:
        """A user sends a photo: an ``image`` message the bot may download."""
        return await self.post_message("image", {"image_key": self.store_image(data)}, **options)

    async def post_file(
        self, data: bytes, file_name: str, **options: Unpack[MessageOptions]
    ) -> Posted:
        """A user sends a file: a ``file`` message the bot may download."""
        content = {"file_key": self.store_file(data, file_name), "file_name": file_name}
        return await self.post_message("file", content, **options)

    async def post_message(
        self,
        msg_type: str,
        content: Mapping[str, Any],
        *,
        parts: int = 1,
        part_order: Sequence[int] | None = None,
        **options: Unpack[MessageOptions],
    ) -> Posted:
        """A user posts a message of any type (``image``, ``post``, ``file``, ...)."""
        message = UserMessage(msg_type=msg_type, content=content, **options)
        return await self.post(message, parts=parts, part_order=part_order)

    async def click(
        self,
        message_id: str,
        value: Mapping[str, Any],
        *,
        operator_open_id: str | None = None,
        tag: str = "button",
    ) -> Clicked:
        """A person taps the button whose callback value is ``value`` on a bot's card; the
        bot's answer (toast, new card) within 3 s, or ``answered=False``."""
        click = CardClick(
            message_id=message_id, value=value, operator_open_id=operator_open_id, tag=tag
        )
        return await self._host.run(self._control.click(click))

    async def emit_event(
        self,
        event_type: str,
        event: Mapping[str, Any],
        *,
        app_id: str | None = None,
        parts: int = 1,
        part_order: Sequence[int] | None = None,
    ) -> Posted:
        """Push any schema 2.0 event with this ``event`` body."""
        return await self._host.run(
            self._control.emit(event_type, event, app_id=app_id, parts=parts, part_order=part_order)
        )

    async def redeliver(
        self, event_id: str, *, parts: int = 1, part_order: Sequence[int] | None = None
    ) -> DeliveryState:
        """Push an earlier event again, byte for byte. Raises: UnknownRecordError."""
        return await self._host.run(
            self._control.redeliver(event_id, parts=parts, part_order=part_order)
        )

    async def close_connections(
        self, *, app_id: str | None = None, code: int = 1000, abort: bool = False
    ) -> int:
        """Close live sockets from the server side (``abort``: no close frame)."""
        return await self._host.run(
            self._control.close_connections(app_id=app_id, code=code, abort=abort)
        )

    # the platform operator (sync, thread-safe)

    def register_app(self, app: App) -> App:
        return self._control.register_app(app)

    def open_chat(
        self, chat_id: str | None = None, *, chat_type: ChatType = ChatType.GROUP, name: str = ""
    ) -> Chat:
        return self._control.open_chat(chat_id, chat_type=chat_type, name=name)

    def set_client_config(self, config: ClientConfig) -> None:
        self._control.set_client_config(config)

    def fail_next(
        self,
        times: int = 1,
        *,
        status: int = 500,
        api: Api | None = None,
        body: ServerErrorBody = "json",
    ) -> None:
        self._control.fail_next(times, status=status, api=api, body=body)

    def rate_limit_api(
        self, api: Api | None = None, *, times: int = 1, reset_after: int = 1
    ) -> None:
        self._control.rate_limit_api(api, times=times, reset_after=reset_after)

    def rate_limit_chat(self, chat_id: str, *, times: int = 1) -> None:
        self._control.rate_limit_chat(chat_id, times=times)

    def fail_ratio(self, ratio: float, *, status: int = 500, seed: int = 0) -> None:
        self._control.fail_ratio(ratio, status=status, seed=seed)

    def slow_chat(self, chat_id: str, seconds: float) -> None:
        self._control.slow_chat(chat_id, seconds)

    def invalidate_tokens(self, app_id: str | None = None) -> int:
        return self._control.invalidate_tokens(app_id)

    def refuse_ws_endpoint(
        self,
        mode: RefuseMode = RefuseMode.HTTP_503,
        *,
        times: int | None = None,
        seconds: float | None = None,
    ) -> None:
        self._control.refuse_ws_endpoint(mode, times=times, seconds=seconds)

    def clear_faults(self) -> None:
        self._control.clear_faults()

    def faults(self) -> dict[str, object]:
        """The switches still armed (spent ones are gone)."""
        return self._control.faults()

    # waiting

    async def wait_until(
        self, predicate: Callable[[], T], *, within: float = DEFAULT_TIMEOUT, what: str = ""
    ) -> T:
        """Poll ``predicate`` until it returns something truthy, and return that.

        Cancel-safe. Raises: EmulatorTimeoutError after ``within`` seconds.
        """
        deadline = time.monotonic() + within
        while not (result := predicate()):
            if time.monotonic() >= deadline:
                raise EmulatorTimeoutError(
                    f"gave up after {within}s waiting for {what or predicate}"
                )
            await asyncio.sleep(POLL_INTERVAL)
        return result

    async def wait_connected(
        self, count: int = 1, *, app_id: str | None = None, within: float = DEFAULT_TIMEOUT
    ) -> tuple[Connection, ...]:
        """Wait until ``count`` sockets (of ``app_id``) have been opened in all, and return
        the live ones; after a reconnect, ``count=2``."""

        def opened() -> tuple[Connection, ...]:
            ever = [c for c in self.connections if app_id in (None, c.app_id)]
            live = tuple(c for c in ever if c.live)
            return live if len(ever) >= count and live else ()

        return await self.wait_until(opened, within=within, what=f"{count} connection(s)")

    async def wait_for_acks(
        self, event_id: str, count: int = 1, *, within: float = DEFAULT_TIMEOUT
    ) -> tuple[Ack, ...]:
        """The acks of an event's deliveries, once there are ``count`` of them."""

        def acked() -> tuple[Ack, ...]:
            acks = self.acks_for(event_id)
            return acks if len(acks) >= count else ()

        return await self.wait_until(acked, within=within, what=f"{count} ack(s) of {event_id}")

    async def wait_for_ack(self, event_id: str, *, within: float = DEFAULT_TIMEOUT) -> Ack:
        return (await self.wait_for_acks(event_id, 1, within=within))[0]

    async def wait_for_sent(
        self,
        count: int = 1,
        *,
        chat_id: str | None = None,
        after: int = 0,
        within: float = DEFAULT_TIMEOUT,
    ) -> tuple[Sent, ...]:
        """What the bot sent (to ``chat_id``, with ``seq`` > ``after``), once ``count``."""

        def sent() -> tuple[Sent, ...]:
            found = tuple(s for s in self.sent if s.seq > after and chat_id in (None, s.chat_id))
            return found if len(found) >= count else ()

        return await self.wait_until(sent, within=within, what=f"{count} sent message(s)")

    # CardKit card entities and reactions (reads, thread-safe)

    def card_entity(self, card_id: str) -> CardEntity:
        """A card entity as it stands now: ``.body()`` is its current card JSON, ``.sequence``
        the last accepted one, ``.message_id`` the message showing it (None until sent).

        Raises: UnknownRecordError.
        """
        return self._world.card(card_id)

    def card_entity_of(self, message_id: str) -> CardEntity | None:
        """The card entity a message shows (sent as ``{"type": "card", ...}``), else None.

        Raises: UnknownRecordError (no such message).
        """
        card_id = self._world.message(message_id).card_id
        return None if card_id is None else self._world.card(card_id)

    def card_ops(self, card_id: str | None = None) -> tuple[CardOp, ...]:
        """Every accepted CardKit call (create, content, settings, update), in order; refused
        calls are not recorded."""
        return tuple(op for op in self._world.card_ops if card_id in (None, op.card_id))

    def reactions(self, message_id: str) -> tuple[Reaction, ...]:
        """The reactions on a message now, oldest first. Raises: UnknownRecordError."""
        return self._world.message(message_id).reactions
