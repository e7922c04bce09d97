"""im.message.receive_v1 events (raw dicts and SDK objects) and Feishu channel ids."""

from __future__ import annotations

import copy
import json
from typing import Any, NamedTuple

import lark_oapi as lark
import pytest
from lark_oapi.api.im.v1 import P2ImMessageReceiveV1

from cclark.event_parsers import (
    Attachment,
    AttachmentKind,
    ChatType,
    FeishuChannel,
    FeishuMessageEvent,
    channel_id_for,
    parse_feishu_channel,
    parse_message_event,
    tidy_text,
)


def _event(**message: Any) -> dict[str, Any]:
    """A schema-2.0 event shaped like feishu-protocol.md §2; message fields override."""
    base = {
        "message_id": "om_msg1",
        "root_id": "",
        "parent_id": "",
        "create_time": "1700000000123",
        "update_time": "1700000000123",
        "chat_id": "oc_chat1",
        "chat_type": "group",
        "message_type": "text",
        "content": json.dumps({"text": "@_user_1 hello"}),
        "mentions": [
            {
                "key": "@_user_1",
                "id": {"open_id": "ou_bot", "union_id": "on_bot", "user_id": ""},
                "name": "Bot",
                "tenant_key": "tk",
            }
        ],
    }
    base.update(message)
    return {
        "schema": "2.0",
        "header": {
            "event_id": "5e3702a84e847582be8db7fb73283c02",
            "event_type": "im.message.receive_v1",
            "create_time": "1700000000999",
            "token": "",
            "app_id": "cli_a1",
            "tenant_key": "tk",
        },
        "event": {
            "sender": {
                "sender_id": {"open_id": "ou_user1", "union_id": "on_user1", "user_id": "u1"},
                "sender_type": "user",
                "tenant_key": "tk",
            },
            "message": base,
        },
    }


def test_group_text_event_parses_with_mention_removed() -> None:
    event = parse_message_event("main", _event())

    assert event == FeishuMessageEvent(
        app_name="main",
        chat_id="oc_chat1",
        chat_type=ChatType.GROUP,
        thread_id=None,
        root_id=None,
        message_id="om_msg1",
        sender_open_id="ou_user1",
        sender_type="user",
        message_type="text",
        text="hello",
        event_id="5e3702a84e847582be8db7fb73283c02",
        create_time_ms=1700000000123,
        mentioned_open_ids=("ou_bot",),
    )
    assert event.channel_id == "feishu:main:oc_chat1"
    assert event.topic_root_id is None


def test_sdk_object_parses_like_the_raw_dict() -> None:
    raw = _event(thread_id="omt_1", root_id="om_root")
    sdk_event = lark.JSON.unmarshal(json.dumps(raw), P2ImMessageReceiveV1)

    assert parse_message_event("main", sdk_event) == parse_message_event("main", raw)


def test_p2p_event_has_p2p_chat_type() -> None:
    event = parse_message_event("main", _event(chat_type="p2p", content='{"text":"hi"}'))

    assert event is not None
    assert event.chat_type is ChatType.P2P
    assert event.text == "hi"


def test_topic_message_channel_and_root() -> None:
    event = parse_message_event("main", _event(thread_id="omt_7", root_id="om_root"))

    assert event is not None
    assert event.channel_id == "feishu:main:oc_chat1:omt_7"
    assert event.topic_root_id == "om_root"


def test_first_message_of_a_topic_is_its_own_root() -> None:
    event = parse_message_event("main", _event(thread_id="omt_7", root_id=""))

    assert event is not None
    assert event.topic_root_id == "om_msg1"


@pytest.mark.parametrize("message_type", ["post", "file", "sticker", "audio"])
def test_a_message_without_text_or_a_resource_keeps_its_type_and_has_no_text(
    message_type: str,
) -> None:
    content = json.dumps({"image_key": "img_v3_1"})  # a key none of these types carries

    event = parse_message_event("main", _event(message_type=message_type, content=content))

    assert event is not None
    assert (event.message_type, event.text, event.attachments) == (message_type, None, ())


@pytest.mark.parametrize(
    ("message_type", "content", "expected"),
    [
        ("image", {"image_key": "img_1"}, (Attachment(key="img_1", kind=AttachmentKind.IMAGE),)),
        ("file", {"file_key": "file_1", "file_name": "notes.txt"},
         (Attachment(key="file_1", kind=AttachmentKind.FILE, name="notes.txt"),)),
        ("media", {"file_key": "file_2", "image_key": "img_2", "file_name": "clip.mp4"},
         (Attachment(key="file_2", kind=AttachmentKind.FILE, name="clip.mp4"),)),
        ("audio", {"file_key": "file_3", "duration": 2000},
         (Attachment(key="file_3", kind=AttachmentKind.FILE),)),
    ],
)  # fmt: skip
def test_a_photo_file_video_or_voice_message_is_its_attachment_with_empty_text(
    message_type: str, content: dict[str, Any], expected: tuple[Attachment, ...]
) -> None:
    raw = _event(message_type=message_type, content=json.dumps(content))

    event = parse_message_event("main", raw)

    assert event is not None
    assert (event.text, event.attachments) == ("", expected)


def test_a_post_with_images_has_its_text_as_caption_and_the_images_in_order() -> None:
    post = {"title": "", "content": [
        [{"tag": "text", "text": "Compare these"}, {"tag": "img", "image_key": "img_a"}],
        [{"tag": "img", "image_key": "img_b"}],
        [{"tag": "media", "file_key": "file_c", "image_key": "img_cover"}],
    ]}  # fmt: skip
    only_images = {"title": "", "content": [[{"tag": "img", "image_key": "img_d"}]]}

    event = parse_message_event("main", _event(message_type="post", content=json.dumps(post)))
    bare = parse_message_event("main", _event(message_type="post",
                                              content=json.dumps(only_images)))  # fmt: skip

    assert event is not None
    assert event.text == "Compare these"
    assert event.attachments == (
        Attachment(key="img_a", kind=AttachmentKind.IMAGE),
        Attachment(key="img_b", kind=AttachmentKind.IMAGE),
        Attachment(key="file_c", kind=AttachmentKind.FILE),
    )
    assert bare is not None
    assert bare.text == ""
    assert bare.attachments == (Attachment(key="img_d", kind=AttachmentKind.IMAGE),)


def test_create_time_falls_back_to_the_header() -> None:
    raw = _event()
    del raw["event"]["message"]["create_time"]

    event = parse_message_event("main", raw)

    assert event is not None
    assert event.create_time_ms == 1700000000999


class Unusable(NamedTuple):
    test_id: str
    path: tuple[str, ...]
    value: Any


UNUSABLE = [
    Unusable("other-event-type", ("header", "event_type"), "im.chat.member.bot.added_v1"),
    Unusable("no-chat-id", ("event", "message", "chat_id"), ""),
    Unusable("no-message-id", ("event", "message", "message_id"), None),
    Unusable("unknown-chat-type", ("event", "message", "chat_type"), "channel"),
    Unusable("content-not-json", ("event", "message", "content"), "{not json"),
    Unusable("content-without-text", ("event", "message", "content"), '{"title":"x"}'),
    Unusable("no-sender-type", ("event", "sender", "sender_type"), None),
]


@pytest.mark.parametrize("case", UNUSABLE, ids=[c.test_id for c in UNUSABLE])
def test_unusable_events_parse_to_none(case: Unusable) -> None:
    raw = copy.deepcopy(_event())
    target = raw
    for key in case.path[:-1]:
        target = target[key]
    target[case.path[-1]] = case.value

    assert parse_message_event("main", raw) is None


def test_a_stray_object_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="P2ImMessageReceiveV1"):
        parse_message_event("main", object())


class Tidy(NamedTuple):
    test_id: str
    text: str
    expected: str


TIDY = [
    Tidy("leading-mention", "@_user_1 hello", "hello"),
    Tidy("middle-mention", "ask @_user_2 about it", "ask about it"),
    Tidy("trailing-mention", "hello @_user_1", "hello"),
    Tidy("two-mentions", "@_user_1 @_user_12 run tests", "run tests"),
    Tidy("multiline", "@_user_1\n  fix this:\n    x = 1   \n\n", "fix this:\n    x = 1"),
    Tidy("only-mention", "@_user_1 ", ""),
    Tidy("not-a-placeholder", "mail me @home", "mail me @home"),
]


@pytest.mark.parametrize("case", TIDY, ids=[c.test_id for c in TIDY])
def test_tidy_text_removes_mentions_and_stray_whitespace(case: Tidy) -> None:
    assert tidy_text(case.text) == case.expected


def test_channel_id_round_trips() -> None:
    chat = channel_id_for("main", "oc_1")
    topic = channel_id_for("main", "oc_1", "omt_2")

    assert (chat, topic) == ("feishu:main:oc_1", "feishu:main:oc_1:omt_2")
    assert parse_feishu_channel(chat) == FeishuChannel(app="main", chat_id="oc_1")
    assert parse_feishu_channel(topic) == FeishuChannel(
        app="main", chat_id="oc_1", thread_id="omt_2"
    )
    assert parse_feishu_channel(topic).channel_id == topic
    assert parse_feishu_channel(topic).is_topic


@pytest.mark.parametrize(
    "channel_id",
    [
        "",
        "feishu",
        "feishu:main",
        "telegram:main:oc_1",
        "feishu::oc_1",
        "feishu:main:",
        "feishu:main:oc_1:",
        "feishu:main:oc_1:omt_2:extra",
        "feishu:ma in:oc_1",
        "feishu:main:oc 1",
    ],
)
def test_bad_channel_ids_are_rejected_clearly(channel_id: str) -> None:
    with pytest.raises(ValueError, match="not a Feishu channel id"):
        parse_feishu_channel(channel_id)


@pytest.mark.parametrize(
    ("app", "chat_id", "thread_id"),
    [("main", "oc:1", None), ("", "oc_1", None), ("main", "oc_1", ""), ("a:b", "oc_1", None)],
)
def test_channel_id_for_rejects_bad_parts(app: str, chat_id: str, thread_id: str | None) -> None:
    with pytest.raises(ValueError, match="in a Feishu channel id"):
        channel_id_for(app, chat_id, thread_id)


def test_half_a_character_in_the_text_becomes_a_replacement_character() -> None:
    raw = _event(content='{"text": "fix \\ud800 this"}')  # a lone surrogate escape on the wire

    parsed = parse_message_event("main", raw)

    assert parsed is not None
    assert parsed.text == "fix \ufffd this"
    parsed.text.encode("utf-8")  # every later step can encode it


@pytest.mark.parametrize("create_time", ["²³", "1" * 5000, "-5", ""])
def test_a_creation_time_that_is_not_a_plain_number_falls_back_to_the_header(
    create_time: str,
) -> None:
    parsed = parse_message_event("main", _event(create_time=create_time))

    assert parsed is not None
    assert parsed.create_time_ms == 1700000000999


def test_the_open_ids_a_message_mentions_are_kept() -> None:
    two = [
        {"key": "@_user_1", "id": {"open_id": "ou_bot"}, "name": "Bot"},
        {"key": "@_user_2", "id": {"open_id": "ou_bob", "user_id": "u2"}, "name": "Bob"},
        {"key": "@_all", "id": {"open_id": ""}, "name": "all"},
        "garbage",
    ]

    parsed = parse_message_event("main", _event(mentions=two))
    bare = parse_message_event("main", _event(mentions=None))

    assert parsed is not None
    assert parsed.mentioned_open_ids == ("ou_bot", "ou_bob")
    assert bare is not None
    assert bare.mentioned_open_ids == ()
