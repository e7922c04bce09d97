"""A chat driving the real Codex and Gemini CLIs: the wizard, replies, permission cards, answers.

The same ring as test_chat_with_real_claude.py: ``python -m cclark`` with the real lark-oapi
SDK against the Feishu emulator, a private tmux server, and the pinned CLI talking to the fake
model API on 127.0.0.1. Each turn must end with exactly one "✅" notice, and no turn's card may
show another turn's output.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot_process import ALICE, Bot, card_with, next_text, reply_to
from chat_view import card_text, colour
from fakes.agent_homes import INHERITED_ENV_TO_DROP, kill_home_processes, seed_agent_home
from fakes.model_apis import FakeModelAPIs, Reply
from feishu_emulator import Emulator, Message
from support import World, wait_until

pytestmark = pytest.mark.e2e

CHAT = "oc_real"
# Each CLI's own first option (it runs the command) and the refusal it lists last.
OPTIONS = {
    "codex": ("**1.** Yes, proceed", "No, and tell Codex what to do differently"),
    "gemini": ("**1.** Allow once", "No, suggest changes"),
}


class Chat:
    def __init__(self, emu: Emulator, apis: FakeModelAPIs, demo: Path, provider: str) -> None:
        self.emu, self.apis, self.demo, self.provider = emu, apis, demo, provider
        self.turns = 0

    async def say(self, text: str) -> int:
        """Post text as Alice; returns how many sends the bot had made before it."""
        before = len(self.emu.sent)
        await self.emu.post_text(text, chat_id=CHAT, sender_open_id=ALICE)
        return before

    async def turn(self, text: str) -> tuple[int, str]:
        """Send a message that starts a turn; returns (sends before it, its done notice)."""
        before = await self.say(text)
        self.turns += 1
        return before, await self.done(before)

    async def done(self, before: int) -> str:
        return await next_text(self.emu, before, f"✅ {self.provider} · demo")

    def done_notices(self) -> list[str]:
        return [s.text for s in self.emu.sent if s.text and s.text.startswith("✅ ")]

    async def prompt_card(self, *needles: str) -> Message:
        return await card_with(self.emu, CHAT, "Reply with a number", *needles)


@pytest.fixture(params=["codex", "gemini"])
async def chat(
    request: pytest.FixtureRequest, world: World, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Chat]:
    provider: str = request.param
    for name in INHERITED_ENV_TO_DROP:
        monkeypatch.delenv(name, raising=False)
    demo = world.workspace / "demo"
    async with FakeModelAPIs() as apis:
        env = seed_agent_home(world.home, trusted_dirs=[demo], apis=apis)
        bot = Bot(world, emu)
        bot.write_config(real_agents={provider: env[provider]})
        bot.start()
        try:
            await emu.wait_connected(within=60)
            for step in ("#new", "#mkdir demo", "ok", provider):
                await reply_to(emu, step, chat=CHAT)
            started = await reply_to(emu, "standard", chat=CHAT)
            assert started.startswith(f"Session started: {provider} (standard) in {demo.resolve()}")
            yield Chat(emu, apis, demo, provider)
        finally:
            bot.stop()
            world.tmux("kill-server", check=False)
            await kill_home_processes(world.home)


async def test_a_chat_drives_the_cli_through_a_reply_an_approval_and_a_refusal(chat: Chat) -> None:
    # A quick reply: its card, then one done notice quoting it; the card turns green.
    before, done = await chat.turn("Say hello")
    assert done == f"✅ {chat.provider} · demo: FAKE-REPLY: you said 'Say hello'"
    reply = await card_with(chat.emu, CHAT, "FAKE-REPLY: you said 'Say hello'")
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
    await card_with(chat.emu, CHAT, "You chose **1.**", message_id=asked.message_id)
    await wait_until((chat.demo / "chat-approved.txt").exists, what="the approved file")
    await chat.done(before)

    # The refusal, by its number: nothing runs; the turn's card shows only this turn.
    before = await chat.say("BASH: touch chat-refused.txt")
    chat.turns += 1
    refused = await chat.prompt_card("touch chat-refused.txt")
    number = refusal.split("**")[1].rstrip(".")
    await chat.say(number)
    await card_with(chat.emu, CHAT, f"You chose **{number}.** No", message_id=refused.message_id)
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


async def test_a_turn_pausing_between_two_steps_ends_once(chat: Chat) -> None:
    # The model answers the tool's result only after a pause: the screen looks settled for a
    # moment, yet the turn is not over.
    chat.apis.force_reply(chat.provider, Reply(text="Step one.", command="touch step.txt"))
    chat.apis.force_reply(chat.provider, Reply(text="All steps done.", delay=4))
    before = await chat.say("run the steps")
    await chat.prompt_card("touch step.txt")
    await chat.say("1")
    assert await chat.done(before) == f"✅ {chat.provider} · demo: All steps done."
    await wait_until((chat.demo / "step.txt").exists, what="the approved file")
    _, done = await chat.turn("Say again")
    assert done.endswith("FAKE-REPLY: you said 'Say again'")
    assert len(chat.done_notices()) == 2, chat.done_notices()
