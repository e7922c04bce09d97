"""Message reactions against the real SDK client: add, delete, and the refusals."""

from __future__ import annotations

import asyncio
from typing import Any

import lark_oapi as lark
import pytest
from lark_oapi.api.im.v1 import (
    CreateMessageReactionRequest,
    CreateMessageReactionRequestBody,
    DeleteMessageReactionRequest,
    Emoji,
)

from feishu_emulator import App, Emulator
from feishu_emulator.models import SenderType


async def react(rest: lark.Client, message_id: str, emoji_type: str) -> Any:
    emoji = Emoji.builder().emoji_type(emoji_type).build()
    body = CreateMessageReactionRequestBody.builder().reaction_type(emoji).build()
    request = (
        CreateMessageReactionRequest.builder().message_id(message_id).request_body(body).build()
    )
    return await asyncio.to_thread(rest.im.v1.message_reaction.create, request)


async def unreact(rest: lark.Client, message_id: str, reaction_id: str) -> Any:
    request = (
        DeleteMessageReactionRequest.builder()
        .message_id(message_id)
        .reaction_id(reaction_id)
        .build()
    )
    return await asyncio.to_thread(rest.im.v1.message_reaction.delete, request)


async def users_message(emu: Emulator) -> str:
    posted = await emu.post_text("please run the tests")
    assert posted.message is not None
    return posted.message.message_id


async def test_the_bot_reacts_to_a_users_message(emu: Emulator, rest: lark.Client) -> None:
    message_id = await users_message(emu)

    added = await react(rest, message_id, "OK")

    assert added.success(), added.msg
    assert added.data.reaction_type.emoji_type == "OK"
    assert (added.data.operator.operator_id, added.data.operator.operator_type) == (
        emu.app.app_id,
        "app",
    )
    assert int(added.data.action_time) > 0
    [reaction] = emu.reactions(message_id)
    assert (reaction.reaction_id, reaction.emoji_type) == (added.data.reaction_id, "OK")
    assert (reaction.operator_id, reaction.operator_type) == (emu.app.app_id, SenderType.APP)


async def test_a_deleted_reaction_leaves_the_others(emu: Emulator, rest: lark.Client) -> None:
    message_id = await users_message(emu)
    working = await react(rest, message_id, "OnIt")
    done = await react(rest, message_id, "DONE")

    removed = await unreact(rest, message_id, working.data.reaction_id)

    assert removed.success(), removed.msg
    assert removed.data.reaction_id == working.data.reaction_id
    assert removed.data.reaction_type.emoji_type == "OnIt"
    assert [r.reaction_id for r in emu.reactions(message_id)] == [done.data.reaction_id]


@pytest.mark.parametrize("emoji_type", ["THUMBSUP", "DONE", "CrossMark", "ERROR", "CheckMark"])
async def test_documented_emoji_types_are_accepted(
    emu: Emulator, rest: lark.Client, emoji_type: str
) -> None:
    added = await react(rest, await users_message(emu), emoji_type)

    assert added.success(), added.msg


@pytest.mark.parametrize("emoji_type", ["CROSS", "ok", "👍"])
async def test_an_unknown_emoji_type_is_refused(
    emu: Emulator, rest: lark.Client, emoji_type: str
) -> None:
    message_id = await users_message(emu)

    refused = await react(rest, message_id, emoji_type)

    assert (refused.code, refused.msg) == (231001, "reaction type is invalid.")
    assert emu.reactions(message_id) == ()


async def test_a_reaction_on_an_unknown_message_is_refused(rest: lark.Client) -> None:
    refused = await react(rest, "om_0123456789abcdef0123456789abcdef", "OK")

    assert refused.code == 231003
    assert refused.raw.status_code == 400


async def test_deleting_an_unknown_reaction_is_refused(emu: Emulator, rest: lark.Client) -> None:
    message_id = await users_message(emu)

    refused = await unreact(rest, message_id, "ZCaCIjUBVVWSrm5L-3ZTwAAAA")

    assert refused.code == 231011


async def test_a_reaction_of_another_message_is_not_deleted_here(
    emu: Emulator, rest: lark.Client
) -> None:
    first = await users_message(emu)
    second = await users_message(emu)
    added = await react(rest, first, "OK")

    refused = await unreact(rest, second, added.data.reaction_id)

    assert refused.code == 231010
    assert len(emu.reactions(first)) == 1


async def test_a_bot_cannot_delete_another_bots_reaction(emu: Emulator, rest: lark.Client) -> None:
    message_id = await users_message(emu)
    added = await react(rest, message_id, "OK")
    other = emu.register_app(App())
    other_rest = (
        lark.Client.builder()
        .app_id(other.app_id)
        .app_secret(other.app_secret)
        .domain(emu.url)
        .build()
    )

    refused = await unreact(other_rest, message_id, added.data.reaction_id)

    assert refused.code == 231007
    assert len(emu.reactions(message_id)) == 1
