"""Session ids from hooks, transcripts delivered once, /clear, and a gateway killed mid-turn.

The agent is tests/fakes/fake_claude.py launched through the real Claude provider: it takes
our --settings and --session-id, runs the hooks we declared, and writes Claude-shaped JSONL.
"""

from __future__ import annotations

from typing import Any

import pytest

from support import (
    World,
    delivered_by_driver,
    kill_gateway_driver,
    start_gateway_driver,
    wait_until,
)
from unified_icc import (
    AgentMessageEvent,
    ChannelId,
    MessageKind,
    StatusEvent,
    UnifiedICC,
    WindowInfo,
)

pytestmark = pytest.mark.integration

CHAT = ChannelId("feishu:default:oc_watch")


class Inbox:
    """Collects AgentMessageEvents and answers what a chat would have been shown."""

    def __init__(self, gateway: UnifiedICC) -> None:
        self.events: list[AgentMessageEvent] = []
        gateway.on_message(self._collect)

    async def _collect(self, event: AgentMessageEvent) -> None:
        self.events.append(event)

    def texts(self) -> list[tuple[str, str]]:
        return [(m.role.value, m.text) for e in self.events for m in e.messages]

    async def wait_for_text(self, text: str) -> AgentMessageEvent:
        def find() -> AgentMessageEvent | None:
            return next((e for e in self.events if any(m.text == text for m in e.messages)),
                        None)  # fmt: skip

        found: AgentMessageEvent = await wait_until(find, what=f"a message {text!r}")
        return found


async def _claude_window(gateway: UnifiedICC, world: World) -> WindowInfo:
    window = await gateway.create_window(world.workspace, "claude", channel_id=CHAT)
    await wait_until(lambda: world.agent_entries("started"), what="the agent to start")
    await wait_until(lambda: gateway.window_info(window.window_id).session_id and
                     gateway.window_store.by_window(window.window_id).transcript_path,
                     what="the SessionStart hook")  # fmt: skip
    return window


async def test_session_id_is_the_one_we_launched_with_and_hooks_report_its_transcript(
    gateway: UnifiedICC, world: World
) -> None:
    window = await _claude_window(gateway, world)

    started = world.agent_entries("started")[0]
    launched = started["argv"][started["argv"].index("--session-id") + 1]
    assert gateway.monitor.detect_session_id(window.window_id) == launched
    record = gateway.window_store.by_window(window.window_id)
    assert record.transcript_path.endswith(f"/.claude/projects/{_encoded(world)}/{launched}.jsonl")
    assert "--settings" in started["argv"]
    assert not (world.home / ".claude" / "settings.json").exists()


def _encoded(world: World) -> str:
    return "".join(c if c.isalnum() else "-" for c in str(world.workspace.resolve()))


async def test_prompt_and_reply_arrive_as_one_event_each_read_with_session_and_channel(
    gateway: UnifiedICC, world: World
) -> None:
    inbox = Inbox(gateway)
    window = await _claude_window(gateway, world)

    await gateway.send_to_window(window.window_id, "hello there")

    event = await inbox.wait_for_text("FAKE-REPLY: you said 'hello there'")
    assert event.window_id == window.window_id
    assert event.channel_ids == (CHAT,)
    assert event.session_id == gateway.monitor.detect_session_id(window.window_id)
    assert inbox.texts() == [("user", "hello there"),
                             ("assistant", "FAKE-REPLY: you said 'hello there'")]  # fmt: skip
    assert [m.kind for e in inbox.events for m in e.messages] == [MessageKind.TEXT] * 2
    assert [s["text"] for s in world.agent_entries("submit")] == ["hello there"]


async def test_a_turn_whose_transcript_is_written_after_its_stop_hook_ends_after_its_messages(
    gateway: UnifiedICC, world: World
) -> None:
    seen: list[Any] = []
    gateway.on_message(_append_to(seen))
    gateway.on_status(_append_to(seen))
    window = await _claude_window(gateway, world)

    await gateway.send_to_window(window.window_id, "LATE: hello")

    def ended() -> int | None:
        return next((i for i, e in enumerate(seen) if isinstance(e, StatusEvent)
                     and e.turn_ended), None)  # fmt: skip

    end = await wait_until(ended, what="the turn's end")
    reply = "FAKE-REPLY: you said 'LATE: hello'"
    replies = [i for i, e in enumerate(seen) if isinstance(e, AgentMessageEvent)
               and any(m.text == reply for m in e.messages)]  # fmt: skip
    assert replies, "the turn ended before its prompt and reply were read"
    assert replies[0] < end


async def test_clear_moves_the_window_to_the_new_session_and_later_output_arrives(
    gateway: UnifiedICC, world: World
) -> None:
    inbox = Inbox(gateway)
    window = await _claude_window(gateway, world)
    await gateway.send_to_window(window.window_id, "before")
    await inbox.wait_for_text("FAKE-REPLY: you said 'before'")
    first = gateway.monitor.detect_session_id(window.window_id)

    await gateway.send_key(window.window_id, "Escape")  # any key traffic is fine before /clear
    await _send_without_hook_check(world, window, "/clear")
    second = await wait_until(
        lambda: (sid := gateway.monitor.detect_session_id(window.window_id)) != first and sid,
        what="the session to change",
    )
    await gateway.send_to_window(window.window_id, "after")

    event = await inbox.wait_for_text("FAKE-REPLY: you said 'after'")
    assert event.session_id == second
    assert inbox.texts().count(("assistant", "FAKE-REPLY: you said 'before'")) == 1
    record = gateway.window_store.by_window(window.window_id)
    assert record.transcript_path.endswith(f"{second}.jsonl")


async def _send_without_hook_check(world: World, window: WindowInfo, text: str) -> None:
    # /clear submits no prompt (so no UserPromptSubmit hook), like the real CLI.
    world.tmux("send-keys", "-t", window.window_id, "-l", text)
    world.tmux("send-keys", "-t", window.window_id, "Enter")


async def test_gateway_killed_mid_turn_delivers_the_rest_once_after_restart(
    world: World,
) -> None:
    world.write_config_yaml()
    async with UnifiedICC() as first:
        window = await _claude_window(first, world)
    driver = start_gateway_driver()
    try:
        _type(world, window.window_id, "PARTS: 3")
        await wait_until(lambda: "part 1 of 3" in delivered_by_driver(world.config_dir),
                         what="part 1")  # fmt: skip
    finally:
        kill_gateway_driver(driver)
    world.gate.touch()
    await wait_until(lambda: len(world.agent_entries("part")) == 3, what="the agent to finish")

    inbox_events: list[AgentMessageEvent] = []
    restarted = UnifiedICC()
    restarted.on_message(_append_to(inbox_events))
    async with restarted:
        texts = [m.text for e in inbox_events for m in e.messages]
    assert texts == ["part 2 of 3", "part 3 of 3"]
    assert delivered_by_driver(world.config_dir) == ["PARTS: 3", "part 1 of 3"]


def _type(world: World, window_id: str, text: str) -> None:
    world.tmux("send-keys", "-t", window_id, "-l", text)
    world.tmux("send-keys", "-t", window_id, "Enter")


def _append_to(into: list[Any]) -> Any:
    async def append(event: Any) -> None:
        into.append(event)

    return append
