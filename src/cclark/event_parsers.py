"""Inbound Feishu events as typed values, and Feishu channel ids.

Owns reading ``im.message.receive_v1`` (SDK object or raw schema-2.0 dict) into a frozen
FeishuMessageEvent and ``card.action.trigger`` into a CardClick, and building/parsing
``feishu:<app>:<chat_id>[:<thread_id>]`` channel ids; pure: no I/O, no SDK import, knows
nothing of handlers, windows or the REST client.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cclark.rich_text import post_resources, post_text
from unified_icc import ChannelId, parse_channel_id

__all__ = [
    "CARD_ACTION",
    "Attachment",
    "AttachmentKind",
    "CardClick",
    "ChatType",
    "FeishuChannel",
    "FeishuMessageEvent",
    "channel_id_for",
    "parse_card_click",
    "parse_feishu_channel",
    "parse_message_event",
    "tidy_text",
]

CHANNEL_PREFIX = "feishu"
MESSAGE_RECEIVE = "im.message.receive_v1"
CARD_ACTION = "card.action.trigger"
_APP_NAME = re.compile(r"[A-Za-z0-9_-]+")
_ID_PART = re.compile(r"[^\s:]+")
_MENTION = re.compile(r"@_user_\d+[ \t]*")
# JSON may carry "\ud800" escapes that decode to half a character, which no encoder accepts.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MAX_MILLIS_DIGITS = 20


class ChatType(StrEnum):
    P2P = "p2p"
    GROUP = "group"


class AttachmentKind(StrEnum):
    """How Feishu serves a message's resource (the ``type`` of the download)."""

    IMAGE = "image"
    FILE = "file"


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A photo, file or video in a person's message: the key to download it with, how it is
    served, and the name the person's client gave it (files only)."""

    key: str
    kind: AttachmentKind
    name: str | None = None


# Message types that carry one resource and no text, and the content key that names it.
_RESOURCE_MESSAGES = {"image": ("image_key", AttachmentKind.IMAGE),
                      "file": ("file_key", AttachmentKind.FILE),
                      "media": ("file_key", AttachmentKind.FILE),
                      "audio": ("file_key", AttachmentKind.FILE)}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class FeishuChannel:
    """The parts of a Feishu channel id."""

    app: str
    chat_id: str
    thread_id: str | None = None

    @property
    def channel_id(self) -> ChannelId:
        return channel_id_for(self.app, self.chat_id, self.thread_id)

    @property
    def is_topic(self) -> bool:
        return self.thread_id is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class FeishuMessageEvent:
    """One message a user sent to the bot.

    ``text`` is the text with @mention placeholders removed and whitespace tidied (a rich-text
    ``post`` read as the text its reader sees; "" for a photo, file, video or voice message,
    whose resources are its ``attachments``); None for any other message type (a sticker),
    and for a post with neither text nor images (the caller answers those politely).
    ``create_time_ms`` is the message's creation time in milliseconds since the epoch.
    ``mentioned_open_ids`` are the open_ids the message @mentions (the bot's among them when
    it was addressed by name).
    """

    app_name: str
    chat_id: str
    chat_type: ChatType
    thread_id: str | None
    root_id: str | None
    message_id: str
    sender_open_id: str | None
    sender_type: str
    message_type: str
    text: str | None
    event_id: str | None
    create_time_ms: int
    mentioned_open_ids: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    @property
    def channel_id(self) -> ChannelId:
        return channel_id_for(self.app_name, self.chat_id, self.thread_id)

    @property
    def topic_root_id(self) -> str | None:
        """The topic's root message to reply under, or None outside a topic.

        A topic's first message is its own root (Feishu leaves ``root_id`` empty on it).
        """
        if self.thread_id is None:
            return None
        return self.root_id or self.message_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CardClick:
    """A tap on a button of one of the bot's cards (``card.action.trigger``).

    ``value`` is the object the button carried; ``event_id`` names the tap (a re-push of the
    same tap has the same one).
    """

    app_name: str
    event_id: str
    operator_open_id: str
    chat_id: str
    message_id: str
    value: Mapping[str, Any]


def channel_id_for(app: str, chat_id: str, thread_id: str | None = None) -> ChannelId:
    """Build ``feishu:<app>:<chat_id>`` or ``feishu:<app>:<chat_id>:<thread_id>``.

    Raises: ValueError if a part is empty or contains ``:`` or whitespace.
    """
    _check_part("app name", app, _APP_NAME)
    _check_part("chat id", chat_id, _ID_PART)
    parts = [CHANNEL_PREFIX, app, chat_id]
    if thread_id is not None:
        _check_part("thread id", thread_id, _ID_PART)
        parts.append(thread_id)
    return parse_channel_id(":".join(parts))


def parse_feishu_channel(channel_id: str) -> FeishuChannel:
    """Split a Feishu channel id into app, chat id and optional thread id.

    Raises: ValueError naming the expected form for anything that is not a Feishu channel id.
    """
    parts = channel_id.split(":")
    if parts[0] != CHANNEL_PREFIX or len(parts) not in (3, 4):
        raise ValueError(
            f"not a Feishu channel id: {channel_id!r} "
            "(expected feishu:<app>:<chat_id> or feishu:<app>:<chat_id>:<thread_id>)"
        )
    thread_id = parts[3] if len(parts) == 4 else None
    try:
        channel_id_for(parts[1], parts[2], thread_id)
    except ValueError as exc:
        raise ValueError(f"not a Feishu channel id: {channel_id!r} ({exc})") from None
    return FeishuChannel(app=parts[1], chat_id=parts[2], thread_id=thread_id)


def parse_message_event(app_name: str, data: object) -> FeishuMessageEvent | None:
    """Read an ``im.message.receive_v1`` event into a FeishuMessageEvent.

    Args:
        app_name: the configured name of the app that received the event.
        data: the SDK's ``P2ImMessageReceiveV1`` or the raw schema-2.0 event dict.

    Returns:
        The event, or None when data is another event type or lacks the message's chat id,
        message id, chat type, sender type or creation time, or a text message's content
        is unreadable.
    """
    envelope = data if isinstance(data, Mapping) else _sdk_object_to_dict(data)
    header = _mapping(envelope.get("header"))
    if header.get("event_type", MESSAGE_RECEIVE) != MESSAGE_RECEIVE:
        return None
    event = _mapping(envelope.get("event"))
    message = _mapping(event.get("message"))
    sender = _mapping(event.get("sender"))
    chat_id, message_id = _text(message, "chat_id"), _text(message, "message_id")
    message_type, sender_type = _text(message, "message_type"), _text(sender, "sender_type")
    create_time = _millis(message.get("create_time")) or _millis(header.get("create_time"))
    try:
        chat_type = ChatType(_text(message, "chat_type") or "")
    except ValueError:
        return None
    if not (chat_id and message_id and message_type and sender_type and create_time):
        return None
    text: str | None = None
    attachments: tuple[Attachment, ...] = ()
    if message_type == "text":
        text = _text_content(message.get("content"))
        if text is None:
            return None
    elif message_type == "post":
        # Formatting, a pasted code block or link: read as the text the person sees.
        content = _json_object(message.get("content"))
        read = post_text(content)
        text = tidy_text(_LONE_SURROGATE.sub("\ufffd", read)) if read else None
        attachments = tuple(Attachment(key=key, kind=AttachmentKind(kind))
                            for kind, key in post_resources(content))  # fmt: skip
        if text is None and attachments:
            text = ""
    elif message_type in _RESOURCE_MESSAGES:
        attachments = _resource_attachment(message_type, _json_object(message.get("content")))
        text = "" if attachments else None
    return FeishuMessageEvent(
        app_name=app_name,
        chat_id=chat_id,
        chat_type=chat_type,
        thread_id=_text(message, "thread_id"),
        root_id=_text(message, "root_id"),
        message_id=message_id,
        sender_open_id=_text(_mapping(sender.get("sender_id")), "open_id"),
        sender_type=sender_type,
        message_type=message_type,
        text=text,
        event_id=_text(header, "event_id"),
        create_time_ms=create_time,
        mentioned_open_ids=_mentioned(message.get("mentions")),
        attachments=attachments,
    )


def _resource_attachment(
    message_type: str, content: Mapping[str, Any] | None
) -> tuple[Attachment, ...]:
    key_name, kind = _RESOURCE_MESSAGES[message_type]
    key = content.get(key_name) if content is not None else None
    if not isinstance(key, str) or not key:
        return ()
    name = content.get("file_name") if content is not None else None
    return (Attachment(key=key, kind=kind, name=name if isinstance(name, str) else None),)


def parse_card_click(app_name: str, data: object) -> CardClick | None:
    """Read a ``card.action.trigger`` event (SDK object or raw dict) into a CardClick.

    Returns None when it lacks the event id, the operator's open_id, the chat or message the
    card is in, or a value object (a button of another app, or a form).
    """
    envelope = data if isinstance(data, Mapping) else _sdk_object_to_dict(data)
    header = _mapping(envelope.get("header"))
    event = _mapping(envelope.get("event"))
    context = _mapping(event.get("context"))
    value = _mapping(event.get("action")).get("value")
    event_id = _text(header, "event_id")
    operator = _text(_mapping(event.get("operator")), "open_id")
    chat_id, message_id = _text(context, "open_chat_id"), _text(context, "open_message_id")
    if not (event_id and operator and chat_id and message_id and isinstance(value, Mapping)):
        return None
    return CardClick(
        app_name=app_name,
        event_id=event_id,
        operator_open_id=operator,
        chat_id=chat_id,
        message_id=message_id,
        value=value,
    )


def tidy_text(text: str) -> str:
    """Remove ``@_user_N`` placeholders, trailing spaces on each line and outer blank space."""
    without = _MENTION.sub("", text)
    return "\n".join(line.rstrip() for line in without.splitlines()).strip()


def _check_part(what: str, value: str, pattern: re.Pattern[str]) -> None:
    if not pattern.fullmatch(value):
        raise ValueError(f"bad {what} {value!r} in a Feishu channel id (empty, ':' or space)")


def _sdk_object_to_dict(data: object) -> Mapping[str, Any]:
    # The SDK's event models are plain objects whose attributes mirror the wire JSON; this is
    # what lark_oapi.JSON.marshal does, without importing the SDK into a pure module.
    try:
        loaded = json.loads(json.dumps(data, default=vars))
    except TypeError as exc:
        raise TypeError(
            f"expected a P2ImMessageReceiveV1 or an event dict, got {type(data).__name__}"
        ) from exc
    return _mapping(loaded)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(source: Mapping[str, Any], key: str) -> str | None:
    value = source.get(key)
    return value if isinstance(value, str) and value else None


def _millis(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value) if len(value) <= _MAX_MILLIS_DIGITS else None
    return None


def _mentioned(mentions: object) -> tuple[str, ...]:
    if not isinstance(mentions, list):
        return ()
    ids = (_text(_mapping(_mapping(m).get("id")), "open_id") for m in mentions)
    return tuple(open_id for open_id in ids if open_id)


def _json_object(content: object) -> dict[str, Any] | None:
    """A message's content string as the JSON object it holds, or None."""
    if not isinstance(content, str):
        return None
    try:
        body = json.loads(content)
    except json.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _text_content(content: object) -> str | None:
    body = _json_object(content)
    text = body.get("text") if body is not None else None
    if not isinstance(text, str):
        return None
    return tidy_text(_LONE_SURROGATE.sub("\ufffd", text))
