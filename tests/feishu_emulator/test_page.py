"""The chat page's routes: the page and its files, its settings, its chats, the update feed,
posting as its users, and who may use any of it (the token, its cookie, Host and Origin)."""

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
from support import cookie_jar, wait_until

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


async def sign_in(session: aiohttp.ClientSession, emu: Served) -> None:
    """Open the page's link, as a person does, so the session holds the page's cookie."""
    try:
        url = emu.page_url
    except EmulatorStateError:
        return  # no page: nothing to sign in to
    async with session.get(url) as response:
        assert response.status == 200, await response.text()


async def get(emu: Served, path: str, *, signed_in: bool = True) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as session:
        if signed_in:
            await sign_in(session, emu)
        async with session.get(f"{emu.url}{path}") as response:
            return response.status, response.content_type, await response.read()


async def post(
    emu: Served, body: Any, *, signed_in: bool = True, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """POST /chat/messages as the page does: JSON, from the page's own origin."""
    sent = {"Origin": emu.url, **(headers or {})}
    data = body if isinstance(body, str) else json.dumps(body)
    sent.setdefault("Content-Type", "application/json")
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as session:
        if signed_in:
            await sign_in(session, emu)
        url = f"{emu.url}/chat/messages"
        async with session.post(url, data=data, headers=sent) as response:
            text = await response.text()
            return response.status, json.loads(text) if text.startswith("{") else text


async def updates(emu: Served, after: int = 0, wait: float = 0) -> dict[str, Any]:
    status, _, body = await get(emu, f"/chat/updates?after={after}&wait={wait}")
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
    assert (await get(emu, "/chat/config"))[0] == 404
    assert (await get(emu, "/chat/updates?after=0&wait=0"))[0] == 404


async def test_the_page_and_its_files_are_served(page_emu: Emulator) -> None:
    for path in ("/", "/chat"):
        status, content_type, body = await get(page_emu, path)
        assert (status, content_type) == (200, "text/html")
        assert b"/chat/static/chat.js" in body
    for name, kind in [("chat.js", "javascript"), ("card.js", "javascript"), ("page.css", "css")]:
        status, content_type, _ = await get(page_emu, f"/chat/static/{name}")
        assert status == 200
        assert kind in content_type
    assert (await get(page_emu, "/chat/static/index.html"))[0] == 404
    assert (await get(page_emu, "/chat/static/..%2Fapp.py"))[0] == 404
    assert page_emu.page_url.startswith(f"{page_emu.url}/chat?token=")


async def test_the_page_url_needs_page_settings(emu: Emulator) -> None:
    with pytest.raises(EmulatorStateError):
        _ = emu.page_url


async def test_the_config_names_the_app_the_users_and_the_chats(page_emu: Emulator) -> None:
    status, _, body = await get(page_emu, "/chat/config")
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
    status, _, body = await get(page_emu, f"/chat/updates?{query}")

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
    status, posted = await post(
        page_emu, {"text": "start", "chat": "group", "sender_open_id": BOB.open_id}
    )

    assert status == 200
    assert posted["delivery"] == "queued"  # addressed to the bot; pushed once it connects
    assert posted["message"]["chat_id"] == GROUP
    assert posted["message"]["thread_id"]
    assert [m["name"] for m in posted["message"]["mentions"]] == ["cclark-test"]


async def test_a_reply_in_a_topic_and_a_p2p_post_land_where_the_page_shows_them(
    page_emu: Emulator,
) -> None:
    _, topic = await post(page_emu, {"text": "start", "chat": "group",
                                     "sender_open_id": ALICE.open_id})  # fmt: skip
    thread = topic["message"]["thread_id"]

    _, reply = await post(page_emu, {"text": "more", "chat": "group", "thread_id": thread,
                                     "sender_open_id": ALICE.open_id})  # fmt: skip
    _, direct = await post(page_emu, {"text": "hi", "chat": "p2p",
                                      "sender_open_id": BOB.open_id})  # fmt: skip

    assert (reply["message"]["chat_id"], reply["message"]["thread_id"]) == (GROUP, thread)
    assert direct["message"]["chat_id"] == BOB.p2p_chat_id


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"text": "x", "chat": "p2p", "sender_open_id": "ou_someone_else"},
         "sender_open_id must be one of the page's users"),
        ({"text": "x", "chat": "oc_other", "sender_open_id": ALICE.open_id},
         'chat must be "p2p" or "group"'),
        ({"text": "x", "chat": "p2p", "thread_id": "omt_x", "sender_open_id": ALICE.open_id},
         'chat must be "p2p" or "group"'),
        ({"text": "", "chat": "p2p", "sender_open_id": ALICE.open_id},
         "text must be a non-empty string"),
        ({"text": "x", "chat": "group", "thread_id": "omt_nowhere",
          "sender_open_id": ALICE.open_id}, "omt_nowhere"),
        (["not", "an", "object"], "the body must be a JSON object"),
        ("{broken", "Expecting property name"),
    ],
)  # fmt: skip
async def test_the_page_can_post_only_as_its_users_into_its_chats(
    page_emu: Emulator, body: Any, says: str
) -> None:
    status, answer = await post(page_emu, body)

    assert status == 400
    assert says in answer["error"]
    assert [m for chat in page_emu.chats for m in page_emu.messages_in(chat.chat_id)] == []


async def test_a_reply_to_a_message_of_another_chat_is_refused(page_emu: Emulator) -> None:
    elsewhere = await page_emu.post_text("x", chat_id=ALICE.p2p_chat_id,
                                         sender_open_id=ALICE.open_id)  # fmt: skip
    assert elsewhere.message is not None

    status, answer = await post(page_emu, {"text": "y", "chat": "group",
                                           "reply_to": elsewhere.message.message_id,
                                           "sender_open_id": ALICE.open_id})  # fmt: skip

    assert status == 400
    assert "is not in oc_page_topics" in answer["error"]


# -- who may use the page ----------------------------------------------------------------------

PAGE_ROUTES = ("/", "/chat", "/chat/config", "/chat/updates?after=0&wait=0",
               "/chat/static/chat.js", "/chat/images/img_x")  # fmt: skip


@pytest.mark.parametrize("path", PAGE_ROUTES)
async def test_every_page_route_refuses_a_browser_without_the_token(
    page_emu: Emulator, path: str
) -> None:
    status, _, body = await get(page_emu, path, signed_in=False)

    assert status == 401
    assert b"token" in body


async def test_a_wrong_token_is_refused_and_sets_no_cookie(page_emu: Emulator) -> None:
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as session:
        async with session.get(f"{page_emu.url}/chat?token=guess") as response:
            status, text = response.status, await response.text()
        refused = len(session.cookie_jar)

    assert status == 403
    assert "not this launch's" in text
    assert refused == 0


async def test_the_token_is_traded_for_an_httponly_strict_cookie(page_emu: Emulator) -> None:
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as session:
        async with session.get(page_emu.page_url) as response:
            cookie = response.cookies
            body = await response.read()
        async with session.get(f"{page_emu.url}/chat/config") as response:
            config_status = response.status
            config = await response.read()

    [(name, morsel)] = cookie.items()
    token = page_emu.page_url.split("token=")[1]
    assert name.startswith("chat-page-")
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert morsel.value != token  # the cookie is not the token
    assert token.encode() not in body + config  # and no response hands the token back
    assert config_status == 200


async def test_a_post_without_the_cookie_is_refused_and_posts_nothing(
    page_emu: Emulator,
) -> None:
    status, answer = await post(
        page_emu, {"text": "#new", "chat": "p2p", "sender_open_id": ALICE.open_id},
        signed_in=False,
    )  # fmt: skip

    assert status == 401
    assert "cookie" in answer["error"]
    assert page_emu.messages_in(ALICE.p2p_chat_id) == ()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Origin": ""}, 403),
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ],
)
async def test_a_cross_site_or_non_json_post_is_refused_even_with_the_cookie(
    page_emu: Emulator, headers: dict[str, str], status: int
) -> None:
    body = {"text": "echo pwned", "chat": "p2p", "sender_open_id": ALICE.open_id}

    answered, _ = await post(page_emu, body, headers=headers)

    assert answered == status
    assert page_emu.messages_in(ALICE.p2p_chat_id) == ()


FOREIGN_HOST_PATHS = ("/chat", "/chat/config", "/open-apis/auth/v3/tenant_access_token/internal",
                      "/callback/ws/endpoint", "/ws/v2")  # fmt: skip


@pytest.mark.parametrize("path", FOREIGN_HOST_PATHS)
async def test_a_request_for_a_foreign_host_name_is_refused(page_emu: Emulator, path: str) -> None:
    async with (
        aiohttp.ClientSession(cookie_jar=cookie_jar()) as session,
        session.get(f"{page_emu.url}{path}", headers={"Host": "evil.example"}) as response,
    ):
        status, text = response.status, await response.text()

    assert status == 403
    assert "DNS rebinding" in text


async def test_localhost_with_the_right_port_is_its_own_host(page_emu: Emulator) -> None:
    port = page_emu.url.rsplit(":", 1)[1]
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as session:
        wrong_port = f"127.0.0.1:{int(port) + 1}"
        async with session.get(page_emu.page_url, headers={"Host": wrong_port}) as response:
            refused = response.status
        localhost = {"Host": f"localhost:{port}"}
        async with session.get(page_emu.page_url, headers=localhost) as response:
            admitted = response.status

    assert (refused, admitted) == (403, 200)


async def test_a_server_without_test_controls_has_no_emulator_routes(page_emu: Emulator) -> None:
    for path in ("/_emulator", "/_emulator/apps", "/_emulator/chats"):
        assert (await get(page_emu, path))[0] == 404
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{page_emu.url}/_emulator/messages", json={"text": "x"}) as response,
    ):
        assert response.status in (404, 405)
    assert page_emu.messages_in(ALICE.p2p_chat_id) == ()


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
