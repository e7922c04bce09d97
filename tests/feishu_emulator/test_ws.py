"""The long connection against the real SDK: events in, acks back, parts, redelivery, reconnect."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from feishu_emulator import ChatType, DeliveryState, Emulator, RefuseMode
from support import wait_until

if TYPE_CHECKING:
    from tests.feishu_emulator.conftest import BotProcess, SharedBot


async def test_posted_text_reaches_the_sdk_and_is_acked_with_200_and_a_duration(
    shared: SharedBot,
) -> None:
    emu, bot = shared.emu, shared.bot

    posted = await emu.post_text("hello bot")
    ack = await emu.wait_for_ack(posted.event_id)

    assert posted.delivery is DeliveryState.PUSHED
    assert ack.code == 200
    assert ack.latency is not None
    assert 0 < ack.latency < 3
    assert ack.biz_rt_ms is not None
    assert ack.biz_rt_ms >= 0
    [seen] = bot.records("message", event_id=posted.event_id)
    assert posted.message is not None
    assert seen["message_id"] == posted.message.message_id
    assert seen["chat_type"] == "p2p"
    assert json.loads(seen["content"]) == {"text": "hello bot"}


async def test_the_bot_replies_over_rest_and_the_emulator_records_the_reply(
    shared: SharedBot,
) -> None:
    emu = shared.emu
    before = len(emu.sent)

    posted = await emu.post_text("ping [echo]")
    [reply] = await emu.wait_for_sent(1, after=before)

    assert posted.message is not None
    assert reply.op == "reply"
    assert reply.parent_id == posted.message.message_id
    assert reply.chat_id == posted.message.chat_id
    assert reply.text == "echo: ping [echo]"


async def test_a_two_part_event_sent_out_of_order_is_reassembled(shared: SharedBot) -> None:
    emu, bot = shared.emu, shared.bot

    posted = await emu.post_text("in two parts " + "x" * 500, parts=2, part_order=[1, 0])
    ack = await emu.wait_for_ack(posted.event_id)

    assert ack.code == 200
    [delivery] = [d for d in emu.deliveries if d.event_id == posted.event_id]
    assert delivery.parts == 2
    [seen] = bot.records("message", event_id=posted.event_id)
    assert json.loads(seen["content"])["text"].endswith("x" * 500)


async def test_a_redelivered_event_keeps_its_event_id_and_message_id(shared: SharedBot) -> None:
    emu, bot = shared.emu, shared.bot
    posted = await emu.post_text("say it twice")
    await emu.wait_for_ack(posted.event_id)

    state = await emu.redeliver(posted.event_id)
    acks = await emu.wait_for_acks(posted.event_id, 2)

    assert state is DeliveryState.PUSHED
    assert [a.code for a in acks] == [200, 200]
    assert acks[0].delivery_id != acks[1].delivery_id
    seen = bot.records("message", event_id=posted.event_id)
    assert len(seen) == 2
    assert seen[0]["message_id"] == seen[1]["message_id"]


async def test_a_group_mention_in_a_new_topic_carries_thread_and_mention(
    shared: SharedBot,
) -> None:
    emu, bot = shared.emu, shared.bot
    chat = emu.open_chat(name="team")

    posted = await emu.post_text(
        "look", chat_id=chat.chat_id, chat_type=ChatType.GROUP, mention_bot=True, start_thread=True
    )
    await emu.wait_for_ack(posted.event_id)

    [seen] = bot.records("message", event_id=posted.event_id)
    assert seen["chat_type"] == "group"
    assert seen["thread_id"] is not None
    assert seen["thread_id"].startswith("omt_")
    assert seen["mentions"] == ["@_user_1"]
    assert json.loads(seen["content"]) == {"text": "@_user_1 look"}


async def test_a_handler_that_raises_is_acked_with_500(shared: SharedBot) -> None:
    posted = await shared.emu.post_text("break [fail]")

    ack = await shared.emu.wait_for_ack(posted.event_id)

    assert ack.code == 500


async def test_a_slow_handler_shows_in_biz_rt_and_in_the_ack_latency(shared: SharedBot) -> None:
    posted = await shared.emu.post_text("think [sleep=0.3]")

    ack = await shared.emu.wait_for_ack(posted.event_id)

    assert ack.code == 200
    assert ack.biz_rt_ms is not None
    assert ack.biz_rt_ms >= 300
    assert ack.latency is not None
    assert ack.latency >= 0.3


async def test_a_server_closed_socket_is_reconnected_and_events_flow_again(
    emu: Emulator, bot: BotProcess
) -> None:
    [first] = emu.live_connections

    assert await emu.close_connections() == 1
    [second] = await emu.wait_connected(2)
    posted = await emu.post_text("after the reconnect")
    ack = await emu.wait_for_ack(posted.event_id)

    assert second.device_id != first.device_id
    assert ack.code == 200
    assert ack.device_id == second.device_id
    await wait_until(lambda: bot.records("reconnected"), what="the SDK's on_reconnected")


async def test_events_posted_while_the_endpoint_refuses_arrive_after_the_reconnect(
    emu: Emulator, bot: BotProcess
) -> None:
    emu.refuse_ws_endpoint(RefuseMode.HTTP_503, times=2)

    await emu.close_connections(abort=True)
    await emu.wait_until(lambda: not emu.live_connections, what="the socket to drop")
    posted = await emu.post_text("while you were away")
    [live] = await emu.wait_connected(2, within=30)
    ack = await emu.wait_for_ack(posted.event_id)

    assert posted.delivery is DeliveryState.QUEUED
    assert ack.code == 200
    assert ack.device_id == live.device_id
    assert emu.faults()["ws_endpoint_refusal"] is None
    assert len(bot.records("message", event_id=posted.event_id)) == 1
