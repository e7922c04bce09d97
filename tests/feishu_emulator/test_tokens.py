"""Tenant tokens: checked credentials, expiry, reissue near the end, server-side revocation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from feishu_emulator import Emulator

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def timed(clock: Clock) -> AsyncIterator[Emulator]:
    async with Emulator(clock=clock) as emulator:
        yield emulator


async def fetch_token(emu: Emulator, secret: str | None = None) -> dict[str, Any]:
    # Like the SDK: a JSON body with no Content-Type header.
    body = json.dumps({"app_id": emu.app.app_id, "app_secret": secret or emu.app.app_secret})
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.url}{TOKEN_PATH}", data=body.encode()) as response,
    ):
        answer: dict[str, Any] = await response.json(content_type=None)
        return answer


async def send_with(emu: Emulator, token: str) -> int:
    chat = emu.open_chat()
    body = {"receive_id": chat.chat_id, "msg_type": "text", "content": '{"text":"x"}'}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{emu.url}/open-apis/im/v1/messages?receive_id_type=chat_id",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        return int((await response.json())["code"])


async def test_a_token_is_issued_for_the_right_secret_only(timed: Emulator) -> None:
    issued = await fetch_token(timed)
    refused = await fetch_token(timed, secret="wrong")

    assert (issued["code"], issued["expire"]) == (0, 7200)
    assert issued["tenant_access_token"].startswith("t-")
    assert refused["code"] != 0
    assert "tenant_access_token" not in refused


async def test_a_token_stops_working_when_it_expires(timed: Emulator, clock: Clock) -> None:
    token = (await fetch_token(timed))["tenant_access_token"]

    before = await send_with(timed, token)
    clock.now += 7200
    after = await send_with(timed, token)

    assert (before, after) == (0, 99991663)


async def test_the_same_token_comes_back_until_less_than_30_minutes_are_left(
    timed: Emulator, clock: Clock
) -> None:
    first = await fetch_token(timed)
    clock.now += 3600
    same = await fetch_token(timed)
    clock.now += 1900
    fresh = await fetch_token(timed)

    assert same["tenant_access_token"] == first["tenant_access_token"]
    assert same["expire"] == 3600
    assert fresh["tenant_access_token"] != first["tenant_access_token"]
    assert await send_with(timed, first["tenant_access_token"]) == 0


async def test_revoked_tokens_are_refused_and_a_new_one_works(emu: Emulator) -> None:
    old = (await fetch_token(emu))["tenant_access_token"]

    assert emu.invalidate_tokens() == 1
    new = (await fetch_token(emu))["tenant_access_token"]

    assert await send_with(emu, old) == 99991663
    assert new != old
    assert await send_with(emu, new) == 0


async def test_a_call_without_a_token_is_refused_with_99991661(emu: Emulator) -> None:
    assert await send_with(emu, "") == 99991661
