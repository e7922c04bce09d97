"""The Open Platform REST surface the bot calls: tenant token, bot info, messages, reactions,
images, files (uploads, and downloads of what users sent), CardKit card entities.

Owns the HTTP shape (paths, envelopes ``{code, msg, data}``, ``X-Tt-Logid``, auth, scopes, the
gateway's 5xx / 429 answers); the message rules live in im.py, the card entities' in cards.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from feishu_emulator import ids
from feishu_emulator.cards import CardKit
from feishu_emulator.errors import OpenApiError
from feishu_emulator.faults import Faults, ServerError, Throttle
from feishu_emulator.im import FIELD_VALIDATION, INVALID, Messenger
from feishu_emulator.models import Api, App, Limits, Message, Reaction
from feishu_emulator.state import World

__all__ = ["OpenApi"]

logger = logging.getLogger(__name__)

Json = dict[str, Any]
Handler = Callable[[web.Request, str], Awaitable[Json | web.Response]]

MISSING_TOKEN = 99991661
INVALID_TOKEN = 99991663
RATE_LIMITED = 99991400
NO_SCOPE = 99991672
CARDKIT_SCOPE = "cardkit:card:write"
RESOURCE_SCOPE = "im:resource"
RESOURCE_NOT_IN_MESSAGE = 234003
RESOURCE_TYPES = frozenset({"image", "file"})
ATTACH = "Please make a request with token attached."
# Token endpoint codes (documented for app_access_token; status unverified).
TOKEN_BAD_PARAM = 10003
TOKEN_BAD_SECRET = 10014
UPLOAD_TOO_LARGE = 234006
UPLOAD_EMPTY = 234010
UPLOAD_NOT_IMAGE = 234011
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"RIFF", b"II*\x00", b"MM\x00*")
FILE_TYPES = frozenset({"opus", "mp4", "pdf", "doc", "xls", "ppt", "stream"})


def ok(data: Json) -> Json:
    return {"code": 0, "msg": "success", "data": data}


class ScopeError(OpenApiError):
    """99991672: the app was not granted a scope the API needs (HTTP 400)."""

    def __init__(self, app_id: str, scope: str) -> None:
        link = (
            f"https://open.feishu.cn/app/{app_id}/auth?q={scope}&op_from=openapi&token_type=tenant"
        )
        super().__init__(
            NO_SCOPE,
            f"Access denied. One of the following scopes is required: [{scope}].应用尚未开通"
            f"所需的应用身份权限：[{scope}]，点击链接申请并开通任一权限即可：{link}",  # noqa: RUF001 (Feishu's wording)
        )
        self.scope = scope


class OpenApi:
    """The /open-apis routes; every handler runs on the server's loop."""

    def __init__(
        self,
        *,
        world: World,
        faults: Faults,
        throttle: Throttle,
        messenger: Messenger,
        limits: Limits,
    ) -> None:
        self._world = world
        self._faults = faults
        self._throttle = throttle
        self._messenger = messenger
        self._limits = limits
        self._cardkit = CardKit(world=world, throttle=throttle, limits=limits)

    def routes(self) -> list[web.RouteDef]:
        prefix = "/open-apis"
        return [
            web.post(
                f"{prefix}/auth/v3/tenant_access_token/internal",
                self._guard(Api.TENANT_TOKEN, self._token, auth=False),
            ),
            web.get(f"{prefix}/bot/v3/info", self._guard(Api.BOT_INFO, self._bot_info)),
            web.post(f"{prefix}/im/v1/messages", self._guard(Api.MESSAGE_CREATE, self._create)),
            web.post(
                f"{prefix}/im/v1/messages/{{message_id}}/reply",
                self._guard(Api.MESSAGE_REPLY, self._reply),
            ),
            web.patch(
                f"{prefix}/im/v1/messages/{{message_id}}",
                self._guard(Api.MESSAGE_PATCH, self._patch),
            ),
            web.post(f"{prefix}/im/v1/images", self._guard(Api.IMAGE_CREATE, self._image)),
            web.post(f"{prefix}/im/v1/files", self._guard(Api.FILE_CREATE, self._file)),
            web.get(
                f"{prefix}/im/v1/messages/{{message_id}}/resources/{{file_key}}",
                self._guard(Api.RESOURCE_GET, self._resource, scope=RESOURCE_SCOPE),
            ),
            web.post(
                f"{prefix}/im/v1/messages/{{message_id}}/reactions",
                self._guard(Api.REACTION_CREATE, self._react),
            ),
            web.delete(
                f"{prefix}/im/v1/messages/{{message_id}}/reactions/{{reaction_id}}",
                self._guard(Api.REACTION_DELETE, self._unreact),
            ),
            *self._cardkit_routes(f"{prefix}/cardkit/v1/cards"),
        ]

    def _cardkit_routes(self, cards: str) -> list[web.RouteDef]:
        def guard(
            api: Api, handler: Handler
        ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
            return self._guard(api, handler, scope=CARDKIT_SCOPE)

        return [
            web.post(cards, guard(Api.CARD_CREATE, self._card_create)),
            web.put(f"{cards}/{{card_id}}", guard(Api.CARD_UPDATE, self._card_update)),
            web.patch(
                f"{cards}/{{card_id}}/settings", guard(Api.CARD_SETTINGS, self._card_settings)
            ),
            web.put(
                f"{cards}/{{card_id}}/elements/{{element_id}}/content",
                guard(Api.CARD_ELEMENT_CONTENT, self._card_content),
            ),
        ]

    def _guard(
        self, api: Api, handler: Handler, *, auth: bool = True, scope: str | None = None
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Gateway order: forced 5xx, then the token, the scope, frequency limits, the API."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            log_id = ids.new_log_id()
            headers = {"X-Tt-Logid": log_id}
            fault = self._faults.take_server_error(api)
            if fault is not None:
                return _server_error(fault, headers)
            try:
                app_id = self._authenticate(request) if auth else ""
                if scope is not None and not _granted(self._world.app(app_id), scope):
                    raise ScopeError(app_id, scope)
                if auth:
                    self._check_rate(app_id, api)
                body = await handler(request, app_id)
            except OpenApiError as error:
                logger.info("%s refused code=%s log_id=%s", api, error.code, log_id)
                return _refusal(error, log_id)
            if isinstance(body, web.Response):  # a download: the bytes themselves
                body.headers.update(headers)
                return body
            return web.json_response(body, headers=headers)

        return guarded

    def _authenticate(self, request: web.Request) -> str:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            raise OpenApiError(MISSING_TOKEN, f"Missing access token for authorization. {ATTACH}")
        app_id = self._world.token_app(token)
        if app_id is None:
            raise OpenApiError(INVALID_TOKEN, f"Invalid access token for authorization. {ATTACH}")
        return app_id

    def _check_rate(self, app_id: str, api: Api) -> None:
        forced = self._faults.take_api_limit(api)
        wait = forced.reset_after if forced is not None else self._throttle.api_wait(app_id, api)
        if wait > 0:
            headers = {
                "x-ogw-ratelimit-limit": str(self._limits.api_qps),
                "x-ogw-ratelimit-reset": str(wait),
            }
            raise OpenApiError(
                RATE_LIMITED, "request trigger frequency limit", status=429, headers=headers
            )

    async def _bot_info(self, _: web.Request, app_id: str) -> Json:
        """The app's bot, not nested in ``data`` (as the platform answers this call)."""
        app = self._world.app(app_id)
        bot = {"activate_status": 2, "app_name": app.bot_name, "avatar_url": "",
               "ip_white_list": [], "open_id": app.bot_open_id}  # fmt: skip
        return {"code": 0, "msg": "ok", "bot": bot}

    async def _token(self, request: web.Request, _: str) -> Json:
        # The SDK posts this body without a Content-Type header.
        body = await _json_body(request)
        app_id, secret = body.get("app_id"), body.get("app_secret")
        if not isinstance(app_id, str) or not any(a.app_id == app_id for a in self._world.apps):
            raise OpenApiError(TOKEN_BAD_PARAM, "invalid param")
        if not isinstance(secret, str) or not self._world.credentials_match(app_id, secret):
            raise OpenApiError(TOKEN_BAD_SECRET, "app secret invalid")
        token, expire = self._world.issue_token(app_id)
        return {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": expire}

    async def _create(self, request: web.Request, app_id: str) -> Json:
        raw = await request.read()
        body = _json_object(raw)
        await self._slow(str(body.get("receive_id", "")))
        message = self._messenger.create(
            app_id=app_id,
            receive_id_type=_required(dict(request.query), "receive_id_type"),
            receive_id=_required(body, "receive_id"),
            msg_type=_required(body, "msg_type"),
            content=_required(body, "content"),
            uuid=_optional(body, "uuid"),
            body_size=len(raw),
        )
        return ok(self._message_data(message))

    async def _reply(self, request: web.Request, app_id: str) -> Json:
        raw = await request.read()
        body = _json_object(raw)
        in_thread = body.get("reply_in_thread", False)
        if not isinstance(in_thread, bool):
            raise OpenApiError(FIELD_VALIDATION, "field validation failed", field="reply_in_thread")
        await self._slow_for_message(request.match_info["message_id"])
        message = self._messenger.reply(
            app_id=app_id,
            parent_id=request.match_info["message_id"],
            msg_type=_required(body, "msg_type"),
            content=_required(body, "content"),
            reply_in_thread=in_thread,
            uuid=_optional(body, "uuid"),
            body_size=len(raw),
        )
        return ok(self._message_data(message))

    async def _patch(self, request: web.Request, app_id: str) -> Json:
        raw = await request.read()
        await self._slow_for_message(request.match_info["message_id"])
        self._messenger.patch(
            app_id=app_id,
            message_id=request.match_info["message_id"],
            content=_required(_json_object(raw), "content"),
            body_size=len(raw),
        )
        return ok({})

    async def _react(self, request: web.Request, app_id: str) -> Json:
        reaction_type = (await _json_body(request)).get("reaction_type")
        emoji = reaction_type.get("emoji_type") if isinstance(reaction_type, dict) else None
        if not isinstance(emoji, str) or not emoji:
            raise OpenApiError(FIELD_VALIDATION, "field validation failed", field="reaction_type")
        reaction = self._messenger.react(
            app_id=app_id, message_id=request.match_info["message_id"], emoji_type=emoji
        )
        return ok(_reaction_data(reaction))

    async def _unreact(self, request: web.Request, app_id: str) -> Json:
        reaction = self._messenger.unreact(
            app_id=app_id,
            message_id=request.match_info["message_id"],
            reaction_id=request.match_info["reaction_id"],
        )
        return ok(_reaction_data(reaction))

    async def _card_create(self, request: web.Request, app_id: str) -> Json:
        body = await _json_body(request)
        card = self._cardkit.create(
            app_id=app_id, card_type=_required(body, "type"), data=_text(body, "data")
        )
        return ok({"card_id": card.card_id})

    async def _card_update(self, request: web.Request, app_id: str) -> Json:
        body = await _json_body(request)
        card = body.get("card")
        if not isinstance(card, dict):
            raise OpenApiError(FIELD_VALIDATION, "field validation failed", field="card")
        self._cardkit.replace(
            app_id=app_id, card_id=request.match_info["card_id"],
            card_type=_required(card, "type"), data=_text(card, "data"),
            sequence=_sequence(body), uuid=_optional(body, "uuid"),
        )  # fmt: skip
        return ok({})

    async def _card_settings(self, request: web.Request, app_id: str) -> Json:
        body = await _json_body(request)
        self._cardkit.configure(
            app_id=app_id, card_id=request.match_info["card_id"],
            settings=_required(body, "settings"), sequence=_sequence(body),
            uuid=_optional(body, "uuid"),
        )  # fmt: skip
        return ok({})

    async def _card_content(self, request: web.Request, app_id: str) -> Json:
        body = await _json_body(request)
        self._cardkit.stream(
            app_id=app_id, card_id=request.match_info["card_id"],
            element_id=request.match_info["element_id"], text=_required(body, "content"),
            sequence=_sequence(body), uuid=_optional(body, "uuid"),
        )  # fmt: skip
        return ok({})

    async def _slow(self, chat_id: str) -> None:
        """A chat made slow by a test answers late (Feishu having a bad day for it), or as
        soon as the test makes it quick again."""
        delay = self._faults.delay_for(chat_id)
        if delay <= 0:
            return
        deadline = asyncio.get_running_loop().time() + delay
        while self._faults.delay_for(chat_id) > 0:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 0.05))

    async def _slow_for_message(self, message_id: str) -> None:
        if self._world.has_message(message_id):
            await self._slow(self._world.message(message_id).chat_id)

    async def _image(self, request: web.Request, _: str) -> Json:
        form = await _multipart(request)
        image_type = form.get("image_type", b"").decode(errors="replace")
        if image_type not in {"message", "avatar"}:
            raise OpenApiError(FIELD_VALIDATION, "field validation failed", field="image_type")
        data = _upload(form, "image", self._limits.image_bytes)
        if not data.startswith(IMAGE_MAGIC):
            raise OpenApiError(UPLOAD_NOT_IMAGE, "Can't recognize image format.")
        return ok({"image_key": self._world.store_image(data)})

    async def _file(self, request: web.Request, _: str) -> Json:
        form = await _multipart(request)
        file_type = form.get("file_type", b"").decode(errors="replace")
        if file_type not in FILE_TYPES:
            raise OpenApiError(FIELD_VALIDATION, "field validation failed", field="file_type")
        file_name = form.get("file_name", b"").decode(errors="replace")
        if not file_name:
            raise OpenApiError(FIELD_VALIDATION, "field validation failed", field="file_name")
        data = _upload(form, "file", self._limits.file_bytes)
        stored = self._world.store_file(file_name=file_name, file_type=file_type, data=data)
        return ok({"file_key": stored.file_key})

    async def _resource(self, request: web.Request, _: str) -> web.Response:
        """A file or image of a message (its content names the key), as Feishu serves it:
        the bytes, with the file's name in Content-Disposition."""
        kind = request.query.get("type", "")
        if kind not in RESOURCE_TYPES:
            raise OpenApiError(FIELD_VALIDATION, "field validation failed", field="type")
        message_id, key = request.match_info["message_id"], request.match_info["file_key"]
        if not self._world.has_message(message_id):
            raise OpenApiError(INVALID, "The message is not found or has been deleted.")
        if key not in _resource_keys(self._world.message(message_id).body()):
            raise OpenApiError(RESOURCE_NOT_IN_MESSAGE, "File not in msg.")
        if kind == "image" and self._world.has_image(key):
            data, name = self._world.image(key), f"{key}.png"
        elif kind == "file" and self._world.has_file(key):
            stored = self._world.file(key)
            data, name = stored.data, stored.file_name
        else:  # an image asked for as a file or the other way round
            raise OpenApiError(FIELD_VALIDATION, "field validation failed", field="type")
        disposition = f"attachment; filename*=UTF-8''{quote(name)}"
        return web.Response(body=data, content_type="application/octet-stream",
                            headers={"Content-Disposition": disposition})  # fmt: skip

    def _message_data(self, message: Message) -> Json:
        app = self._world.app(message.sender_id)
        data: Json = {"message_id": message.message_id}
        links = {
            "root_id": message.root_id,
            "parent_id": message.parent_id,
            "thread_id": message.thread_id,
        }
        data.update({key: value for key, value in links.items() if value is not None})
        data.update(
            {
                "msg_type": message.msg_type,
                "create_time": str(message.create_time),
                "update_time": str(message.update_time),
                "deleted": False,
                "updated": message.updated,
                "chat_id": message.chat_id,
                "sender": {
                    "id": app.app_id,
                    "id_type": "app_id",
                    "sender_type": "app",
                    "tenant_key": app.tenant_key,
                },
                "body": {"content": message.content},
            }
        )
        return data


def _refusal(error: OpenApiError, log_id: str) -> web.Response:
    detail: Json = {
        "log_id": log_id,
        "troubleshooter": (
            "Troubleshooting suggestions: https://open.feishu.cn/search?from=openapi"
            f"&log_id={log_id}&code={error.code}"
        ),
    }
    if error.field is not None:
        detail["field_violations"] = [{"field": error.field, "description": error.msg}]
    if isinstance(error, ScopeError):
        detail["permission_violations"] = [
            {"type": "action_scope_required", "subject": error.scope, "description": error.scope}
        ]
    body = {"code": error.code, "msg": error.msg, "error": detail}
    headers = {"X-Tt-Logid": log_id, **error.headers}
    return web.json_response(body, status=error.status, headers=headers)


def _server_error(fault: ServerError, headers: dict[str, str]) -> web.Response:
    if fault.body == "html":
        # What a proxy in front of the gateway answers; the SDK fails to parse it.
        html = f"<html><body><h1>{fault.status} Server Error</h1></body></html>"
        return web.Response(status=fault.status, text=html, content_type="text/html")
    body = {"code": fault.status, "msg": "internal server error"}
    return web.json_response(body, status=fault.status, headers=headers)


async def _json_body(request: web.Request) -> Json:
    return _json_object(await request.read())


def _json_object(raw: bytes) -> Json:
    try:
        body: Any = json.loads(raw or b"{}")
    except ValueError:
        raise OpenApiError(FIELD_VALIDATION, "field validation failed: body is not JSON") from None
    if not isinstance(body, dict):
        raise OpenApiError(FIELD_VALIDATION, "field validation failed: body is not an object")
    return body


def _required(body: Json, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise OpenApiError(FIELD_VALIDATION, "field validation failed", field=name)
    return value


def _text(body: Json, name: str) -> str:
    """A string field that may be empty (the API, not the gateway, refuses an empty one)."""
    value = body.get(name)
    if not isinstance(value, str):
        raise OpenApiError(FIELD_VALIDATION, "field validation failed", field=name)
    return value


def _sequence(body: Json) -> int:
    """CardKit's ``sequence``: an int32 above 0."""
    value = body.get("sequence")
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
        raise OpenApiError(FIELD_VALIDATION, "field validation failed", field="sequence")
    return value


def _granted(app: App, scope: str) -> bool:
    if scope == CARDKIT_SCOPE:
        return app.cardkit
    return scope != RESOURCE_SCOPE or app.resources


def _resource_keys(content: Any) -> set[str]:
    """Every image and file key a message's content holds (a post's img and media too)."""
    found: set[str] = set()
    if isinstance(content, dict):
        for name in ("image_key", "file_key"):
            if isinstance(content.get(name), str):
                found.add(content[name])
        for value in content.values():
            found |= _resource_keys(value)
    elif isinstance(content, list):
        for item in content:
            found |= _resource_keys(item)
    return found


def _reaction_data(reaction: Reaction) -> Json:
    return {
        "reaction_id": reaction.reaction_id,
        "operator": {
            "operator_id": reaction.operator_id,
            "operator_type": reaction.operator_type.value,
        },
        "action_time": str(reaction.action_time),
        "reaction_type": {"emoji_type": reaction.emoji_type},
    }


def _optional(body: Json, name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise OpenApiError(FIELD_VALIDATION, "field validation failed", field=name)
    return value


async def _multipart(request: web.Request) -> dict[str, bytes]:
    """Every part by name; the SDK's file part has no filename and no Content-Type."""
    if not request.content_type.startswith("multipart/"):
        raise OpenApiError(FIELD_VALIDATION, "field validation failed: expected multipart form")
    reader = await request.multipart()
    form: dict[str, bytes] = {}
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.name:
            form[part.name] = bytes(await part.read(decode=False))
    return form


def _upload(form: dict[str, bytes], name: str, limit: int) -> bytes:
    if name not in form:
        raise OpenApiError(FIELD_VALIDATION, "field validation failed", field=name)
    data = form[name]
    if not data:
        raise OpenApiError(UPLOAD_EMPTY, "File's size can't be 0.")
    if len(data) > limit:
        raise OpenApiError(UPLOAD_TOO_LARGE, "The file size exceeds the limit.")
    return data
