"""The control surface: /_emulator over HTTP, and the Python API's user-side behaviour."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import lark_oapi as lark
import pytest
from lark_oapi.api.im.v1 import CreateMessageRequest, CreateMessageRequestBody

import feishu_emulator
from feishu_emulator import ChatType, DeliveryState, Emulator, UnknownRecordError


async def call(emu: Emulator, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{emu.url}/_emulator{path}", json=body) as response,
    ):
        return response.status, await response.json()


async def send_text(rest: lark.Client, chat_id: str, text: str) -> int:
    body = (
        CreateMessageRequestBody.builder()
        .receive_id(chat_id)
        .msg_type("text")
        .content(json.dumps({"text": text}))
        .build()
    )
    request = CreateMessageRequest.builder().receive_id_type("chat_id").request_body(body).build()
    response = await asyncio.to_thread(rest.im.v1.message.create, request)
    return int(response.code)


async def test_a_message_posted_over_http_waits_for_a_bot_and_shows_in_its_chat(
    emu: Emulator,
) -> None:
    status, posted = await call(
        emu, "POST", "/messages", {"text": "hi", "chat_id": "oc_x", "chat_type": "group",
                                   "mention_bot": True, "create_time": 1700000000000},
    )  # fmt: skip
    _, messages = await call(emu, "GET", "/chats/oc_x/messages")

    assert status == 200
    assert posted["delivery"] == "queued"
    assert posted["message"]["create_time"] == 1700000000000
    assert [m["message_id"] for m in messages] == [posted["message"]["message_id"]]
    assert json.loads(messages[0]["content"]) == {"text": "@_user_1 hi"}


async def test_a_group_message_without_a_mention_never_reaches_the_bot(emu: Emulator) -> None:
    posted = await emu.post_text("chatter", chat_id="oc_room", chat_type=ChatType.GROUP)

    assert posted.delivery is DeliveryState.NOT_ADDRESSED
    with pytest.raises(UnknownRecordError):
        await emu.redeliver(posted.event_id)


async def test_a_reply_to_a_message_in_a_thread_lands_in_that_thread(emu: Emulator) -> None:
    root = await emu.post_text("topic", chat_id="oc_t", chat_type=ChatType.GROUP, start_thread=True)
    assert root.message is not None
    assert root.message.thread_id is not None

    inside = await emu.post_text("in it", chat_id="oc_t", thread_id=root.message.thread_id)

    assert inside.message is not None
    assert inside.message.thread_id == root.message.thread_id
    assert inside.message.root_id == root.message.message_id


async def test_http_fault_switches_reach_the_rest_surface_and_are_spent(
    emu: Emulator, rest: lark.Client
) -> None:
    chat = emu.open_chat()

    armed = await call(emu, "POST", "/faults/chat_rate_limit", {"chat_id": chat.chat_id})
    limited = await send_text(rest, chat.chat_id, "first")
    after = await send_text(rest, chat.chat_id, "second")
    _, faults = await call(emu, "GET", "/faults")

    assert armed[1]["chat_rate_limits"] == {chat.chat_id: 1}
    assert (limited, after) == (230020, 0)
    assert faults["chat_rate_limits"] == {chat.chat_id: 0}


async def test_http_sent_lists_what_the_bot_sent_after_a_sequence_number(
    emu: Emulator, rest: lark.Client
) -> None:
    chat = emu.open_chat()
    for text in ("one", "two"):
        assert await send_text(rest, chat.chat_id, text) == 0

    _, sent = await call(emu, "GET", f"/sent?chat_id={chat.chat_id}&after=1")

    assert [json.loads(s["content"])["text"] for s in sent] == ["two"]
    assert sent[0]["op"] == "create"


async def test_http_invalidate_tokens_and_client_config(emu: Emulator) -> None:
    revoked = await call(emu, "POST", "/faults/invalidate_tokens", {})
    updated = await call(emu, "PUT", "/client_config", {"reconnect_interval": 3})

    assert revoked == (200, {"revoked": 0})
    assert updated[1]["reconnect_interval"] == 3
    assert emu.client_config.reconnect_interval == 3


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/events/nope/redeliver", {}, 404),
        ("POST", "/messages", {"chat_id": "oc_1"}, 400),
        ("POST", "/messages", {"text": 5}, 400),
        ("POST", "/faults/server_error", {"status": 200}, 400),
        ("GET", "/chats/oc_missing/messages", None, 404),
    ],
)
async def test_bad_control_requests_get_a_json_error(
    emu: Emulator, method: str, path: str, body: Any, status: int
) -> None:
    answered, payload = await call(emu, method, path, body)

    assert answered == status
    assert payload["error"]


async def test_the_overview_shows_the_apps_and_the_url(emu: Emulator) -> None:
    _, overview = await call(emu, "GET", "")

    assert overview["url"] == emu.url
    assert [a["app_id"] for a in overview["apps"]] == [emu.app.app_id]


def test_the_public_api_is_pinned() -> None:
    assert sorted(feishu_emulator.__all__) == feishu_emulator.__all__
    assert {"Emulator", "App", "ClientConfig", "Limits", "Api", "RefuseMode"} <= set(
        feishu_emulator.__all__
    )


async def test_a_tap_over_http_is_refused_without_a_value_and_unanswered_without_a_bot(
    emu: Emulator, rest: lark.Client
) -> None:
    emu.open_chat("oc_http_tap")
    assert await send_text(rest, "oc_http_tap", "a message to tap") == 0
    (sent,) = await emu.wait_for_sent(1, chat_id="oc_http_tap")

    refused = await call(emu, "POST", "/clicks", {"message_id": sent.message_id})
    status, clicked = await call(emu, "POST", "/clicks",
                                 {"message_id": sent.message_id, "value": {"k": "x"}})  # fmt: skip

    assert refused[0] == 400
    assert "value" in refused[1]["error"]
    assert status == 200
    assert (clicked["answered"], clicked["delivery"]) == (False, "dropped")
