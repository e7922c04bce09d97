"""#mode switches a live session's permission mode, as each real CLI allows it.

Proven by what a user sees: a shell command asks for permission before the switch to yolo,
runs without asking after it, and asks again once switched back; the screen shows the mode
(#status says what it shows). Claude and Gemini cycle their other modes in place (Shift-Tab);
Claude's yolo and every Codex switch restart the agent with its conversation resumed.
"""

from __future__ import annotations

import pytest

from bot_process import reply_to
from feishu_emulator import Emulator
from real_chat import CHAT, RealChat, real_chat
from support import World, wait_until

pytestmark = pytest.mark.e2e


async def _asks_then_runs(chat: RealChat, name: str) -> None:
    """A command that asks first: its card shows, 1 runs it, and the turn ends."""
    before = await chat.say(f"BASH: touch {name}")
    await chat.prompt_card(f"touch {name}")
    await chat.say("1")
    await wait_until((chat.demo / name).exists, what=name)
    await chat.done(before)


async def _runs_without_asking(chat: RealChat, name: str) -> None:
    before = await chat.say(f"BASH: touch {name}")
    await chat.done(before)
    assert (chat.demo / name).exists()
    cards = [m for m in chat.emu.messages_in(CHAT) if m.msg_type == "interactive"]
    assert not any("Reply with a number" in m.content and name in m.content for m in cards)


async def _mode(chat: RealChat, argument: str) -> str:
    return await reply_to(chat.emu, f"#mode {argument}".strip(), chat=CHAT)


@pytest.mark.parametrize("provider", ["claude", "gemini"])
async def test_mode_switches_to_yolo_and_back_and_cycles_the_other_modes_in_place(
    world: World, emu: Emulator, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    async with real_chat(world, emu, monkeypatch, provider) as chat:
        await _asks_then_runs(chat, "before.txt")
        shown = await _mode(chat, "")
        assert shown == ("Mode: standard (on screen). Switch with #mode <name>; "
                         f"{provider} has standard, accept-edits, plan, yolo."), shown

        assert await _mode(chat, "yolo") == "Mode: yolo (the screen shows it)."
        await _runs_without_asking(chat, "during.txt")
        await chat.card(f"{provider} · demo · yolo", "touch during.txt")  # the turn's card
        status = await reply_to(chat.emu, "#status", chat=CHAT)
        assert "Mode: yolo (on screen)" in status, status

        for mode in ("plan", "accept-edits", "standard"):
            assert await _mode(chat, mode) == f"Mode: {mode} (the screen shows it)."
        await _asks_then_runs(chat, "after.txt")
        assert await _mode(chat, "warp") == (
            f"'warp' is not a mode of {provider}: use standard, accept-edits, plan, yolo."
        )


async def test_codex_switches_in_its_permissions_menu(
    world: World, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with real_chat(world, emu, monkeypatch, "codex") as chat:
        await _asks_then_runs(chat, "before.txt")

        assert await _mode(chat, "yolo") == "Mode: yolo (the screen shows it)."
        await _runs_without_asking(chat, "during.txt")

        assert await _mode(chat, "standard") == "Mode: standard (the screen shows it)."
        await _asks_then_runs(chat, "after.txt")
        assert await _mode(chat, "plan") == "'plan' is not a mode of codex: use standard, yolo."
