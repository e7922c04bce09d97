"""/_emulator: the control surface as JSON over HTTP, for people, pages and other processes.

Owns the routes, JSON decoding of their bodies and JSON encoding of the records; every
operation itself is a Control method (control.py), so both surfaces behave the same.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from feishu_emulator.control import Control
from feishu_emulator.errors import UnknownRecordError
from feishu_emulator.faults import ServerErrorBody
from feishu_emulator.models import (
    Api,
    App,
    CardClick,
    ChatType,
    ClientConfig,
    RefuseMode,
    UserMessage,
)
from feishu_emulator.state import World

__all__ = ["CONTROL_PREFIX", "ControlHttp", "image_type", "to_json"]

CONTROL_PREFIX = "/_emulator"

Json = dict[str, Any]
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def to_json(value: object) -> Any:
    """Records (frozen dataclasses, enums, tuples) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value


class _Body:
    """Typed reads of a JSON request body; a wrong type is the caller's 400."""

    def __init__(self, raw: Json) -> None:
        self.raw = raw

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name, default)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be a string")
        return value

    def word(self, name: str, default: str) -> str:
        return self.text(name, default) or default

    def number(self, name: str, default: int | None = None) -> int | None:
        value = self.raw.get(name, default)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{name} must be an integer")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value

    def seconds(self, name: str) -> float | None:
        value = self.raw.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"{name} must be a number")
        return None if value is None else float(value)

    def parts(self) -> int:
        return self.number("parts", 1) or 1

    def times(self) -> int:
        return self.number("times", 1) or 1

    def order(self) -> list[int] | None:
        value = self.raw.get("part_order")
        if value is not None and not (
            isinstance(value, list) and all(isinstance(i, int) for i in value)
        ):
            raise ValueError("part_order must be a list of integers")
        return value


def _handler(action: Callable[[web.Request, _Body], Awaitable[object]]) -> Route:
    """JSON in, JSON out; ValueError → 400, UnknownRecordError → 404."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            raw: Any = json.loads(await request.read() or b"{}")
            if not isinstance(raw, dict):
                raise ValueError("the body must be a JSON object")
            result = await action(request, _Body(raw))
        except UnknownRecordError as error:
            return web.json_response({"error": str(error)}, status=404)
        except ValueError as error:
            return web.json_response({"error": str(error)}, status=400)
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(to_json(result))

    return handle


def _user_message(body: _Body) -> UserMessage:
    text = body.text("text")
    content = body.raw.get("content")
    if text is not None:
        msg_type, content = "text", {"text": text}
    elif isinstance(content, dict):
        msg_type = body.text("msg_type") or "text"
    else:
        raise ValueError("give text, or msg_type and a content object")
    return UserMessage(
        msg_type=msg_type,
        content=content,
        chat_id=body.text("chat_id"),
        chat_type=ChatType(body.word("chat_type", "p2p")),
        sender_open_id=body.text("sender_open_id"),
        mention_bot=body.flag("mention_bot"),
        thread_id=body.text("thread_id"),
        reply_to=body.text("reply_to"),
        start_thread=body.flag("start_thread"),
        create_time=body.number("create_time"),
        app_id=body.text("app_id"),
    )


def _api(body: _Body) -> Api | None:
    name = body.text("api")
    return None if name is None else Api(name)


class ControlHttp:
    """The /_emulator routes over one Control and its World."""

    def __init__(self, *, control: Control, world: World, url: Callable[[], str]) -> None:
        self._control = control
        self._world = world
        self._url = url

    def routes(self) -> list[web.RouteDef]:
        p = CONTROL_PREFIX
        tables = "{table:apps|chats|acks|deliveries|connections}"
        return [
            web.get(p, _handler(self.overview)),
            web.get(f"{p}/{tables}", _handler(self.listing)),
            web.post(f"{p}/apps", _handler(self.register_app)),
            web.post(f"{p}/chats", _handler(self.open_chat)),
            web.get(f"{p}/chats/{{chat_id}}/messages", _handler(self.chat_messages)),
            web.post(f"{p}/messages", _handler(self.post)),
            web.post(f"{p}/events", _handler(self.emit)),
            web.post(f"{p}/clicks", _handler(self.click)),
            web.post(f"{p}/events/{{event_id}}/redeliver", _handler(self.redeliver)),
            web.get(f"{p}/sent", _handler(self.sent)),
            web.post(f"{p}/connections/close", _handler(self.close)),
            web.get(f"{p}/client_config", _handler(self.client_config)),
            web.put(f"{p}/client_config", _handler(self.client_config)),
            web.get(f"{p}/images/{{image_key}}", _handler(self.image)),
            web.get(f"{p}/faults", _handler(self.faults)),
            web.delete(f"{p}/faults", _handler(self.faults)),
            web.post(f"{p}/faults/server_error", _handler(self.fail_next)),
            web.post(f"{p}/faults/api_rate_limit", _handler(self.rate_limit_api)),
            web.post(f"{p}/faults/chat_rate_limit", _handler(self.rate_limit_chat)),
            web.post(f"{p}/faults/invalidate_tokens", _handler(self.invalidate_tokens)),
            web.post(f"{p}/faults/refuse_ws_endpoint", _handler(self.refuse_ws_endpoint)),
        ]

    async def overview(self, _: web.Request, __: _Body) -> object:
        return {
            "url": self._url(),
            "apps": self._world.apps,
            "chats": self._world.chats,
            "live_connections": [c for c in self._world.connections if c.live],
            "sent": len(self._world.sent),
            "acks": len(self._world.acks),
            "client_config": self._control.client_config,
            "faults": self._control.faults(),
        }

    async def listing(self, request: web.Request, _: _Body) -> object:
        world = self._world
        tables: dict[str, Callable[[], object]] = {
            "apps": lambda: world.apps,
            "chats": lambda: world.chats,
            "acks": lambda: world.acks,
            "deliveries": lambda: world.deliveries,
            "connections": lambda: world.connections,
        }
        return tables[request.match_info["table"]]()

    async def register_app(self, _: web.Request, body: _Body) -> object:
        default = App()
        app = App(
            app_id=body.word("app_id", default.app_id),
            app_secret=body.word("app_secret", default.app_secret),
            bot_name=body.word("bot_name", default.bot_name),
            bot_open_id=body.word("bot_open_id", default.bot_open_id),
            tenant_key=body.word("tenant_key", default.tenant_key),
            receives_all_group_messages=body.flag("receives_all_group_messages"),
        )
        return self._control.register_app(app)

    async def open_chat(self, _: web.Request, body: _Body) -> object:
        chat_type = ChatType(body.word("chat_type", "group"))
        name = body.text("name") or ""
        return self._control.open_chat(body.text("chat_id"), chat_type=chat_type, name=name)

    async def chat_messages(self, request: web.Request, _: _Body) -> object:
        chat = self._world.chat(request.match_info["chat_id"])
        return self._world.messages_in(chat.chat_id)

    async def post(self, _: web.Request, body: _Body) -> object:
        message = _user_message(body)
        return await self._control.post(message, parts=body.parts(), part_order=body.order())

    async def emit(self, _: web.Request, body: _Body) -> object:
        event, event_type = body.raw.get("event"), body.text("event_type")
        if not (event_type and isinstance(event, dict)):
            raise ValueError("give event_type and an event object")
        return await self._control.emit(
            event_type,
            event,
            app_id=body.text("app_id"),
            parts=body.parts(),
            part_order=body.order(),
        )

    async def click(self, _: web.Request, body: _Body) -> object:
        message_id, value = body.text("message_id"), body.raw.get("value")
        if not (message_id and isinstance(value, dict)):
            raise ValueError("give message_id and value (the button's callback value object)")
        click = CardClick(message_id=message_id, value=value,
                          operator_open_id=body.text("operator_open_id"))  # fmt: skip
        return await self._control.click(click)

    async def redeliver(self, request: web.Request, body: _Body) -> object:
        event_id = request.match_info["event_id"]
        state = await self._control.redeliver(event_id, parts=body.parts(), part_order=body.order())
        return {"event_id": event_id, "delivery": state}

    async def sent(self, request: web.Request, _: _Body) -> object:
        chat_id = request.query.get("chat_id")
        after = int(request.query.get("after", "0"))
        return [s for s in self._world.sent if s.seq > after and chat_id in (None, s.chat_id)]

    async def close(self, _: web.Request, body: _Body) -> object:
        closed = await self._control.close_connections(
            app_id=body.text("app_id"),
            code=body.number("code", 1000) or 1000,
            abort=body.flag("abort"),
        )
        return {"closed": closed}

    async def client_config(self, request: web.Request, body: _Body) -> object:
        if request.method == "PUT":
            fields = to_json(self._control.client_config)
            for key in fields:
                if key in body.raw:
                    fields[key] = body.number(key)
            self._control.set_client_config(ClientConfig(**fields))
        return self._control.client_config

    async def image(self, request: web.Request, _: _Body) -> object:
        data = self._world.image(request.match_info["image_key"])
        return web.Response(body=data, content_type=image_type(data))

    async def faults(self, request: web.Request, _: _Body) -> object:
        if request.method == "DELETE":
            self._control.clear_faults()
        return self._control.faults()

    async def fail_next(self, _: web.Request, body: _Body) -> object:
        mode: ServerErrorBody = "html" if body.word("body", "json") == "html" else "json"
        status = body.number("status", 500) or 500
        self._control.fail_next(body.times(), status=status, api=_api(body), body=mode)
        return self._control.faults()

    async def rate_limit_api(self, _: web.Request, body: _Body) -> object:
        reset_after = body.number("reset_after", 1) or 1
        self._control.rate_limit_api(_api(body), times=body.times(), reset_after=reset_after)
        return self._control.faults()

    async def rate_limit_chat(self, _: web.Request, body: _Body) -> object:
        chat_id = body.text("chat_id")
        if chat_id is None:
            raise ValueError("give chat_id")
        self._control.rate_limit_chat(chat_id, times=body.times())
        return self._control.faults()

    async def invalidate_tokens(self, _: web.Request, body: _Body) -> object:
        return {"revoked": self._control.invalidate_tokens(body.text("app_id"))}

    async def refuse_ws_endpoint(self, _: web.Request, body: _Body) -> object:
        self._control.refuse_ws_endpoint(
            RefuseMode(body.word("mode", RefuseMode.HTTP_503)),
            times=body.number("times"),
            seconds=body.seconds("seconds"),
        )
        return self._control.faults()


def image_type(data: bytes) -> str:
    """The content type of an uploaded image, from its first bytes."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"GIF8"):
        return "image/gif"
    return "application/octet-stream"
