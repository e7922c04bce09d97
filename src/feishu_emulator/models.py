"""The emulator's vocabulary: apps, users, chats, messages, cards, deliveries, acks, settings.

Owns the frozen records that the state, the wire layers and the public API exchange;
holds no behaviour beyond validation and JSON views, and knows no HTTP or WebSocket.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from feishu_emulator import ids

__all__ = [
    "Ack",
    "Api",
    "App",
    "CardEntity",
    "CardOp",
    "CardOpKind",
    "Chat",
    "ChatType",
    "ClientConfig",
    "Connection",
    "Delivery",
    "DeliveryState",
    "Limits",
    "Mention",
    "Message",
    "PageSettings",
    "PageUser",
    "Posted",
    "Reaction",
    "RefuseMode",
    "SenderType",
    "Sent",
    "SentOp",
    "User",
    "UserMessage",
]

KIB = 1024
MIB = 1024 * KIB


class ChatType(StrEnum):
    P2P = "p2p"
    GROUP = "group"


class SenderType(StrEnum):
    USER = "user"
    APP = "app"


class Api(StrEnum):
    """The REST calls the emulator serves, named like the SDK's resources."""

    TENANT_TOKEN = "auth.v3.tenant_access_token.internal"
    MESSAGE_CREATE = "im.v1.message.create"
    MESSAGE_REPLY = "im.v1.message.reply"
    MESSAGE_PATCH = "im.v1.message.patch"
    IMAGE_CREATE = "im.v1.image.create"
    FILE_CREATE = "im.v1.file.create"
    RESOURCE_GET = "im.v1.message_resource.get"
    BOT_INFO = "bot.v3.info"
    REACTION_CREATE = "im.v1.message_reaction.create"
    REACTION_DELETE = "im.v1.message_reaction.delete"
    CARD_CREATE = "cardkit.v1.card.create"
    CARD_UPDATE = "cardkit.v1.card.update"
    CARD_SETTINGS = "cardkit.v1.card.settings"
    CARD_ELEMENT_CONTENT = "cardkit.v1.card_element.content"


class SentOp(StrEnum):
    CREATE = "create"
    REPLY = "reply"
    PATCH = "patch"
    CLICK_ANSWER = "click_answer"  # the card a card.action.trigger answer put in place


class CardOpKind(StrEnum):
    """The CardKit calls that change a card entity, named like the SDK's methods."""

    CREATE = "create"  # cardkit.v1.card.create
    CONTENT = "content"  # cardkit.v1.card_element.content: stream an element's text
    SETTINGS = "settings"  # cardkit.v1.card.settings: merge config / card_link
    UPDATE = "update"  # cardkit.v1.card.update: replace the whole card


class DeliveryState(StrEnum):
    PUSHED = "pushed"  # written to a live connection
    QUEUED = "queued"  # no live connection: pushed when the bot connects
    NOT_ADDRESSED = "not_addressed"  # a group message without @bot: Feishu never sends it
    DROPPED = "dropped"  # a tap with no live connection: the person sees an error, no retry


class RefuseMode(StrEnum):
    """How POST /callback/ws/endpoint refuses; the SDK retries all but EXCEED_CONN_LIMIT."""

    HTTP_503 = "http_503"
    SYSTEM_BUSY = "system_busy"  # 200 + code 1
    INTERNAL_ERROR = "internal_error"  # 200 + code 1000040343
    EXCEED_CONN_LIMIT = "exceed_conn_limit"  # 200 + code 1000040350: fatal ClientException


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """Reconnect and ping tuning the server hands the SDK, in seconds."""

    reconnect_count: int = -1
    reconnect_interval: int = 120
    reconnect_nonce: int = 30
    ping_interval: int = 120

    @classmethod
    def fast(cls) -> ClientConfig:
        """Reconnect at once and every second after, for tests."""
        return cls(reconnect_count=-1, reconnect_interval=1, reconnect_nonce=0, ping_interval=5)

    def to_wire(self) -> dict[str, int]:
        # The SDK copies all four keys unchecked; a missing one crashes its loops later.
        return {
            "ReconnectCount": self.reconnect_count,
            "ReconnectInterval": self.reconnect_interval,
            "ReconnectNonce": self.reconnect_nonce,
            "PingInterval": self.ping_interval,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """The platform's documented limits; ``enforced=False`` turns the rate limits off."""

    enforced: bool = True
    chat_qps: int = 5
    message_patch_qps: int = 5
    api_qps: int = 50
    api_per_minute: int = 1000
    text_bytes: int = 150 * KIB
    card_bytes: int = 30 * KIB
    image_bytes: int = 10 * MIB
    file_bytes: int = 30 * MIB
    card_elements: int = 200
    max_connections: int = 50
    max_frame_bytes: int = 1 * MIB
    uuid_window: float = 3600.0
    patch_window: float = 14 * 86400.0
    token_ttl: int = 7200
    token_reissue_below: int = 1800
    card_ops_per_second: int = 10  # CardKit: calls on one card entity
    card_entity_ttl: float = 14 * 86400.0
    streaming_timeout: float = 600.0  # streaming_mode closes itself this long after it opened


@dataclass(frozen=True, slots=True, kw_only=True)
class App:
    """A self-built app with its bot; every field is generated unless given."""

    app_id: str = field(default_factory=ids.new_app_id)
    app_secret: str = field(default_factory=ids.new_secret)
    bot_name: str = "cclark"
    bot_open_id: str = field(default_factory=ids.new_open_id)
    tenant_key: str = field(default_factory=ids.new_tenant_key)
    verification_token: str = ""
    # Without the "read all group messages" scope a bot only hears group messages that @ it.
    receives_all_group_messages: bool = False
    # Without the cardkit:card:write scope every CardKit call answers 99991672.
    cardkit: bool = True
    # Without the im:resource scope downloading what users sent answers 99991672.
    resources: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    open_id: str
    union_id: str
    user_id: str
    name: str

    @classmethod
    def from_open_id(cls, open_id: str, name: str = "") -> User:
        return cls(
            open_id=open_id,
            union_id=ids.derived_union_id(open_id),
            user_id=ids.derived_user_id(open_id),
            name=name or f"user-{open_id[-6:]}",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Chat:
    chat_id: str
    chat_type: ChatType
    name: str = ""
    p2p_open_id: str | None = None  # the user of a p2p chat with the bot


@dataclass(frozen=True, slots=True, kw_only=True)
class Mention:
    key: str  # the "@_user_N" placeholder in the text
    open_id: str
    union_id: str
    user_id: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Reaction:
    """An emoji reaction on a message, by a bot (``operator_id`` its app_id) or a user."""

    reaction_id: str
    emoji_type: str
    operator_id: str
    operator_type: SenderType
    action_time: int  # ms


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A message as it stands now in a chat (after any patch), from a user or a bot."""

    message_id: str
    chat_id: str
    chat_type: ChatType
    msg_type: str
    content: str  # the JSON string, as on the wire
    sender_id: str  # a user's open_id, or the app_id of a bot
    sender_type: SenderType
    create_time: int  # ms
    update_time: int  # ms
    root_id: str | None = None
    parent_id: str | None = None
    thread_id: str | None = None
    mentions: tuple[Mention, ...] = ()
    updated: bool = False
    # A message that shows a CardKit card entity: its content is that card's current JSON.
    card_id: str | None = None
    reactions: tuple[Reaction, ...] = ()

    def body(self) -> Any:
        """The parsed content."""
        return json.loads(self.content)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """One successful call the bot made: create, reply or patch, numbered in order."""

    seq: int
    op: SentOp
    app_id: str
    message_id: str
    chat_id: str
    msg_type: str
    content: str
    thread_id: str | None = None
    root_id: str | None = None
    parent_id: str | None = None
    reply_in_thread: bool = False
    uuid: str | None = None
    card_id: str | None = None  # the card entity a create/reply sent
    at: int  # ms

    def body(self) -> Any:
        """The parsed content: ``{"text": …}``, a card, ``{"image_key": …}``."""
        return json.loads(self.content)

    @property
    def text(self) -> str | None:
        """The text of a text message, else None."""
        if self.msg_type != "text":
            return None
        text = self.body().get("text")
        return text if isinstance(text, str) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class CardEntity:
    """A CardKit card entity as it stands now: its card JSON 2.0, the last accepted
    ``sequence``, and the message that shows it once sent (an entity is sent once)."""

    card_id: str
    app_id: str
    content: str  # the card JSON, as a string
    created_at: int  # ms
    sequence: int = 0
    message_id: str | None = None
    streaming_since: int | None = None  # ms; None while streaming_mode is off
    uuids: frozenset[str] = frozenset()  # of the accepted operations

    def body(self) -> Any:
        """The parsed card JSON."""
        return json.loads(self.content)

    @property
    def streaming(self) -> bool:
        return self.streaming_since is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class CardOp:
    """One accepted CardKit call, numbered in order.

    ``content`` is the card JSON (create, update), the element's new text (content) or the
    settings JSON (settings).
    """

    seq: int
    op: CardOpKind
    app_id: str
    card_id: str
    content: str
    element_id: str | None = None
    sequence: int | None = None  # None for create
    uuid: str | None = None
    at: int  # ms


@dataclass(frozen=True, slots=True, kw_only=True)
class UserMessage:
    """What a person types: which chat, which thread, who, and whether it @s the bot."""

    msg_type: str = "text"
    content: Mapping[str, Any]
    chat_id: str | None = None  # None: the sender's p2p chat with the bot
    chat_type: ChatType = ChatType.P2P  # used when chat_id is new
    sender_open_id: str | None = None  # None: the emulator's default user
    mention_bot: bool = False
    thread_id: str | None = None  # post inside this existing thread
    reply_to: str | None = None  # quote-reply to this message
    start_thread: bool = False  # this message opens a new topic
    create_time: int | None = None  # ms; None: now
    app_id: str | None = None  # None: the only (first) registered app

    def __post_init__(self) -> None:
        chosen = [self.thread_id is not None, self.reply_to is not None, self.start_thread]
        if sum(chosen) > 1:
            raise ValueError("choose at most one of thread_id, reply_to and start_thread")
        if self.chat_id is None and self.chat_type is not ChatType.P2P:
            raise ValueError("a group message needs a chat_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class CardClick:
    """A person taps a button on a card the bot sent."""

    message_id: str
    value: Mapping[str, Any]  # the button's behaviors[callback].value
    operator_open_id: str | None = None  # None: the emulator's default user
    tag: str = "button"


@dataclass(frozen=True, slots=True, kw_only=True)
class Clicked:
    """What the person saw after a tap: the bot's toast and card, or nothing in time.

    ``answered`` is False when the bot did not ack within the 3 s Feishu allows (the app
    shows error 200341); ``card`` is the card that replaced the message, if any.
    """

    event_id: str
    delivery: DeliveryState
    answered: bool
    toast: Mapping[str, Any] | None = None
    card: Mapping[str, Any] | None = None
    seconds: float | None = None  # from the push to the ack

    @property
    def toast_text(self) -> str:
        content = (self.toast or {}).get("content")
        return content if isinstance(content, str) else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Posted:
    """An event the emulator built: its id, what became of the push, and the message."""

    event_id: str
    delivery: DeliveryState
    message: Message | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One push of an event to one connection (a redelivery is another Delivery)."""

    delivery_id: str  # the frame's message_id header
    event_id: str
    device_id: str
    trace_id: str
    parts: int
    attempt: int
    pushed_at: float  # wall clock, s


@dataclass(frozen=True, slots=True, kw_only=True)
class Ack:
    """The SDK's echo of a delivery: its code, its own handler time, and ours."""

    delivery_id: str
    event_id: str | None  # None when the ack names no delivery we made
    device_id: str
    code: int
    biz_rt_ms: int | None  # the SDK's handler time (header biz_rt)
    latency: float | None  # s from our first write to the ack's arrival
    data: str | None = None  # decoded base64 callback result, JSON text
    received_at: float  # wall clock, s


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    device_id: str
    app_id: str
    opened_at: float
    closed_at: float | None = None
    pings: int = 0

    @property
    def live(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True, slots=True, kw_only=True)
class PageUser:
    """A person the chat page can act as, with their own p2p chat with the bot.

    ``allowed`` is only shown on the page (whether the bot's allowlist has this user); the
    bot decides for itself.
    """

    open_id: str
    name: str
    allowed: bool
    p2p_chat_id: str

    @classmethod
    def new(cls, name: str, *, allowed: bool) -> PageUser:
        """A user with a fresh open_id and p2p chat id."""
        return cls(
            open_id=ids.new_open_id(), name=name, allowed=allowed, p2p_chat_id=ids.new_chat_id()
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PageSettings:
    """The web chat page: which app it talks to, as whom, and in which chats.

    The emulator opens each user's p2p chat and the group (a topic group) when it starts.
    """

    app_id: str
    bot_name: str
    users: tuple[PageUser, ...]
    group_chat_id: str
    group_name: str = "cclark topics"
    app_name: str = ""  # shown in the page's header; "" shows bot_name

    def __post_init__(self) -> None:
        if not self.users:
            raise ValueError("the chat page needs at least one user")
        if len({u.open_id for u in self.users}) != len(self.users):
            raise ValueError("the chat page's users need distinct open_ids")
        chat_ids = [u.p2p_chat_id for u in self.users] + [self.group_chat_id]
        if len(set(chat_ids)) != len(chat_ids):
            raise ValueError("every p2p chat and the group need distinct chat ids")

    @property
    def chat_ids(self) -> frozenset[str]:
        """Every chat the page shows."""
        return frozenset({self.group_chat_id, *(u.p2p_chat_id for u in self.users)})
