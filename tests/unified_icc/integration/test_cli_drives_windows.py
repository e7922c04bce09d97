"""The unified-icc command opens, types into, shows and kills a window on real tmux."""

from __future__ import annotations

import pytest

from support import World, wait_until

pytestmark = pytest.mark.integration


async def test_cli_new_send_capture_kill_round_trip(world: World) -> None:
    world.write_config_yaml()

    created = world.run_python("-m", "unified_icc", "new", str(world.workspace), "--provider",
                               "shell")  # fmt: skip
    assert created.returncode == 0, created.stderr
    window_id, provider, mode, cwd = created.stdout.strip().split("\t")
    assert (provider, mode, cwd) == ("shell", "normal", str(world.workspace.resolve()))
    await wait_until(lambda: world.agent_entries("started"), what="agent start")

    sent = world.run_python("-m", "unified_icc", "send", window_id, "hi from the cli; $(x)")
    assert sent.returncode == 0, sent.stderr
    await wait_until(lambda: world.agent_entries("submit"), what="submission")

    shown = world.run_python("-m", "unified_icc", "capture", window_id)
    assert "got: hi from the cli; $(x)" in shown.stdout

    killed = world.run_python("-m", "unified_icc", "kill", window_id)
    assert killed.returncode == 0, killed.stderr
    gone = world.run_python("-m", "unified_icc", "kill", window_id)
    assert gone.returncode == 1
    assert f"window {window_id} is not a window this gateway created" in gone.stderr


async def test_cli_reports_bad_arguments_clearly(world: World) -> None:
    world.write_config_yaml()

    missing = world.run_python("-m", "unified_icc", "new", str(world.workspace / "nope"))
    bad_id = world.run_python("-m", "unified_icc", "send", "window-3", "hello")

    assert missing.returncode == 1
    assert "does not exist" in missing.stderr
    assert bad_id.returncode == 2
    assert "not a tmux window id: 'window-3'" in bad_id.stderr
