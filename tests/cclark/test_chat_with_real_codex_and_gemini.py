"""A chat driving the real Codex and Gemini CLIs: the wizard, replies, permission cards, answers.

The same ring as test_chat_with_real_claude.py: ``python -m cclark`` with the real lark-oapi
SDK against the Feishu emulator, a private tmux server, and the pinned CLI talking to the fake
model API on 127.0.0.1. Each turn must end with exactly one "✅" notice, and no turn's card may
show another turn's output.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chat_view import card_text, colour
from fakes.model_apis import Reply
from feishu_emulator import Emulator
from real_chat import CHAT, RealChat, real_chat
from support import World, wait_until

pytestmark = pytest.mark.e2e

# Each CLI's own first option (it runs the command) and the refusal it lists last.
OPTIONS = {
    "codex": ("**1.** Yes, proceed", "No, and tell Codex what to do differently"),
    "gemini": ("**1.** Allow once", "No, suggest changes"),
}


@pytest.fixture(params=["codex", "gemini"])
async def chat(
    request: pytest.FixtureRequest, world: World, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RealChat]:
    async with real_chat(world, emu, monkeypatch, request.param) as opened:
        yield opened


async def test_a_chat_drives_the_cli_through_a_reply_an_approval_and_a_refusal(
    chat: RealChat,
) -> None:
    # A quick reply: its card, then one done notice quoting it; the card turns green.
    before, done = await chat.turn("Say hello")
    assert done == f"✅ {chat.provider} · demo: FAKE-REPLY: you said 'Say hello'"
    reply = await chat.card("FAKE-REPLY: you said 'Say hello'")
    await wait_until(lambda: colour(chat.emu.message(reply.message_id).body()) == "green",
                     what="the reply's card to turn green")  # fmt: skip

    # A shell command asks first with the CLI's own options; 1 runs it.
    yes, no = OPTIONS[chat.provider]
    before = await chat.say("BASH: touch chat-approved.txt")
    chat.turns += 1
    asked = await chat.prompt_card("touch chat-approved.txt")
    asked_text = card_text(asked.body())
    assert colour(asked.body()) == "orange"
    assert yes in asked_text, asked_text
    refusal = next(line for line in asked_text.splitlines() if no in line)
    await chat.say("1")
    await chat.card("You chose **1.**", message_id=asked.message_id)
    await wait_until((chat.demo / "chat-approved.txt").exists, what="the approved file")
    await chat.done(before)

    # The refusal, by its number: nothing runs; the turn's card shows only this turn.
    before = await chat.say("BASH: touch chat-refused.txt")
    chat.turns += 1
    refused = await chat.prompt_card("touch chat-refused.txt")
    number = refusal.split("**")[1].rstrip(".")
    await chat.say(number)
    await chat.card(f"You chose **{number}.** No", message_id=refused.message_id)
    notice = await chat.done(before)
    assert "Say hello" not in notice, notice
    assert "Tool finished" not in notice, notice
    assert not (chat.demo / "chat-refused.txt").exists()

    # The next turn still works, and every turn ended exactly once.
    _, done = await chat.turn("Say goodbye")
    assert done == f"✅ {chat.provider} · demo: FAKE-REPLY: you said 'Say goodbye'"
    cards = [card_text(m.body()) for m in chat.emu.messages_in(CHAT)
             if m.msg_type == "interactive"]  # fmt: skip
    assert sum("FAKE-REPLY: you said 'Say hello'" in text for text in cards) == 1
    assert len(chat.done_notices()) == chat.turns, chat.done_notices()


async def test_a_gemini_turn_pausing_between_two_steps_ends_once(
    world: World, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with real_chat(world, emu, monkeypatch, "gemini") as chat:
        # The model answers the tool's result only after a pause: the screen looks settled
        # for a moment, yet the turn is not over.
        chat.apis.force_reply("gemini", Reply(text="Step one.", command="touch step.txt"))
        chat.apis.force_reply("gemini", Reply(text="All steps done.", delay=4))
        before = await chat.say("run the steps")
        await chat.prompt_card("touch step.txt")
        await chat.say("1")
        assert await chat.done(before) == "✅ gemini · demo: All steps done."
        await wait_until((chat.demo / "step.txt").exists, what="the approved file")
        _, done = await chat.turn("Say again")
        assert done.endswith("FAKE-REPLY: you said 'Say again'")
        assert len(chat.done_notices()) == 2, chat.done_notices()
