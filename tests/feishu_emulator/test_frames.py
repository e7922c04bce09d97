"""pbbp2 frames: the headers the SDK requires, never-empty parts, pongs that carry config."""

from __future__ import annotations

import json

import pytest

from feishu_emulator import ClientConfig
from feishu_emulator.frames import (
    SERVICE_ID,
    FrameMethod,
    decode_frame,
    encode_frame,
    event_frames,
    pong_frame,
    split_payload,
)


def test_event_frames_carry_every_header_the_sdk_requires_in_the_sending_order() -> None:
    frames = event_frames(
        b'{"a": 1}', message_id="m1", trace_id="t1", service=SERVICE_ID, seq_id=4, log_id=9,
        parts=3, order=[2, 0, 1],
    )  # fmt: skip

    decoded = [decode_frame(f) for f in frames]

    assert [d.header("seq") for d in decoded] == ["2", "0", "1"]
    for frame in decoded:
        assert frame.method == FrameMethod.DATA
        assert (frame.seq_id, frame.log_id, frame.service) == (4, 9, SERVICE_ID)
        assert frame.header("type") == "event"
        assert (frame.header("message_id"), frame.header("trace_id")) == ("m1", "t1")
        assert frame.header("sum") == "3"
    joined = b"".join(d.payload for d in sorted(decoded, key=lambda d: int(d.header("seq") or 0)))
    assert joined == b'{"a": 1}'


@pytest.mark.parametrize(("size", "parts"), [(1, 1), (2, 2), (10, 3), (1000, 7)])
def test_split_payload_keeps_every_byte_and_never_yields_an_empty_part(
    size: int, parts: int
) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)

    slices = split_payload(payload, parts)

    assert len(slices) == parts
    assert all(slices)
    assert b"".join(slices) == payload


def test_split_payload_refuses_more_parts_than_bytes() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        split_payload(b"ab", 3)


def test_event_frames_refuse_an_order_that_is_not_a_permutation() -> None:
    with pytest.raises(ValueError, match="permutation"):
        event_frames(b"abc", message_id="m", trace_id="t", service=1, seq_id=1, log_id=1,
                     parts=2, order=[0, 0])  # fmt: skip


def test_a_pong_echoes_the_ping_and_carries_all_four_client_config_keys() -> None:
    ping = decode_frame(
        encode_frame(method=FrameMethod.CONTROL, headers={"type": "ping"}, service=SERVICE_ID)
    )

    pong = decode_frame(pong_frame(ping, ClientConfig.fast()))
    bare = decode_frame(pong_frame(ping, None))

    assert (pong.method, pong.service, pong.header("type")) == (0, SERVICE_ID, "pong")
    assert set(json.loads(pong.payload)) == {
        "ReconnectCount",
        "ReconnectInterval",
        "ReconnectNonce",
        "PingInterval",
    }
    assert bare.payload == b""


def test_decode_frame_rejects_bytes_that_are_not_a_frame() -> None:
    with pytest.raises(ValueError, match="pbbp2"):
        decode_frame(b"\xff\xff\xff")
