"""What survives a restart of the gateway, of its state file, and of tmux itself."""

from __future__ import annotations

import json
import logging
import os
import stat
import textwrap

import pytest

from support import World, wait_until
from unified_icc import (
    ChannelId,
    GatewayBusyError,
    UnifiedICC,
    WindowChange,
    WindowEvent,
    WindowNotFoundError,
    load_config,
)

pytestmark = pytest.mark.integration

CHAT_A = ChannelId("feishu:default:oc_a")
CHAT_B = ChannelId("feishu:default:oc_b:omt_topic")


def _collector(into: list[WindowEvent]):  # type: ignore[no-untyped-def]
    async def collect(event: WindowEvent) -> None:
        into.append(event)

    return collect


async def test_binding_made_by_one_process_resolves_and_works_in_a_fresh_process(
    world: World,
) -> None:
    world.write_config_yaml()
    async with UnifiedICC(load_config()) as gateway:
        window = await gateway.create_window(world.workspace, "shell", channel_id=CHAT_B)
    await wait_until(lambda: world.agent_entries("started"), what="agent start")

    fresh = world.run_python("-c", textwrap.dedent(f"""
        import asyncio
        from unified_icc import UnifiedICC, ChannelId
        async def main():
            async with UnifiedICC() as gateway:
                window_id = gateway.channel_router.resolve_window(ChannelId({CHAT_B!r}))
                print(window_id)
                await gateway.send_to_window(window_id, "from a fresh process")
        asyncio.run(main())
    """))

    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.strip() == window.window_id
    submitted = await wait_until(lambda: world.agent_entries("submit"), what="submission")
    assert submitted[0]["text"] == "from a fresh process"
    status = world.run_python("-m", "unified_icc", "status")
    assert status.returncode == 0, status.stderr
    row = next(line for line in status.stdout.splitlines() if line.strip().startswith("@"))
    assert row.split()[:3] == [window.window_id, "running", "shell"]
    assert f"chats: {CHAT_B}" in row


async def test_restart_readopts_live_windows_and_reports_dead_ones_still_bound(
    world: World,
) -> None:
    async with UnifiedICC(world.config()) as first:
        alive = await first.create_window(world.workspace, "shell", channel_id=CHAT_A)
        doomed = await first.create_window(world.workspace, "shell", channel_id=CHAT_B)
        await wait_until(lambda: len(world.agent_entries("started")) == 2, what="two agents")
    world.tmux("send-keys", "-t", doomed.window_id, "-l", "exit 3")
    world.tmux("send-keys", "-t", doomed.window_id, "Enter")
    await wait_until(lambda: _pane_dead(world, doomed.window_id), what="the agent to exit")

    events: list[WindowEvent] = []
    second = UnifiedICC(world.config())
    second.on_window_change(_collector(events))
    async with second:
        assert [(e.window_id, e.kind, e.exit_status, e.channel_ids) for e in events] == [
            (doomed.window_id, WindowChange.DIED, 3, (CHAT_B,))
        ]
        # Bound still, so the chat can resume it (or be told it exited when it writes).
        assert second.channel_router.resolve_window(CHAT_B) == doomed.window_id
        assert second.channel_router.resolve_window(CHAT_A) == alive.window_id
        await second.send_to_window(alive.window_id, "still here")
        await wait_until(lambda: world.agent_entries("submit"), what="submission")


def _pane_dead(world: World, window_id: str) -> bool:
    shown = world.tmux("display-message", "-p", "-t", window_id, "#{pane_dead}")
    return shown.stdout.strip() == "1"


async def test_corrupt_state_file_is_moved_aside_and_startup_continues(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.config_dir.mkdir(parents=True)
    state = world.config_dir / "state.json"
    state.write_text('{"version": 1, "windows": [ this is not json')

    with caplog.at_level(logging.ERROR, logger="unified_icc.persistence"):
        async with UnifiedICC(world.config()) as gateway:
            window = await gateway.create_window(world.workspace, "shell", channel_id=CHAT_A)

    aside = list(world.config_dir.glob("state.json.corrupt-*"))
    assert len(aside) == 1
    assert aside[0].read_text() == '{"version": 1, "windows": [ this is not json'
    assert f"moved it to {aside[0]}" in caplog.text
    saved = json.loads(state.read_text())
    assert saved["version"] == 1
    assert saved["bindings"] == {CHAT_A: window.window_id}


async def test_state_file_is_private_versioned_and_written_without_leftovers(
    gateway: UnifiedICC, world: World
) -> None:
    window = await gateway.create_window(world.workspace, "shell", channel_id=CHAT_A)

    state = world.config_dir / "state.json"
    assert state.stat().st_mode & 0o777 == 0o600
    saved = json.loads(state.read_text())
    assert saved["version"] == 1
    assert [w["window_id"] for w in saved["windows"]] == [window.window_id]
    assert saved["windows"][0]["provider"] == "shell"
    assert set(saved) == {
        "version", "windows", "bindings", "channel_settings", "offsets", "hook_offset"
    }
    assert sorted(p.name for p in world.config_dir.iterdir() if "tmp" in p.name) in ([], ["tmp"])


async def test_the_config_folder_the_gateway_creates_is_private_whatever_the_umask(
    world: World,
) -> None:
    assert not world.config_dir.exists()
    old = os.umask(0)  # a umask that would leave a new folder open to everyone
    try:
        async with UnifiedICC(world.config()) as gateway:
            await gateway.create_window(world.workspace, "shell", channel_id=CHAT_A)
    finally:
        os.umask(old)

    assert stat.S_IMODE(world.config_dir.stat().st_mode) == 0o700
    for path in world.config_dir.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


async def test_tmux_server_killed_under_running_gateway_reports_died_then_recovers(
    gateway: UnifiedICC, world: World
) -> None:
    events: list[WindowEvent] = []
    gateway.on_window_change(_collector(events))
    window = await gateway.create_window(world.workspace, "shell", channel_id=CHAT_A)
    await wait_until(lambda: world.agent_entries("started"), what="agent start")

    await world.kill_server()

    await wait_until(lambda: any(e.kind is WindowChange.DIED for e in events), what="died event")
    died = next(e for e in events if e.kind is WindowChange.DIED)
    assert (died.window_id, died.channel_ids) == (window.window_id, (CHAT_A,))
    assert gateway.channel_router.resolve_window(CHAT_A) is None
    assert gateway.windows() == ()
    with pytest.raises(WindowNotFoundError):
        await gateway.send_to_window(window.window_id, "lost")

    again = await gateway.create_window(world.workspace, "shell", channel_id=CHAT_A)
    await wait_until(lambda: len(world.agent_entries("started")) == 2, what="the new agent")
    await gateway.send_to_window(again.window_id, "back again")
    submitted = await wait_until(lambda: world.agent_entries("submit"), what="submission")
    assert submitted[-1]["text"] == "back again"


async def test_reused_tmux_window_id_is_not_mistaken_for_ours(world: World) -> None:
    async with UnifiedICC(world.config()) as first:
        ours = await first.create_window(world.workspace, "shell", channel_id=CHAT_A)
    await world.kill_server()
    world.tmux("new-session", "-d", "-s", "uicc-test", "--", "sleep", "600")
    stranger = world.tmux("new-window", "-d", "-t", "=uicc-test:", "-P", "-F", "#{window_id}",
                          "--", "sleep", "600").stdout.strip()  # fmt: skip
    assert stranger == ours.window_id  # tmux re-used the id (the first went to the home window)

    events: list[WindowEvent] = []
    second = UnifiedICC(world.config())
    second.on_window_change(_collector(events))
    async with second:
        assert [(e.window_id, e.kind) for e in events] == [(ours.window_id, WindowChange.DIED)]
        assert second.channel_router.resolve_window(CHAT_A) is None
        with pytest.raises(WindowNotFoundError):
            await second.send_to_window(ours.window_id, "not for a stranger")
    alive = world.tmux("list-panes", "-t", stranger, "-F", "#{pane_dead}").stdout.strip()
    assert alive == "0"


async def test_second_gateway_on_the_same_folder_is_refused(world: World) -> None:
    async with UnifiedICC(world.config()):
        with pytest.raises(GatewayBusyError, match="another unified-icc gateway"):
            await UnifiedICC(world.config()).start()
