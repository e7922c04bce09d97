"""The health endpoint: ``GET /health``, ``GET /health/<provider>`` and ``GET /sessions`` on an
aiohttp app (loopback).

Owns what a person or a monitor sees of the bot's liveness: the Feishu connection, tmux, the
agent windows, installed providers and uptime; 200 when healthy, 503 when not. A provider's
smoke test starts its CLI in a scratch window and answers 200 with the version and how long
it took to show its input box, or 503 with why not and the screen. Shows no app secret,
token, message text or chat id. Knows nothing of how the parts work inside.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from unified_icc import UnifiedICC, UnknownProviderError

__all__ = ["SMOKE_TEST_SECONDS", "FeishuLinkState", "HealthServer", "LinkStatus"]

SMOKE_TEST_SECONDS = 30.0
"""How long /health/<provider> waits for the CLI's input box."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkStatus:
    connected: bool
    connected_since: float | None
    last_event_at: float | None
    reconnects: int


class FeishuLinkState(Protocol):
    """What the health endpoint needs from the Feishu connection."""

    def status(self) -> LinkStatus: ...


class HealthServer:
    """Serves /health and /sessions until stopped."""

    def __init__(
        self,
        *,
        gateway: UnifiedICC,
        link: FeishuLinkState,
        host: str,
        port: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._gateway = gateway
        self._link = link
        self._host = host
        self._port = port
        self._clock = clock
        self._started_at = clock()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        """Listen on host:port (port 0 picks a free one, then ``self.port`` tells which)."""
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/health/{provider}", self._smoke_test)
        app.router.add_get("/sessions", self._sessions)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # Binding the socket ourselves tells us the port that port 0 picked.
        sock = socket.create_server((self._host, self._port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def report(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, the JSON body)."""
        now = self._clock()
        link = self._link.status()
        gateway = await self._gateway.health()
        healthy = link.connected and gateway.tmux_ok
        body = {
            "status": "ok" if healthy else "unhealthy",
            "uptime_s": round(now - self._started_at, 1),
            "feishu": {
                "connected": link.connected,
                "connected_since": link.connected_since,
                "last_event_age_s": None if link.last_event_at is None
                else round(now - link.last_event_at, 1),
                "reconnects": link.reconnects,
            },
            "tmux": {"ok": gateway.tmux_ok, "session": gateway.session,
                     "error": gateway.tmux_error},
            "windows": [{"window_id": w.window_id, "provider": w.provider, "dead": w.dead,
                         "status": w.status.value if w.status else None}
                        for w in gateway.windows],
            "providers": [{"name": p.name, "installed": p.installed, "version": p.version,
                           "captured": p.captured, "version_differs": p.version_differs}
                          for p in gateway.providers],
            "warnings": [p.warning for p in gateway.providers if p.warning],
        }  # fmt: skip
        return healthy, body

    async def _health(self, request: web.Request) -> web.Response:
        healthy, body = await self.report()
        return web.json_response(body, status=200 if healthy else 503)

    async def _smoke_test(self, request: web.Request) -> web.Response:
        name = request.match_info["provider"]
        try:
            result = await self._gateway.smoke_test(name, within=SMOKE_TEST_SECONDS)
        except UnknownProviderError as exc:
            return web.json_response({"error": str(exc)}, status=404)
        body: dict[str, Any] = {"provider": result.provider, "ok": result.ok,
                                "version": result.version, "seconds": result.seconds}  # fmt: skip
        if result.ok:
            return web.json_response({**body, "shows": result.shows})
        return web.json_response({**body, "reason": result.reason, "screen": result.screen},
                                 status=503)  # fmt: skip

    async def _sessions(self, request: web.Request) -> web.Response:
        rows = [{"window_id": w.window_id, "provider": w.provider, "mode": w.mode,
                 "cwd": str(w.cwd), "dead": w.dead, "created_at": w.created_at}
                for w in self._gateway.windows()]  # fmt: skip
        return web.json_response({"windows": rows})
