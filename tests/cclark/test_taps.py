"""Taps on the bot's card buttons, through the emulator and the real SDK, as a person makes them.

The bot runs as ``python -m cclark`` (fake agents); a tap is ``card.action.trigger`` over the
long connection, and what the person sees is the toast and the card the ack carries.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot_process import ALICE, MALLORY, Bot, bot_with_window, card_with, reply_to
from chat_view import buttons, card_text, colour
from feishu_emulator import Emulator, Message
from support import World, wait_until
from unified_icc import ChannelId, UnifiedICC, load_config

pytestmark = pytest.mark.e2e

CHAT = "oc_taps"


def newest_card(emu: Emulator, chat: str, needle: str) -> Message | None:
    """The newest card in chat that shows needle, as it stands now."""
    cards = [m for m in emu.messages_in(chat) if m.msg_type == "interactive"]
    return next((m for m in reversed(cards) if needle in card_text(m.body())), None)


async def question(emu: Emulator, needle: str, *, chat: str = CHAT) -> Message:
    """The newest card in chat showing needle that still has buttons to tap."""

    def found() -> Message | None:
        card = newest_card(emu, chat, needle)
        return card if card is not None and buttons(card.body()) else None

    card: Message = await wait_until(found, within=30, what=f"a card with {needle!r}")
    return card


async def tap(emu: Emulator, card: Message, label: str, *, who: str = ALICE) -> str:
    """Tap the button labelled label on card; the toast the person sees."""
    clicked = await emu.click(card.message_id, buttons(card.body())[label], operator_open_id=who)
    assert clicked.answered, f"no answer to the tap on {label!r} within 3 s"
    return clicked.toast_text


def audit_lines(world: World) -> list[dict[str, Any]]:
    path = world.config_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_the_new_wizard_is_done_by_taps_and_the_shell_answers(
    bot: Bot, emu: Emulator, world: World
) -> None:
    demo, gone = world.workspace / "demo", world.workspace / "gone"
    demo.mkdir()
    gone.mkdir()
    await emu.post_text("#new", chat_id=CHAT, sender_open_id=ALICE)
    root = await question(emu, f"Folder: {world.workspace.resolve()}")
    gone.rmdir()  # listed, then removed before the tap: the step refuses, its card stays
    await tap(emu, root, "📁 gone")
    refusal = await wait_until(lambda: _said(emu, f"{gone}"), what="the refusal")
    assert refusal == f"{gone} is not a folder."
    assert "📁 demo" in buttons(emu.message(root.message_id).body())

    assert await tap(emu, root, "📁 demo") == "📁 demo"
    tapped = (await card_with(emu, CHAT, "→ 📁 demo", message_id=root.message_id)).body()
    assert buttons(tapped) == {}
    assert await tap(emu, await question(emu, f"Folder: {demo.resolve()}"),
                     "✅ Use this folder") == "✅ Use this folder"  # fmt: skip
    await tap(emu, await question(emu, "Which agent"), "shell")
    started = await wait_until(lambda: _said(emu, "Session started"), what="the session")
    await wait_until(lambda: world.agent_entries("started"), what="the agent reading its input")
    await emu.post_text("hello shell", chat_id=CHAT, sender_open_id=ALICE)

    submitted = await wait_until(lambda: world.agent_entries("submit"), what="the text")
    assert started.startswith(f"Session started: shell in {demo.resolve()}")
    assert submitted[0]["text"] == "hello shell"
    assert [e["cwd"] for e in world.agent_entries("started")] == [str(demo.resolve())]


async def test_a_stale_card_a_stranger_and_a_repushed_tap_change_nothing(
    bot: Bot, emu: Emulator, world: World
) -> None:
    await emu.post_text("#new", chat_id=CHAT, sender_open_id=ALICE)
    first = await question(emu, "Folder:")
    stale = buttons(first.body())["✅ Use this folder"]
    await tap(emu, first, "✅ Use this folder")
    providers = await question(emu, "Which agent")

    again = await emu.click(first.message_id, stale, operator_open_id=ALICE)
    stranger = await tap(emu, providers, "shell", who=MALLORY)
    forwarded = await emu.click(providers.message_id,
                                {**buttons(providers.body())["shell"], "c": "feishu:main:oc_else"},
                                operator_open_id=ALICE)  # fmt: skip
    chosen = await emu.click(providers.message_id, buttons(providers.body())["shell"],
                             operator_open_id=ALICE)  # fmt: skip
    await emu.redeliver(chosen.event_id)
    repeated = await emu.wait_for_acks(chosen.event_id, 2)

    assert again.toast_text.startswith("That step is done")
    assert stranger == "You are not on this bot's allowlist: nothing was done."
    assert forwarded.toast_text.startswith("This card belongs to another chat")
    assert chosen.toast_text == "shell"
    assert json.loads(repeated[1].data or "{}")["toast"]["content"].startswith("Already received")
    await wait_until(lambda: world.agent_entries("started"), what="the shell")
    started = [s.text for s in emu.sent if (s.text or "").startswith("Session started")]
    assert len(started) == 1
    refusals = [r for r in audit_lines(world) if r["kind"] == "refusal"]
    assert [(r["user"], r["detail"]) for r in refusals] == [
        (MALLORY, "card tap from a sender not on allowed_users"),
        (ALICE, "card tap on a card of another chat"),
    ]


async def test_a_prompt_button_answers_once_and_the_card_shows_who_chose(
    world: World, emu: Emulator
) -> None:
    running = await bot_with_window(world, emu, "claude", CHAT)
    try:
        await emu.wait_connected(within=60)
        await emu.post_text("ASK: touch tapped.txt", chat_id=CHAT, sender_open_id=ALICE)
        asked = await card_with(emu, CHAT, "Reply with a number", "touch tapped.txt")
        offered = list(buttons(asked.body()))
        stranger = await tap(emu, asked, offered[0], who=MALLORY)
        unchanged = emu.message(asked.message_id).body()
        chosen = await emu.click(asked.message_id, buttons(asked.body())[offered[0]],
                                 operator_open_id=ALICE)  # fmt: skip
        await wait_until((world.workspace / "tapped.txt").exists, what="the approved command")
        twice = await tap(emu, asked, offered[0])
        shown = await card_with(emu, CHAT, "You chose **1.**", message_id=asked.message_id)
    finally:
        running.stop()
    assert offered[0].startswith("1. Yes")
    assert stranger == "You are not on this bot's allowlist: nothing was done."
    assert colour(unchanged) == "orange"
    assert chosen.toast_text.startswith("Chose 1. Yes")
    assert chosen.card is not None
    assert "You chose **1.** Yes" in card_text(chosen.card)
    assert twice == "Already answered: You chose 1."
    assert colour(shown.body()) == "green"
    assert buttons(shown.body()) == {}
    answers = [r for r in audit_lines(world) if r["kind"] == "prompt_answer"]
    assert [(r["user"], r["detail"]) for r in answers] == [(ALICE, "1 (button)")]


async def test_a_tap_is_answered_in_time_while_the_gateway_and_feishu_are_busy(
    world: World, emu: Emulator
) -> None:
    # The fake "codex" never confirms a submission: typing into it holds its window for
    # seconds (Enter, wait, Enter again, wait), and the chat's queue with it.
    running = await bot_with_window(world, emu, "codex", CHAT)
    try:
        await emu.wait_connected(within=60)
        listed = await reply_to(emu, "#session list", chat=CHAT)
        card = await question(emu, "Sessions:")
        emu.slow_chat(CHAT, 5.0)  # and every Feishu call for this chat now takes 5 s
        await emu.post_text("take your time", chat_id=CHAT, sender_open_id=ALICE)
        await wait_until(lambda: world.agent_entries("submit"), what="the typing under way")
        clicked = await emu.click(card.message_id, buttons(card.body())["Close 1"],
                                  operator_open_id=ALICE)  # fmt: skip
        closed_at_ack = _said(emu, "Closed window")
        emu.slow_chat(CHAT, 0)
        closed = await wait_until(lambda: _said(emu, "Closed window"), what="the close")
    finally:
        running.stop()
    assert listed.startswith("Sessions:")
    assert clicked.answered
    assert clicked.seconds is not None
    assert clicked.seconds < 3.0
    assert clicked.toast_text.startswith("Closing window")
    assert closed_at_ack is None  # the close waited its turn behind the typing
    assert closed.startswith("Closed window @")


async def test_session_list_buttons_switch_and_close(world: World, emu: Emulator) -> None:
    running = Bot(world, emu)
    running.write_config()
    async with UnifiedICC(load_config()) as gateway:
        first, second = [
            await gateway.create_window(world.workspace, "shell",
                                        channel_id=ChannelId(f"feishu:main:{CHAT}"))
            for _ in range(2)
        ]  # fmt: skip
    running.start()
    try:
        await emu.wait_connected(within=60)
        listed_text = await reply_to(emu, "#session list", chat=CHAT)
        listed = await question(emu, "Sessions:")
        labels = list(buttons(listed.body()))
        switching = await tap(emu, listed, "Switch to 1")
        switched = await wait_until(lambda: _said(emu, "This chat now talks"), what="switch")
        closing = await tap(emu, listed, "Close 2")
        closed = await wait_until(lambda: _said(emu, "Closed window"), what="the close")
        after = await reply_to(emu, "#session list", chat=CHAT)
    finally:
        running.stop()
    assert listed_text.startswith("Sessions:\n1. shell")
    assert labels == ["Switch to 1", "Close 1", "Close 2"]
    assert switching == f"Switching to window {first.window_id}…"
    assert switched == f"This chat now talks to window {first.window_id}."
    assert closing == f"Closing window {second.window_id}…"
    assert closed == f"Closed window {second.window_id}."
    assert after.splitlines()[1:] == [
        f"1. shell (standard) in {world.workspace} (this chat)",
        "Send #session switch <n> or #session close <n>.",
    ]


def _said(emu: Emulator, start: str) -> str | None:
    return next((s.text for s in emu.sent if s.text and s.text.startswith(start)), None)


async def test_a_working_turns_card_has_key_buttons_until_the_turn_ends(
    world: World, emu: Emulator
) -> None:
    running = await bot_with_window(world, emu, "claude", CHAT)
    try:
        await emu.wait_connected(within=60)
        await emu.post_text("PARTS: 2", chat_id=CHAT, sender_open_id=ALICE)
        working = await question(emu, "part 1 of 2")
        offered = list(buttons(working.body()))
        shot = await tap(emu, working, "Screenshot")
        image = await wait_until(lambda: next((s for s in emu.sent if s.msg_type == "image"),
                                              None), what="the screenshot")  # fmt: skip
        stopping = await tap(emu, working, "Ctrl-C")
        world.gate.touch()
        done = await card_with(emu, CHAT, "✅ done", message_id=working.message_id)
    finally:
        running.stop()
    assert offered == ["Esc", "Screenshot", "Ctrl-C"]
    assert shot == "Taking a screenshot…"
    assert image.chat_id == CHAT
    assert stopping == "Sending Ctrl-C…"
    assert buttons(done.body()) == {}
    keystrokes = [r["detail"] for r in audit_lines(world) if r["kind"] == "keystrokes"]
    assert keystrokes[-1] == "<Ctrl-C> (button)"


async def test_taps_on_stale_cards_say_why_and_change_nothing(world: World, emu: Emulator) -> None:
    running = await bot_with_window(world, emu, "claude", CHAT)
    try:
        await emu.wait_connected(within=60)
        window = _agent_window(world)
        # Answered at the desk: the card says so, and a tap on it is told.
        await emu.post_text("ASK: touch at-the-desk.txt", chat_id=CHAT, sender_open_id=ALICE)
        desk = await card_with(emu, CHAT, "Reply with a number", "at-the-desk.txt")
        world.tmux("send-keys", "-t", window, "3")
        await card_with(emu, CHAT, "Answered in the terminal", message_id=desk.message_id)
        at_desk = await emu.click(desk.message_id, buttons(desk.body())["1. Yes"],
                                  operator_open_id=ALICE)  # fmt: skip
        # A card from before a restart: its question's id means nothing to the new process.
        await emu.post_text("ASK: touch after-restart.txt", chat_id=CHAT, sender_open_id=ALICE)
        old = await card_with(emu, CHAT, "Reply with a number", "after-restart.txt")
        running.stop()
        running.start()
        await emu.wait_connected(count=2, within=60)
        restarted = await emu.click(old.message_id, buttons(old.body())["1. Yes"],
                                    operator_open_id=ALICE)  # fmt: skip
        # The window gone (and the chat told): its card's keys do nothing.
        world.tmux("kill-window", "-t", window)
        await wait_until(lambda: _said(emu, "The agent's window is gone"), what="the notice")
        gone = await emu.click(old.message_id, {**buttons(old.body())["1. Yes"], "k": "key",
                                                "key": "esc"}, operator_open_id=ALICE)  # fmt: skip
    finally:
        running.stop()
    assert at_desk.toast_text == "Already answered in the terminal."
    assert at_desk.card is None
    assert restarted.toast_text.startswith("This card is from before the bot restarted")
    assert gone.toast_text.startswith(f"Window {window} is gone or not this chat's")
    assert not (world.workspace / "at-the-desk.txt").exists()
    assert not (world.workspace / "after-restart.txt").exists()


def _agent_window(world: World) -> str:
    """The tmux id of the one agent window (the gateway's quiet home window aside)."""
    listed = world.tmux("list-windows", "-a", "-F", "#{window_id} #{window_name}").stdout
    windows = [line.split()[0] for line in listed.splitlines() if not line.endswith(" home")]
    assert len(windows) == 1, listed
    return windows[0]
