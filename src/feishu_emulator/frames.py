"""pbbp2 frames of the long connection: encode, decode, pong, event parts.

Owns the byte format (the SDK's own generated ``pbbp2_pb2`` classes) and how a payload is
cut into parts; knows nothing of sockets, apps or what an event means.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from lark_oapi.ws.pb.google.protobuf.message import DecodeError
from lark_oapi.ws.pb.pbbp2_pb2 import Frame

from feishu_emulator.models import ClientConfig

__all__ = [
    "SERVICE_ID",
    "DecodedFrame",
    "FrameMethod",
    "decode_frame",
    "encode_frame",
    "event_frames",
    "pong_frame",
    "split_payload",
]

# The service id production hands out; the SDK only echoes it in its pings.
SERVICE_ID = 33554678


class FrameMethod(IntEnum):
    CONTROL = 0
    DATA = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodedFrame:
    seq_id: int
    log_id: int
    service: int
    method: int
    headers: tuple[tuple[str, str], ...]
    payload: bytes

    def header(self, key: str) -> str | None:
        for name, value in self.headers:
            if name == key:
                return value
        return None


def encode_frame(
    *,
    method: FrameMethod,
    headers: Mapping[str, str],
    service: int,
    payload: bytes | None = None,
    seq_id: int = 0,
    log_id: int = 0,
) -> bytes:
    frame = Frame()
    frame.SeqID = seq_id
    frame.LogID = log_id
    frame.service = service
    frame.method = int(method)
    for key, value in headers.items():
        header = frame.headers.add()
        header.key = key
        header.value = value
    if payload is not None:
        frame.payload = payload
    return bytes(frame.SerializeToString())


def decode_frame(data: bytes) -> DecodedFrame:
    """Parse one frame; like the SDK, required fields are not enforced.

    Raises: ValueError when the bytes are not a frame.
    """
    frame = Frame()
    try:
        frame.ParseFromString(data)
    except DecodeError as error:
        raise ValueError(f"not a pbbp2 frame: {error}") from error
    return DecodedFrame(
        seq_id=int(frame.SeqID),
        log_id=int(frame.LogID),
        service=int(frame.service),
        method=int(frame.method),
        headers=tuple((str(h.key), str(h.value)) for h in frame.headers),
        payload=bytes(frame.payload),
    )


def pong_frame(ping: DecodedFrame, config: ClientConfig | None) -> bytes:
    """The answer to a client ping; a payload, if any, is the ClientConfig the SDK applies."""
    payload = None if config is None else json.dumps(config.to_wire()).encode()
    return encode_frame(
        method=FrameMethod.CONTROL,
        headers={"type": "pong"},
        service=ping.service,
        payload=payload,
        seq_id=ping.seq_id,
        log_id=ping.log_id,
    )


def split_payload(payload: bytes, parts: int) -> list[bytes]:
    """Cut into ``parts`` non-empty slices (the SDK reads an empty slice as missing)."""
    if parts < 1 or parts > max(len(payload), 1):
        raise ValueError(f"cannot cut {len(payload)} bytes into {parts} non-empty parts")
    size, extra = divmod(len(payload), parts)
    slices, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        slices.append(payload[start:end])
        start = end
    return slices


def event_frames(
    payload: bytes,
    *,
    message_id: str,
    trace_id: str,
    service: int,
    seq_id: int,
    log_id: int,
    parts: int = 1,
    order: Sequence[int] | None = None,
    frame_type: str = "event",
) -> list[bytes]:
    """The data frames of one event, in sending order (``order`` permutes the parts)."""
    slices = split_payload(payload, parts)
    sending = list(range(parts)) if order is None else list(order)
    if sorted(sending) != list(range(parts)):
        raise ValueError(f"part order {sending} is not a permutation of 0..{parts - 1}")
    frames = []
    for seq in sending:
        headers = {
            "type": frame_type,
            "message_id": message_id,
            "sum": str(parts),
            "seq": str(seq),
            "trace_id": trace_id,
        }
        frames.append(
            encode_frame(
                method=FrameMethod.DATA,
                headers=headers,
                service=service,
                payload=slices[seq],
                seq_id=seq_id,
                log_id=log_id,
            )
        )
    return frames
