"""Schema 2.0 event envelopes, as the platform pushes them over the long connection.

Owns the JSON shape of ``im.message.receive_v1`` and of any other event type; knows
nothing of frames (frames.py) or of who receives the event (ws.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from feishu_emulator.models import App, Mention, Message, User

__all__ = [
    "CARD_ACTION",
    "MESSAGE_RECEIVE",
    "card_action_event",
    "envelope",
    "message_receive_envelope",
]

MESSAGE_RECEIVE = "im.message.receive_v1"
CARD_ACTION = "card.action.trigger"


def envelope(
    *, app: App, event_type: str, event: Mapping[str, Any], event_id: str, create_time: int
) -> bytes:
    """A schema 2.0 envelope; ``create_time`` in ms (sent as a string, like production)."""
    document = {
        "schema": "2.0",
        "header": {
            "event_id": event_id,
            "event_type": event_type,
            "create_time": str(create_time),
            "token": app.verification_token,
            "app_id": app.app_id,
            "tenant_key": app.tenant_key,
        },
        "event": dict(event),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def message_receive_envelope(
    *, app: App, sender: User, message: Message, event_id: str, create_time: int
) -> bytes:
    """``im.message.receive_v1`` for a message a user posted."""
    event = {
        "sender": {
            "sender_id": {
                "open_id": sender.open_id,
                "union_id": sender.union_id,
                "user_id": sender.user_id,
            },
            "sender_type": "user",
            "tenant_key": app.tenant_key,
        },
        "message": _message_body(message, app),
    }
    return envelope(
        app=app,
        event_type=MESSAGE_RECEIVE,
        event=event,
        event_id=event_id,
        create_time=create_time,
    )


def card_action_event(
    *, app: App, operator: User, message: Message, value: Mapping[str, Any], tag: str, token: str
) -> dict[str, Any]:
    """The body of ``card.action.trigger`` for a tap on a button of message's card."""
    return {
        "operator": {
            "tenant_key": app.tenant_key,
            "open_id": operator.open_id,
            "union_id": operator.union_id,
            "user_id": operator.user_id,
        },
        "token": token,
        "action": {"value": dict(value), "tag": tag},
        "host": "im_message",
        "context": {"open_message_id": message.message_id, "open_chat_id": message.chat_id},
    }


def _message_body(message: Message, app: App) -> dict[str, Any]:
    body: dict[str, Any] = {"message_id": message.message_id}
    # Production omits the reply and thread fields of a message that has none.
    optional = {
        "root_id": message.root_id,
        "parent_id": message.parent_id,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    body.update(
        {
            "create_time": str(message.create_time),
            "update_time": str(message.update_time),
            "chat_id": message.chat_id,
        }
    )
    if message.thread_id is not None:
        body["thread_id"] = message.thread_id
    body.update(
        {
            "chat_type": str(message.chat_type),
            "message_type": message.msg_type,
            "content": message.content,
        }
    )
    if message.mentions:
        body["mentions"] = [_mention(m, app) for m in message.mentions]
    return body


def _mention(mention: Mention, app: App) -> dict[str, Any]:
    return {
        "key": mention.key,
        "id": {
            "open_id": mention.open_id,
            "union_id": mention.union_id,
            "user_id": mention.user_id,
        },
        "name": mention.name,
        "tenant_key": app.tenant_key,
    }
