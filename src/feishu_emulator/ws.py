"""The long connection: endpoint discovery, the pbbp2 WebSocket, pushes, pings and acks.

Owns POST /callback/ws/endpoint, the live sockets, which socket gets an event (cluster mode),
events queued while no bot is connected, and reading acks back into the world; decides
nothing about message content (im.py) and builds no envelopes (events.py).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from aiohttp import WSMsgType, web

from feishu_emulator import ids
from feishu_emulator.faults import Faults
from feishu_emulator.frames import (
    SERVICE_ID,
    FrameMethod,
    decode_frame,
    event_frames,
    pong_frame,
)
from feishu_emulator.models import ClientConfig, Delivery, DeliveryState, Limits, RefuseMode
from feishu_emulator.state import StoredEvent, World

__all__ = ["ENDPOINT_PATH", "SOCKET_PATH", "Hub"]

logger = logging.getLogger(__name__)

ENDPOINT_PATH = "/callback/ws/endpoint"
SOCKET_PATH = "/ws/v2"
# Room left in a frame for the protobuf header fields around a payload slice.
FRAME_OVERHEAD = 1024
SYSTEM_BUSY = 1
INTERNAL_ERROR = 1000040343
EXCEED_CONN_LIMIT = 1000040350
# Not documented; the code the reference's fake used for bad credentials.
BAD_CREDENTIALS = 1000040351
REFUSALS: Mapping[RefuseMode, tuple[int, int, str]] = MappingProxyType(
    {
        RefuseMode.HTTP_503: (503, SYSTEM_BUSY, "system busy"),
        RefuseMode.SYSTEM_BUSY: (200, SYSTEM_BUSY, "system busy"),
        RefuseMode.INTERNAL_ERROR: (200, INTERNAL_ERROR, "internal error"),
        RefuseMode.EXCEED_CONN_LIMIT: (200, EXCEED_CONN_LIMIT, "exceed conn limit"),
    }
)


@dataclass(eq=False, slots=True, kw_only=True)
class _Link:
    """One live socket; the send lock keeps the parts of an event together."""

    device_id: str
    app_id: str
    socket: web.WebSocketResponse
    request: web.Request
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_seq: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class _Queued:
    event_id: str
    parts: int
    order: tuple[int, ...] | None


class Hub:
    """The bots' long connections; every method runs on the server's loop."""

    def __init__(
        self,
        *,
        world: World,
        faults: Faults,
        limits: Limits,
        client_config: ClientConfig,
        pong_carries_config: bool,
    ) -> None:
        self._world = world
        self._faults = faults
        self._limits = limits
        self.client_config = client_config
        self._pong_carries_config = pong_carries_config
        self._tickets: dict[str, tuple[str, str]] = {}
        self._links: dict[str, _Link] = {}
        self._queued: dict[str, list[_Queued]] = {}
        self._random = random.Random()

    def routes(self) -> list[web.RouteDef]:
        return [web.post(ENDPOINT_PATH, self.endpoint), web.get(SOCKET_PATH, self.socket)]

    async def endpoint(self, request: web.Request) -> web.Response:
        """Hand out a socket URL and the ClientConfig, or refuse like production does."""
        refusal = self._faults.take_endpoint_refusal()
        if refusal is not None:
            status, code, msg = REFUSALS[refusal]
            return web.json_response({"code": code, "msg": msg}, status=status)
        try:
            body: Any = json.loads(await request.read())
        except ValueError:
            body = None
        app_id = body.get("AppID") if isinstance(body, dict) else None
        secret = body.get("AppSecret") if isinstance(body, dict) else None
        if not (isinstance(app_id, str) and isinstance(secret, str)):
            return web.json_response({"code": BAD_CREDENTIALS, "msg": "invalid AppID/AppSecret"})
        if not self._world.credentials_match(app_id, secret):
            return web.json_response({"code": BAD_CREDENTIALS, "msg": "invalid AppID/AppSecret"})
        if self._live_count(app_id) >= self._limits.max_connections:
            return web.json_response({"code": EXCEED_CONN_LIMIT, "msg": "exceed conn limit"})
        device_id, ticket = ids.new_device_id(), ids.new_ticket()
        self._tickets[ticket] = (app_id, device_id)
        url = (
            f"ws://{request.host}{SOCKET_PATH}?fpid=493&aid=552564&device_id={device_id}"
            f"&access_key={ids.new_ticket()}&service_id={SERVICE_ID}&ticket={ticket}"
        )
        data = {"URL": url, "ClientConfig": self.client_config.to_wire()}
        return web.json_response({"code": 0, "msg": "ok", "data": data})

    async def socket(self, request: web.Request) -> web.StreamResponse:
        """The WebSocket: one-use ticket, then pongs and acks until either side closes."""
        held = self._tickets.pop(request.query.get("ticket", ""), None)
        if held is None or held[1] != request.query.get("device_id"):
            # The SDK reads these headers of a failed handshake; 403 is fatal for it.
            headers = {"handshake-status": "403", "handshake-msg": "invalid ticket"}
            return web.Response(status=403, headers=headers)
        app_id, device_id = held
        socket = web.WebSocketResponse(max_msg_size=4 * self._limits.max_frame_bytes)
        await socket.prepare(request)
        link = _Link(device_id=device_id, app_id=app_id, socket=socket, request=request)
        self._links[device_id] = link
        self._world.connection_opened(device_id, app_id)
        logger.info("bot connected app_id=%s device_id=%s", app_id, device_id)
        try:
            for queued in self._queued.pop(app_id, []):
                await self._send(link, self._world.event(queued.event_id), queued)
            async for message in socket:
                if message.type is WSMsgType.BINARY:
                    await self._on_frame(link, message.data)
        finally:
            del self._links[device_id]
            self._world.connection_closed(device_id)
            logger.info("bot disconnected app_id=%s device_id=%s", app_id, device_id)
        return socket

    async def push(
        self, event_id: str, *, parts: int = 1, order: Sequence[int] | None = None
    ) -> DeliveryState:
        """Send a stored event to one live socket of its app, or queue it until one connects."""
        stored = self._world.event(event_id)
        queued = _Queued(
            event_id=event_id, parts=parts, order=None if order is None else tuple(order)
        )
        live = [link for link in self._links.values() if link.app_id == stored.app_id]
        if not live:
            self._queued.setdefault(stored.app_id, []).append(queued)
            return DeliveryState.QUEUED
        # Cluster mode: with several connections, one random client gets each event.
        if await self._send(self._random.choice(live), stored, queued):
            return DeliveryState.PUSHED
        self._queued.setdefault(stored.app_id, []).append(queued)
        return DeliveryState.QUEUED

    async def close(
        self, *, app_id: str | None = None, code: int = 1000, abort: bool = False
    ) -> int:
        """Close live sockets from the server side (abort: drop TCP with no close frame)."""
        links = [link for link in self._links.values() if app_id in (None, link.app_id)]
        for link in links:
            if abort and link.request.transport is not None:
                link.request.transport.abort()
            else:
                await link.socket.close(code=code, message=b"closed by the emulator")
        return len(links)

    def _live_count(self, app_id: str) -> int:
        return sum(1 for link in self._links.values() if link.app_id == app_id)

    async def _send(self, link: _Link, stored: StoredEvent, queued: _Queued) -> bool:
        room = self._limits.max_frame_bytes - FRAME_OVERHEAD
        parts = max(queued.parts, math.ceil(len(stored.payload) / room))
        order = queued.order if parts == queued.parts else None
        delivery_id, trace_id = ids.new_frame_message_id(), ids.new_trace_id()
        frames = event_frames(
            stored.payload,
            message_id=delivery_id,
            trace_id=trace_id,
            service=SERVICE_ID,
            seq_id=link.next_seq,
            log_id=random.getrandbits(63),
            parts=parts,
            order=order,
        )
        link.next_seq += 1
        delivery = Delivery(
            delivery_id=delivery_id,
            event_id=stored.event_id,
            device_id=link.device_id,
            trace_id=trace_id,
            parts=parts,
            attempt=0,
            pushed_at=time.time(),
        )
        async with link.send_lock:
            self._world.record_delivery(delivery, time.monotonic())
            try:
                for frame in frames:
                    await link.socket.send_bytes(frame)
            except ConnectionError:
                logger.warning("push failed, socket closing device_id=%s", link.device_id)
                return False
        return True

    async def _on_frame(self, link: _Link, data: bytes) -> None:
        try:
            frame = decode_frame(data)
        except ValueError:
            # A garbled frame is logged and dropped, as the SDK does on its side.
            logger.warning("undecodable frame device_id=%s", link.device_id)
            return
        if frame.method == FrameMethod.CONTROL and frame.header("type") == "ping":
            self._world.connection_pinged(link.device_id)
            config = self.client_config if self._pong_carries_config else None
            with contextlib.suppress(ConnectionError):
                await link.socket.send_bytes(pong_frame(frame, config))
            return
        if frame.method == FrameMethod.DATA:
            self._record_ack(
                link, frame.header("message_id") or "", frame.header("biz_rt"), frame.payload
            )

    def _record_ack(
        self, link: _Link, delivery_id: str, biz_rt: str | None, payload: bytes
    ) -> None:
        acked = time.monotonic()
        try:
            response: Any = json.loads(payload)
        except ValueError:
            response = {}
        code = response.get("code") if isinstance(response, dict) else None
        data = response.get("data") if isinstance(response, dict) else None
        self._world.record_ack(
            delivery_id=delivery_id,
            device_id=link.device_id,
            code=code if isinstance(code, int) else -1,
            biz_rt_ms=int(biz_rt) if biz_rt is not None and biz_rt.isdigit() else None,
            data=_decode_callback(data),
            acked_mono=acked,
        )


def _decode_callback(data: object) -> str | None:
    """The SDK base64-encodes a callback's return value (e.g. a card action's toast)."""
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data).decode()
    except (binascii.Error, UnicodeDecodeError):
        return data
