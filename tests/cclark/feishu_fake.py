"""A small fake of the Feishu Open Platform REST endpoints FeishuClient calls, on 127.0.0.1.

Serves the tenant token, message create/reply/patch and image upload; each route answers
scripted responses first, then success. Records every request. Not the project's emulator.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ROUTES = ("token", "create", "reply", "patch", "image")
TOKEN_INVALID = 99991663


@dataclass(frozen=True, slots=True, kw_only=True)
class Scripted:
    """One scripted answer: a Feishu error envelope, or a raw non-JSON body when text is set."""

    status: int = 400
    code: int = 230001
    msg: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    log_id: str = "fake-log-0001"


@dataclass(frozen=True, slots=True, kw_only=True)
class Seen:
    """One request the fake received."""

    route: str
    path: str
    token: str
    query: dict[str, str]
    body: dict[str, Any]


class FeishuFake:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.messages: list[dict[str, Any]] = []  # messages really created (uuid de-duplicated)
        self.token_fetches = 0
        self.domain = ""
        self._valid_tokens: set[str] = set()
        self._by_uuid: dict[str, dict[str, Any]] = {}
        self._scripts: dict[str, deque[Scripted]] = {route: deque() for route in ROUTES}
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    def script(self, route: str, *answers: Scripted) -> None:
        self._scripts[route].extend(answers)

    def revoke_tokens(self) -> None:
        """Every token issued so far is rejected with 99991663 from now on."""
        self._valid_tokens.clear()

    def seen(self, route: str) -> list[Seen]:
        return [r for r in self.requests if r.route == route]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/open-apis/auth/v3/tenant_access_token/internal", self._token)
        app.router.add_post("/open-apis/im/v1/messages", self._create)
        app.router.add_post("/open-apis/im/v1/messages/{message_id}/reply", self._reply)
        app.router.add_patch("/open-apis/im/v1/messages/{message_id}", self._patch)
        app.router.add_post("/open-apis/im/v1/images", self._image)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.domain = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _token(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.requests.append(Seen(route="token", path=request.path, token="", query={}, body=body))
        if self._scripts["token"]:
            return _scripted(self._scripts["token"].popleft())
        self.token_fetches += 1
        token = f"t-{self.token_fetches}"
        self._valid_tokens.add(token)
        return _json({"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200})

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        failure = self._check("create", request, body)
        if failure is not None:
            return failure
        message = self._post(body, chat_id=body["receive_id"])
        return _ok(message)

    async def _reply(self, request: web.Request) -> web.Response:
        body = await request.json()
        failure = self._check("reply", request, body)
        if failure is not None:
            return failure
        root = request.match_info["message_id"]
        thread = f"omt_{root}" if body.get("reply_in_thread") else None
        return _ok(self._post(body, chat_id="oc_of_root", root_id=root, thread_id=thread))

    async def _patch(self, request: web.Request) -> web.Response:
        body = await request.json()
        failure = self._check("patch", request, body)
        return failure if failure is not None else _ok({})

    async def _image(self, request: web.Request) -> web.Response:
        form: dict[str, Any] = {}
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            data = await part.read()
            form[part.name or ""] = data if part.name == "image" else data.decode()
        failure = self._check("image", request, form)
        return failure if failure is not None else _ok({"image_key": f"img_v3_{next(self._ids)}"})

    def _check(self, route: str, request: web.Request, body: dict[str, Any]) -> web.Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        seen = Seen(route=route, path=request.path, token=token, query={**request.query}, body=body)
        self.requests.append(seen)
        if token not in self._valid_tokens:
            return _scripted(Scripted(code=TOKEN_INVALID, msg="Invalid access token"))
        if self._scripts[route]:
            return _scripted(self._scripts[route].popleft())
        return None

    def _post(self, body: dict[str, Any], **fields: Any) -> dict[str, Any]:
        uuid = body.get("uuid")
        if uuid is not None and uuid in self._by_uuid:
            return self._by_uuid[uuid]
        message = {
            "message_id": f"om_{next(self._ids)}",
            "msg_type": body["msg_type"],
            "body": {"content": body["content"]},
            "create_time": "1700000000000",
            **fields,
        }
        self.messages.append(message)
        if uuid is not None:
            self._by_uuid[uuid] = message
        return message


def _json(
    payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(payload, status=status, headers=headers)


def _ok(data: dict[str, Any]) -> web.Response:
    return _json({"code": 0, "msg": "success", "data": data}, headers={"X-Tt-Logid": "fake-ok"})


def _scripted(answer: Scripted) -> web.Response:
    headers = {"X-Tt-Logid": answer.log_id, **answer.headers}
    if answer.text is not None:
        return web.Response(
            status=answer.status, text=answer.text, content_type="text/html", headers=headers
        )
    envelope = {"code": answer.code, "msg": answer.msg, "error": {"log_id": answer.log_id}}
    return _json(envelope, status=answer.status, headers=headers)
