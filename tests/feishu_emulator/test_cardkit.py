"""CardKit card entities against the real SDK client: create, send, stream, settings, replace,
and the refusals (sequence, streaming closed, rate, scope, sent twice)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import lark_oapi as lark
import pytest
from lark_oapi.api.cardkit.v1 import (
    Card,
    ContentCardElementRequest,
    ContentCardElementRequestBody,
    CreateCardRequest,
    CreateCardRequestBody,
    SettingsCardRequest,
    SettingsCardRequestBody,
    UpdateCardRequest,
    UpdateCardRequestBody,
)
from lark_oapi.api.im.v1 import (
    CreateMessageRequest,
    CreateMessageRequestBody,
    PatchMessageRequest,
    PatchMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)

from feishu_emulator import (
    Api,
    App,
    ChatType,
    Emulator,
    EmulatorServer,
    EmulatorSettings,
    SentOp,
)
from feishu_emulator.models import CardOpKind

ELEMENT = "answer"


def streaming_card(text: str = "", *, streaming: bool = True) -> dict[str, Any]:
    return {
        "schema": "2.0",
        "config": {"streaming_mode": streaming, "summary": {"content": ""}},
        "header": {"title": {"tag": "plain_text", "content": "Turn 1"}, "template": "blue"},
        "body": {
            "elements": [
                {"tag": "markdown", "content": "**claude**", "element_id": "who"},
                {"tag": "markdown", "content": text, "element_id": ELEMENT},
                {"tag": "hr", "element_id": "rule"},
            ]
        },
    }


def client_for(url: str, app: App) -> lark.Client:
    builder = lark.Client.builder().app_id(app.app_id).app_secret(app.app_secret)
    return builder.domain(url).timeout(10).build()


async def create_card(rest: lark.Client, card: dict[str, Any] | str) -> Any:
    data = card if isinstance(card, str) else json.dumps(card)
    body = CreateCardRequestBody.builder().type("card_json").data(data).build()
    request = CreateCardRequest.builder().request_body(body).build()
    return await asyncio.to_thread(rest.cardkit.v1.card.create, request)


async def card_id_of(rest: lark.Client, card: dict[str, Any]) -> str:
    response = await create_card(rest, card)
    assert response.success(), response.msg
    return str(response.data.card_id)


async def stream(
    rest: lark.Client,
    card_id: str,
    text: str,
    *,
    sequence: int,
    element_id: str = ELEMENT,
    uuid: str | None = None,
) -> Any:
    body = ContentCardElementRequestBody.builder().content(text).sequence(sequence)
    if uuid is not None:
        body = body.uuid(uuid)
    request = (
        ContentCardElementRequest.builder()
        .card_id(card_id)
        .element_id(element_id)
        .request_body(body.build())
        .build()
    )
    return await asyncio.to_thread(rest.cardkit.v1.card_element.content, request)


async def settings(rest: lark.Client, card_id: str, value: dict[str, Any], *, sequence: int) -> Any:
    body = SettingsCardRequestBody.builder().settings(json.dumps(value)).sequence(sequence).build()
    request = SettingsCardRequest.builder().card_id(card_id).request_body(body).build()
    return await asyncio.to_thread(rest.cardkit.v1.card.settings, request)


async def update(rest: lark.Client, card_id: str, card: dict[str, Any], *, sequence: int) -> Any:
    whole = Card.builder().type("card_json").data(json.dumps(card)).build()
    body = UpdateCardRequestBody.builder().card(whole).sequence(sequence).build()
    request = UpdateCardRequest.builder().card_id(card_id).request_body(body).build()
    return await asyncio.to_thread(rest.cardkit.v1.card.update, request)


def reference(card_id: str) -> str:
    return json.dumps({"type": "card", "data": {"card_id": card_id}})


async def send(rest: lark.Client, chat_id: str, card_id: str) -> Any:
    body = CreateMessageRequestBody.builder().receive_id(chat_id).msg_type("interactive")
    body = body.content(reference(card_id))
    request = (
        CreateMessageRequest.builder().receive_id_type("chat_id").request_body(body.build()).build()
    )
    return await asyncio.to_thread(rest.im.v1.message.create, request)


async def sent_card(rest: lark.Client, emu: Emulator, card: dict[str, Any]) -> tuple[str, str]:
    """A card entity made from ``card`` and sent to a new chat: (card_id, message_id)."""
    card_id = await card_id_of(rest, card)
    response = await send(rest, emu.open_chat().chat_id, card_id)
    assert response.success(), response.msg
    return card_id, str(response.data.message_id)


def element_text(card: dict[str, Any], element_id: str = ELEMENT) -> str:
    [element] = [e for e in card["body"]["elements"] if e.get("element_id") == element_id]
    return str(element["content"])


async def test_a_streamed_card_shows_its_final_text_in_its_message(
    emu: Emulator, rest: lark.Client
) -> None:
    card_id, message_id = await sent_card(rest, emu, streaming_card())

    texts = ["Hel", "Hello, wor", "Hello, world."]
    answers = [await stream(rest, card_id, t, sequence=n) for n, t in enumerate(texts, start=1)]
    closed = await settings(rest, card_id, {"config": {"streaming_mode": False}}, sequence=4)

    assert all(a.success() for a in [*answers, closed]), [a.msg for a in answers]
    shown = emu.message(message_id)
    assert element_text(shown.body()) == "Hello, world."
    assert shown.body()["config"] == {"streaming_mode": False, "summary": {"content": ""}}
    assert (shown.card_id, shown.updated) == (card_id, True)
    entity = emu.card_entity(card_id)
    assert (entity.message_id, entity.sequence, entity.streaming) == (message_id, 4, False)
    assert emu.card_entity_of(message_id) == entity
    ops = emu.card_ops(card_id)
    assert [o.op for o in ops] == [
        CardOpKind.CREATE,
        *[CardOpKind.CONTENT] * 3,
        CardOpKind.SETTINGS,
    ]
    assert [o.sequence for o in ops] == [None, 1, 2, 3, 4]
    assert ops[3].content == "Hello, world."
    assert ops[3].element_id == ELEMENT


async def test_the_sent_record_names_the_card_entity_and_its_json_at_send_time(
    emu: Emulator, rest: lark.Client
) -> None:
    card_id, message_id = await sent_card(rest, emu, streaming_card("first"))

    [sent] = emu.sent

    assert (sent.op, sent.message_id, sent.card_id) == (SentOp.CREATE, message_id, card_id)
    assert element_text(sent.body()) == "first"


async def test_a_reply_can_send_a_card_entity_in_a_thread(emu: Emulator, rest: lark.Client) -> None:
    posted = await emu.post_text("go", chat_id="oc_topics", chat_type=ChatType.GROUP)
    assert posted.message is not None
    card_id = await card_id_of(rest, streaming_card())
    body = ReplyMessageRequestBody.builder().msg_type("interactive").content(reference(card_id))
    request = (
        ReplyMessageRequest.builder()
        .message_id(posted.message.message_id)
        .request_body(body.reply_in_thread(True).build())
        .build()
    )

    replied = await asyncio.to_thread(rest.im.v1.message.reply, request)
    await stream(rest, card_id, "in the topic", sequence=1)

    assert replied.success(), replied.msg
    assert replied.data.thread_id.startswith("omt_")
    assert element_text(emu.message(replied.data.message_id).body()) == "in the topic"


async def test_every_card_change_is_told_to_the_worlds_listeners() -> None:
    app = App()
    server = EmulatorServer(EmulatorSettings(apps=(app,)))
    await server.start()
    try:
        told: list[str] = []
        server.world.add_listener(told.append)
        rest = client_for(server.url, app)
        card_id = await card_id_of(rest, streaming_card())
        chat = server.world.open_chat(None, ChatType.GROUP)
        message_id = (await send(rest, chat.chat_id, card_id)).data.message_id
        told.clear()

        await stream(rest, card_id, "one", sequence=1)
        await stream(rest, card_id, "two", sequence=2)
        await settings(rest, card_id, {"config": {"streaming_mode": False}}, sequence=3)
    finally:
        await server.stop()

    assert told == [message_id] * 3


async def test_a_sequence_not_above_the_last_accepted_one_is_refused(
    emu: Emulator, rest: lark.Client
) -> None:
    card_id, message_id = await sent_card(rest, emu, streaming_card())
    await stream(rest, card_id, "second", sequence=2)

    again = await stream(rest, card_id, "again", sequence=2)
    older = await stream(rest, card_id, "older", sequence=1)
    closing = await settings(rest, card_id, {"config": {"streaming_mode": False}}, sequence=2)

    assert [r.code for r in (again, older, closing)] == [300317] * 3
    assert again.raw.status_code == 400
    assert element_text(emu.message(message_id).body()) == "second"
    assert emu.card_entity(card_id).sequence == 2


async def test_text_cannot_stream_into_a_card_whose_streaming_is_off(
    emu: Emulator, rest: lark.Client
) -> None:
    card_id, _ = await sent_card(rest, emu, streaming_card(streaming=False))

    refused = await stream(rest, card_id, "typed", sequence=1)
    await settings(rest, card_id, {"config": {"streaming_mode": True}}, sequence=2)
    allowed = await stream(rest, card_id, "typed", sequence=3)

    assert (refused.code, refused.msg) == (300309, "Card streaming closed")
    assert allowed.success(), allowed.msg


async def test_streaming_closes_by_itself_ten_minutes_after_it_opened() -> None:
    now = [1_700_000_000.0]
    async with Emulator(clock=lambda: now[0]) as emu:
        rest = client_for(emu.url, emu.app)
        card_id, _ = await sent_card(rest, emu, streaming_card())
        now[0] += 601

        late = await stream(rest, card_id, "late", sequence=1)

        assert late.code == 200850
        assert emu.card_entity(card_id).body()["config"]["streaming_mode"] is False


@pytest.mark.parametrize(
    ("element_id", "code"),
    [("nowhere", 300313), ("rule", 300310)],
    ids=["unknown-element", "not-a-text-element"],
)
async def test_streaming_needs_a_text_element_of_the_card(
    emu: Emulator, rest: lark.Client, element_id: str, code: int
) -> None:
    card_id, _ = await sent_card(rest, emu, streaming_card())

    refused = await stream(rest, card_id, "x", sequence=1, element_id=element_id)

    assert refused.code == code


async def test_calls_on_an_unknown_card_are_refused(rest: lark.Client) -> None:
    streamed = await stream(rest, "7000000000000000001", "x", sequence=1)
    configured = await settings(rest, "7000000000000000001", {"config": {}}, sequence=1)

    assert (streamed.code, configured.code) == (200740, 200740)


async def test_the_eleventh_call_on_one_card_within_a_second_is_refused(
    emu: Emulator, rest: lark.Client
) -> None:
    card_id, _ = await sent_card(rest, emu, streaming_card())  # the create is call 1

    answers = [await stream(rest, card_id, f"t{n}", sequence=n) for n in range(1, 11)]

    assert [a.code for a in answers] == [0] * 9 + [99991400]
    assert answers[-1].raw.status_code == 429
    assert answers[-1].raw.headers["x-ogw-ratelimit-limit"] == "10"
    other = await card_id_of(rest, streaming_card())
    assert (await stream(rest, other, "fine", sequence=1)).success()


async def test_an_app_without_the_cardkit_scope_is_refused_every_cardkit_call(
    emu: Emulator, rest: lark.Client
) -> None:
    card_id = await card_id_of(rest, streaming_card())
    scopeless = emu.register_app(App(cardkit=False))
    other = client_for(emu.url, scopeless)

    created = await create_card(other, streaming_card())
    streamed = await stream(other, card_id, "x", sequence=1)

    for refused in (created, streamed):
        assert (refused.code, refused.raw.status_code) == (99991672, 400)
        assert "[cardkit:card:write]" in refused.msg
        body = json.loads(refused.raw.content)
        assert body["error"]["permission_violations"][0]["subject"] == "cardkit:card:write"
    assert [o.op for o in emu.card_ops()] == [CardOpKind.CREATE]


async def test_another_apps_card_cannot_be_changed_or_sent(
    emu: Emulator, rest: lark.Client
) -> None:
    card_id = await card_id_of(rest, streaming_card())
    other = client_for(emu.url, emu.register_app(App()))

    streamed = await stream(other, card_id, "x", sequence=1)
    sent = await send(other, emu.open_chat().chat_id, card_id)

    assert streamed.code == 300311
    assert sent.code == 230099
    assert "cardid is invalid" in sent.msg


async def test_a_card_entity_can_be_sent_only_once(emu: Emulator, rest: lark.Client) -> None:
    card_id, _ = await sent_card(rest, emu, streaming_card())

    again = await send(rest, emu.open_chat().chat_id, card_id)
    unknown = await send(rest, emu.open_chat().chat_id, "7000000000000000002")

    assert again.code == unknown.code == 230099
    assert len(emu.sent) == 1


async def test_a_patch_leaves_a_card_entitys_message_as_cardkit_set_it(
    emu: Emulator, rest: lark.Client
) -> None:
    card_id, message_id = await sent_card(rest, emu, streaming_card("streamed"))
    other = {**streaming_card("patched"), "config": {}}
    body = PatchMessageRequestBody.builder().content(json.dumps(other)).build()
    request = PatchMessageRequest.builder().message_id(message_id).request_body(body).build()

    patched = await asyncio.to_thread(rest.im.v1.message.patch, request)

    assert patched.success(), patched.msg
    assert element_text(emu.message(message_id).body()) == "streamed"
    assert emu.sent[-1].op is SentOp.PATCH
    assert element_text(emu.sent[-1].body()) == "patched"
    assert emu.card_entity(card_id).body() == emu.message(message_id).body()


async def test_a_replaced_card_shows_in_its_message_and_keeps_the_sequence(
    emu: Emulator, rest: lark.Client
) -> None:
    card_id, message_id = await sent_card(rest, emu, streaming_card())
    await stream(rest, card_id, "partial", sequence=1)
    final = streaming_card("final answer", streaming=False)

    replaced = await update(rest, card_id, final, sequence=2)
    stale = await update(rest, card_id, final, sequence=2)

    assert replaced.success(), replaced.msg
    assert stale.code == 300317
    assert emu.message(message_id).body() == final
    assert emu.card_entity(card_id).streaming is False


DUPLICATE_IDS = [
    {"tag": "markdown", "content": "a", "element_id": "x"},
    {"tag": "markdown", "content": "b", "element_id": "x"},
]


@pytest.mark.parametrize(
    ("card", "code"),
    [
        ("", 300307),
        ("{not json", 200220),
        (json.dumps({"elements": []}), 300303),
        (json.dumps({"schema": "2.0", "config": {"update_multi": False}}), 300302),
        (json.dumps({"schema": "2.0", "body": {"elements": [{"tag": "nope"}]}}), 200220),
        (json.dumps(streaming_card() | {"body": {"elements": DUPLICATE_IDS}}), 300301),
        (json.dumps(streaming_card("y" * 31_000)), 200860),
    ],
    ids=["empty", "not-json", "schema-1", "not-shared", "bad-tag", "duplicate-id", "too-big"],
)
async def test_an_invalid_card_entity_is_refused(rest: lark.Client, card: str, code: int) -> None:
    refused = await create_card(rest, card)

    assert refused.code == code, refused.msg


async def test_a_repeated_uuid_on_a_card_is_answered_as_a_conflict(
    emu: Emulator, rest: lark.Client
) -> None:
    card_id, _ = await sent_card(rest, emu, streaming_card())

    first = await stream(rest, card_id, "once", sequence=1, uuid="op-1")
    replay = await stream(rest, card_id, "once", sequence=1, uuid="op-1")

    assert first.success(), first.msg
    assert replay.code == 200770
    assert len(emu.card_ops(card_id)) == 2


async def test_a_forced_server_error_hits_a_cardkit_call_once(
    emu: Emulator, rest: lark.Client
) -> None:
    card_id, message_id = await sent_card(rest, emu, streaming_card())
    emu.fail_next(api=Api.CARD_ELEMENT_CONTENT)

    failed = await stream(rest, card_id, "try", sequence=1)
    retried = await stream(rest, card_id, "try", sequence=1)

    assert failed.raw.status_code == 500
    assert retried.success(), retried.msg
    assert element_text(emu.message(message_id).body()) == "try"
