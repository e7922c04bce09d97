"""Interrupting a real bash: Escape means nothing to it, so the gateway sends Ctrl-C."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from support import World, wait_until
from unified_icc import UnifiedICC, WindowId

pytestmark = pytest.mark.integration


@pytest.fixture
async def shell(world: World) -> AsyncIterator[tuple[UnifiedICC, WindowId]]:
    async with UnifiedICC(world.bash_config()) as gateway:
        window = await gateway.create_window(world.workspace, "shell")
        await wait_until(lambda: _screen_has(gateway, window.window_id, "$"), what="a prompt")
        yield gateway, window.window_id


async def _screen_has(gateway: UnifiedICC, window: WindowId, text: str) -> bool:
    return text in await gateway.capture_pane(window)


async def test_interrupt_stops_a_shells_running_program(
    shell: tuple[UnifiedICC, WindowId], world: World
) -> None:
    gateway, window = shell
    marker = world.workspace / "after-the-sleep"
    await gateway.send_to_window(window, f"sleep 300; touch {marker}")
    await wait_until(lambda: _screen_has(gateway, window, "sleep 300"), what="the command")

    taken_back = await gateway.interrupt(window)
    await gateway.send_to_window(window, "echo back-$((20 + 22))")

    await wait_until(lambda: _screen_has(gateway, window, "back-42"), what="the next command")
    screen = await gateway.capture_pane(window)
    assert "^C" in screen
    assert taken_back is False
    assert not marker.exists()  # the rest of the line never ran
