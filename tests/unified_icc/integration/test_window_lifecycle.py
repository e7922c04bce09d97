"""Windows the gateway creates, kills and watches die (real tmux, scripted fake agent)."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest

from support import World, wait_until
from unified_icc import (
    AgentStatus,
    ChannelId,
    Config,
    PathRejectedError,
    ProviderNotInstalledError,
    ProviderSettings,
    ProvidersSettings,
    StatusEvent,
    UnifiedICC,
    UnknownProviderError,
    UnsupportedModeError,
    WindowChange,
    WindowDeadError,
    WindowEvent,
    WindowId,
    WindowNotFoundError,
    WindowOwnershipError,
)

pytestmark = pytest.mark.integration

CHAT_A = ChannelId("feishu:default:oc_a")
CHAT_B = ChannelId("feishu:default:oc_b")


def _panes(world: World) -> dict[str, dict[str, str]]:
    """The session's windows other than the gateway's quiet home window."""
    fmt = "#{window_id}|#{@unified_icc_id}|#{pane_dead}|#{remain-on-exit}|#{pane_start_command}"
    out = world.tmux("list-panes", "-s", "-t", "=uicc-test", "-F", fmt, check=False).stdout
    rows = [line.split("|", 4) for line in out.splitlines() if line]
    panes = {r[0]: {"record": r[1], "dead": r[2], "remain": r[3], "start": r[4]} for r in rows}
    return {w: p for w, p in panes.items() if "cclark gateway:" not in p["start"]}


async def test_start_opens_the_session_with_a_quiet_home_window(
    gateway: UnifiedICC, world: World
) -> None:
    names = world.tmux("list-windows", "-t", "=uicc-test", "-F", "#{window_name}").stdout

    assert names.split() == ["home"]
    assert await gateway.list_orphaned_agent_windows() == ()
    health = await gateway.health()
    assert (health.tmux_ok, health.windows) == (True, ())
    assert {p.name: p.installed for p in health.providers}["shell"] is True


async def test_agent_is_the_windows_own_command_with_remain_on_exit_and_record_id(
    gateway: UnifiedICC, world: World
) -> None:
    window = await gateway.create_window(world.workspace, "shell")
    started = await wait_until(lambda: world.agent_entries("started"), what="agent start")

    pane = _panes(world)[window.window_id]
    assert pane["remain"] == "on"
    assert pane["record"] == gateway.window_store.by_window(window.window_id).record_id
    assert "fake_agent.py" in pane["start"]
    assert started[0]["cwd"] == str(world.workspace.resolve())


async def test_provider_env_from_config_reaches_the_agent(world: World) -> None:
    config = world.config()
    shell = config.providers.shell
    env = {**shell.env, "FAKE_AGENT_SHOW_ENV": "GREETING,EMPTY", "GREETING": "héllo wörld"}
    config = _with_shell(config, ProviderSettings(command=shell.command, env=env))
    async with UnifiedICC(config) as gateway:
        await gateway.create_window(world.workspace, "shell")
        started = await wait_until(lambda: world.agent_entries("started"), what="agent start")

    assert started[0]["env"] == {"GREETING": "héllo wörld", "EMPTY": None}


def _with_shell(config: Config, shell: ProviderSettings) -> Config:
    return dataclasses.replace(config, providers=ProvidersSettings(shell=shell))


async def test_agent_exit_reports_died_and_dead_status_and_keeps_the_last_screen(
    gateway: UnifiedICC, world: World
) -> None:
    windows: list[WindowEvent] = []
    statuses: list[StatusEvent] = []
    gateway.on_window_change(_collect(windows))
    gateway.on_status(_collect(statuses))
    window = await gateway.create_window(world.workspace, "shell", channel_id=CHAT_A)
    await wait_until(lambda: world.agent_entries("started"), what="agent start")

    await gateway.send_to_window(window.window_id, "exit 7")

    await wait_until(lambda: any(e.kind is WindowChange.DIED for e in windows), what="died")
    died = next(e for e in windows if e.kind is WindowChange.DIED)
    assert (died.window_id, died.exit_status, died.channel_ids) == (window.window_id, 7, (CHAT_A,))
    assert statuses[-1].status is AgentStatus.DEAD
    assert statuses[-1].exit_status == 7
    assert "got: exit 7" in await gateway.capture_pane(window.window_id)
    with pytest.raises(WindowDeadError, match=r"has exited \(status 7\)"):
        await gateway.send_to_window(window.window_id, "hello?")
    assert gateway.channel_router.resolve_window(CHAT_A) == window.window_id


def _collect(into: list):  # type: ignore[no-untyped-def]
    async def callback(event) -> None:  # type: ignore[no-untyped-def]
        into.append(event)

    return callback


async def test_kill_window_removes_window_binding_and_reports_closed(
    gateway: UnifiedICC, world: World
) -> None:
    events: list[WindowEvent] = []
    gateway.on_window_change(_collect(events))
    window = await gateway.create_window(world.workspace, "shell", channel_id=CHAT_A)

    await gateway.kill_window(window.window_id)

    assert window.window_id not in _panes(world)
    assert gateway.channel_router.resolve_window(CHAT_A) is None
    assert [e.kind for e in events] == [WindowChange.CREATED, WindowChange.CLOSED]
    with pytest.raises(WindowNotFoundError):
        await gateway.send_to_window(window.window_id, "anyone there?")


async def test_kill_channel_windows_kills_only_that_channels_windows(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = _fake_claude_on_path(world, monkeypatch)
    async with UnifiedICC(world.config()) as gateway:
        a1 = await gateway.create_window(world.workspace, "shell", channel_id=CHAT_A)
        a2 = await gateway.create_window(world.workspace, "shell", channel_id=CHAT_A)
        b1 = await gateway.create_window(world.workspace, "shell", channel_id=CHAT_B)
        foreign = world.tmux(
            "new-window", "-d", "-t", "=uicc-test:", "-P", "-F", "#{window_id}",
            "--", str(bin_dir / "claude"),
        ).stdout.strip()  # fmt: skip

        killed = await gateway.kill_channel_windows(CHAT_A)

        assert set(killed) == {a1.window_id, a2.window_id}
        live = _panes(world)
        assert set(live) == {b1.window_id, foreign}
        assert gateway.channel_router.resolve_window(CHAT_A) is None
        assert gateway.channel_router.resolve_window(CHAT_B) == b1.window_id
        orphans = await gateway.list_orphaned_agent_windows()
        assert [(o.window_id, o.provider) for o in orphans] == [(foreign, "claude")]
        with pytest.raises(WindowNotFoundError, match="not a window this gateway created"):
            await gateway.kill_window(WindowId(foreign))
        assert foreign in _panes(world)


def _fake_claude_on_path(world: World, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An executable named claude that just waits, so a foreign window looks like an agent."""
    bin_dir = world.root / "bin"
    bin_dir.mkdir()
    script = bin_dir / "claude"
    script.write_text("#!/bin/sh\nexec sleep 600\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


async def test_bind_channel_refuses_another_channels_window(
    gateway: UnifiedICC, world: World
) -> None:
    window = await gateway.create_window(world.workspace, "shell", channel_id=CHAT_A)

    with pytest.raises(WindowOwnershipError, match="belongs to another chat"):
        gateway.bind_channel(CHAT_B, window.window_id)

    assert gateway.channel_router.resolve_window(CHAT_B) is None


async def test_bind_channel_gives_an_unowned_window_to_the_channel(
    gateway: UnifiedICC, world: World
) -> None:
    window = await gateway.create_window(world.workspace, "shell")

    gateway.bind_channel(CHAT_B, window.window_id)

    assert gateway.channel_router.resolve_window(CHAT_B) == window.window_id
    assert gateway.window_info(window.window_id).channel_id == CHAT_B
    assert gateway.unbind_channel(CHAT_B) == window.window_id
    assert gateway.channel_router.resolve_window(CHAT_B) is None


@pytest.mark.parametrize(
    ("provider", "mode", "error", "message"),
    [
        ("cursor", "normal", UnknownProviderError, "unknown provider 'cursor'.*claude, codex"),
        ("shell", "turbo", UnsupportedModeError, "unknown mode 'turbo'.*accept-edits, plan, yolo"),
        ("shell", "yolo", UnsupportedModeError, "'shell' has no 'yolo' mode"),
    ],
)
async def test_create_window_refuses_unknown_provider_or_mode(
    gateway: UnifiedICC, world: World, provider: str, mode: str, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        await gateway.create_window(world.workspace, provider, mode)
    assert _panes(world) == {}


async def test_create_window_refuses_bad_paths_with_the_reason(
    gateway: UnifiedICC, world: World
) -> None:
    a_file = world.workspace / "notes.txt"
    a_file.write_text("x")
    outside = world.root / "outside"
    outside.mkdir()
    escape = world.workspace / "escape"
    escape.symlink_to(outside)
    cases = {
        world.workspace / "missing": "does not exist",
        a_file: "is not a directory",
        outside: "outside the workspace roots",
        escape: "outside the workspace roots",
        world.workspace / ".." / "outside": "outside the workspace roots",
        "relative/dir": "not an absolute path",
    }
    for path, reason in cases.items():
        with pytest.raises(PathRejectedError, match=reason):
            await gateway.create_window(path, "shell")
    assert _panes(world) == {}


async def test_create_window_refuses_a_provider_that_is_not_installed(world: World) -> None:
    config = world.config()
    missing = ProviderSettings(command="codex-not-installed-here --flag")
    providers = ProvidersSettings(shell=config.providers.shell, codex=missing)
    async with UnifiedICC(dataclasses.replace(config, providers=providers)) as gateway:
        with pytest.raises(ProviderNotInstalledError, match="codex is not installed"):
            await gateway.create_window(world.workspace, "codex")
    assert _panes(world) == {}


async def test_an_orphaned_agent_window_can_be_adopted_by_a_channel(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = _fake_claude_on_path(world, monkeypatch)
    events: list[WindowEvent] = []
    async with UnifiedICC(world.config()) as gateway:
        gateway.on_window_change(_collect(events))
        made = world.tmux("new-window", "-d", "-t", "=uicc-test:", "-P", "-F", "#{window_id}",
                          "--", str(bin_dir / "claude"))  # fmt: skip
        foreign = WindowId(made.stdout.strip())

        adopted = await gateway.adopt_window(foreign, CHAT_B)

        assert (adopted.provider, adopted.channel_id) == ("claude", CHAT_B)
        assert gateway.channel_router.resolve_window(CHAT_B) == foreign
        assert await gateway.list_orphaned_agent_windows() == ()
        assert [e.kind for e in events] == [WindowChange.ADOPTED]
        with pytest.raises(WindowNotFoundError, match="not an orphaned agent window"):
            await gateway.adopt_window(foreign, CHAT_A)
    async with UnifiedICC(world.config()) as again:
        assert again.channel_router.resolve_window(CHAT_B) == foreign


async def test_channel_settings_persist_across_a_restart(world: World) -> None:
    async with UnifiedICC(world.config()) as gateway:
        gateway.set_channel_setting(CHAT_A, "verbose", True)
    async with UnifiedICC(world.config()) as again:
        assert again.channel_setting(CHAT_A, "verbose", False) is True
        assert again.channel_setting(CHAT_B, "verbose", False) is False
