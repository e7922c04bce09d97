"""The REST surface against the real SDK client: sends, replies, patches, uploads, downloads of
what users sent, refusals."""

from __future__ import annotations

import asyncio
import io
import json
import struct
import zlib
from typing import Any

import lark_oapi as lark
import pytest
from lark_oapi.api.im.v1 import (
    CreateImageRequest,
    CreateImageRequestBody,
    CreateMessageRequest,
    CreateMessageRequestBody,
    CreateMessageResponse,
    GetMessageResourceRequest,
    PatchMessageRequest,
    PatchMessageRequestBody,
    PatchMessageResponse,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
    ReplyMessageResponse,
)
from lark_oapi.core.exception import ObtainAccessTokenException
from lark_oapi.core.token.manager import TokenManager

from feishu_emulator import Api, App, ChatType, Emulator, SentOp

CARD = {
    "schema": "2.0",
    "header": {"title": {"tag": "plain_text", "content": "Turn 1"}, "template": "blue"},
    "body": {"elements": [{"tag": "markdown", "content": "**working**"}]},
}

BIG_CARD = {**CARD, "body": {"elements": [{"tag": "markdown", "content": "y" * 31_000}]}}


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def create(
    rest: lark.Client,
    chat_id: str,
    content: dict[str, Any] | str,
    *,
    msg_type: str = "text",
    uuid: str | None = None,
) -> CreateMessageResponse:
    body = CreateMessageRequestBody.builder().receive_id(chat_id).msg_type(msg_type)
    body = body.content(content if isinstance(content, str) else json.dumps(content))
    if uuid is not None:
        body = body.uuid(uuid)
    request = (
        CreateMessageRequest.builder().receive_id_type("chat_id").request_body(body.build()).build()
    )
    return await asyncio.to_thread(rest.im.v1.message.create, request)


async def reply(
    rest: lark.Client, message_id: str, text: str, *, in_thread: bool = False
) -> ReplyMessageResponse:
    body = (
        ReplyMessageRequestBody.builder()
        .msg_type("text")
        .content(json.dumps({"text": text}))
        .reply_in_thread(in_thread)
        .build()
    )
    request = ReplyMessageRequest.builder().message_id(message_id).request_body(body).build()
    return await asyncio.to_thread(rest.im.v1.message.reply, request)


async def patch(rest: lark.Client, message_id: str, card: dict[str, Any]) -> PatchMessageResponse:
    body = PatchMessageRequestBody.builder().content(json.dumps(card)).build()
    request = PatchMessageRequest.builder().message_id(message_id).request_body(body).build()
    return await asyncio.to_thread(rest.im.v1.message.patch, request)


def client_for(emu: Emulator, app: App) -> lark.Client:
    builder = lark.Client.builder().app_id(app.app_id).app_secret(app.app_secret)
    return builder.domain(emu.url).timeout(10).build()


async def test_a_created_text_message_is_recorded_with_its_chat(
    emu: Emulator, rest: lark.Client
) -> None:
    chat = emu.open_chat(name="ops")

    response = await create(rest, chat.chat_id, {"text": "hi all"})

    assert response.success(), response.msg
    assert response.data.chat_id == chat.chat_id
    assert response.data.message_id.startswith("om_")
    assert response.data.sender.sender_type == "app"
    assert response.get_log_id()
    [sent] = emu.sent
    assert (sent.op, sent.chat_id, sent.text) == (SentOp.CREATE, chat.chat_id, "hi all")
    assert sent.message_id == response.data.message_id


async def test_async_sdk_calls_work_while_the_emulator_runs_on_its_own_loop(
    emu: Emulator, rest: lark.Client
) -> None:
    chat = emu.open_chat()
    body = (
        CreateMessageRequestBody.builder()
        .receive_id(chat.chat_id)
        .msg_type("text")
        .content(json.dumps({"text": "async"}))
        .build()
    )
    request = CreateMessageRequest.builder().receive_id_type("chat_id").request_body(body).build()

    response = await rest.im.v1.message.acreate(request)

    assert response.success(), response.msg
    assert emu.sent[-1].text == "async"


async def test_reply_in_thread_opens_a_thread_that_later_replies_join(
    emu: Emulator, rest: lark.Client
) -> None:
    posted = await emu.post_text("question", chat_id="oc_topics", chat_type=ChatType.GROUP)
    assert posted.message is not None

    first = await reply(rest, posted.message.message_id, "answer", in_thread=True)
    second = await reply(rest, first.data.message_id, "more")

    assert first.success(), first.msg
    assert first.data.thread_id.startswith("omt_")
    assert second.data.thread_id == first.data.thread_id
    assert second.data.root_id == posted.message.message_id
    assert [s.reply_in_thread for s in emu.sent] == [True, False]
    assert emu.message(posted.message.message_id).thread_id == first.data.thread_id


async def test_a_patched_card_replaces_the_content_and_is_recorded(
    emu: Emulator, rest: lark.Client
) -> None:
    chat = emu.open_chat()
    created = await create(rest, chat.chat_id, CARD, msg_type="interactive")
    done = {**CARD, "body": {"elements": [{"tag": "markdown", "content": "done"}]}}

    response = await patch(rest, created.data.message_id, done)

    assert response.success(), response.msg
    assert emu.message(created.data.message_id).body() == done
    assert [s.op for s in emu.sent] == [SentOp.CREATE, SentOp.PATCH]
    assert emu.sent[-1].body() == done


async def test_an_uploaded_image_gets_a_key_usable_in_an_image_message(
    emu: Emulator, rest: lark.Client
) -> None:
    png = tiny_png()
    body = CreateImageRequestBody.builder().image_type("message").image(io.BytesIO(png)).build()
    request = CreateImageRequest.builder().request_body(body).build()

    uploaded = await asyncio.to_thread(rest.im.v1.image.create, request)
    key = uploaded.data.image_key
    sent = await create(rest, emu.open_chat().chat_id, {"image_key": key}, msg_type="image")

    assert uploaded.success(), uploaded.msg
    assert key.startswith("img_v3_")
    assert emu.image(key) == png
    assert sent.success(), sent.msg


async def test_an_empty_upload_is_refused(rest: lark.Client) -> None:
    body = CreateImageRequestBody.builder().image_type("message").image(io.BytesIO(b"")).build()
    request = CreateImageRequest.builder().request_body(body).build()

    response = await asyncio.to_thread(rest.im.v1.image.create, request)

    assert response.code == 234010


async def test_the_same_uuid_returns_the_same_message_once(
    emu: Emulator, rest: lark.Client
) -> None:
    chat = emu.open_chat()

    first = await create(rest, chat.chat_id, {"text": "once"}, uuid="turn-1")
    again = await create(rest, chat.chat_id, {"text": "once"}, uuid="turn-1")

    assert again.data.message_id == first.data.message_id
    assert len(emu.sent) == 1


@pytest.mark.parametrize(
    ("msg_type", "content", "code"),
    [
        ("text", {"text": "x" * (150 * 1024)}, 230025),
        ("interactive", BIG_CARD, 230025),
        ("interactive", {"schema": "2.0", "elements": []}, 230099),
        ("interactive", {"schema": "2.0", "body": {"elements": [{"tag": "note"}]}}, 230099),
        ("text", {"txt": "typo"}, 230001),
    ],
    ids=["text-over-150KB", "card-over-30KB", "v2-with-top-level-elements", "v2-note", "no-text"],
)  # fmt: skip
async def test_bad_content_is_refused_with_the_documented_code(
    emu: Emulator, rest: lark.Client, msg_type: str, content: dict[str, Any], code: int
) -> None:
    response = await create(rest, emu.open_chat().chat_id, content, msg_type=msg_type)

    assert response.code == code
    assert response.raw.status_code == 400
    assert response.error["log_id"] == response.get_log_id()
    assert emu.sent == ()


async def test_a_chat_the_bot_is_not_in_is_refused_with_230002(rest: lark.Client) -> None:
    response = await create(rest, "oc_nowhere", {"text": "hello?"})

    assert response.code == 230002


async def test_patching_a_card_of_another_app_is_refused_with_230012(
    emu: Emulator, rest: lark.Client
) -> None:
    other = emu.register_app(App())
    created = await create(rest, emu.open_chat().chat_id, CARD, msg_type="interactive")

    response = await patch(client_for(emu, other), created.data.message_id, CARD)

    assert response.code == 230012


async def test_patching_an_unshared_v1_card_is_refused(emu: Emulator, rest: lark.Client) -> None:
    v1 = {"elements": [{"tag": "div", "text": {"tag": "plain_text", "content": "old"}}]}
    created = await create(rest, emu.open_chat().chat_id, v1, msg_type="interactive")

    response = await patch(rest, created.data.message_id, v1)

    assert response.code == 230001
    assert "update_multi" in response.msg


async def test_a_chat_rate_limit_answers_230020_then_lets_the_retry_through(
    emu: Emulator, rest: lark.Client
) -> None:
    chat = emu.open_chat()
    emu.rate_limit_chat(chat.chat_id, times=1)

    limited = await create(rest, chat.chat_id, {"text": "too fast"})
    retried = await create(rest, chat.chat_id, {"text": "too fast"})

    assert (limited.code, limited.raw.status_code) == (230020, 400)
    assert retried.success(), retried.msg
    assert len(emu.sent) == 1


async def test_an_api_rate_limit_answers_429_with_the_reset_header(
    emu: Emulator, rest: lark.Client
) -> None:
    emu.rate_limit_api(Api.MESSAGE_CREATE, reset_after=3)

    response = await create(rest, emu.open_chat().chat_id, {"text": "burst"})

    assert response.code == 99991400
    assert response.raw.status_code == 429
    assert response.raw.headers["x-ogw-ratelimit-reset"] == "3"


async def test_invalidated_tokens_answer_99991663_until_the_sdk_drops_its_cached_token(
    emu: Emulator, rest: lark.Client
) -> None:
    chat = emu.open_chat()
    assert (await create(rest, chat.chat_id, {"text": "warm the token"})).success()
    emu.invalidate_tokens()

    refused = await create(rest, chat.chat_id, {"text": "stale"})
    # The SDK never refetches on 99991663 by itself; the bot must evict its cached token.
    TokenManager.cache.set(f"self_tenant_token:{emu.app.app_id}", "", 0)
    recovered = await create(rest, chat.chat_id, {"text": "fresh"})

    assert refused.code == 99991663
    assert recovered.success(), recovered.msg


async def test_a_wrong_secret_fails_the_sdk_token_fetch(emu: Emulator) -> None:
    wrong = App(app_id=emu.app.app_id + "x", app_secret="nope")
    emu.register_app(App(app_id=wrong.app_id, app_secret="right"))

    with pytest.raises(ObtainAccessTokenException):
        await create(client_for(emu, wrong), emu.open_chat().chat_id, {"text": "hi"})


async def test_forced_server_errors_surface_as_status_and_code_then_clear(
    emu: Emulator, rest: lark.Client
) -> None:
    chat = emu.open_chat()
    emu.fail_next(2, status=503)

    first = await create(rest, chat.chat_id, {"text": "a"})
    second = await create(rest, chat.chat_id, {"text": "b"})
    third = await create(rest, chat.chat_id, {"text": "c"})

    assert [r.raw.status_code for r in (first, second, third)] == [503, 503, 200]
    assert first.code == 503
    assert [s.text for s in emu.sent] == ["c"]


async def test_an_html_server_error_makes_the_sdk_raise_a_json_error(
    emu: Emulator, rest: lark.Client
) -> None:
    chat = emu.open_chat()
    emu.fail_next(status=502, body="html")

    with pytest.raises(ValueError, match="Expecting value"):
        await create(rest, chat.chat_id, {"text": "through a proxy"})


def _download(rest: lark.Client, message_id: str, key: str, kind: str) -> Any:
    request = GetMessageResourceRequest.builder().message_id(message_id).file_key(key)
    return rest.im.v1.message_resource.get(request.type(kind).build())


async def test_a_photo_and_a_file_a_user_sent_are_downloaded_with_their_bytes_and_name(
    emu: Emulator, rest: lark.Client
) -> None:
    photo = await emu.post_image(tiny_png())
    sent = await emu.post_file(b"%PDF-1.7 notes", "会议 notes.pdf")
    image_key = photo.message.body()["image_key"]
    file_key = sent.message.body()["file_key"]

    image = await asyncio.to_thread(_download, rest, photo.message.message_id, image_key, "image")
    file = await asyncio.to_thread(_download, rest, sent.message.message_id, file_key, "file")

    assert (image.code, image.file.read()) == (0, tiny_png())
    assert (file.code, file.file.read(), file.file_name) == (0, b"%PDF-1.7 notes", "会议 notes.pdf")


async def test_a_post_s_image_downloads_and_keys_of_other_messages_or_types_are_refused(
    emu: Emulator, rest: lark.Client
) -> None:
    key = emu.store_image(tiny_png())
    post = await emu.post_message("post", {"title": "", "content": [
        [{"tag": "text", "text": "look"}, {"tag": "img", "image_key": key}]]})  # fmt: skip
    other = await emu.post_text("no picture here")
    message_id = post.message.message_id

    inline = await asyncio.to_thread(_download, rest, message_id, key, "image")
    elsewhere = await asyncio.to_thread(_download, rest, other.message.message_id, key, "image")
    wrong_type = await asyncio.to_thread(_download, rest, message_id, key, "file")
    no_message = await asyncio.to_thread(_download, rest, "om_nothing", key, "image")

    assert inline.file.read() == tiny_png()
    assert (elsewhere.code, elsewhere.msg) == (234003, "File not in msg.")
    assert wrong_type.code == 99992402
    assert no_message.code == 230001


async def test_an_app_without_the_resource_scope_cannot_download(emu: Emulator) -> None:
    scopeless = emu.register_app(App(resources=False))
    photo = await emu.post_image(tiny_png(), app_id=scopeless.app_id)
    rest = client_for(emu, scopeless)

    refused = await asyncio.to_thread(_download, rest, photo.message.message_id,
                                      photo.message.body()["image_key"], "image")  # fmt: skip

    assert (refused.code, refused.raw.status_code) == (99991672, 400)
    assert "[im:resource]" in refused.msg
