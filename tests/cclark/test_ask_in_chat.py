"""#ask as a person meets it: the bot process with the real lark-oapi SDK and the Feishu
emulator, a real bash in tmux, and the real OpenAI SDK against a fake chat-completions
endpoint on 127.0.0.1 that scripts the model's tool calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot_process import ALICE, Bot, card_with, next_text
from chat_view import buttons
from fakes.chat_completions import (
    DEFAULT_KEY,
    FakeChatCompletions,
    call,
    hang,
    say,
    tool_results,
)
from feishu_emulator import Emulator
from support import World
from unified_icc import ChannelId, UnifiedICC, load_config

pytestmark = pytest.mark.e2e

CHAT = "oc_ask_e2e"


@pytest.fixture
async def llm() -> AsyncIterator[FakeChatCompletions]:
    async with FakeChatCompletions() as fake:
        yield fake


def tmux_windows(world: World) -> list[str]:
    return world.tmux("list-windows", "-a", "-F", "#{window_id}").stdout.split()


async def ask(emu: Emulator, text: str) -> int:
    """Post text in the chat; how many messages the bot had sent before it."""
    before = len(emu.sent)
    await emu.post_text(text, chat_id=CHAT, sender_open_id=ALICE)
    return before


async def test_ask_starts_a_shell_runs_ls_and_closes_it_only_once_confirmed(
    world: World, emu: Emulator, llm: FakeChatCompletions
) -> None:
    demo = world.workspace / "projects" / "demo"
    demo.mkdir(parents=True)
    (demo / "marker-5c21.txt").write_text("here")
    bot = Bot(world, emu)
    bot.write_config(real_shell=True, orchestrator={
        "base_url": llm.base_url, "model": "fake-glm", "api_key": llm.key, "timeout": 2,
        "max_retries": 0})  # fmt: skip
    their_chat = ChannelId("feishu:main:oc_theirs")
    async with UnifiedICC(load_config()) as gateway:
        theirs = await gateway.create_window(world.workspace, "shell", channel_id=their_chat)
    bot.start()
    try:
        await emu.wait_connected(within=60)
        llm.script(call("start_session", folder="projects/demo", provider="shell"),
                   call("send_text", text="ls"), say("Done: ls ran."))  # fmt: skip
        before = await ask(emu, "#ask start a shell in projects/demo and run ls")

        started = await next_text(emu, before, "🔧 start_session")
        window = started.rsplit(" ", 1)[-1]
        assert started == f"🔧 start_session shell in {demo.resolve()} → window {window}"
        await next_text(emu, before, f"🔧 send_text 'ls' → window {window}")
        await next_text(emu, before, "Done: ls ran.")
        await card_with(emu, CHAT, "marker-5c21.txt")

        llm.script(call("close_session"))
        before = await ask(emu, "#ask close it")
        question = await card_with(emu, CHAT, "Please confirm", f"Close window {window}")
        assert window in tmux_windows(world)
        clicked = await emu.click(question.message_id, buttons(question.body())["Yes"],
                                  operator_open_id=ALICE)  # fmt: skip
        assert clicked.toast_text == "Doing it…"
        await next_text(emu, before, f"Closed window {window}.")
        assert window not in tmux_windows(world)

        llm.script(call("start_session", folder="/etc", provider="shell"),
                   call("send_text", session=theirs.window_id, text="rm -rf ~"),
                   say("Refused."))  # fmt: skip
        before = await ask(emu, "#ask start a shell in /etc, then type into their window")
        await next_text(emu, before, "Refused.")
        refusals = [s.text for s in emu.sent[before:] if s.text and s.text.startswith("⛔")]
        assert refusals[0].startswith("⛔ start_session refused: /etc is outside the workspace")
        assert refusals[1] == (f"⛔ send_text refused: window {theirs.window_id} is not one of "
                               "this chat's sessions")  # fmt: skip
        assert [r.startswith("Refused: ") for r in tool_results(llm.requests[-1])] == [True] * 2

        llm.script(hang(4))
        before = await ask(emu, "#ask list my sessions")
        timed_out = await next_text(emu, before, "did not answer within 2 s")
        llm.key = "sk-rotated"
        before = await ask(emu, "#ask list my sessions")
        refused = await next_text(emu, before, "refused the key (HTTP 401)")

        status, health = await bot.health()
    finally:
        bot.stop()
    assert timed_out.startswith("The orchestrator's model (fake-glm at 127.0.0.1:")
    assert "check orchestrator.api_key in config.yaml" in refused
    assert status == 200
    audit = bot.audit()
    assert [a["detail"].split()[1] for a in audit if a["kind"] == "tool_call"] == [
        "start_session", "send_text", "close_session"]  # fmt: skip
    assert len([a for a in audit if a["kind"] == "refusal"]) == 2
    assert DEFAULT_KEY not in bot.log.read_text() + str(audit) + str(health)
    assert theirs.window_id in tmux_windows(world)
