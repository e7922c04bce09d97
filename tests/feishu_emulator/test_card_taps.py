"""Taps on card buttons: card.action.trigger to the real SDK, its answer back in the ack."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import lark_oapi as lark
import pytest
from lark_oapi.api.im.v1 import CreateMessageRequest, CreateMessageRequestBody
from tests.feishu_emulator.ws_bot import card_showing

from feishu_emulator import Emulator, Message, SentOp, UnknownRecordError

if TYPE_CHECKING:
    from tests.feishu_emulator.conftest import SharedBot


async def _card(emu: Emulator, chat: str) -> Message:
    """A card with one button, sent by the bot in chat (a chat of the test's own)."""
    await emu.post_text("show me [card]", chat_id=chat, sender_open_id="ou_alice")
    (sent,) = await emu.wait_for_sent(1, chat_id=chat, within=30)
    return emu.message(sent.message_id)


async def test_a_tap_reaches_the_sdk_and_its_toast_and_card_come_back(shared: SharedBot) -> None:
    emu, bot = shared.emu, shared.bot
    card = await _card(emu, "oc_taps")

    clicked = await emu.click(
        card.message_id, {"toast": "done!", "card": "after the tap"}, operator_open_id="ou_bob"
    )

    assert clicked.answered
    assert clicked.toast_text == "done!"
    [tap] = bot.records("tap", event_id=clicked.event_id)
    assert (tap["operator_open_id"], tap["chat_id"]) == ("ou_bob", "oc_taps")
    assert tap["message_id"] == card.message_id
    assert tap["value"] == {"toast": "done!", "card": "after the tap"}
    now = emu.message(card.message_id)
    assert now.body()["body"]["elements"][0]["content"] == "after the tap"
    assert emu.sent[-1].op is SentOp.CLICK_ANSWER


async def test_a_tap_answered_without_a_card_leaves_the_card_as_it_was(shared: SharedBot) -> None:
    emu = shared.emu
    card = await _card(emu, "oc_taps_plain")

    clicked = await emu.click(card.message_id, {"toast": "noted"})

    assert (clicked.answered, clicked.card, clicked.toast_text) == (True, None, "noted")
    assert emu.message(card.message_id).content == card.content


async def test_an_answer_later_than_3_seconds_is_an_error_for_the_person(
    shared: SharedBot,
) -> None:
    emu = shared.emu
    card = await _card(emu, "oc_taps_late")

    clicked = await emu.click(card.message_id, {"toast": "too late", "card": "x", "sleep": 3.5})

    assert not clicked.answered
    assert emu.message(card.message_id).content == card.content


async def test_a_tap_on_a_message_that_does_not_exist_is_refused(emu: Emulator) -> None:
    with pytest.raises(UnknownRecordError):
        await emu.click("om_missing", {"x": 1})


async def test_a_tap_while_the_bot_is_offline_is_not_answered(emu: Emulator) -> None:
    card = await _card_without_bot(emu)

    clicked = await emu.click(card.message_id, {"toast": "x"})

    assert not clicked.answered


async def _card_without_bot(emu: Emulator) -> Message:
    """A bot card posted through the REST API with no long connection open."""
    rest = lark.Client.builder().app_id(emu.app.app_id).app_secret(emu.app.app_secret) \
        .domain(emu.url).build()  # fmt: skip
    emu.open_chat("oc_offline")
    body = (CreateMessageRequestBody.builder().receive_id("oc_offline").msg_type("interactive")
            .content(json.dumps(card_showing("hi", with_button=True))).build())  # fmt: skip
    request = CreateMessageRequest.builder().receive_id_type("chat_id").request_body(body).build()
    response = await rest.im.v1.message.acreate(request)
    assert response.success(), response.msg
    return emu.message(response.data.message_id)
