"""A plain shell's output reaches the chat side like an agent's transcript, turn by turn."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from support import World, wait_until
from unified_icc import (
    AgentMessageEvent,
    AgentStatus,
    MessageKind,
    MessageRole,
    StatusEvent,
    UnifiedICC,
)

pytestmark = pytest.mark.integration


class Seen:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    async def message(self, event: AgentMessageEvent) -> None:
        for m in event.messages:
            self.events.append(("user" if m.role is MessageRole.USER else m.kind.value, m.text))

    async def status(self, event: StatusEvent) -> None:
        self.events.append(("status", event.status.value))

    def after(self, text: str) -> list[tuple[str, str]]:
        """What was seen from the submission of text on ([] before it arrived)."""
        marker = ("user", text)
        return self.events[self.events.index(marker):] if marker in self.events else []


@pytest.fixture
async def bash(world: World) -> AsyncIterator[tuple[UnifiedICC, Seen]]:
    seen = Seen()
    async with UnifiedICC(world.bash_config()) as gateway:
        gateway.on_message(seen.message)
        gateway.on_status(seen.status)
        yield gateway, seen


async def test_a_command_is_a_turn_its_output_follows_and_idle_ends_it(
    bash: tuple[UnifiedICC, Seen], world: World
) -> None:
    gateway, seen = bash
    window = await gateway.create_window(world.workspace, "shell")

    await gateway.send_to_window(window.window_id, "echo hello; printf '\\033[31mred\\033[0m\\n'")
    turn = await wait_until(
        lambda: (t := seen.after("echo hello; printf '\\033[31mred\\033[0m\\n'"))[-1:]
        == [("status", "idle")] and t, what="the command's turn")  # fmt: skip

    outputs = [text for kind, text in turn if kind == MessageKind.OUTPUT.value]
    assert "hello\nred" in "\n".join(outputs)
    assert "\x1b" not in "\n".join(outputs)


async def test_a_long_command_is_working_until_the_shell_is_back_in_the_foreground(
    bash: tuple[UnifiedICC, Seen], world: World
) -> None:
    gateway, seen = bash
    window = await gateway.create_window(world.workspace, "shell")
    await gateway.send_to_window(window.window_id, "true")
    await wait_until(lambda: seen.after("true")[-1:] == [("status", "idle")], what="ready")

    await gateway.send_to_window(window.window_id, "sleep 2; echo finished")
    turn = await wait_until(
        lambda: ("output", "finished") in (t := seen.after("sleep 2; echo finished"))
        and t[-1] == ("status", "idle") and t, what="the end of the turn")  # fmt: skip

    working = ("status", AgentStatus.WORKING.value)
    assert working in turn
    assert turn.index(working) < turn.index(("output", "finished"))
