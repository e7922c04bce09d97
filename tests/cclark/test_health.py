"""GET /health, /health/<provider> and /sessions, and #status's version warning, on a real gateway
and real tmux."""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import pytest

from cclark.handlers.commands import SessionCommands
from cclark.health import HealthServer, LinkStatus
from support import World
from unified_icc import ChannelId, Config, ProviderSettings, UnifiedICC

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


async def test_a_provider_check_starts_its_cli_closes_it_and_answers_200(
    gateway: UnifiedICC, world: World
) -> None:
    server = HealthServer(gateway=gateway, link=Link(), host="127.0.0.1", port=0)
    await server.start()
    try:
        status, body = await _get(server, "/health/claude")
        unknown, refused = await _get(server, "/health/cobol")
    finally:
        await server.stop()

    assert status == 200
    assert (body["provider"], body["ok"], body["shows"]) == ("claude", True, "input box")
    assert 0 < body["seconds"] < 30
    assert world.agent_entries("submit") == []  # nothing was typed into it
    windows = world.tmux("list-windows", "-a", "-F", "#{window_name}").stdout.split()
    assert not any(name.startswith("check:") for name in windows)
    assert unknown == 404
    assert "unknown provider 'cobol'" in refused["error"]


async def test_a_provider_whose_cli_fails_answers_503_with_its_words(world: World) -> None:
    failing = "sh -c 'echo \"claude: credentials expired, run claude login\"; exit 3'"
    config = world.config()
    broken = config.providers.model_copy(update={"claude": ProviderSettings(command=failing)})
    async with UnifiedICC(dataclasses.replace(config, providers=broken)) as gateway:
        server = HealthServer(gateway=gateway, link=Link(), host="127.0.0.1", port=0)
        await server.start()
        try:
            status, body = await _get(server, "/health/claude")
        finally:
            await server.stop()
    asleep = ProviderSettings(command="sh -c 'sleep 60'")  # never draws an input box
    hanging = config.providers.model_copy(update={"claude": asleep})
    async with UnifiedICC(dataclasses.replace(config, providers=hanging)) as gateway:
        stuck = await gateway.smoke_test("claude", within=1)
    windows = world.tmux("list-windows", "-a", "-F", "#{window_name}").stdout.split()

    assert status == 503
    assert body["ok"] is False
    assert body["reason"] == "the CLI exited with status 3 instead of showing its input box"
    assert "credentials expired, run claude login" in body["screen"]
    assert (stuck.ok, stuck.reason) == (False, "no input box after 1 s")
    assert not any(name.startswith("check:") for name in windows)  # sleep 60 was stopped


async def test_health_warns_when_a_cli_is_not_the_version_its_screens_were_read_from(
    world: World,
) -> None:
    config = _with_claude_9_9_9(world)
    async with UnifiedICC(config) as gateway:
        server = HealthServer(gateway=gateway, link=Link(), host="127.0.0.1", port=0)
        await server.start()
        try:
            status, body = await _get(server, "/health")
        finally:
            await server.stop()

    claude = next(p for p in body["providers"] if p["name"] == "claude")
    assert status == 200  # a warning, not an outage
    assert (claude["version"], claude["captured"], claude["version_differs"]) == (
        "9.9.9 (Claude Code)", "2.1.197", True
    )
    assert body["warnings"] == [
        "claude 9.9.9 (Claude Code) is installed, but its screens were read from 2.1.197: "
        "prompts may be misread (pin 2.1.197, or check docs/providers.md for an update)"
    ]


async def test_status_warns_when_the_chats_cli_is_not_the_captured_version(world: World) -> None:
    config = _with_claude_9_9_9(world)  # the stub exits at once: a dead window
    chat = ChannelId("feishu:main:oc_versions")
    async with UnifiedICC(config) as gateway:
        await gateway.create_window(world.workspace, "claude", channel_id=chat)
        answer = await SessionCommands(gateway=gateway).status(chat)

    assert answer.endswith(
        "⚠️ claude 9.9.9 (Claude Code) is installed, but its screens were read from 2.1.197: "
        "prompts may be misread (pin 2.1.197, or check docs/providers.md for an update)."
    )


def _with_claude_9_9_9(world: World) -> Config:
    """world's config with a claude that says it is 9.9.9 (and does nothing else)."""
    stub = world.root / "claude-stub"
    stub.write_text('#!/bin/sh\necho "9.9.9 (Claude Code)"\n')
    stub.chmod(0o755)
    config = world.config()
    providers = config.providers.model_copy(update={"claude": ProviderSettings(command=str(stub))})
    return dataclasses.replace(config, providers=providers)
