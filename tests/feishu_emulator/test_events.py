"""Event envelopes as the SDK's own dispatcher decodes them (the code the ws client runs)."""

from __future__ import annotations

import lark_oapi as lark
from lark_oapi.api.im.v1 import P2ImMessageReceiveV1
from lark_oapi.event.custom import CustomizedEvent

from feishu_emulator import ChatType, Emulator


def dispatch_message(payload: bytes) -> P2ImMessageReceiveV1:
    received: list[P2ImMessageReceiveV1] = []
    handler = (
        lark.EventDispatcherHandler.builder("", "")
        .register_p2_im_message_receive_v1(received.append)
        .build()
    )
    # The entry point ws.Client calls for every event frame.
    handler._do_without_validation(payload)
    [event] = received
    return event


async def test_a_group_mention_decodes_as_p2_im_message_receive_v1(emu: Emulator) -> None:
    posted = await emu.post_text(
        "deploy?", chat_id="oc_ops", chat_type=ChatType.GROUP, mention_bot=True,
        sender_open_id="ou_alice", create_time=1700000000123, start_thread=True,
    )  # fmt: skip

    event = dispatch_message(emu.event_payload(posted.event_id))

    assert (event.schema, event.header.event_type) == ("2.0", "im.message.receive_v1")
    assert (event.header.event_id, event.header.app_id) == (posted.event_id, emu.app.app_id)
    sender = event.event.sender
    assert (sender.sender_id.open_id, sender.sender_type) == ("ou_alice", "user")
    assert sender.sender_id.union_id.startswith("on_")
    message = event.event.message
    assert (message.chat_id, message.chat_type, message.message_type) == ("oc_ops", "group", "text")
    assert message.content == '{"text":"@_user_1 deploy?"}'
    assert message.create_time == "1700000000123"
    assert message.thread_id is not None
    [mention] = message.mentions
    assert (mention.key, mention.name) == ("@_user_1", emu.app.bot_name)
    assert mention.id.open_id == emu.app.bot_open_id


async def test_a_quote_reply_carries_root_and_parent(emu: Emulator) -> None:
    first = await emu.post_text("first")
    assert first.message is not None
    second = await emu.post_text("second", reply_to=first.message.message_id)

    message = dispatch_message(emu.event_payload(second.event_id)).event.message

    assert message.root_id == first.message.message_id
    assert message.parent_id == first.message.message_id
    assert message.thread_id is None


async def test_an_image_message_keeps_its_type_and_content(emu: Emulator) -> None:
    posted = await emu.post_message("image", {"image_key": "img_v3_x"})

    message = dispatch_message(emu.event_payload(posted.event_id)).event.message

    assert (message.message_type, message.content) == ("image", '{"image_key":"img_v3_x"}')


async def test_any_event_type_can_be_pushed(emu: Emulator) -> None:
    received: list[CustomizedEvent] = []
    handler = (
        lark.EventDispatcherHandler.builder("", "")
        .register_p2_customized_event("im.chat.member.bot.added_v1", received.append)
        .build()
    )

    posted = await emu.emit_event("im.chat.member.bot.added_v1", {"chat_id": "oc_new"})
    handler._do_without_validation(emu.event_payload(posted.event_id))

    [event] = received
    assert event.event == {"chat_id": "oc_new"}
