"""Idle agents sleep and wake, exited agents resume, long turns stop: on real tmux.

The agents are tests/fakes/fake_claude.py through the real Claude provider (it takes
``--resume <id>`` like the real CLI and appends to the same transcript) and a real bash.
"""

from __future__ import annotations

from typing import Any

import pytest

from support import World, wait_until
from unified_icc import (
    AgentMessageEvent,
    ChannelId,
    UnifiedICC,
    WindowChange,
    WindowDeadError,
    WindowEvent,
    WindowId,
    WindowInfo,
    WindowRunningError,
)

pytestmark = pytest.mark.integration

CHAT = ChannelId("feishu:default:oc_sleepy")


class Seen:
    """What the gateway reported: window events and the texts of agent messages."""

    def __init__(self, gateway: UnifiedICC) -> None:
        self.windows: list[WindowEvent] = []
        self.messages: list[AgentMessageEvent] = []
        gateway.on_window_change(self._window)
        gateway.on_message(self._message)

    async def _window(self, event: WindowEvent) -> None:
        self.windows.append(event)

    async def _message(self, event: AgentMessageEvent) -> None:
        self.messages.append(event)

    def texts(self) -> list[str]:
        return [m.text for e in self.messages for m in e.messages]

    def kinds(self) -> list[WindowChange]:
        return [e.kind for e in self.windows if e.kind is not WindowChange.CREATED]

    async def event(self, kind: WindowChange, count: int = 1) -> WindowEvent:
        def found() -> WindowEvent | None:
            matching = [e for e in self.windows if e.kind is kind]
            return matching[count - 1] if len(matching) >= count else None

        event: WindowEvent = await wait_until(found, what=f"WindowEvent {kind.value} #{count}")
        return event


async def _claude(gateway: UnifiedICC, world: World, **limits: Any) -> WindowInfo:
    window = await gateway.create_window(world.workspace, "claude", channel_id=CHAT, **limits)
    await wait_until(lambda: world.agent_entries("started"), what="the agent to start")
    return window


def _pane_dead(world: World, window: WindowId) -> bool:
    shown = world.tmux("display-message", "-p", "-t", window, "#{pane_dead}")
    return shown.stdout.strip() == "1"


def _argvs(world: World) -> list[list[str]]:
    return [entry["argv"] for entry in world.agent_entries("started")]


async def test_an_idle_agent_sleeps_and_the_next_message_resumes_its_session(
    world: World,
) -> None:
    async with UnifiedICC(world.config()) as gateway:
        seen = Seen(gateway)
        window = await _claude(gateway, world, idle_timeout=1)
        session = await wait_until(lambda: gateway.window_info(window.window_id).session_id,
                                   what="the session id")  # fmt: skip
        await gateway.send_to_window(window.window_id, "first words")
        await wait_until(lambda: "FAKE-REPLY: you said 'first words'" in seen.texts(),
                         what="the first reply")  # fmt: skip

        asleep = await seen.event(WindowChange.ASLEEP)
        assert asleep.channel_ids == (CHAT,)
        assert "idle for 1 s" in asleep.reason
        assert _pane_dead(world, window.window_id)
        info = gateway.window_info(window.window_id)
        assert (info.asleep, info.dead, info.session_id) == (True, True, session)
        assert gateway.channel_router.resolve_window(CHAT) == window.window_id
        assert WindowChange.DIED not in seen.kinds()  # sleep is not a death

        await gateway.send_to_window(window.window_id, "second words")

        resumed = await seen.event(WindowChange.RESUMED)
        assert resumed.reason == f"session {session} reopened"
        await wait_until(lambda: "FAKE-REPLY: you said 'second words'" in seen.texts(),
                         what="the reply after waking")  # fmt: skip
        assert _argvs(world)[-1][-4:-2] == ["--resume", session]
        assert seen.texts().count("FAKE-REPLY: you said 'first words'") == 1
        assert gateway.window_info(window.window_id).session_id == session


async def test_an_exited_agent_resumes_in_its_window_keeping_its_chat(world: World) -> None:
    async with UnifiedICC(world.config()) as gateway:
        seen = Seen(gateway)
        window = await _claude(gateway, world)
        await gateway.send_to_window(window.window_id, "before exit")
        await wait_until(lambda: "FAKE-REPLY: you said 'before exit'" in seen.texts(),
                         what="the reply")  # fmt: skip
        with pytest.raises(WindowRunningError):
            await gateway.resume_window(window.window_id)

        await gateway.send_to_window(window.window_id, "/exit")
        died = await seen.event(WindowChange.DIED)
        assert died.exit_status == 0
        assert gateway.channel_router.resolve_window(CHAT) == window.window_id
        with pytest.raises(WindowDeadError, match="resume it or start a new session"):
            await gateway.send_to_window(window.window_id, "too early")

        info = await gateway.resume_window(window.window_id)

        assert (info.window_id, info.dead, info.asleep) == (window.window_id, False, False)
        await gateway.send_to_window(window.window_id, "after resume")
        await wait_until(lambda: "FAKE-REPLY: you said 'after resume'" in seen.texts(),
                         what="the reply after resuming")  # fmt: skip
        assert seen.texts().count("FAKE-REPLY: you said 'before exit'") == 1
        assert gateway.channel_router.resolve_window(CHAT) == window.window_id


async def test_a_window_showing_a_prompt_is_not_put_to_sleep(world: World) -> None:
    async with UnifiedICC(world.config()) as gateway:
        window = await _claude(gateway, world)
        await gateway.send_to_window(window.window_id, "ASK: touch nothing")
        await wait_until(lambda: gateway.status_of(window.window_id)[1], what="the prompt")

        assert await gateway.sleep_window(window.window_id) is False

        assert not _pane_dead(world, window.window_id)
        await gateway.answer_prompt(window.window_id, 2)
        assert await wait_until(lambda: gateway.sleep_window(window.window_id), what="sleep")
        assert _pane_dead(world, window.window_id)


def _box_holds(world: World, window: WindowId, text: str) -> bool:
    return text in world.tmux("capture-pane", "-p", "-t", window).stdout


async def test_a_sleeping_agent_stays_asleep_and_bound_across_a_gateway_restart(
    world: World,
) -> None:
    async with UnifiedICC(world.config()) as first:
        seen = Seen(first)
        window = await _claude(first, world)
        await first.send_to_window(window.window_id, "remember me")
        await wait_until(lambda: "FAKE-REPLY: you said 'remember me'" in seen.texts(),
                         what="the reply")  # fmt: skip
        await wait_until(lambda: first.sleep_window(window.window_id), what="sleep")

    async with UnifiedICC(world.config()) as second:
        seen = Seen(second)
        assert second.channel_router.resolve_window(CHAT) == window.window_id
        assert second.window_info(window.window_id).asleep
        await second.send_to_window(window.window_id, "still there?")
        await wait_until(lambda: "FAKE-REPLY: you said 'still there?'" in seen.texts(),
                         what="the reply after waking")  # fmt: skip
        assert "FAKE-REPLY: you said 'remember me'" not in seen.texts()
        assert seen.kinds() == [WindowChange.RESUMED]


async def test_a_shell_sleeps_and_wakes_as_a_new_shell_in_its_folder(world: World) -> None:
    folder = world.workspace / "here"
    folder.mkdir()
    async with UnifiedICC(world.bash_config(idle_timeout=1)) as gateway:
        seen = Seen(gateway)
        window = await gateway.create_window(folder, "shell", channel_id=CHAT)
        asleep = await seen.event(WindowChange.ASLEEP)
        assert "idle for 1 s" in asleep.reason

        await gateway.send_to_window(window.window_id, "echo woke-in-$(basename $PWD)")

        resumed = await seen.event(WindowChange.RESUMED)
        assert resumed.reason == f"a new shell in {folder}"
        await wait_until(lambda: any("woke-in-here" in t for t in seen.texts()),
                         what="the command's output")  # fmt: skip


async def test_a_turn_past_its_limit_is_interrupted_and_reported(world: World) -> None:
    async with UnifiedICC(world.bash_config()) as gateway:
        seen = Seen(gateway)
        window = await gateway.create_window(world.workspace, "shell", turn_timeout=1)
        marker = world.workspace / "after-the-sleep"
        await wait_until(lambda: _box_holds(world, window.window_id, "$"), what="a prompt")

        await gateway.send_to_window(window.window_id, f"sleep 300; touch {marker}")

        stopped = await seen.event(WindowChange.TURN_TIMED_OUT)
        assert stopped.reason == "the turn ran longer than 1 s"
        await gateway.send_to_window(window.window_id, "echo free-$((40 + 2))")
        await wait_until(lambda: any("free-42" in t for t in seen.texts()), what="the next one")
        assert not marker.exists()


async def test_a_turn_without_new_output_is_reported_once_and_left_running(world: World) -> None:
    async with UnifiedICC(world.bash_config(stall_notice=1)) as gateway:
        seen = Seen(gateway)
        window = await gateway.create_window(world.workspace, "shell")
        await wait_until(lambda: _box_holds(world, window.window_id, "$"), what="a prompt")

        await gateway.send_to_window(window.window_id, "sleep 4; echo slept-$((40 + 2))")

        stalled = await seen.event(WindowChange.STALLED)
        assert stalled.reason == "no new output for 1 s"
        await wait_until(lambda: any("slept-42" in t for t in seen.texts()), what="its output")
        assert seen.kinds().count(WindowChange.STALLED) == 1
