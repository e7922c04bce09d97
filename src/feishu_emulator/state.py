"""The recorded world of the emulated tenant: apps, tokens, users, chats, messages, card
entities, events.

Owns every record and the lock that guards them (the server's loop writes, tests read from
their own thread), and tells listeners which message changed (a card entity's change is its
message's); decides no platform rule (im.py, cards.py) and does no I/O.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass

from feishu_emulator import ids
from feishu_emulator.errors import UnknownRecordError
from feishu_emulator.models import (
    Ack,
    App,
    CardEntity,
    CardOp,
    Chat,
    ChatType,
    Connection,
    Delivery,
    Limits,
    Message,
    Sent,
    User,
)

__all__ = ["ChangeListener", "StoredEvent", "StoredFile", "World"]

ChangeListener = Callable[[str], None]
"""Called with a message_id after that message was stored or changed, on that thread."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Token:
    app_id: str
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvent:
    event_id: str
    app_id: str
    payload: bytes
    attempts: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredFile:
    file_key: str
    file_name: str
    file_type: str
    data: bytes


class World:
    """What the tenant remembers; every method is atomic under one lock."""

    def __init__(self, *, clock: Callable[[], float], limits: Limits) -> None:
        self._clock = clock
        self._limits = limits
        self._lock = threading.RLock()
        self._apps: dict[str, App] = {}
        self._tokens: dict[str, _Token] = {}
        self._users: dict[str, User] = {}
        self._chats: dict[str, Chat] = {}
        self._p2p: dict[tuple[str, str], str] = {}
        self._messages: dict[str, Message] = {}
        self._threads: dict[str, str] = {}
        self._sent: list[Sent] = []
        self._uuids: dict[tuple[str, str], tuple[str, float]] = {}
        self._events: dict[str, StoredEvent] = {}
        self._deliveries: dict[str, Delivery] = {}
        self._pushed_mono: dict[str, float] = {}
        self._acks: list[Ack] = []
        self._connections: dict[str, Connection] = {}
        self._images: dict[str, bytes] = {}
        self._files: dict[str, StoredFile] = {}
        self._cards: dict[str, CardEntity] = {}
        self._card_ops: list[CardOp] = []
        self._listeners: list[ChangeListener] = []
        self.default_user = self.user(None)

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    # apps and tokens

    def register_app(self, app: App) -> App:
        """Add an app, or replace it (a rotated secret); its old tokens stay valid."""
        with self._lock:
            self._apps[app.app_id] = app
            return app

    def app(self, app_id: str | None = None) -> App:
        """The app with this id; None means the first registered one."""
        with self._lock:
            if app_id is None and self._apps:
                return next(iter(self._apps.values()))
            if app_id is not None and app_id in self._apps:
                return self._apps[app_id]
            raise UnknownRecordError(f"no app {app_id!r} is registered")

    @property
    def apps(self) -> tuple[App, ...]:
        with self._lock:
            return tuple(self._apps.values())

    def credentials_match(self, app_id: str, app_secret: str) -> bool:
        with self._lock:
            app = self._apps.get(app_id)
            return app is not None and app.app_secret == app_secret

    def issue_token(self, app_id: str) -> tuple[str, int]:
        """A tenant token and its seconds left: the current one unless it is nearly spent."""
        now = self._clock()
        with self._lock:
            for token, held in self._tokens.items():
                left = int(held.expires_at - now)
                usable = held.app_id == app_id and not held.revoked
                if usable and left >= self._limits.token_reissue_below:
                    return token, left
            token = ids.new_token()
            self._tokens[token] = _Token(app_id=app_id, expires_at=now + self._limits.token_ttl)
            return token, self._limits.token_ttl

    def token_app(self, token: str) -> str | None:
        """The app a live token belongs to, or None (unknown, expired or revoked)."""
        with self._lock:
            held = self._tokens.get(token)
        if held is None or held.revoked or held.expires_at <= self._clock():
            return None
        return held.app_id

    def invalidate_tokens(self, app_id: str | None = None) -> int:
        with self._lock:
            revoked = {
                token: dataclasses.replace(held, revoked=True)
                for token, held in self._tokens.items()
                if not held.revoked and app_id in (None, held.app_id)
            }
            self._tokens.update(revoked)
            return len(revoked)

    # users and chats

    def user(self, open_id: str | None, name: str = "") -> User:
        """The user with this open_id, created on first sight; None makes a new one."""
        with self._lock:
            key = open_id or ids.new_open_id()
            if key not in self._users:
                self._users[key] = User.from_open_id(key, name)
            return self._users[key]

    def chat(self, chat_id: str) -> Chat:
        with self._lock:
            if chat_id not in self._chats:
                raise UnknownRecordError(f"no chat {chat_id!r}")
            return self._chats[chat_id]

    @property
    def chats(self) -> tuple[Chat, ...]:
        with self._lock:
            return tuple(self._chats.values())

    def open_chat(self, chat_id: str | None, chat_type: ChatType, name: str = "") -> Chat:
        """The chat with this id, created with this type if new."""
        with self._lock:
            if chat_id is not None and chat_id in self._chats:
                return self._chats[chat_id]
            chat = Chat(chat_id=chat_id or ids.new_chat_id(), chat_type=chat_type, name=name)
            self._chats[chat.chat_id] = chat
            return chat

    def p2p_chat(self, app_id: str, open_id: str, chat_id: str | None = None) -> Chat:
        """The one p2p chat between a bot and a user; a new one gets ``chat_id`` if given.

        Raises: ValueError (``chat_id`` is already another chat).
        """
        with self._lock:
            self.user(open_id)
            if (app_id, open_id) not in self._p2p:
                if chat_id is not None and chat_id in self._chats:
                    raise ValueError(f"chat {chat_id} exists and is not this p2p chat")
                chat = Chat(
                    chat_id=chat_id or ids.new_chat_id(),
                    chat_type=ChatType.P2P,
                    p2p_open_id=open_id,
                )
                self._chats[chat.chat_id] = chat
                self._p2p[(app_id, open_id)] = chat.chat_id
            return self._chats[self._p2p[(app_id, open_id)]]

    def find_user(self, id_type: str, value: str) -> User | None:
        """The user whose open_id, union_id or user_id (``id_type``) is ``value``."""
        with self._lock:
            for user in self._users.values():
                match id_type:
                    case "open_id" if user.open_id == value:
                        return user
                    case "union_id" if user.union_id == value:
                        return user
                    case "user_id" if user.user_id == value:
                        return user
            return None

    # messages and threads

    def message(self, message_id: str) -> Message:
        with self._lock:
            if message_id not in self._messages:
                raise UnknownRecordError(f"no message {message_id!r}")
            return self._messages[message_id]

    def has_message(self, message_id: str) -> bool:
        with self._lock:
            return message_id in self._messages

    def store_message(self, message: Message) -> Message:
        with self._lock:
            self._messages[message.message_id] = message
        self._tell(message.message_id)
        return message

    def change_message(self, message_id: str, change: Callable[[Message], Message]) -> Message:
        """Replace a message by ``change(message)`` atomically. Raises: UnknownRecordError."""
        with self._lock:
            changed = change(self.message(message_id))
            self._messages[message_id] = changed
        self._tell(message_id)
        return changed

    def messages_in(self, chat_id: str) -> tuple[Message, ...]:
        with self._lock:
            return tuple(m for m in self._messages.values() if m.chat_id == chat_id)

    def thread_root(self, thread_id: str) -> Message:
        with self._lock:
            if thread_id not in self._threads:
                raise UnknownRecordError(f"no thread {thread_id!r}")
            return self._messages[self._threads[thread_id]]

    def open_thread(self, root_id: str) -> str:
        """The thread rooted at this message, opened now if it has none."""
        with self._lock:
            root = self.message(root_id)
            if root.thread_id is not None:
                return root.thread_id
            thread_id = ids.new_thread_id()
            self._threads[thread_id] = root_id
            self._messages[root_id] = dataclasses.replace(root, thread_id=thread_id)
        self._tell(root_id)
        return thread_id

    def add_listener(self, listener: ChangeListener) -> None:
        """Call ``listener`` after every change to a message, outside the lock."""
        with self._lock:
            self._listeners.append(listener)

    def _tell(self, message_id: str) -> None:
        with self._lock:
            listeners = tuple(self._listeners)
        for listener in listeners:
            listener(message_id)

    # what the bot sent, idempotency

    def record_sent(self, draft: Sent) -> Sent:
        """Append a call the bot made, numbering it and stamping the time."""
        with self._lock:
            sent = dataclasses.replace(draft, seq=len(self._sent) + 1, at=self.now_ms())
            self._sent.append(sent)
            return sent

    @property
    def sent(self) -> tuple[Sent, ...]:
        with self._lock:
            return tuple(self._sent)

    def remembered_uuid(self, app_id: str, uuid: str) -> str | None:
        """The message an earlier call with this uuid made, inside the de-dup window."""
        with self._lock:
            found = self._uuids.get((app_id, uuid))
        if found is None or self._clock() - found[1] > self._limits.uuid_window:
            return None
        return found[0]

    def remember_uuid(self, app_id: str, uuid: str, message_id: str) -> None:
        with self._lock:
            self._uuids[(app_id, uuid)] = (message_id, self._clock())

    # CardKit card entities

    def store_card(self, card: CardEntity) -> CardEntity:
        """Add or replace a card entity; the message showing it (if sent) shows it anew."""
        shown: str | None = None
        with self._lock:
            self._cards[card.card_id] = card
            message = self._messages.get(card.message_id or "")
            if message is not None and message.content != card.content:
                self._messages[message.message_id] = dataclasses.replace(
                    message, content=card.content, update_time=self.now_ms(), updated=True
                )
                shown = message.message_id
        if shown is not None:
            self._tell(shown)
        return card

    def card(self, card_id: str) -> CardEntity:
        with self._lock:
            if card_id not in self._cards:
                raise UnknownRecordError(f"no card entity {card_id!r}")
            return self._cards[card_id]

    def record_card_op(self, draft: CardOp) -> CardOp:
        """Append an accepted CardKit call, numbering it and stamping the time."""
        with self._lock:
            op = dataclasses.replace(draft, seq=len(self._card_ops) + 1, at=self.now_ms())
            self._card_ops.append(op)
            return op

    @property
    def card_ops(self) -> tuple[CardOp, ...]:
        with self._lock:
            return tuple(self._card_ops)

    # events, deliveries, acks

    def store_event(self, event_id: str, app_id: str, payload: bytes) -> None:
        with self._lock:
            self._events[event_id] = StoredEvent(event_id=event_id, app_id=app_id, payload=payload)

    def event(self, event_id: str) -> StoredEvent:
        with self._lock:
            if event_id not in self._events:
                raise UnknownRecordError(f"no event {event_id!r}")
            return self._events[event_id]

    def record_delivery(self, delivery: Delivery, pushed_mono: float) -> Delivery:
        """Remember a push, numbering it among this event's attempts."""
        with self._lock:
            stored = self.event(delivery.event_id)
            attempt = stored.attempts + 1
            self._events[delivery.event_id] = dataclasses.replace(stored, attempts=attempt)
            delivery = dataclasses.replace(delivery, attempt=attempt)
            self._deliveries[delivery.delivery_id] = delivery
            self._pushed_mono[delivery.delivery_id] = pushed_mono
            return delivery

    @property
    def deliveries(self) -> tuple[Delivery, ...]:
        with self._lock:
            return tuple(self._deliveries.values())

    def record_ack(
        self,
        *,
        delivery_id: str,
        device_id: str,
        code: int,
        biz_rt_ms: int | None,
        data: str | None,
        acked_mono: float,
    ) -> Ack:
        with self._lock:
            delivery = self._deliveries.get(delivery_id)
            pushed = self._pushed_mono.get(delivery_id)
            ack = Ack(
                delivery_id=delivery_id,
                event_id=None if delivery is None else delivery.event_id,
                device_id=device_id,
                code=code,
                biz_rt_ms=biz_rt_ms,
                latency=None if pushed is None else acked_mono - pushed,
                data=data,
                received_at=self._clock(),
            )
            self._acks.append(ack)
            return ack

    @property
    def acks(self) -> tuple[Ack, ...]:
        with self._lock:
            return tuple(self._acks)

    # connections

    def connection_opened(self, device_id: str, app_id: str) -> Connection:
        with self._lock:
            opened = Connection(device_id=device_id, app_id=app_id, opened_at=self._clock())
            self._connections[device_id] = opened
            return opened

    def connection_closed(self, device_id: str) -> None:
        with self._lock:
            held = self._connections[device_id]
            self._connections[device_id] = dataclasses.replace(held, closed_at=self._clock())

    def connection_pinged(self, device_id: str) -> None:
        with self._lock:
            held = self._connections[device_id]
            self._connections[device_id] = dataclasses.replace(held, pings=held.pings + 1)

    @property
    def connections(self) -> tuple[Connection, ...]:
        """Every connection ever opened, oldest first; ``live`` tells the open ones."""
        with self._lock:
            return tuple(self._connections.values())

    # uploads

    def store_image(self, data: bytes) -> str:
        with self._lock:
            key = ids.new_image_key()
            self._images[key] = data
            return key

    def image(self, image_key: str) -> bytes:
        with self._lock:
            if image_key not in self._images:
                raise UnknownRecordError(f"no image {image_key!r}")
            return self._images[image_key]

    def has_image(self, image_key: str) -> bool:
        with self._lock:
            return image_key in self._images

    def store_file(self, *, file_name: str, file_type: str, data: bytes) -> StoredFile:
        with self._lock:
            stored = StoredFile(
                file_key=ids.new_file_key(), file_name=file_name, file_type=file_type, data=data
            )
            self._files[stored.file_key] = stored
            return stored

    def has_file(self, file_key: str) -> bool:
        with self._lock:
            return file_key in self._files

    def file(self, file_key: str) -> StoredFile:
        with self._lock:
            if file_key not in self._files:
                raise UnknownRecordError(f"no file {file_key!r}")
            return self._files[file_key]
