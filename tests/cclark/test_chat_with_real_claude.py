"""A chat driving the real Claude Code CLI: the wizard, turn cards, prompt cards and numbers.

The bot runs as ``python -m cclark`` with the real lark-oapi SDK against the Feishu emulator, a
private tmux server, and the pinned Claude CLI talking to the fake Anthropic API on 127.0.0.1.
One session walks the whole story, because each Claude start costs seconds.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from bot_process import ALICE, MALLORY, Bot, card_with, next_text, reply_to
from chat_view import buttons, card_text, colour
from fakes.agent_homes import INHERITED_ENV_TO_DROP, kill_home_processes, seed_agent_home
from fakes.model_apis import FakeModelAPIs, Reply
from feishu_emulator import Emulator, Message
from support import World, wait_until

pytestmark = pytest.mark.e2e

CHAT = "oc_real"


class Session:
    def __init__(self, emu: Emulator, apis: FakeModelAPIs, demo: Path) -> None:
        self.emu, self.apis, self.demo = emu, apis, demo

    async def say(self, text: str) -> int:
        """Post text as Alice; returns how many sends the bot had made before it."""
        before = len(self.emu.sent)
        await self.emu.post_text(text, chat_id=CHAT, sender_open_id=ALICE)
        return before

    async def prompt_card(self, *needles: str) -> Message:
        return await card_with(self.emu, CHAT, "Reply with a number", *needles)

    async def card(self, message_id: str, *needles: str) -> Message:
        return await card_with(self.emu, CHAT, *needles, message_id=message_id)

    async def turn_done(self, before: int) -> str:
        return await next_text(self.emu, before, "✅ claude · demo")


@pytest.fixture
async def session(
    world: World, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Session]:
    for name in INHERITED_ENV_TO_DROP:
        monkeypatch.delenv(name, raising=False)
    demo = world.workspace / "demo"
    async with FakeModelAPIs() as apis:
        env = seed_agent_home(world.home, trusted_dirs=[demo], apis=apis)
        bot = Bot(world, emu)
        bot.write_config(real_claude=env["claude"])
        bot.start()
        try:
            await emu.wait_connected(within=60)
            for step in ("#new", "#mkdir demo", "ok", "claude"):
                await reply_to(emu, step, chat=CHAT)
            started = await reply_to(emu, "standard", chat=CHAT)
            assert started.startswith(f"Session started: claude (standard) in {demo.resolve()}")
            yield Session(emu, apis, demo)
        finally:
            bot.stop()
            world.tmux("kill-server", check=False)
            await kill_home_processes(world.home)


async def test_a_chat_drives_the_real_claude_through_replies_prompts_and_a_long_turn(
    session: Session,
) -> None:
    # A reply comes back as the turn's card, and the turn's end as a message that notifies.
    before = await session.say("Say hello")
    reply = await card_with(session.emu, CHAT, "FAKE-REPLY: you said 'Say hello'")
    assert await session.turn_done(before) == "✅ claude · demo: FAKE-REPLY: you said 'Say hello'"
    assert colour((await session.card(reply.message_id, "✅ done")).body()) == "green"

    # A Bash call asks first: the card lists the CLI's own options; 9 is not one; 1 runs it.
    before = await session.say("BASH: touch chat-approved.txt")
    asked = await session.prompt_card("touch chat-approved.txt")
    asked_text = card_text(asked.body())
    assert colour(asked.body()) == "orange"
    assert "**1.** Yes" in asked_text
    assert "**3.** No" in asked_text
    await session.say("9")
    assert await next_text(session.emu, before, "option 9") == (
        "option 9 is not on screen; reply with one of 1, 2, 3"
    )
    await session.say("1")
    await session.card(asked.message_id, "You chose **1.** Yes")
    await wait_until((session.demo / "chat-approved.txt").exists, what="the approved file")
    await session.turn_done(before)

    # 3 says no: the card shows it and nothing runs.
    before = await session.say("BASH: touch chat-refused.txt")
    refused = await session.prompt_card("touch chat-refused.txt")
    await session.say("3")
    await session.card(refused.message_id, "You chose **3.** No")
    await session.turn_done(before)
    assert not (session.demo / "chat-refused.txt").exists()

    # A turn with two approved tool calls stays one card that keeps every part, in order.
    for text, command in (("Step one.", "touch one.txt; echo alpha-out"),
                          ("Step two.", "touch two.txt; echo beta-out")):  # fmt: skip
        session.apis.force_reply("claude", Reply(text=text, command=command))
    session.apis.force_reply("claude", Reply(text="All steps done."))
    before = await session.say("run the steps")
    for name in ("one.txt", "two.txt"):
        await session.prompt_card(f"touch {name}")
        await session.say("1")
        await wait_until((session.demo / name).exists, what=name)
    assert await session.turn_done(before) == "✅ claude · demo: All steps done."
    turn = await card_with(session.emu, CHAT, "Step one.", "All steps done.")
    text = card_text(turn.body())
    parts = ("Step one.", "alpha-out", "Step two.", "beta-out", "All steps done.")
    assert [text.index(part) for part in parts] == sorted(text.index(part) for part in parts)
    assert colour(turn.body()) == "green"

    # #esc stops a turn that waits on the model. Claude puts the stopped prompt back in its
    # input box; cclark takes it back out, so the next message is not appended to it.
    await session.say("DELAY=120 take your time")
    await wait_until(lambda: any("take your time" in json.dumps(r.body)
                                 for r in session.apis.requests_for("claude")),
                     what="the model request")  # fmt: skip
    stopped = await reply_to(session.emu, "#esc", chat=CHAT)
    assert stopped.startswith("Sent Escape: the agent stopped before replying")
    before = await session.say("Say again")
    assert await session.turn_done(before) == "✅ claude · demo: FAKE-REPLY: you said 'Say again'"


async def test_the_prompt_cards_buttons_approve_refuse_and_ignore_a_stranger(
    session: Session, world: World
) -> None:
    emu = session.emu

    # A stranger's tap changes nothing and is audited; Alice's "Yes" runs the command, and
    # the card shows her choice; a second tap on it is told the question is answered.
    before = await session.say("BASH: touch tapped-yes.txt")
    asked = await session.prompt_card("touch tapped-yes.txt")
    yes = _button(asked, "1. Yes")
    stranger = await emu.click(asked.message_id, yes, operator_open_id=MALLORY)
    assert stranger.toast_text == "You are not on this bot's allowlist: nothing was done."
    assert colour(emu.message(asked.message_id).body()) == "orange"
    approved = await emu.click(asked.message_id, yes, operator_open_id=ALICE)
    assert approved.answered
    assert approved.seconds is not None
    assert approved.seconds < 3.0
    assert approved.toast_text == "Chose 1. Yes"
    await wait_until((session.demo / "tapped-yes.txt").exists, what="the approved file")
    await session.card(asked.message_id, "You chose **1.** Yes")
    again = await emu.click(asked.message_id, yes, operator_open_id=ALICE)
    assert again.toast_text == "Already answered: You chose 1."
    await session.turn_done(before)

    # "No" refuses: nothing runs, and the card says so.
    before = await session.say("BASH: touch tapped-no.txt")
    asked = await session.prompt_card("touch tapped-no.txt")
    refused = await emu.click(asked.message_id, _button(asked, "3. No"), operator_open_id=ALICE)
    assert refused.toast_text.startswith("Chose 3. No")
    await session.card(asked.message_id, "You chose **3.** No")
    await session.turn_done(before)
    assert not (session.demo / "tapped-no.txt").exists()

    audit = [json.loads(line) for line in (world.config_dir / "audit.jsonl").read_text()
             .splitlines()]  # fmt: skip
    assert [(r["user"], r["detail"]) for r in audit if r["kind"] == "refusal"] == [
        (MALLORY, "card tap from a sender not on allowed_users")
    ]
    assert [r["detail"] for r in audit if r["kind"] == "prompt_answer"] == [
        "1 (button)", "3 (button)"
    ]


def _button(card: Message, prefix: str) -> dict[str, object]:
    """The value of the card's button whose label starts with prefix."""
    found = buttons(card.body())
    label = next((label for label in found if label.startswith(prefix)), None)
    assert label is not None, f"no button {prefix!r} among {list(found)}"
    return found[label]


async def test_a_photo_reaches_claude_and_get_fetches_a_file_it_wrote(session: Session) -> None:
    emu = session.emu
    photo = _png()

    before = len(emu.sent)
    await emu.post_image(photo, chat_id=CHAT, sender_open_id=ALICE)
    await session.turn_done(before)
    asked = [json.dumps(r.body) for r in session.apis.requests_for("claude")]

    before = await session.say("BASH: printf 'made by claude' > made.bin")
    await session.prompt_card("made.bin")
    await session.say("1")
    await session.turn_done(before)
    await emu.post_text("#get made.bin", chat_id=CHAT, sender_open_id=ALICE)
    sent = await wait_until(lambda: next((s for s in emu.sent[before:] if s.msg_type == "file"),
                                         None), what="the file message")  # fmt: skip

    # The CLI read the saved photo and sent it to the model as an image.
    assert any(base64.b64encode(photo).decode() in body for body in asked)
    assert any(".unified-icc/inbox/" in body for body in asked)
    stored = emu.file(sent.body()["file_key"])
    assert (stored.file_name, stored.data) == ("made.bin", b"made by claude")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 5), (30, 60, 200)).save(buffer, format="PNG")
    return buffer.getvalue()
