"""Endpoint discovery and the pbbp2 socket at the byte level, with a plain WebSocket client."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest

from feishu_emulator import ClientConfig, Emulator, RefuseMode
from feishu_emulator.frames import FrameMethod, decode_frame, encode_frame


async def discover(emu: Emulator, secret: str | None = None) -> tuple[int, dict[str, Any]]:
    body = {"AppID": emu.app.app_id, "AppSecret": secret or emu.app.app_secret}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.url}/callback/ws/endpoint", json=body) as response,
    ):
        return response.status, await response.json(content_type=None)


async def test_the_endpoint_hands_out_all_four_client_config_keys_and_a_socket_url(
    emu: Emulator,
) -> None:
    emu.set_client_config(ClientConfig(reconnect_nonce=0, reconnect_interval=2, ping_interval=9))

    status, body = await discover(emu)

    assert (status, body["code"]) == (200, 0)
    assert body["data"]["ClientConfig"] == {
        "ReconnectCount": -1,
        "ReconnectInterval": 2,
        "ReconnectNonce": 0,
        "PingInterval": 9,
    }
    query = parse_qs(urlparse(body["data"]["URL"]).query)
    assert len(query["device_id"][0]) == 19
    assert query["service_id"] == ["33554678"]


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        (RefuseMode.HTTP_503, 503, 1),
        (RefuseMode.SYSTEM_BUSY, 200, 1),
        (RefuseMode.INTERNAL_ERROR, 200, 1000040343),
        (RefuseMode.EXCEED_CONN_LIMIT, 200, 1000040350),
    ],
)
async def test_a_refusing_endpoint_answers_like_production_for_a_while(
    emu: Emulator, mode: RefuseMode, status: int, code: int
) -> None:
    emu.refuse_ws_endpoint(mode, times=1)

    refused = await discover(emu)
    accepted = await discover(emu)

    assert (refused[0], refused[1]["code"]) == (status, code)
    assert accepted[1]["code"] == 0


async def test_a_wrong_secret_gets_a_non_retryable_code(emu: Emulator) -> None:
    status, body = await discover(emu, secret="wrong")

    assert status == 200
    assert body["code"] not in (0, 1, 1000040343)


async def test_the_socket_answers_pings_pushes_events_and_records_acks(emu: Emulator) -> None:
    _, body = await discover(emu)
    async with aiohttp.ClientSession() as session, session.ws_connect(body["data"]["URL"]) as ws:
        await emu.wait_connected()
        ping = encode_frame(method=FrameMethod.CONTROL, headers={"type": "ping"}, service=33554678)
        await ws.send_bytes(ping)
        pong = decode_frame(await ws.receive_bytes(timeout=10))
        posted = await emu.post_text("raw")
        event = decode_frame(await ws.receive_bytes(timeout=10))
        ack = encode_frame(
            method=FrameMethod.DATA,
            headers={**dict(event.headers), "biz_rt": "7"},
            service=event.service,
            payload=b'{"code":200}',
            seq_id=event.seq_id,
            log_id=event.log_id,
        )
        await ws.send_bytes(ack)
        recorded = await emu.wait_for_ack(posted.event_id)

    assert pong.header("type") == "pong"
    assert json.loads(pong.payload)["ReconnectNonce"] == 0
    assert event.method == FrameMethod.DATA
    assert [event.header(k) for k in ("type", "sum", "seq")] == ["event", "1", "0"]
    assert event.header("message_id") == recorded.delivery_id
    assert event.header("trace_id")
    assert json.loads(event.payload)["header"]["event_id"] == posted.event_id
    assert (recorded.code, recorded.biz_rt_ms) == (200, 7)
    assert recorded.latency is not None
    assert recorded.latency > 0


async def test_a_used_ticket_fails_the_handshake_with_the_headers_the_sdk_reads(
    emu: Emulator,
) -> None:
    _, body = await discover(emu)
    url = body["data"]["URL"]
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url):
            pass
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)

    assert refused.value.status == 403
    assert refused.value.headers is not None
    assert refused.value.headers["handshake-status"] == "403"
