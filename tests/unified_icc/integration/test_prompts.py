"""Prompts on an agent's screen become StatusEvents and are answered by number.

The agent is tests/fakes/fake_claude.py, which draws Claude's real Bash permission panel;
the real screen parser reads it.
"""

from __future__ import annotations

import pytest

from support import World, wait_until
from unified_icc import (
    AgentStatus,
    InvalidOptionError,
    NoPromptError,
    PromptKind,
    PromptPendingError,
    StatusEvent,
    UnifiedICC,
    WindowInfo,
)

pytestmark = pytest.mark.integration


class Statuses:
    def __init__(self, gateway: UnifiedICC) -> None:
        self.events: list[StatusEvent] = []
        gateway.on_status(self._collect)

    async def _collect(self, event: StatusEvent) -> None:
        self.events.append(event)

    async def wait_for_prompt(self) -> StatusEvent:
        found: StatusEvent = await wait_until(
            lambda: next((e for e in self.events if e.status is AgentStatus.PROMPT), None),
            what="a prompt status",
        )
        return found

    async def wait_for_prompt_gone(self) -> StatusEvent:
        def gone() -> StatusEvent | None:
            after = self.events[self.events.index(self._first_prompt()) + 1 :]
            return next((e for e in after if e.prompt is None), None)

        found: StatusEvent = await wait_until(gone, what="the prompt to leave the screen")
        return found

    def _first_prompt(self) -> StatusEvent:
        return next(e for e in self.events if e.status is AgentStatus.PROMPT)


async def _ask(gateway: UnifiedICC, world: World, command: str) -> tuple[WindowInfo, StatusEvent]:
    statuses = Statuses(gateway)
    window = await gateway.create_window(world.workspace, "claude")
    await wait_until(lambda: world.agent_entries("started"), what="the agent to start")
    await gateway.send_to_window(window.window_id, f"ASK: {command}")
    return window, await statuses.wait_for_prompt()


async def test_permission_prompt_becomes_a_status_with_the_clis_options(
    gateway: UnifiedICC, world: World
) -> None:
    window, event = await _ask(gateway, world, "touch approved.txt")

    prompt = event.prompt
    assert event.window_id == window.window_id
    assert prompt is not None
    assert (prompt.kind, prompt.title) == (PromptKind.PERMISSION, "Bash command")
    assert "touch approved.txt" in prompt.body
    assert [(o.number, o.label, o.selected) for o in prompt.options] == [
        (1, "Yes", True),
        (2, "Yes, and always allow access to this folder from this project", False),
        (3, "No", False),
    ]


async def test_answer_prompt_yes_runs_the_command_and_the_prompt_leaves(
    gateway: UnifiedICC, world: World
) -> None:
    statuses = Statuses(gateway)
    window, _ = await _ask(gateway, world, "touch approved.txt")

    answered = await gateway.answer_prompt(window.window_id, 1)

    assert answered.title == "Bash command"
    await wait_until(lambda: (world.workspace / "approved.txt").exists(), what="the file")
    gone = await statuses.wait_for_prompt_gone()
    assert gone.status is AgentStatus.IDLE


async def test_answer_prompt_no_runs_nothing(gateway: UnifiedICC, world: World) -> None:
    window, _ = await _ask(gateway, world, "touch refused.txt")

    await gateway.answer_prompt(window.window_id, 3)

    answers = await wait_until(lambda: world.agent_entries("answer"), what="the answer")
    assert answers[0]["choice"] == "3"
    assert not (world.workspace / "refused.txt").exists()


async def test_answer_prompt_refuses_an_option_not_on_screen_and_sends_nothing(
    gateway: UnifiedICC, world: World
) -> None:
    window, _ = await _ask(gateway, world, "touch never.txt")

    with pytest.raises(InvalidOptionError, match="option 7 is not on screen; reply with one of "
                       "1, 2, 3") as caught:  # fmt: skip
        await gateway.answer_prompt(window.window_id, 7)

    assert caught.value.valid == (1, 2, 3)
    assert world.agent_entries("answer") == []
    assert "Do you want to proceed?" in await gateway.capture_pane(window.window_id)


async def test_answer_prompt_without_a_prompt_on_screen_says_so(
    gateway: UnifiedICC, world: World
) -> None:
    window = await gateway.create_window(world.workspace, "claude")
    await wait_until(lambda: world.agent_entries("started"), what="the agent to start")

    with pytest.raises(NoPromptError, match="no prompt on the screen"):
        await gateway.answer_prompt(window.window_id, 1)


async def test_prompt_answered_in_the_terminal_is_reported_as_gone(
    gateway: UnifiedICC, world: World
) -> None:
    statuses = Statuses(gateway)
    window, _ = await _ask(gateway, world, "touch at-desk.txt")

    world.tmux("send-keys", "-t", window.window_id, "2")

    gone = await statuses.wait_for_prompt_gone()
    assert gone.window_id == window.window_id
    assert (world.workspace / "at-desk.txt").exists()


async def test_text_sent_while_a_prompt_waits_is_refused_and_not_typed(
    gateway: UnifiedICC, world: World
) -> None:
    window, _ = await _ask(gateway, world, "touch untouched.txt")

    with pytest.raises(PromptPendingError, match="answer it with a number first"):
        await gateway.send_to_window(window.window_id, "1 please")

    assert world.agent_entries("answer") == []
    assert not (world.workspace / "untouched.txt").exists()
