"""A session's limits and lifecycle as a chat sees them: the real bot, the emulator, a real bash
and the real Claude CLI against the fake model API.

``#new --idle N --timeout N`` is read (or refused, changing nothing), the agent falls asleep
and the next message wakes it (Claude with its conversation), a turn past its limit is
interrupted, and an agent that exited offers a Resume button that starts it again in the same
window.
"""

from __future__ import annotations

import json
import re

import pytest

from bot_process import ALICE, Bot, card_with, next_text, reply_to
from chat_view import buttons
from fakes.agent_homes import INHERITED_ENV_TO_DROP, kill_home_processes, seed_agent_home
from fakes.model_apis import FakeModelAPIs
from feishu_emulator import Emulator
from support import World

pytestmark = pytest.mark.e2e

CHAT = "oc_sleepy"


async def test_new_with_limits_sleeps_wakes_stops_a_long_turn_and_resumes_an_exit(
    world: World, emu: Emulator
) -> None:
    marker = world.workspace / "after-the-sleep"
    bot = Bot(world, emu)
    bot.write_config(real_shell=True)
    bot.start()
    try:
        await emu.wait_connected(within=60)
        malformed = await reply_to(emu, "#new --idle soon", chat=CHAT)
        await reply_to(emu, "#new --idle 3 --timeout 2", chat=CHAT)
        await reply_to(emu, "ok", chat=CHAT)
        started = await reply_to(emu, "shell", chat=CHAT)
        window = re.search(r"window (@\d+)\.", started)
        asleep = await next_text(emu, 0, "is asleep")
        status = await reply_to(emu, "#status", chat=CHAT)

        before = len(emu.sent)
        await emu.post_text("echo woke-$((40 + 2))", chat_id=CHAT, sender_open_id=ALICE)
        woke = await next_text(emu, before, "is running again")
        await card_with(emu, CHAT, "woke-42")
        running = await reply_to(emu, "#resume", chat=CHAT)

        before = len(emu.sent)
        await emu.post_text(f"sleep 60; touch {marker}", chat_id=CHAT, sender_open_id=ALICE)
        stopped = await next_text(emu, before, "Interrupted")

        await emu.post_text("exit 3", chat_id=CHAT, sender_open_id=ALICE)
        ended = await card_with(emu, CHAT, "the agent has exited (status 3)")
        before = len(emu.sent)
        tapped = await emu.click(ended.message_id, buttons(ended.body())["▶️ Resume"],
                                 operator_open_id=ALICE)  # fmt: skip
        resumed = await next_text(emu, before, "is running again")
    finally:
        bot.stop()
    assert malformed.startswith("--idle 'soon': not a duration. Send #new [--idle N]")
    assert window is not None
    assert "Sleeps after 3 s idle (your next message wakes it); a turn is stopped after 2 s." in (
        started
    )
    assert asleep == ("💤 shell · workspace is asleep (idle for 3 s). Its conversation is kept: "
                      "your next message wakes it.")  # fmt: skip
    assert "Status: asleep (your next message wakes it)" in status
    assert woke == f"▶️ shell · workspace is running again: a new shell in {world.workspace}."
    assert running == f"The agent in window {window[1]} is running: there is nothing to resume."
    assert stopped.startswith("⏱ Interrupted: the turn ran longer than 2 s.")
    assert not marker.exists()
    assert tapped.toast_text == f"Resuming window {window[1]}…"
    assert resumed == woke
    assert "Traceback" not in bot.log.read_text()


async def test_claude_checked_then_stopped_past_its_turn_limit_sleeps_and_wakes_remembering(
    world: World, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in INHERITED_ENV_TO_DROP:
        monkeypatch.delenv(name, raising=False)
    async with FakeModelAPIs() as apis:
        env = seed_agent_home(world.home, trusted_dirs=[world.workspace], apis=apis)
        bot = Bot(world, emu)
        bot.write_config(real_claude=env["claude"])
        bot.start()
        try:
            await emu.wait_connected(within=60)
            checked = await bot.health("/health/claude")
            await reply_to(emu, "#new --idle 3 --timeout 8", chat=CHAT)
            await reply_to(emu, "ok", chat=CHAT)
            await reply_to(emu, "claude", chat=CHAT)
            started = await reply_to(emu, "standard", chat=CHAT)

            before = len(emu.sent)
            await emu.post_text("Remember the word PELICAN", chat_id=CHAT, sender_open_id=ALICE)
            await next_text(emu, before, "✅ claude · workspace")
            await emu.post_text("Take your time DELAY=60", chat_id=CHAT, sender_open_id=ALICE)
            stopped = await next_text(emu, before, "Interrupted")
            asleep = await next_text(emu, before, "is asleep")

            before = len(emu.sent)
            asked_before = len(apis.requests_for("claude"))
            await emu.post_text("Which word was it", chat_id=CHAT, sender_open_id=ALICE)
            woke = await next_text(emu, before, "is running again")
            answered = await next_text(emu, before, "✅ claude · workspace")
            resumed_requests = [json.dumps(r.body) for r in apis.requests_for("claude")
                                [asked_before:]]  # fmt: skip
        finally:
            bot.stop()
            world.tmux("kill-server", check=False)
            await kill_home_processes(world.home)
    status, body = checked
    assert (status, body["ok"], body["version"]) == (200, True, "2.1.197 (Claude Code)"), body
    assert "Sleeps after 3 s idle (your next message wakes it); a turn is stopped after 8 s." in (
        started
    )
    assert stopped.startswith("⏱ Interrupted: the turn ran longer than 8 s.")
    assert asleep.startswith("💤 claude · workspace is asleep (idle for 3 s).")
    assert woke.startswith("▶️ claude · workspace is running again")
    assert answered == "✅ claude · workspace: FAKE-REPLY: you said 'Which word was it'"
    # The resumed CLI sent the earlier conversation with the new question.
    assert any("PELICAN" in body and "Which word was it" in body for body in resumed_requests)
    assert "Traceback" not in bot.log.read_text()
