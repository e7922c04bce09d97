"""The control surface: act as users and as the platform's operator, read what happened.

Owns the operations behind both the Python API and /_emulator: post a user's message, push
any event, redeliver one, close sockets, flip failure switches, register apps and chats.
Knows no HTTP (control_http.py) and no threads (emulator.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from feishu_emulator import ids
from feishu_emulator.events import (
    CARD_ACTION,
    card_action_event,
    envelope,
    message_receive_envelope,
)
from feishu_emulator.faults import ApiRateLimit, Faults, ServerError, ServerErrorBody
from feishu_emulator.im import Messenger
from feishu_emulator.models import (
    Api,
    App,
    CardClick,
    Chat,
    ChatType,
    Clicked,
    ClientConfig,
    DeliveryState,
    Posted,
    RefuseMode,
    UserMessage,
)
from feishu_emulator.state import World
from feishu_emulator.ws import Hub

__all__ = ["Control"]

logger = logging.getLogger(__name__)

# Feishu shows the person an error (200341) when the app has not answered a tap by then.
CLICK_DEADLINE = 3.0
_ACK_POLL = 0.01


class Control:
    """Operations on the emulated platform.

    Async methods touch sockets and must run on the server's loop; sync ones only take
    locks and may be called from any thread.
    """

    def __init__(self, *, world: World, faults: Faults, hub: Hub, messenger: Messenger) -> None:
        self._world = world
        self._faults = faults
        self._hub = hub
        self._messenger = messenger

    async def post(
        self, message: UserMessage, *, parts: int = 1, part_order: Sequence[int] | None = None
    ) -> Posted:
        """A user posts ``message``; the bot gets ``im.message.receive_v1`` if addressed.

        Raises: UnknownRecordError (app, thread or reply target), ValueError (parts).
        """
        app = self._world.app(message.app_id)
        stored = self._messenger.user_message(message, app)
        addressed = (
            stored.chat_type is ChatType.P2P
            or message.mention_bot
            or app.receives_all_group_messages
        )
        event_id = ids.new_event_id()
        if not addressed:
            logger.info("group message not addressed to the bot chat_id=%s", stored.chat_id)
            return Posted(event_id=event_id, delivery=DeliveryState.NOT_ADDRESSED, message=stored)
        payload = message_receive_envelope(
            app=app,
            sender=self._world.user(stored.sender_id),
            message=stored,
            event_id=event_id,
            create_time=stored.create_time,
        )
        self._world.store_event(event_id, app.app_id, payload)
        delivery = await self._hub.push(event_id, parts=parts, order=part_order)
        return Posted(event_id=event_id, delivery=delivery, message=stored)

    async def emit(
        self,
        event_type: str,
        event: Mapping[str, Any],
        *,
        app_id: str | None = None,
        parts: int = 1,
        part_order: Sequence[int] | None = None,
    ) -> Posted:
        """Push any schema 2.0 event (e.g. ``card.action.trigger``) with this body."""
        app = self._world.app(app_id)
        event_id = ids.new_event_id()
        payload = envelope(
            app=app,
            event_type=event_type,
            event=event,
            event_id=event_id,
            create_time=self._world.now_ms(),
        )
        self._world.store_event(event_id, app.app_id, payload)
        delivery = await self._hub.push(event_id, parts=parts, order=part_order)
        return Posted(event_id=event_id, delivery=delivery)

    async def redeliver(
        self, event_id: str, *, parts: int = 1, part_order: Sequence[int] | None = None
    ) -> DeliveryState:
        """Push an earlier event again, byte for byte (same event_id and message_id)."""
        self._world.event(event_id)
        return await self._hub.push(event_id, parts=parts, order=part_order)

    async def click(self, click: CardClick) -> Clicked:
        """A person taps a button: ``card.action.trigger`` to the bot, which has 3 s to answer
        with a toast and/or a new card; that card replaces the one tapped. With no bot
        connected the tap fails at once (``DROPPED``): Feishu does not keep taps for later.

        Raises: UnknownRecordError (message, app).
        """
        message = self._world.message(click.message_id)
        app = self._world.app(message.sender_id)
        if not any(c.live and c.app_id == app.app_id for c in self._world.connections):
            # A tap is not kept for later: with no bot connected it fails at once.
            return Clicked(event_id=ids.new_event_id(), delivery=DeliveryState.DROPPED,
                           answered=False)  # fmt: skip
        body = card_action_event(
            app=app,
            operator=self._world.user(click.operator_open_id),
            message=message,
            value=click.value,
            tag=click.tag,
            token=ids.new_token(),
        )
        posted = await self.emit(CARD_ACTION, body, app_id=app.app_id)
        if posted.delivery is not DeliveryState.PUSHED:
            return Clicked(event_id=posted.event_id, delivery=posted.delivery, answered=False)
        started = time.monotonic()
        while not (acks := [a for a in self._world.acks if a.event_id == posted.event_id]):
            if time.monotonic() - started > CLICK_DEADLINE:
                return Clicked(event_id=posted.event_id, delivery=posted.delivery, answered=False)
            await asyncio.sleep(_ACK_POLL)
        seconds = time.monotonic() - started
        answer = _click_answer(acks[0].data)
        toast, card = answer.get("toast"), _raw_card(answer.get("card"))
        if acks[0].code != 200 or seconds > CLICK_DEADLINE:
            return Clicked(event_id=posted.event_id, delivery=posted.delivery, answered=False,
                           seconds=seconds)  # fmt: skip
        if card is not None:
            content = json.dumps(card, ensure_ascii=False)
            self._messenger.answer_click(
                app_id=app.app_id, message_id=message.message_id, content=content
            )
        return Clicked(
            event_id=posted.event_id,
            delivery=posted.delivery,
            answered=True,
            toast=toast if isinstance(toast, dict) else None,
            card=card,
            seconds=seconds,
        )

    async def close_connections(
        self, *, app_id: str | None = None, code: int = 1000, abort: bool = False
    ) -> int:
        """Close the bots' live sockets from the server side; returns how many."""
        return await self._hub.close(app_id=app_id, code=code, abort=abort)

    # sync, thread-safe

    def register_app(self, app: App) -> App:
        return self._world.register_app(app)

    def open_chat(
        self, chat_id: str | None = None, *, chat_type: ChatType = ChatType.GROUP, name: str = ""
    ) -> Chat:
        """A chat the bot is in (created if new), for the bot to send to before anyone posts."""
        return self._world.open_chat(chat_id, chat_type, name)

    @property
    def client_config(self) -> ClientConfig:
        return self._hub.client_config

    def set_client_config(self, config: ClientConfig) -> None:
        """Served by the endpoint from now on, and in the next pong of each socket."""
        self._hub.client_config = config

    def fail_next(
        self,
        times: int = 1,
        *,
        status: int = 500,
        api: Api | None = None,
        body: ServerErrorBody = "json",
    ) -> None:
        """The next ``times`` calls (of ``api``, default any IM call) get HTTP ``status``."""
        if not 500 <= status <= 599 or times < 1:
            raise ValueError("fail_next needs a 5xx status and times >= 1")
        if body not in ("json", "html"):
            raise ValueError("body is 'json' or 'html'")
        self._faults.fail_next(ServerError(status=status, body=body, api=api, times=times))

    def rate_limit_api(
        self, api: Api | None = None, *, times: int = 1, reset_after: int = 1
    ) -> None:
        """The next ``times`` calls get HTTP 429 / 99991400 with ``x-ogw-ratelimit-reset``."""
        if times < 1 or reset_after < 1:
            raise ValueError("rate_limit_api needs times >= 1 and reset_after >= 1")
        self._faults.rate_limit_api(ApiRateLimit(api=api, times=times, reset_after=reset_after))

    def fail_ratio(self, ratio: float, *, status: int = 500, seed: int = 0) -> None:
        """Each IM call from now on fails with HTTP status with probability ratio (0 stops)."""
        if not 0 <= ratio < 1:
            raise ValueError("fail_ratio needs 0 <= ratio < 1")
        self._faults.fail_ratio(ratio, status=status, seed=seed)

    def slow_chat(self, chat_id: str, seconds: float) -> None:
        """Sends, replies and patches in chat_id answer after seconds (0: at once again)."""
        if seconds < 0:
            raise ValueError("slow_chat needs seconds >= 0")
        self._faults.slow_chat(chat_id, seconds)

    def rate_limit_chat(self, chat_id: str, *, times: int = 1) -> None:
        """The next ``times`` sends, replies or patches in this chat get 230020."""
        if times < 1:
            raise ValueError("rate_limit_chat needs times >= 1")
        self._faults.rate_limit_chat(chat_id, times)

    def invalidate_tokens(self, app_id: str | None = None) -> int:
        """Every token issued so far answers 99991663; returns how many were revoked."""
        return self._world.invalidate_tokens(app_id)

    def refuse_ws_endpoint(
        self,
        mode: RefuseMode = RefuseMode.HTTP_503,
        *,
        times: int | None = None,
        seconds: float | None = None,
    ) -> None:
        """The ws endpoint refuses for ``times`` calls and/or ``seconds``; neither: until
        clear_faults()."""
        self._faults.refuse_ws_endpoint(RefuseMode(mode), times=times, seconds=seconds)

    def clear_faults(self) -> None:
        self._faults.clear()

    def faults(self) -> dict[str, object]:
        return self._faults.snapshot()


def _click_answer(data: str | None) -> dict[str, Any]:
    try:
        answer = json.loads(data) if data else {}
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _raw_card(card: object) -> dict[str, Any] | None:
    """The card of an answer ``{"type": "raw", "data": {...}}``, else None."""
    if not isinstance(card, dict) or card.get("type") != "raw":
        return None
    data = card.get("data")
    return data if isinstance(data, dict) else None
