"""Text and keys reach the agent exactly as sent (real tmux, scripted fake agent)."""

from __future__ import annotations

import asyncio

import pytest

from support import World, wait_until
from unified_icc import AgentStatus, InputRejectedError, UnifiedICC, WindowInfo

pytestmark = pytest.mark.integration

HOSTILE = "C-c Enter ; $(touch /tmp/pwned) `id` 'single' \"double\" \\back 你好世界 🎉🚀 end"


async def _open(gateway: UnifiedICC, world: World) -> WindowInfo:
    window = await gateway.create_window(world.workspace, "shell")
    await wait_until(lambda: world.agent_entries("started"), what="the fake agent to start")
    return window


async def _submissions(world: World, count: int) -> list[str]:
    entries = await wait_until(
        lambda: len(world.agent_entries("submit")) >= count and world.agent_entries("submit"),
        what=f"{count} submission(s) to reach the agent",
    )
    return [entry["text"] for entry in entries]


async def test_send_to_window_delivers_hostile_text_literally_and_screen_shows_it(
    gateway: UnifiedICC, world: World
) -> None:
    window = await _open(gateway, world)

    await gateway.send_to_window(window.window_id, HOSTILE)

    assert await _submissions(world, 1) == [HOSTILE]
    screen = await wait_until(
        lambda: _screen_with(gateway, window, "got: "), what="the echo on screen"
    )
    assert f"got: {HOSTILE}" in screen
    assert not (world.root / "pwned").exists()


async def _screen_with(gateway: UnifiedICC, window: WindowInfo, needle: str) -> str | None:
    screen = await gateway.capture_pane(window.window_id)
    return screen if needle in screen else None


async def test_send_to_window_delivers_multiline_text_as_one_submission(
    gateway: UnifiedICC, world: World
) -> None:
    window = await _open(gateway, world)
    text = "first line\n  indented second; $(x)\n\nfourth after a blank line 你好"

    await gateway.send_to_window(window.window_id, text)

    assert await _submissions(world, 1) == [text]


async def test_send_to_window_delivers_twenty_thousand_characters_intact(
    gateway: UnifiedICC, world: World
) -> None:
    window = await _open(gateway, world)
    text = "".join(f"{i:05d}:字{chr(0x41 + i % 26)} " for i in range(2500))[:20_000]
    assert len(text) == 20_000

    await gateway.send_to_window(window.window_id, text)

    assert await _submissions(world, 1) == [text]


async def test_concurrent_sends_to_one_window_never_interleave(
    gateway: UnifiedICC, world: World
) -> None:
    window = await _open(gateway, world)
    texts = [f"{label * 3000}\n{label} tail" for label in "ABCD"]

    await asyncio.gather(*(gateway.send_to_window(window.window_id, t) for t in texts))

    assert sorted(await _submissions(world, 4)) == sorted(texts)


async def test_send_key_presses_named_keys_and_digits(gateway: UnifiedICC, world: World) -> None:
    window = await _open(gateway, world)

    for key in ("Escape", "C-c", "Up", "down", "esc"):
        await gateway.send_key(window.window_id, key)
    await gateway.send_key(window.window_id, "2")
    await gateway.send_key(window.window_id, "Enter")

    keys = await wait_until(
        lambda: len(world.agent_entries("key")) >= 5 and world.agent_entries("key"),
        what="five keys",
    )
    assert [k["key"] for k in keys] == ["Escape", "C-c", "Up", "Down", "Escape"]
    assert await _submissions(world, 1) == ["2"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("a" * 100_001, "limit is 100000"),
        ("esc \x1b[201~ sneaks out", r"U\+001B"),
    ],
)
async def test_send_to_window_refuses_bad_text_and_types_nothing(
    gateway: UnifiedICC, world: World, text: str, reason: str
) -> None:
    window = await _open(gateway, world)

    with pytest.raises(InputRejectedError, match=reason):
        await gateway.send_to_window(window.window_id, text)

    await gateway.send_to_window(window.window_id, "after")
    assert await _submissions(world, 1) == ["after"]


async def test_send_key_refuses_unknown_key_names(gateway: UnifiedICC, world: World) -> None:
    window = await _open(gateway, world)

    with pytest.raises(InputRejectedError, match=r"unknown key 'Hyper-x'.*Escape"):
        await gateway.send_key(window.window_id, "Hyper-x")


async def test_capture_pane_with_ansi_keeps_escape_sequences(
    gateway: UnifiedICC, world: World
) -> None:
    window = await _open(gateway, world)
    await gateway.send_to_window(window.window_id, "colour check")
    await wait_until(lambda: _screen_with(gateway, window, "got: colour"), what="the echo")

    plain = await gateway.capture_pane(window.window_id)
    ansi = await gateway.capture_pane(window.window_id, ansi=True)

    assert "fake agent ready" in plain
    assert "\x1b[" not in plain
    assert "\x1b[" in ansi
    assert "got: colour check" in ansi


async def test_interrupt_takes_back_a_prompt_claude_refills_a_moment_after_it_stopped(
    gateway: UnifiedICC, world: World
) -> None:
    window = await gateway.create_window(world.workspace, "claude")
    await gateway.send_to_window(window.window_id, "WAIT: a long job")
    await wait_until(lambda: gateway.status_of(window.window_id)[0] is AgentStatus.WORKING,
                     what="the agent at work")  # fmt: skip

    taken_back = await gateway.interrupt(window.window_id)
    await gateway.send_to_window(window.window_id, "something else")

    assert taken_back is True
    assert [e["text"] for e in world.agent_entries("interrupted")] == ["WAIT: a long job"]
    submitted = await _submissions(world, 2)
    assert submitted[-1] == "something else"  # not "WAIT: a long jobsomething else"
