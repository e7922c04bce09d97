"""GET /health and /sessions on a real gateway and real tmux."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from cclark.health import HealthServer, LinkStatus
from support import World
from unified_icc import UnifiedICC

pytestmark = pytest.mark.integration


class Link:
    """The Feishu connection's state as the ws client reports it (a seam, set by the test)."""

    def __init__(self) -> None:
        self.current = LinkStatus(connected=True, connected_since=1.0, last_event_at=None,
                                  reconnects=0)  # fmt: skip

    def status(self) -> LinkStatus:
        return self.current


async def _get(server: HealthServer, path: str) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{server.port}{path}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_health_is_200_then_503_when_tmux_dies_and_200_when_it_is_back(
    gateway: UnifiedICC, world: World
) -> None:
    server = HealthServer(gateway=gateway, link=Link(), host="127.0.0.1", port=0)
    await server.start()
    try:
        status, body = await _get(server, "/health")
        assert (status, body["status"]) == (200, "ok")
        shell = next(p for p in body["providers"] if p["name"] == "shell")
        assert shell["installed"] is True

        await world.kill_server()
        status, body = await _get(server, "/health")
        assert status == 503
        assert body["tmux"]["ok"] is False

        await gateway.create_window(world.workspace, "shell")
        status, body = await _get(server, "/health")
        assert status == 200
        assert [w["provider"] for w in body["windows"]] == ["shell"]
    finally:
        await server.stop()


async def test_health_is_503_while_feishu_is_disconnected(gateway: UnifiedICC) -> None:
    link = Link()
    link.current = LinkStatus(connected=False, connected_since=None, last_event_at=None,
                              reconnects=3)  # fmt: skip
    server = HealthServer(gateway=gateway, link=link, host="127.0.0.1", port=0)
    await server.start()
    try:
        status, body = await _get(server, "/health")
    finally:
        await server.stop()
    assert status == 503
    assert body["feishu"] == {"connected": False, "connected_since": None,
                              "last_event_age_s": None, "reconnects": 3}  # fmt: skip


async def test_sessions_lists_windows_without_chat_ids(gateway: UnifiedICC, world: World) -> None:
    await gateway.create_window(world.workspace, "shell", channel_id="feishu:main:oc_secret_chat")
    server = HealthServer(gateway=gateway, link=Link(), host="127.0.0.1", port=0)
    await server.start()
    try:
        status, body = await _get(server, "/sessions")
        text = str(body)
    finally:
        await server.stop()
    assert status == 200
    assert [w["provider"] for w in body["windows"]] == ["shell"]
    assert "oc_secret_chat" not in text
