"""FeishuClient and FeishuAdapter against a local fake, through the real lark-oapi lark.Client.

Time is a fake clock: back-off and pacing waits are recorded, never slept.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr
from tests.cclark.feishu_fake import FeishuFake, Scripted

from cclark.adapter import AdapterSettings, FeishuAdapter
from cclark.config import FeishuApp
from cclark.errors import (
    FeishuApiError,
    FeishuAuthError,
    FeishuPermissionError,
    FeishuRateLimited,
    TopicRootUnknownError,
)
from cclark.event_parsers import channel_id_for, parse_message_event
from cclark.feishu_client import FeishuClient, FeishuClientSettings, card_entity_content
from feishu_emulator import Api, App, ChatType, Emulator
from unified_icc import Journal

CHAT = "oc_chat_a"
RATE_LIMITED = Scripted(
    status=429,
    code=99991400,
    msg="request trigger frequency limit",
    headers={"x-ogw-ratelimit-limit": "50", "x-ogw-ratelimit-reset": "2"},
)
CHAT_THROTTLED = Scripted(code=230020, msg="This operation triggers the frequency limit.")
TENANT_THROTTLED = Scripted(code=11232, msg="create message service trigger rate limit")
SERVER_ERROR = Scripted(status=500, code=1, msg="internal error")
PROXY_PAGE = Scripted(status=502, text="<html><body>502 Bad Gateway</body></html>")


class FakeClock:
    """Monotonic time that only moves when someone sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FeishuFake]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    server = FeishuFake()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(fake: FeishuFake) -> FeishuApp:
    # A fresh app id per test: the SDK caches tokens process-wide, keyed by app id.
    return FeishuApp(
        name="main",
        app_id=f"cli_{secrets.token_hex(8)}",
        app_secret=SecretStr("s3cr3t"),
        domain=fake.domain,
    )


@pytest.fixture
async def client(app: FeishuApp, clock: FakeClock) -> AsyncIterator[FeishuClient]:
    feishu = FeishuClient(app, clock=clock)
    yield feishu
    await feishu.close()


def _uuids(fake: FeishuFake, route: str = "create") -> set[str]:
    return {seen.body["uuid"] for seen in fake.seen(route)}


@pytest.mark.parametrize(
    "failure",
    [RATE_LIMITED, CHAT_THROTTLED, TENANT_THROTTLED, SERVER_ERROR, PROXY_PAGE],
    ids=["429-99991400", "230020", "11232", "500", "502-html"],
)
async def test_send_text_retries_a_transient_failure_and_posts_once(
    fake: FeishuFake, client: FeishuClient, clock: FakeClock, failure: Scripted
) -> None:
    fake.script("create", failure)

    message_id = await client.send_text(CHAT, "hello")

    assert len(fake.seen("create")) == 2
    assert len(_uuids(fake)) == 1
    assert [m["message_id"] for m in fake.messages] == [message_id]
    assert len(clock.sleeps) == 1


async def test_send_retries_through_a_run_of_failures_with_one_uuid(
    fake: FeishuFake, client: FeishuClient, clock: FakeClock
) -> None:
    fake.script("create", RATE_LIMITED, CHAT_THROTTLED, SERVER_ERROR, PROXY_PAGE)

    await client.send_card(CHAT, {"schema": "2.0", "body": {"elements": []}})

    assert len(fake.seen("create")) == 5
    assert len(_uuids(fake)) == 1
    assert len(fake.messages) == 1
    assert json.loads(fake.messages[0]["body"]["content"])["schema"] == "2.0"
    assert len(clock.sleeps) == 4
    assert clock.sleeps[2] > clock.sleeps[1]  # exponential


async def test_rate_limit_wait_honours_the_ogw_reset_header(
    fake: FeishuFake, client: FeishuClient, clock: FakeClock
) -> None:
    reset = Scripted(status=429, code=99991400, headers={"x-ogw-ratelimit-reset": "7"})
    fake.script("create", reset)

    await client.send_text(CHAT, "hello")

    assert 7.0 <= clock.sleeps[0] <= 7.0 * 1.25


async def test_throttling_beyond_the_attempts_raises_rate_limited(
    fake: FeishuFake, client: FeishuClient
) -> None:
    fake.script("create", *[RATE_LIMITED] * 5)

    with pytest.raises(FeishuRateLimited) as caught:
        await client.send_text(CHAT, "hello")

    assert (caught.value.code, caught.value.http_status) == (99991400, 429)
    assert caught.value.retry_after == 2.0
    assert len(fake.seen("create")) == 5
    assert fake.messages == []


async def test_invalid_token_is_evicted_and_refetched_once(
    fake: FeishuFake, client: FeishuClient, clock: FakeClock
) -> None:
    await client.send_text(CHAT, "first")
    fake.revoke_tokens()

    await client.send_text(CHAT, "second")

    creates = fake.seen("create")
    assert [c.token for c in creates] == ["t-1", "t-1", "t-2"]
    assert fake.token_fetches == 2
    assert creates[1].body["uuid"] == creates[2].body["uuid"]
    assert len(fake.messages) == 2
    assert clock.sleeps == []


async def test_token_rejected_after_refetch_raises_auth_error(
    fake: FeishuFake, client: FeishuClient
) -> None:
    fake.script("create", Scripted(code=99991663, msg="Invalid access token"))
    fake.script("create", Scripted(code=99991663, msg="Invalid access token"))

    with pytest.raises(FeishuAuthError) as caught:
        await client.send_text(CHAT, "hello")

    assert caught.value.code == 99991663
    assert fake.token_fetches == 2
    assert len(fake.seen("create")) == 2


async def test_token_fetch_refused_raises_auth_error(
    fake: FeishuFake, client: FeishuClient
) -> None:
    fake.script("token", Scripted(status=200, code=10014, msg="app secret invalid"))

    with pytest.raises(FeishuAuthError) as caught:
        await client.send_text(CHAT, "hello")

    assert caught.value.code == 10014
    assert "app secret invalid" in caught.value.msg
    assert fake.seen("create") == []


async def test_unrecoverable_code_raises_with_code_msg_and_log_id(
    fake: FeishuFake, client: FeishuClient, clock: FakeClock
) -> None:
    fake.script("create", Scripted(code=230002, msg="Bot is not in the chat", log_id="2024-x1"))

    with pytest.raises(FeishuApiError) as caught:
        await client.send_text(CHAT, "hello")

    error = caught.value
    assert type(error) is FeishuApiError
    assert (error.code, error.msg, error.log_id, error.http_status) == (
        230002,
        "Bot is not in the chat",
        "2024-x1",
        400,
    )
    assert "230002" in str(error)
    assert len(fake.seen("create")) == 1
    assert clock.sleeps == []


async def test_unreachable_server_raises_api_error_without_code(
    fake: FeishuFake, client: FeishuClient
) -> None:
    await client.send_text(CHAT, "warm the token")
    await fake.stop()

    with pytest.raises(FeishuApiError) as caught:
        await client.send_text(CHAT, "hello")

    assert (caught.value.code, caught.value.http_status) == (None, None)
    assert "transport error" in caught.value.msg


async def test_a_patch_replaces_the_whole_card_in_one_request(
    fake: FeishuFake, client: FeishuClient
) -> None:
    card = {"schema": "2.0", "body": {"elements": [{"tag": "markdown", "content": "all"}]}}

    await client.patch_card("om_card", card)

    (patch,) = fake.seen("patch")
    assert patch.path == "/open-apis/im/v1/messages/om_card"
    assert json.loads(patch.body["content"]) == card


async def test_every_call_of_the_app_shares_one_budget_per_second(
    fake: FeishuFake, app: FeishuApp, clock: FakeClock
) -> None:
    settings = FeishuClientSettings(app_calls_per_second=4)
    feishu = FeishuClient(app, settings=settings, clock=clock)
    try:
        for i in range(6):  # six chats, one message each: no chat is over its own pace
            await feishu.send_text(f"oc_{i}", "hello")
        await feishu.patch_card("om_card", {"n": 1})
    finally:
        await feishu.close()

    assert len(fake.messages) == 6
    assert clock.sleeps == [pytest.approx(1.0)]  # the 5th call waited; 5 to 7 share a second


async def test_sends_to_one_chat_are_paced_to_five_per_second(
    fake: FeishuFake, client: FeishuClient, clock: FakeClock
) -> None:
    for i in range(12):
        await client.send_text(CHAT, f"m{i}")

    assert clock.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]
    assert clock.now == pytest.approx(1002.0)
    assert len(fake.messages) == 12


async def test_pacing_is_per_chat(fake: FeishuFake, client: FeishuClient, clock: FakeClock) -> None:
    for i in range(5):
        await client.send_text("oc_a", f"a{i}")
        await client.send_text("oc_b", f"b{i}")

    assert clock.sleeps == []
    assert len(fake.messages) == 10


async def test_upload_image_retries_with_the_whole_file(
    fake: FeishuFake, client: FeishuClient
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    fake.script("image", SERVER_ERROR)

    image_key = await client.upload_image(png)

    uploads = fake.seen("image")
    assert image_key.startswith("img_v3_")
    assert [u.body["image"] for u in uploads] == [png, png]
    assert uploads[-1].body["image_type"] == "message"


async def test_reply_in_thread_goes_to_the_reply_endpoint(
    fake: FeishuFake, client: FeishuClient
) -> None:
    await client.reply("om_root", "text", {"text": "hi"}, in_thread=True, chat_id=CHAT)

    (reply,) = fake.seen("reply")
    assert reply.path == "/open-apis/im/v1/messages/om_root/reply"
    assert reply.body["reply_in_thread"] is True
    assert json.loads(reply.body["content"]) == {"text": "hi"}
    assert reply.body["uuid"]


def _topic_event() -> dict[str, object]:
    return {
        "schema": "2.0",
        "header": {"event_id": "ev1", "event_type": "im.message.receive_v1"},
        "event": {
            "sender": {"sender_id": {"open_id": "ou_user"}, "sender_type": "user"},
            "message": {
                "message_id": "om_inside",
                "root_id": "om_topic_root",
                "chat_id": CHAT,
                "thread_id": "omt_1",
                "chat_type": "group",
                "message_type": "text",
                "content": json.dumps({"text": "@_user_1 go"}),
                "create_time": "1700000000000",
            },
        },
    }


async def test_adapter_answers_a_topic_under_its_root_in_thread(
    fake: FeishuFake, client: FeishuClient
) -> None:
    adapter = FeishuAdapter(client, app_name="main")
    event = parse_message_event("main", _topic_event())
    assert event is not None
    adapter.note_inbound(event)

    await adapter.send_text(event.channel_id, "done")

    (reply,) = fake.seen("reply")
    assert reply.path == "/open-apis/im/v1/messages/om_topic_root/reply"
    assert reply.body["reply_in_thread"] is True
    assert fake.seen("create") == []


async def test_a_restarted_adapter_still_answers_a_topic_it_learned_before(
    fake: FeishuFake, client: FeishuClient, tmp_path: Path
) -> None:
    event = parse_message_event("main", _topic_event())
    assert event is not None
    journal = Journal(tmp_path / "state" / "state.db")
    journal.open()
    adapter = FeishuAdapter(client, app_name="main")
    adapter.load_roots(journal)
    adapter.note_inbound(event)
    await journal.close()

    journal.open()
    restarted = FeishuAdapter(client, app_name="main")
    restarted.load_roots(journal)
    await journal.close()
    await restarted.send_text(event.channel_id, "after the restart")

    (reply,) = fake.seen("reply")
    assert reply.path == "/open-apis/im/v1/messages/om_topic_root/reply"
    assert (tmp_path / "state" / "state.db").stat().st_mode & 0o777 == 0o600


async def test_adapter_refuses_a_topic_whose_root_is_unknown(
    fake: FeishuFake, client: FeishuClient
) -> None:
    adapter = FeishuAdapter(client, app_name="main")
    topic = channel_id_for("main", CHAT, "omt_unknown")

    with pytest.raises(TopicRootUnknownError):
        await adapter.send_image(topic, b"png")

    assert fake.requests == []


async def test_adapter_sends_long_text_to_a_chat_as_numbered_parts(
    fake: FeishuFake, client: FeishuClient
) -> None:
    adapter = FeishuAdapter(client, app_name="main", settings=AdapterSettings(text_part_bytes=300))
    text = "\n\n".join(f"paragraph {i} " + "x" * 80 for i in range(8))

    ids = await adapter.send_text(channel_id_for("main", CHAT), text)

    texts = [json.loads(m["body"]["content"])["text"] for m in fake.messages]
    assert len(ids) == len(texts) > 1
    labels = [f"({i}/{len(texts)})" for i in range(1, len(texts) + 1)]
    assert [t.split("\n", 1)[0] for t in texts] == labels
    targets = {(c.query["receive_id_type"], c.body["receive_id"]) for c in fake.seen("create")}
    assert targets == {("chat_id", CHAT)}


async def test_adapter_rejects_a_channel_of_another_app(client: FeishuClient) -> None:
    adapter = FeishuAdapter(client, app_name="main")

    with pytest.raises(ValueError, match="belongs to app 'other'"):
        await adapter.send_card(channel_id_for("other", CHAT), {"schema": "2.0"})


async def test_a_closed_client_refuses_calls_without_sending(
    fake: FeishuFake, app: FeishuApp
) -> None:
    feishu = FeishuClient(app)
    await feishu.close()

    with pytest.raises(FeishuApiError, match="closed"):
        await feishu.patch_card("om_card", {"n": 3})
    with pytest.raises(FeishuApiError, match="closed"):
        await feishu.send_text(CHAT, "late")
    assert fake.requests == []


async def test_the_bot_learns_its_own_open_id_from_the_platform_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    async with Emulator() as emu:
        app = FeishuApp(name="main", app_id=emu.app.app_id,
                        app_secret=SecretStr(emu.app.app_secret), domain=emu.url)  # fmt: skip
        client = FeishuClient(app)
        try:
            first = await client.bot_open_id()
            emu.fail_next(5, api=Api.BOT_INFO)  # asked again, it would fail
            again = await client.bot_open_id()
        finally:
            await client.close()

    assert first == again == emu.app.bot_open_id


# CardKit card entities and reactions, against the emulator


def streaming_card(text: str = "", *, streaming: bool = True) -> dict[str, Any]:
    return {
        "schema": "2.0",
        "config": {"streaming_mode": streaming},
        "body": {"elements": [{"tag": "markdown", "content": text, "element_id": "answer"}]},
    }


def answer_text(card: dict[str, Any]) -> str:
    return str(card["body"]["elements"][0]["content"])


def emulated(emu: Emulator, app: App | None = None, domain: str | None = None) -> FeishuApp:
    chosen = app or emu.app
    return FeishuApp(name="main", app_id=chosen.app_id, app_secret=SecretStr(chosen.app_secret),
                     domain=domain or emu.url)  # fmt: skip


@pytest.fixture
async def emu_client(emu: Emulator, clock: FakeClock) -> AsyncIterator[FeishuClient]:
    feishu = FeishuClient(emulated(emu), clock=clock)
    yield feishu
    await feishu.close()


class SleepingClock(FakeClock):
    """Real time, with every sleep recorded: for pacing against the emulator's real windows."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(seconds)


class LostAnswerProxy:
    """Forwards everything to the emulator, but answers the first request whose path ends
    with ``suffix`` with a proxy's 502 page: that call went through, its answer was lost."""

    def __init__(self, upstream: str, suffix: str) -> None:
        self._upstream, self._suffix = upstream, suffix
        self._runner: web.AppRunner | None = None
        self.lost = 0

    async def start(self) -> str:
        application = web.Application()
        application.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(application)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        wanted = ("Authorization", "Content-Type")
        headers = {k: v for k, v in request.headers.items() if k in wanted}
        url, data = self._upstream + request.path_qs, await request.read()
        async with (
            aiohttp.ClientSession() as session,
            session.request(request.method, url, data=data, headers=headers) as answer,
        ):
            status, body, kind = answer.status, await answer.read(), answer.content_type
        if request.path.endswith(self._suffix) and not self.lost:
            self.lost += 1
            return web.Response(status=502, text="<html>502 Bad Gateway</html>",
                                content_type="text/html")  # fmt: skip
        return web.Response(status=status, body=body, content_type=kind)


async def test_a_card_entity_streams_into_the_message_it_was_sent_as(
    emu: Emulator, emu_client: FeishuClient
) -> None:
    chat = emu.open_chat()
    card_id = await emu_client.create_card_entity(streaming_card())
    content = card_entity_content(card_id)
    message_id = await emu_client.send_message(chat.chat_id, "interactive", content)

    for n, text in enumerate(["Hel", "Hello, wor", "Hello, world."], start=1):
        await emu_client.stream_card_text(card_id, "answer", text, sequence=n)
    await emu_client.set_card_settings(card_id, {"config": {"streaming_mode": False}}, sequence=4)

    shown = emu.message(message_id).body()
    assert answer_text(shown) == "Hello, world."
    assert shown["config"]["streaming_mode"] is False
    entity = emu.card_entity_of(message_id)
    assert entity is not None
    assert entity.card_id == card_id
    changes = emu.card_ops(card_id)[1:]
    assert [c.sequence for c in changes] == [1, 2, 3, 4]
    assert len({c.uuid for c in changes}) == 4  # one idempotency key per call


async def test_a_reply_in_a_topic_sends_a_card_entity_that_is_then_replaced(
    emu: Emulator, emu_client: FeishuClient
) -> None:
    posted = await emu.post_text("go", chat_id="oc_cards", chat_type=ChatType.GROUP)
    assert posted.message is not None
    card_id = await emu_client.create_card_entity(streaming_card())
    content = card_entity_content(card_id)
    message_id = await emu_client.reply(
        posted.message.message_id, "interactive", content, in_thread=True, chat_id="oc_cards"
    )
    final = streaming_card("done", streaming=False)

    await emu_client.replace_card_entity(card_id, final, sequence=1)

    shown = emu.message(message_id)
    assert shown.body() == final
    assert shown.thread_id is not None


async def test_an_app_without_the_cardkit_scope_gets_a_permission_error_at_once(
    emu: Emulator, clock: FakeClock
) -> None:
    feishu = FeishuClient(emulated(emu, emu.register_app(App(cardkit=False))), clock=clock)
    try:
        with pytest.raises(FeishuPermissionError) as caught:
            await feishu.create_card_entity(streaming_card())
    finally:
        await feishu.close()

    error = caught.value
    assert isinstance(error, FeishuApiError)
    assert (error.code, error.http_status) == (99991672, 400)
    assert error.scopes == ("cardkit:card:write",)
    assert "add it in the developer console" in str(error)
    assert error.log_id
    assert clock.sleeps == []
    assert emu.card_ops() == ()


async def test_a_transient_500_on_a_card_call_is_retried(
    emu: Emulator, emu_client: FeishuClient, clock: FakeClock
) -> None:
    card_id = await emu_client.create_card_entity(streaming_card())
    emu.fail_next(api=Api.CARD_ELEMENT_CONTENT)

    await emu_client.stream_card_text(card_id, "answer", "after a 500", sequence=1)

    assert len(clock.sleeps) == 1
    [_, streamed] = emu.card_ops(card_id)
    assert (streamed.sequence, streamed.content) == (1, "after a 500")


async def test_a_stale_sequence_is_refused_without_a_retry(
    emu: Emulator, emu_client: FeishuClient, clock: FakeClock
) -> None:
    card_id = await emu_client.create_card_entity(streaming_card())
    await emu_client.stream_card_text(card_id, "answer", "two", sequence=2)

    with pytest.raises(FeishuApiError) as caught:
        await emu_client.stream_card_text(card_id, "answer", "one", sequence=1)

    assert caught.value.code == 300317
    assert clock.sleeps == []


async def test_a_retried_card_call_whose_first_attempt_went_through_is_done(
    emu: Emulator, clock: FakeClock
) -> None:
    proxy = LostAnswerProxy(emu.url, "/content")
    feishu = FeishuClient(emulated(emu, domain=await proxy.start()), clock=clock)
    try:
        card_id = await feishu.create_card_entity(streaming_card())
        await feishu.stream_card_text(card_id, "answer", "once", sequence=1)
    finally:
        await feishu.close()
        await proxy.stop()

    assert proxy.lost == 1
    assert len(clock.sleeps) == 1
    assert [op.content for op in emu.card_ops(card_id)[1:]] == ["once"]


async def test_card_calls_are_paced_to_the_platforms_ten_a_second_per_card(
    emu: Emulator,
) -> None:
    clock = SleepingClock()
    feishu = FeishuClient(emulated(emu), clock=clock)
    try:
        card_id = await feishu.create_card_entity(streaming_card())
        for n in range(1, 11):
            await feishu.stream_card_text(card_id, "answer", f"t{n}", sequence=n)
    finally:
        await feishu.close()

    assert len(emu.card_ops(card_id)) == 11
    assert len(clock.sleeps) == 1
    assert 0 < clock.sleeps[0] <= 1.0


async def test_the_bot_adds_and_removes_a_reaction(emu: Emulator, emu_client: FeishuClient) -> None:
    posted = await emu.post_text("run the tests")
    assert posted.message is not None
    message_id = posted.message.message_id

    reaction_id = await emu_client.add_reaction(message_id, "OnIt")
    added = emu.reactions(message_id)
    await emu_client.remove_reaction(message_id, reaction_id)

    assert [(r.reaction_id, r.emoji_type) for r in added] == [(reaction_id, "OnIt")]
    assert emu.reactions(message_id) == ()
    with pytest.raises(FeishuApiError) as caught:
        await emu_client.remove_reaction(message_id, reaction_id)
    assert caught.value.code == 231011


async def test_an_unknown_emoji_type_is_refused_without_a_retry(
    emu: Emulator, emu_client: FeishuClient, clock: FakeClock
) -> None:
    posted = await emu.post_text("run the tests")
    assert posted.message is not None

    with pytest.raises(FeishuApiError) as caught:
        await emu_client.add_reaction(posted.message.message_id, "CROSS")

    assert caught.value.code == 231001
    assert clock.sleeps == []
