"""FeishuClient: the bot's async door to the Feishu REST API (send, reply, patch, upload, bot,
reactions, CardKit card entities).

Owns every lark-oapi REST call (run in the client's own worker threads, so a hanging Feishu
never starves the rest of the process), turning their failures into FeishuApiError, retry
with back-off, pacing (per chat for sends, per card entity for CardKit calls, per app for
every call) and the tenant-token eviction; knows nothing of channel ids, windows, card
layout, text splitting, coalescing or CardKit sequence numbers (callers number them).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import lark_oapi as lark
from lark_oapi.api.cardkit import v1 as cardkit
from lark_oapi.api.im import v1 as im
from lark_oapi.core.exception import NoAuthorizationException, ObtainAccessTokenException
from lark_oapi.core.token import TokenManager

from cclark.config import FeishuApp
from cclark.errors import (
    FeishuApiError,
    FeishuAuthError,
    FeishuPermissionError,
    FeishuRateLimited,
)
from cclark.pacing import Pacer
from unified_icc import Clock, SystemClock

__all__ = ["Download", "FeishuClient", "FeishuClientSettings", "card_entity_content"]

logger = logging.getLogger(__name__)

Json = Mapping[str, Any]
_SdkCall = Callable[[], Any]  # builds a fresh request (the SDK mutates it) and runs it

RATE_LIMIT_CODES = frozenset({99991400, 230020, 11232})
TOKEN_INVALID = 99991663
AUTH_CODES = frozenset({99991661, 99991663, 99991664, 99991668})
NO_SCOPE = 99991672  # "Access denied. One of the following scopes is required: [...]"
# Answers that, to a retry, mean an earlier attempt of the same call already took effect.
CARD_UUID_SEEN = frozenset({200770})  # CardKit: this uuid's operation was applied
REACTION_GONE = frozenset({231011})  # the reaction being deleted no longer exists
_TOKEN_CACHE_KEY = "self_tenant_token:{app_id}"  # lark_oapi.core.token.manager, v1.7.5
BOT_INFO_URI = "/open-apis/bot/v3/info"  # no typed API in the SDK; answers {code, msg, bot}
# Feishu's file_type by suffix; every other file is a "stream".
_FILE_TYPES = {".pdf": "pdf", ".doc": "doc", ".docx": "doc", ".xls": "xls", ".xlsx": "xls",
               ".ppt": "ppt", ".pptx": "ppt", ".mp4": "mp4", ".opus": "opus"}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class FeishuClientSettings:
    """Timeouts, retry budget and pacing of FeishuClient (seconds unless noted)."""

    request_timeout: float = 15.0  # one HTTP request, token fetch included (requests timeout)
    max_attempts: int = 5  # per call, the token refresh after 99991663 not counted
    retry_budget: float = 30.0  # no retry sleep may end later than this after the first try
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    jitter: float = 0.25  # each delay is stretched by a random 0..jitter fraction
    chat_sends_per_period: int = 5  # Feishu: 5 QPS per user and per group
    chat_send_period: float = 1.0
    # Feishu: 50/s and 1000/min per app and API; one budget for all calls keeps under both.
    app_calls_per_second: int = 40
    app_calls_per_minute: int = 900
    card_ops_per_second: int = 10  # Feishu: 10 CardKit calls per second on one card entity
    threads: int = 16  # requests in flight at once (each chat's sender has at most one)

    def __post_init__(self) -> None:
        counts = (self.max_attempts, self.chat_sends_per_period, self.app_calls_per_second,
                  self.app_calls_per_minute, self.card_ops_per_second, self.threads)  # fmt: skip
        counts_ok = min(counts) >= 1
        spans_ok = min(self.request_timeout, self.retry_budget, self.chat_send_period) > 0
        gaps = (self.backoff_initial, self.backoff_max, self.jitter)
        if not (counts_ok and spans_ok and min(gaps) >= 0):
            raise ValueError(f"unusable Feishu client settings: {self}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Download:
    """A file or image a user sent: its name when Feishu gives one, and its bytes."""

    name: str | None
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class _Outcome:  # one HTTP attempt, read in the worker thread; success is code 0
    code: int | None
    msg: str
    log_id: str | None = None
    http_status: int | None = None
    retry_after: float | None = None  # x-ogw-ratelimit-reset
    data: Mapping[str, Any] = field(default_factory=dict)
    auth_failed: bool = False
    scopes: tuple[str, ...] = ()  # named by a 99991672 refusal

    @property
    def rate_limited(self) -> bool:
        return self.http_status == 429 or self.code in RATE_LIMIT_CODES

    @property
    def transient(self) -> bool:
        return self.code is None or (self.http_status is not None and self.http_status >= 500)

    def error(self, next_delay: float | None) -> FeishuApiError:
        code, msg, log_id, status = self.code, self.msg, self.log_id, self.http_status
        if self.rate_limited:
            wait = self.retry_after if self.retry_after is not None else next_delay or 1.0
            return FeishuRateLimited(
                code=code, msg=msg, retry_after=wait, log_id=log_id, http_status=status
            )
        if code == NO_SCOPE:
            return FeishuPermissionError(
                code=code, msg=msg, scopes=self.scopes, log_id=log_id, http_status=status
            )
        kind = FeishuAuthError if self.auth_failed or code in AUTH_CODES else FeishuApiError
        return kind(code=code, msg=msg, log_id=log_id, http_status=status)


class FeishuClient:
    """Async wrapper over ``lark.Client`` for the bot's IM calls; failures are FeishuApiError.

    SDK calls run in worker threads: its async variants fetch the token with blocking requests.
    """

    def __init__(
        self,
        app: FeishuApp,
        *,
        settings: FeishuClientSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings or FeishuClientSettings()
        self._clock: Clock = clock or SystemClock()
        self._app_id = app.app_id
        builder = lark.Client.builder().app_id(app.app_id)
        builder = builder.app_secret(app.app_secret.get_secret_value())
        builder = builder.domain(app.domain.rstrip("/")).timeout(self._settings.request_timeout)
        self._lark: Any = builder.build()
        s = self._settings
        self._pacer = Pacer(self._clock, s.chat_sends_per_period, s.chat_send_period)
        self._card_pacer = Pacer(self._clock, s.card_ops_per_second, 1.0)
        self._app_pacers = (
            Pacer(self._clock, s.app_calls_per_second, 1.0),
            Pacer(self._clock, s.app_calls_per_minute, 60.0),
        )
        self._threads = ThreadPoolExecutor(s.threads, thread_name_prefix="cclark-feishu")
        self._closed = False
        self._bot_open_id: str | None = None

    async def send_text(self, chat_id: str, text: str, *, uuid: str | None = None) -> str:
        """Send a text message to a chat; see send_message. Returns the message id."""
        return await self.send_message(chat_id, "text", {"text": text}, uuid=uuid)

    async def send_card(self, chat_id: str, card: Json, *, uuid: str | None = None) -> str:
        """Send an interactive card to a chat; see send_message. Returns the message id."""
        return await self.send_message(chat_id, "interactive", card, uuid=uuid)

    async def send_message(
        self, chat_id: str, msg_type: str, content: Json, *, uuid: str | None = None
    ) -> str:
        """Create a message in a chat (``POST /im/v1/messages?receive_id_type=chat_id``).

        Paced with every other send and reply to the same chat. Every attempt carries the same
        idempotency uuid (a fresh one unless given), so a retry cannot post twice. Each attempt
        is bounded by request_timeout; retries by max_attempts and retry_budget. Cancelling
        abandons the wait, but an attempt already in its thread may still post (once).

        Raises:
            FeishuRateLimited: still throttled when the retries ran out.
            FeishuAuthError: the token could not be fetched, or was rejected twice.
            FeishuApiError: any other failure, with Feishu's code, msg and log_id.
        """
        body, key = json.dumps(content, ensure_ascii=False), uuid or uuid4().hex

        def call() -> Any:
            req = im.CreateMessageRequestBody.builder().receive_id(chat_id).msg_type(msg_type)
            req = req.content(body).uuid(key).build()
            req = im.CreateMessageRequest.builder().receive_id_type("chat_id").request_body(req)
            return self._lark.im.v1.message.create(req.build())

        return _required(await self._call("send", call, pace_key=chat_id), "message_id")

    async def reply(
        self,
        message_id: str,
        msg_type: str,
        content: Json,
        *,
        in_thread: bool,
        chat_id: str | None = None,
        uuid: str | None = None,
    ) -> str:
        """Reply to a message (``POST /im/v1/messages/:id/reply``), in its topic if in_thread.

        Paced per chat_id when given (the chat the message is in), else per replied message.
        Idempotency, timeouts, cancellation and Raises: as send_message. Returns the new
        message id.
        """
        body, key = json.dumps(content, ensure_ascii=False), uuid or uuid4().hex

        def call() -> Any:
            req = im.ReplyMessageRequestBody.builder().content(body).msg_type(msg_type)
            req = req.reply_in_thread(in_thread).uuid(key).build()
            req = im.ReplyMessageRequest.builder().message_id(message_id).request_body(req)
            return self._lark.im.v1.message.reply(req.build())

        data = await self._call("reply", call, pace_key=chat_id or message_id)
        return _required(data, "message_id")

    async def patch_card(self, message_id: str, card: Json) -> None:
        """Replace the content of a card the bot sent (``PATCH /im/v1/messages/:id``).

        One request (with retries); pacing per card is the caller's. Retries, timeouts and
        Raises: as send_message; FeishuApiError if the client is closed.
        """
        if self._closed:
            raise FeishuApiError(code=None, msg="the Feishu client is closed")
        content = json.dumps(card, ensure_ascii=False)

        def call() -> Any:
            req = im.PatchMessageRequestBody.builder().content(content).build()
            req = im.PatchMessageRequest.builder().message_id(message_id).request_body(req)
            return self._lark.im.v1.message.patch(req.build())

        await self._call("patch card", call)

    async def upload_image(self, png: bytes) -> str:
        """Upload an image for messages (``POST /im/v1/images``) and return its image_key.

        Not paced per chat (it posts nothing). Retries, timeouts and Raises: as send_message;
        a retried upload may leave an unused image behind, which is harmless.
        """

        def call() -> Any:  # a fresh stream per attempt: the SDK's multipart encoder drains it
            req = im.CreateImageRequestBody.builder().image_type("message").image(io.BytesIO(png))
            req = im.CreateImageRequest.builder().request_body(req.build())
            return self._lark.im.v1.image.create(req.build())

        return _required(await self._call("upload image", call), "image_key")

    async def upload_file(self, data: bytes, file_name: str) -> str:
        """Upload a file for messages (``POST /im/v1/files``) and return its file_key; its
        file_type is named for its suffix (pdf, doc, xls, ppt, mp4, opus; else stream).

        Not paced per chat. Retries, timeouts and Raises: as upload_image.
        """
        file_type = _FILE_TYPES.get(Path(file_name).suffix.lower(), "stream")

        def call() -> Any:  # a fresh stream per attempt, as for images
            body = im.CreateFileRequestBody.builder().file_type(file_type).file_name(file_name)
            req = im.CreateFileRequest.builder().request_body(body.file(io.BytesIO(data)).build())
            return self._lark.im.v1.file.create(req.build())

        return _required(await self._call("upload file", call), "file_key")

    async def download_resource(self, message_id: str, key: str, kind: str) -> Download:
        """A file or image a user sent in message_id (``GET /im/v1/messages/:id/resources/
        :key?type=image|file``; scope ``im:resource``): its name, when Feishu gives one, and
        its bytes (read whole: Feishu serves up to 100 MB).

        Not paced per chat. Retries, timeouts and Raises: as send_message (234003: the key is
        not in that message).
        """

        def call() -> Any:
            request = im.GetMessageResourceRequest.builder().message_id(message_id)
            return self._lark.im.v1.message_resource.get(request.file_key(key).type(kind).build())

        data = await self._call("download", call)
        name = data.get("file_name")
        return Download(name=name if isinstance(name, str) and name else None,
                        data=bytes(data.get("bytes", b"")))  # fmt: skip

    async def bot_open_id(self) -> str:
        """The bot's own open_id (``GET /open-apis/bot/v3/info``), asked once and remembered.

        Not paced (it posts nothing). Retries, timeouts and Raises: as send_message.
        """
        if self._bot_open_id is None:

            def call() -> Any:
                request = lark.BaseRequest.builder().http_method(lark.HttpMethod.GET)
                request = request.uri(BOT_INFO_URI).token_types({lark.AccessTokenType.TENANT})
                return self._lark.request(request.build())

            bot = await self._call("bot info", call, result_key="bot")
            self._bot_open_id = _required(bot, "open_id")
        return self._bot_open_id

    async def add_reaction(self, message_id: str, emoji_type: str) -> str:
        """React to a message as the bot (``POST /im/v1/messages/:id/reactions``) with an
        emoji_type of Feishu's list (e.g. ``OK``, ``THUMBSUP``, ``DONE``, ``CrossMark``);
        returns the reaction_id. A reaction notifies no one.

        Not paced per chat. Retries, timeouts and cancellation: as send_message, except that
        the call has no idempotency key: a retry after a lost answer may react twice.
        Raises: as send_message (code 231001: unknown emoji_type; 231003: no such message).
        """

        def call() -> Any:
            emoji = im.Emoji.builder().emoji_type(emoji_type).build()
            body = im.CreateMessageReactionRequestBody.builder().reaction_type(emoji).build()
            req = im.CreateMessageReactionRequest.builder().message_id(message_id)
            return self._lark.im.v1.message_reaction.create(req.request_body(body).build())

        return _required(await self._call("add reaction", call), "reaction_id")

    async def remove_reaction(self, message_id: str, reaction_id: str) -> None:
        """Delete the bot's reaction (``DELETE /im/v1/messages/:id/reactions/:reaction_id``).

        Retries, timeouts and cancellation: as send_message; a retry answered 231011 (no such
        reaction) counts as done, since the attempt before it deleted it.
        Raises: as send_message (code 231011 on a first attempt: no such reaction).
        """

        def call() -> Any:
            req = im.DeleteMessageReactionRequest.builder().message_id(message_id)
            return self._lark.im.v1.message_reaction.delete(req.reaction_id(reaction_id).build())

        await self._call("remove reaction", call, replayed=REACTION_GONE)

    async def create_card_entity(self, card: Json) -> str:
        """Create a CardKit card entity from card JSON 2.0 (``POST /cardkit/v1/cards``) and
        return its card_id. Send it once: send_message / reply with msg_type ``interactive``
        and card_entity_content(card_id); then change it only through the CardKit calls below
        (a patch_card of its message answers success and changes nothing).

        Counts as the card's first call in its pace (see stream_card_text). Retries, timeouts
        and cancellation: as send_message; a retried create may leave an unsent entity behind.

        Raises:
            FeishuPermissionError: the app lacks ``cardkit:card:write``; fall back to
                send_card and patch_card.
            FeishuRateLimited, FeishuAuthError, FeishuApiError: as send_message (e.g. 200220
                invalid card, 300303 not schema 2.0, 300301 duplicate element_id).
        """
        data = json.dumps(card, ensure_ascii=False)

        def call() -> Any:
            body = cardkit.CreateCardRequestBody.builder().type("card_json").data(data).build()
            req = cardkit.CreateCardRequest.builder().request_body(body).build()
            return self._lark.cardkit.v1.card.create(req)

        card_id = _required(await self._call("create card", call), "card_id")
        self._card_pacer.note(card_id)
        return card_id

    async def stream_card_text(
        self, card_id: str, element_id: str, text: str, *, sequence: int
    ) -> None:
        """Set a text element (markdown or plain_text, by its ``element_id``) of a card entity
        to ``text`` (``PUT /cardkit/v1/cards/:id/elements/:element_id/content``). Send the
        whole text each time: when the old text is its prefix, clients type out the rest.

        The card must be in ``config.streaming_mode``. ``sequence`` must exceed that of every
        earlier call on this card, so serialise a card's calls. Paced with every CardKit call
        on the card to card_ops_per_second (waits, in call order). Every attempt carries one
        uuid: a retry answered 200770 (uuid already applied) counts as done. Retries,
        timeouts and cancellation: as send_message.

        Raises:
            FeishuPermissionError: the app lacks ``cardkit:card:write``.
            FeishuApiError: e.g. 300309 streaming is off (or 200850: it timed out after
                10 min), 300317 sequence not above the last, 200740 no such card, 300313
                no such element; FeishuRateLimited, FeishuAuthError as send_message.
        """
        key = uuid4().hex

        def call() -> Any:
            body = cardkit.ContentCardElementRequestBody.builder().content(text)
            body = body.sequence(sequence).uuid(key)
            req = cardkit.ContentCardElementRequest.builder().card_id(card_id)
            req = req.element_id(element_id).request_body(body.build())
            return self._lark.cardkit.v1.card_element.content(req.build())

        await self._card_call("stream card text", card_id, call)

    async def set_card_settings(self, card_id: str, settings: Json, *, sequence: int) -> None:
        """Merge ``settings`` (``{"config": {...}, "card_link": {...}}``) into a card entity
        (``PATCH /cardkit/v1/cards/:id/settings``); ``{"config": {"streaming_mode": False}}``
        ends streaming (else the chat list shows "[生成中...]" until Feishu closes it after
        10 min). Sequence, pacing, uuid, retries and Raises: as stream_card_text.
        """
        data, key = json.dumps(settings, ensure_ascii=False), uuid4().hex

        def call() -> Any:
            body = cardkit.SettingsCardRequestBody.builder().settings(data)
            body = body.sequence(sequence).uuid(key)
            req = cardkit.SettingsCardRequest.builder().card_id(card_id)
            return self._lark.cardkit.v1.card.settings(req.request_body(body.build()).build())

        await self._card_call("set card settings", card_id, call)

    async def replace_card_entity(self, card_id: str, card: Json, *, sequence: int) -> None:
        """Replace a card entity's whole card JSON 2.0 (``PUT /cardkit/v1/cards/:id``); its
        message shows the new card. Sequence, pacing, uuid, retries and Raises: as
        stream_card_text (streaming_mode need not be on).
        """
        data, key = json.dumps(card, ensure_ascii=False), uuid4().hex

        def call() -> Any:
            whole = cardkit.Card.builder().type("card_json").data(data).build()
            body = cardkit.UpdateCardRequestBody.builder().card(whole).sequence(sequence)
            req = cardkit.UpdateCardRequest.builder().card_id(card_id)
            req = req.request_body(body.uuid(key).build())
            return self._lark.cardkit.v1.card.update(req.build())

        await self._card_call("replace card", card_id, call)

    async def close(self) -> None:
        """Refuse new calls; requests already in their threads finish there. Idempotent."""
        self._closed = True
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def _card_call(self, op: str, card_id: str, call: _SdkCall) -> None:
        await self._call(op, call, card_key=card_id, replayed=CARD_UUID_SEEN)

    async def _call(
        self,
        op: str,
        call: _SdkCall,
        *,
        pace_key: str | None = None,
        card_key: str | None = None,
        result_key: str = "data",
        replayed: frozenset[int] = frozenset(),
    ) -> Json:
        """Run one SDK call with pacing, the token refresh and retries; return the body's
        ``result_key`` object (``data`` for every call but a few older ones). A retry answered
        with a ``replayed`` code found the earlier attempt's effect: done, with no data."""
        started = self._clock.monotonic()
        attempt, refreshed = 0, False
        while True:
            if pace_key is not None:
                await self._pacer.wait(pace_key)
            if card_key is not None:
                await self._card_pacer.wait(card_key)
            for pacer in self._app_pacers:
                await pacer.wait("app")
            loop = asyncio.get_running_loop()
            try:
                outcome = await loop.run_in_executor(self._threads, _execute, call, result_key)
            except RuntimeError as exc:  # the pool was shut down: the client is closed
                raise FeishuApiError(code=None, msg="the Feishu client is closed") from exc
            if outcome.code == 0:
                return outcome.data
            if attempt > 0 and outcome.code in replayed:
                logger.info("Feishu %s: code %s on a retry: done before", op, outcome.code)
                return {}
            if outcome.code == TOKEN_INVALID and not refreshed:
                refreshed = True
                self._evict_tenant_token()
                continue
            attempt += 1
            delay = self._retry_delay(outcome, attempt)
            late = self._clock.monotonic() - started + (delay or 0) > self._settings.retry_budget
            if delay is None or late or attempt >= self._settings.max_attempts:
                raise outcome.error(delay)
            args = (op, outcome.code, outcome.http_status, outcome.log_id, attempt, delay)
            logger.warning("Feishu %s: code %s, http %s, log_id %s; retry %d in %.2fs", *args)
            await self._clock.sleep(delay)

    def _retry_delay(self, outcome: _Outcome, attempt: int) -> float | None:
        auth = outcome.auth_failed or outcome.code in AUTH_CODES
        if auth or not (outcome.rate_limited or outcome.transient):
            return None
        settings = self._settings
        backoff = min(settings.backoff_max, settings.backoff_initial * 2.0 ** (attempt - 1))
        wait = max(backoff, outcome.retry_after or 0.0)
        return wait * (1 + settings.jitter * random.random())

    def _evict_tenant_token(self) -> None:
        # lark-oapi keeps the tenant token in TokenManager.cache (process-global) until its own
        # expiry estimate, even after Feishu answers 99991663, and has no invalidate call. Via
        # the cache's public ICache.set we overwrite only our app's entry with an empty, expired
        # value, which the SDK treats as missing and refetches (builder.cache() would swap the
        # global cache of every client). The key is the SDK's (pinned <1.8); a test proves it.
        logger.warning("Feishu rejected the tenant token of app %s; fetching anew", self._app_id)
        TokenManager.cache.set(_TOKEN_CACHE_KEY.format(app_id=self._app_id), "", 0)


def _execute(call: _SdkCall, result_key: str = "data") -> _Outcome:
    """Run one SDK call (in a worker thread) and read its response; never raises for I/O."""
    try:
        response = call()
    except ObtainAccessTokenException as exc:
        code = exc.code if isinstance(exc.code, int) else None
        return _Outcome(code=code, msg=f"tenant token fetch failed: {exc.msg}", auth_failed=True)
    except NoAuthorizationException as exc:
        return _Outcome(code=None, msg=f"no credentials: {exc.msg}", auth_failed=True)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        # requests' errors are OSErrors; a non-JSON body (an HTML 502) fails in SDK unmarshal.
        return _Outcome(code=None, msg=f"transport error: {type(exc).__name__}: {exc}")
    raw = response.raw
    status = raw.status_code if isinstance(raw.status_code, int) else None
    headers = {str(k).lower(): str(v) for k, v in dict(raw.headers or {}).items()}
    if status is not None and 200 <= status < 300 and _is_download(headers):
        data = {"bytes": raw.content or b"", "file_name": getattr(response, "file_name", None)}
        return _Outcome(code=0, msg="", http_status=status, data=data)
    return _read_body(status, headers, raw.content or b"", result_key)


def _is_download(headers: Mapping[str, str]) -> bool:
    """A successful download answers with the bytes, not with Feishu's JSON envelope."""
    return not headers.get("content-type", "").startswith("application/json")


def _read_body(
    status: int | None, headers: Mapping[str, str], content: bytes, result_key: str = "data"
) -> _Outcome:
    try:
        body = _dict(json.loads(content)) if content else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = {}
    code, data = body.get("code"), _dict(body.get(result_key))
    log_id = headers.get("x-tt-logid") or _dict(body.get("error")).get("log_id")
    return _Outcome(
        code=code if isinstance(code, int) else None,
        msg=str(body.get("msg") or f"unexpected response (http {status})"),
        log_id=log_id if isinstance(log_id, str) and log_id else None,
        http_status=status,
        retry_after=_seconds(headers.get("x-ogw-ratelimit-reset", "")),
        data=data,
        scopes=_scopes(body) if code == NO_SCOPE else (),
    )


def _scopes(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The scopes a 99991672 names: its permission_violations, else the ``[a, b]`` in msg."""
    violations = _dict(body.get("error")).get("permission_violations")
    named = [_dict(v).get("subject") for v in violations] if isinstance(violations, list) else []
    scopes = tuple(s for s in named if isinstance(s, str) and s)
    if scopes:
        return tuple(dict.fromkeys(scopes))
    found = re.search(r"\[([^\]]+)\]", str(body.get("msg", "")))
    return tuple(s.strip() for s in found.group(1).split(",")) if found else ()


def card_entity_content(card_id: str) -> dict[str, Any]:
    """The ``interactive`` message content that sends a CardKit card entity."""
    return {"type": "card", "data": {"card_id": card_id}}


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _seconds(value: str) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _required(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise FeishuApiError(code=0, msg=f"Feishu answered success without {key}")
    return value
