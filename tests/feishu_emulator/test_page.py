"""The chat page's routes: the page and its files, its settings, its chats, the update feed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import lark_oapi as lark
import pytest
from lark_oapi.api.im.v1 import (
    CreateMessageRequest,
    CreateMessageRequestBody,
    PatchMessageRequest,
    PatchMessageRequestBody,
)

from feishu_emulator import (
    App,
    ChatType,
    ClientConfig,
    Emulator,
    EmulatorServer,
    EmulatorSettings,
    EmulatorStateError,
    UnknownRecordError,
    UserMessage,
)
from feishu_emulator.chat_page import ChatPage
from feishu_emulator.models import PageSettings, PageUser
from support import wait_until

ALICE = PageUser(open_id="ou_page_alice", name="Alice", allowed=True, p2p_chat_id="oc_p2p_alice")
BOB = PageUser(open_id="ou_page_bob", name="Bob", allowed=False, p2p_chat_id="oc_p2p_bob")
GROUP = "oc_page_topics"
Served = Emulator | EmulatorServer


def card(text: str) -> str:
    return json.dumps(
        {
            "schema": "2.0",
            "config": {"update_multi": True},
            "header": {"title": {"tag": "plain_text", "content": "Turn"}, "template": "blue"},
            "body": {"elements": [{"tag": "markdown", "content": text}]},
        }
    )


@pytest.fixture
async def page_emu() -> AsyncIterator[Emulator]:
    app = App(bot_name="cclark-test")
    settings = PageSettings(
        app_id=app.app_id,
        bot_name=app.bot_name,
        users=(ALICE, BOB),
        group_chat_id=GROUP,
        group_name="Team topics",
        app_name="work",
    )
    async with Emulator(apps=[app], client_config=ClientConfig.fast(), page=settings) as emulator:
        yield emulator


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    """The server on the test's own loop, so a test can see its parked long-polls."""
    app = App()
    page = PageSettings(app_id=app.app_id, bot_name="b", users=(ALICE,), group_chat_id=GROUP)
    server = EmulatorServer(EmulatorSettings(apps=(app,), page=page))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def chat_page(server: EmulatorServer) -> ChatPage:
    assert server.page is not None
    return server.page


async def parked(server: EmulatorServer, after: int, wait: float) -> asyncio.Task[dict[str, Any]]:
    """A long-poll, once the server holds it."""
    poll = asyncio.create_task(updates(server, after=after, wait=wait))
    await wait_until(lambda: chat_page(server).feed.waiting == 1, within=10, what="a parked poll")
    return poll


@pytest.fixture
def page_rest(page_emu: Emulator) -> lark.Client:
    return (
        lark.Client.builder()
        .app_id(page_emu.app.app_id)
        .app_secret(page_emu.app.app_secret)
        .domain(page_emu.url)
        .timeout(10)
        .build()
    )


async def get(emu: Served, path: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as session, session.get(f"{emu.url}{path}") as response:
        return response.status, response.content_type, await response.read()


async def updates(emu: Served, after: int = 0, wait: float = 0) -> dict[str, Any]:
    status, _, body = await get(emu, f"/_emulator/page/updates?after={after}&wait={wait}")
    assert status == 200, body
    result: dict[str, Any] = json.loads(body)
    return result


async def bot_create(rest: lark.Client, receive_id: str, content: str, *, id_type: str) -> str:
    body = (
        CreateMessageRequestBody.builder()
        .receive_id(receive_id)
        .msg_type("interactive" if content.startswith('{"schema"') else "text")
        .content(content)
        .build()
    )
    request = CreateMessageRequest.builder().receive_id_type(id_type).request_body(body).build()
    response = await asyncio.to_thread(rest.im.v1.message.create, request)
    assert response.code == 0, response.msg
    return str(response.data.message_id)


async def bot_patch(rest: lark.Client, message_id: str, content: str) -> None:
    body = PatchMessageRequestBody.builder().content(content).build()
    request = PatchMessageRequest.builder().message_id(message_id).request_body(body).build()
    response = await asyncio.to_thread(rest.im.v1.message.patch, request)
    assert response.code == 0, response.msg


async def test_an_emulator_without_page_settings_serves_no_page(emu: Emulator) -> None:
    assert (await get(emu, "/"))[0] == 404
    assert (await get(emu, "/chat"))[0] == 404
    assert (await get(emu, "/_emulator/page/config"))[0] == 404
    assert (await get(emu, "/_emulator/page/updates?after=0&wait=0"))[0] == 404


async def test_the_page_and_its_files_are_served(page_emu: Emulator) -> None:
    for path in ("/", "/chat"):
        status, content_type, body = await get(page_emu, path)
        assert (status, content_type) == (200, "text/html")
        assert b"/_emulator/page/static/chat.js" in body
    for name, kind in [("chat.js", "javascript"), ("card.js", "javascript"), ("page.css", "css")]:
        status, content_type, _ = await get(page_emu, f"/_emulator/page/static/{name}")
        assert status == 200
        assert kind in content_type
    assert page_emu.page_url == f"{page_emu.url}/chat"


async def test_the_page_url_needs_page_settings(emu: Emulator) -> None:
    with pytest.raises(EmulatorStateError):
        _ = emu.page_url


async def test_the_config_names_the_app_the_users_and_the_chats(page_emu: Emulator) -> None:
    status, _, body = await get(page_emu, "/_emulator/page/config")
    config = json.loads(body)

    assert status == 200
    assert config["app_id"] == page_emu.app.app_id
    assert (config["app_name"], config["bot_name"]) == ("work", "cclark-test")
    assert config["bot_open_id"] == page_emu.app.bot_open_id
    assert [(u["name"], u["allowed"], u["p2p_chat_id"]) for u in config["users"]] == [
        ("Alice", True, "oc_p2p_alice"),
        ("Bob", False, "oc_p2p_bob"),
    ]
    assert [u["open_id"] for u in config["users"]] == [ALICE.open_id, BOB.open_id]
    assert (config["group_chat_id"], config["group_name"]) == (GROUP, "Team topics")
    assert config["loopback_only"] is True


async def test_the_page_chats_exist_at_start_and_each_p2p_chat_belongs_to_its_user(
    page_emu: Emulator, page_rest: lark.Client
) -> None:
    chats = {chat.chat_id: chat for chat in page_emu.chats}

    assert chats["oc_p2p_alice"].chat_type is ChatType.P2P
    assert chats["oc_p2p_alice"].p2p_open_id == ALICE.open_id
    assert chats[GROUP].chat_type is ChatType.GROUP
    assert chats[GROUP].name == "Team topics"
    # the bot writing to the user (by open_id) lands in the page's p2p chat for that user
    message_id = await bot_create(
        page_rest, BOB.open_id, json.dumps({"text": "hi Bob"}), id_type="open_id"
    )
    assert page_emu.message(message_id).chat_id == "oc_p2p_bob"


async def test_updates_answer_at_once_with_what_changed_after_a_version(
    page_emu: Emulator,
) -> None:
    first = await page_emu.post_text("one", chat_id="oc_p2p_alice", sender_open_id=ALICE.open_id)
    await page_emu.post_text("two", chat_id="oc_p2p_bob", sender_open_id=BOB.open_id)

    everything = await updates(page_emu, after=0)
    later = await updates(page_emu, after=1)
    nothing = await updates(page_emu, after=everything["version"])

    assert first.message is not None
    assert [m["sender_id"] for m in everything["messages"]] == [ALICE.open_id, BOB.open_id]
    assert everything["messages"][0]["message_id"] == first.message.message_id
    assert [m["sender_id"] for m in later["messages"]] == [BOB.open_id]
    assert nothing == {"version": everything["version"], "reset": False, "messages": []}


async def test_a_parked_long_poll_wakes_when_a_user_posts(server: EmulatorServer) -> None:
    poll = await parked(server, after=0, wait=30)

    message = UserMessage(
        content={"text": "wake up"}, chat_id="oc_p2p_alice", sender_open_id=ALICE.open_id
    )
    await server.control.post(message)
    woken = await asyncio.wait_for(poll, timeout=10)

    assert [json.loads(m["content"])["text"] for m in woken["messages"]] == ["wake up"]


async def test_a_change_in_a_chat_the_page_does_not_show_leaves_a_poll_parked(
    server: EmulatorServer,
) -> None:
    feed = chat_page(server).feed
    poll = await parked(server, after=0, wait=30)

    elsewhere = UserMessage(
        content={"text": "elsewhere"}, chat_id="oc_other", chat_type=ChatType.GROUP
    )
    await server.control.post(elsewhere)
    assert (feed.version, feed.waiting) == (0, 1)
    here = UserMessage(
        content={"text": "here"}, chat_id="oc_p2p_alice", sender_open_id=ALICE.open_id
    )
    await server.control.post(here)
    woken = await asyncio.wait_for(poll, timeout=10)

    assert [json.loads(m["content"])["text"] for m in woken["messages"]] == ["here"]


async def test_a_long_poll_wakes_when_the_bot_patches_a_card_and_shows_it_updated(
    page_emu: Emulator, page_rest: lark.Client
) -> None:
    message_id = await bot_create(page_rest, GROUP, card("working"), id_type="chat_id")
    version = (await updates(page_emu))["version"]
    poll = asyncio.create_task(updates(page_emu, after=version, wait=30))

    await bot_patch(page_rest, message_id, card("done"))
    woken = await asyncio.wait_for(poll, timeout=10)

    [patched] = woken["messages"]
    assert patched["message_id"] == message_id
    assert patched["updated"] is True
    assert json.loads(patched["content"])["body"]["elements"][0]["content"] == "done"


async def test_a_long_poll_times_out_empty(page_emu: Emulator) -> None:
    version = (await updates(page_emu))["version"]

    quiet = await updates(page_emu, after=version, wait=0.2)

    assert quiet == {"version": version, "reset": False, "messages": []}


async def test_updates_leave_out_chats_the_page_does_not_show(page_emu: Emulator) -> None:
    await page_emu.post_text("elsewhere", chat_id="oc_other", chat_type=ChatType.GROUP)

    assert (await updates(page_emu))["messages"] == []


async def test_a_page_ahead_of_the_emulator_gets_everything_again(page_emu: Emulator) -> None:
    await page_emu.post_text("kept", chat_id="oc_p2p_alice", sender_open_id=ALICE.open_id)

    resent = await updates(page_emu, after=999)

    assert resent["reset"] is True
    assert [json.loads(m["content"])["text"] for m in resent["messages"]] == ["kept"]


@pytest.mark.parametrize("query", ["after=-1", "after=x", "wait=abc", "wait=61", "wait=nan"])
async def test_bad_update_queries_are_refused(page_emu: Emulator, query: str) -> None:
    status, _, body = await get(page_emu, f"/_emulator/page/updates?{query}")

    assert status == 400
    assert "error" in json.loads(body)


async def test_a_parked_long_poll_ends_when_the_server_stops(server: EmulatorServer) -> None:
    poll = await parked(server, after=0, wait=60)

    started = time.monotonic()
    await server.stop()
    ended = await asyncio.wait_for(poll, timeout=10)

    assert time.monotonic() - started < 3  # not aiohttp's 5 s shutdown timeout
    assert ended["messages"] == []


async def test_a_group_post_as_the_page_makes_it_reaches_the_bot_in_a_new_topic(
    page_emu: Emulator,
) -> None:
    body = {
        "text": "start",
        "chat_id": GROUP,
        "chat_type": "group",
        "sender_open_id": BOB.open_id,
        "app_id": page_emu.app.app_id,
        "mention_bot": True,
        "start_thread": True,
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{page_emu.url}/_emulator/messages", json=body) as response,
    ):
        posted = await response.json()

    assert response.status == 200
    assert posted["delivery"] == "queued"  # addressed to the bot; pushed once it connects
    assert posted["message"]["thread_id"]
    assert [m["name"] for m in posted["message"]["mentions"]] == ["cclark-test"]


def test_page_settings_refuse_shared_chat_ids_and_no_users() -> None:
    twin = PageUser(open_id="ou_twin", name="Twin", allowed=True, p2p_chat_id=GROUP)
    with pytest.raises(ValueError, match="distinct chat ids"):
        PageSettings(app_id="cli_x", bot_name="b", users=(ALICE, twin), group_chat_id=GROUP)
    with pytest.raises(ValueError, match="at least one user"):
        PageSettings(app_id="cli_x", bot_name="b", users=(), group_chat_id=GROUP)


def test_page_settings_for_an_unregistered_app_are_refused() -> None:
    settings = PageSettings(app_id="cli_unknown", bot_name="b", users=(ALICE,), group_chat_id=GROUP)
    with pytest.raises(UnknownRecordError):
        Emulator(apps=[App()], page=settings)


def test_a_new_page_user_gets_fresh_ids() -> None:
    one, two = PageUser.new("A", allowed=True), PageUser.new("B", allowed=False)

    assert one.open_id.startswith("ou_")
    assert one.p2p_chat_id.startswith("oc_")
    assert (one.open_id, one.p2p_chat_id) != (two.open_id, two.p2p_chat_id)
